package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Dev mode constants: dev tokens name this issuer and audience, so they can
// never pass for a real issuer's tokens.
const (
	DevIssuer     = "http://127.0.0.1/dev"
	DevAudience   = "liveness-dev"
	DefaultDevTTL = time.Hour
	MaxDevTTL     = 24 * time.Hour
)

// DevClaims describes a dev token.
type DevClaims struct {
	CompanyID    uuid.UUID     // required
	UserID       string        // sub; default "dev-user"
	Scopes       []string      // e.g. read, write
	TTL          time.Duration // default DefaultDevTTL, at most MaxDevTTL
	CompanyClaim string        // default DefaultCompanyClaim
}

// MintDevToken signs a short-lived ES256 token with the dev key in keyFile
// (created on first use). It returns the compact token and prints nothing.
func MintDevToken(keyFile string, c DevClaims) (string, error) {
	if c.CompanyID == uuid.Nil {
		return "", errors.New("auth: dev token: company id required")
	}
	if c.UserID == "" {
		c.UserID = "dev-user"
	}
	if c.TTL == 0 {
		c.TTL = DefaultDevTTL
	}
	if c.TTL < 0 || c.TTL > MaxDevTTL {
		return "", fmt.Errorf("auth: dev token: ttl %s outside (0, %s]", c.TTL, MaxDevTTL)
	}
	if c.CompanyClaim == "" {
		c.CompanyClaim = DefaultCompanyClaim
	}
	key, err := devSigningKey(keyFile)
	if err != nil {
		return "", err
	}
	now := time.Now()
	tok, err := jwt.NewBuilder().
		Issuer(DevIssuer).Audience([]string{DevAudience}).Subject(c.UserID).
		IssuedAt(now).NotBefore(now).Expiration(now.Add(c.TTL)).JwtID(uuid.NewString()).
		Claim(c.CompanyClaim, c.CompanyID.String()).
		Claim("scope", strings.Join(c.Scopes, " ")).
		Build()
	if err != nil {
		return "", fmt.Errorf("auth: dev token: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), key))
	if err != nil {
		return "", fmt.Errorf("auth: dev token: sign: %w", err)
	}
	return string(signed), nil
}

// devSigningKey returns the dev private key as a JWK with its kid set.
func devSigningKey(path string) (jwk.Key, error) {
	priv, err := loadOrCreateDevKey(path)
	if err != nil {
		return nil, err
	}
	key, err := jwk.Import(priv)
	if err != nil {
		return nil, fmt.Errorf("auth: dev key: %w", err)
	}
	return key, withKid(key)
}

// devKeySet returns the public half of the dev key as a one-key set.
func devKeySet(path string) (jwk.Set, error) {
	priv, err := loadOrCreateDevKey(path)
	if err != nil {
		return nil, err
	}
	key, err := jwk.Import(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("auth: dev key: %w", err)
	}
	if err := withKid(key); err != nil {
		return nil, err
	}
	if err := key.Set(jwk.AlgorithmKey, jwa.ES256()); err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	return set, set.AddKey(key)
}

// withKid names the key by its RFC 7638 thumbprint, which is the same for
// the private and the public half.
func withKid(key jwk.Key) error {
	if err := jwk.AssignKeyID(key); err != nil {
		return fmt.Errorf("auth: dev key id: %w", err)
	}
	return nil
}

// loadOrCreateDevKey reads the P-256 key at path, creating it (0600, parent
// 0700) when absent. The file appears atomically (hard link of a finished
// temp file), so concurrent first uses agree on one key.
func loadOrCreateDevKey(path string) (*ecdsa.PrivateKey, error) {
	key, err := readDevKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("auth: dev key dir: %w", err)
	}
	if err := writeDevKey(path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return readDevKey(path)
}

func readDevKey(path string) (*ecdsa.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	// Like ssh: a signing key others can read is not a secret any more.
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("auth: dev key %s: mode %o, want 0600", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("auth: dev key %s: no PKCS#8 PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: dev key %s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("auth: dev key %s: not an ECDSA P-256 key", path)
	}
	return ec, nil
}

func writeDevKey(path string) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dev-jwt-key-*") // mode 0600
	if err != nil {
		return fmt.Errorf("auth: dev key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}
