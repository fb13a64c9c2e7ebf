package kafka

import (
	"context"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"
)

// Ping is the readiness check: a metadata round trip through the same TLS and
// SASL path the services use, so it fails on a bad password or certificate,
// not only on a closed port. It returns the number of brokers in the cluster.
func Ping(ctx context.Context, cfg Config) (int, error) {
	cl, err := cfg.Client()
	if err != nil {
		return 0, err
	}
	defer CloseIdle(cl)
	// An empty, non-nil topic list asks for brokers only, not every topic.
	res, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{}})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if len(res.Brokers) == 0 {
		return 0, fmt.Errorf("%w: metadata lists no brokers", ErrUnreachable)
	}
	return len(res.Brokers), nil
}

// Ready adapts Ping to a readiness check (internal/service.Check).
func Ready(cfg Config) func(context.Context) error {
	return func(ctx context.Context) error { _, err := Ping(ctx, cfg); return err }
}
