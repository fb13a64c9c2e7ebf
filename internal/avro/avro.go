// Package avro encodes and decodes the project's Kafka events (CaptureEvent,
// ScanResult) as Avro binary that names its writer schema in every message, so
// any Avro consumer can read the topics.
//
// Framing:
//   - with a schema registry (WithRegistry): Confluent wire format, magic byte
//     0x00, the schema id as 4 bytes big-endian, then Avro binary. Schemas are
//     registered under the record-name subject strategy (subject =
//     "com.faceliveness.v1.CaptureEvent" / "com.faceliveness.v1.ScanResult"),
//     so the subject does not depend on the topic an event is sent to;
//   - without: Avro single-object encoding, 0xC3 0x01, the 8-byte
//     little-endian CRC-64-AVRO fingerprint of the schema's Parsing Canonical
//     Form, then Avro binary.
//
// Decoding accepts both framings whatever the configuration. Times travel as
// timestamp-millis: a round trip yields UTC truncated to the millisecond.
//
// The binary codec is github.com/hamba/avro/v2, which DESIGN.md allows where
// it is measurably faster than github.com/linkedin/goavro/v2: on a ScanResult
// with one face (bench_test.go, shared 2-core AMD EPYC, median of 10) it took
// 4.6 µs CPU / 6 allocs to encode and 6.4 µs / 8 allocs to decode, against
// goavro's 16.1 µs / 182 and 23.6 µs / 195: about 3.5x less CPU.
package avro

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	havro "github.com/hamba/avro/v2"

	"liveness/internal/scan"
	"liveness/schemas"
)

// Sentinel errors; every error returned by a Codec wraps one of them.
var (
	// ErrMalformed: the bytes are not a framed Avro message of a known layout
	// (bad magic, truncated, trailing bytes, invalid Avro binary).
	ErrMalformed = errors.New("avro: malformed message")
	// ErrUnknownSchema: the message names a fingerprint or registry id the
	// codec does not know (and, for ids, the registry does not have).
	ErrUnknownSchema = errors.New("avro: unknown schema")
	// ErrIncompatible: the writer schema fetched from the registry cannot be
	// read as this codec's CaptureEvent or ScanResult.
	ErrIncompatible = errors.New("avro: incompatible writer schema")
	// ErrWrongRecord: the message is valid but carries the other event type
	// (e.g. a ScanResult given to DecodeCapture).
	ErrWrongRecord = errors.New("avro: wrong record type")
	// ErrInvalid: the value breaks the contract (unknown enum value, wrong
	// landmark count, bad UUID, number out of range), on encode or decode.
	ErrInvalid = errors.New("avro: invalid value")
	// ErrRegistry: the schema registry could not be reached or answered badly.
	ErrRegistry = errors.New("avro: schema registry")
)

const (
	// DefaultMaxBytes bounds a decoded bytes/string field (the image).
	DefaultMaxBytes = 16 << 20
	// MaxFaces bounds the faces of a ScanResult, on encode and decode, so a
	// forged array length cannot make the decoder allocate gigabytes.
	MaxFaces = 4096
)

// Option configures a Codec.
type Option func(*config) error

type config struct {
	registryURL *url.URL
	client      *http.Client
	maxBytes    int
}

// WithRegistry makes the codec write the Confluent wire format, registering
// its schemas at the Confluent-compatible schema registry at url, and resolve
// unknown schema ids there. A nil client means a client with a 10 s timeout.
func WithRegistry(rawURL string, client *http.Client) Option {
	return func(c *config) error {
		u, err := url.Parse(strings.TrimRight(rawURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("avro: registry url %q: want http(s)://host[:port][/path]", rawURL)
		}
		if client == nil {
			client = &http.Client{Timeout: 10 * time.Second}
		}
		c.registryURL, c.client = u, client
		return nil
	}
}

// WithMaxBytes bounds the size of a decoded image (and any string); larger
// messages are rejected with ErrMalformed. Default DefaultMaxBytes.
func WithMaxBytes(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("avro: max bytes %d: want > 0", n)
		}
		c.maxBytes = n
		return nil
	}
}

// kind says which event a schema describes.
type kind uint8

const (
	kindCapture kind = iota + 1
	kindResult
)

func (k kind) String() string {
	if k == kindCapture {
		return "CaptureEvent"
	}
	return "ScanResult"
}

// Codec encodes and decodes events. It is safe for concurrent use.
type Codec struct {
	api      havro.API // encodes; decodes bodies larger than every tier
	tiers    []tier
	capture  *local
	result   *local
	byFP     map[uint64]*local // single-object fingerprints of our own schemas
	registry *registry         // nil without WithRegistry
}

// local is one of the codec's own (reader and writer) schemas.
type local struct {
	kind   kind
	text   string // as published, with docs: what is registered
	schema havro.Schema
	fp     uint64 // CRC-64-AVRO of the Parsing Canonical Form
	soe    [10]byte
}

// New builds a Codec. With WithRegistry, schemas are registered lazily on the
// first encode of each type (a decoding-only service never writes to the
// registry), so New does no I/O.
func New(opts ...Option) (*Codec, error) {
	cfg := config{maxBytes: DefaultMaxBytes}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	c := &Codec{api: decodeAPI(cfg.maxBytes), tiers: tiers(cfg.maxBytes)}
	var err error
	if c.capture, err = newLocal(kindCapture, schemas.CaptureEvent); err != nil {
		return nil, err
	}
	if c.result, err = newLocal(kindResult, schemas.ScanResult); err != nil {
		return nil, err
	}
	c.byFP = map[uint64]*local{c.capture.fp: c.capture, c.result.fp: c.result}
	if cfg.registryURL != nil {
		c.registry = newRegistry(cfg.registryURL, cfg.client, c)
	}
	return c, nil
}

// tier is a decoding configuration for bodies of at most limit bytes.
//
// hamba allocates a bytes field or an array at the length the message claims
// before it finds the message too short, so a 20-byte message claiming a
// 16 MiB image would cost 16 MiB. No field can be longer than the body it
// sits in, so decoding picks the smallest tier whose limit covers the body:
// a forged length costs at most a small multiple of the message's own size.
type tier struct {
	limit int
	api   havro.API
}

func tiers(maxBytes int) []tier {
	var ts []tier
	for _, limit := range []int{4 << 10, 64 << 10, 1 << 20} {
		if limit < maxBytes {
			ts = append(ts, tier{limit: limit, api: decodeAPI(limit)})
		}
	}
	return ts
}

func decodeAPI(limit int) havro.API {
	return havro.Config{
		MaxByteSliceSize:  limit,
		MaxSliceAllocSize: min(limit, max(MaxFaces, scan.LandmarkCount)),
	}.Freeze()
}

// decoder returns the API to decode a body of n bytes with.
func (c *Codec) decoder(n int) havro.API {
	for _, t := range c.tiers {
		if n <= t.limit {
			return t.api
		}
	}
	return c.api
}

func newLocal(k kind, text string) (*local, error) {
	// Each schema gets its own name cache: both files define
	// com.faceliveness.v1.Channel, and the global cache would mix them up
	// with writer schemas fetched from a registry.
	s, err := havro.ParseWithCache(text, "", &havro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("avro: parse %s schema: %w", k, err)
	}
	fp, err := rabin(text)
	if err != nil {
		return nil, err
	}
	l := &local{kind: k, text: text, schema: s, fp: fp}
	l.soe = soeHeader(fp)
	return l, nil
}

func (c *Codec) local(k kind) *local {
	if k == kindCapture {
		return c.capture
	}
	return c.result
}

// EncodeCapture returns the framed Avro encoding of a capture.
func (c *Codec) EncodeCapture(v *scan.Capture) ([]byte, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: nil capture", ErrInvalid)
	}
	w, err := captureToWire(v)
	if err != nil {
		return nil, err
	}
	return c.encode(kindCapture, &w, len(v.Image)+256)
}

// DecodeCapture decodes a message written by EncodeCapture (either framing).
func (c *Codec) DecodeCapture(b []byte) (*scan.Capture, error) {
	var w wireCapture
	if err := c.decode(kindCapture, b, &w); err != nil {
		return nil, err
	}
	return captureFromWire(&w)
}

// EncodeResult returns the framed Avro encoding of a scan result.
func (c *Codec) EncodeResult(v *scan.ScanResult) ([]byte, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: nil scan result", ErrInvalid)
	}
	w, err := resultToWire(v)
	if err != nil {
		return nil, err
	}
	return c.encode(kindResult, &w, 512+len(v.Faces)*700)
}

// DecodeResult decodes a message written by EncodeResult (either framing).
func (c *Codec) DecodeResult(b []byte) (*scan.ScanResult, error) {
	var w wireResult
	if err := c.decode(kindResult, b, &w); err != nil {
		return nil, err
	}
	return resultFromWire(&w)
}

func (c *Codec) encode(k kind, v any, sizeHint int) ([]byte, error) {
	l := c.local(k)
	w := havro.NewWriter(nil, sizeHint, havro.WithWriterConfig(c.api))
	if c.registry != nil {
		id, err := c.registry.idOf(l)
		if err != nil {
			return nil, err
		}
		h := confluentHeader(id)
		_, _ = w.Write(h[:])
	} else {
		_, _ = w.Write(l.soe[:])
	}
	w.WriteVal(l.schema, v)
	if w.Error != nil {
		return nil, fmt.Errorf("%w: encode %s: %w", ErrInvalid, k, w.Error)
	}
	return w.Buffer(), nil
}

// decode reads the frame, finds the writer schema and decodes the Avro body
// into v, insisting that every byte is consumed.
func (c *Codec) decode(k kind, b []byte, v any) error {
	s, body, err := c.writerSchema(k, b)
	if err != nil {
		return err
	}
	r := havro.NewReader(nil, 0, havro.WithReaderConfig(c.decoder(len(body)))).Reset(body)
	r.ReadVal(s, v)
	if r.Error != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformed, k, r.Error)
	}
	// Peek at the end of input sets io.EOF; anything else is a trailing byte.
	r.Peek()
	if r.Error == nil {
		return fmt.Errorf("%w: %s: trailing bytes after the record", ErrMalformed, k)
	}
	return nil
}

// writerSchema returns the schema to decode b's body with (the codec's own
// schema, or its resolution against a registry writer schema) and the body.
func (c *Codec) writerSchema(k kind, b []byte) (havro.Schema, []byte, error) {
	switch {
	case len(b) >= soeLen && b[0] == soeMagic0 && b[1] == soeMagic1:
		fp := soeFingerprint(b)
		l, ok := c.byFP[fp]
		if !ok {
			return nil, nil, fmt.Errorf("%w: single-object fingerprint %016x", ErrUnknownSchema, fp)
		}
		if l.kind != k {
			return nil, nil, fmt.Errorf("%w: got %s, want %s", ErrWrongRecord, l.kind, k)
		}
		return l.schema, b[soeLen:], nil
	case len(b) >= confluentLen && b[0] == confluentMagic:
		id := confluentID(b)
		if c.registry == nil {
			return nil, nil, fmt.Errorf("%w: registry schema id %d and no registry configured", ErrUnknownSchema, id)
		}
		rs, err := c.registry.byID(id)
		if err != nil {
			return nil, nil, err
		}
		if rs.kind != k {
			return nil, nil, fmt.Errorf("%w: schema id %d is a %s, want %s", ErrWrongRecord, id, rs.kind, k)
		}
		return rs.schema, b[confluentLen:], nil
	default:
		return nil, nil, fmt.Errorf("%w: %d bytes with neither a single-object nor a Confluent header", ErrMalformed, len(b))
	}
}
