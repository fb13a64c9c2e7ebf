package sink

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

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

// While an insert hangs, the sink fills one more batch and then stops
// fetching; once inserts go through, batches are stored and committed in
// fetch order, each commit after its own insert.
func TestPipelineBoundsMemoryAndCommitsInOrder(t *testing.T) {
	var events []string
	r := &fakeReader{n: 95, events: &events}
	st := &gateStore{gate: make(chan struct{}), mu: &r.mu, events: &events}
	s, err := New(r, offsetDecoder{}, st, nopWriter{}, WithPolicy(BatchPolicy{MaxRows: 10, MaxBytes: 1 << 20, MaxWait: time.Minute}),
		WithLogger(slog.New(slog.DiscardHandler)), WithDrainTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	time.Sleep(300 * time.Millisecond) // the first insert hangs meanwhile
	if n := r.fetched(); n != 20 {
		t.Fatalf("fetched %d events while the first insert hangs, want 20 (the batch in flight and the next one)", n)
	}
	r.mu.Lock()
	if len(r.commits) != 0 {
		t.Fatalf("committed %v before any insert", r.commits)
	}
	r.mu.Unlock()
	close(st.gate) // inserts go through from now on
	deadline := time.Now().Add(5 * time.Second)
	for r.fetched() < 95 || func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.commits) < 9 }() {
		if time.Now().After(deadline) {
			t.Fatalf("fetched %d, commits %v", r.fetched(), r.commits)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel() // the last, partial batch (5 events) is flushed on the way out
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, offs := range r.commits {
		for _, o := range offs {
			if o != want {
				t.Fatalf("commits out of order: %v", r.commits)
			}
			want++
		}
	}
	if want != 95 || len(r.commits) != 10 {
		t.Fatalf("committed %d events in %d commits, want 95 in 10", want, len(r.commits))
	}
	for i, e := range events {
		if want := []string{"insert", "commit"}[i%2]; e != want {
			t.Fatalf("event %d is %s, want %s: %v", i, e, want, events)
		}
	}
	stored := 0
	for _, n := range st.batches {
		stored += n
	}
	if stored != 95-14 { // offsets 0, 7, ..., 91 are dead letters
		t.Fatalf("stored %d rows, want %d", stored, 95-14)
	}
}
