package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeIngest answers as ingest does, by the capture's bytes: "real" and
// "spoof" a 200 with that result, "slow" a 202, "text" a 415, "boom" a 503;
// "delay:<duration>" a 200 after that long. It records what it received.
type fakeIngest struct {
	mu       sync.Mutex
	refs     []string
	arrivals []time.Time
	bad      []string // requests that were not what ingest expects
	inFlight atomic.Int32
	maxIn    atomic.Int32
	hold     time.Duration // every request takes at least this long
}

func (f *fakeIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for m := f.maxIn.Load(); n > m && !f.maxIn.CompareAndSwap(m, n); m = f.maxIn.Load() {
	}
	var problems []string
	if r.Method != http.MethodPost || r.URL.Path != Path {
		problems = append(problems, r.Method+" "+r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer tok" {
		problems = append(problems, "authorization "+got)
	}
	if got := r.Header.Get("Prefer"); got != "wait=7" {
		problems = append(problems, "prefer "+got)
	}
	file, _, err := r.FormFile("file")
	var data []byte
	if err == nil {
		data, err = io.ReadAll(file)
	}
	if err != nil {
		problems = append(problems, "file: "+err.Error())
	}
	if ch := r.FormValue("channel"); ch != "MOBILE" {
		problems = append(problems, "channel "+ch)
	}
	f.mu.Lock()
	f.refs = append(f.refs, r.FormValue("reference"))
	f.arrivals = append(f.arrivals, now)
	f.bad = append(f.bad, problems...)
	f.mu.Unlock()
	time.Sleep(f.hold)
	body := string(data)
	if d, ok := strings.CutPrefix(body, "delay:"); ok {
		dd, _ := time.ParseDuration(d)
		time.Sleep(dd)
		body = "real"
	}
	w.Header().Set("Content-Type", "application/json")
	switch body {
	case "real", "spoof":
		fmt.Fprintf(w, `{"id":"x","result":%q,"faces":[]}`, map[string]string{"real": "Real", "spoof": "Spoof"}[body])
	case "slow":
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"id":"x"}`)
	case "text":
		w.WriteHeader(http.StatusUnsupportedMediaType)
		fmt.Fprint(w, `{"error":"unsupported_media_type","message":"not an image","field":"file"}`)
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":"unavailable"}`)
	}
}

func serve(t *testing.T, f *fakeIngest) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

func images(bodies ...string) []Image {
	out := make([]Image, len(bodies))
	for i, b := range bodies {
		out[i] = Image{Name: fmt.Sprintf("img%d.jpg", i), Data: []byte(b)}
	}
	return out
}

func opts(url string) Options {
	return Options{URL: url + "/", Token: "tok", Channel: "MOBILE", RefPrefix: "t-", Concurrency: 3, Wait: 7}
}

func TestRunCountsResultsStatusesAndFailures(t *testing.T) {
	f := &fakeIngest{}
	o := opts(serve(t, f))
	o.Count = 10 // cycles through the five images twice
	var progressed atomic.Int32
	rep, err := Run(context.Background(), o, images("real", "spoof", "slow", "text", "boom"),
		func(Outcome) { progressed.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if len(f.bad) > 0 {
		t.Fatalf("the server saw malformed requests: %v", f.bad)
	}
	wantResults := map[string]int{"Real": 2, "Spoof": 2, ResultPending: 2,
		"(HTTP 415 unsupported_media_type)": 2, "(HTTP 503 unavailable)": 2}
	if !maps.Equal(rep.ByResult, wantResults) {
		t.Errorf("by result %v, want %v", rep.ByResult, wantResults)
	}
	wantStatus := map[int]int{200: 4, 202: 2, 415: 2, 503: 2}
	if !maps.Equal(rep.ByStatus, wantStatus) {
		t.Errorf("by status %v, want %v", rep.ByStatus, wantStatus)
	}
	if rep.Sent != 10 || rep.Failed != 2 || rep.OK() != 4 || progressed.Load() != 10 {
		t.Errorf("sent %d failed %d ok %d progress %d, want 10 2 4 10", rep.Sent, rep.Failed, rep.OK(), progressed.Load())
	}
	if !slices.IsSorted(rep.Latencies) || rep.Throughput() <= 0 || rep.Elapsed <= 0 {
		t.Errorf("latencies %v sorted? throughput %v elapsed %v", rep.Latencies, rep.Throughput(), rep.Elapsed)
	}
	// Every reference is the prefix and a distinct sequence number.
	refs := slices.Sorted(slices.Values(f.refs))
	for i, r := range refs {
		if want := fmt.Sprintf("t-%06d", i); r != want {
			t.Fatalf("references %v, want t-000000..t-000009", refs)
		}
	}
}

func TestRunLatencyPercentilesOfThe200s(t *testing.T) {
	f := &fakeIngest{}
	o := opts(serve(t, f))
	o.Concurrency = 4
	// 19 quick answers and one of 150 ms; the 202 and 503 are not in the latencies.
	bodies := []string{"delay:150ms", "slow", "boom"}
	for range 19 {
		bodies = append(bodies, "real")
	}
	rep, err := Run(context.Background(), o, images(bodies...), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() != 20 {
		t.Fatalf("%d latencies, want the 20 200s", rep.OK())
	}
	if p99, p50 := rep.Percentile(99), rep.Percentile(50); p99 < 150*time.Millisecond || p50 >= 150*time.Millisecond {
		t.Errorf("p50 %v p99 %v: want p99 >= 150ms (the slow answer) and p50 below it", p50, p99)
	}
	if rep.Percentile(95) != rep.Latencies[18] {
		t.Errorf("p95 of 20 is the 19th value")
	}
}

func TestRunKeepsConcurrencyInFlight(t *testing.T) {
	f := &fakeIngest{hold: 40 * time.Millisecond}
	o := opts(serve(t, f))
	o.Concurrency, o.Count = 3, 12
	if _, err := Run(context.Background(), o, images("real"), nil); err != nil {
		t.Fatal(err)
	}
	if m := f.maxIn.Load(); m != 3 {
		t.Errorf("max in flight %d, want 3", m)
	}
}

// A paced run starts request i at i/Rate: arrivals are spread over
// (Count-1)/Rate and each one is not early.
func TestRunPacesAtRate(t *testing.T) {
	f := &fakeIngest{hold: 30 * time.Millisecond}
	o := opts(serve(t, f))
	o.Rate, o.Count, o.Concurrency = 40, 21, 8 // 500 ms of arrivals, each answer 30 ms: the bound never binds
	start := time.Now()
	rep, err := Run(context.Background(), o, images("real"), nil)
	if err != nil {
		t.Fatal(err)
	}
	arr := slices.SortedFunc(slices.Values(f.arrivals), time.Time.Compare)
	span := arr[len(arr)-1].Sub(arr[0])
	if span < 450*time.Millisecond || span > 700*time.Millisecond {
		t.Errorf("arrivals over %v, want 500 ms (±)", span)
	}
	for i, a := range arr {
		if due := start.Add(time.Duration(i) * 25 * time.Millisecond); a.Before(due.Add(-5 * time.Millisecond)) {
			t.Errorf("arrival %d at %v, due at %v: early", i, a.Sub(start), due.Sub(start))
		}
	}
	if got := rep.Throughput(); got < 30 || got > 42 {
		t.Errorf("throughput %.1f/s, want about 40 (21 over 530 ms)", got)
	}
	if f.maxIn.Load() > 3 {
		t.Errorf("max in flight %d: an answer of 30 ms at 25 ms intervals keeps one or two", f.maxIn.Load())
	}
}

// Paced faster than Concurrency can answer, requests leave late and MaxLag
// says so; a slow answer does not slow the arrivals when the bound allows.
func TestRunPacedLagWhenTheBoundHolds(t *testing.T) {
	f := &fakeIngest{hold: 100 * time.Millisecond}
	o := opts(serve(t, f))
	o.Rate, o.Count, o.Concurrency = 50, 10, 1 // due every 20 ms, answered every 100 ms
	rep, err := Run(context.Background(), o, images("real"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxLag < 500*time.Millisecond {
		t.Errorf("max lag %v, want about 9×80 ms", rep.MaxLag)
	}
	o.Concurrency = 10 // open: every request in flight at its due time
	rep, err = Run(context.Background(), o, images("real"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxLag > 50*time.Millisecond || rep.Elapsed > 400*time.Millisecond {
		t.Errorf("max lag %v elapsed %v, want ~0 and ~280 ms", rep.MaxLag, rep.Elapsed)
	}
}

func TestRunWithoutAServerCountsEveryRequestFailed(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	o := opts(url)
	o.Count = 5
	rep, err := Run(context.Background(), o, images("real"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 5 || rep.Failed != 5 || rep.ByStatus[0] != 5 || rep.OK() != 0 {
		t.Errorf("sent %d failed %d no-answer %d ok %d, want 5 5 5 0", rep.Sent, rep.Failed, rep.ByStatus[0], rep.OK())
	}
	for k := range rep.ByResult {
		if !strings.HasPrefix(k, "(error: ") {
			t.Errorf("result key %q, want an (error: ...)", k)
		}
	}
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	f := &fakeIngest{}
	o := opts(serve(t, f))
	o.Rate, o.Count = 20, 100 // 5 s if it ran to the end
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rep, err := Run(ctx, o, images("real"), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's", err)
	}
	if rep == nil || rep.Sent == 0 || rep.Sent > 10 {
		t.Fatalf("report %+v: want the few requests sent before the end", rep)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	if _, err := Run(context.Background(), Options{URL: "http://x"}, nil, nil); !errors.Is(err, ErrNoImages) {
		t.Errorf("no images: %v", err)
	}
	for _, o := range []Options{{}, {URL: "http://x", Rate: -1}, {URL: "http://x", Concurrency: -2}, {URL: "http://x", Count: -1}} {
		if _, err := Run(context.Background(), o, images("real"), nil); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", o, err)
		}
	}
}

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	ten := d[:10]
	for _, c := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{d, 50, 50 * time.Millisecond}, {d, 95, 95 * time.Millisecond}, {d, 99, 99 * time.Millisecond},
		{d, 100, 100 * time.Millisecond}, {d, 0, 1 * time.Millisecond}, {d, 29, 29 * time.Millisecond},
		{ten, 12, 2 * time.Millisecond}, {ten, 50, 5 * time.Millisecond}, {ten, 99, 10 * time.Millisecond},
		{d[:1], 50, 1 * time.Millisecond}, {nil, 50, 0},
	} {
		if got := Percentile(c.in, c.p); got != c.want {
			t.Errorf("p%g of %d = %v, want %v", c.p, len(c.in), got, c.want)
		}
	}
}

func TestReportMergeIsOneRunOfBoth(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	a := &Report{Sent: 3, Failed: 1, ByResult: map[string]int{"Real": 2, "(error: x)": 1}, ByStatus: map[int]int{200: 2, 0: 1},
		Elapsed: time.Second, MaxLag: 5 * time.Millisecond, Latencies: ms(10, 30)}
	b := &Report{Sent: 2, ByResult: map[string]int{"Real": 1, "Spoof": 1}, ByStatus: map[int]int{200: 2},
		Elapsed: 3 * time.Second, MaxLag: 2 * time.Millisecond, Latencies: ms(5, 20)}
	r := NewReport()
	r.Merge(a)
	r.Merge(b)
	if r.Sent != 5 || r.Failed != 1 || r.OK() != 4 || r.ByResult["Real"] != 3 || r.ByResult["Spoof"] != 1 || r.ByStatus[200] != 4 || r.ByStatus[0] != 1 {
		t.Errorf("counts: %+v", r)
	}
	if r.Elapsed != 4*time.Second || r.Throughput() != 1.25 || r.MaxLag != 5*time.Millisecond {
		t.Errorf("elapsed %v, throughput %g, lag %v", r.Elapsed, r.Throughput(), r.MaxLag)
	}
	if !slices.Equal(r.Latencies, ms(5, 10, 20, 30)) || r.Percentile(50) != 10*time.Millisecond {
		t.Errorf("latencies %v, p50 %v", r.Latencies, r.Percentile(50))
	}
}

type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestRunSendsThroughTheGivenClient(t *testing.T) {
	f := &fakeIngest{}
	o := opts(serve(t, f))
	tr := &countingTransport{}
	o.Client, o.Count = &http.Client{Transport: tr}, 6
	rep, err := Run(context.Background(), o, images("real", "spoof"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.n.Load() != 6 || rep.OK() != 6 {
		t.Errorf("client carried %d requests, %d answered 200; want 6 and 6", tr.n.Load(), rep.OK())
	}
}
