package avro

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"liveness/internal/scan"
	"liveness/schemas"
)

// framings returns a codec per framing: single-object and Confluent (with a
// real HTTP registry).
func framings(t *testing.T) map[string]*Codec {
	reg := newFakeRegistry(t)
	return map[string]*Codec{
		"single-object": mustCodec(t),
		"confluent":     mustCodec(t, WithRegistry(reg.URL, reg.Client())),
	}
}

func TestCaptureRoundTrip(t *testing.T) {
	empty := sampleCapture(0)
	empty.CreatedByID, empty.Reference, empty.ContentType = "", "", ""
	cases := map[string]*scan.Capture{
		"small image":  sampleCapture(1000),
		"200KB image":  sampleCapture(200 << 10),
		"empty fields": empty,
	}
	for fname, c := range framings(t) {
		for name, in := range cases {
			t.Run(fname+"/"+name, func(t *testing.T) {
				b, err := c.EncodeCapture(in)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				out, err := c.DecodeCapture(b)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if !reflect.DeepEqual(in, out) {
					t.Fatalf("round trip differs:\n in %+v\nout %+v", summary(in), summary(out))
				}
			})
		}
	}
}

// summary keeps test failures from printing a 200 KB image.
func summary(c *scan.Capture) scan.Capture {
	s := *c
	s.Image = []byte(strings.Repeat("#", min(len(c.Image), 8)))
	return s
}

func TestResultRoundTrip(t *testing.T) {
	noFace := sampleResult(0)
	noFace.Result, noFace.Quality, noFace.Luminance = scan.ResultNoFace, scan.QualityLow, scan.LuminanceDark
	updated := sampleResult(1)
	up, by := at.Add(90*time.Minute), "analyst@example.com"
	updated.UpdatedDate, updated.UpdatedByID = &up, &by
	updated.Result, updated.SalesChannel, updated.Quality, updated.Luminance =
		scan.ResultSpoof, scan.ChannelOther, scan.QualityMedium, scan.LuminanceLight
	several := sampleResult(5)
	several.Result = scan.ResultMultipleFace
	extremes := sampleResult(1)
	extremes.Version = math.MaxInt64
	extremes.ElapsedTime = math.Inf(1)
	extremes.Faces[0].X1, extremes.Faces[0].Y2 = math.MinInt32, math.MaxInt32

	cases := map[string]*scan.ScanResult{
		"no face":         noFace,
		"one face":        sampleResult(1),
		"updated":         updated,
		"several faces":   several,
		"extreme numbers": extremes,
	}
	for fname, c := range framings(t) {
		for name, in := range cases {
			t.Run(fname+"/"+name, func(t *testing.T) {
				b, err := c.EncodeResult(in)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				out, err := c.DecodeResult(b)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if !reflect.DeepEqual(in, out) {
					t.Fatalf("round trip differs:\n in %+v\nout %+v", in, out)
				}
			})
		}
	}
}

func TestNilFacesDecodeAsEmpty(t *testing.T) {
	c := mustCodec(t)
	in := sampleResult(0)
	in.Faces = nil
	b, err := c.EncodeResult(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.DecodeResult(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Faces == nil || len(out.Faces) != 0 {
		t.Fatalf("faces = %#v, want empty non-nil", out.Faces)
	}
	js, _ := json.Marshal(out)
	if !bytes.Contains(js, []byte(`"faces":[]`)) {
		t.Fatalf("JSON %s lacks \"faces\":[]", js)
	}
}

// TestTimesUTCMillis: the documented rule, any zone and sub-millisecond part in,
// UTC at millisecond precision out.
func TestTimesUTCMillis(t *testing.T) {
	c := mustCodec(t)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	local := time.Date(2025, 6, 1, 23, 59, 59, 999_999_999, zone)
	in := sampleResult(0)
	in.CreatedDate, in.UpdatedDate = local, &local
	b, err := c.EncodeResult(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.DecodeResult(b)
	if err != nil {
		t.Fatal(err)
	}
	want := local.UTC().Truncate(time.Millisecond)
	if out.CreatedDate != want || *out.UpdatedDate != want {
		t.Fatalf("got %v / %v, want %v", out.CreatedDate, *out.UpdatedDate, want)
	}
	if out.CreatedDate.Location() != time.UTC {
		t.Fatalf("location %v, want UTC", out.CreatedDate.Location())
	}
}

// Fingerprints computed by the Java reference implementation, Apache Avro
// 1.12.0 SchemaNormalization.parsingFingerprint64 over the .avsc files (and
// equal to Python avro 1.12.2 on the logical-type-stripped schemas). A change
// of either schema changes them: that is a new contract, update deliberately.
var javaFingerprints = map[string]uint64{
	"CaptureEvent": 0x6c5366a5ff94c856,
	"ScanResult":   0xebb6eb03a69bfbda,
}

func TestSingleObjectHeader(t *testing.T) {
	c := mustCodec(t)
	capture, err := c.EncodeCapture(sampleCapture(10))
	if err != nil {
		t.Fatal(err)
	}
	result, err := c.EncodeResult(sampleResult(1))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"CaptureEvent": capture, "ScanResult": result} {
		if b[0] != 0xC3 || b[1] != 0x01 {
			t.Fatalf("%s: magic % x, want c3 01", name, b[:2])
		}
		if got := binary.LittleEndian.Uint64(b[2:10]); got != javaFingerprints[name] {
			t.Errorf("%s: fingerprint %016x, want %016x (Java reference)", name, got, javaFingerprints[name])
		}
	}
}

func TestEnumSymbolsMatchSchema(t *testing.T) {
	var res struct {
		Fields []struct {
			Name string          `json:"name"`
			Type json.RawMessage `json:"type"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(schemas.ScanResult), &res); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"salesChannel": keysInOrder(scan.Channels),
		"result":       keysInOrder(scan.Results),
		"quality":      keysInOrder(scan.Qualities),
		"luminance":    keysInOrder(scan.Luminances),
	}
	for _, f := range res.Fields {
		w, ok := want[f.Name]
		if !ok {
			continue
		}
		var e struct{ Symbols []string }
		if err := json.Unmarshal(f.Type, &e); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e.Symbols, w) {
			t.Errorf("%s symbols %v, want %v", f.Name, e.Symbols, w)
		}
		delete(want, f.Name)
	}
	if len(want) != 0 {
		t.Errorf("enum fields not found: %v", want)
	}
}

func keysInOrder[T ~string](vs []T) []string {
	var out []string
	for _, v := range vs {
		out = append(out, symbolOf(string(v)))
	}
	return out
}

func TestEveryFieldHasDoc(t *testing.T) {
	for name, text := range map[string]string{"CaptureEvent": schemas.CaptureEvent, "ScanResult": schemas.ScanResult} {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := checkDocs(t, name, v)
		if n == 0 {
			t.Fatalf("%s: no fields found", name)
		}
	}
}

// checkDocs walks a schema's JSON and reports fields without a doc.
func checkDocs(t *testing.T, path string, v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		if fields, ok := x["fields"].([]any); ok {
			for _, f := range fields {
				fm := f.(map[string]any)
				if doc, _ := fm["doc"].(string); doc == "" {
					t.Errorf("%s.%v has no doc", path, fm["name"])
				}
				n++
				n += checkDocs(t, path+"."+fm["name"].(string), fm["type"])
			}
		}
		for _, k := range []string{"items", "type"} {
			if sub, ok := x[k]; ok {
				n += checkDocs(t, path, sub)
			}
		}
	case []any:
		for _, e := range x {
			n += checkDocs(t, path, e)
		}
	}
	return n
}

func TestEncodeRejectsInvalid(t *testing.T) {
	c := mustCodec(t)
	mut := map[string]func(*scan.ScanResult){
		"result spelled as symbol": func(r *scan.ScanResult) { r.Result = "NO_FACE" },
		"empty quality":            func(r *scan.ScanResult) { r.Quality = "" },
		"bad luminance":            func(r *scan.ScanResult) { r.Luminance = "dark" },
		"bad channel":              func(r *scan.ScanResult) { r.SalesChannel = "FAX" },
		"135 landmarks":            func(r *scan.ScanResult) { r.Faces[0].Landmarks68 = r.Faces[0].Landmarks68[:135] },
		"no landmarks":             func(r *scan.ScanResult) { r.Faces[0].Landmarks68 = nil },
		"box beyond int32":         func(r *scan.ScanResult) { r.Faces[0].X2 = math.MaxInt32 + 1 },
		"width beyond int32":       func(r *scan.ScanResult) { r.ImageWidth = -math.MaxInt32 - 2 },
		"version beyond long":      func(r *scan.ScanResult) { r.Version = math.MaxInt64 + 1 },
		"too many faces": func(r *scan.ScanResult) {
			r.Faces = make([]scan.Face, MaxFaces+1)
		},
	}
	for name, m := range mut {
		t.Run(name, func(t *testing.T) {
			r := sampleResult(1)
			m(r)
			if _, err := c.EncodeResult(r); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	bad := sampleCapture(1)
	bad.SalesChannel = "web"
	if _, err := c.EncodeCapture(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("capture with channel web: err = %v, want ErrInvalid", err)
	}
	if _, err := c.EncodeCapture(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nil capture: err = %v", err)
	}
	if _, err := c.EncodeResult(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nil result: err = %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	c := mustCodec(t)
	good, err := c.EncodeResult(sampleResult(2))
	if err != nil {
		t.Fatal(err)
	}
	capture, err := c.EncodeCapture(sampleCapture(100))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("every truncation", func(t *testing.T) {
		for n := range len(good) {
			if _, err := c.DecodeResult(good[:n]); err == nil {
				t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
			}
		}
		for n := range len(capture) {
			if _, err := c.DecodeCapture(capture[:n]); err == nil {
				t.Fatalf("capture truncated to %d of %d bytes: no error", n, len(capture))
			}
		}
	})
	t.Run("trailing byte", func(t *testing.T) {
		_, err := c.DecodeResult(append(bytes.Clone(good), 0))
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
	})
	t.Run("unknown fingerprint", func(t *testing.T) {
		b := bytes.Clone(good)
		b[5] ^= 0xFF
		if _, err := c.DecodeResult(b); !errors.Is(err, ErrUnknownSchema) {
			t.Fatalf("err = %v, want ErrUnknownSchema", err)
		}
	})
	t.Run("confluent without registry", func(t *testing.T) {
		b := append([]byte{0, 0, 0, 0, 7}, good[soeLen:]...)
		if _, err := c.DecodeResult(b); !errors.Is(err, ErrUnknownSchema) {
			t.Fatalf("err = %v, want ErrUnknownSchema", err)
		}
	})
	t.Run("no magic", func(t *testing.T) {
		if _, err := c.DecodeResult([]byte("hello, world")); !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
		if _, err := c.DecodeResult(nil); !errors.Is(err, ErrMalformed) {
			t.Fatalf("nil: err = %v, want ErrMalformed", err)
		}
	})
	t.Run("wrong record", func(t *testing.T) {
		if _, err := c.DecodeCapture(good); !errors.Is(err, ErrWrongRecord) {
			t.Fatalf("err = %v, want ErrWrongRecord", err)
		}
		if _, err := c.DecodeResult(capture); !errors.Is(err, ErrWrongRecord) {
			t.Fatalf("err = %v, want ErrWrongRecord", err)
		}
	})
	t.Run("enum index out of range", func(t *testing.T) {
		// salesChannel is the first enum of CaptureEvent; write index 3 of 3 symbols.
		w := mustWire(t, c, kindCapture, wireCapture{ID: sampleCapture(0).ID.String(), CompanyID: sampleCapture(0).CompanyID.String(), SalesChannel: "WEB"})
		// header, two 36-char uuids, empty createdById and reference, then the enum.
		i := soeLen + 2*(1+36) + 2
		if w[i] != 0x00 {
			t.Fatal("layout changed")
		}
		w[i] = 0x06 // zigzag 3
		if _, err := c.DecodeCapture(w); err == nil {
			t.Fatal("enum index 3 decoded without error")
		}
	})
	t.Run("wrong landmark count", func(t *testing.T) {
		wr, err := resultToWire(sampleResult(1))
		if err != nil {
			t.Fatal(err)
		}
		wr.Faces[0].Landmarks68 = wr.Faces[0].Landmarks68[:10]
		b := mustWire(t, c, kindResult, wr)
		if _, err := c.DecodeResult(b); !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("bad uuid", func(t *testing.T) {
		wc, err := captureToWire(sampleCapture(1))
		if err != nil {
			t.Fatal(err)
		}
		wc.ID = "not-a-uuid-but-thirty-six-characters"
		if _, err := c.DecodeCapture(mustWire(t, c, kindCapture, wc)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("negative version", func(t *testing.T) {
		wr, err := resultToWire(sampleResult(0))
		if err != nil {
			t.Fatal(err)
		}
		wr.Version = -1
		if _, err := c.DecodeResult(mustWire(t, c, kindResult, wr)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
	t.Run("huge array length", func(t *testing.T) {
		wr, err := resultToWire(sampleResult(0))
		if err != nil {
			t.Fatal(err)
		}
		b := mustWire(t, c, kindResult, wr)
		// The faces array (empty: one 0x00 byte) sits before modelVersion; claim 2^40 faces.
		tail := []byte{0x00, byte(2 * len(wr.ModelVersion))}
		i := bytes.LastIndex(b, append(tail, wr.ModelVersion...))
		if i < 0 {
			t.Fatal("layout changed")
		}
		forged := append(bytes.Clone(b[:i]), binary.AppendVarint(nil, 1<<40)...)
		forged = append(forged, b[i+1:]...)
		if _, err := c.DecodeResult(forged); !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
	})
	t.Run("image over max bytes", func(t *testing.T) {
		small := mustCodec(t, WithMaxBytes(1000))
		b, err := small.EncodeCapture(sampleCapture(2000))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := small.DecodeCapture(b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
	})
}

// mustWire frames a wire struct without the domain checks, to forge messages
// that are valid Avro but break the contract.
func mustWire(t *testing.T, c *Codec, k kind, v any) []byte {
	t.Helper()
	l := c.local(k)
	body, err := c.api.Marshal(l.schema, v)
	if err != nil {
		t.Fatal(err)
	}
	return append(l.soe[:], body...)
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []Option{WithRegistry("", nil), WithRegistry("ftp://x", nil), WithRegistry("http://", nil), WithMaxBytes(0)} {
		if _, err := New(o); err == nil {
			t.Error("bad option accepted")
		}
	}
}

// TestForgedLengthCostsLittle: a short message claiming a huge image must not
// make the decoder allocate the claimed size.
func TestForgedLengthCostsLittle(t *testing.T) {
	c := mustCodec(t)
	wc, err := captureToWire(sampleCapture(0))
	if err != nil {
		t.Fatal(err)
	}
	b := mustWire(t, c, kindCapture, wc)
	// The empty image is the last byte; claim DefaultMaxBytes-1 bytes instead.
	forged := binary.AppendVarint(bytes.Clone(b[:len(b)-1]), DefaultMaxBytes-1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := c.DecodeCapture(forged); !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("10 decodes of a %d-byte message allocated %d bytes", len(forged), n)
	}
}
