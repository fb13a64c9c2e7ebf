package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"liveness/internal/scan"
)

// queries are the store's statements for one database, built once. Values
// are always bound (clickhouse-go formats and escapes them client-side: 18.16
// predates server-side query parameters); only the validated database
// identifier is part of the text.
type queries struct {
	insert string
	get    string
}

func newQueries(db string) queries {
	return queries{
		// Columns are always named, so the insert does not depend on the
		// table's column order and a column added later (with a DEFAULT)
		// does not break a writer that predates it. (A column-less batch
		// insert did work on 18.16 with clickhouse-go v2.51, checked.)
		insert: "INSERT INTO " + db + ".scans (" + columnList() + ")",
		// The newest version of one scan. (company_id, id) is the primary key,
		// so the index picks one granule per part; PREWHERE matters on top:
		// 18.16 does not move primary-key conditions to PREWHERE by itself,
		// and without it every picked granule's faces JSON (the bulk of a
		// row) is decompressed, in every partition. ORDER BY version DESC
		// LIMIT 1 is argMax over the few versions; measured against FINAL and
		// argMax in BenchmarkGetScan (store_integration_test.go).
		get: "SELECT " + readColumnList() + " FROM " + db + ".scans" +
			" PREWHERE company_id = ? AND id = ? ORDER BY version DESC LIMIT 1",
	}
}

// pointLookup runs a query that reads a few granules per part: on one
// thread, since the default (a thread per core) only adds scheduling to a
// read this small, and with 16 KiB read buffers instead of 1 MiB: 18.16
// allocates one per column per part, which for a get over 10 parts and 26
// columns was 84 MB of memory touched to return one row (3 MB with 16 KiB).
// Measured with clickhouse-client at 200k scans on the busy two-core
// machine: p50/p90 24/49 ms with one thread, 17/22 ms with both settings.
// Both are integer settings, which clickhouse-go can send to 18.16.
func pointLookup(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_threads": 1, "max_read_buffer_size": 16 << 10}))
}

// Row is one scan checked and mapped onto the scans table (NewRow): what
// InsertRows writes. A sink maps its events in parallel while the previous
// batch is being inserted, and maps each once (mapping marshals the faces'
// landmarks to JSON, the costliest step of a write on the client side).
type Row struct{ r row }

// NewRow checks sr against what the table can hold and maps it; the error
// wraps ErrInvalidScan and says which field is wrong.
func NewRow(sr scan.ScanResult) (Row, error) {
	r, err := toRow(sr)
	return Row{r}, err
}

// InsertScans writes scans as one batch (one INSERT, one block). The caller
// picks the batch size; thousands per call is what ClickHouse likes.
// Every scan is checked before anything is sent, so an invalid one
// (ErrInvalidScan) fails the call without writing the others.
// Writing a scan again, with the same or another version, is safe: readers
// see the highest version.
func (s *Store) InsertScans(ctx context.Context, scans []scan.ScanResult) error {
	rows := make([]Row, len(scans))
	for i, sr := range scans {
		r, err := NewRow(sr)
		if err != nil {
			return err
		}
		rows[i] = r
	}
	return s.InsertRows(ctx, rows)
}

// InsertRows writes rows as one batch (one INSERT, one block), as InsertScans.
func (s *Store) InsertRows(ctx context.Context, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, s.sql.insert)
	if err != nil {
		return fmt.Errorf("store: insert scans: %w", err)
	}
	for i, c := range columns(rows) {
		if err := b.Column(i).Append(c); err != nil {
			_ = b.Abort()
			return fmt.Errorf("store: insert scans: column %s: %w", scanColumns[i], err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: insert %d scans: %w", len(rows), err)
	}
	return nil
}

// GetScan returns the newest version of scan id in company companyID, or
// ErrNotFound (also when the id belongs to another company).
func (s *Store) GetScan(ctx context.Context, companyID, id uuid.UUID) (scan.ScanResult, error) {
	var r row
	err := s.conn.QueryRow(pointLookup(ctx), s.sql.get, companyID, id).ScanStruct(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return scan.ScanResult{}, ErrNotFound
	}
	if err != nil {
		return scan.ScanResult{}, fmt.Errorf("store: get scan %s: %w", id, err)
	}
	return fromRow(r)
}
