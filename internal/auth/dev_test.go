package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"liveness/internal/auth"
	"liveness/internal/config"
)

func devClaims() auth.DevClaims {
	return auth.DevClaims{CompanyID: testCompany, UserID: "dev-ana", Scopes: []string{"read", "write"}}
}

func TestDevModeOffByDefault(t *testing.T) {
	if auth.DefaultConfig().DevMode {
		t.Fatal("DefaultConfig has dev mode on")
	}
	var cfg auth.Config
	s := config.New("t")
	cfg.Register(s)
	if err := s.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.DevMode && os.Getenv(auth.EnvDevMode) == "" {
		t.Fatal("dev mode on without AUTH_DEV_MODE")
	}

	keyFile := filepath.Join(t.TempDir(), "dev.pem")
	tok, err := auth.MintDevToken(keyFile, devClaims())
	if err != nil {
		t.Fatal(err)
	}
	is := newIssuer(t, newRSA(t, "k1"))
	v := newValidator(t, is.config()) // DevKeyFile default, DevMode false
	if _, err := v.Validate(context.Background(), tok); !errors.Is(err, auth.ErrIssuer) {
		t.Fatalf("dev token on a non-dev validator: err = %v, want ErrIssuer", err)
	}
}

func TestDevModeOn(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "stack", "dev-jwt-key.pem")
	tok, err := auth.MintDevToken(keyFile, devClaims())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %o, want 600", fi.Mode().Perm())
	}

	cfg := auth.DefaultConfig()
	cfg.DevMode, cfg.DevKeyFile = true, keyFile
	v := newValidator(t, cfg)
	p, err := v.Validate(context.Background(), tok)
	if err != nil {
		t.Fatalf("dev token: %v", err)
	}
	if p.UserID != "dev-ana" || p.CompanyID != testCompany || !p.Has("write") || p.Issuer != auth.DevIssuer {
		t.Errorf("principal = %+v", p)
	}
	if ttl := time.Until(p.ExpiresAt); ttl < 59*time.Minute || ttl > time.Hour {
		t.Errorf("default ttl = %s, want 1h", ttl)
	}

	// A token signed with the same key file later still validates (the key
	// is reused, not regenerated).
	again, err := auth.MintDevToken(keyFile, auth.DevClaims{CompanyID: testCompany, TTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Validate(context.Background(), again); err != nil || p.UserID != "dev-user" || p.Has("read") {
		t.Fatalf("second dev token: %+v, %v", p, err)
	}
	// Another dev key (another developer's file) is not trusted.
	foreign, err := auth.MintDevToken(filepath.Join(t.TempDir(), "other.pem"), devClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), foreign); !errors.Is(err, auth.ErrSignature) {
		t.Fatalf("foreign dev key: err = %v, want ErrSignature", err)
	}
}

// In dev mode next to a real issuer, the dev key must not vouch for tokens
// claiming the real issuer.
func TestDevKeyCannotImpersonateIssuer(t *testing.T) {
	rs := newRSA(t, "k1")
	is := newIssuer(t, rs)
	keyFile := filepath.Join(t.TempDir(), "dev.pem")
	cfg := is.config()
	cfg.DevMode, cfg.DevKeyFile = true, keyFile
	v := newValidator(t, cfg)

	if _, err := v.Validate(context.Background(), mint(t, rs, is.claims())); err != nil {
		t.Fatalf("issuer token in dev mode: %v", err)
	}
	devTok, err := auth.MintDevToken(keyFile, devClaims())
	if err != nil {
		t.Fatal(err)
	}
	// Re-sign the dev token's claims, with the dev key, as the real issuer.
	parsed, err := jwt.ParseInsecure([]byte(devTok))
	if err != nil {
		t.Fatal(err)
	}
	_ = parsed.Set(jwt.IssuerKey, is.url())
	_ = parsed.Set(jwt.AudienceKey, []string{testAudience})
	forged := signWithDevKey(t, keyFile, parsed)
	if _, err := v.Validate(context.Background(), forged); !errors.Is(err, auth.ErrSignature) {
		t.Fatalf("dev-signed token claiming the real issuer: err = %v, want ErrSignature", err)
	}
	if _, err := v.Validate(context.Background(), devTok); err != nil {
		t.Fatalf("dev token next to an issuer: %v", err)
	}
}

func TestMintDevTokenInputs(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "dev.pem")
	for name, c := range map[string]auth.DevClaims{
		"no company": {UserID: "u"},
		"ttl > max":  {CompanyID: uuid.New(), TTL: 25 * time.Hour},
		"ttl < 0":    {CompanyID: uuid.New(), TTL: -time.Minute},
	} {
		if _, err := auth.MintDevToken(keyFile, c); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestDevKeyFileReadableByOthersRefused(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "dev.pem")
	if _, err := auth.MintDevToken(keyFile, devClaims()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.MintDevToken(keyFile, devClaims()); err == nil {
		t.Fatal("want refusal of a world-readable key file")
	}
}

// signWithDevKey signs tok with the key in keyFile, read as any attacker
// holding the file would, with the same kid the dev key set uses.
func signWithDevKey(t *testing.T, keyFile string, tok jwt.Token) string {
	t.Helper()
	data, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwk.Import(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := jwk.AssignKeyID(key); err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), key))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
