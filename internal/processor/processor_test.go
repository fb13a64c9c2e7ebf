package processor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/inference"
	"liveness/internal/avro"
	"liveness/internal/batch"
	"liveness/internal/kafka"
	"liveness/internal/scan"
	"liveness/internal/tracing"
)

// These are fast loop checks with in-memory fakes of the reader, the writers
// and the engine; the integration tests run the same loop on the real broker
// with the real engine.

type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	e.log = append(e.log, s)
	e.mu.Unlock()
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

type fakeReader struct {
	fetchFails atomic.Int64 // fail this many fetches first, as a broker that is away
	ch         chan kafkago.Message
	ev         *events
	mu         sync.Mutex
	committed  []kafkago.Message
	rebalances atomic.Int64
}

func (r *fakeReader) FetchMessage(ctx context.Context) (kafkago.Message, error) {
	if r.fetchFails.Add(-1) >= 0 {
		return kafkago.Message{}, errors.New("dial tcp 127.0.0.1:9092: connect: connection refused")
	}
	select {
	case m := <-r.ch:
		return m, nil
	case <-ctx.Done():
		return kafkago.Message{}, ctx.Err()
	}
}

func (r *fakeReader) CommitMessages(_ context.Context, msgs ...kafkago.Message) error {
	r.mu.Lock()
	r.committed = append(r.committed, msgs...)
	r.mu.Unlock()
	for _, m := range msgs {
		r.ev.add("commit " + strconv.FormatInt(m.Offset, 10))
	}
	return nil
}

func (r *fakeReader) Stats() kafkago.ReaderStats {
	return kafkago.ReaderStats{Rebalances: r.rebalances.Swap(0)}
}

func (r *fakeReader) commits() map[int64]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int64]bool{}
	for _, m := range r.committed {
		out[m.Offset] = true
	}
	return out
}

type fakeWriter struct {
	name  string
	ev    *events
	fails atomic.Int64 // fail this many calls first
	mu    sync.Mutex
	msgs  []kafkago.Message
}

func (w *fakeWriter) WriteMessages(_ context.Context, msgs ...kafkago.Message) error {
	if w.fails.Add(-1) >= 0 {
		return errors.New("broker away")
	}
	w.mu.Lock()
	w.msgs = append(w.msgs, msgs...)
	w.mu.Unlock()
	for _, m := range msgs {
		w.ev.add(w.name + " " + string(m.Key))
	}
	return nil
}

func (w *fakeWriter) got() []kafkago.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]kafkago.Message(nil), w.msgs...)
}

// fakeEngine: an image "bad..." fails alone; "crash..." fails the whole call;
// a call with a "slow..." image takes 4 × delay. It records the most calls
// that ran at once, and the first image of each call as the call ends.
type fakeEngine struct {
	calls    atomic.Int64
	delay    time.Duration
	running  atomic.Int64
	peak     atomic.Int64
	finished events
}

func (e *fakeEngine) ModelVersion() string { return "test-models" }

func (e *fakeEngine) Analyze(ctx context.Context, images [][]byte) ([]inference.Result, error) {
	e.calls.Add(1)
	n := e.running.Add(1)
	defer e.running.Add(-1)
	for p := e.peak.Load(); n > p && !e.peak.CompareAndSwap(p, n); p = e.peak.Load() {
	}
	d := e.delay
	for _, im := range images {
		if bytes.HasPrefix(im, []byte("slow")) {
			d = 4 * e.delay
		}
	}
	if d > 0 {
		time.Sleep(d)
	}
	if len(images) > 0 {
		defer e.finished.add(string(images[0]))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]inference.Result, len(images))
	for i, im := range images {
		switch {
		case bytes.HasPrefix(im, []byte("crash")):
			if len(images) > 1 {
				return nil, errors.New("model failure")
			}
			out[i].Err = errors.New("model failure")
		case bytes.HasPrefix(im, []byte("bad")):
			out[i].Err = errors.New("image: not an image")
		default:
			out[i] = inference.Result{Width: 640, Height: 480, Analysis: scan.Analysis{Result: scan.ResultReal, LivenessScore: 0.9,
				Luminance: scan.LuminanceNormal, Quality: scan.QualityHigh}}
		}
	}
	return out, nil
}

type rig struct {
	t       *testing.T
	ev      *events
	r       *fakeReader
	results *fakeWriter
	dlq     *fakeWriter
	eng     *fakeEngine
	codec   *avro.Codec
	p       *Processor
	offset  int64
	keys    map[int64]string // offset -> key
}

func newRig(t *testing.T, opts ...Option) *rig {
	t.Helper()
	ev := &events{}
	codec, err := avro.New()
	if err != nil {
		t.Fatal(err)
	}
	g := &rig{t: t, ev: ev, codec: codec, eng: &fakeEngine{},
		r:       &fakeReader{ch: make(chan kafkago.Message, 1000), ev: ev},
		results: &fakeWriter{name: "result", ev: ev},
		dlq:     &fakeWriter{name: "dead", ev: ev},
	}
	g.r.rebalances.Store(1) // the first join
	opts = append([]Option{WithPolicy(batch.Policy{MaxItems: 4, MaxBytes: 1 << 20, MaxWait: 20 * time.Millisecond}),
		WithBackoff(time.Millisecond, 5*time.Millisecond), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	g.p, err = New(g.r, codec, g.eng, g.results, g.dlq, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// capture enqueues a capture whose image is img; it returns its id.
func (g *rig) capture(img string) uuid.UUID {
	g.t.Helper()
	c := &scan.Capture{ID: uuid.New(), CompanyID: uuid.New(), CreatedByID: "user-1", Reference: "ref-" + img,
		SalesChannel: scan.ChannelMobile, ReceivedAt: time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond),
		ContentType: "image/jpeg", Image: []byte(img)}
	v, err := g.codec.EncodeCapture(c)
	if err != nil {
		g.t.Fatal(err)
	}
	g.raw(c.ID.String(), v)
	return c.ID
}

func (g *rig) raw(key string, value []byte) {
	m := kafkago.Message{Topic: "captures", Partition: 0, Offset: g.offset, Key: []byte(key), Value: value,
		Headers: []kafkago.Header{{Key: tracing.Header, Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}}}
	if g.keys == nil {
		g.keys = map[int64]string{}
	}
	g.keys[g.offset] = key
	g.offset++
	g.r.ch <- m
}

// run runs the processor until cond holds, then stops it and returns Run's error.
func (g *rig) run(cond func() bool) error {
	g.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			g.t.Fatalf("condition not reached; events: %v", g.ev.all())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	return <-done
}

func TestResultsDeadLettersThenCommit(t *testing.T) {
	g := newRig(t)
	good := []uuid.UUID{g.capture("img-1"), g.capture("img-2")}
	badImage := g.capture("bad-image")
	g.raw("not-avro-key", []byte("not avro"))
	good = append(good, g.capture("img-3"))
	const total = 5
	if err := g.run(func() bool { return len(g.r.commits()) == total }); err != nil {
		t.Fatal(err)
	}
	res := g.results.got()
	if len(res) != len(good) {
		t.Fatalf("%d results, want %d", len(res), len(good))
	}
	for i, m := range res {
		sr, err := g.codec.DecodeResult(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		if sr.ID != good[i] || string(m.Key) != good[i].String() {
			t.Errorf("result %d: id %s key %s, want %s", i, sr.ID, m.Key, good[i])
		}
		if sr.ModelVersion != "test-models" || sr.ImageWidth != 640 || sr.Version != 1 || sr.SalesChannel != scan.ChannelMobile ||
			sr.CreatedByID != "user-1" || sr.ElapsedTime < 1 || sr.ElapsedTime > 10 || sr.Result != scan.ResultReal {
			t.Errorf("result %d fields: %+v", i, sr)
		}
		tp, _ := kafka.Header(m, tracing.Header)
		if p, ok := tracing.Parse(tp); !ok || p.TraceID != "0af7651916cd43dd8448eb211c80319c" {
			t.Errorf("result %d traceparent %q does not continue the capture's trace", i, tp)
		}
	}
	dead := g.dlq.got()
	if len(dead) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dead))
	}
	byKey := map[string]kafkago.Message{}
	for _, d := range dead {
		byKey[string(d.Key)] = d
	}
	for key, want := range map[string]string{badImage.String(): "analyse: ", "not-avro-key": "decode: "} {
		d, ok := byKey[key]
		if !ok {
			t.Fatalf("no dead letter keyed %s; got %v", key, byKey)
		}
		reason, _ := kafka.Header(d, kafka.HeaderDLQReason)
		topic, _ := kafka.Header(d, kafka.HeaderDLQTopic)
		off, _ := kafka.Header(d, kafka.HeaderDLQOffset)
		if len(reason) <= len(want) || reason[:len(want)] != want || topic != "captures" || off == "" {
			t.Errorf("dead letter %s: reason %q topic %q offset %q", key, reason, topic, off)
		}
	}
	// Every commit comes after the write of what it commits.
	assertWritesBeforeCommits(t, g.ev.all(), g.keys)
}

// The broker is away for the first fetches: the processor waits for it and
// goes on, it does not exit.
func TestFetchWaitsForTheBroker(t *testing.T) {
	g := newRig(t)
	g.r.fetchFails.Store(3)
	g.capture("img-1")
	if err := g.run(func() bool { return len(g.r.commits()) == 1 }); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if g.r.fetchFails.Load() >= 0 {
		t.Fatal("the failing fetches were not all tried")
	}
}

// The broker refuses the results twice: the commit waits for the third,
// acknowledged attempt.
func TestCommitWaitsForAcknowledgedResults(t *testing.T) {
	g := newRig(t)
	g.results.fails.Store(2)
	id := g.capture("img-1")
	if err := g.run(func() bool { return len(g.r.commits()) == 1 }); err != nil {
		t.Fatal(err)
	}
	ev := g.ev.all()
	if len(ev) != 2 || ev[0] != "result "+id.String() || ev[1] != "commit 0" {
		t.Fatalf("events %v, want the result then the commit", ev)
	}
}

// A batch that the whole engine call fails on is retried image by image:
// only the poisonous image is dead-lettered.
func TestEngineFailureIsIsolatedToItsImage(t *testing.T) {
	g := newRig(t)
	g.capture("img-1")
	crash := g.capture("crash-me")
	g.capture("img-2")
	if err := g.run(func() bool { return len(g.r.commits()) == 3 }); err != nil {
		t.Fatal(err)
	}
	if n := len(g.results.got()); n != 2 {
		t.Fatalf("%d results, want 2", n)
	}
	dead := g.dlq.got()
	if len(dead) != 1 || string(dead[0].Key) != crash.String() {
		t.Fatalf("dead letters %v, want the crashing capture only", dead)
	}
}

// Messages fetched before a rebalance are delivered but not committed: the
// new generation redelivers them, so a commit from us could only race the
// new owner.
func TestNoCommitAcrossARebalance(t *testing.T) {
	g := newRig(t)
	g.eng.delay = 50 * time.Millisecond
	g.capture("img-1")
	// Rebalance while the first batch is in the engine.
	go func() { time.Sleep(25 * time.Millisecond); g.r.rebalances.Add(1) }()
	err := g.run(func() bool { return len(g.results.got()) == 1 })
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if c := g.r.commits(); len(c) != 0 {
		t.Fatalf("committed %v across a rebalance", c)
	}
	// A capture fetched after the rebalance is committed as usual.
	g.capture("img-2")
	if err := g.run(func() bool { return g.r.commits()[1] }); err != nil {
		t.Fatal(err)
	}
}

// On shutdown the batch in hand is finished: delivered and committed.
func TestShutdownFinishesTheBatchInHand(t *testing.T) {
	g := newRig(t, WithPolicy(batch.Policy{MaxItems: 100, MaxBytes: 1 << 20, MaxWait: time.Hour}))
	g.eng.delay = 30 * time.Millisecond
	for i := range 3 {
		g.capture(fmt.Sprint("img-", i))
	}
	// Stop as soon as the three are fetched (the batch waits an hour to fill).
	err := g.run(func() bool { return len(g.r.ch) == 0 })
	if err != nil {
		t.Fatal(err)
	}
	if n, c := len(g.results.got()), len(g.r.commits()); n != 3 || c != 3 {
		t.Fatalf("after shutdown: %d results, %d commits; want 3 and 3", n, c)
	}
}

// When results cannot be delivered before the drain ends, nothing is
// committed and Run says so.
func TestUndeliveredBatchIsNotCommitted(t *testing.T) {
	g := newRig(t, WithDrainTimeout(50*time.Millisecond))
	g.results.fails.Store(1 << 40)
	g.capture("img-1")
	g.capture("img-2")
	err := g.run(func() bool { return len(g.r.ch) == 0 })
	if !errors.Is(err, errNotDelivered) {
		t.Fatalf("Run: %v, want errNotDelivered", err)
	}
	if c := g.r.commits(); len(c) != 0 {
		t.Fatalf("committed %v without results", c)
	}
}

func assertWritesBeforeCommits(t *testing.T, ev []string, keys map[int64]string) {
	t.Helper()
	written := map[string]bool{}
	for _, e := range ev {
		kind, arg, _ := strings.Cut(e, " ")
		if kind != "commit" {
			written[arg] = true
			continue
		}
		off, _ := strconv.ParseInt(arg, 10, 64)
		if !written[keys[off]] {
			t.Fatalf("offset %d committed before its result or dead letter was written: %v", off, ev)
		}
	}
}

// With K batches in flight and a slow engine, K batches are analysed at the
// same time, never more; results and commits still follow fetch order.
func TestBatchesInFlightOverlapUpToK(t *testing.T) {
	for _, k := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("K=", k), func(t *testing.T) {
			g := newRig(t, WithBatchesInFlight(k),
				WithPolicy(batch.Policy{MaxItems: 1, MaxBytes: 1 << 20, MaxWait: 20 * time.Millisecond}))
			g.eng.delay = 40 * time.Millisecond
			const total = 6
			for i := range total {
				g.capture(fmt.Sprint("img-", i))
			}
			if err := g.run(func() bool { return len(g.r.commits()) == total }); err != nil {
				t.Fatal(err)
			}
			if peak := g.eng.peak.Load(); peak != int64(k) {
				t.Fatalf("at most %d engine calls ran at once, want %d", peak, k)
			}
			assertInFetchOrder(t, g)
		})
	}
}

// The second batch finishes analysing before the first: it is still
// written and committed after the first.
func TestCommitsFollowFetchOrderWhenALaterBatchFinishesFirst(t *testing.T) {
	g := newRig(t, WithBatchesInFlight(2),
		WithPolicy(batch.Policy{MaxItems: 1, MaxBytes: 1 << 20, MaxWait: 20 * time.Millisecond}))
	g.eng.delay = 25 * time.Millisecond
	g.capture("slow-0") // 100 ms
	g.capture("img-1")  // 25 ms, beside it
	g.capture("img-2")
	if err := g.run(func() bool { return len(g.r.commits()) == 3 }); err != nil {
		t.Fatal(err)
	}
	if f := g.eng.finished.all(); len(f) != 3 || f[0] != "img-1" {
		t.Fatalf("engine finished %v; the test needs img-1 to finish before slow-0", f)
	}
	assertInFetchOrder(t, g)
}

// A failed delivery stops commits behind it even when later batches were
// analysed at the same time: nothing after an undelivered batch is
// committed.
func TestNothingCommittedBehindAnUndeliveredBatch(t *testing.T) {
	g := newRig(t, WithBatchesInFlight(2), WithDrainTimeout(100*time.Millisecond),
		WithPolicy(batch.Policy{MaxItems: 1, MaxBytes: 1 << 20, MaxWait: 20 * time.Millisecond}))
	g.eng.delay = 10 * time.Millisecond
	g.dlq.fails.Store(1 << 40) // the first batch's dead letter never goes through
	g.capture("bad-0")
	g.capture("img-1")
	g.capture("img-2")
	err := g.run(func() bool { return len(g.r.ch) == 0 && g.eng.calls.Load() >= 2 })
	if !errors.Is(err, errNotDelivered) {
		t.Fatalf("Run: %v, want errNotDelivered", err)
	}
	if c := g.r.commits(); len(c) != 0 {
		t.Fatalf("committed %v behind an undelivered batch", c)
	}
}

func TestBatchesInFlightMustBePositive(t *testing.T) {
	codec, err := avro.New()
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(&fakeReader{}, codec, &fakeEngine{}, &fakeWriter{}, &fakeWriter{}, WithBatchesInFlight(0))
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("New with 0 batches in flight: %v, want ErrConfig", err)
	}
}

// assertInFetchOrder checks that results are written, and offsets
// committed, in offset order, each commit after its result.
func assertInFetchOrder(t *testing.T, g *rig) {
	t.Helper()
	var want []string
	for off := range g.offset {
		want = append(want, "result "+g.keys[off], "commit "+strconv.FormatInt(off, 10))
	}
	if got := g.ev.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events out of fetch order:\n got %v\nwant %v", got, want)
	}
}
