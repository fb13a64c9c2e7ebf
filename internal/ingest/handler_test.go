package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"liveness/internal/auth"
	"liveness/internal/scan"
)

// recorder is the test's Publisher: it keeps what was published and can be
// told to fail, or to answer each capture with a scan through the waiters.
type recorder struct {
	mu        sync.Mutex
	published []*scan.Capture
	traces    []string
	fail      error
	waiters   *Waiters
	respond   bool
}

func (r *recorder) PublishCapture(_ context.Context, c *scan.Capture, trace string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.published = append(r.published, c)
	r.traces = append(r.traces, trace)
	if r.respond {
		res := &scan.ScanResult{Scan: scan.Scan{ID: c.ID, CompanyID: c.CompanyID, Reference: c.Reference,
			SalesChannel: c.SalesChannel, Analysis: scan.Analysis{Result: scan.ResultReal, LivenessScore: 0.9}}}
		go r.waiters.Deliver(c.ID, Outcome{Result: res})
	}
	return nil
}

func (r *recorder) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.published) }

type fixture struct {
	url     string
	pub     *recorder
	company uuid.UUID
	token   string
}

func newFixture(t testing.TB, mutate func(*Config)) *fixture {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "dev.pem")
	acfg := auth.DefaultConfig()
	acfg.DevMode, acfg.DevKeyFile = true, keyFile
	v, err := auth.New(context.Background(), acfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	company := uuid.New()
	tok, err := auth.MintDevToken(keyFile, auth.DevClaims{CompanyID: company, UserID: "u1", Scopes: []string{"write"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{MaxBodyBytes: 2 << 20, MaxImageBytes: 1 << 20, MaxPixels: 4_000_000, MaxReferenceLen: 16,
		Wait: 2 * time.Second, MaxWait: 5 * time.Second, RatePerSecond: 1000, RateBurst: 1000}
	if mutate != nil {
		mutate(&cfg)
	}
	w := NewWaiters()
	pub := &recorder{waiters: w, respond: true}
	h := New(cfg, pub, w, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	app := NewApp(cfg)
	h.Mount(app, auth.Middleware(v, "write"))
	// A real listener on loopback: errors the server raises before the
	// handler (body limit) take the same path as in production.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	return &fixture{url: "http://" + ln.Addr().String() + Route, pub: pub, company: company, token: tok}
}

func pngBytes(t testing.TB, w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// body builds a multipart form; a nil value leaves the field out.
func body(t testing.TB, channel, reference *string, file []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if channel != nil {
		mw.WriteField("channel", *channel)
	}
	if reference != nil {
		mw.WriteField("reference", *reference)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", "selfie.jpg") // the name lies on purpose: bytes decide
		fw.Write(file)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func (f *fixture) post(t testing.TB, b io.Reader, ctype string, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.url, b)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+f.token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp, out
}

func ptr(s string) *string { return &s }

// rawHead sends only the head of a multipart POST declaring length bytes,
// and reads the answer.
func (f *fixture) rawHead(t *testing.T, length int) *http.Response {
	t.Helper()
	u, _ := url.Parse(f.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n", u.Path, u.Host, f.token, length)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestValidCaptureIsPublishedAndAnswered(t *testing.T) {
	f := newFixture(t, nil)
	b, ct := body(t, ptr("MOBILE"), ptr("contract-1"), pngBytes(t, 64, 48))
	trace := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp, out := f.post(t, b, ct, map[string]string{"traceparent": trace})
	if resp.StatusCode != 200 || out["result"] != "Real" || out["reference"] != "contract-1" {
		t.Fatalf("status %d body %v", resp.StatusCode, out)
	}
	if f.pub.count() != 1 {
		t.Fatalf("published %d", f.pub.count())
	}
	c := f.pub.published[0]
	if c.CompanyID != f.company || c.CreatedByID != "u1" || c.SalesChannel != scan.ChannelMobile || c.ContentType != "image/png" {
		t.Fatalf("capture %+v", c)
	}
	if got := f.pub.traces[0]; got[:36] != trace[:36] || got == trace {
		t.Fatalf("trace %q should continue %q with a new span", got, trace)
	}
}

func TestNoResultWithinBudgetIs202WithLocation(t *testing.T) {
	f := newFixture(t, nil)
	f.pub.respond = false
	b, ct := body(t, ptr("WEB"), ptr("r"), pngBytes(t, 8, 8))
	start := time.Now()
	resp, out := f.post(t, b, ct, map[string]string{"Prefer": "wait=1"})
	if resp.StatusCode != 202 || out["status"] != "PENDING" {
		t.Fatalf("status %d body %v", resp.StatusCode, out)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/face-liveness/"+out["id"].(string) {
		t.Fatalf("Location %q", loc)
	}
	if el := time.Since(start); el < time.Second || el > 4*time.Second {
		t.Fatalf("waited %v for Prefer: wait=1", el)
	}
}

func TestDeadLetteredCaptureIs422(t *testing.T) {
	f := newFixture(t, nil)
	f.pub.respond = false
	go func() {
		for f.pub.count() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		f.pub.waiters.Deliver(f.pub.published[0].ID, Outcome{Reason: "decode: unexpected EOF"})
	}()
	b, ct := body(t, ptr("WEB"), ptr("r"), pngBytes(t, 8, 8))
	resp, out := f.post(t, b, ct, nil)
	if resp.StatusCode != 422 || out["error"] != "unprocessable_image" || out["message"] != "decode: unexpected EOF" {
		t.Fatalf("status %d body %v", resp.StatusCode, out)
	}
}

func TestInvalidInputIsRefusedAndNotPublished(t *testing.T) {
	f := newFixture(t, nil)
	img := pngBytes(t, 8, 8)
	bomb := pngBytes(t, 4000, 1001) // 4.004 MP over the 4 MP limit
	cases := []struct {
		name        string
		channel     *string
		ref         *string
		file        []byte
		status      int
		code, field string
	}{
		{"missing channel", nil, ptr("r"), img, 400, "missing_field", "channel"},
		{"unknown channel", ptr("FAX"), ptr("r"), img, 400, "invalid_field", "channel"},
		{"missing reference", ptr("WEB"), nil, img, 400, "missing_field", "reference"},
		{"empty reference", ptr("WEB"), ptr("  "), img, 400, "invalid_field", "reference"},
		{"long reference", ptr("WEB"), ptr("12345678901234567"), img, 400, "invalid_field", "reference"},
		{"control char", ptr("WEB"), ptr("a\x07b"), img, 400, "invalid_field", "reference"},
		{"missing file", ptr("WEB"), ptr("r"), nil, 400, "missing_field", "file"},
		{"empty file", ptr("WEB"), ptr("r"), []byte{}, 400, "invalid_field", "file"},
		{"not an image", ptr("WEB"), ptr("r"), []byte("%PDF-1.7 not a selfie"), 415, "unsupported_media_type", "file"},
		{"too many pixels", ptr("WEB"), ptr("r"), bomb, 422, "too_many_pixels", "file"},
		{"file too large", ptr("WEB"), ptr("r"), append(pngBytes(t, 8, 8), make([]byte, 1<<20)...), 413, "too_large", "file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, ct := body(t, tc.channel, tc.ref, tc.file)
			resp, out := f.post(t, b, ct, nil)
			if resp.StatusCode != tc.status || out["error"] != tc.code || out["field"] != tc.field {
				t.Fatalf("got %d %v, want %d %s field %s", resp.StatusCode, out, tc.status, tc.code, tc.field)
			}
		})
	}
	t.Run("malformed multipart", func(t *testing.T) {
		resp, out := f.post(t, bytes.NewBufferString("--x\r\ngarbage"), "multipart/form-data; boundary=x", nil)
		if resp.StatusCode != 400 || out["error"] != "malformed_multipart" {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
	t.Run("body over the limit", func(t *testing.T) {
		// The server refuses by the declared length, before reading the
		// body: send the head only, so the answer cannot race a reset.
		resp := f.rawHead(t, 3<<20)
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != 413 || out["error"] != "too_large" {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
	if n := f.pub.count(); n != 0 {
		t.Fatalf("%d invalid captures were published", n)
	}
}

func TestKafkaDownIs503WithRetryAfter(t *testing.T) {
	f := newFixture(t, nil)
	f.pub.fail = errors.New("dial tcp 127.0.0.1:9092: connection refused")
	b, ct := body(t, ptr("WEB"), ptr("r"), pngBytes(t, 8, 8))
	resp, out := f.post(t, b, ct, nil)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || out["error"] != "unavailable" {
		t.Fatalf("got %d %v", resp.StatusCode, out)
	}
}

func TestRateLimitPerCompany(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RatePerSecond, c.RateBurst = 0.001, 2 })
	codes := []int{}
	for range 3 {
		b, ct := body(t, ptr("WEB"), ptr("r"), pngBytes(t, 8, 8))
		resp, _ := f.post(t, b, ct, nil)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("codes %v, want 200 200 429", codes)
	}
}

func TestWaitBudget(t *testing.T) {
	def, max := 5*time.Second, 30*time.Second
	for in, want := range map[string]time.Duration{
		"": def, "wait=3": 3 * time.Second, "respond-async, wait=10": 10 * time.Second,
		"wait=999": max, "wait=-1": def, "wait=abc": def, "WAIT=0": 0,
	} {
		if got := waitBudget(in, def, max); got != want {
			t.Errorf("Prefer %q: %v, want %v", in, got, want)
		}
	}
}

// FuzzCheckLiveness: whatever the body, the handler answers with a status
// below 500 and never panics.
func FuzzCheckLiveness(f *testing.F) {
	fx := newFixture(f, func(c *Config) { c.Wait = 0 })
	fx.pub.respond = false
	good, ct := body(f, ptr("WEB"), ptr("r"), pngBytes(f, 8, 8))
	f.Add(good.Bytes(), ct)
	f.Add([]byte("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n\x89PNG\r\n--x--"), "multipart/form-data; boundary=x")
	f.Add([]byte{}, "text/plain")
	f.Fuzz(func(t *testing.T, b []byte, ctype string) {
		resp, _ := fx.post(t, bytes.NewReader(b), ctype, nil)
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for a client's body", resp.StatusCode)
		}
	})
}
