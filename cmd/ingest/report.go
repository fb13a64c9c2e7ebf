package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"liveness/internal/loadgen"
)

// printReport is `ingest send`'s summary: counts per result, throughput, and
// the latency percentiles of the synchronous answers (200s).
func printReport(w io.Writer, r *loadgen.Report) {
	fmt.Fprintf(w, "%-28s %8s\n", "result", "count")
	for _, k := range slices.Sorted(maps.Keys(r.ByResult)) {
		fmt.Fprintf(w, "%-28s %8d\n", k, r.ByResult[k])
	}
	fmt.Fprintf(w, "%-28s %8d\n", "total", r.Sent)
	fmt.Fprintf(w, "\nthroughput %.1f captures/s over %s\n", r.Throughput(), r.Elapsed.Round(time.Millisecond))
	if r.MaxLag > 0 {
		// A paced run held back by the concurrency bound was not open any more.
		fmt.Fprintf(w, "paced: the latest start was %s behind its time\n", r.MaxLag.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "sync latency (200s, n=%d): p50 %s  p95 %s  p99 %s\n", r.OK(),
		r.Percentile(50).Round(time.Millisecond), r.Percentile(95).Round(time.Millisecond),
		r.Percentile(99).Round(time.Millisecond))
}
