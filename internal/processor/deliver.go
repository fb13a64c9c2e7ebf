package processor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// deliver writes the batch's results and dead letters, then commits its
// offsets. Writes are retried until acknowledged or ctx (the drain) ends;
// only then is anything committed.
func (p *Processor) deliver(ctx context.Context, j *job) error {
	if j.err != nil {
		return fmt.Errorf("%w: %w", errNotDelivered, j.err)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	var errResults, errDead error
	wg.Add(2)
	go func() { defer wg.Done(); errResults = p.write(ctx, p.results, "results", j.results) }()
	go func() { defer wg.Done(); errDead = p.write(ctx, p.dlq, "dead-letter", j.dead) }()
	wg.Wait()
	p.m.stage("produce", t0)
	if err := errors.Join(errResults, errDead); err != nil {
		p.log.Error("batch not delivered; stopping without committing it", "captures", j.b.Len(), "err", err)
		return fmt.Errorf("%w: %w", errNotDelivered, err)
	}
	p.commit(ctx, j)
	return nil
}

// write sends msgs until every one is acknowledged, retrying only those the
// broker did not take (kafka-go reports per-message errors), with backoff.
func (p *Processor) write(ctx context.Context, w Writer, what string, msgs []kafkago.Message) error {
	for attempt := 0; len(msgs) > 0; attempt++ {
		if attempt > 0 {
			p.m.retry(what)
			if !sleep(ctx, p.backoff.delay(attempt)) {
				return fmt.Errorf("%s: %d messages unacknowledged: %w", what, len(msgs), ctx.Err())
			}
		}
		err := w.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		var we kafkago.WriteErrors
		if errors.As(err, &we) && len(we) == len(msgs) {
			left := msgs[:0:0]
			for i, e := range we {
				if e != nil {
					left = append(left, msgs[i])
				}
			}
			msgs = left
		}
		p.log.Warn("write failed; retrying", "to", what, "messages", len(msgs), "attempt", attempt+1, "err", err)
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %d messages unacknowledged: %w", what, len(msgs), ctx.Err())
		}
	}
	return nil
}

// commit commits the batch's offsets, leaving out the messages fetched
// before the reader's latest rebalance (see the package doc). A failed
// commit is logged and counted, not retried: a later commit on the same
// partition covers it, and if none comes the captures are redelivered —
// duplicated, never lost.
func (p *Processor) commit(ctx context.Context, j *job) {
	cur := p.gens.current()
	msgs := make([]kafkago.Message, 0, j.b.Len())
	stale := 0
	for _, f := range j.b.Items {
		if f.gen == cur {
			msgs = append(msgs, f.msg)
		} else {
			stale++
		}
	}
	if stale > 0 {
		p.m.staleSkipped.Add(float64(stale))
		p.log.Info("not committing messages fetched before a rebalance; they will be redelivered", "messages", stale)
	}
	if len(msgs) == 0 {
		return
	}
	t0 := time.Now()
	err := p.r.CommitMessages(ctx, msgs...)
	p.m.stage("commit", t0)
	if err != nil {
		p.m.commitErrors.Inc()
		p.log.Warn("commit failed; the captures will be redelivered unless a later commit covers them", "messages", len(msgs), "err", err)
		return
	}
	p.m.committed.Add(float64(len(msgs)))
}

// backoff is exponential with full jitter, capped.
type backoff struct{ first, max time.Duration }

func (b backoff) delay(attempt int) time.Duration {
	d := b.first << min(attempt-1, 20)
	if d <= 0 || d > b.max {
		d = b.max
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends; it reports whether the full wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
