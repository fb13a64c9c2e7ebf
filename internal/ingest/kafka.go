package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/avro"
	"liveness/internal/kafka"
	"liveness/internal/scan"
	"liveness/internal/tracing"
)

// KafkaPublisher publishes captures as Avro CaptureEvents keyed by scan id.
type KafkaPublisher struct {
	W       *kafkago.Writer // acks=all, from kafka.NewWriter
	Codec   *avro.Codec
	Timeout time.Duration // bound on one publish; past it the client gets 503
}

// PublishCapture implements Publisher.
func (p *KafkaPublisher) PublishCapture(ctx context.Context, c *scan.Capture, trace string) error {
	b, err := p.Codec.EncodeCapture(c)
	if err != nil {
		return fmt.Errorf("encode capture: %w", err)
	}
	msg := kafkago.Message{Key: []byte(c.ID.String()), Value: b}
	kafka.SetHeader(&msg, tracing.Header, trace)
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	return p.W.WriteMessages(ctx, msg)
}

// Listener feeds Waiters from the results topic and the processor's
// dead-letter topic. It reads every partition itself, without a consumer
// group, starting at the end of each: every ingest replica sees every
// outcome, so whichever replica holds a request finds its answer, and no
// group rebalances when replicas come and go.
type Listener struct {
	Kafka      kafka.Config
	Codec      *avro.Codec
	Waiters    *Waiters
	Log        *slog.Logger
	Results    string // results topic
	DeadLetter string // the processor's dead-letter topic
}

// Run reads until ctx ends. It returns once every partition reader has
// its start offset fixed, then keeps reading in the background: a capture
// published after Run returns cannot have its outcome skipped.
func (l *Listener) Run(ctx context.Context) (wait func(), err error) {
	var wg sync.WaitGroup
	for _, topic := range []string{l.Results, l.DeadLetter} {
		offsets, err := l.startOffsets(ctx, topic)
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", topic, err)
		}
		for part, off := range offsets {
			r, err := l.reader(topic, part, off)
			if err != nil {
				return nil, err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer r.Close()
				l.read(ctx, r, topic == l.DeadLetter)
			}()
		}
	}
	return wg.Wait, nil
}

// startOffsets waits, with backoff, until the topic's partitions have
// leaders and answer: a broker still starting, or a topic just created, is
// not a reason to exit.
func (l *Listener) startOffsets(ctx context.Context, topic string) (map[int]int64, error) {
	for d := 250 * time.Millisecond; ; d = min(2*d, 10*time.Second) {
		offsets, err := lastOffsets(ctx, l.Kafka, topic)
		if err == nil {
			return offsets, nil
		}
		l.Log.Warn("outcome listener: topic not ready; retrying", "topic", topic, "err", err, "in", d)
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), err)
		case <-time.After(d):
		}
	}
}

func (l *Listener) reader(topic string, partition int, offset int64) (*kafkago.Reader, error) {
	d, err := l.Kafka.Dialer()
	if err != nil {
		return nil, err
	}
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers: l.Kafka.Brokers, Topic: topic, Partition: partition, Dialer: d,
		MinBytes: 1, MaxBytes: kafka.ReaderMaxBytes, MaxWait: kafka.DefaultMaxWait,
	})
	return r, r.SetOffset(offset)
}

func (l *Listener) read(ctx context.Context, r *kafkago.Reader, deadLetter bool) {
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.Log.Warn("outcome listener: read failed; retrying", "topic", r.Config().Topic, "err", err)
			time.Sleep(time.Second)
			continue
		}
		l.deliver(m, deadLetter)
	}
}

// deliver decodes only outcomes someone here waits for: every replica reads
// every result, and most belong to other replicas.
func (l *Listener) deliver(m kafkago.Message, deadLetter bool) {
	id, err := uuid.ParseBytes(m.Key)
	if err != nil || !l.Waiters.Waiting(id) {
		return
	}
	if deadLetter {
		reason, _ := kafka.Header(m, kafka.HeaderDLQReason)
		l.Waiters.Deliver(id, Outcome{Reason: reason})
		return
	}
	res, err := l.Codec.DecodeResult(m.Value)
	if err != nil {
		l.Log.Error("outcome listener: undecodable result", "scan_id", id, "err", err)
		return
	}
	l.Waiters.Deliver(id, Outcome{Result: res})
}

// lastOffsets returns the end offset of every partition of topic.
func lastOffsets(ctx context.Context, cfg kafka.Config, topic string) (map[int]int64, error) {
	cl, err := cfg.Client()
	if err != nil {
		return nil, err
	}
	defer kafka.CloseIdle(cl)
	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(md.Topics) != 1 {
		return nil, errors.New("topic metadata unavailable")
	}
	if err := md.Topics[0].Error; err != nil {
		return nil, err
	}
	var reqs []kafkago.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafkago.LastOffsetOf(p.ID))
	}
	lo, err := cl.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, po := range lo.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("partition %d: %w", po.Partition, po.Error)
		}
		out[po.Partition] = po.LastOffset
	}
	return out, nil
}
