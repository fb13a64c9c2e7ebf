package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// LocalBrokers is the broker list of the local stack (scripts/stack.sh): the
// one KAFKA_BROKERS names, 127.0.0.1:9092 otherwise. The test fails (never
// skips) when no broker answers a metadata request.
func LocalBrokers(t testing.TB) []string {
	t.Helper()
	brokers := []string{"127.0.0.1:9092"}
	if env := os.Getenv("KAFKA_BROKERS"); strings.TrimSpace(env) != "" {
		brokers = nil
		for _, b := range strings.Split(env, ",") {
			if b = strings.TrimSpace(b); b != "" {
				brokers = append(brokers, b)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: &kafkago.Transport{}}
	defer cl.Transport.(*kafkago.Transport).CloseIdleConnections()
	if _, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{}}); err != nil {
		t.Fatalf("Kafka at %v does not answer (start it with scripts/stack.sh up): %v", brokers, err)
	}
	return brokers
}

// Unique returns prefix plus a random suffix, for topics and groups that no
// earlier run can have left behind.
func Unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
