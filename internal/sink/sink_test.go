package sink

import (
	"errors"
	"testing"
	"time"
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

func TestPolicyValidate(t *testing.T) {
	if err := DefaultBatchPolicy.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []BatchPolicy{{MaxRows: 0, MaxBytes: 1, MaxWait: 1}, {MaxRows: 1, MaxBytes: -1, MaxWait: 1}, {MaxRows: 1, MaxBytes: 1}} {
		if err := p.Validate(); !errors.Is(err, ErrInvalidPolicy) {
			t.Fatalf("%+v: %v", p, err)
		}
	}
	if _, err := New(nil, nil, nil, nil, WithPolicy(BatchPolicy{})); !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("New accepted an empty policy: %v", err)
	}
}
