package auth

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Principal is the authenticated caller as the token describes it.
type Principal struct {
	UserID    string    // the token's sub
	CompanyID uuid.UUID // the tenant; every scan access is scoped to it
	Scopes    []string  // from scope (space-separated) and/or scp (array)
	Issuer    string
	ExpiresAt time.Time
}

// Has reports whether the principal was granted scope.
func (p Principal) Has(scope string) bool {
	return scope != "" && slices.Contains(p.Scopes, scope)
}
