package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// maxTokenSize bounds the work an unauthenticated caller can make us do.
const maxTokenSize = 8 << 10

// Validator checks bearer tokens. It is safe for concurrent use; Close it
// to stop the background JWKS refresh.
type Validator struct {
	cfg    Config
	algs   []jwa.SignatureAlgorithm
	trusts map[string]trust // by issuer
	log    *slog.Logger
	close  []func() error
}

// trust is what one issuer's tokens are checked against.
type trust struct {
	audience string
	keys     keySource
}

// New builds a Validator from cfg. With an issuer it fetches the JWKS once
// (discovering its URL unless cfg.JWKSURL is set), so a wrong issuer fails
// at start-up rather than on the first request. ctx bounds that start-up
// work only.
func New(ctx context.Context, cfg Config, opts ...Option) (*Validator, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	algs, _ := parseAlgorithms(cfg.Algorithms) // Check validated them
	v := &Validator{cfg: cfg, algs: algs, trusts: map[string]trust{}, log: o.log}
	if cfg.Issuer != "" {
		if err := v.trustIssuer(ctx, o); err != nil {
			return nil, err
		}
	}
	if cfg.DevMode {
		if err := v.trustDevKey(); err != nil {
			v.Close()
			return nil, err
		}
	}
	return v, nil
}

func (v *Validator) trustIssuer(ctx context.Context, o options) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	jwksURL := v.cfg.JWKSURL
	if err := checkKeyURL(v.cfg.Issuer); err != nil {
		return fmt.Errorf("%w: %s %w", ErrConfig, EnvIssuer, err)
	}
	if jwksURL == "" {
		u, err := discoverJWKS(ctx, o.httpClient, v.cfg.Issuer)
		if err != nil {
			return fmt.Errorf("auth: oidc discovery: %w", err)
		}
		jwksURL = u
	}
	if err := checkKeyURL(jwksURL); err != nil {
		return fmt.Errorf("%w: jwks %w", ErrConfig, err)
	}
	src, err := newRemoteKeys(ctx, jwksURL, o)
	if err != nil {
		return err
	}
	if v.cfg.Audience == "" {
		v.log.Warn("auth: no audience configured; tokens for any audience of the issuer are accepted", "env", EnvAudience)
	}
	v.trusts[v.cfg.Issuer] = trust{audience: v.cfg.Audience, keys: src}
	v.close = append(v.close, src.close)
	v.log.Info("auth: trusting issuer", "issuer", v.cfg.Issuer, "jwks", jwksURL)
	return nil
}

func (v *Validator) trustDevKey() error {
	if v.cfg.Issuer == DevIssuer {
		return fmt.Errorf("%w: %s must not be the dev issuer", ErrConfig, EnvIssuer)
	}
	if !slices.Contains(v.algs, jwa.ES256()) {
		return fmt.Errorf("%w: dev mode needs ES256 in %s", ErrConfig, EnvAlgorithms)
	}
	set, err := devKeySet(v.cfg.DevKeyFile)
	if err != nil {
		return err
	}
	v.trusts[DevIssuer] = trust{audience: DevAudience, keys: staticKeys{set: set}}
	v.log.Warn("auth: DEV MODE: tokens signed by the local dev key are accepted; never enable in production",
		"issuer", DevIssuer, "key_file", v.cfg.DevKeyFile)
	return nil
}

// Close stops background key refreshes.
func (v *Validator) Close() error {
	var errs []error
	for _, c := range v.close {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// Validate checks raw (the bearer token, without "Bearer ") and returns the
// caller it names. Errors match ErrMissingToken or ErrInvalidToken (and one
// reason, e.g. ErrExpired).
func (v *Validator) Validate(ctx context.Context, raw string) (Principal, error) {
	if raw == "" {
		return Principal{}, ErrMissingToken
	}
	if len(raw) > maxTokenSize {
		return Principal{}, reject(ErrMalformed, errors.New("token too large"))
	}
	payload, iss, err := v.verify(ctx, raw)
	if err != nil {
		return Principal{}, err
	}
	// The payload is verified now; parse it for real and check the claims.
	tok, err := jwt.Parse(payload, jwt.WithVerify(false), jwt.WithValidate(false))
	if err != nil {
		return Principal{}, reject(ErrMalformed, err)
	}
	if err := v.validateClaims(tok, iss); err != nil {
		return Principal{}, err
	}
	return v.principal(tok)
}

// verify checks the algorithm and the signature against the keys of the
// issuer the token claims, and returns the verified payload.
func (v *Validator) verify(ctx context.Context, raw string) ([]byte, string, error) {
	msg, err := jws.ParseString(raw)
	if err != nil {
		return nil, "", reject(ErrMalformed, err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return nil, "", reject(ErrMalformed, errors.New("want exactly one signature"))
	}
	hdr := sigs[0].ProtectedHeaders()
	alg, ok := hdr.Algorithm()
	if !ok || !slices.Contains(v.algs, alg) {
		return nil, "", reject(ErrAlgorithm, fmt.Errorf("alg %q", alg))
	}
	// The issuer is read unverified only to pick whose keys to try; it is
	// checked again, verified, in validateClaims.
	iss, err := peekIssuer(msg.Payload())
	if err != nil {
		return nil, "", reject(ErrMalformed, err)
	}
	tr, ok := v.trusts[iss]
	if !ok {
		return nil, "", ErrIssuer
	}
	kid, _ := hdr.KeyID()
	keys, err := tr.keys.keys(ctx, kid)
	if err != nil {
		return nil, "", reject(ErrSignature, err)
	}
	payload, err := verifyWithAny([]byte(raw), alg, keys)
	return payload, iss, err
}

// verifyWithAny tries each candidate key that can produce alg. A key whose
// own type or "alg" does not fit is never used with that alg: that is what
// stops algorithm-confusion tricks.
func verifyWithAny(raw []byte, alg jwa.SignatureAlgorithm, keys []jwk.Key) ([]byte, error) {
	var tried int
	var last error
	for _, k := range keys {
		if !fits(k, alg) {
			continue
		}
		tried++
		payload, err := jws.Verify(raw, jws.WithKey(alg, k))
		if err == nil {
			return payload, nil
		}
		last = err
	}
	if tried == 0 {
		return nil, reject(ErrAlgorithm, fmt.Errorf("no key of the set fits alg %s", alg))
	}
	return nil, reject(ErrSignature, last)
}

func fits(k jwk.Key, alg jwa.SignatureAlgorithm) bool {
	if use, ok := k.KeyUsage(); ok && use != "" && use != jwk.ForSignature.String() {
		return false
	}
	if ka, ok := k.Algorithm(); ok && ka.String() != alg.String() {
		return false
	}
	name := alg.String()
	switch kty := k.KeyType(); {
	case strings.HasPrefix(name, "RS"), strings.HasPrefix(name, "PS"):
		return kty == jwa.RSA()
	case strings.HasPrefix(name, "ES"):
		return kty == jwa.EC()
	case name == jwa.EdDSA().String():
		return kty == jwa.OKP()
	}
	return false
}

func peekIssuer(payload []byte) (string, error) {
	var claims struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	return claims.Iss, nil
}

func (v *Validator) validateClaims(tok jwt.Token, iss string) error {
	if _, ok := tok.Expiration(); !ok {
		return ErrMissingExpiry
	}
	opts := []jwt.ValidateOption{
		jwt.WithIssuer(iss),
		jwt.WithAcceptableSkew(v.cfg.ClockSkew),
	}
	if aud := v.trusts[iss].audience; aud != "" {
		opts = append(opts, jwt.WithAudience(aud))
	}
	err := jwt.Validate(tok, opts...)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.TokenExpiredError()):
		return reject(ErrExpired, err)
	case errors.Is(err, jwt.TokenNotYetValidError()), errors.Is(err, jwt.InvalidIssuedAtError()):
		return reject(ErrNotYetValid, err)
	case errors.Is(err, jwt.InvalidIssuerError()):
		return reject(ErrIssuer, err)
	case errors.Is(err, jwt.InvalidAudienceError()):
		return reject(ErrAudience, err)
	default:
		return reject(ErrMalformed, err)
	}
}

func (v *Validator) principal(tok jwt.Token) (Principal, error) {
	sub, _ := tok.Subject()
	if sub == "" {
		return Principal{}, ErrMissingSubject
	}
	company, err := companyID(tok, v.cfg.CompanyClaim)
	if err != nil {
		return Principal{}, reject(ErrCompanyClaim, err)
	}
	iss, _ := tok.Issuer()
	exp, _ := tok.Expiration()
	return Principal{UserID: sub, CompanyID: company, Scopes: scopes(tok), Issuer: iss, ExpiresAt: exp}, nil
}

func companyID(tok jwt.Token, claim string) (uuid.UUID, error) {
	var raw any
	if err := tok.Get(claim, &raw); err != nil {
		return uuid.Nil, fmt.Errorf("claim %q absent", claim)
	}
	s, ok := raw.(string)
	// Only the canonical 36-character form: uuid.Parse also takes braces,
	// urn: prefixes and bare hex, which would let one company have many
	// spellings in logs and audit trails.
	if !ok || len(s) != 36 {
		return uuid.Nil, fmt.Errorf("claim %q is not a canonical UUID", claim)
	}
	id, err := uuid.Parse(s)
	if err != nil || id == uuid.Nil {
		return uuid.Nil, fmt.Errorf("claim %q is not a UUID", claim)
	}
	return id, nil
}

// scopes merges the OAuth2 "scope" string (RFC 8693 style, space-separated)
// and the "scp" claim some issuers use (an array, sometimes a string).
func scopes(tok jwt.Token) []string {
	var out []string
	for _, claim := range []string{"scope", "scp"} {
		var raw any
		if tok.Get(claim, &raw) != nil {
			continue
		}
		switch val := raw.(type) {
		case string:
			out = append(out, strings.Fields(val)...)
		case []any:
			for _, e := range val {
				if s, ok := e.(string); ok && s != "" {
					out = append(out, s)
				}
			}
		case []string:
			out = append(out, val...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
