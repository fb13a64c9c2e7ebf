//go:build integration

package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"liveness/internal/config"
	"liveness/internal/scan"
)

// These tests talk to the real server of scripts/clickhouse.sh (or
// CLICKHOUSE_ADDR) and fail, never skip, when it does not answer. Each run
// works in its own fresh database, dropped at the end.

var (
	testStore *Store
	testCfg   Config // testStore's configuration
)

func TestMain(m *testing.M) {
	os.Exit(runWithDatabase(m))
}

func runWithDatabase(m *testing.M) int {
	var cfg Config
	set := config.New("store-test")
	cfg.Register(set) // CLICKHOUSE_* from the environment, local defaults otherwise
	if err := set.Parse(nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg.Database = "face_liveness_test_" + rand.Text()[:12]
	testCfg = cfg
	st, err := Open(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.Ping(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ClickHouse at %s does not answer (start it with scripts/clickhouse.sh up): %v\n", cfg.Addr, err)
		return 1
	}
	if v, err := st.conn.ServerVersion(); err == nil {
		fmt.Fprintf(os.Stderr, "ClickHouse %s (revision %d), test database %s\n", v.Version, v.Revision, cfg.Database)
	}
	defer func() {
		// 18.16 drops table by table and waits for their merges to stop: on a
		// busy two-core machine that took 34 s once.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := st.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+st.db); err != nil {
			fmt.Fprintf(os.Stderr, "drop %s: %v\n", st.db, err)
		}
	}()
	if err := st.Migrate(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testStore = st
	return m.Run()
}

func count(t testing.TB, query string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := testStore.conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestMigrateTwiceRecordsOnce(t *testing.T) {
	ctx := context.Background()
	// TestMain migrated once already; this is the second and third run.
	for range 2 {
		if err := Migrate(ctx, testStore.conn, strings.Trim(testStore.db, "`")); err != nil {
			t.Fatal(err)
		}
	}
	ms, _ := loadMigrations(testStore.db)
	if n := count(t, "SELECT count() FROM "+testStore.db+".schema_migrations"); n != uint64(len(ms)) {
		t.Fatalf("schema_migrations has %d rows, want %d (one per migration)", n, len(ms))
	}
	if n := count(t, "SELECT uniqExact(version) FROM "+testStore.db+".schema_migrations"); n != uint64(len(ms)) {
		t.Fatalf("%d distinct versions recorded, want %d", n, len(ms))
	}
	for _, table := range []string{"scans", "scans_by_created", "scans_by_created_mv", "scans_by_time", "scans_by_time_mv", "scans_hourly", "scans_hourly_mv", "liveness_histogram", "liveness_histogram_mv"} {
		if n := count(t, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", strings.Trim(testStore.db, "`"), table); n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
}

func TestInsertTenThousandAndReadBack(t *testing.T) {
	ctx := context.Background()
	company := uuid.New()
	rng := mrand.New(mrand.NewPCG(11, 12))
	const n = 10_000
	in := make([]scan.ScanResult, n)
	for i := range in {
		in[i] = genScan(rng, company, i)
	}
	start := time.Now()
	if err := testStore.InsertScans(ctx, in); err != nil {
		t.Fatal(err)
	}
	t.Logf("inserted %d scans in one batch in %v", n, time.Since(start).Round(time.Millisecond))

	db := testStore.db
	if got := count(t, "SELECT count() FROM "+db+".scans WHERE company_id = ?", company); got != n {
		t.Fatalf("count = %d, want %d", got, n)
	}
	for i := 0; i < n; i += 97 {
		got, err := testStore.GetScan(ctx, company, in[i].ID)
		if err != nil {
			t.Fatalf("scan %d: %v", i, err)
		}
		if want := normalize(in[i]); !reflect.DeepEqual(got, want) {
			t.Fatalf("scan %d read back differs:\n got=%+v\nwant=%+v", i, got, want)
		}
	}

	// The analysts' views saw the insert: the time index every row, the
	// hourly counts and histogram the platform's verdicts (no updated date).
	var verdicts, judged uint64
	for _, sr := range in {
		if sr.UpdatedDate == nil {
			verdicts++
			if sr.Result == scan.ResultReal || sr.Result == scan.ResultSpoof {
				judged++
			}
		}
	}
	if got := count(t, "SELECT count() FROM "+db+".scans_by_created WHERE company_id = ?", company); got != n {
		t.Errorf("scans_by_created has %d rows, want %d", got, n)
	}
	if got := count(t, "SELECT count() FROM "+db+".scans_by_time WHERE company_id = ?", company); got != n {
		t.Errorf("scans_by_time has %d rows, want %d", got, n)
	}
	if got := count(t, "SELECT toUInt64(sum(c)) FROM (SELECT uniqMerge(scans) AS c FROM "+db+".scans_hourly WHERE company_id = ? GROUP BY hour, sales_channel, result)", company); got != verdicts {
		t.Errorf("scans_hourly counts %d scans, want %d", got, verdicts)
	}
	if got := count(t, "SELECT sum(scans) FROM "+db+".liveness_histogram WHERE company_id = ?", company); got != judged {
		t.Errorf("liveness_histogram counts %d scans, want %d", got, judged)
	}
}

func TestDuplicateDeliveryIsOneScan(t *testing.T) {
	ctx := context.Background()
	company := uuid.New()
	sr := genScan(mrand.New(mrand.NewPCG(13, 14)), company, 1)
	for range 2 { // two deliveries, two inserts, two parts
		if err := testStore.InsertScans(ctx, []scan.ScanResult{sr}); err != nil {
			t.Fatal(err)
		}
	}
	db := testStore.db
	if got := count(t, "SELECT count() FROM "+db+".scans WHERE company_id = ?", company); got != 2 {
		t.Fatalf("raw rows = %d, want 2 (both deliveries stored until merged)", got)
	}
	if got := count(t, "SELECT count() FROM "+db+".scans FINAL WHERE company_id = ?", company); got != 1 {
		t.Fatalf("rows with FINAL = %d, want 1", got)
	}
	if got := count(t, "SELECT count() FROM (SELECT id, argMax(result, version) FROM "+db+".scans WHERE company_id = ? GROUP BY id)", company); got != 1 {
		t.Fatalf("scans by argMax = %d, want 1", got)
	}
	got, err := testStore.GetScan(ctx, company, sr.ID)
	if err != nil || !reflect.DeepEqual(got, normalize(sr)) {
		t.Fatalf("GetScan = %+v, %v", got, err)
	}
	if got := count(t, "SELECT toUInt64(uniqMerge(scans)) FROM "+db+".scans_hourly WHERE company_id = ?", company); got != 1 {
		t.Fatalf("scans_hourly counts %d scans for one delivered twice", got)
	}
}

func TestNewerVersionWins(t *testing.T) {
	ctx := context.Background()
	company := uuid.New()
	v1 := genScan(mrand.New(mrand.NewPCG(15, 16)), company, 1) // a Spoof, version 1
	v2 := v1
	v2.Result, v2.Version = scan.ResultReal, 2
	now := time.Now().UTC().Truncate(time.Millisecond)
	by := "analyst-7"
	v2.UpdatedDate, v2.UpdatedByID = &now, &by
	// v1, then the update, then a late redelivery of v1.
	for _, sr := range []scan.ScanResult{v1, v2, v1} {
		if err := testStore.InsertScans(ctx, []scan.ScanResult{sr}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := testStore.GetScan(ctx, company, v1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, normalize(v2)) {
		t.Fatalf("GetScan = version %d %s, want version 2 Real:\n got=%+v\nwant=%+v", got.Version, got.Result, got, normalize(v2))
	}
	db := testStore.db
	var result string
	if err := testStore.conn.QueryRow(ctx, "SELECT toString(result) FROM "+db+".scans FINAL WHERE company_id = ? AND id = ?", company, v1.ID).Scan(&result); err != nil || result != "Real" {
		t.Fatalf("FINAL result = %q, %v; want Real", result, err)
	}
	// The engine itself keeps only the newest version once parts merge.
	if err := testStore.conn.Exec(ctx, "OPTIMIZE TABLE "+db+".scans FINAL"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, "SELECT count() FROM "+db+".scans WHERE company_id = ?", company); n != 1 {
		t.Fatalf("after OPTIMIZE FINAL: %d rows, want 1", n)
	}
	if n := count(t, "SELECT max(version) FROM "+db+".scans WHERE company_id = ?", company); n != 2 {
		t.Fatalf("after OPTIMIZE FINAL: version %d kept, want 2", n)
	}
}

func TestGetScanNotFound(t *testing.T) {
	ctx := context.Background()
	company := uuid.New()
	sr := genScan(mrand.New(mrand.NewPCG(17, 18)), company, 2)
	if err := testStore.InsertScans(ctx, []scan.ScanResult{sr}); err != nil {
		t.Fatal(err)
	}
	if _, err := testStore.GetScan(ctx, company, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: err = %v, want ErrNotFound", err)
	}
	if _, err := testStore.GetScan(ctx, uuid.New(), sr.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another company's scan: err = %v, want ErrNotFound", err)
	}
}

func TestInsertRejectsInvalidBatchWhole(t *testing.T) {
	ctx := context.Background()
	company := uuid.New()
	rng := mrand.New(mrand.NewPCG(19, 20))
	good, bad := genScan(rng, company, 0), genScan(rng, company, 1)
	bad.SalesChannel = "FAX"
	if err := testStore.InsertScans(ctx, []scan.ScanResult{good, bad}); !errors.Is(err, ErrInvalidScan) {
		t.Fatalf("err = %v, want ErrInvalidScan", err)
	}
	if n := count(t, "SELECT count() FROM "+testStore.db+".scans WHERE company_id = ?", company); n != 0 {
		t.Fatalf("%d rows written from a refused batch", n)
	}
}

func TestPingUnreachableFails(t *testing.T) {
	st, err := Open(Config{Addr: "127.0.0.1:1", Database: "x"}, WithDialTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Ping(context.Background()); err == nil {
		t.Fatal("Ping of a closed port succeeded")
	}
}

// BenchmarkGetScan compares three ways of reading a scan's newest version on
// a few thousand rows, a fifth of them with a second version in another part:
// the store's ORDER BY version DESC LIMIT 1, FINAL, and argMax.
//
//	go test -tags integration -run '^$' -bench GetScan ./internal/store/
func BenchmarkGetScan(b *testing.B) {
	ctx := context.Background()
	company := uuid.New()
	rng := mrand.New(mrand.NewPCG(21, 22))
	const n = 5000
	v1 := make([]scan.ScanResult, n)
	for i := range v1 {
		v1[i] = genScan(rng, company, i)
		v1[i].UpdatedDate, v1[i].UpdatedByID, v1[i].Version = nil, nil, 1
	}
	var v2 []scan.ScanResult
	for i := 0; i < n; i += 5 {
		u := v1[i]
		u.Version, u.Result = 2, scan.ResultReal
		v2 = append(v2, u)
	}
	// Other companies' rows around ours, so the key prefix matters.
	for range 3 {
		other := make([]scan.ScanResult, n)
		oc := uuid.New()
		for i := range other {
			other[i] = genScan(rng, oc, i)
		}
		if err := testStore.InsertScans(ctx, other); err != nil {
			b.Fatal(err)
		}
	}
	if err := testStore.InsertScans(ctx, v1); err != nil {
		b.Fatal(err)
	}
	if err := testStore.InsertScans(ctx, v2); err != nil {
		b.Fatal(err)
	}
	db := testStore.db
	cols := columnList()
	var argMaxCols []string
	for i, c := range scanColumns {
		argMaxCols = append(argMaxCols, fmt.Sprintf("tupleElement(t, %d) AS %s", i+1, c))
	}
	strategies := map[string]string{
		"orderby":       testStore.sql.get,
		"final":         "SELECT " + cols + " FROM " + db + ".scans FINAL PREWHERE company_id = ? AND id = ?",
		"orderby-where": "SELECT " + cols + " FROM " + db + ".scans WHERE company_id = ? AND id = ? ORDER BY version DESC LIMIT 1",
		"argmax": "SELECT " + strings.Join(argMaxCols, ", ") + " FROM (SELECT argMax(tuple(" + cols + "), version) AS t FROM " +
			db + ".scans PREWHERE company_id = ? AND id = ? HAVING count() > 0)",
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range strategies {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		q := strategies[name]
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				want := v1[(i*7919)%n]
				i++
				var r row
				if err := testStore.conn.QueryRow(ctx, q, company, want.ID).ScanStruct(&r); err != nil {
					b.Fatal(err)
				}
				if wantV := uint64(1 + boolToInt((i-1)*7919%n%5 == 0)); r.Version != wantV || r.ID != want.ID {
					b.Fatalf("%s read id %s version %d, want %s version %d", name, r.ID, r.Version, want.ID, wantV)
				}
			}
		})
	}
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The backfill (0012) copies into scans_by_time the versions only the old
// index holds, and nothing twice however often it runs.
func TestTimeIndexBackfillCopiesOnlyWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	db := testStore.db
	company := uuid.New()
	old := uuid.New()
	if err := testStore.InsertScans(ctx, []scan.ScanResult{genScan(mrand.New(mrand.NewPCG(5, 6)), company, 1)}); err != nil {
		t.Fatal(err)
	}
	// A row the old index got before 0011's view existed.
	b, err := testStore.conn.PrepareBatch(ctx, "INSERT INTO "+db+".scans_by_created (company_id, created_date, created_date_ms, id, result, sales_channel, reference, version)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(company, time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), uint16(7), old, "Real", "WEB", "old", uint64(3)); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(db)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migration) bool { return strings.HasSuffix(m.name, "_scans_by_time_backfill.sql") })
	if i < 0 {
		t.Fatal("no scans_by_time backfill migration")
	}
	for run := 1; run <= 2; run++ {
		if err := testStore.conn.Exec(ctx, ms[i].sql); err != nil {
			t.Fatal(err)
		}
		if got := count(t, "SELECT count() FROM "+db+".scans_by_time WHERE company_id = ?", company); got != 2 {
			t.Fatalf("run %d: scans_by_time holds %d rows of the company, want 2 (one fed by the view, one copied)", run, got)
		}
		if got := count(t, "SELECT count() FROM "+db+".scans_by_time WHERE company_id = ? AND id = ? AND version = 3", company, old); got != 1 {
			t.Fatalf("run %d: the old index's row is there %d times, want once", run, got)
		}
	}
}

// Every CLICKHOUSE_COMPRESSION the store accepts, the server speaks: a scan
// written and read back through each.
func TestCompressionsRoundTrip(t *testing.T) {
	ctx := context.Background()
	for name := range compressions {
		cfg := Config{Addr: testCfg.Addr, Database: testCfg.Database, Username: testCfg.Username, Password: testCfg.Password, Compression: name}
		st, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		in := genScan(mrand.New(mrand.NewPCG(7, uint64(len(name)))), uuid.New(), 2)
		if err := st.InsertScans(ctx, []scan.ScanResult{in}); err != nil {
			t.Fatalf("%s: insert: %v", name, err)
		}
		got, err := st.GetScan(ctx, in.CompanyID, in.ID)
		st.Close()
		if err != nil || got.ID != in.ID || len(got.Faces) != len(in.Faces) {
			t.Fatalf("%s: read back %v, %v", name, got.ID, err)
		}
	}
}
