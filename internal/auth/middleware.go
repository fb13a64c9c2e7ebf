package auth

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// principalKey keys the Principal in a request's locals; unexported so no
// other package can overwrite it.
type principalKey struct{}

// Realm names the protected resource in WWW-Authenticate challenges.
const Realm = "liveness"

// errorBody is the JSON answer on 401/403.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Middleware authenticates each request with v and, when requiredScope is
// not empty, requires that scope. It answers 401 (missing or invalid token)
// or 403 (insufficient_scope) with an RFC 6750 challenge and a JSON body,
// and otherwise stores the Principal for PrincipalFrom.
func Middleware(v *Validator, requiredScope string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := v.Validate(c.UserContext(), bearer(c.Get(fiber.HeaderAuthorization)))
		if err != nil {
			// Never the token: only which check failed.
			v.log.DebugContext(c.UserContext(), "auth: rejected", "path", c.Path(), "error", err)
			return deny(c, err, "")
		}
		if requiredScope != "" && !p.Has(requiredScope) {
			return deny(c, ErrInsufficientScope, requiredScope)
		}
		c.Locals(principalKey{}, p)
		return c.Next()
	}
}

// PrincipalFrom returns the caller that Middleware authenticated.
func PrincipalFrom(c *fiber.Ctx) (Principal, bool) {
	p, ok := c.Locals(principalKey{}).(Principal)
	return p, ok
}

// bearer extracts the token of an "Authorization: Bearer <token>" header;
// the scheme is case-insensitive (RFC 7235). Any other scheme counts as no
// token.
func bearer(h string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func deny(c *fiber.Ctx, err error, scope string) error {
	status, code := fiber.StatusUnauthorized, "invalid_token"
	switch {
	case errors.Is(err, ErrInsufficientScope):
		status, code = fiber.StatusForbidden, "insufficient_scope"
	case errors.Is(err, ErrMissingToken):
		code = "missing_token"
	}
	desc := description(err)
	c.Set(fiber.HeaderWWWAuthenticate, challenge(code, desc, scope))
	return c.Status(status).JSON(errorBody{Error: code, Message: desc})
}

// challenge builds the RFC 6750 §3 header. A request without credentials
// gets no error code (§3.1: "SHOULD NOT include an error code").
func challenge(code, desc, scope string) string {
	b := `Bearer realm="` + Realm + `"`
	if code == "missing_token" {
		return b
	}
	b += `, error="` + code + `", error_description="` + desc + `"`
	if scope != "" {
		b += `, scope="` + scope + `"`
	}
	return b
}
