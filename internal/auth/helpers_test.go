package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"liveness/internal/auth"
)

const testAudience = "liveness-api"

var quiet = slog.New(slog.DiscardHandler)

// signer is a private key as a JWK (kid set) plus the alg it signs with.
type signer struct {
	key jwk.Key
	alg jwa.SignatureAlgorithm
}

func newRSA(t testing.TB, kid string) signer {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return asSigner(t, raw, kid, jwa.RS256())
}

func newEC(t testing.TB, kid string) signer {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return asSigner(t, raw, kid, jwa.ES256())
}

func asSigner(t testing.TB, raw any, kid string, alg jwa.SignatureAlgorithm) signer {
	t.Helper()
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	return signer{key: k, alg: alg}
}

func (s signer) public(t testing.TB) jwk.Key {
	t.Helper()
	pub, err := s.key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// issuer is a real OIDC issuer over HTTP: discovery document and JWKS.
type issuer struct {
	srv       *httptest.Server
	mu        sync.Mutex
	set       jwk.Set
	jwksHits  atomic.Int64
	discIssue string // issuer written in the discovery document; "" = srv.URL
}

func newIssuer(t testing.TB, keys ...signer) *issuer {
	t.Helper()
	is := &issuer{}
	is.publish(t, keys...)
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := is.discIssue
		if iss == "" {
			iss = is.srv.URL
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": is.srv.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		is.jwksHits.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(is.set)
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

// publish replaces the served JWKS with the public halves of keys.
func (is *issuer) publish(t testing.TB, keys ...signer) {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k.public(t)); err != nil {
			t.Fatal(err)
		}
	}
	is.mu.Lock()
	is.set = set
	is.mu.Unlock()
}

func (is *issuer) url() string { return is.srv.URL }

func (is *issuer) config() auth.Config {
	cfg := auth.DefaultConfig()
	cfg.Issuer = is.url()
	cfg.Audience = testAudience
	return cfg
}

func newValidator(t testing.TB, cfg auth.Config, opts ...auth.Option) *auth.Validator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := auth.New(ctx, cfg, append([]auth.Option{auth.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

var testCompany = uuid.MustParse("3f6c1e8a-2b4d-4c7e-9a1f-0d5e6b7c8a90")

// claims returns a valid claim set for is; tests edit it.
func (is *issuer) claims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":        is.url(),
		"aud":        []string{testAudience},
		"sub":        "user-42",
		"iat":        now,
		"nbf":        now,
		"exp":        now.Add(10 * time.Minute),
		"company_id": testCompany.String(),
		"scope":      "read write",
	}
}

func mint(t testing.TB, s signer, claims map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	out, err := jwt.Sign(tok, jwt.WithKey(s.alg, s.key))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
