package auth

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"liveness/internal/config"
)

// Environment variables read by RegisterFlags; each is also a flag of the
// same name in lower case with dashes (AUTH_ISSUER → -auth-issuer).
const (
	EnvIssuer       = "AUTH_ISSUER"
	EnvAudience     = "AUTH_AUDIENCE"
	EnvJWKSURL      = "AUTH_JWKS_URL"
	EnvAlgorithms   = "AUTH_ALGORITHMS"
	EnvCompanyClaim = "AUTH_COMPANY_CLAIM"
	EnvReadScope    = "AUTH_READ_SCOPE"
	EnvWriteScope   = "AUTH_WRITE_SCOPE"
	EnvClockSkew    = "AUTH_CLOCK_SKEW"
	EnvDevMode      = "AUTH_DEV_MODE"
	EnvDevKeyFile   = "AUTH_DEV_KEY_FILE"
)

// Defaults.
const (
	DefaultAlgorithms   = "RS256,ES256"
	DefaultCompanyClaim = "company_id"
	DefaultReadScope    = "read"
	DefaultWriteScope   = "write"
	DefaultClockSkew    = 30 * time.Second
	DefaultDevKeyFile   = ".stack/dev-jwt-key.pem"
)

// Config says which tokens a Validator accepts.
type Config struct {
	Issuer       string        // OIDC issuer URL; required unless DevMode
	Audience     string        // expected aud; empty skips the check (a warning is logged)
	JWKSURL      string        // empty: discovered from Issuer's openid-configuration
	Algorithms   []string      // allowed JWS algorithms; asymmetric only
	CompanyClaim string        // claim holding the company UUID
	ReadScope    string        // scope required to read scans
	WriteScope   string        // scope required to change scans
	ClockSkew    time.Duration // leeway on exp, nbf and iat
	DevMode      bool          // also trust the local dev key (DevIssuer, DevAudience)
	DevKeyFile   string        // PEM file of the dev key, created on first use
}

// DefaultConfig returns the defaults; dev mode is off.
func DefaultConfig() Config {
	return Config{
		Algorithms:   strings.Split(DefaultAlgorithms, ","),
		CompanyClaim: DefaultCompanyClaim,
		ReadScope:    DefaultReadScope,
		WriteScope:   DefaultWriteScope,
		ClockSkew:    DefaultClockSkew,
		DevKeyFile:   DefaultDevKeyFile,
	}
}

// Register declares the auth settings on a command's configuration set
// (internal/config: flag over environment over default).
func (c *Config) Register(s *config.Set) {
	d := DefaultConfig()
	s.String(&c.Issuer, EnvIssuer, "", "OIDC issuer URL (required unless dev mode)")
	s.String(&c.Audience, EnvAudience, "", "expected token audience (aud); empty skips the check")
	s.String(&c.JWKSURL, EnvJWKSURL, "", "JWKS URL (default: from the issuer's discovery document)")
	s.List(&c.Algorithms, EnvAlgorithms, DefaultAlgorithms, "allowed JWS algorithms, comma-separated (asymmetric only)")
	s.String(&c.CompanyClaim, EnvCompanyClaim, d.CompanyClaim, "claim holding the company UUID")
	s.String(&c.ReadScope, EnvReadScope, d.ReadScope, "scope required to read")
	s.String(&c.WriteScope, EnvWriteScope, d.WriteScope, "scope required to write")
	s.Duration(&c.ClockSkew, EnvClockSkew, d.ClockSkew, "leeway on exp/nbf/iat")
	s.Bool(&c.DevMode, EnvDevMode, false, "trust the local dev signing key (never in production)")
	s.String(&c.DevKeyFile, EnvDevKeyFile, d.DevKeyFile, "dev signing key file (PEM, created 0600)")
}

// Check reports the first reason c cannot produce a safe Validator.
func (c Config) Check() error {
	if c.Issuer == "" && !c.DevMode {
		return fmt.Errorf("%w: %s is required unless %s=true", ErrConfig, EnvIssuer, EnvDevMode)
	}
	if c.CompanyClaim == "" {
		return fmt.Errorf("%w: %s is empty", ErrConfig, EnvCompanyClaim)
	}
	if c.ClockSkew < 0 || c.ClockSkew > 5*time.Minute {
		return fmt.Errorf("%w: %s=%s outside 0..5m", ErrConfig, EnvClockSkew, c.ClockSkew)
	}
	_, err := parseAlgorithms(c.Algorithms)
	return err
}

// asymmetric lists the algorithms a JWKS of public keys can verify. HS* is
// absent on purpose: an HMAC "secret" taken from a public key is the classic
// algorithm-confusion attack, and none is never acceptable.
var asymmetric = []jwa.SignatureAlgorithm{
	jwa.RS256(), jwa.RS384(), jwa.RS512(),
	jwa.PS256(), jwa.PS384(), jwa.PS512(),
	jwa.ES256(), jwa.ES384(), jwa.ES512(),
	jwa.EdDSA(),
}

func parseAlgorithms(names []string) ([]jwa.SignatureAlgorithm, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrConfig, EnvAlgorithms)
	}
	algs := make([]jwa.SignatureAlgorithm, 0, len(names))
	for _, n := range names {
		i := slices.IndexFunc(asymmetric, func(a jwa.SignatureAlgorithm) bool { return a.String() == n })
		if i < 0 {
			return nil, fmt.Errorf("%w: %s: %q is not an allowed asymmetric algorithm", ErrConfig, EnvAlgorithms, n)
		}
		algs = append(algs, asymmetric[i])
	}
	return algs, nil
}
