package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"time"
)

// report sums up a send run: counts per result and latency percentiles of
// the answered (200) requests.
type report struct {
	elapsed       time.Duration
	total, failed int
	byResult      map[string]int
	latencies     []time.Duration
}

func newReport(elapsed time.Duration) *report {
	return &report{elapsed: elapsed, byResult: map[string]int{}}
}

func (r *report) add(o outcome) {
	r.total++
	switch {
	case o.err != nil:
		r.failed++
		r.byResult["(error: "+o.err.Error()+")"]++
	case o.status >= 500:
		r.failed++
		r.byResult[o.result]++
	default:
		r.byResult[o.result]++
	}
	if o.status == 200 {
		r.latencies = append(r.latencies, o.latency)
	}
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r *report) print(w io.Writer) {
	keys := make([]string, 0, len(r.byResult))
	for k := range r.byResult {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "%-28s %8s\n", "result", "count")
	for _, k := range keys {
		fmt.Fprintf(w, "%-28s %8d\n", k, r.byResult[k])
	}
	fmt.Fprintf(w, "%-28s %8d\n", "total", r.total)
	slices.Sort(r.latencies)
	fmt.Fprintf(w, "\nthroughput %.1f captures/s over %s\n", float64(r.total)/r.elapsed.Seconds(), r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "sync latency (200s, n=%d): p50 %s  p95 %s  p99 %s\n", len(r.latencies),
		percentile(r.latencies, 50).Round(time.Millisecond), percentile(r.latencies, 95).Round(time.Millisecond),
		percentile(r.latencies, 99).Round(time.Millisecond))
}
