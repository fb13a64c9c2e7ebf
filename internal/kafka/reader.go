package kafka

import (
	"fmt"
	"log/slog"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// DefaultMaxWait is how long a fetch may wait on the broker for data. It
// costs no latency: with MinBytes 1 the broker answers as soon as a message
// arrives. What it sets is kafka-go's socket deadline, and kafka-go keeps
// the broker's own wait a margin inside it: MaxWait minus 1 s, or minus a
// quarter below 1 s. At the 100-200 ms used before, that margin was 25-50
// ms, and on a two-core machine busy with inference an empty long poll
// often answered later than that: the reader logged "i/o timeout", closed
// the connection and dialled again (54-138 times per bench-pipeline run),
// and a capture or result arriving meanwhile waited for the reconnect.
// 2 s leaves 1 s of margin and polls an idle partition once a second.
// (1 s exactly would make the broker's wait zero: a busy loop.)
const DefaultMaxWait = 2 * time.Second

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
