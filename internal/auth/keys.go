package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// errUnknownKey: no key in the issuer's set matches the token's kid.
var errUnknownKey = errors.New("no matching key in the key set")

// keySource yields the candidate verification keys for a kid ("" = any).
type keySource interface {
	keys(ctx context.Context, kid string) ([]jwk.Key, error)
}

// staticKeys is a fixed set, used for the dev key.
type staticKeys struct{ set jwk.Set }

func (s staticKeys) keys(_ context.Context, kid string) ([]jwk.Key, error) {
	return match(s.set, kid)
}

// remoteKeys is an issuer's JWKS held in jwx's cache. The cache refreshes it
// in the background; a token with a kid the cache does not know forces one
// refresh (keys rotate), but at most once per minRefresh so that a flood of
// forged kids cannot turn us into a load generator against the issuer.
type remoteKeys struct {
	cache      *jwk.Cache
	url        string
	minRefresh time.Duration
	log        *slog.Logger

	mu          sync.Mutex // serialises forced refreshes
	lastRefresh time.Time
}

func newRemoteKeys(ctx context.Context, jwksURL string, o options) (*remoteKeys, error) {
	// One plain fetch first: registering with the cache waits for its first
	// fetch until ctx ends when the JWKS is broken (e.g. a 404), while this
	// fails at once with the reason.
	if _, err := jwk.Fetch(ctx, jwksURL, jwk.WithHTTPClient(o.httpClient), jwk.WithMaxFetchBodySize(maxDocSize)); err != nil {
		return nil, fmt.Errorf("auth: fetch jwks %s: %w", jwksURL, err)
	}
	cache, err := jwk.NewCache(context.Background(), httprc.NewClient()) // lives until close(), not until ctx ends
	if err != nil {
		return nil, fmt.Errorf("auth: jwks cache: %w", err)
	}
	err = cache.Register(ctx, jwksURL,
		jwk.WithHTTPClient(o.httpClient),
		jwk.WithMaxFetchBodySize(maxDocSize),
		jwk.WithHttprcResourceOption(httprc.WithMaxInterval(o.maxAge)),
	)
	if err != nil {
		_ = cache.Shutdown(context.Background())
		return nil, fmt.Errorf("auth: fetch jwks %s: %w", jwksURL, err)
	}
	return &remoteKeys{cache: cache, url: jwksURL, minRefresh: o.minRefresh, log: o.log, lastRefresh: time.Now()}, nil
}

func (r *remoteKeys) keys(ctx context.Context, kid string) ([]jwk.Key, error) {
	keys, err := r.lookup(ctx, kid)
	if !errors.Is(err, errUnknownKey) || kid == "" {
		return keys, err
	}
	return r.refresh(ctx, kid)
}

func (r *remoteKeys) lookup(ctx context.Context, kid string) ([]jwk.Key, error) {
	set, err := r.cache.Lookup(ctx, r.url)
	if err != nil {
		return nil, err
	}
	return match(set, kid)
}

// refresh re-fetches the JWKS for an unknown kid, unless that happened less
// than minRefresh ago or a concurrent caller, waiting on the same new kid,
// has just fetched it.
func (r *remoteKeys) refresh(ctx context.Context, kid string) ([]jwk.Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if keys, err := r.lookup(ctx, kid); err == nil {
		return keys, nil
	}
	if time.Since(r.lastRefresh) >= r.minRefresh {
		r.lastRefresh = time.Now()
		if _, err := r.cache.Refresh(ctx, r.url); err != nil {
			// Keep serving with the cached set; the issuer may be down.
			r.log.WarnContext(ctx, "auth: jwks refresh failed", "url", r.url, "error", err)
		}
	}
	return r.lookup(ctx, kid)
}

func (r *remoteKeys) close() error {
	return r.cache.Shutdown(context.Background())
}

// match returns the keys of set with the given kid, or every key when the
// token names none (the caller then tries each compatible one).
func match(set jwk.Set, kid string) ([]jwk.Key, error) {
	var out []jwk.Key
	for i := range set.Len() {
		k, _ := set.Key(i)
		if id, _ := k.KeyID(); kid == "" || id == kid {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, errUnknownKey
	}
	return out, nil
}

// maxDocSize bounds discovery and JWKS documents.
const maxDocSize = 1 << 20

// discoverJWKS reads jwks_uri from the issuer's OIDC discovery document and
// checks that the document speaks for that issuer (OIDC Discovery §4.3).
func discoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: status %d", u, res.StatusCode)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxDocSize)).Decode(&doc); err != nil {
		return "", fmt.Errorf("%s: %w", u, err)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("%s: issuer %q does not match %q", u, doc.Issuer, issuer)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("%s: no jwks_uri", u)
	}
	return doc.JWKSURI, nil
}

// checkKeyURL refuses to fetch signing keys over plain HTTP except from the
// local machine: a key fetched in clear text can be swapped in transit.
func checkKeyURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if h := u.Hostname(); h == "localhost" || net.ParseIP(h).IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%q: https required (http only on loopback)", raw)
}
