// Package batch is dynamic batching as a named policy, Triton-style: items
// are gathered from a source until the batch is full (by count or by bytes)
// or until its OLDEST item has waited the policy's MaxWait, whichever comes
// first. It knows nothing of Kafka or inference: the processor batches
// captures with it, and any other consumer (the ClickHouse sink) can batch
// its own items the same way.
//
// Guarantees: every item the source hands over appears in exactly one batch,
// in the order the source gave it; a batch never exceeds MaxItems, and never
// exceeds MaxBytes unless it is a single item larger than MaxBytes on its own.
package batch

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrInvalidPolicy reports a Policy with a non-positive limit.
var ErrInvalidPolicy = errors.New("batch: invalid policy")

// Policy says when a batch is complete: whichever limit comes first.
type Policy struct {
	MaxItems int           // items per batch
	MaxBytes int           // sum of the items' sizes (see Sizer)
	MaxWait  time.Duration // how long the oldest item of a batch may wait
}

// Validate reports a policy with a non-positive limit.
func (p Policy) Validate() error {
	if p.MaxItems <= 0 || p.MaxBytes <= 0 || p.MaxWait <= 0 {
		return fmt.Errorf("%w: items %d, bytes %d, wait %s (each must be > 0)", ErrInvalidPolicy, p.MaxItems, p.MaxBytes, p.MaxWait)
	}
	return nil
}

// String is the policy as logs show it.
func (p Policy) String() string {
	return fmt.Sprintf("items=%d bytes=%d wait=%s", p.MaxItems, p.MaxBytes, p.MaxWait)
}

// Reason says why a batch was closed; it is a metric label.
type Reason string

const (
	ReasonItems   Reason = "items"   // MaxItems reached
	ReasonBytes   Reason = "bytes"   // MaxBytes reached, or the next item would pass it
	ReasonWait    Reason = "wait"    // the oldest item waited MaxWait
	ReasonStopped Reason = "stopped" // the context ended or the source failed
)

// Batch is one gathered batch.
type Batch[T any] struct {
	Items  []T
	Bytes  int
	First  time.Time // when the oldest item was taken from the source
	Closed time.Time // when the batch was closed
	Reason Reason
}

// Len is the number of items.
func (b Batch[T]) Len() int { return len(b.Items) }

// Wait is how long the oldest item waited in the batcher.
func (b Batch[T]) Wait() time.Duration {
	if len(b.Items) == 0 {
		return 0
	}
	return b.Closed.Sub(b.First)
}

// Source hands over the next item, blocking until one is there or ctx ends.
// kafka-go's Reader.FetchMessage is one: a cancelled fetch takes nothing.
type Source[T any] func(ctx context.Context) (T, error)

// Sizer is an item's size in bytes, for MaxBytes.
type Sizer[T any] func(T) int

// Clock is the time the batcher reads; tests substitute a fake one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed; stop cancels
	// the call if it has not happened yet.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// Option tunes a Batcher.
type Option func(*options)

type options struct{ clock Clock }

// WithClock replaces the wall clock (tests).
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// item is a taken item with the time it was taken.
type item[T any] struct {
	v    T
	size int
	at   time.Time
}

// Batcher gathers batches from one source. It is not safe for concurrent
// use: one goroutine calls Next.
type Batcher[T any] struct {
	policy  Policy
	source  Source[T]
	size    Sizer[T]
	clock   Clock
	pending *item[T] // taken but did not fit the previous batch's bytes
}

// New builds a Batcher over source, sizing items with size.
func New[T any](p Policy, source Source[T], size Sizer[T], opts ...Option) (*Batcher[T], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if source == nil || size == nil {
		return nil, fmt.Errorf("%w: nil source or sizer", ErrInvalidPolicy)
	}
	o := options{clock: realClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	return &Batcher[T]{policy: p, source: source, size: size, clock: o.clock}, nil
}

// Policy is the batcher's policy.
func (b *Batcher[T]) Policy() Policy { return b.policy }

// Next blocks until the first item of a batch is there (no clock runs on an
// empty batch, so a quiet source makes no empty batches), then gathers until
// the batch is full or its first item has waited MaxWait.
//
// Next returns the items it holds even when it also returns an error (ctx
// ended, the source failed): they were taken from the source and are the
// caller's to process. An item that would push the batch past MaxBytes is
// kept for the next batch, whose clock starts at that item's own arrival.
func (b *Batcher[T]) Next(ctx context.Context) (Batch[T], error) {
	var out Batch[T]
	if b.pending != nil {
		b.add(&out, *b.pending)
		b.pending = nil
	} else {
		v, err := b.source(ctx)
		if err != nil {
			return b.close(out, ReasonStopped), err
		}
		b.add(&out, item[T]{v: v, size: b.size(v), at: b.clock.Now()})
	}
	for {
		if r, full := b.full(out); full {
			return b.close(out, r), nil
		}
		left := out.First.Add(b.policy.MaxWait).Sub(b.clock.Now())
		if left <= 0 {
			return b.close(out, ReasonWait), nil
		}
		it, expired, err := b.fetch(ctx, left)
		switch {
		case expired:
			return b.close(out, ReasonWait), nil
		case err != nil:
			return b.close(out, ReasonStopped), err
		}
		if out.Bytes+it.size > b.policy.MaxBytes {
			// Keep the batch under MaxBytes: this item opens the next one.
			b.pending = &it
			return b.close(out, ReasonBytes), nil
		}
		b.add(&out, it)
	}
}

// fetch takes one item, giving up when left has passed (expired) or ctx
// ends. The deadline is a cancel from the batcher's clock rather than
// context.WithDeadline so that a fake clock drives it in tests.
func (b *Batcher[T]) fetch(ctx context.Context, left time.Duration) (item[T], bool, error) {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var fired atomic.Bool
	stop := b.clock.AfterFunc(left, func() { fired.Store(true); cancel() })
	defer stop()
	v, err := b.source(fctx)
	if err != nil {
		// Our own deadline, not the caller's context nor the source, ended it.
		if fired.Load() && ctx.Err() == nil {
			return item[T]{}, true, nil
		}
		return item[T]{}, false, err
	}
	return item[T]{v: v, size: b.size(v), at: b.clock.Now()}, false, nil
}

func (b *Batcher[T]) add(out *Batch[T], it item[T]) {
	if len(out.Items) == 0 {
		out.First = it.at
		out.Items = make([]T, 0, min(b.policy.MaxItems, 64))
	}
	out.Items = append(out.Items, it.v)
	out.Bytes += it.size
}

func (b *Batcher[T]) full(out Batch[T]) (Reason, bool) {
	switch {
	case len(out.Items) >= b.policy.MaxItems:
		return ReasonItems, true
	case out.Bytes >= b.policy.MaxBytes:
		return ReasonBytes, true
	}
	return "", false
}

func (b *Batcher[T]) close(out Batch[T], r Reason) Batch[T] {
	out.Closed = b.clock.Now()
	out.Reason = r
	return out
}
