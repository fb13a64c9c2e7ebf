package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// Interval is the width of a stats bucket.
type Interval string

const (
	IntervalHour Interval = "hour"
	IntervalDay  Interval = "day"
)

// StatsBucket counts one company's scans of one channel and result in one
// interval, with their mean liveness score.
type StatsBucket struct {
	Start             time.Time    `json:"start"`
	SalesChannel      scan.Channel `json:"salesChannel"`
	Result            scan.Result  `json:"result"`
	Count             uint64       `json:"count"`
	MeanLivenessScore float64      `json:"meanLivenessScore"`
}

type statsRow struct {
	Start   uint64  `ch:"start"`
	Channel string  `ch:"sales_channel"`
	Result  string  `ch:"result"`
	Count   uint64  `ch:"count"`
	Mean    float64 `ch:"mean"`
}

// Stats returns companyID's buckets between from (inclusive) and to
// (exclusive), oldest first, in whole hours (the hour holding from is the
// first, the hour holding to the last): the source
// is the analysts' view scans_hourly (migrations 0004/0005), kept current by
// a materialized view, so stats cost a few rows per hour instead of a scan
// of the raw table. It counts the platform's verdicts (first versions; a
// redelivery is not counted twice); analysts' corrections are in the scans
// themselves. Day buckets are UTC days, computed on the epoch so the
// server's time zone does not matter.
func (s *Store) Stats(ctx context.Context, companyID uuid.UUID, from, to time.Time, interval Interval) ([]StatsBucket, error) {
	var width uint32
	switch interval {
	case IntervalHour:
		width = 3600
	case IntervalDay:
		width = 86400
	default:
		return nil, fmt.Errorf("%w: interval %q", ErrInvalidQuery, interval)
	}
	f, _ := secMs(from)
	t, _ := secMs(to)
	if t <= f {
		return nil, fmt.Errorf("%w: empty range", ErrInvalidQuery)
	}
	q := "SELECT intDiv(toUInt32(hour), ?) * ? AS start, toString(sales_channel) AS sales_channel, toString(result) AS result," +
		" toUInt64(uniqMerge(scans)) AS count, avgMerge(liveness_avg) AS mean FROM " + s.db + ".scans_hourly" +
		" WHERE company_id = ? AND hour >= toStartOfHour(toDateTime(?)) AND hour < toDateTime(?)" +
		" GROUP BY start, sales_channel, result ORDER BY start, sales_channel, result"
	rows, err := s.conn.Query(ctx, q, width, width, companyID, f, t)
	if err != nil {
		return nil, fmt.Errorf("store: stats: %w", err)
	}
	defer rows.Close()
	out := []StatsBucket{}
	for rows.Next() {
		var r statsRow
		if err := rows.ScanStruct(&r); err != nil {
			return nil, fmt.Errorf("store: stats: %w", err)
		}
		out = append(out, StatsBucket{
			Start: time.Unix(int64(r.Start), 0).UTC(), SalesChannel: scan.Channel(r.Channel),
			Result: scan.Result(r.Result), Count: r.Count, MeanLivenessScore: r.Mean,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: stats: %w", err)
	}
	return out, nil
}
