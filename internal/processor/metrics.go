package processor

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"liveness/inference"
)

// Registerer is where metrics go: service.Admin's Registry, typically.
type Registerer = prometheus.Registerer

type metrics struct {
	batchSize    prometheus.Histogram
	batchWait    prometheus.Histogram
	batches      *prometheus.CounterVec
	stages       *prometheus.HistogramVec
	results      *prometheus.CounterVec
	dead         *prometheus.CounterVec
	retries      *prometheus.CounterVec
	committed    prometheus.Counter
	commitErrors prometheus.Counter
	staleSkipped prometheus.Counter
	rebalances   prometheus.Counter
	lag          prometheus.Gauge
	reg          Registerer
}

func newMetrics(reg Registerer) *metrics {
	m := &metrics{
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "processor_batch_size",
			Help: "Captures per batch.", Buckets: []float64{1, 2, 4, 8, 12, 16, 24, 32, 64, 128}}),
		batchWait: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "processor_batch_wait_seconds",
			Help:    "How long the oldest capture of a batch waited for the batch to close.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "processor_batches_total",
			Help: "Batches gathered, by why they closed (items, bytes, wait, stopped)."}, []string{"reason"}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "processor_stage_seconds",
			Help:    "Time per batch in each processor stage (avro_decode, analyse, avro_encode, produce, commit).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"stage"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "processor_results_total",
			Help: "Scan results produced, by result (Real, Spoof, No face, Multiple face)."}, []string{"result"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "processor_dead_letters_total",
			Help: "Captures sent to the dead-letter topic, by kind (decode, analyse, encode)."}, []string{"kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "processor_kafka_retries_total",
			Help: "Kafka operations retried, by operation (fetch, results, dead-letter)."}, []string{"op"}),
		committed: prometheus.NewCounter(prometheus.CounterOpts{Name: "processor_committed_messages_total",
			Help: "Captures whose offsets were committed after their results were acknowledged."}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "processor_commit_errors_total",
			Help: "Failed offset commits (the captures are redelivered unless a later commit covers them)."}),
		staleSkipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "processor_stale_uncommitted_total",
			Help: "Captures fetched before a rebalance whose offsets were deliberately not committed."}),
		rebalances: prometheus.NewCounter(prometheus.CounterOpts{Name: "processor_rebalances_total",
			Help: "Consumer-group generations this member joined."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "processor_consumer_lag",
			Help: "Consumer lag in messages as kafka-go's reader reports it (Stats().Lag: high watermark minus the offset last read, of the partition read last)."}),
		reg: reg,
	}
	if reg != nil {
		reg.MustRegister(m.batchSize, m.batchWait, m.batches, m.stages, m.results, m.dead, m.retries,
			m.committed, m.commitErrors, m.staleSkipped, m.rebalances, m.lag)
	}
	return m
}

func (m *metrics) observeBatch(n int, wait time.Duration, reason string) {
	m.batchSize.Observe(float64(n))
	m.batchWait.Observe(wait.Seconds())
	m.batches.WithLabelValues(reason).Inc()
}

func (m *metrics) stage(name string, since time.Time) {
	m.stages.WithLabelValues(name).Observe(time.Since(since).Seconds())
}

func (m *metrics) result(r string)     { m.results.WithLabelValues(r).Inc() }
func (m *metrics) deadLetter(k string) { m.dead.WithLabelValues(k).Inc() }
func (m *metrics) retry(to string)     { m.retries.WithLabelValues(to).Inc() }

// timed is an engine that keeps per-stage timings (*inference.Engine).
type timed interface{ Timings() *inference.Timings }

// watchEngine exports the engine's cumulative per-stage inference time
// (decode, detect, landmarks, liveness, eyes, occlusion, measure) as
// counters read at scrape time; rate() of them gives seconds per second.
func (m *metrics) watchEngine(e timed) {
	if m.reg == nil {
		return
	}
	m.reg.MustRegister(&engineCollector{t: e.Timings()})
}

type engineCollector struct{ t *inference.Timings }

var (
	engineSecondsDesc = prometheus.NewDesc("processor_inference_stage_seconds_total",
		"Cumulative wall time of each inference stage (summed over the engine's concurrent workers).", []string{"stage"}, nil)
	engineItemsDesc = prometheus.NewDesc("processor_inference_stage_items_total",
		"Items through each inference stage (images for decode and detect, faces for the others).", []string{"stage"}, nil)
)

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- engineSecondsDesc
	ch <- engineItemsDesc
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.t.Snapshot() {
		ch <- prometheus.MustNewConstMetric(engineSecondsDesc, prometheus.CounterValue, s.Total.Seconds(), s.Stage)
		ch <- prometheus.MustNewConstMetric(engineItemsDesc, prometheus.CounterValue, float64(s.Items), s.Stage)
	}
}

// generations owns the reader's Stats(): kafka-go resets its counters on
// every call, so exactly one owner accumulates the rebalance count (the
// generation tag of fetched messages) and exports the lag.
type generations struct {
	r   Reader
	m   *metrics
	mu  sync.Mutex
	gen uint64
}

// current reads the reader's stats and returns the rebalances seen so far.
func (g *generations) current() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.r.Stats()
	if st.Rebalances > 0 {
		g.gen += uint64(st.Rebalances)
		g.m.rebalances.Add(float64(st.Rebalances))
	}
	g.m.lag.Set(float64(st.Lag))
	return g.gen
}

// poll refreshes the lag every period while the processor idles; the
// returned func stops it.
func (g *generations) poll(ctx context.Context, period time.Duration) func() {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				g.current()
			}
		}
	}()
	return cancel
}
