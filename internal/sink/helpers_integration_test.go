//go:build integration

package sink

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/avro"
	"liveness/internal/kafka"
	"liveness/internal/scan"
	"liveness/internal/store"
)

// env is one test's real infrastructure: fresh topics and group on the local
// broker, a fresh migrated database on the local ClickHouse. Both fail the
// test (never skip) when they do not answer.
type env struct {
	kcfg            kafka.Config
	topic, dlq, grp string
	chcfg           store.Config
	conn            driver.Conn // direct, for assertions
	codec           *avro.Codec
}

func quietLog() *slog.Logger {
	if os.Getenv("SINK_TEST_LOG") != "" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := &env{kcfg: kafka.DefaultConfig()}
	if b := kafka.SplitBrokers(os.Getenv(kafka.EnvBrokers)); len(b) > 0 {
		e.kcfg.Brokers = b
	}
	if _, err := kafka.Ping(ctx, e.kcfg); err != nil {
		t.Fatalf("Kafka at %v does not answer (scripts/kafka.sh up): %v", e.kcfg.Brokers, err)
	}
	suffix := strings.ToLower(rand.Text()[:10])
	e.topic, e.dlq, e.grp = "test.sink.results."+suffix, "test.sink.dlq."+suffix, "test-sink-"+suffix
	if _, err := kafka.EnsureTopics(ctx, e.kcfg,
		kafka.TopicSpec{Name: e.topic, Partitions: 4, Configs: map[string]string{"retention.ms": "3600000"}},
		kafka.TopicSpec{Name: e.dlq, Partitions: 1, Configs: map[string]string{"retention.ms": "3600000"}},
	); err != nil {
		t.Fatal(err)
	}
	e.chcfg = store.Config{Addr: envOr("CLICKHOUSE_ADDR", store.DefaultAddr), Database: "sink_test_" + suffix, Username: store.DefaultUsername}
	st, err := store.Open(e.chcfg, store.WithLogger(quietLog()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("ClickHouse at %s: migrate: %v (scripts/clickhouse.sh up)", e.chcfg.Addr, err)
	}
	e.conn, err = clickhouse.Open(&clickhouse.Options{Addr: []string{e.chcfg.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+e.chcfg.Database)
		e.conn.Close()
	})
	if e.codec, err = avro.New(); err != nil {
		t.Fatal(err)
	}
	return e
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// startSink runs a sink against ClickHouse at addr until the returned stop
// is called; stop returns Run's error.
func (e *env) startSink(t *testing.T, addr string, opts ...Option) (stop func() error) {
	t.Helper()
	r, err := kafka.NewReader(e.kcfg, e.grp, e.topic)
	if err != nil {
		t.Fatal(err)
	}
	w, err := kafka.NewWriter(e.kcfg, e.dlq)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.chcfg
	cfg.Addr = addr
	st, err := store.Open(cfg, store.WithDialTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]Option{WithLogger(quietLog()), WithBackoff(50*time.Millisecond, 500*time.Millisecond)}, opts...)
	s, err := New(r, e.codec, st, w, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
			r.Close()
			w.Close()
			st.Close()
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// produce publishes the scans (Avro, key = id) and the raw extra values.
func (e *env) produce(t *testing.T, scans []scan.ScanResult, raw ...[]byte) {
	t.Helper()
	w, err := kafka.NewWriter(e.kcfg, e.topic, kafka.WithBatchSize(1000))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var msgs []kafkago.Message
	for i := range scans {
		b, err := e.codec.EncodeResult(&scans[i])
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafkago.Message{Key: []byte(scans[i].ID.String()), Value: b})
	}
	for i, r := range raw {
		msgs = append(msgs, kafkago.Message{Key: fmt.Appendf(nil, "raw-%d", i), Value: r})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func (e *env) count(t *testing.T, q string) uint64 {
	t.Helper()
	var n uint64
	if err := e.conn.QueryRow(context.Background(), strings.ReplaceAll(q, "$db", e.chcfg.Database)).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// committed sums the group's committed offsets over the topic's partitions:
// on a fresh topic, the number of events the sink has committed.
func (e *env) committed(t *testing.T) int64 {
	t.Helper()
	cl, err := e.kcfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer kafka.CloseIdle(cl)
	res, err := cl.OffsetFetch(context.Background(), &kafkago.OffsetFetchRequest{
		GroupID: e.grp, Topics: map[string][]int{e.topic: {0, 1, 2, 3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range res.Topics[e.topic] {
		if p.CommittedOffset > 0 {
			sum += p.CommittedOffset
		}
	}
	return sum
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// genScans builds n plausible scans of company, version 1.
func genScans(seed uint64, company uuid.UUID, n int) []scan.ScanResult {
	rng := mrand.New(mrand.NewPCG(seed, seed^0x9e37))
	out := make([]scan.ScanResult, n)
	base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		lm := make([]float32, scan.LandmarkCount)
		for k := range lm {
			lm[k] = 100 + rng.Float32()*200
		}
		score := rng.Float64()
		res := scan.ResultSpoof
		if score >= 0.7 {
			res = scan.ResultReal
		}
		out[i] = scan.ScanResult{
			Scan: scan.Scan{
				ID: uuid.New(), CompanyID: company,
				CreatedDate: base.Add(time.Duration(i) * time.Second).Add(time.Duration(rng.IntN(1000)) * time.Millisecond),
				CreatedByID: "channel-1", Reference: fmt.Sprintf("ref-%d", i), ElapsedTime: rng.Float64(),
				SalesChannel: scan.Channels[i%3],
				Analysis: scan.Analysis{
					LivenessScore: score, Luminance: scan.LuminanceNormal, Quality: scan.QualityHigh, Result: res,
					Faces: []scan.Face{{X1: 10, Y1: 20, X2: 200, Y2: 260, Liveness: score, EyeDistance: 90, Landmarks68: lm}},
				},
			},
			ModelVersion: "test", ImageWidth: 640, ImageHeight: 480, Version: 1,
		}
	}
	return out
}

// proxy is a TCP forwarder to ClickHouse that the test can take down (listener
// closed, every connection cut: the sink sees refused connections and resets,
// as with a server that died) and bring back on the same port.
type proxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target, conns: map[net.Conn]struct{}{}}
	p.up(t)
	t.Cleanup(p.down)
	return p
}

func (p *proxy) up(t *testing.T) {
	t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *proxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}
