package ingest

import (
	"sync"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// Outcome is what becomes of a capture: its scan, or the reason the
// processor dead-lettered it.
type Outcome struct {
	Result *scan.ScanResult
	Reason string // set when the capture was dead-lettered
}

// Waiters matches outcomes read from Kafka with the requests waiting for
// them. Each ingest replica reads every result, so whichever replica took a
// request finds its answer; outcomes nobody waits for are dropped here (the
// sink stores them).
type Waiters struct {
	mu sync.Mutex
	m  map[uuid.UUID]chan Outcome
}

// NewWaiters returns an empty registry.
func NewWaiters() *Waiters { return &Waiters{m: map[uuid.UUID]chan Outcome{}} }

// Expect registers interest in id before its capture is published, so a fast
// result cannot slip past. Call the returned cancel when done waiting.
func (w *Waiters) Expect(id uuid.UUID) (<-chan Outcome, func()) {
	ch := make(chan Outcome, 1)
	w.mu.Lock()
	w.m[id] = ch
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.m, id)
		w.mu.Unlock()
	}
}

// Deliver hands an outcome to its waiter, if any, without blocking: a result
// delivered twice (at-least-once) finds the channel full and is dropped.
func (w *Waiters) Deliver(id uuid.UUID, o Outcome) bool {
	w.mu.Lock()
	ch, ok := w.m[id]
	w.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case ch <- o:
	default:
	}
	return true
}

// Waiting reports whether a request waits for id.
func (w *Waiters) Waiting(id uuid.UUID) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.m[id]
	return ok
}

// Len is the number of requests waiting (a gauge).
func (w *Waiters) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}
