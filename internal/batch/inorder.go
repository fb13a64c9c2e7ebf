package batch

// InOrder runs work on up to k items from in at once and hands each item to
// then in the order in gave them, once its own work has returned. An item
// holds one of the k slots from before it is taken from in until then
// returns, so at most k items are between in and the end of then: a slow
// then (a delivery, a commit) backs up into in rather than into memory.
// It returns when in is closed and every item taken has been through then.
//
// The processor analyses batches this way and the sink inserts them: the
// work overlaps, the commits that follow stay in fetch order. With k = 1 it
// is a plain one-at-a-time loop.
func InOrder[T any](in <-chan T, k int, work, then func(T)) {
	k = max(k, 1)
	slots := make(chan struct{}, k)
	type pending struct {
		v    T
		done chan struct{}
	}
	order := make(chan pending, k) // never full: each item in it holds a slot
	go func() {
		defer close(order)
		for {
			slots <- struct{}{}
			v, ok := <-in
			if !ok {
				return
			}
			p := pending{v, make(chan struct{})}
			go func() { defer close(p.done); work(v) }()
			order <- p
		}
	}()
	for p := range order {
		<-p.done
		then(p.v)
		<-slots
	}
}
