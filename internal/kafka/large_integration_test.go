//go:build integration

package kafka

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"liveness/internal/kafka/kafkatest"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// A 10 MiB image plus envelope fits end to end: the writer's BatchBytes, the
// captures topic's max.message.bytes and the reader's MaxBytes agree. A
// message over MaxMessageBytes is refused by the writer, before the network.
func TestLargeMessageFitsCapturesTopic(t *testing.T) {
	cfg := localConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec := Topics[0] // captures settings
	spec.Name = kafkatest.Unique("test.large")
	createTopics(ctx, t, cfg, spec)
	value := make([]byte, 10<<20+64<<10) // 10 MiB image + 64 KiB of envelope
	_, _ = rand.Read(value)

	w, err := NewWriter(cfg, spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafkago.Message{Key: []byte("big"), Value: value}); err != nil {
		t.Fatalf("write %d bytes: %v", len(value), err)
	}
	tooBig := make([]byte, MaxMessageBytes+1)
	err = w.WriteMessages(ctx, kafkago.Message{Key: []byte("huge"), Value: tooBig})
	if !errors.As(err, new(kafkago.MessageTooLargeError)) {
		t.Fatalf("write over MaxMessageBytes: err = %v, want MessageTooLargeError", err)
	}

	r, err := NewReader(cfg, kafkatest.Unique("test-large"), spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := r.FetchMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Key) != "big" || !bytes.Equal(m.Value, value) {
		t.Fatalf("read back key %q, %d bytes; want the %d bytes written", m.Key, len(m.Value), len(value))
	}
	if err := r.CommitMessages(ctx, m); err != nil {
		t.Fatal(err)
	}
}
