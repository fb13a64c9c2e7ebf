package auth

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
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

// RegisterFlags binds c's fields to flags on fs. The environment variables
// are applied at once (so a flag on the command line still wins over the
// environment); an unparsable variable is an error naming it.
func (c *Config) RegisterFlags(fs *flag.FlagSet) error {
	fs.StringVar(&c.Issuer, flagName(EnvIssuer), c.Issuer, "OIDC issuer URL (required unless dev mode)")
	fs.StringVar(&c.Audience, flagName(EnvAudience), c.Audience, "expected token audience (aud)")
	fs.StringVar(&c.JWKSURL, flagName(EnvJWKSURL), c.JWKSURL, "JWKS URL (default: from the issuer's discovery document)")
	fs.Func(flagName(EnvAlgorithms), "allowed JWS algorithms, comma-separated (default "+DefaultAlgorithms+")", func(s string) error {
		c.Algorithms = splitList(s)
		return nil
	})
	fs.StringVar(&c.CompanyClaim, flagName(EnvCompanyClaim), c.CompanyClaim, "claim holding the company UUID")
	fs.StringVar(&c.ReadScope, flagName(EnvReadScope), c.ReadScope, "scope required to read")
	fs.StringVar(&c.WriteScope, flagName(EnvWriteScope), c.WriteScope, "scope required to write")
	fs.DurationVar(&c.ClockSkew, flagName(EnvClockSkew), c.ClockSkew, "leeway on exp/nbf/iat")
	fs.BoolVar(&c.DevMode, flagName(EnvDevMode), c.DevMode, "trust the local dev signing key (never in production)")
	fs.StringVar(&c.DevKeyFile, flagName(EnvDevKeyFile), c.DevKeyFile, "dev signing key file (PEM, created 0600)")
	for _, env := range []string{EnvIssuer, EnvAudience, EnvJWKSURL, EnvAlgorithms, EnvCompanyClaim,
		EnvReadScope, EnvWriteScope, EnvClockSkew, EnvDevMode, EnvDevKeyFile} {
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(flagName(env), v); err != nil {
				return fmt.Errorf("%w: %s=%q: %w", ErrConfig, env, v, err)
			}
		}
	}
	return nil
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

func flagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(env), "_", "-")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, f)
	}
	return out
}
