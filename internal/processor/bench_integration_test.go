//go:build integration

package processor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/avro"
	"liveness/internal/kafka"
	"liveness/internal/kafka/kafkatest"
	"liveness/internal/scan"
)

// BenchmarkPipelineVsEngine pushes captures through the real broker and the
// in-process processor and, on the same images in the same run, times the
// engine alone in batches of the policy's size. Run it with
//
//	go test -tags integration -run '^$' -bench PipelineVsEngine -benchtime 1x ./internal/processor/
//
// It reports captures/s for both, their ratio and the mean batch size.
func BenchmarkPipelineVsEngine(b *testing.B) {
	const n = 192
	cfg := localKafka(b)
	codec, err := avro.New()
	if err != nil {
		b.Fatal(err)
	}
	eng := testEngine(b)
	faces := testFaces(b)
	images := make([][]byte, n)
	for i := range images {
		images[i] = faces[i%len(faces)]
	}
	// Warm up (first runs allocate the sessions' arenas).
	if _, err := eng.Analyze(context.Background(), images[:DefaultPolicy.MaxItems]); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		t0 := time.Now()
		for lo := 0; lo < n; lo += DefaultPolicy.MaxItems {
			if _, err := eng.Analyze(context.Background(), images[lo:min(lo+DefaultPolicy.MaxItems, n)]); err != nil {
				b.Fatal(err)
			}
		}
		engineRate := float64(n) / time.Since(t0).Seconds()

		tt := freshTopics(b, cfg, 6)
		caps := make([]*scan.Capture, n)
		for i := range caps {
			caps[i] = newCapture(images[i], fmt.Sprint("bench-", i))
		}
		publish(b, cfg, codec, tt.captures, caps)
		reg := prometheus.NewRegistry()
		r, err := kafka.NewReader(cfg, kafkatest.Unique("bench-processor"), tt.captures)
		if err != nil {
			b.Fatal(err)
		}
		results, _ := kafka.NewWriter(cfg, tt.results)
		dlq, _ := kafka.NewWriter(cfg, tt.dlq)
		p, err := New(r, codec, eng, results, dlq, WithMetrics(reg), WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		t1 := time.Now()
		go func() { done <- p.Run(ctx) }()
		res := consume(b, cfg, tt.results, 5*time.Minute, func(ms []kafkago.Message) bool { return len(ms) >= n })
		pipeRate := float64(len(res)) / time.Since(t1).Seconds()
		cancel()
		<-done
		r.Close()
		results.Close()
		dlq.Close()
		if len(res) < n {
			b.Fatalf("%d of %d results", len(res), n)
		}
		b.ReportMetric(engineRate, "engine-captures/s")
		b.ReportMetric(pipeRate, "pipeline-captures/s")
		b.ReportMetric(pipeRate/engineRate, "ratio")
		b.ReportMetric(meanBatch(b, reg), "mean-batch")
	}
}

func meanBatch(b *testing.B, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "processor_batch_size" {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleSum() / float64(h.GetSampleCount())
		}
	}
	return 0
}
