// Package loadgen posts captures to ingest's check_liveness endpoint and
// measures what comes back: counts per result and per HTTP status, failures,
// throughput and the latencies of the synchronous answers (200s).
//
// It is the one load generator of the project: `ingest send` and
// `make bench-pipeline` both run it. Two modes, one loop:
//
//   - closed loop (Rate 0): Concurrency requests in flight, the next one
//     sent as soon as one returns: the maximum throughput of the service;
//   - paced (Rate > 0): request i is due at start + i/Rate, whatever the
//     answers take (open loop), with at most Concurrency in flight. When
//     that bound holds a request back, it leaves late and Report.MaxLag says
//     by how much, so a run that stopped being open is visible.
//
// Images are held in memory and sent as they are; the multipart body is the
// image's own bytes between a small head and tail, so the generator copies
// nothing per request and stays cheap next to the service it measures.
package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Path is the endpoint under Options.URL.
const Path = "/face-liveness-sdk/v1/check_liveness"

// Result keys of the answers that carry no scan result.
const (
	ResultPending = "(pending: 202)" // the scan was not ready within Wait
)

// Sentinel errors of Run's argument checks.
var (
	ErrNoImages = errors.New("loadgen: no images")
	ErrOptions  = errors.New("loadgen: invalid options")
)

// Image is one capture body, sent as it is (the server sniffs the format).
type Image struct {
	Name string // file name of the multipart part
	Data []byte
}

// Options of a run. The zero value is not runnable: URL is required.
type Options struct {
	URL         string  // base URL of ingest, e.g. http://127.0.0.1:8080
	Token       string  // bearer token
	Channel     string  // channel of every capture (WEB when empty)
	RefPrefix   string  // reference = RefPrefix + zero-padded sequence number
	Concurrency int     // requests in flight at most (1 when 0)
	Count       int     // requests to send, cycling through the images (0: each image once)
	Rate        float64 // requests started per second; 0: as fast as Concurrency allows
	Wait        int     // seconds each request waits for its scan (Prefer: wait=N); 0 sends no Prefer
	// Client sends the requests; nil: a client with Concurrency idle
	// connections kept (net/http keeps 2 per host by default, and a load
	// generator that reconnects measures its own handshakes) and a timeout
	// of Wait + 30 s.
	Client *http.Client
}

func (o Options) check() error {
	switch {
	case o.URL == "":
		return fmt.Errorf("%w: no URL", ErrOptions)
	case o.Concurrency < 0, o.Count < 0, o.Wait < 0:
		return fmt.Errorf("%w: concurrency %d, count %d, wait %d (negative)", ErrOptions, o.Concurrency, o.Count, o.Wait)
	case o.Rate < 0:
		return fmt.Errorf("%w: rate %g (negative)", ErrOptions, o.Rate)
	}
	return nil
}

// Outcome is one request's answer. Status 0 with Err set: no HTTP answer.
type Outcome struct {
	Status  int
	Result  string // the scan's result on a 200, else a key such as "(HTTP 415 unsupported_media_type)"
	Latency time.Duration
	Err     error
}

// Failed is true for what the service should never answer under load: no
// answer at all, or a 5xx. A 4xx is a verdict on the capture (an image the
// server refuses), a 202 a slow scan; both are counted, not failures.
func (o Outcome) Failed() bool { return o.Err != nil || o.Status >= 500 }

// Run sends the captures and reports. It returns early, with what was
// measured so far and ctx's error, when ctx ends. progress, when not nil, is
// called once per finished request (from several goroutines: it must be
// safe for concurrent use, as a progress bar's Add is).
func Run(ctx context.Context, opts Options, images []Image, progress func(Outcome)) (*Report, error) {
	if len(images) == 0 {
		return nil, ErrNoImages
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	own := opts.Client == nil
	opts = withDefaults(opts, len(images))
	s, err := newSender(opts)
	if err != nil {
		return nil, err
	}
	if own {
		defer s.client.CloseIdleConnections()
	}

	rep := NewReport()
	var mu sync.Mutex
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range opts.Concurrency {
		wg.Go(func() {
			for i := range jobs {
				o := s.post(ctx, images[i%len(images)], i)
				mu.Lock()
				rep.add(o)
				mu.Unlock()
				if progress != nil {
					progress(o)
				}
			}
		})
	}
	rep.MaxLag = pace(ctx, jobs, opts.Count, opts.Rate, start)
	close(jobs)
	wg.Wait()
	rep.Elapsed = time.Since(start)
	rep.finish()
	return rep, ctx.Err()
}

func withDefaults(o Options, images int) Options {
	o.URL = strings.TrimRight(o.URL, "/")
	if o.Channel == "" {
		o.Channel = "WEB"
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	if o.Count == 0 {
		o.Count = images
	}
	if o.Client == nil {
		o.Client = &http.Client{
			Timeout:   time.Duration(o.Wait+30) * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency, MaxIdleConns: o.Concurrency},
		}
	}
	return o
}

// pace hands out request numbers 0..n-1: at once when rate is 0, else each
// at its due time. It returns how late, at worst, a paced request was handed
// to a worker (0 when none was held back).
func pace(ctx context.Context, jobs chan<- int, n int, rate float64, start time.Time) time.Duration {
	var maxLag time.Duration
	for i := range n {
		var due time.Time
		if rate > 0 {
			due = start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if !sleepUntil(ctx, due) {
				return maxLag
			}
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			return maxLag
		}
		if rate > 0 {
			maxLag = max(maxLag, time.Since(due))
		}
	}
	return maxLag
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// sender builds and posts one request.
type sender struct {
	opts     Options
	client   *http.Client
	boundary string
}

func newSender(o Options) (*sender, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &sender{opts: o, client: o.Client, boundary: hex.EncodeToString(b[:])}, nil
}

// body is the multipart form: channel, reference and file, the image's
// bytes not copied.
func (s *sender) body(im Image, i int) (io.Reader, int64, string) {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.SetBoundary(s.boundary) // hex of 16 bytes: always valid
	_ = mw.WriteField("channel", s.opts.Channel)
	_ = mw.WriteField("reference", fmt.Sprintf("%s%06d", s.opts.RefPrefix, i))
	_, _ = mw.CreateFormFile("file", im.Name)
	n := head.Len()
	_ = mw.Close() // appends the closing boundary to head
	raw := head.Bytes()
	r := io.MultiReader(bytes.NewReader(raw[:n]), bytes.NewReader(im.Data), bytes.NewReader(raw[n:]))
	return r, int64(len(raw) + len(im.Data)), mw.FormDataContentType()
}

func (s *sender) post(ctx context.Context, im Image, i int) Outcome {
	body, size, ctype := s.body(im, i)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.URL+Path, body)
	if err != nil {
		return Outcome{Err: err}
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", ctype)
	if s.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.opts.Token)
	}
	if s.opts.Wait > 0 {
		req.Header.Set("Prefer", fmt.Sprintf("wait=%d", s.opts.Wait))
	}
	t := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return Outcome{Err: err, Latency: time.Since(t)}
	}
	defer resp.Body.Close()
	// The latency is the whole answer's: a scan's JSON is read to its end.
	raw, err := io.ReadAll(resp.Body)
	o := Outcome{Status: resp.StatusCode, Latency: time.Since(t)}
	if err != nil {
		o.Err = err
		return o
	}
	o.Result = resultKey(resp.StatusCode, raw)
	return o
}

// resultKey names an answer in the report: the scan's result on a 200,
// else the status and the API error code.
func resultKey(status int, raw []byte) string {
	var v struct {
		Result string `json:"result"`
		Error  string `json:"error"`
	}
	_ = json.Unmarshal(raw, &v) // a body that is not JSON leaves both empty
	switch status {
	case http.StatusOK:
		return v.Result
	case http.StatusAccepted:
		return ResultPending
	}
	if v.Error == "" {
		return fmt.Sprintf("(HTTP %d)", status)
	}
	return fmt.Sprintf("(HTTP %d %s)", status, v.Error)
}
