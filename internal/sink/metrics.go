package sink

import "github.com/prometheus/client_golang/prometheus"

// Registerer is where metrics go: service.Admin's Registry, typically.
type Registerer = prometheus.Registerer

type metrics struct {
	stored        prometheus.Counter
	dead          prometheus.Counter
	batches       prometheus.Counter
	errors        *prometheus.CounterVec
	batchRows     prometheus.Histogram
	insertSeconds prometheus.Histogram
	lastFlush     prometheus.Gauge
}

// newMetrics builds the sink's metrics, registered on reg when not nil.
func newMetrics(reg Registerer) *metrics {
	m := &metrics{
		stored: prometheus.NewCounter(prometheus.CounterOpts{Name: "sink_events_stored_total",
			Help: "Scan results inserted into ClickHouse and committed."}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{Name: "sink_events_dead_lettered_total",
			Help: "Events sent to the dead-letter topic (undecodable or unstorable)."}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{Name: "sink_batches_total",
			Help: "Batches inserted and committed."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sink_errors_total",
			Help: "Failed attempts, by step (insert, dead-letter, commit); each is retried."}, []string{"step"}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sink_batch_events",
			Help: "Events per batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		insertSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sink_insert_seconds",
			Help: "Time to insert one batch, retries included.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		lastFlush: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sink_last_commit_timestamp_seconds",
			Help: "Unix time of the last committed batch."}),
	}
	if reg != nil {
		reg.MustRegister(m.stored, m.dead, m.batches, m.errors, m.batchRows, m.insertSeconds, m.lastFlush)
	}
	return m
}
