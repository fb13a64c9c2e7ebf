package sink

import (
	"errors"
	"testing"
	"time"

	"liveness/internal/batch"
)

func TestBackoffDoublesToTheCapWithJitter(t *testing.T) {
	b := backoff{first: 100 * time.Millisecond, max: 2 * time.Second}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1600, 2000, 2000} {
		want *= time.Millisecond
		for range 50 {
			d := b.wait(attempt)
			if d < want*8/10 || d > want*12/10 {
				t.Fatalf("attempt %d: wait %v outside %v ±20%%", attempt, d, want)
			}
		}
	}
}

func TestNewRefusesAnInvalidConfiguration(t *testing.T) {
	if err := DefaultBatchPolicy.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []batch.Policy{{}, {MaxItems: 1, MaxBytes: -1, MaxWait: 1}, {MaxItems: 1, MaxBytes: 1}} {
		if _, err := New(nil, nil, nil, nil, WithPolicy(p)); !errors.Is(err, ErrConfig) || !errors.Is(err, batch.ErrInvalidPolicy) {
			t.Fatalf("New accepted policy %+v: %v", p, err)
		}
	}
	if _, err := New(nil, nil, nil, nil, WithInserts(0)); !errors.Is(err, ErrConfig) {
		t.Fatalf("New accepted 0 inserts at once: %v", err)
	}
}
