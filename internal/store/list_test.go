package store

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// The page window spans four times the time offset+limit rows take at the
// matches' mean rate, plus a minute, below the newest match or the cursor;
// zero (no window) once it would reach the oldest match.
func TestSummaryWindow(t *testing.T) {
	sum := summary{total: 100_000, oldest: 1_000_000, newest: 1_000_000 + 99_999} // one scan a second
	if got, want := sum.window(ListQuery{Limit: 20}), sum.newest-(4*20+60); got != want {
		t.Fatalf("first page: window from %d, want %d", got, want)
	}
	if got, want := sum.window(ListQuery{Limit: 20, Offset: 200}), sum.newest-(4*220+60); got != want {
		t.Fatalf("page 11: window from %d, want %d", got, want)
	}
	after := &Position{Created: time.Unix(int64(sum.oldest)+50_000, 0), ID: uuid.New()}
	if got, want := sum.window(ListQuery{Limit: 20, After: after}), sum.oldest+50_000-(4*20+60); got != want {
		t.Fatalf("cursor page: window from %d, want %d", got, want)
	}
	few := summary{total: 30, oldest: 1_000_000, newest: 1_000_000 + 29*3600} // one an hour
	if got := few.window(ListQuery{Limit: 20}); got != 0 {
		t.Fatalf("a window reaching the oldest scan is the whole range, got %d", got)
	}
}
