package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"liveness/internal/auth"
)

func newApp(v *auth.Validator) *fiber.App {
	app := fiber.New()
	handler := func(c *fiber.Ctx) error {
		p, ok := auth.PrincipalFrom(c)
		if !ok {
			return c.SendStatus(fiber.StatusInternalServerError)
		}
		return c.JSON(fiber.Map{"user": p.UserID, "company": p.CompanyID.String()})
	}
	app.Get("/scans", auth.Middleware(v, "read"), handler)
	app.Put("/scans/x", auth.Middleware(v, "write"), handler)
	app.Get("/open", func(c *fiber.Ctx) error {
		_, ok := auth.PrincipalFrom(c)
		return c.JSON(fiber.Map{"principal": ok})
	})
	return app
}

type answer struct {
	status    int
	challenge string
	body      map[string]string
}

func call(t *testing.T, app *fiber.App, method, path, authz string) answer {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	res, err := app.Test(req, int((5 * time.Second).Milliseconds()))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, challenge: res.Header.Get("WWW-Authenticate")}
	if err := json.NewDecoder(res.Body).Decode(&a.body); err != nil {
		t.Fatalf("%s %s: body not JSON: %v", method, path, err)
	}
	return a
}

func TestMiddleware(t *testing.T) {
	es := newEC(t, "ec-1")
	is := newIssuer(t, es)
	app := newApp(newValidator(t, is.config()))
	readOnly := is.claims()
	readOnly["scope"] = "read"
	readTok := mint(t, es, readOnly)
	expired := is.claims()
	expired["exp"] = time.Now().Add(-time.Hour)

	t.Run("no token", func(t *testing.T) {
		a := call(t, app, http.MethodGet, "/scans", "")
		if a.status != http.StatusUnauthorized || a.challenge != `Bearer realm="liveness"` || a.body["error"] != "missing_token" {
			t.Fatalf("got %+v", a)
		}
	})
	t.Run("other scheme", func(t *testing.T) {
		a := call(t, app, http.MethodGet, "/scans", "Basic dXNlcjpwYXNz")
		if a.status != http.StatusUnauthorized || a.body["error"] != "missing_token" {
			t.Fatalf("got %+v", a)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		a := call(t, app, http.MethodGet, "/scans", "Bearer "+mint(t, es, expired))
		want := `Bearer realm="liveness", error="invalid_token", error_description="token expired"`
		if a.status != http.StatusUnauthorized || a.challenge != want {
			t.Fatalf("got %d %q, want 401 %q", a.status, a.challenge, want)
		}
		if a.body["error"] != "invalid_token" || a.body["message"] != "token expired" {
			t.Errorf("body = %v", a.body)
		}
	})
	t.Run("garbage token", func(t *testing.T) {
		a := call(t, app, http.MethodGet, "/scans", "Bearer abc.def")
		if a.status != http.StatusUnauthorized || !strings.Contains(a.challenge, `error="invalid_token"`) {
			t.Fatalf("got %+v", a)
		}
	})
	t.Run("scope missing", func(t *testing.T) {
		a := call(t, app, http.MethodPut, "/scans/x", "Bearer "+readTok)
		want := `Bearer realm="liveness", error="insufficient_scope", error_description="token lacks the required scope", scope="write"`
		if a.status != http.StatusForbidden || a.challenge != want || a.body["error"] != "insufficient_scope" {
			t.Fatalf("got %d %q %v", a.status, a.challenge, a.body)
		}
	})
	t.Run("scope present", func(t *testing.T) {
		a := call(t, app, http.MethodGet, "/scans", "bearer  "+readTok) // scheme is case-insensitive
		if a.status != http.StatusOK || a.challenge != "" {
			t.Fatalf("got %+v", a)
		}
		if a.body["company"] != testCompany.String() || a.body["user"] != "user-42" {
			t.Errorf("principal in handler = %v", a.body)
		}
	})
	t.Run("no principal without middleware", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/open", nil)
		req.Header.Set("Authorization", "Bearer "+readTok)
		res, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]bool
		_ = json.NewDecoder(res.Body).Decode(&body)
		if res.StatusCode != http.StatusOK || body["principal"] {
			t.Fatalf("got %d %v", res.StatusCode, body)
		}
	})
}
