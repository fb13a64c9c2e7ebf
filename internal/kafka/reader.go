package kafka

import (
	"fmt"
	"log/slog"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// DefaultMaxWait bounds how long a fetch waits for data. kafka-go's 10 s
// default would hold a lone capture that long on a quiet topic; 200 ms keeps
// the synchronous HTTP answer within its budget.
const DefaultMaxWait = 200 * time.Millisecond

// ReaderOption adjusts a reader built by NewReader.
type ReaderOption func(*kafkago.ReaderConfig)

// WithMaxWait overrides DefaultMaxWait.
func WithMaxWait(d time.Duration) ReaderOption {
	return func(c *kafkago.ReaderConfig) { c.MaxWait = d }
}

// WithStartOffset sets where a group with no committed offset starts:
// kafkago.FirstOffset (the default here) or kafkago.LastOffset.
func WithStartOffset(offset int64) ReaderOption {
	return func(c *kafkago.ReaderConfig) { c.StartOffset = offset }
}

// WithReaderErrorLog sends kafka-go's error messages to l.
func WithReaderErrorLog(l *slog.Logger) ReaderOption {
	return func(c *kafkago.ReaderConfig) { c.ErrorLogger = errorLog(l, "reader") }
}

// NewReader returns a consumer-group reader of topic. Commits are explicit and
// synchronous (CommitInterval 0): call FetchMessage, process, then
// CommitMessages, so a crash between the two redelivers rather than loses
// (at-least-once; consumers de-duplicate by id). A new group starts at the
// oldest message, so nothing published before the first deploy is skipped.
func NewReader(cfg Config, group, topic string, opts ...ReaderOption) (*kafkago.Reader, error) {
	if group == "" || topic == "" {
		return nil, fmt.Errorf("%w: reader needs a group and a topic (got %q, %q)", ErrTopicSpec, group, topic)
	}
	d, err := cfg.Dialer()
	if err != nil {
		return nil, err
	}
	rc := kafkago.ReaderConfig{
		Brokers:        cfg.Brokers,
		GroupID:        group,
		Topic:          topic,
		Dialer:         d,
		MinBytes:       1,
		MaxBytes:       ReaderMaxBytes,
		MaxWait:        DefaultMaxWait,
		CommitInterval: 0,
		StartOffset:    kafkago.FirstOffset,
	}
	for _, o := range opts {
		o(&rc)
	}
	// kafka-go panics on an invalid config; return the error instead.
	if err := rc.Validate(); err != nil {
		return nil, fmt.Errorf("kafka: reader config: %w", err)
	}
	return kafkago.NewReader(rc), nil
}
