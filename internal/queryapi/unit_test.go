package queryapi

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

func TestCursorRoundTripAndRejects(t *testing.T) {
	c := cursor{Created: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), ID: uuid.New(), Page: 7}
	got, err := decodeCursor(encodeCursor(c))
	if err != nil || !got.Created.Equal(c.Created) || got.ID != c.ID || got.Page != 7 {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "!!", "e30", encodeCursor(cursor{Created: c.Created, Page: 1}), encodeCursor(cursor{ID: c.ID, Created: c.Created, Page: -1})} {
		var ae *apiError
		if _, err := decodeCursor(bad); !errors.As(err, &ae) || ae.Field != "cursor" {
			t.Fatalf("%q accepted: %v", bad, err)
		}
	}
}

func TestIfMatch(t *testing.T) {
	for h, want := range map[string]uint64{"": 0, "*": 0, `"3"`: 3, `W/"12"`: 12, ` "5" `: 5} {
		if v, err := ifMatch(h); err != nil || v != want {
			t.Fatalf("%q: %d, %v", h, v, err)
		}
	}
	for _, h := range []string{"3", `"x"`, `"0"`, `"1", "2"`, `"`} {
		if _, err := ifMatch(h); err == nil {
			t.Fatalf("%q accepted", h)
		}
	}
}

func TestUpdateBodyApply(t *testing.T) {
	cur := scan.ScanResult{Scan: scan.Scan{ID: uuid.New(), CompanyID: uuid.New(), CreatedByID: "c", Reference: "r",
		SalesChannel: scan.ChannelWeb, Analysis: scan.Analysis{Result: scan.ResultSpoof}}}
	body, err := parseUpdate([]byte(`{"result":"Real","occluded":true,"livenessScore":0.75,"createdById":"c","updatedById":"ignored"}`))
	if err != nil {
		t.Fatal(err)
	}
	next := cur
	if err := body.apply(&next); err != nil {
		t.Fatal(err)
	}
	if next.Result != scan.ResultReal || !next.Occluded || next.LivenessScore != 0.75 || next.Reference != "r" || next.UpdatedByID != nil {
		t.Fatalf("applied %+v", next)
	}
	for raw, field := range map[string]string{
		`{"reference":"a\u0000b"}`: "reference",
		`{"quality":"Great"}`:      "quality",
		`{"luminance":3}`:          "luminance",
		`{"elapsedTime":9}`:        "elapsedTime",
	} {
		b, err := parseUpdate([]byte(raw))
		if err == nil {
			n := cur
			err = b.apply(&n)
		}
		var ae *apiError
		if !errors.As(err, &ae) || ae.Field != field || ae.Status != 400 {
			t.Fatalf("%s: %v, want a 400 naming %s", raw, err, field)
		}
	}
	if _, err := parseUpdate([]byte(`{} {}`)); err == nil {
		t.Fatal("two objects accepted")
	}
}
