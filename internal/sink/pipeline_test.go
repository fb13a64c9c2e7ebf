package sink

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/batch"
	"liveness/internal/scan"
	"liveness/internal/store"
)

// fakeReader serves n messages whose value is their offset, then blocks
// until ctx ends. It records fetches and commits.
type fakeReader struct {
	mu      sync.Mutex
	n       int64
	next    int64
	commits [][]int64 // offsets per CommitMessages call
	events  *[]string
}

func (r *fakeReader) FetchMessage(ctx context.Context) (kafkago.Message, error) {
	r.mu.Lock()
	if r.next < r.n {
		v := binary.BigEndian.AppendUint64(nil, uint64(r.next))
		m := kafkago.Message{Topic: "results", Offset: r.next, Value: v}
		r.next++
		r.mu.Unlock()
		return m, nil
	}
	r.mu.Unlock()
	<-ctx.Done()
	return kafkago.Message{}, ctx.Err()
}

func (r *fakeReader) CommitMessages(_ context.Context, msgs ...kafkago.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	offs := make([]int64, len(msgs))
	for i, m := range msgs {
		offs[i] = m.Offset
	}
	r.commits = append(r.commits, offs)
	*r.events = append(*r.events, "commit")
	return nil
}

func (r *fakeReader) fetched() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// offsetDecoder makes a valid scan of each value (an offset); offsets
// divisible by 7 are undecodable.
type offsetDecoder struct{}

func (offsetDecoder) DecodeResult(b []byte) (*scan.ScanResult, error) {
	off := binary.BigEndian.Uint64(b)
	if off%7 == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[8:], off)
	return &scan.ScanResult{Scan: scan.Scan{ID: id, CompanyID: uuid.New(), CreatedDate: time.Unix(1_770_000_000, 0),
		SalesChannel: scan.ChannelWeb, Analysis: scan.Analysis{Result: scan.ResultNoFace}}, Version: 1}, nil
}

// gateStore blocks every insert until gate yields, recording the batches
// (under the reader's lock, so that events holds one order of both).
type gateStore struct {
	gate    chan struct{}
	mu      *sync.Mutex
	batches []int
	events  *[]string
}

func (s *gateStore) InsertRows(ctx context.Context, rows []store.Row) error {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, len(rows))
	*s.events = append(*s.events, "insert")
	return nil
}

type nopWriter struct{}

func (nopWriter) WriteMessages(context.Context, ...kafkago.Message) error { return nil }

// While the inserts hang, the sink fills one more batch than it inserts at
// once and then stops fetching; once inserts go through, batches are
// committed in fetch order, each after its own insert.
func TestPipelineBoundsMemoryAndCommitsInOrder(t *testing.T) {
	for _, inserts := range []int{1, 2} {
		t.Run(fmt.Sprintf("inserts=%d", inserts), func(t *testing.T) {
			var events []string
			r := &fakeReader{n: 95, events: &events}
			st := &gateStore{gate: make(chan struct{}), mu: &r.mu, events: &events}
			s := newTestSink(t, r, st, WithInserts(inserts))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()

			time.Sleep(300 * time.Millisecond) // the inserts hang meanwhile
			if n, want := r.fetched(), int64(10*(inserts+1)); n != want {
				t.Fatalf("fetched %d events while the inserts hang, want %d (the batches in flight and the next one)", n, want)
			}
			r.mu.Lock()
			if len(r.commits) != 0 {
				t.Fatalf("committed %v before any insert", r.commits)
			}
			r.mu.Unlock()
			close(st.gate) // inserts go through from now on
			waitCommits(t, r, 95, 9)
			cancel() // the last, partial batch (5 events) is flushed on the way out
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			checkCommitOrder(t, r, 95, 10)
			inserted, committed := 0, 0
			for _, e := range events {
				if e == "insert" {
					inserted++
				} else if committed++; committed > inserted {
					t.Fatalf("commit %d before its insert: %v", committed, events)
				}
			}
			stored := 0
			for _, n := range st.batches {
				stored += n
			}
			if stored != 95-14 { // offsets 0, 7, ..., 91 are dead letters
				t.Fatalf("stored %d rows, want %d", stored, 95-14)
			}
		})
	}
}

// reorderStore finishes its first insert only after its second: two
// batches are inserted at once and stored out of order.
type reorderStore struct {
	mu                  sync.Mutex
	calls, now, maxSeen int
	second              chan struct{} // closed when the second insert is done
}

func (s *reorderStore) InsertRows(ctx context.Context, _ []store.Row) error {
	s.mu.Lock()
	s.calls++
	call := s.calls
	s.now++
	s.maxSeen = max(s.maxSeen, s.now)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.now--; s.mu.Unlock() }()
	switch call {
	case 1:
		select {
		case <-s.second:
		case <-ctx.Done():
			return ctx.Err()
		}
	case 2:
		close(s.second)
	}
	return nil
}

// With two inserts at once, the second batch is stored first, yet the
// commits follow fetch order.
func TestInsertsOverlapAndCommitInFetchOrder(t *testing.T) {
	var events []string
	r := &fakeReader{n: 95, events: &events}
	st := &reorderStore{second: make(chan struct{})}
	s := newTestSink(t, r, st, WithInserts(2))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitCommits(t, r, 95, 9)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkCommitOrder(t, r, 95, 10)
	if st.maxSeen != 2 {
		t.Fatalf("at most %d inserts ran at once, want 2", st.maxSeen)
	}
}

func newTestSink(t *testing.T, r Reader, st Store, opts ...Option) *Sink {
	t.Helper()
	opts = append([]Option{WithPolicy(batch.Policy{MaxItems: 10, MaxBytes: 1 << 20, MaxWait: time.Minute}),
		WithLogger(slog.New(slog.DiscardHandler)), WithDrainTimeout(5 * time.Second)}, opts...)
	s, err := New(r, offsetDecoder{}, st, nopWriter{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitCommits waits until n events are fetched and at least commits
// commits are made.
func waitCommits(t *testing.T, r *fakeReader, n int64, commits int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for r.fetched() < n || func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.commits) < commits }() {
		if time.Now().After(deadline) {
			t.Fatalf("fetched %d, commits %v", r.fetched(), r.commits)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkCommitOrder checks that offsets 0..n-1 were committed once each, in
// order, in the given number of commits.
func checkCommitOrder(t *testing.T, r *fakeReader, n int64, commits int) {
	t.Helper()
	var want int64
	for _, offs := range r.commits {
		for _, o := range offs {
			if o != want {
				t.Fatalf("commits out of order: %v", r.commits)
			}
			want++
		}
	}
	if want != n || len(r.commits) != commits {
		t.Fatalf("committed %d events in %d commits, want %d in %d", want, len(r.commits), n, commits)
	}
}
