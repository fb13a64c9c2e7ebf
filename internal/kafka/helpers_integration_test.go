//go:build integration

package kafka

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"
)

// localConfig is the broker of scripts/kafka.sh, or the one KAFKA_BROKERS
// names. The test fails (never skips) when it does not answer.
func localConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	if b := SplitBrokers(os.Getenv(EnvBrokers)); len(b) > 0 {
		cfg.Brokers = b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Ping(ctx, cfg); err != nil {
		t.Fatalf("Kafka at %v does not answer (start it with scripts/kafka.sh up): %v", cfg.Brokers, err)
	}
	return cfg
}

// unique returns prefix plus a random suffix, for topics and groups that no
// earlier run can have left behind.
func unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
