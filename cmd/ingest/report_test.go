package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%.0f = %v, want %v", p, got, want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}

func TestReportCountsAndFailures(t *testing.T) {
	r := newReport(2 * time.Second)
	r.add(outcome{status: 200, result: "Real", latency: 10 * time.Millisecond})
	r.add(outcome{status: 200, result: "Spoof", latency: 30 * time.Millisecond})
	r.add(outcome{status: 202, result: "(pending: 202)"})
	r.add(outcome{status: 503, result: "(HTTP 503 unavailable)"})
	r.add(outcome{err: errors.New("connection refused")})
	var b bytes.Buffer
	r.print(&b)
	out := b.String()
	if r.total != 5 || r.failed != 2 || len(r.latencies) != 2 {
		t.Fatalf("total %d failed %d latencies %d", r.total, r.failed, len(r.latencies))
	}
	for _, want := range []string{"Real", "Spoof", "(pending: 202)", "throughput 2.5 captures/s", "n=2"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
