package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/auth"
	"liveness/internal/avro"
	"liveness/internal/batch"
	"liveness/internal/cli"
	"liveness/internal/config"
	"liveness/internal/kafka"
	"liveness/internal/queryapi"
	"liveness/internal/scan"
	"liveness/internal/sink"
	"liveness/internal/store"
)

func init() {
	commands["bench"] = cli.Command{Summary: "benchmark: N generated scans through Kafka and the sink, clickhouse-client's insert rate, then query API load", Run: bench}
}

// benchConfig is every setting of query bench.
type benchConfig struct {
	ch                                       store.Config
	kc                                       kafka.Config
	scans, companies, concurrency, deepPages int
	duration                                 time.Duration
	policy                                   batch.Policy
	inserts                                  int
	client                                   string
	keep                                     bool
}

func (bc *benchConfig) register(s *config.Set) {
	bc.ch.Register(s)
	bc.kc.Bind(s)
	s.Int(&bc.scans, "BENCH_SCANS", 1_000_000, "scans to generate and load")
	s.Int(&bc.companies, "BENCH_COMPANIES", 4, "companies the scans are spread over")
	s.Int(&bc.concurrency, "BENCH_CONCURRENCY", 8, "concurrent HTTP clients of the load phase")
	s.Int(&bc.deepPages, "BENCH_DEEP_PAGES", 200, "pages (of 20) walked by cursor to reach the deep page")
	s.Duration(&bc.duration, "BENCH_DURATION", 10*time.Second, "load per endpoint")
	s.String(&bc.client, "BENCH_CLICKHOUSE_CLIENT", "clickhouse-client", "clickhouse-client binary for the reference insert")
	s.Bool(&bc.keep, "BENCH_KEEP", false, "keep the bench databases and topic")
	// The sink's own batch settings, same names as query sink's.
	s.Int(&bc.policy.MaxItems, "SINK_BATCH_ROWS", sink.DefaultBatchPolicy.MaxItems, "events per batch (insert) at most")
	s.Int(&bc.policy.MaxBytes, "SINK_BATCH_BYTES", sink.DefaultBatchPolicy.MaxBytes, "bytes of events per batch at most")
	s.Duration(&bc.policy.MaxWait, "SINK_BATCH_WAIT", sink.DefaultBatchPolicy.MaxWait, "longest wait from a batch's first event to its insert")
	s.Int(&bc.inserts, "SINK_INSERTS", sink.DefaultInserts, "batches inserted at once, each on its own connection (commits stay in order)")
}

// bench is the `make bench-query` program. It works in a fresh topic and
// fresh databases (dropped at the end unless BENCH_KEEP), so it never
// touches the service's own data.
func bench(ctx context.Context, args []string) error {
	var bc benchConfig
	s := config.New("bench")
	bc.register(s)
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	ch, kc := bc.ch, bc.kc
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	suffix := strings.ToLower(rand.Text()[:8])
	topic, group := "bench.results."+suffix, "bench-sink-"+suffix
	sinkDB, cliDB := "bench_"+suffix, "bench_"+suffix+"_cli"
	fmt.Printf("bench-query: %d scans, %d companies, topic %s, databases %s and %s\n", bc.scans, bc.companies, topic, sinkDB, cliDB)

	stores := map[string]*store.Store{}
	for _, db := range []string{sinkDB, cliDB} {
		c := ch
		c.Database = db
		st, err := store.Open(c, store.WithLogger(log))
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Migrate(ctx); err != nil {
			return err
		}
		stores[db] = st
	}
	if !bc.keep {
		defer func() {
			for _, db := range []string{sinkDB, cliDB} {
				_ = exec.Command(bc.client, "--host", host(ch.Addr), "--port", port(ch.Addr), "-q", "DROP DATABASE IF EXISTS "+db).Run()
			}
		}()
	}
	if _, err := kafka.EnsureTopics(ctx, kc, kafka.TopicSpec{Name: topic, Partitions: 12, Configs: map[string]string{"retention.ms": "86400000"}}); err != nil {
		return err
	}

	// 1. Produce.
	codec, err := avro.New()
	if err != nil {
		return err
	}
	companies := make([]uuid.UUID, bc.companies)
	for i := range companies {
		companies[i] = uuid.New()
	}
	start := time.Now()
	ids, err := produceScans(ctx, kc, topic, codec, companies, bc.scans)
	if err != nil {
		return err
	}
	fmt.Printf("produce: %d events in %v (%.0f/s)\n", bc.scans, time.Since(start).Round(time.Millisecond), float64(bc.scans)/time.Since(start).Seconds())

	// 2. The sink, from the topic's start, until every event is stored.
	sinkRate, err := runBenchSink(ctx, kc, topic, group, codec, stores[sinkDB], bc.scans, log, sink.WithPolicy(bc.policy), sink.WithInserts(bc.inserts))
	if err != nil {
		return err
	}

	// 3. clickhouse-client inserting the very same rows (Native format, the
	// client's fastest) into a twin database with the same tables and views.
	cliRate, err := clientInsert(ctx, bc.client, ch.Addr, sinkDB, cliDB, bc.scans)
	if err != nil {
		return err
	}
	fmt.Printf("RESULT sink %.0f rows/s, clickhouse-client %.0f rows/s, ratio %.2f (target >= 0.5), load avg %s\n", sinkRate, cliRate, sinkRate/cliRate, loadAvg())

	// 4. Query load against the sink's database.
	return loadQueries(ctx, stores[sinkDB], companies[0], ids, bc, log)
}

// genScan is a plausible one-face scan of company, created within 60 days.
func genScan(rng *mrand.Rand, company uuid.UUID, i int, base time.Time) scan.ScanResult {
	lm := make([]float32, scan.LandmarkCount)
	for k := range lm {
		lm[k] = 100 + rng.Float32()*300
	}
	score := rng.Float64()
	res := scan.ResultSpoof
	switch {
	case i%50 == 0:
		res = scan.ResultNoFace
	case score >= 0.7:
		res = scan.ResultReal
	}
	return scan.ScanResult{
		Scan: scan.Scan{
			ID: uuid.New(), CompanyID: company,
			CreatedDate: base.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour)))).Truncate(time.Millisecond),
			CreatedByID: fmt.Sprintf("channel-%d", i%5), Reference: fmt.Sprintf("contract-%08d", i), ElapsedTime: rng.Float64() * 2,
			SalesChannel: scan.Channels[i%3],
			Analysis: scan.Analysis{
				LivenessScore: score, Luminance: scan.Luminances[i%3], Quality: scan.Qualities[i%3], Result: res,
				EyeClosed: i%7 == 0, NotFront: i%11 == 0,
				Faces: []scan.Face{{X1: 100, Y1: 80, X2: 340, Y2: 380, Liveness: score, Yaw: rng.Float64()*20 - 10,
					FaceQuality: rng.Float64(), FaceLuminance: 128, EyeDistance: 90, Landmarks68: lm}},
			},
		},
		ModelVersion: "bench", ImageWidth: 640, ImageHeight: 480, Version: 1,
	}
}

// produceScans publishes n scans round-robin over companies and returns the
// ids of the first company's scans (the load phase reads them back).
func produceScans(ctx context.Context, kc kafka.Config, topic string, codec *avro.Codec, companies []uuid.UUID, n int) ([]uuid.UUID, error) {
	w, err := kafka.NewWriter(kc, topic, kafka.WithBatchSize(5000), kafka.WithBatchTimeout(20*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer w.Close()
	rng := mrand.New(mrand.NewPCG(1, 2))
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var ids []uuid.UUID
	const chunk = 20_000
	msgs := make([]kafkago.Message, 0, chunk)
	for i := range n {
		sr := genScan(rng, companies[i%len(companies)], i, base)
		if i%len(companies) == 0 {
			ids = append(ids, sr.ID)
		}
		b, err := codec.EncodeResult(&sr)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, kafkago.Message{Key: []byte(sr.ID.String()), Value: b})
		if len(msgs) == chunk || i == n-1 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				return nil, err
			}
			msgs = msgs[:0]
		}
	}
	return ids, nil
}

func runBenchSink(ctx context.Context, kc kafka.Config, topic, group string, codec *avro.Codec, st *store.Store, n int, log *slog.Logger, opts ...sink.Option) (float64, error) {
	r, err := kafka.NewReader(kc, group, topic)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	w, err := kafka.NewWriter(kc, topic+".dlq")
	if err != nil {
		return 0, err
	}
	defer w.Close()
	reg := prometheus.NewRegistry()
	sk, err := sink.New(r, codec, st, w, append(opts, sink.WithLogger(log), sink.WithMetrics(reg))...)
	if err != nil {
		return 0, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- sk.Run(sctx) }()
	var stored float64
	for stored < float64(n) {
		select {
		case err := <-done:
			cancel()
			return 0, fmt.Errorf("sink stopped early: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "sink_events_stored_total" {
				stored = mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
	}
	took := time.Since(start)
	cancel()
	<-done
	rate := float64(n) / took.Seconds()
	// Where the time went: the inserts (retries included) against the rest
	// (the group join, fetching and decoding, overlapped with the inserts).
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "sink_insert_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			fmt.Printf("sink: %d inserts took %.1f s in all (%.0f ms each on average)\n", h.GetSampleCount(), h.GetSampleSum(),
				1000*h.GetSampleSum()/float64(max(1, h.GetSampleCount())))
		}
	}
	fmt.Printf("sink: %d rows stored and committed in %v (%.0f rows/s, includes the consumer-group join), load avg %s\n", n, took.Round(time.Millisecond), rate, loadAvg())
	return rate, nil
}

func host(addr string) string { h, _, _ := net.SplitHostPort(strings.Split(addr, ",")[0]); return h }
func port(addr string) string { _, p, _ := net.SplitHostPort(strings.Split(addr, ",")[0]); return p }

// clientInsert exports the sink's rows in Native format and times
// clickhouse-client inserting them into the twin database.
func clientInsert(ctx context.Context, client, addr, from, to string, n int) (float64, error) {
	dir, err := os.MkdirTemp("", "bench-query-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "scans.native")
	conn := []string{"--host", host(addr), "--port", port(addr)}
	cols, err := exec.CommandContext(ctx, client, append(conn, "-q",
		"SELECT arrayStringConcat(groupArray(name), ', ') FROM system.columns WHERE database = '"+from+"' AND table = 'scans'")...).Output()
	if err != nil {
		return 0, fmt.Errorf("clickhouse-client columns: %w", err)
	}
	list := strings.TrimSpace(string(cols))
	out, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	exp := exec.CommandContext(ctx, client, append(conn, "-q", "SELECT "+list+" FROM "+from+".scans FORMAT Native")...)
	exp.Stdout = out
	if err := exp.Run(); err != nil {
		out.Close()
		return 0, fmt.Errorf("clickhouse-client export: %w", err)
	}
	out.Close()
	in, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	ins := exec.CommandContext(ctx, client, append(conn, "-q", "INSERT INTO "+to+".scans ("+list+") FORMAT Native")...)
	ins.Stdin = in
	var stderr bytes.Buffer
	ins.Stderr = &stderr
	start := time.Now()
	if err := ins.Run(); err != nil {
		return 0, fmt.Errorf("clickhouse-client insert: %w: %s", err, stderr.String())
	}
	took := time.Since(start)
	rate := float64(n) / took.Seconds()
	fi, _ := os.Stat(file)
	fmt.Printf("clickhouse-client: %d rows (%d MB Native) inserted in %v (%.0f rows/s), load avg %s\n", n, fi.Size()>>20, took.Round(time.Millisecond), rate, loadAvg())
	return rate, nil
}

// loadQueries serves the API on loopback and drives each endpoint in turn.
func loadQueries(ctx context.Context, st *store.Store, company uuid.UUID, ids []uuid.UUID, bc benchConfig, log *slog.Logger) error {
	dir, err := os.MkdirTemp("", "bench-query-key-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ac := auth.DefaultConfig()
	ac.DevMode, ac.DevKeyFile = true, filepath.Join(dir, "key.pem")
	v, err := auth.New(ctx, ac, auth.WithLogger(log))
	if err != nil {
		return err
	}
	defer v.Close()
	tok, err := auth.MintDevToken(ac.DevKeyFile, auth.DevClaims{CompanyID: company, UserID: "bench", Scopes: []string{"read"}})
	if err != nil {
		return err
	}
	app := queryapi.New(st, nil, v, queryapi.WithLogger(log))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = app.Listener(ln) }()
	defer app.Shutdown()
	base := "http://" + ln.Addr().String() + queryapi.Base
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: bc.concurrency * 2}, Timeout: 30 * time.Second}

	// The deep page: walk the cursor, as a client would, to page BENCH_DEEP_PAGES.
	cursor := ""
	walk := time.Now()
	for range bc.deepPages {
		var p queryapi.Page
		if err := getJSON(client, base+"?size=20"+cursor, tok, &p); err != nil {
			return err
		}
		if p.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	fmt.Printf("cursor walk: %d pages in %v\n", bc.deepPages, time.Since(walk).Round(time.Millisecond))

	rng := mrand.New(mrand.NewPCG(3, 4))
	var mu sync.Mutex
	endpoints := []struct {
		name string
		url  func() string
	}{
		{"get-by-id", func() string {
			mu.Lock()
			defer mu.Unlock()
			return base + "/" + ids[rng.IntN(len(ids))].String()
		}},
		{"list-first-page", func() string { return base + "?size=20" }},
		{"list-deep-cursor", func() string { return base + "?size=20" + cursor }},
		{"stats-30d-day", func() string {
			return base + "/stats?interval=day&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z"
		}},
	}
	// One client first (latency, nothing queued), then BENCH_CONCURRENCY
	// (throughput; on a two-core server a closed loop of 8 queues ~4 deep,
	// so its latencies are mostly waiting).
	fmt.Printf("%-18s %7s %8s %9s %9s %9s %7s %s\n", "endpoint", "clients", "requests", "req/s", "p50", "p99", "errors", "load avg (1 min)")
	for _, c := range slices.Compact([]int{1, bc.concurrency}) {
		for _, ep := range endpoints {
			r := drive(ctx, client, tok, ep.url, c, bc.duration)
			fmt.Printf("%-18s %7d %8d %9.1f %9s %9s %7d %s\n", ep.name, c, r.n, float64(r.n)/bc.duration.Seconds(),
				r.pct(0.50).Round(10*time.Microsecond), r.pct(0.99).Round(10*time.Microsecond), r.errors, loadAvg())
		}
	}
	return nil
}

// loadAvg is the machine's 1-minute load average ("?" where unknown): the
// figures mean little without it on a shared machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

type loadResult struct {
	n, errors int
	lat       []time.Duration
}

func (r loadResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

// drive runs c closed-loop clients for d and gathers latencies of 200s.
func drive(ctx context.Context, client *http.Client, tok string, next func() string, c int, d time.Duration) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequest("GET", next(), nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				t := time.Now()
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				el := time.Since(t)
				mu.Lock()
				res.n++
				if ok {
					res.lat = append(res.lat, el)
				} else {
					res.errors++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(res.lat)
	return res
}

func getJSON(client *http.Client, u, tok string, v any) error {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return json.Unmarshal(b, v)
}
