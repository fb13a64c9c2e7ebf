//go:build integration

package ingest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/avro"
	"liveness/internal/kafka"
	"liveness/internal/kafka/kafkatest"
	"liveness/internal/scan"
)

// The outcome listener against the real broker: started before its topics
// exist, it waits for them; then a result and a dead letter published after
// Run returns reach their waiters, and an outcome nobody waits for is ignored.
func TestListenerDeliversOutcomesFromKafka(t *testing.T) {
	cfg := kafka.DefaultConfig()
	cfg.Brokers = kafkatest.LocalBrokers(t)
	results, dlq := kafkatest.Unique("test.ingest-results"), kafkatest.Unique("test.ingest-dlq")
	codec, err := avro.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := NewWaiters()
	l := &Listener{Kafka: cfg, Codec: codec, Waiters: w, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Results: results, DeadLetter: dlq}

	// The topics appear a moment after the listener starts.
	go func() {
		time.Sleep(time.Second)
		if _, err := kafka.EnsureTopics(ctx, cfg,
			kafka.TopicSpec{Name: results, Partitions: 3, ReplicationFactor: 1},
			kafka.TopicSpec{Name: dlq, Partitions: 2, ReplicationFactor: 1}); err != nil {
			t.Error(err)
		}
	}()
	listenCtx, stop := context.WithCancel(ctx)
	wait, err := l.Run(listenCtx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { stop(); wait(); deleteTopics(cfg, results, dlq) }()

	good, bad, stranger := uuid.New(), uuid.New(), uuid.New()
	gotResult, cancelGood := w.Expect(good)
	defer cancelGood()
	gotDead, cancelBad := w.Expect(bad)
	defer cancelBad()

	res := &scan.ScanResult{Scan: scan.Scan{ID: good, CompanyID: uuid.New(), CreatedDate: time.Now().UTC().Truncate(time.Millisecond),
		SalesChannel: scan.ChannelWeb, Analysis: scan.Analysis{Result: scan.ResultReal, Quality: scan.QualityHigh,
			Luminance: scan.LuminanceNormal, LivenessScore: 0.9}}, Version: 1}
	val, err := codec.EncodeResult(res)
	if err != nil {
		t.Fatal(err)
	}
	rw, _ := kafka.NewWriter(cfg, results)
	defer rw.Close()
	dw, _ := kafka.NewWriter(cfg, dlq)
	defer dw.Close()
	if err := rw.WriteMessages(ctx, kafkago.Message{Key: []byte(stranger.String()), Value: []byte("not for us")},
		kafkago.Message{Key: []byte(good.String()), Value: val}); err != nil {
		t.Fatal(err)
	}
	dead := kafka.DeadLetter(kafkago.Message{Value: []byte("img")}, []byte(bad.String()), "caps", "analyse: unexpected EOF")
	if err := dw.WriteMessages(ctx, dead); err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-gotResult:
		if o.Result == nil || o.Result.ID != good || o.Result.Result != scan.ResultReal {
			t.Fatalf("result outcome %+v", o)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no result delivered")
	}
	select {
	case o := <-gotDead:
		if o.Result != nil || o.Reason != "analyse: unexpected EOF" {
			t.Fatalf("dead-letter outcome %+v", o)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no dead letter delivered")
	}
}

func deleteTopics(cfg kafka.Config, names ...string) {
	cl, err := cfg.Client()
	if err != nil {
		return
	}
	defer kafka.CloseIdle(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: names})
}
