//go:build integration

package store

import (
	"context"
	"errors"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// seedCompany stores n generated scans of a fresh company, each delivered
// twice (at-least-once), and returns them.
func seedCompany(t *testing.T, seed uint64, n int) (uuid.UUID, []scan.ScanResult) {
	t.Helper()
	company := uuid.New()
	rng := mrand.New(mrand.NewPCG(seed, seed+1))
	in := make([]scan.ScanResult, n)
	for i := range in {
		in[i] = genScan(rng, company, i)
	}
	for range 2 {
		if err := testStore.InsertScans(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	return company, in
}

func TestListScansNewestFirstAndCursorCoversAll(t *testing.T) {
	ctx := context.Background()
	company, in := seedCompany(t, 31, 250)
	seedCompany(t, 33, 50) // a neighbour that must never show up
	first, err := testStore.ListScans(ctx, company, ListQuery{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	// The total counts the narrow table's rows without FINAL (see
	// summarize): a redelivery counts until the parts merge, never less
	// than the scans; after the merge each scan counts once.
	if first.Total < uint64(len(in)) || first.Total > 2*uint64(len(in)) {
		t.Fatalf("total %d before merges, want between %d and %d", first.Total, len(in), 2*len(in))
	}
	if err := testStore.conn.Exec(ctx, "OPTIMIZE TABLE "+testStore.db+".scans_by_time FINAL"); err != nil {
		t.Fatal(err)
	}
	if first, err = testStore.ListScans(ctx, company, ListQuery{Limit: 20}); err != nil || first.Total != uint64(len(in)) {
		t.Fatalf("total %d after merges (%v), want %d (each scan delivered twice counts once)", first.Total, err, len(in))
	}
	seen := map[uuid.UUID]bool{}
	var prev *scan.ScanResult
	page := first
	pages := 0
	for {
		pages++
		for i := range page.Scans {
			sr := page.Scans[i]
			if sr.CompanyID != company {
				t.Fatalf("scan of company %s listed for %s", sr.CompanyID, company)
			}
			if seen[sr.ID] {
				t.Fatalf("scan %s listed twice", sr.ID)
			}
			seen[sr.ID] = true
			if prev != nil && sr.CreatedDate.After(prev.CreatedDate) {
				t.Fatalf("not newest first: %s after %s", sr.CreatedDate, prev.CreatedDate)
			}
			prev = &sr
		}
		if page.Last == nil {
			break
		}
		if page, err = testStore.ListScans(ctx, company, ListQuery{Limit: 20, After: page.Last}); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != len(in) || pages != 14 {
		t.Fatalf("cursor walk saw %d scans in %d pages, want %d in 14 (13 full, 1 empty)", len(seen), pages, len(in))
	}
	// OFFSET paging agrees with the cursor walk.
	third, err := testStore.ListScans(ctx, company, ListQuery{Limit: 20, Offset: 40})
	if err != nil {
		t.Fatal(err)
	}
	second, _ := testStore.ListScans(ctx, company, ListQuery{Limit: 20, After: first.Last})
	viaCursor, _ := testStore.ListScans(ctx, company, ListQuery{Limit: 20, After: second.Last})
	if len(third.Scans) != 20 || third.Scans[0].ID != viaCursor.Scans[0].ID || third.Scans[19].ID != viaCursor.Scans[19].ID {
		t.Fatal("offset page 3 differs from cursor page 3")
	}
}

func TestListScansFiltersSeeTheNewestVersion(t *testing.T) {
	ctx := context.Background()
	company, in := seedCompany(t, 35, 40)
	want := func(f func(scan.ScanResult) bool) uint64 {
		var n uint64
		for _, sr := range in {
			if f(sr) {
				n++
			}
		}
		return n
	}
	spoof := want(func(sr scan.ScanResult) bool { return sr.Result == scan.ResultSpoof })
	res, err := testStore.ListScans(ctx, company, ListQuery{Limit: 200, Filter: ListFilter{Result: scan.ResultSpoof}})
	if err != nil || res.Total != spoof || uint64(len(res.Scans)) != spoof {
		t.Fatalf("Spoof: total %d, %d rows, err %v; want %d", res.Total, len(res.Scans), err, spoof)
	}
	// An analyst turns one Spoof into Real: it leaves the Spoof listing.
	target := res.Scans[0]
	if _, err := testStore.UpdateScan(ctx, company, target.ID, target.Version, func(sr *scan.ScanResult) error {
		sr.Result = scan.ResultReal
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	res, err = testStore.ListScans(ctx, company, ListQuery{Limit: 200, Filter: ListFilter{Result: scan.ResultSpoof}})
	if err != nil || res.Total != spoof-1 {
		t.Fatalf("after update: Spoof total %d, err %v; want %d", res.Total, err, spoof-1)
	}
	for _, sr := range res.Scans {
		if sr.ID == target.ID {
			t.Fatal("updated scan still listed as Spoof")
		}
	}
	web := want(func(sr scan.ScanResult) bool { return sr.SalesChannel == scan.ChannelWeb })
	if res, err := testStore.ListScans(ctx, company, ListQuery{Limit: 200, Filter: ListFilter{SalesChannel: scan.ChannelWeb}}); err != nil || res.Total != web {
		t.Fatalf("WEB total %d, err %v; want %d", res.Total, err, web)
	}
	ref := in[7].Reference
	if res, err := testStore.ListScans(ctx, company, ListQuery{Limit: 5, Filter: ListFilter{Reference: ref}}); err != nil || res.Total != 1 || res.Scans[0].ID != in[7].ID {
		t.Fatalf("reference %s: %+v, %v", ref, res.Total, err)
	}
	// Date range, millisecond-exact: [created of in[5], +1 ms) holds in[5] only
	// (genScan spreads scans over months and days), listed once; a range
	// alone is an immutable filter, counted without FINAL (see summarize):
	// the redelivery counts until the parts merge.
	from := in[5].CreatedDate
	if res, err := testStore.ListScans(ctx, company, ListQuery{Limit: 5, Filter: ListFilter{From: from, To: from.Add(time.Millisecond)}}); err != nil ||
		len(res.Scans) != 1 || res.Scans[0].ID != in[5].ID || res.Total < 1 || res.Total > 2 {
		t.Fatalf("range: total %d, %d scans, err %v", res.Total, len(res.Scans), err)
	}
	if _, err := testStore.ListScans(ctx, company, ListQuery{Limit: 5, Offset: MaxListOffset + 1}); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("deep offset: err %v, want ErrInvalidQuery", err)
	}
}

func TestUpdateScanVersionsConflictAndHistory(t *testing.T) {
	ctx := context.Background()
	company, in := seedCompany(t, 37, 3)
	orig := in[0]
	by := "analyst-1"
	now := time.Now().UTC().Truncate(time.Millisecond)
	up, err := testStore.UpdateScan(ctx, company, orig.ID, 1, func(sr *scan.ScanResult) error {
		sr.Reference, sr.UpdatedDate, sr.UpdatedByID = "fixed-ref", &now, &by
		sr.CreatedByID = "forged" // must not stick
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != 2 || up.Reference != "fixed-ref" || up.CreatedByID != orig.CreatedByID || *up.UpdatedByID != by || !up.UpdatedDate.Equal(now) {
		t.Fatalf("updated scan %+v", up)
	}
	if _, err := testStore.UpdateScan(ctx, company, orig.ID, 1, func(*scan.ScanResult) error { return nil }); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("stale version: err %v, want ErrVersionConflict", err)
	}
	if _, err := testStore.UpdateScan(ctx, uuid.New(), orig.ID, 0, func(*scan.ScanResult) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other company: err %v, want ErrNotFound", err)
	}
	// History survives the merge that drops version 1 from scans.
	if err := testStore.conn.Exec(ctx, "OPTIMIZE TABLE "+testStore.db+".scans FINAL"); err != nil {
		t.Fatal(err)
	}
	h, err := testStore.ScanHistory(ctx, company, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Version != 1 || h[0].Reference != orig.Reference || h[1].Version != 2 || h[1].Reference != "fixed-ref" || *h[1].UpdatedByID != by {
		t.Fatalf("history %+v", h)
	}
	if _, err := testStore.ScanHistory(ctx, uuid.New(), orig.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("history of another company's scan: %v", err)
	}
}

func TestStatsCountsPerBucket(t *testing.T) {
	ctx := context.Background()
	company := uuid.New()
	base := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	rng := mrand.New(mrand.NewPCG(39, 40))
	var in []scan.ScanResult
	// 6 Real WEB scans at 08:xx (scores 0.5 and 0.9 alternating), 3 Spoof MOBILE at 09:xx, 2 Real WEB the next day.
	add := func(at time.Time, ch scan.Channel, res scan.Result, score float64) {
		sr := genScan(rng, company, 0)
		sr.CreatedDate, sr.SalesChannel, sr.Result, sr.LivenessScore = at, ch, res, score
		sr.UpdatedDate, sr.UpdatedByID, sr.Version = nil, nil, 1
		in = append(in, sr)
	}
	for i := range 6 {
		add(base.Add(time.Duration(i)*time.Minute), scan.ChannelWeb, scan.ResultReal, []float64{0.5, 0.9}[i%2])
	}
	for i := range 3 {
		add(base.Add(time.Hour+time.Duration(i)*time.Minute), scan.ChannelMobile, scan.ResultSpoof, 0.1)
	}
	for i := range 2 {
		add(base.Add(24*time.Hour+time.Duration(i)*time.Minute), scan.ChannelWeb, scan.ResultReal, 0.8)
	}
	for range 2 { // redelivered: counted once
		if err := testStore.InsertScans(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	hours, err := testStore.Stats(ctx, company, base, base.Add(2*time.Hour), IntervalHour)
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 2 || hours[0].Count != 6 || hours[0].Result != scan.ResultReal || !hours[0].Start.Equal(base) ||
		hours[1].Count != 3 || hours[1].SalesChannel != scan.ChannelMobile || !hours[1].Start.Equal(base.Add(time.Hour)) {
		t.Fatalf("hour buckets %+v", hours)
	}
	if m := hours[0].MeanLivenessScore; m < 0.6999 || m > 0.7001 {
		t.Fatalf("mean %v, want 0.7", m)
	}
	days, err := testStore.Stats(ctx, company, base.Add(-8*time.Hour), base.Add(48*time.Hour), IntervalDay)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 3 || !days[0].Start.Equal(base.Add(-8*time.Hour)) || days[2].Count != 2 || !days[2].Start.Equal(base.Add(16*time.Hour)) {
		t.Fatalf("day buckets %+v", days)
	}
	if other, err := testStore.Stats(ctx, uuid.New(), base, base.Add(48*time.Hour), IntervalDay); err != nil || len(other) != 0 {
		t.Fatalf("another company sees %d buckets (%v)", len(other), err)
	}
}
