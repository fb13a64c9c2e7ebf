// Package sink moves scan results from the results topic into ClickHouse:
// a consumer-group member that gathers a batch (internal/batch, by rows,
// bytes and wait), inserts it in one INSERT, and only then commits the
// batch's offsets. A crash anywhere redelivers rather than loses; the store
// de-duplicates by (company, id) and version, so a redelivered batch ends as
// the same scans.
//
// Three things overlap (Run): the next batch is fetched and decoded while
// up to Inserts batches are being inserted, each on its own connection,
// and batches are committed one by one in fetch order. Overlapping inserts
// matter because an insert is two halves that do not overlap by
// themselves: the client builds and compresses the block, then the server
// writes the parts and feeds the views while the client waits.
// While ClickHouse is down the sink retries the batches in hand with
// backoff and, once the next batch is full, stops fetching: memory stays
// bounded by Inserts+1 batches plus the reader's prefetch queue, and the
// lag waits in Kafka, where it belongs.
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

	"liveness/internal/batch"
	"liveness/internal/kafka"
	"liveness/internal/scan"
	"liveness/internal/store"
)

// ErrConfig reports a sink that cannot run as configured (an invalid batch
// policy also matches batch.ErrInvalidPolicy).
var ErrConfig = errors.New("sink: invalid configuration")

// Dead-letter headers, added to the original message's own headers.
const (
	HeaderReason    = "dlq-reason"    // why the event was not stored
	HeaderTopic     = "dlq-topic"     // where it came from
	HeaderPartition = "dlq-partition" // its partition there
	HeaderOffset    = "dlq-offset"    // its offset there
)

// DefaultBatchPolicy: ClickHouse likes few large inserts. Each insert makes
// a part per partition touched in the table and in each of its four views,
// and that per-block cost dominates: clickhouse-client itself took 3.7-10x
// longer to insert 40k scans in 10k-row blocks than in one block, and the
// sink went from 5,949 to 11,053 rows/s at 300k scans with 50k-row batches
// instead of 10k (2 cores, shared). At ~1.7 KB an event, 64 MiB closes a
// batch at about 40k rows. Memory: at most Inserts+1 batches are held (see
// Run), each bounded by MaxBytes of events plus their mapped rows, about 3x
// that. A second bounds the delay before an analyst sees a result.
var DefaultBatchPolicy = batch.Policy{MaxItems: 50_000, MaxBytes: 64 << 20, MaxWait: time.Second}

// DefaultInserts is how many batches are inserted at once: two, so that
// one batch's block is built and compressed while the server writes the
// other's.
const DefaultInserts = 2

// Reader is the consumer side: kafka-go's *Reader with a group, explicit commits.
type Reader interface {
	FetchMessage(ctx context.Context) (kafkago.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// Writer is the dead-letter producer: kafka-go's *Writer.
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// Store is where batches go: *store.Store. It must take concurrent calls.
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
	policy  batch.Policy
	inserts int
	log     *slog.Logger
	m       *metrics
	backoff backoff
	drain   time.Duration
}

// Option tunes a Sink.
type Option func(*Sink)

// WithPolicy sets the batch policy (DefaultBatchPolicy otherwise).
func WithPolicy(p batch.Policy) Option { return func(s *Sink) { s.policy = p } }

// WithInserts sets how many batches are inserted at once (DefaultInserts
// otherwise); 1 inserts one batch at a time.
func WithInserts(n int) Option { return func(s *Sink) { s.inserts = n } }

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
		inserts: DefaultInserts,
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
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if s.inserts < 1 {
		return nil, fmt.Errorf("%w: %d inserts at once (at least 1)", ErrConfig, s.inserts)
	}
	return s, nil
}

// job is one gathered batch: what one insert writes and one commit commits.
type job struct {
	rows  []store.Row
	dead  []kafkago.Message // to the dead-letter topic, reason in a header
	msgs  []kafkago.Message // every message of the batch, for the commit
	start time.Time
	err   error // the outcome of the insert and the dead letters
}

// Run consumes until ctx ends, then flushes and commits what it holds
// (within the drain timeout) and returns nil. It returns early only on a
// reader error other than ctx's end.
//
// fill gathers and decodes batches; flushAll inserts up to Inserts of them
// at once and commits them in fetch order. A batch holds its insert slot
// until it is committed, and the hand-over from fill is unbuffered, so at
// most Inserts+1 batches are in memory: while ClickHouse is slow or down,
// fetching stops rather than memory growing. An offset is only ever
// committed after its rows, and those of every earlier batch, are stored.
func (s *Sink) Run(ctx context.Context) error {
	b, err := batch.New(s.policy, s.r.FetchMessage, func(m kafkago.Message) int { return len(m.Value) })
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s.log.Info("sink started", "policy", s.policy.String(), "inserts", s.inserts)
	// The flusher outlives ctx by the drain timeout: the batches in hand
	// should land and be committed rather than be redelivered to the next
	// member. drain starts that clock (on ctx's end or a reader failure).
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var once sync.Once
	drain := func() { once.Do(func() { time.AfterFunc(s.drain, cancel) }) }
	stop := context.AfterFunc(ctx, drain)
	defer stop()

	full := make(chan *job)
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		s.flushAll(fctx, full)
	}()
	err = s.fill(ctx, b, full)
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
func (s *Sink) fill(ctx context.Context, b *batch.Batcher[kafkago.Message], full chan<- *job) error {
	for {
		bt, err := b.Next(ctx)
		if bt.Len() > 0 {
			full <- s.decode(bt) // blocks while every insert slot is taken
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// flushAll inserts up to s.inserts batches at once and commits them one by
// one in the order they came (batch.InOrder: a slot is taken before a batch
// is received and given back once that batch is committed); after a batch
// that could not be stored or committed (the drain ended), nothing more is
// committed.
func (s *Sink) flushAll(ctx context.Context, full <-chan *job) {
	var failed bool
	batch.InOrder(full, s.inserts, func(j *job) { j.err = s.store(ctx, j) }, func(j *job) {
		err := j.err
		if err == nil && !failed {
			err = s.commit(ctx, j)
		}
		if err != nil || failed {
			failed = true
			s.log.Warn("sink: batch not committed before shutdown; it will be redelivered", "events", len(j.msgs), "err", err)
		}
	})
}

// decode turns the batch's messages into rows, in parallel (decoding the
// landmarks and writing them again as JSON costs more CPU than the rest of
// the sink), and marks the events that cannot be decoded or stored for the
// dead-letter topic. Rows keep the messages' order.
func (s *Sink) decode(bt batch.Batch[kafkago.Message]) *job {
	msgs := bt.Items
	rows := make([]store.Row, len(msgs))
	errs := make([]error, len(msgs))
	workers := min(runtime.GOMAXPROCS(0), (len(msgs)+minPerWorker-1)/minPerWorker)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(msgs); i += workers {
				rows[i], errs[i] = s.decodeOne(msgs[i].Value)
			}
		})
	}
	wg.Wait()
	j := &job{rows: rows[:0], msgs: msgs, start: bt.First}
	for i, err := range errs {
		if err != nil {
			j.dead = append(j.dead, deadLetter(msgs[i], err))
			continue
		}
		j.rows = append(j.rows, rows[i])
	}
	return j
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

// store inserts the batch and writes its dead letters, each step retried
// with backoff until it succeeds or ctx ends.
func (s *Sink) store(ctx context.Context, j *job) error {
	if len(j.rows) > 0 {
		start := time.Now()
		if err := s.retry(ctx, "insert", func(ctx context.Context) error { return s.st.InsertRows(ctx, j.rows) }); err != nil {
			return err
		}
		s.m.insertSeconds.Observe(time.Since(start).Seconds())
	}
	if len(j.dead) > 0 {
		for _, d := range j.dead {
			reason, _ := kafka.Header(d, HeaderReason)
			s.log.Warn("sink: event to dead-letter topic", "key", string(d.Key), "reason", reason)
		}
		if err := s.retry(ctx, "dead-letter", func(ctx context.Context) error { return s.dlq.WriteMessages(ctx, j.dead...) }); err != nil {
			return err
		}
	}
	return nil
}

// commit commits a stored batch's offsets, retried like the insert: a
// commit always follows a stored batch and is never skipped.
func (s *Sink) commit(ctx context.Context, j *job) error {
	if err := s.retry(ctx, "commit", func(ctx context.Context) error { return s.r.CommitMessages(ctx, j.msgs...) }); err != nil {
		return err
	}
	s.m.stored.Add(float64(len(j.rows)))
	s.m.dead.Add(float64(len(j.dead)))
	s.m.batches.Inc()
	s.m.batchRows.Observe(float64(len(j.msgs)))
	s.m.lastFlush.SetToCurrentTime()
	s.log.Debug("sink: batch committed", "events", len(j.msgs), "stored", len(j.rows), "dead", len(j.dead),
		"took", time.Since(j.start).String())
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
