// Package auth authenticates callers of the HTTP APIs: it validates OAuth2
// bearer JWTs issued by an OIDC provider against the provider's JWKS and maps
// them to a Principal (user, company, scopes). It knows nothing of scans,
// Kafka or ClickHouse; handlers read the Principal from the request.
//
// For local runs a dev mode trusts a locally generated ECDSA key instead of
// (or besides) a real issuer; it is off unless explicitly enabled.
package auth

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every token rejection matches ErrInvalidToken and,
// more specifically, one of the reason errors below, so callers can branch
// with errors.Is at the granularity they need.
var (
	// ErrMissingToken: the request carried no bearer token at all.
	ErrMissingToken = errors.New("auth: missing bearer token")
	// ErrInvalidToken: the token was present but is not acceptable.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrInsufficientScope: the token is valid but lacks the scope needed.
	ErrInsufficientScope = errors.New("auth: insufficient scope")
	// ErrConfig: the Config cannot produce a safe Validator.
	ErrConfig = errors.New("auth: invalid configuration")
)

// Reasons a token is invalid; each wraps ErrInvalidToken.
var (
	ErrMalformed      error = &reasonError{"malformed token"}
	ErrAlgorithm      error = &reasonError{"signing algorithm not allowed"}
	ErrSignature      error = &reasonError{"signature verification failed"}
	ErrIssuer         error = &reasonError{"issuer not trusted"}
	ErrAudience       error = &reasonError{"audience not accepted"}
	ErrExpired        error = &reasonError{"token expired"}
	ErrMissingExpiry  error = &reasonError{"missing exp claim"}
	ErrNotYetValid    error = &reasonError{"token not yet valid"}
	ErrMissingSubject error = &reasonError{"missing sub claim"}
	ErrCompanyClaim   error = &reasonError{"missing or invalid company claim"}
)

// reasonError is a rejection reason. Its text is safe to show to the caller
// (it says which check failed, never anything from the token itself), which
// is why the middleware uses it for error_description.
type reasonError struct{ reason string }

func (e *reasonError) Error() string { return ErrInvalidToken.Error() + ": " + e.reason }
func (e *reasonError) Unwrap() error { return ErrInvalidToken }

// reject wraps a reason with an internal detail for logs; the detail never
// contains the token or its claims' values.
func reject(reason error, detail error) error {
	if detail == nil {
		return reason
	}
	return fmt.Errorf("%w: %w", reason, detail)
}

// description returns the caller-safe reason of err.
func description(err error) string {
	var r *reasonError
	switch {
	case errors.As(err, &r):
		return r.reason
	case errors.Is(err, ErrMissingToken):
		return "bearer token required"
	case errors.Is(err, ErrInsufficientScope):
		return "token lacks the required scope"
	default:
		return "token not accepted"
	}
}
