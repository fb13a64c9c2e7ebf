package ingest

import (
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"
)

// companyLimiter keeps one token bucket per company, so that one channel's
// burst cannot starve the others.
type companyLimiter struct {
	rps   rate.Limit
	burst int

	mu sync.Mutex
	m  map[uuid.UUID]*rate.Limiter
}

func newCompanyLimiter(rps float64, burst int) *companyLimiter {
	return &companyLimiter{rps: rate.Limit(rps), burst: burst, m: map[uuid.UUID]*rate.Limiter{}}
}

// allow takes a token for company, or says how long until one is free.
func (l *companyLimiter) allow(company uuid.UUID) (bool, time.Duration) {
	if l.rps <= 0 {
		return true, 0
	}
	l.mu.Lock()
	lim, ok := l.m[company]
	if !ok {
		lim = rate.NewLimiter(l.rps, l.burst)
		l.m[company] = lim
	}
	l.mu.Unlock()
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d
	}
	return true, 0
}
