//go:build integration

package kafka

import (
	"context"
	"liveness/internal/kafka/kafkatest"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// localConfig is the broker of scripts/kafka.sh, or the one KAFKA_BROKERS
// names. The test fails (never skips) when it does not answer.
func localConfig(t testing.TB) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Brokers = kafkatest.LocalBrokers(t)
	return cfg
}

// createTopics creates fresh test topics and deletes them when the test ends,
// so runs do not pile up partitions (and 200 KB images) on the local broker.
func createTopics(ctx context.Context, t testing.TB, cfg Config, specs ...TopicSpec) {
	t.Helper()
	created, err := EnsureTopics(ctx, cfg, specs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != len(specs) {
		t.Fatalf("created %v of %d fresh topics", created, len(specs))
	}
	t.Cleanup(func() { deleteTopics(t, cfg, created...) })
}

func deleteTopics(t testing.TB, cfg Config, names ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := cfg.Client()
	if err != nil {
		t.Error(err)
		return
	}
	defer CloseIdle(cl)
	res, err := cl.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: names})
	if err != nil {
		t.Errorf("delete test topics: %v", err)
		return
	}
	for name, err := range res.Errors {
		if err != nil {
			t.Errorf("delete %s: %v", name, err)
		}
	}
}
