package kafka

import (
	"fmt"
	"log/slog"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Size limits shared by the topic specs, writers and readers, so that a
// capture the writer accepts is one the broker stores and the reader fetches.
const (
	// MaxMessageBytes is the largest record batch the captures topic accepts:
	// a 10 MiB image plus its Avro envelope, with headroom.
	MaxMessageBytes = 12 << 20
	// ReaderMaxBytes is the fetch size: above MaxMessageBytes because a fetch
	// response carries batch and partition framing around the records.
	ReaderMaxBytes = 16 << 20
)

// DefaultBatchTimeout is how long a writer waits to fill a batch before it
// sends it. kafka-go's default, 1 s, would add a second to every synchronous
// write, and any wait costs a timer wake-up on top of itself. On the local
// broker (BenchmarkWriterBatchTimeout, two runs) a 100 KB write took
// 2.1-2.6 ms with 1 ms against 0.9-1.6 ms with 1 µs, and 16 results in one
// call 4.1-4.6 against 3.4-3.5 ms; in a first trial 50 µs still took 1.7 ms
// at the median, against 0.7 for 1 µs. Nothing is given up for it:
// the messages of one WriteMessages call are added to their partitions'
// batches under one lock, so a call still makes one produce request per
// partition (requests/op unchanged), and at the product's rates (tens of
// captures a second over 12 partitions) two calls seldom met on a partition
// within a millisecond anyway. Bulk writers (benchmarks) set their own.
const DefaultBatchTimeout = time.Microsecond

// WriterOption adjusts a writer built by NewWriter.
type WriterOption func(*kafkago.Writer)

// WithBatchTimeout overrides DefaultBatchTimeout.
func WithBatchTimeout(d time.Duration) WriterOption {
	return func(w *kafkago.Writer) { w.BatchTimeout = d }
}

// WithBatchSize sets how many messages a batch holds before it is sent
// (kafka-go's default is 100).
func WithBatchSize(n int) WriterOption {
	return func(w *kafkago.Writer) { w.BatchSize = n }
}

// WithCompression compresses batches. Off by default: captures are JPEG/PNG
// and do not shrink; results (Avro, small) may gain from it.
func WithCompression(c kafkago.Compression) WriterOption {
	return func(w *kafkago.Writer) { w.Compression = c }
}

// WithWriterErrorLog sends kafka-go's error messages to l.
func WithWriterErrorLog(l *slog.Logger) WriterOption {
	return func(w *kafkago.Writer) { w.ErrorLogger = errorLog(l, "writer") }
}

// NewWriter returns a synchronous writer to topic: WriteMessages returns once
// all in-sync replicas hold the messages (acks=all), so a caller that saw no
// error may tell its client the capture is accepted.
//
// Keys are hashed with murmur2, like the Java client's default partitioner,
// so a key lands on the same partition whichever client produced it.
func NewWriter(cfg Config, topic string, opts ...WriterOption) (*kafkago.Writer, error) {
	if topic == "" {
		return nil, fmt.Errorf("%w: empty topic", ErrTopicSpec)
	}
	t, err := cfg.Transport()
	if err != nil {
		return nil, err
	}
	w := &kafkago.Writer{
		Addr:                   kafkago.TCP(cfg.Brokers...),
		Topic:                  topic,
		Balancer:               &kafkago.Murmur2Balancer{},
		RequiredAcks:           kafkago.RequireAll,
		BatchTimeout:           DefaultBatchTimeout,
		BatchBytes:             MaxMessageBytes,
		Async:                  false,
		AllowAutoTopicCreation: false, // topics come from Topics, with their settings
		Transport:              t,
	}
	for _, o := range opts {
		o(w)
	}
	return w, nil
}

func errorLog(l *slog.Logger, component string) kafkago.Logger {
	return kafkago.LoggerFunc(func(msg string, args ...any) {
		l.Error(fmt.Sprintf(msg, args...), "component", "kafka-"+component)
	})
}
