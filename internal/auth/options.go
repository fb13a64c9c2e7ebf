package auth

import (
	"log/slog"
	"net/http"
	"time"
)

// Option tunes a Validator beyond its Config.
type Option func(*options)

type options struct {
	log        *slog.Logger
	httpClient *http.Client
	minRefresh time.Duration
	maxAge     time.Duration
}

func defaultOptions() options {
	return options{
		log:        slog.Default(),
		httpClient: &http.Client{Timeout: 10 * time.Second},
		minRefresh: 30 * time.Second,
		maxAge:     time.Hour,
	}
}

// WithLogger sets the logger (default slog.Default()). Tokens are never logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithHTTPClient sets the client for discovery and JWKS fetches.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithRefreshLimit sets the least time between two JWKS fetches forced by an
// unknown kid (default 30 s).
func WithRefreshLimit(d time.Duration) Option { return func(o *options) { o.minRefresh = d } }

// WithMaxKeyAge bounds how long a fetched JWKS is used before the background
// refresh, whatever its Cache-Control says (default 1 h), so that a key the
// issuer withdrew stops being trusted.
func WithMaxKeyAge(d time.Duration) Option { return func(o *options) { o.maxAge = d } }
