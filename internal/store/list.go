package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"liveness/internal/scan"
)

// ErrInvalidQuery reports a listing or stats request the store refuses
// (bad limit, offset beyond MaxListOffset, empty range).
var ErrInvalidQuery = errors.New("store: invalid query")

// ListFilter narrows a listing. Zero fields do not filter.
type ListFilter struct {
	Result       scan.Result
	SalesChannel scan.Channel
	Reference    string
	From         time.Time // inclusive lower bound on createdDate
	To           time.Time // exclusive upper bound on createdDate
}

// Position is where a newest-first listing stopped: the last scan returned.
// The next page starts strictly after it (older, or same instant and lower id).
type Position struct {
	Created time.Time
	ID      uuid.UUID
}

// ListQuery asks for one page.
type ListQuery struct {
	Filter ListFilter
	Limit  int       // rows per page, > 0
	Offset int       // rows to skip; only without After
	After  *Position // keyset paging: rows after this position, no OFFSET
}

// ListResult is one page, newest first.
type ListResult struct {
	Scans []scan.ScanResult
	Total uint64    // scans matching the filter, whatever the page
	Last  *Position // the page's last scan; nil on an empty page
}

// MaxListOffset bounds OFFSET paging: ClickHouse reads and drops every
// skipped row, so deep pages must use keyset paging (After) instead.
const MaxListOffset = 10_000

// ListScans returns a page of companyID's scans, newest first.
//
// It reads the narrow time-ordered table scans_by_created (key company_id,
// created_date, created_date_ms, id), so the company and date range and the
// keyset position are primary-key ranges; FINAL collapses redeliveries and
// analysts' versions to the newest one *before* the mutable filters (result,
// channel, reference) apply, which is why those sit in the outer query:
// filtering an old version's value would list a scan that no longer matches.
// The page's full rows are then fetched from scans by (company_id, id),
// with PREWHERE so that only the matching granules' faces are decompressed.
func (s *Store) ListScans(ctx context.Context, companyID uuid.UUID, q ListQuery) (ListResult, error) {
	if q.Limit <= 0 || q.Offset < 0 || q.Offset > MaxListOffset || (q.After != nil && q.Offset != 0) {
		return ListResult{}, fmt.Errorf("%w: limit %d offset %d", ErrInvalidQuery, q.Limit, q.Offset)
	}
	inner, outer, args := listConditions(companyID, q.Filter)
	countSQL := "SELECT count() FROM (SELECT result, sales_channel, reference FROM " + s.db +
		".scans_by_created FINAL WHERE " + inner + ") WHERE " + outer
	var total uint64
	if err := s.conn.QueryRow(ctx, countSQL, args...).Scan(&total); err != nil {
		return ListResult{}, fmt.Errorf("store: count scans: %w", err)
	}
	if q.After != nil {
		c, a := afterCondition(*q.After)
		inner += " AND " + c
		args = append(args, a...)
	}
	pageSQL := "SELECT id FROM (SELECT id, created_date, created_date_ms, result, sales_channel, reference FROM " + s.db +
		".scans_by_created FINAL WHERE " + inner + ") WHERE " + outer +
		" ORDER BY created_date DESC, created_date_ms DESC, id DESC LIMIT ?, ?"
	args = append(args, q.Offset, q.Limit)
	ids, err := s.queryIDs(ctx, pageSQL, args...)
	if err != nil {
		return ListResult{}, err
	}
	scans, err := s.getMany(ctx, companyID, ids)
	if err != nil {
		return ListResult{}, err
	}
	res := ListResult{Scans: scans, Total: total}
	if n := len(scans); n > 0 {
		res.Last = &Position{Created: scans[n-1].CreatedDate, ID: scans[n-1].ID}
	}
	return res, nil
}

// listConditions builds the WHERE text of the inner (immutable key columns:
// safe before FINAL) and outer (mutable columns: after FINAL) queries, with
// their bound arguments in order. Values are never part of the text.
func listConditions(companyID uuid.UUID, f ListFilter) (inner, outer string, args []any) {
	in := []string{"company_id = ?"}
	args = append(args, companyID)
	if !f.From.IsZero() {
		sec, ms := secMs(f.From)
		in = append(in, "created_date >= toDateTime(?)", "(created_date > toDateTime(?) OR created_date_ms >= ?)")
		args = append(args, sec, sec, ms)
	}
	if !f.To.IsZero() {
		sec, ms := secMs(f.To)
		in = append(in, "created_date <= toDateTime(?)", "(created_date < toDateTime(?) OR created_date_ms < ?)")
		args = append(args, sec, sec, ms)
	}
	out := []string{"1"}
	if f.Result != "" {
		out = append(out, "result = ?")
		args = append(args, string(f.Result))
	}
	if f.SalesChannel != "" {
		out = append(out, "sales_channel = ?")
		args = append(args, string(f.SalesChannel))
	}
	if f.Reference != "" {
		out = append(out, "reference = ?")
		args = append(args, f.Reference)
	}
	return strings.Join(in, " AND "), strings.Join(out, " AND "), args
}

// afterCondition selects rows strictly after p in newest-first order:
// (created_date, created_date_ms, id) < p, spelled out because 18.16 has no
// tuple comparison in index analysis; the first term lets the primary key
// skip everything newer.
func afterCondition(p Position) (string, []any) {
	sec, ms := secMs(p.Created)
	return "created_date <= toDateTime(?) AND (created_date < toDateTime(?) OR created_date_ms < ? OR (created_date_ms = ? AND id < ?))",
		[]any{sec, sec, ms, ms, p.ID}
}

func (s *Store) queryIDs(ctx context.Context, query string, args ...any) ([]uuid.UUID, error) {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list scans: %w", err)
	}
	defer rows.Close()
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: list scans: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list scans: %w", err)
	}
	return ids, nil
}

// getMany fetches the newest version of each id (in companyID), in the
// order of ids.
func (s *Store) getMany(ctx context.Context, companyID uuid.UUID, ids []uuid.UUID) ([]scan.ScanResult, error) {
	if len(ids) == 0 {
		return []scan.ScanResult{}, nil
	}
	q := "SELECT " + columnList() + " FROM " + s.db + ".scans PREWHERE company_id = ? AND id IN ?" +
		" ORDER BY version DESC LIMIT 1 BY id"
	set := clickhouse.GroupSet{Value: make([]any, len(ids))}
	for i, id := range ids {
		set.Value[i] = id
	}
	rows, err := s.conn.Query(ctx, q, companyID, set)
	if err != nil {
		return nil, fmt.Errorf("store: fetch page: %w", err)
	}
	defer rows.Close()
	byID := make(map[uuid.UUID]scan.ScanResult, len(ids))
	for rows.Next() {
		var r row
		if err := rows.ScanStruct(&r); err != nil {
			return nil, fmt.Errorf("store: fetch page: %w", err)
		}
		sr, err := fromRow(r)
		if err != nil {
			return nil, err
		}
		byID[sr.ID] = sr
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: fetch page: %w", err)
	}
	out := make([]scan.ScanResult, 0, len(ids))
	for _, id := range ids {
		if sr, ok := byID[id]; ok {
			out = append(out, sr)
		}
	}
	return slices.Clip(out), nil
}

// secMs splits t into DateTime seconds and the millisecond part, the two
// columns the tables keep (18.16 has no DateTime64).
func secMs(t time.Time) (uint32, uint16) {
	t = t.UTC()
	if t.Unix() < 0 {
		return 0, 0
	}
	if t.Unix() > int64(^uint32(0)) {
		return ^uint32(0), 999
	}
	return uint32(t.Unix()), uint16(t.Nanosecond() / int(time.Millisecond))
}
