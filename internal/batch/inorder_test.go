package batch

import (
	"sync"
	"testing"
	"time"
)

// Later items finish their work first, yet then sees them in order; no more
// than k run at once, and k of them do overlap.
func TestInOrderOverlapsWorkAndKeepsOrder(t *testing.T) {
	for _, k := range []int{1, 2, 3} {
		in := make(chan int)
		go func() {
			for i := range 12 {
				in <- i
			}
			close(in)
		}()
		var mu sync.Mutex
		running, most := 0, 0
		var got []int
		InOrder(in, k, func(i int) {
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			time.Sleep(time.Duration(12-i) * time.Millisecond) // later items are quicker
			mu.Lock()
			running--
			mu.Unlock()
		}, func(i int) { got = append(got, i) })
		for i, v := range got {
			if v != i {
				t.Fatalf("k=%d: then saw %v, want 0..11 in order", k, got)
			}
		}
		if len(got) != 12 || most != k {
			t.Fatalf("k=%d: %d items through, at most %d at once, want 12 and %d", k, len(got), most, k)
		}
	}
}

// While then blocks, InOrder takes no more than k items from in.
func TestInOrderBoundsItemsInHand(t *testing.T) {
	const k = 2
	in := make(chan int, 10)
	for i := range 10 {
		in <- i
	}
	close(in)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		InOrder(in, k, func(int) {}, func(int) { <-release })
	}()
	time.Sleep(100 * time.Millisecond)
	if taken := 10 - len(in); taken != k {
		t.Fatalf("took %d items while then blocked, want %d", taken, k)
	}
	close(release)
	<-done
}
