// Package sink moves scan results from the results topic into ClickHouse:
// a consumer-group member that gathers a batch (BatchPolicy), inserts it in
// one INSERT, and only then commits the batch's offsets. A crash anywhere
// redelivers rather than loses; the store de-duplicates by (company, id) and
// version, so a redelivered batch ends as the same scans.
//
// The next batch is fetched and decoded while the previous one is inserted
// (Run). While ClickHouse is down the sink retries the same batch with
// backoff and, once the next batch is full, stops fetching: memory stays
// bounded by two batches plus the reader's prefetch queue, and the lag
// waits in Kafka, where it belongs.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/kafka"
	"liveness/internal/scan"
	"liveness/internal/store"
)

// ErrInvalidPolicy reports a BatchPolicy the sink cannot run with.
var ErrInvalidPolicy = errors.New("sink: invalid batch policy")

// Dead-letter headers, added to the original message's own headers.
const (
	HeaderReason    = "dlq-reason"    // why the event was not stored
	HeaderTopic     = "dlq-topic"     // where it came from
	HeaderPartition = "dlq-partition" // its partition there
	HeaderOffset    = "dlq-offset"    // its offset there
)

// BatchPolicy says when a batch is complete: whichever limit comes first.
type BatchPolicy struct {
	MaxRows  int           // events per batch
	MaxBytes int           // sum of message value sizes
	MaxWait  time.Duration // from the batch's first event
}

// DefaultBatchPolicy: ClickHouse likes few large inserts. Each insert makes
// a part per partition touched in the table and in each of its four views,
// and that per-block cost dominates: clickhouse-client itself took 3.7-10x
// longer to insert 40k scans in 10k-row blocks than in one block, and the
// sink went from 5,949 to 11,053 rows/s at 300k scans with 50k-row batches
// instead of 10k (2 cores, shared). Memory: at most two batches are held
// (see Run), each bounded by MaxBytes of events plus their mapped rows,
// about 3x that. A second bounds the delay before an analyst sees a result.
var DefaultBatchPolicy = BatchPolicy{MaxRows: 50_000, MaxBytes: 64 << 20, MaxWait: time.Second}

// Validate reports a policy with a non-positive limit.
func (p BatchPolicy) Validate() error {
	if p.MaxRows <= 0 || p.MaxBytes <= 0 || p.MaxWait <= 0 {
		return fmt.Errorf("%w: %+v", ErrInvalidPolicy, p)
	}
	return nil
}

// Reader is the consumer side: kafka-go's *Reader with a group, explicit commits.
type Reader interface {
	FetchMessage(ctx context.Context) (kafkago.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// Writer is the dead-letter producer: kafka-go's *Writer.
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// Store is where batches go: *store.Store.
type Store interface {
	InsertRows(ctx context.Context, rows []store.Row) error
}

// Decoder turns a message value into a scan result: *avro.Codec.
type Decoder interface {
	DecodeResult(b []byte) (*scan.ScanResult, error)
}

// Sink is one consumer-group member. Build it with New, run it with Run.
type Sink struct {
	r       Reader
	dlq     Writer
	st      Store
	dec     Decoder
	policy  BatchPolicy
	log     *slog.Logger
	m       *metrics
	backoff backoff
	drain   time.Duration
}

// Option tunes a Sink.
type Option func(*Sink)

// WithPolicy sets the batch policy (DefaultBatchPolicy otherwise).
func WithPolicy(p BatchPolicy) Option { return func(s *Sink) { s.policy = p } }

// WithLogger sets the logger. The sink logs ids, counts and reasons, never
// payloads (landmarks are biometric data).
func WithLogger(l *slog.Logger) Option { return func(s *Sink) { s.log = l } }

// WithMetrics registers the sink's metrics on reg.
func WithMetrics(reg Registerer) Option { return func(s *Sink) { s.m = newMetrics(reg) } }

// WithBackoff sets the first and the longest wait between insert attempts
// (default 200 ms doubling to 30 s, with jitter).
func WithBackoff(first, max time.Duration) Option {
	return func(s *Sink) { s.backoff = backoff{first: first, max: max} }
}

// WithDrainTimeout bounds the final flush after Run's context ends
// (default 20 s, inside Kubernetes' 30 s grace period).
func WithDrainTimeout(d time.Duration) Option { return func(s *Sink) { s.drain = d } }

// New builds a sink reading r, writing scans to st and dead letters to dlq.
func New(r Reader, dec Decoder, st Store, dlq Writer, opts ...Option) (*Sink, error) {
	s := &Sink{
		r: r, dec: dec, st: st, dlq: dlq,
		policy:  DefaultBatchPolicy,
		log:     slog.Default(),
		backoff: backoff{first: 200 * time.Millisecond, max: 30 * time.Second},
		drain:   20 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	if s.m == nil {
		s.m = newMetrics(nil)
	}
	if err := s.policy.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// batch is what one flush writes and commits.
type batch struct {
	rows  []store.Row
	dead  []kafkago.Message // to the dead-letter topic, reason in a header
	msgs  []kafkago.Message // every message of the batch, for the commit
	bytes int
	start time.Time
}

func (b *batch) empty() bool { return len(b.msgs) == 0 }

// Run consumes until ctx ends, then flushes and commits what it holds
// (within the drain timeout) and returns nil. It returns early only on a
// reader error other than ctx's end.
//
// Fetching and inserting overlap: while one batch is inserted and committed,
// the next is fetched and decoded. The hand-over is unbuffered, so at most
// two batches are in memory (the one in flight and the one being filled,
// which waits, full, until the flush is done: fetching stops rather than
// memory growing while ClickHouse is slow or down). One goroutine flushes,
// so batches are stored and committed in the order they were fetched, and
// an offset is only ever committed after its rows (and those of every
// earlier batch) are stored.
func (s *Sink) Run(ctx context.Context) error {
	s.log.Info("sink started", "policy", fmt.Sprintf("%+v", s.policy))
	// The flusher outlives ctx by the drain timeout: the batches in hand
	// should land and be committed rather than be redelivered to the next
	// member. drain starts that clock (on ctx's end or a reader failure).
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var once sync.Once
	drain := func() { once.Do(func() { time.AfterFunc(s.drain, cancel) }) }
	stop := context.AfterFunc(ctx, drain)
	defer stop()

	full := make(chan *batch)
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for b := range full {
			if err := s.flush(fctx, b); err != nil {
				s.log.Warn("sink: batch not flushed before shutdown; it will be redelivered", "events", len(b.msgs), "err", err)
			}
		}
	}()
	err := s.fill(ctx, full)
	close(full)
	if err != nil {
		drain()
	}
	<-flushed
	if err != nil {
		return fmt.Errorf("sink: fetch: %w", err)
	}
	s.log.Info("sink stopped")
	return nil
}

// fill gathers batches and hands them to the flusher until ctx ends (nil)
// or the reader fails on its own (its error); the batch in hand is handed
// over either way.
func (s *Sink) fill(ctx context.Context, full chan<- *batch) error {
	for {
		b, err := s.gather(ctx)
		s.decode(b)
		if !b.empty() {
			full <- b // blocks while the previous batch is being flushed
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// gather fetches until the batch is full or its wait is over. It returns
// with what it has when ctx ends. The clock starts at the batch's first
// event, so a quiet topic does not produce empty flushes.
func (s *Sink) gather(ctx context.Context) (*batch, error) {
	b := &batch{}
	m, err := s.r.FetchMessage(ctx)
	if err != nil {
		return b, err
	}
	b.start = time.Now()
	b.add(m)
	wait, cancel := context.WithDeadline(ctx, b.start.Add(s.policy.MaxWait))
	defer cancel()
	for len(b.msgs) < s.policy.MaxRows && b.bytes < s.policy.MaxBytes {
		m, err := s.r.FetchMessage(wait)
		if err != nil {
			if ctx.Err() == nil && wait.Err() != nil {
				return b, nil // the batch's wait is over
			}
			return b, err
		}
		b.add(m)
	}
	return b, nil
}

func (b *batch) add(m kafkago.Message) {
	b.msgs = append(b.msgs, m)
	b.bytes += len(m.Value)
}

// decode turns the batch's messages into rows, in parallel (decoding the
// landmarks and marshalling them again as JSON costs more CPU than the
// rest of the sink), and marks the events that cannot be decoded or stored
// for the dead-letter topic. Rows keep the messages' order.
func (s *Sink) decode(b *batch) {
	rows := make([]store.Row, len(b.msgs))
	errs := make([]error, len(b.msgs))
	workers := min(runtime.GOMAXPROCS(0), (len(b.msgs)+minPerWorker-1)/minPerWorker)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(b.msgs); i += workers {
				rows[i], errs[i] = s.decodeOne(b.msgs[i].Value)
			}
		})
	}
	wg.Wait()
	b.rows = rows[:0]
	for i, err := range errs {
		if err != nil {
			b.dead = append(b.dead, deadLetter(b.msgs[i], err))
			continue
		}
		b.rows = append(b.rows, rows[i])
	}
}

// minPerWorker keeps small batches on one goroutine, where a fan-out would
// cost more than it saves.
const minPerWorker = 256

func (s *Sink) decodeOne(v []byte) (store.Row, error) {
	sr, err := s.dec.DecodeResult(v)
	if err != nil {
		return store.Row{}, err
	}
	return store.NewRow(*sr)
}

func deadLetter(m kafkago.Message, reason error) kafkago.Message {
	d := kafkago.Message{Key: m.Key, Value: m.Value, Headers: append([]kafkago.Header(nil), m.Headers...)}
	kafka.SetHeader(&d, HeaderReason, reason.Error())
	kafka.SetHeader(&d, HeaderTopic, m.Topic)
	kafka.SetHeader(&d, HeaderPartition, strconv.Itoa(m.Partition))
	kafka.SetHeader(&d, HeaderOffset, strconv.FormatInt(m.Offset, 10))
	return d
}

// flush inserts the batch, writes its dead letters, then commits. Each step
// retries with backoff until it succeeds or ctx ends; a step is never
// skipped, so a commit always follows a stored batch.
func (s *Sink) flush(ctx context.Context, b *batch) error {
	start := time.Now()
	if len(b.rows) > 0 {
		if err := s.retry(ctx, "insert", func(ctx context.Context) error { return s.st.InsertRows(ctx, b.rows) }); err != nil {
			return err
		}
		s.m.insertSeconds.Observe(time.Since(start).Seconds())
	}
	if len(b.dead) > 0 {
		for _, d := range b.dead {
			reason, _ := kafka.Header(d, HeaderReason)
			s.log.Warn("sink: event to dead-letter topic", "key", string(d.Key), "reason", reason)
		}
		if err := s.retry(ctx, "dead-letter", func(ctx context.Context) error { return s.dlq.WriteMessages(ctx, b.dead...) }); err != nil {
			return err
		}
	}
	if err := s.retry(ctx, "commit", func(ctx context.Context) error { return s.r.CommitMessages(ctx, b.msgs...) }); err != nil {
		return err
	}
	s.m.stored.Add(float64(len(b.rows)))
	s.m.dead.Add(float64(len(b.dead)))
	s.m.batches.Inc()
	s.m.batchRows.Observe(float64(len(b.msgs)))
	s.m.lastFlush.SetToCurrentTime()
	s.log.Debug("sink: batch committed", "events", len(b.msgs), "stored", len(b.rows), "dead", len(b.dead),
		"took", time.Since(b.start).String())
	return nil
}

// retry runs op until it succeeds or ctx ends, waiting with backoff.
func (s *Sink) retry(ctx context.Context, what string, op func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := op(ctx)
		if err == nil {
			if attempt > 0 {
				s.log.Info("sink: "+what+" succeeded after retries", "attempts", attempt+1)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.m.errors.WithLabelValues(what).Inc()
		d := s.backoff.wait(attempt)
		s.log.Warn("sink: "+what+" failed; retrying", "attempt", attempt+1, "in", d.String(), "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

type backoff struct{ first, max time.Duration }

// wait is first·2^attempt capped at max, with ±20% jitter so that a fleet of
// sinks does not retry in lockstep against a recovering server.
func (b backoff) wait(attempt int) time.Duration {
	d := b.first
	for range attempt {
		if d >= b.max/2 {
			d = b.max
			break
		}
		d *= 2
	}
	d = min(d, b.max)
	j := time.Duration(float64(d) * 0.2 * (2*rand.Float64() - 1))
	return d + j
}
