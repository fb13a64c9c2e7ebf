package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"liveness/internal/auth"
)

func TestValidTokenBothAlgorithms(t *testing.T) {
	rs, es := newRSA(t, "rsa-1"), newEC(t, "ec-1")
	is := newIssuer(t, rs, es)
	v := newValidator(t, is.config())
	for _, s := range []signer{rs, es} {
		t.Run(s.alg.String(), func(t *testing.T) {
			claims := is.claims()
			p, err := v.Validate(context.Background(), mint(t, s, claims))
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if p.UserID != "user-42" || p.CompanyID != testCompany || p.Issuer != is.url() {
				t.Errorf("principal = %+v", p)
			}
			if !p.Has("read") || !p.Has("write") || p.Has("admin") || p.Has("") {
				t.Errorf("scopes = %v", p.Scopes)
			}
			if want := claims["exp"].(time.Time); p.ExpiresAt.Unix() != want.Unix() {
				t.Errorf("ExpiresAt = %v, want %v", p.ExpiresAt, want)
			}
		})
	}
}

func TestRejections(t *testing.T) {
	rs, es := newRSA(t, "rsa-1"), newEC(t, "ec-1")
	is := newIssuer(t, rs, es)
	v := newValidator(t, is.config())
	now := time.Now()
	edit := func(f func(map[string]any)) map[string]any { c := is.claims(); f(c); return c }

	cases := []struct {
		name   string
		token  string
		reason error
	}{
		{"expired", mint(t, rs, edit(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute) })), auth.ErrExpired},
		{"not yet valid", mint(t, es, edit(func(c map[string]any) { c["nbf"] = now.Add(2 * time.Minute) })), auth.ErrNotYetValid},
		{"issued in the future", mint(t, es, edit(func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute) })), auth.ErrNotYetValid},
		{"no exp", mint(t, rs, edit(func(c map[string]any) { delete(c, "exp") })), auth.ErrMissingExpiry},
		{"wrong issuer", mint(t, rs, edit(func(c map[string]any) { c["iss"] = "https://evil.example" })), auth.ErrIssuer},
		{"wrong audience", mint(t, rs, edit(func(c map[string]any) { c["aud"] = []string{"other-api"} })), auth.ErrAudience},
		{"no audience", mint(t, rs, edit(func(c map[string]any) { delete(c, "aud") })), auth.ErrAudience},
		{"missing company", mint(t, rs, edit(func(c map[string]any) { delete(c, "company_id") })), auth.ErrCompanyClaim},
		{"company not uuid", mint(t, rs, edit(func(c map[string]any) { c["company_id"] = "acme" })), auth.ErrCompanyClaim},
		{"company braced uuid", mint(t, rs, edit(func(c map[string]any) { c["company_id"] = "{" + testCompany.String() + "}" })), auth.ErrCompanyClaim},
		{"company nil uuid", mint(t, rs, edit(func(c map[string]any) { c["company_id"] = "00000000-0000-0000-0000-000000000000" })), auth.ErrCompanyClaim},
		{"company number", mint(t, rs, edit(func(c map[string]any) { c["company_id"] = 42 })), auth.ErrCompanyClaim},
		{"missing sub", mint(t, rs, edit(func(c map[string]any) { delete(c, "sub") })), auth.ErrMissingSubject},
		{"other key same kid", mint(t, newRSA(t, "rsa-1"), is.claims()), auth.ErrSignature},
		{"other key unknown kid", mint(t, newEC(t, "ec-unknown"), is.claims()), auth.ErrSignature},
		{"alg none", unsigned(t, is.claims()), auth.ErrAlgorithm},
		{"HS256 with RSA public key", hmacWithPublicKey(t, rs, is.claims()), auth.ErrAlgorithm},
		{"ES256 header on an RSA kid", mint(t, signer{key: withKid(t, newEC(t, "x").key, "rsa-1"), alg: jwa.ES256()}, is.claims()), auth.ErrAlgorithm},
		{"garbage", "not.a.jwt", auth.ErrMalformed},
		{"tampered payload", tamper(t, mint(t, rs, is.claims())), auth.ErrSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Validate(context.Background(), tc.token)
			if !errors.Is(err, tc.reason) || !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("err = %v, want %v (principal %+v)", err, tc.reason, p)
			}
			if strings.Contains(err.Error(), tc.token) {
				t.Error("error text contains the token")
			}
		})
	}
	if _, err := v.Validate(context.Background(), ""); !errors.Is(err, auth.ErrMissingToken) {
		t.Errorf("empty token: err = %v", err)
	}
}

func TestClockSkewTolerated(t *testing.T) {
	rs := newRSA(t, "rsa-1")
	is := newIssuer(t, rs)
	v := newValidator(t, is.config()) // default skew 30 s
	c := is.claims()
	c["exp"] = time.Now().Add(-10 * time.Second)
	c["nbf"] = time.Now().Add(10 * time.Second)
	if _, err := v.Validate(context.Background(), mint(t, rs, c)); err != nil {
		t.Fatalf("within skew: %v", err)
	}
}

func TestScopesFromScopeAndScp(t *testing.T) {
	rs := newRSA(t, "rsa-1")
	is := newIssuer(t, rs)
	v := newValidator(t, is.config())
	cases := []struct {
		name  string
		set   map[string]any
		want  []string
		wantN []string
	}{
		{"scope string", map[string]any{"scope": " read  write "}, []string{"read", "write"}, []string{"admin"}},
		{"scp array", map[string]any{"scp": []string{"write", "admin"}}, []string{"write", "admin"}, []string{"read"}},
		{"both merged", map[string]any{"scope": "read", "scp": []string{"write"}}, []string{"read", "write"}, []string{"admin"}},
		{"none", map[string]any{}, nil, []string{"read", "write"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := is.claims()
			delete(c, "scope")
			for k, val := range tc.set {
				c[k] = val
			}
			p, err := v.Validate(context.Background(), mint(t, rs, c))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.want {
				if !p.Has(s) {
					t.Errorf("missing %q in %v", s, p.Scopes)
				}
			}
			for _, s := range tc.wantN {
				if p.Has(s) {
					t.Errorf("unexpected %q in %v", s, p.Scopes)
				}
			}
		})
	}
}

func TestKeyRotationWithoutRestart(t *testing.T) {
	old := newRSA(t, "2024-01")
	is := newIssuer(t, old)
	v := newValidator(t, is.config(), auth.WithRefreshLimit(0))
	ctx := context.Background()
	if _, err := v.Validate(ctx, mint(t, old, is.claims())); err != nil {
		t.Fatalf("old key: %v", err)
	}
	rotated := newEC(t, "2024-02")
	tok := mint(t, rotated, is.claims())
	if _, err := v.Validate(ctx, tok); !errors.Is(err, auth.ErrSignature) {
		t.Fatalf("before publication: err = %v, want ErrSignature", err)
	}
	is.publish(t, rotated) // the issuer rotates: old key withdrawn
	before := is.jwksHits.Load()
	if _, err := v.Validate(ctx, tok); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if got := is.jwksHits.Load() - before; got != 1 {
		t.Errorf("jwks fetched %d times for one unknown kid, want 1", got)
	}
	if _, err := v.Validate(ctx, mint(t, old, is.claims())); !errors.Is(err, auth.ErrSignature) {
		t.Errorf("withdrawn key: err = %v, want ErrSignature", err)
	}
}

func TestUnknownKidRefreshIsRateLimited(t *testing.T) {
	k := newRSA(t, "k1")
	is := newIssuer(t, k)
	v := newValidator(t, is.config(), auth.WithRefreshLimit(time.Hour))
	start := is.jwksHits.Load()
	for i := range 20 {
		forged := mint(t, newEC(t, "forged-"+string(rune('a'+i))), is.claims())
		if _, err := v.Validate(context.Background(), forged); !errors.Is(err, auth.ErrSignature) {
			t.Fatalf("forged kid: err = %v", err)
		}
	}
	// The validator fetched once at start; within the limit no forced
	// refresh may happen (the start-up fetch counts as the last one).
	if got := is.jwksHits.Load() - start; got != 0 {
		t.Errorf("20 unknown kids caused %d JWKS fetches, want 0 within the limit", got)
	}
}

func TestExplicitJWKSURL(t *testing.T) {
	k := newEC(t, "k1")
	is := newIssuer(t, k)
	is.discIssue = "https://never-used.example" // discovery would fail
	cfg := is.config()
	cfg.JWKSURL = is.url() + "/keys"
	v := newValidator(t, cfg)
	if _, err := v.Validate(context.Background(), mint(t, k, is.claims())); err != nil {
		t.Fatal(err)
	}
}

func TestNewFailures(t *testing.T) {
	is := newIssuer(t, newRSA(t, "k1"))
	ctx := context.Background()
	t.Run("discovery issuer mismatch", func(t *testing.T) {
		is.discIssue = "https://impostor.example"
		defer func() { is.discIssue = "" }()
		if _, err := auth.New(ctx, is.config()); err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("jwks not found", func(t *testing.T) {
		cfg := is.config()
		cfg.JWKSURL = is.url() + "/nope"
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := auth.New(tctx, cfg); err == nil {
			t.Fatal("want error for a JWKS URL that 404s")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("New took %s to report a 404 JWKS; want a fast failure", d)
		}
	})
	t.Run("plain http off loopback", func(t *testing.T) {
		cfg := auth.DefaultConfig()
		cfg.Issuer = "http://idp.example.com/realms/x"
		if _, err := auth.New(ctx, cfg); !errors.Is(err, auth.ErrConfig) {
			t.Fatalf("err = %v, want ErrConfig", err)
		}
	})
	for _, algs := range [][]string{{"none"}, {"HS256"}, {"RS256", "HS512"}, {}} {
		t.Run("algorithms "+strings.Join(algs, ","), func(t *testing.T) {
			cfg := is.config()
			cfg.Algorithms = algs
			if _, err := auth.New(ctx, cfg); !errors.Is(err, auth.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
	t.Run("no issuer without dev mode", func(t *testing.T) {
		if _, err := auth.New(ctx, auth.DefaultConfig()); !errors.Is(err, auth.ErrConfig) {
			t.Fatalf("err = %v, want ErrConfig", err)
		}
	})
}

func TestAlgorithmNotConfiguredIsRejected(t *testing.T) {
	rs, es := newRSA(t, "rsa-1"), newEC(t, "ec-1")
	is := newIssuer(t, rs, es)
	cfg := is.config()
	cfg.Algorithms = []string{"ES256"}
	v := newValidator(t, cfg)
	if _, err := v.Validate(context.Background(), mint(t, rs, is.claims())); !errors.Is(err, auth.ErrAlgorithm) {
		t.Fatalf("RS256 with only ES256 allowed: err = %v", err)
	}
	if _, err := v.Validate(context.Background(), mint(t, es, is.claims())); err != nil {
		t.Fatal(err)
	}
}

// unsigned hand-builds an "alg":"none" token, header.payload. with an empty
// signature, since no sane library will produce one.
func unsigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	hdr, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": "rsa-1"})
	c := map[string]any{}
	for k, v := range claims {
		if tm, ok := v.(time.Time); ok {
			v = tm.Unix()
		}
		c[k] = v
	}
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeToString(hdr) + "." + enc.EncodeToString(body) + "."
}

// hmacWithPublicKey is the algorithm-confusion attack: HS256 keyed with the
// bytes of the issuer's public RSA key, which anyone can download.
func hmacWithPublicKey(t *testing.T, s signer, claims map[string]any) string {
	t.Helper()
	var raw any
	if err := jwk.Export(s.public(t), &raw); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	sym, err := jwk.Import(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return mint(t, signer{key: withKid(t, sym, "rsa-1"), alg: jwa.HS256()}, claims)
}

func withKid(t *testing.T, k jwk.Key, kid string) jwk.Key {
	t.Helper()
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	return k
}

// tamper swaps the payload for one with another company, keeping the
// original header and signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	body = []byte(strings.Replace(string(body), testCompany.String(), "11111111-2222-4333-8444-555555555555", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(body)
	return strings.Join(parts, ".")
}

func TestConcurrentCallersShareOneRefresh(t *testing.T) {
	is := newIssuer(t, newRSA(t, "old"))
	v := newValidator(t, is.config(), auth.WithRefreshLimit(0))
	rotated := newEC(t, "new")
	is.publish(t, rotated)
	tok := mint(t, rotated, is.claims())
	before := is.jwksHits.Load()
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := v.Validate(context.Background(), tok)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := is.jwksHits.Load() - before; got != 1 {
		t.Errorf("8 concurrent callers with one new kid fetched the JWKS %d times, want 1", got)
	}
}

func BenchmarkValidate(b *testing.B) {
	for _, s := range []signer{newRSA(b, "rsa"), newEC(b, "ec")} {
		is := newIssuer(b, s)
		v := newValidator(b, is.config())
		tok := mint(b, s, is.claims())
		b.Run(s.alg.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Validate(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
