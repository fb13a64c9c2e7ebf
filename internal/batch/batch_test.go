package batch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock moves only when Advance is called; timers fire on Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// armed counts timers that have neither fired nor been stopped.
func (c *fakeClock) armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			due = append(due, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		go f()
	}
}

// chanSource hands over what the test sends on ch.
func chanSource(ch <-chan int) Source[int] {
	return func(ctx context.Context) (int, error) {
		select {
		case v := <-ch:
			return v, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// sliceSource hands over vs then blocks (like an idle topic).
func sliceSource(vs []int) (Source[int], *int) {
	taken := 0
	return func(ctx context.Context) (int, error) {
		if taken < len(vs) {
			taken++
			return vs[taken-1], nil
		}
		<-ctx.Done()
		return 0, ctx.Err()
	}, &taken
}

func unit(int) int { return 1 }

func mustNew(t *testing.T, p Policy, src Source[int], size Sizer[int], opts ...Option) *Batcher[int] {
	t.Helper()
	b, err := New(p, src, size, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFullByCount(t *testing.T) {
	vs := make([]int, 10)
	for i := range vs {
		vs[i] = i
	}
	src, _ := sliceSource(vs)
	clk := newFakeClock()
	b := mustNew(t, Policy{MaxItems: 4, MaxBytes: 1 << 20, MaxWait: time.Hour}, src, unit, WithClock(clk))
	var got []int
	for _, want := range []int{4, 4} {
		bt, err := b.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if bt.Len() != want || bt.Reason != ReasonItems {
			t.Fatalf("batch of %d (%s), want %d by items", bt.Len(), bt.Reason, want)
		}
		if bt.Wait() != 0 {
			t.Fatalf("a full batch waited %s on a stopped clock", bt.Wait())
		}
		got = append(got, bt.Items...)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("order: got %v", got)
		}
	}
}

func TestFullByBytesKeepsTheOverflowForTheNextBatch(t *testing.T) {
	// Sizes: item value = its size.
	src, _ := sliceSource([]int{40, 30, 20, 50, 10, 200})
	size := func(v int) int { return v }
	b := mustNew(t, Policy{MaxItems: 100, MaxBytes: 100, MaxWait: time.Hour}, src, size, WithClock(newFakeClock()))
	want := [][]int{{40, 30, 20}, {50, 10}, {200}}
	for _, w := range want {
		bt, err := b.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !equal(bt.Items, w) || bt.Reason != ReasonBytes {
			t.Fatalf("got %v (%s, %d bytes), want %v by bytes", bt.Items, bt.Reason, bt.Bytes, w)
		}
		if len(w) > 1 && bt.Bytes > 100 {
			t.Fatalf("batch of %d bytes passes MaxBytes", bt.Bytes)
		}
	}
}

func TestExactlyFullByBytes(t *testing.T) {
	src, _ := sliceSource([]int{50, 50, 7})
	b := mustNew(t, Policy{MaxItems: 100, MaxBytes: 100, MaxWait: time.Hour}, src, func(v int) int { return v }, WithClock(newFakeClock()))
	bt, err := b.Next(context.Background())
	if err != nil || !equal(bt.Items, []int{50, 50}) || bt.Reason != ReasonBytes {
		t.Fatalf("got %v %s %v, want [50 50] closed at exactly MaxBytes", bt.Items, bt.Reason, err)
	}
}

// The clock starts at the first item, not at Next: the batch goes when the
// OLDEST item has waited MaxWait, however many came after it.
func TestOldestItemWaitClosesTheBatch(t *testing.T) {
	ch := make(chan int)
	clk := newFakeClock()
	b := mustNew(t, Policy{MaxItems: 100, MaxBytes: 1 << 20, MaxWait: 50 * time.Millisecond}, chanSource(ch), unit, WithClock(clk))
	type res struct {
		bt  Batch[int]
		err error
	}
	done := make(chan res, 1)
	go func() {
		bt, err := b.Next(context.Background())
		done <- res{bt, err}
	}()
	// An idle source arms no timer: no empty batches.
	time.Sleep(10 * time.Millisecond)
	if n := clk.armed(); n != 0 {
		t.Fatalf("%d timers armed before the first item", n)
	}
	clk.Advance(time.Second)
	ch <- 1
	waitArmed(t, clk)
	clk.Advance(30 * time.Millisecond)
	ch <- 2 // arrives 30 ms after the first
	waitArmed(t, clk)
	clk.Advance(19 * time.Millisecond) // the oldest has waited 49 ms
	select {
	case r := <-done:
		t.Fatalf("batch closed early: %v", r.bt.Items)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(time.Millisecond) // 50 ms
	r := <-done
	if r.err != nil || !equal(r.bt.Items, []int{1, 2}) || r.bt.Reason != ReasonWait {
		t.Fatalf("got %v %s %v, want [1 2] by wait", r.bt.Items, r.bt.Reason, r.err)
	}
	if r.bt.Wait() != 50*time.Millisecond {
		t.Fatalf("wait %s, want 50ms", r.bt.Wait())
	}
}

// The item carried over by bytes starts the next batch's clock at its own
// arrival, so it cannot wait more than MaxWait in total.
func TestCarriedItemKeepsItsArrivalTime(t *testing.T) {
	ch := make(chan int, 4)
	clk := newFakeClock()
	b := mustNew(t, Policy{MaxItems: 100, MaxBytes: 100, MaxWait: 50 * time.Millisecond}, chanSource(ch), func(v int) int { return v }, WithClock(clk))
	ch <- 60
	ch <- 60
	bt, err := b.Next(context.Background())
	if err != nil || !equal(bt.Items, []int{60}) {
		t.Fatalf("first batch %v %v", bt.Items, err)
	}
	arrived := clk.Now()
	clk.Advance(20 * time.Millisecond)
	done := make(chan Batch[int], 1)
	go func() { bt, _ := b.Next(context.Background()); done <- bt }()
	waitArmed(t, clk)
	clk.Advance(30 * time.Millisecond) // 50 ms since the carried item arrived
	bt = <-done
	if !equal(bt.Items, []int{60}) || bt.Reason != ReasonWait || !bt.First.Equal(arrived) {
		t.Fatalf("got %v %s first %v, want the carried item, by wait, first at %v", bt.Items, bt.Reason, bt.First, arrived)
	}
}

// With the real clock and short waits: a trickle of items is cut by the wait,
// and nothing is lost or reordered over many batches.
func TestNoLossNoReorderRealClock(t *testing.T) {
	const n = 2000
	ch := make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			if i%97 == 0 {
				time.Sleep(3 * time.Millisecond) // pauses longer than MaxWait
			}
			ch <- i
		}
	}()
	size := func(v int) int { return 1 + v%13 }
	p := Policy{MaxItems: 32, MaxBytes: 150, MaxWait: 2 * time.Millisecond}
	b := mustNew(t, p, chanSource(ch), size)
	next := 0
	reasons := map[Reason]int{}
	for next < n {
		bt, err := b.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if bt.Len() == 0 || bt.Len() > p.MaxItems || (bt.Len() > 1 && bt.Bytes > p.MaxBytes) {
			t.Fatalf("batch of %d items, %d bytes breaks %s", bt.Len(), bt.Bytes, p)
		}
		sum := 0
		for _, v := range bt.Items {
			if v != next {
				t.Fatalf("got %d, want %d", v, next)
			}
			sum += size(v)
			next++
		}
		if sum != bt.Bytes {
			t.Fatalf("Bytes %d, items sum to %d", bt.Bytes, sum)
		}
		reasons[bt.Reason]++
	}
	if reasons[ReasonWait] == 0 || reasons[ReasonItems]+reasons[ReasonBytes] == 0 {
		t.Fatalf("expected batches closed both by wait and by size: %v", reasons)
	}
}

// A cancelled context or a failing source returns the items in hand with the
// error: they were taken and must not be dropped.
func TestStopReturnsItemsInHand(t *testing.T) {
	ch := make(chan int, 3)
	ch <- 1
	ch <- 2
	clk := newFakeClock()
	b := mustNew(t, Policy{MaxItems: 100, MaxBytes: 1 << 20, MaxWait: time.Hour}, chanSource(ch), unit, WithClock(clk))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var bt Batch[int]
	var err error
	go func() { bt, err = b.Next(ctx); close(done) }()
	waitArmed(t, clk)
	cancel()
	<-done
	if !errors.Is(err, context.Canceled) || !equal(bt.Items, []int{1, 2}) || bt.Reason != ReasonStopped {
		t.Fatalf("got %v %s %v, want [1 2] stopped with context.Canceled", bt.Items, bt.Reason, err)
	}

	boom := errors.New("boom")
	calls := 0
	src := func(ctx context.Context) (int, error) {
		calls++
		if calls == 3 {
			return 0, boom
		}
		return calls, nil
	}
	b = mustNew(t, Policy{MaxItems: 100, MaxBytes: 1 << 20, MaxWait: time.Hour}, src, unit, WithClock(newFakeClock()))
	bt, err = b.Next(context.Background())
	if !errors.Is(err, boom) || !equal(bt.Items, []int{1, 2}) {
		t.Fatalf("got %v %v, want [1 2] with the source's error", bt.Items, err)
	}
}

func TestInvalidPolicy(t *testing.T) {
	src, _ := sliceSource(nil)
	for _, p := range []Policy{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}, {-1, 1, 1}} {
		if _, err := New(p, src, unit); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%+v: err %v, want ErrInvalidPolicy", p, err)
		}
	}
}

func waitArmed(t *testing.T, c *fakeClock) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for c.armed() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no timer armed")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
