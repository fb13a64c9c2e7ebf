package avro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	havro "github.com/hamba/avro/v2"
)

// registry speaks the two endpoints of the Confluent Schema Registry REST API
// the codec needs: POST /subjects/{subject}/versions and GET /schemas/ids/{id}.
// A schema id's content never changes, so answers are cached for good; only
// transport failures and 404s are retried on the next call.
type registry struct {
	base   *url.URL
	client *http.Client
	codec  *Codec

	mu  sync.RWMutex
	ids map[kind]uint32
	by  map[uint32]*remote

	fetchMu sync.Mutex // one registry round trip at a time: each id is fetched once
}

// remote is what a registry id resolves to: a schema to decode with, or the
// reason it cannot be read.
type remote struct {
	kind   kind
	schema havro.Schema
	err    error
}

const (
	registryMediaType = "application/vnd.schemaregistry.v1+json"
	maxRegistryBody   = 1 << 20
)

func newRegistry(base *url.URL, client *http.Client, c *Codec) *registry {
	return &registry{base: base, client: client, codec: c, ids: map[kind]uint32{}, by: map[uint32]*remote{}}
}

// subject is the record-name strategy: the full name of the record.
func subject(l *local) string { return l.schema.(havro.NamedSchema).FullName() }

// idOf returns the registry id of one of the codec's schemas, registering it
// on first use.
func (r *registry) idOf(l *local) (uint32, error) {
	r.mu.RLock()
	id, ok := r.ids[l.kind]
	r.mu.RUnlock()
	if ok {
		return id, nil
	}
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	r.mu.RLock()
	id, ok = r.ids[l.kind]
	r.mu.RUnlock()
	if ok {
		return id, nil
	}
	id, err := r.register(l)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	r.ids[l.kind] = id
	r.by[id] = &remote{kind: l.kind, schema: l.schema}
	r.mu.Unlock()
	return id, nil
}

func (r *registry) register(l *local) (uint32, error) {
	body, err := json.Marshal(map[string]string{"schema": l.text})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrRegistry, err)
	}
	u := r.base.JoinPath("subjects", subject(l), "versions")
	var out struct {
		ID *int64 `json:"id"`
	}
	if err := r.do(http.MethodPost, u, body, &out); err != nil {
		return 0, err
	}
	if out.ID == nil || *out.ID < 0 || *out.ID > 1<<31-1 {
		return 0, fmt.Errorf("%w: register %s: answer without a valid id", ErrRegistry, subject(l))
	}
	return uint32(*out.ID), nil
}

// byID returns what a registry schema id decodes as, fetching it once.
func (r *registry) byID(id uint32) (*remote, error) {
	if rs := r.cached(id); rs != nil {
		return rs, rs.err
	}
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	if rs := r.cached(id); rs != nil {
		return rs, rs.err
	}
	rs, err := r.fetch(id)
	if err != nil {
		return nil, err // transport trouble or unknown id: not cached
	}
	r.mu.Lock()
	r.by[id] = rs
	r.mu.Unlock()
	return rs, rs.err
}

func (r *registry) cached(id uint32) *remote {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.by[id]
}

// fetch returns a remote (possibly carrying an ErrIncompatible verdict, which
// is final) or an error worth retrying later.
func (r *registry) fetch(id uint32) (*remote, error) {
	var out struct {
		Schema     string `json:"schema"`
		SchemaType string `json:"schemaType"`
	}
	u := r.base.JoinPath("schemas", "ids", strconv.FormatUint(uint64(id), 10))
	if err := r.do(http.MethodGet, u, nil, &out); err != nil {
		var se *statusError
		if errors.As(err, &se) && se.code == http.StatusNotFound {
			return nil, fmt.Errorf("%w: registry schema id %d: %v", ErrUnknownSchema, id, se)
		}
		return nil, err
	}
	if out.SchemaType != "" && out.SchemaType != "AVRO" {
		return &remote{err: fmt.Errorf("%w: schema id %d is %s, not AVRO", ErrIncompatible, id, out.SchemaType)}, nil
	}
	return r.codec.resolve(id, out.Schema), nil
}

// resolve turns a writer schema text into the schema to decode with: the
// codec's own when the canonical forms agree, otherwise the Avro resolution of
// the writer against the codec's reader schema of the same record name.
func (c *Codec) resolve(id uint32, text string) *remote {
	w, err := havro.ParseWithCache(text, "", &havro.SchemaCache{})
	if err != nil {
		return &remote{err: fmt.Errorf("%w: schema id %d does not parse: %w", ErrIncompatible, id, err)}
	}
	if fp, err := rabin(text); err == nil {
		if l, ok := c.byFP[fp]; ok {
			return &remote{kind: l.kind, schema: l.schema}
		}
	}
	var reasons []error
	for _, l := range []*local{c.capture, c.result} {
		s, err := havro.NewSchemaCompatibility().Resolve(l.schema, w)
		if err == nil {
			return &remote{kind: l.kind, schema: s}
		}
		reasons = append(reasons, fmt.Errorf("as %s: %w", l.kind, err))
	}
	return &remote{err: fmt.Errorf("%w: schema id %d: %w", ErrIncompatible, id, errors.Join(reasons...))}
}

type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

func (r *registry) do(method string, u *url.URL, body []byte, out any) error {
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRegistry, err)
	}
	req.Header.Set("Accept", registryMediaType)
	if body != nil {
		req.Header.Set("Content-Type", registryMediaType)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrRegistry, method, u.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRegistryBody))
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrRegistry, method, u.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s %s: %w", ErrRegistry, method, u.Path,
			&statusError{code: resp.StatusCode, body: string(bytes.TrimSpace(data[:min(len(data), 512)]))})
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %s %s: bad JSON answer: %w", ErrRegistry, method, u.Path, err)
	}
	return nil
}
