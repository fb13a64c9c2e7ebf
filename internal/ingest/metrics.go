package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	rejected *prometheus.CounterVec
	answers  *prometheus.CounterVec
	publish  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, w *Waiters) metrics {
	m := metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_rejected_total", Help: "Captures refused before publishing, by reason.",
		}, []string{"reason"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingest_answers_total", Help: "Published captures by answer: scan (200), accepted (202), dead_letter (422).",
		}, []string{"answer"}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingest_publish_seconds", Help: "Time for Kafka to acknowledge a capture (acks=all).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	reg.MustRegister(m.rejected, m.answers, m.publish, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ingest_waiting_requests", Help: "Requests waiting for their scan.",
	}, func() float64 { return float64(w.Len()) }))
	return m
}
