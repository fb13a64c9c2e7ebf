// Package processor is the inference consumer: it reads captures from the
// captures topic in a consumer group, gathers them into batches (internal/
// batch, Triton-style), decodes their Avro, runs the engine on the whole
// batch (the engine decodes the images in parallel), writes one ScanResult
// per capture to the results topic and dead letters for the captures it
// cannot read or analyse, and only once every one of those writes is
// acknowledged commits the batch's offsets.
//
// Three stages run as a pipeline: gather | analyse | deliver and commit.
// Gather and deliver are single goroutines, so batches are fetched and
// delivered in order. Analyse runs up to K batches at once (WithBatchesInFlight,
// default 2): a batch of one capture, the usual case below full load, runs
// on one engine worker, and without a second batch beside it the other core
// would idle while a capture that arrived meanwhile queues behind it. The
// analysed batches are handed to deliver in fetch order (a later batch that
// finishes first waits for the earlier ones), so commits stay in order.
// The next batch is taken from gather as soon as an analysis slot is free.
// Memory stays bounded: one batch being gathered, one gathered waiting for
// a slot, K in analysis (or analysed, waiting for an earlier one), one
// analysed waiting for deliver and the one being delivered; a slow broker
// backs the pipeline up into Kafka, where lag belongs.
//
// Delivery is at-least-once; consumers de-duplicate by scan id. The rules:
//
//   - A batch's offsets are committed only after its results and dead
//     letters are acknowledged (acks=all). If a write keeps failing, the
//     processor retries it and commits nothing behind it: a later batch is
//     never committed ahead of an earlier one that was not delivered.
//   - Rebalances. kafka-go's Reader hands CommitMessages to the commit loop
//     of its CURRENT generation: an offset fetched in an older generation is
//     committed with the new generation's id, which the broker accepts even
//     when the partition now belongs to another member (the classic group
//     protocol checks the generation, not the assignment). Such a commit
//     would be harmless for loss (it only names offsets whose results are
//     acknowledged) but could rewind or race the new owner's position. So
//     every fetched message is tagged with the reader's rebalance count at
//     fetch time, and at commit the processor drops the messages fetched
//     before the latest rebalance: the new generation restarted every
//     partition from its committed offset, so those captures are read again
//     (by us or by the new owner) and only duplicated, never lost. kafka-go
//     itself discards prefetched messages of an older generation.
//     The one window left: a commit sent while the group is mid-rebalance
//     (the count not yet bumped) waits for the next generation and goes out
//     with it; again it can only duplicate work, never skip it.
//   - A capture that cannot be decoded (bad Avro) or analysed (bad image)
//     goes to the dead-letter topic, key = its capture id when known, with
//     its reason and origin in headers; the rest of its batch goes on. A
//     failure of the whole engine call (not a context end) is retried image
//     by image, so one poisonous image cannot block its partition.
//   - On shutdown (Run's context ends) the batches in hand are finished,
//     delivered and committed within the drain timeout; then Run returns
//     and the caller closes the reader, which leaves the group.
package processor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"liveness/inference"
	"liveness/internal/batch"
	"liveness/internal/scan"
)

// ErrConfig reports a processor that cannot run as configured.
var ErrConfig = errors.New("processor: invalid configuration")

// Reader is the consumer side: kafka-go's *Reader with a GroupID and
// explicit commits (internal/kafka.NewReader).
type Reader interface {
	FetchMessage(ctx context.Context) (kafkago.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafkago.Message) error
	Stats() kafkago.ReaderStats
}

// Writer is a producer: kafka-go's *Writer (acks=all, synchronous).
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kafkago.Message) error
}

// Codec reads captures and writes results: *avro.Codec.
type Codec interface {
	DecodeCapture(b []byte) (*scan.Capture, error)
	EncodeResult(v *scan.ScanResult) ([]byte, error)
}

// Analyzer is the inference engine: *inference.Engine. Analyze returns one
// Result per image; per-image failures are in Result.Err.
type Analyzer interface {
	Analyze(ctx context.Context, images [][]byte) ([]inference.Result, error)
	ModelVersion() string
}

// DefaultPolicy: 16 captures keep both of a CPU node's engine workers busy
// without making the last capture of a batch wait long; 64 MiB bounds the
// memory of a batch of large phone photos. The wait is paid in full by
// every capture below full load (a batch of one closes by wait), while at
// full load batches still fill from the reader's queue while the analysis
// slots are busy, so it is short. With two batches in flight, 10 ms against
// 25 ms took the half-load sync p50/p99 from 131/260 to 110/229 ms at an
// unchanged throughput ratio (0.939 against 0.949; bench-pipeline, load ~3);
// 1 ms against 10 ms, four runs each in one sitting, at load 2-3.6: half-load
// p50 median 101 against 105.5 ms, p99 median 219.5 against 230 ms, mean
// batch 5.65-5.73 against 5.87-5.95, throughput ratio 0.798-0.978 against
// 0.851-0.924 (the run-to-run spread of the same code is wider than any
// difference between the two).
var DefaultPolicy = batch.Policy{MaxItems: 16, MaxBytes: 64 << 20, MaxWait: time.Millisecond}

// Processor is one consumer-group member. Build it with New, run it with Run.
type Processor struct {
	r       Reader
	results Writer
	dlq     Writer
	codec   Codec
	engine  Analyzer
	topic   string // source topic, for the dead-letter headers' fallback
	policy  batch.Policy
	log     *slog.Logger
	m       *metrics
	gens    *generations
	drain   time.Duration
	backoff backoff
	slots   int // batches analysed at once
	now     func() time.Time
}

// Option tunes a Processor.
type Option func(*Processor)

// WithPolicy sets the batch policy (DefaultPolicy otherwise).
func WithPolicy(p batch.Policy) Option { return func(pr *Processor) { pr.policy = p } }

// DefaultBatchesInFlight keeps both cores of a CPU node busy with small
// batches and hides the tail of each batch (its last image on one worker).
// Measured with make bench-pipeline on the shared 2-core machine (load
// 2.6-4, so noisy): pipeline / engine-alone throughput 0.92, 0.86, 0.82
// with 2 against 0.78, 0.63 with 1. The half-load p99 did not move beyond
// the noise (254-290 ms against 244-298 ms): at constant arrivals a lone
// capture seldom waits for another; its tail is the large images' own
// analysis on one core, the batch wait (25 ms then) and the Kafka hops.
const DefaultBatchesInFlight = 2

// WithBatchesInFlight sets how many batches are analysed at once (k >= 1;
// DefaultBatchesInFlight otherwise). 1 is the strict one-batch-at-a-time
// pipeline. Results are delivered and committed in fetch order whatever k.
func WithBatchesInFlight(k int) Option { return func(pr *Processor) { pr.slots = k } }

// WithLogger sets the logger. The processor logs ids, counts and reasons,
// never image bytes or landmarks.
func WithLogger(l *slog.Logger) Option { return func(pr *Processor) { pr.log = l } }

// WithMetrics registers the processor's metrics on reg (service.Admin's
// Registry). The engine's per-stage timings are exported too when the
// Analyzer has Timings() (as *inference.Engine does).
func WithMetrics(reg Registerer) Option { return func(pr *Processor) { pr.m = newMetrics(reg) } }

// WithDrainTimeout bounds finishing the batch in hand after Run's context
// ends (default 20 s, inside Kubernetes' 30 s grace period).
func WithDrainTimeout(d time.Duration) Option { return func(pr *Processor) { pr.drain = d } }

// WithBackoff sets the first and the longest wait between write attempts
// (default 100 ms doubling to 10 s).
func WithBackoff(first, max time.Duration) Option {
	return func(pr *Processor) { pr.backoff = backoff{first: first, max: max} }
}

// WithSourceTopic names the captures topic in dead-letter headers when a
// message does not carry its topic (kafka-go's fetched messages do).
func WithSourceTopic(t string) Option { return func(pr *Processor) { pr.topic = t } }

// New builds a processor reading r, analysing with engine, writing results
// and dead letters.
func New(r Reader, codec Codec, engine Analyzer, results, dlq Writer, opts ...Option) (*Processor, error) {
	if r == nil || codec == nil || engine == nil || results == nil || dlq == nil {
		return nil, fmt.Errorf("%w: reader, codec, engine and both writers are required", ErrConfig)
	}
	p := &Processor{
		r: r, codec: codec, engine: engine, results: results, dlq: dlq,
		policy:  DefaultPolicy,
		log:     slog.Default(),
		drain:   20 * time.Second,
		backoff: backoff{first: 100 * time.Millisecond, max: 10 * time.Second},
		now:     time.Now,
		slots:   DefaultBatchesInFlight,
	}
	for _, o := range opts {
		o(p)
	}
	if p.slots < 1 {
		return nil, fmt.Errorf("%w: batches in flight %d (must be >= 1)", ErrConfig, p.slots)
	}
	if err := p.policy.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if p.m == nil {
		p.m = newMetrics(nil)
	}
	if t, ok := engine.(timed); ok {
		p.m.watchEngine(t)
	}
	p.gens = &generations{r: r, m: p.m}
	return p, nil
}

// fetched is a message with the reader's rebalance count when it was fetched.
type fetched struct {
	msg kafkago.Message
	gen uint64
}

// job is a gathered batch on its way through the pipeline.
type job struct {
	b       batch.Batch[fetched]
	results []kafkago.Message
	dead    []kafkago.Message
	err     error // the batch could not be analysed (the drain ended): not delivered
}

// Run consumes until ctx ends, then finishes the batch in hand (within the
// drain timeout) and returns nil. It returns an error when the reader fails
// for another reason, or when a batch could not be delivered before the
// drain ended (nothing behind it was committed). The caller closes the
// reader afterwards, which commits nothing more and leaves the group.
func (p *Processor) Run(ctx context.Context) error {
	b, err := batch.New(p.policy, p.fetch, func(f fetched) int { return len(f.msg.Value) })
	if err != nil {
		return err
	}
	// work outlives ctx by the drain timeout: the batch in hand is finished
	// with it after SIGTERM.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(p.drain, cancelWork) })
	defer stopDrain()
	stopLag := p.gens.poll(ctx, 5*time.Second)
	defer stopLag()

	p.log.Info("processor started", "policy", p.policy.String(), "batchesInFlight", p.slots)
	gathered := make(chan *job, 1)
	analysed := make(chan *job, 1)
	var wg sync.WaitGroup
	var gatherErr, deliverErr error
	wg.Add(3)
	go func() { defer wg.Done(); defer close(gathered); gatherErr = p.gather(ctx, b, gathered) }()
	go func() { defer wg.Done(); defer close(analysed); p.analyseAll(work, gathered, analysed) }()
	go func() { defer wg.Done(); deliverErr = p.deliverAll(work, analysed, cancelWork) }()
	wg.Wait()
	p.log.Info("processor stopped")
	if deliverErr != nil {
		return deliverErr
	}
	if gatherErr != nil && ctx.Err() == nil {
		return fmt.Errorf("processor: fetch: %w", gatherErr)
	}
	return nil
}

// fetch is the batcher's source: one message, tagged with its generation.
// A broker that goes away is waited for with backoff, not given up on: the
// processor resumes by itself when Kafka is back. Only the end of ctx or a
// closed reader (io.EOF) stops it.
func (p *Processor) fetch(ctx context.Context) (fetched, error) {
	for attempt := 1; ; attempt++ {
		m, err := p.r.FetchMessage(ctx)
		if err == nil {
			return fetched{msg: m, gen: p.gens.current()}, nil
		}
		if ctx.Err() != nil || errors.Is(err, io.EOF) {
			return fetched{}, err
		}
		p.m.retry("fetch")
		d := p.backoff.delay(attempt)
		p.log.Warn("fetch failed; retrying", "err", err, "attempt", attempt, "in", d)
		if !sleep(ctx, d) {
			return fetched{}, ctx.Err()
		}
	}
}

// gather hands batches on until ctx ends or the reader fails; the batch in
// hand at that point is handed on too.
func (p *Processor) gather(ctx context.Context, b *batch.Batcher[fetched], out chan<- *job) error {
	for {
		bt, err := b.Next(ctx)
		if bt.Len() > 0 {
			p.m.observeBatch(bt.Len(), bt.Wait(), string(bt.Reason))
			// Handing on is not cancelled by ctx: a gathered batch is finished.
			out <- &job{b: bt}
		}
		if err != nil {
			return err
		}
	}
}

// analyseAll analyses up to p.slots batches at once and hands them on in
// the order they came (batch.InOrder: a slot is taken before a batch is
// taken from in, so a gathered batch waits in the channel, and given back
// once the batch is handed on). With one slot this is the
// one-batch-at-a-time stage.
func (p *Processor) analyseAll(ctx context.Context, in <-chan *job, out chan<- *job) {
	batch.InOrder(in, p.slots, func(j *job) { p.analyse(ctx, j) }, func(j *job) { out <- j })
}

// deliverAll writes and commits each batch in order. When a batch cannot
// be delivered (the drain ended), it stops the pipeline: nothing behind an
// undelivered batch may be committed.
func (p *Processor) deliverAll(ctx context.Context, in <-chan *job, stop context.CancelFunc) error {
	var failed error
	for j := range in {
		if failed != nil {
			continue // drain the pipeline without committing
		}
		if err := p.deliver(ctx, j); err != nil {
			failed = err
			stop()
		}
	}
	return failed
}
