package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"liveness/internal/loadgen"
)

func TestPrintReportCountsThroughputAndPercentiles(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 20; i++ {
		lat = append(lat, time.Duration(i)*10*time.Millisecond)
	}
	r := &loadgen.Report{Sent: 25, Failed: 2, Elapsed: 10 * time.Second, Latencies: lat,
		ByResult: map[string]int{"Real": 12, "Spoof": 8, loadgen.ResultPending: 3, "(HTTP 503 unavailable)": 2}}
	var b bytes.Buffer
	printReport(&b, r)
	out := b.String()
	for _, want := range []string{"Real                               12", "(pending: 202)                      3",
		"total                              25", "throughput 2.5 captures/s over 10s",
		"n=20): p50 100ms  p95 190ms  p99 200ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "paced") {
		t.Errorf("a closed-loop run has no lag line:\n%s", out)
	}
	r.MaxLag = 1500 * time.Millisecond
	b.Reset()
	printReport(&b, r)
	if !strings.Contains(b.String(), "latest start was 1.5s behind") {
		t.Errorf("paced run's lag missing:\n%s", b.String())
	}
}
