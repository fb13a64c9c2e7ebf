package loadgen

import (
	"math"
	"slices"
	"time"
)

// Report is what a run measured.
type Report struct {
	Sent     int            // requests that finished (answered or not)
	Failed   int            // of them, no answer or a 5xx (Outcome.Failed)
	ByResult map[string]int // scan result of the 200s; "(pending: 202)", "(HTTP 415 ...)", "(error: ...)" otherwise
	ByStatus map[int]int    // HTTP status; 0 counts the requests without an answer
	Elapsed  time.Duration  // from the first request sent to the last answer
	MaxLag   time.Duration  // paced runs: the latest start behind its due time
	// Latencies of the 200s only, sorted: a 202 is the Wait budget, an
	// error its own timeout, and neither is the service's answer time.
	Latencies []time.Duration
}

// NewReport is an empty report, to Merge runs into.
func NewReport() *Report { return &Report{ByResult: map[string]int{}, ByStatus: map[int]int{}} }

func (r *Report) add(o Outcome) {
	r.Sent++
	if o.Failed() {
		r.Failed++
	}
	key := o.Result
	if o.Err != nil {
		key = "(error: " + o.Err.Error() + ")"
	}
	r.ByResult[key]++
	r.ByStatus[o.Status]++
	if o.Status == 200 && o.Err == nil {
		r.Latencies = append(r.Latencies, o.Latency)
	}
}

func (r *Report) finish() { slices.Sort(r.Latencies) }

// Merge adds the outcomes of another run, as if both were one run lasting
// their two elapsed times (rounds of a benchmark with pauses between them).
func (r *Report) Merge(o *Report) {
	r.Sent += o.Sent
	r.Failed += o.Failed
	for k, n := range o.ByResult {
		r.ByResult[k] += n
	}
	for k, n := range o.ByStatus {
		r.ByStatus[k] += n
	}
	r.Elapsed += o.Elapsed
	r.MaxLag = max(r.MaxLag, o.MaxLag)
	r.Latencies = append(r.Latencies, o.Latencies...)
	r.finish()
}

// OK is the number of synchronous answers (200s).
func (r *Report) OK() int { return len(r.Latencies) }

// Throughput is finished requests per second over the run.
func (r *Report) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

// Percentile p (0–100) of the 200s' latency.
func (r *Report) Percentile(p float64) time.Duration { return Percentile(r.Latencies, p) }

// Percentile p (0–100) of sorted durations by nearest rank (the smallest
// value with at least p% of the values at or below it); 0 when empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted))/100)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
