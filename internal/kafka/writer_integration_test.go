//go:build integration

package kafka

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/kafka/kafkatest"
)

// BenchmarkWriterBatchTimeout is a synchronous write (acks=all) on the local
// broker with DefaultBatchTimeout and with the 1 ms it replaced: one 100 KB
// capture per call (ingest), and 16 small results per call (the processor),
// keys spread over 12 partitions. requests/op shows that a call's messages
// still share one produce request per partition whatever the wait.
//
//	go test -tags integration -run '^$' -bench WriterBatchTimeout ./internal/kafka/
func BenchmarkWriterBatchTimeout(b *testing.B) {
	cfg := localConfig(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec := TopicSpec{Name: kafkatest.Unique("bench.writer"), Partitions: 12}
	createTopics(ctx, b, cfg, spec)
	values := map[int][]byte{1: make([]byte, 100_000), 16: make([]byte, 3_000)}
	key := 0
	for _, wait := range []time.Duration{DefaultBatchTimeout, time.Millisecond} {
		w, err := NewWriter(cfg, spec.Name, WithBatchTimeout(wait))
		if err != nil {
			b.Fatal(err)
		}
		if err := w.WriteMessages(ctx, kafkago.Message{Value: values[16]}); err != nil { // leaders, connections
			b.Fatal(err)
		}
		for _, n := range []int{1, 16} {
			b.Run(fmt.Sprintf("wait-%s/messages-%d", wait, n), func(b *testing.B) {
				msgs := make([]kafkago.Message, n)
				w.Stats() // counters restart at each call
				for b.Loop() {
					for i := range msgs {
						key++
						msgs[i] = kafkago.Message{Key: []byte(strconv.Itoa(key)), Value: values[n]}
					}
					if err := w.WriteMessages(ctx, msgs...); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(w.Stats().Writes)/float64(b.N), "requests/op")
			})
		}
		w.Close()
	}
}
