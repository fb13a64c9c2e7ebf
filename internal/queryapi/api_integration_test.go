//go:build integration

package queryapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/auth"
	"liveness/internal/avro"
	"liveness/internal/kafka"
	"liveness/internal/queryapi"
	"liveness/internal/scan"
	"liveness/internal/store"
)

// server is the query API on a loopback port over a fresh database and a
// fresh updates topic of the local stack, with dev-signed tokens.
type server struct {
	base    string
	st      *store.Store
	cfg     store.Config
	keyFile string
	kcfg    kafka.Config
	topic   string
	codec   *avro.Codec
}

var quiet = slog.New(slog.DiscardHandler)

func newServer(t *testing.T) *server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	suffix := strings.ToLower(rand.Text()[:10])
	cfg := store.Config{Addr: envOr("CLICKHOUSE_ADDR", store.DefaultAddr), Database: "query_test_" + suffix, Username: store.DefaultUsername}
	st, err := store.Open(cfg, store.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("ClickHouse at %s: %v (scripts/clickhouse.sh up)", cfg.Addr, err)
	}
	t.Cleanup(func() { dropDatabase(cfg); st.Close() })

	s := &server{st: st, cfg: cfg, keyFile: filepath.Join(t.TempDir(), "dev-key.pem"), kcfg: kafka.DefaultConfig(), topic: "test.query.updates." + suffix}
	if b := kafka.SplitBrokers(os.Getenv(kafka.EnvBrokers)); len(b) > 0 {
		s.kcfg.Brokers = b
	}
	if _, err := kafka.EnsureTopics(ctx, s.kcfg, kafka.TopicSpec{Name: s.topic, Partitions: 1, Configs: map[string]string{"retention.ms": "3600000"}}); err != nil {
		t.Fatalf("Kafka at %v: %v (scripts/kafka.sh up)", s.kcfg.Brokers, err)
	}
	w, err := kafka.NewWriter(s.kcfg, s.topic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if s.codec, err = avro.New(); err != nil {
		t.Fatal(err)
	}
	ac := auth.DefaultConfig()
	ac.DevMode, ac.DevKeyFile = true, s.keyFile
	v, err := auth.New(ctx, ac, auth.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	app := queryapi.New(st, queryapi.KafkaPublisher{W: w, Enc: s.codec}, v, queryapi.WithLogger(quiet))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	s.base = "http://" + ln.Addr().String()
	return s
}

// dropDatabase removes a test database over its own connection: the store
// has no DROP, and nothing in production should.
func dropDatabase(cfg store.Config) {
	_ = admin(cfg, "DROP DATABASE IF EXISTS "+cfg.Database)
}

// admin runs one statement over its own connection.
func admin(cfg store.Config, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{cfg.Addr}})
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Exec(ctx, stmt)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func (s *server) token(t *testing.T, company uuid.UUID, user string, scopes ...string) string {
	t.Helper()
	tok, err := auth.MintDevToken(s.keyFile, auth.DevClaims{CompanyID: company, UserID: user, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
}

// errBody checks an error reply: status, code and (when given) field.
func (r reply) wantError(t *testing.T, status int, code, field string) {
	t.Helper()
	var e struct{ Error, Message, Field string }
	if r.status != status || json.Unmarshal(r.body, &e) != nil || e.Error != code || e.Field != field || e.Message == "" {
		t.Fatalf("got %d %s; want %d error=%q field=%q", r.status, r.body, status, code, field)
	}
}

func (s *server) do(t *testing.T, method, path, token string, body any, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		if raw, ok := body.(string); ok {
			b = []byte(raw)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, b}
}

// seed stores n scans of company, an hour apart from base, each delivered twice.
func (s *server) seed(t *testing.T, company uuid.UUID, base time.Time, n int) []scan.ScanResult {
	t.Helper()
	out := make([]scan.ScanResult, n)
	for i := range out {
		lm := make([]float32, scan.LandmarkCount)
		for k := range lm {
			lm[k] = float32(k)
		}
		score := float64(i%10) / 10
		res := scan.ResultSpoof
		if score >= 0.7 {
			res = scan.ResultReal
		}
		out[i] = scan.ScanResult{
			Scan: scan.Scan{ID: uuid.New(), CompanyID: company, CreatedDate: base.Add(time.Duration(i) * time.Hour).Add(123 * time.Millisecond),
				CreatedByID: "channel-7", Reference: fmt.Sprintf("contract-%d", i), ElapsedTime: 0.5, SalesChannel: scan.Channels[i%3],
				Analysis: scan.Analysis{LivenessScore: score, Luminance: scan.LuminanceNormal, Quality: scan.QualityHigh, Result: res,
					Faces: []scan.Face{{X1: 1, Y1: 2, X2: 300, Y2: 400, Liveness: score, EyeDistance: 95, Landmarks68: lm}}}},
			ModelVersion: "test", ImageWidth: 640, ImageHeight: 480, Version: 1,
		}
	}
	for range 2 {
		if err := s.st.InsertScans(context.Background(), out); err != nil {
			t.Fatal(err)
		}
	}
	// A listing's total counts the time-ordered index's rows, which a
	// redelivery doubles until ClickHouse merges the parts (store.ListScans):
	// merged here, so totals are what they are after merges. The scans table
	// keeps its duplicates: gets and pages must still show each scan once.
	if err := admin(s.cfg, "OPTIMIZE TABLE "+s.cfg.Database+".scans_by_time FINAL"); err != nil {
		t.Fatal(err)
	}
	return out
}

var base = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

func TestGetScan(t *testing.T) {
	s := newServer(t)
	company := uuid.New()
	in := s.seed(t, company, base, 3)
	tok := s.token(t, company, "analyst-1", "read")

	r := s.do(t, "GET", "/v1/face-liveness/"+in[1].ID.String(), tok, nil)
	if r.status != 200 || r.header.Get("ETag") != `"1"` {
		t.Fatalf("get: %d etag %q %s", r.status, r.header.Get("ETag"), r.body)
	}
	var got scan.Scan
	r.json(t, &got)
	if got.ID != in[1].ID || got.CompanyID != company || !got.CreatedDate.Equal(in[1].CreatedDate) || got.Reference != "contract-1" ||
		len(got.Faces) != 1 || len(got.Faces[0].Landmarks68) != scan.LandmarkCount || got.UpdatedDate != nil {
		t.Fatalf("scan %+v", got)
	}
	s.do(t, "GET", "/v1/face-liveness/"+uuid.NewString(), tok, nil).wantError(t, 404, "not_found", "")
	s.do(t, "GET", "/v1/face-liveness/not-a-uuid", tok, nil).wantError(t, 404, "not_found", "")
	s.do(t, "GET", "/v1/face-liveness/"+in[1].ID.String(), "", nil).wantError(t, 401, "missing_token", "")
	s.do(t, "GET", "/v1/face-liveness/"+in[1].ID.String(), tok+"x", nil).wantError(t, 401, "invalid_token", "")
	s.do(t, "GET", "/v1/face-liveness/"+in[1].ID.String(), s.token(t, company, "u", "write"), nil).wantError(t, 403, "insufficient_scope", "")
}

func TestUpdateScan(t *testing.T) {
	s := newServer(t)
	company := uuid.New()
	in := s.seed(t, company, base, 2)
	id := in[0].ID.String() // a Spoof (score 0)
	rw := s.token(t, company, "analyst-42", "read", "write")
	path := "/v1/face-liveness/" + id

	r := s.do(t, "PUT", path, rw, map[string]any{"result": "Real", "reference": "reviewed", "eyeClosed": true, "id": id}, "If-Match", `"1"`)
	if r.status != 200 || r.header.Get("ETag") != `"2"` {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	var up scan.Scan
	r.json(t, &up)
	if up.Result != scan.ResultReal || up.Reference != "reviewed" || !up.EyeClosed || up.UpdatedByID == nil || *up.UpdatedByID != "analyst-42" ||
		up.UpdatedDate == nil || time.Since(*up.UpdatedDate) > time.Minute || up.CreatedByID != "channel-7" {
		t.Fatalf("updated scan %+v", up)
	}
	if r := s.do(t, "GET", path, rw, nil); r.header.Get("ETag") != `"2"` || !bytes.Contains(r.body, []byte(`"reviewed"`)) {
		t.Fatalf("GET after PUT: %s %s", r.header.Get("ETag"), r.body)
	}
	// A stale If-Match: 412 and the current ETag.
	r = s.do(t, "PUT", path, rw, map[string]any{"result": "Spoof"}, "If-Match", `"1"`)
	r.wantError(t, 412, "precondition_failed", "If-Match")
	if r.header.Get("ETag") != `"2"` {
		t.Fatalf("412 without the current ETag: %v", r.header)
	}
	for _, c := range []struct {
		body        any
		code, field string
	}{
		{map[string]any{"result": "Maybe"}, "invalid_field", "result"},
		{map[string]any{"salesChannel": "FAX"}, "invalid_field", "salesChannel"},
		{map[string]any{"livenessScore": 1.5}, "invalid_field", "livenessScore"},
		{map[string]any{"reference": ""}, "invalid_field", "reference"},
		{map[string]any{"small": "yes"}, "invalid_field", "small"},
		{map[string]any{"id": uuid.NewString()}, "immutable_field", "id"},
		{map[string]any{"companyId": uuid.NewString()}, "immutable_field", "companyId"},
		{map[string]any{"createdDate": "2020-01-01T00:00:00Z"}, "immutable_field", "createdDate"},
		{map[string]any{"createdById": "someone"}, "immutable_field", "createdById"},
		{map[string]any{"colour": "blue"}, "invalid_field", "colour"},
		{"[1,2]", "invalid_field", ""},
	} {
		s.do(t, "PUT", path, rw, c.body).wantError(t, 400, c.code, c.field)
	}
	s.do(t, "PUT", "/v1/face-liveness/"+in[1].ID.String(), s.token(t, company, "reader", "read"), map[string]any{"result": "Real"}).
		wantError(t, 403, "insufficient_scope", "")
	s.do(t, "PUT", path, "", map[string]any{"result": "Real"}).wantError(t, 401, "missing_token", "")

	// History: both versions, oldest first.
	var h []store.Revision
	s.do(t, "GET", path+"/history", rw, nil).json(t, &h)
	if len(h) != 2 || h[0].Result != scan.ResultSpoof || h[1].Result != scan.ResultReal || h[1].UpdatedByID == nil || *h[1].UpdatedByID != "analyst-42" {
		t.Fatalf("history %+v", h)
	}
	// The update event on Kafka, decodable as a ScanResult at version 2.
	kr := kafkago.NewReader(kafkago.ReaderConfig{Brokers: s.kcfg.Brokers, Topic: s.topic, Partition: 0, MaxWait: 200 * time.Millisecond})
	defer kr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := kr.ReadMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s.codec.DecodeResult(m.Value)
	if err != nil || string(m.Key) != id || ev.Version != 2 || ev.Result != scan.ResultReal || *ev.UpdatedByID != "analyst-42" {
		t.Fatalf("update event key %s: %+v, %v", m.Key, ev, err)
	}
}

func TestListScans(t *testing.T) {
	s := newServer(t)
	company := uuid.New()
	in := s.seed(t, company, base, 45)
	tok := s.token(t, company, "a", "read")
	var p queryapi.Page
	s.do(t, "GET", "/v1/face-liveness?size=10", tok, nil).json(t, &p)
	if p.TotalElements != 45 || p.TotalPages != 5 || p.Number != 0 || p.Size != 10 || !p.First || p.Last || len(p.Content) != 10 || p.NextCursor == nil {
		t.Fatalf("first page %+v", p)
	}
	if p.Content[0].ID != in[44].ID || p.Content[9].ID != in[35].ID {
		t.Fatal("first page is not the newest ten, newest first")
	}
	// Walk the cursor to the end: every scan once, pages numbered.
	seen := map[uuid.UUID]bool{}
	for page := 0; ; page++ {
		for _, sc := range p.Content {
			seen[sc.ID] = true
		}
		if p.Number != page {
			t.Fatalf("page number %d, want %d", p.Number, page)
		}
		if p.NextCursor == nil {
			if !p.Last || page != 4 {
				t.Fatalf("walk ended on page %d (last=%v)", page, p.Last)
			}
			break
		}
		cur := *p.NextCursor
		p = queryapi.Page{}
		s.do(t, "GET", "/v1/face-liveness?size=10&cursor="+url.QueryEscape(cur), tok, nil).json(t, &p)
	}
	if len(seen) != 45 {
		t.Fatalf("cursor walk saw %d scans", len(seen))
	}
	// Offset paging, filters, cap, errors.
	s.do(t, "GET", "/v1/face-liveness?size=10&page=4", tok, nil).json(t, &p)
	if len(p.Content) != 5 || !p.Last || p.Content[4].ID != in[0].ID {
		t.Fatalf("page 4: %d scans, last=%v", len(p.Content), p.Last)
	}
	s.do(t, "GET", "/v1/face-liveness?result=Real&salesChannel=WEB", tok, nil).json(t, &p)
	want := 0
	for _, sr := range in {
		if sr.Result == scan.ResultReal && sr.SalesChannel == scan.ChannelWeb {
			want++
		}
	}
	if int(p.TotalElements) != want || len(p.Content) != want {
		t.Fatalf("Real+WEB: %d, want %d", p.TotalElements, want)
	}
	from, to := in[10].CreatedDate.Format(time.RFC3339Nano), in[13].CreatedDate.Format(time.RFC3339Nano)
	s.do(t, "GET", "/v1/face-liveness?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), tok, nil).json(t, &p)
	if p.TotalElements != 3 || p.Content[0].ID != in[12].ID {
		t.Fatalf("[in10, in13): %d", p.TotalElements)
	}
	s.do(t, "GET", "/v1/face-liveness?reference=contract-7", tok, nil).json(t, &p)
	if p.TotalElements != 1 || p.Content[0].ID != in[7].ID {
		t.Fatalf("reference: %+v", p.TotalElements)
	}
	s.do(t, "GET", "/v1/face-liveness?size=100000", tok, nil).json(t, &p)
	if p.Size != queryapi.MaxPageSize || len(p.Content) != 45 {
		t.Fatalf("size not capped: %d", p.Size)
	}
	s.do(t, "GET", "/v1/face-liveness?result=Maybe", tok, nil).wantError(t, 400, "invalid_field", "result")
	s.do(t, "GET", "/v1/face-liveness?from=yesterday", tok, nil).wantError(t, 400, "invalid_field", "from")
	s.do(t, "GET", "/v1/face-liveness?size=0", tok, nil).wantError(t, 400, "invalid_field", "size")
	s.do(t, "GET", "/v1/face-liveness?page=100000&size=200", tok, nil).wantError(t, 400, "invalid_field", "page")
	s.do(t, "GET", "/v1/face-liveness?cursor=abc", tok, nil).wantError(t, 400, "invalid_field", "cursor")
	s.do(t, "GET", "/v1/face-liveness?reference=x'%20OR%201=1%20--", tok, nil).json(t, &p)
	if p.TotalElements != 0 {
		t.Fatal("a quote in a filter changed the query")
	}
}

func TestStats(t *testing.T) {
	s := newServer(t)
	company := uuid.New()
	in := s.seed(t, company, base, 30) // one an hour from base: 24 on day 1, 6 on day 2
	tok := s.token(t, company, "a", "read")
	var b []store.StatsBucket
	s.do(t, "GET", "/v1/face-liveness/stats?interval=day&from=2026-05-01T00:00:00Z&to=2026-05-03T00:00:00Z", tok, nil).json(t, &b)
	var total, day2 uint64
	for _, x := range b {
		total += x.Count
		if x.Start.Equal(base.Add(24 * time.Hour)) {
			day2 += x.Count
		}
	}
	if total != uint64(len(in)) || day2 != 6 {
		t.Fatalf("day buckets count %d (day 2: %d), want 30 (6): %+v", total, day2, b)
	}
	s.do(t, "GET", "/v1/face-liveness/stats?from=2026-05-01T00:00:00Z&to=2026-05-01T03:00:00Z", tok, nil).json(t, &b)
	if len(b) != 3 || b[0].Count != 1 || b[0].MeanLivenessScore != 0 || b[2].MeanLivenessScore != 0.2 {
		t.Fatalf("hour buckets %+v", b)
	}
	s.do(t, "GET", "/v1/face-liveness/stats?to=2026-05-01T03:00:00Z", tok, nil).wantError(t, 400, "invalid_field", "from")
	s.do(t, "GET", "/v1/face-liveness/stats?from=2026-05-01T00:00:00Z&to=2026-05-01T03:00:00Z&interval=week", tok, nil).wantError(t, 400, "invalid_field", "interval")
	s.do(t, "GET", "/v1/face-liveness/stats?from=2026-01-01T00:00:00Z&to=2026-05-01T03:00:00Z", tok, nil).wantError(t, 400, "invalid_field", "to")
}

// Company A can neither read, list, count, see the history of, nor update
// company B's scans, with real dev-signed tokens holding every scope.
func TestTenancy(t *testing.T) {
	s := newServer(t)
	a, b := uuid.New(), uuid.New()
	s.seed(t, a, base, 5)
	bs := s.seed(t, b, base, 7)
	tokA := s.token(t, a, "analyst-a", "read", "write")
	tokB := s.token(t, b, "analyst-b", "read", "write")
	foreign := "/v1/face-liveness/" + bs[0].ID.String()

	s.do(t, "GET", foreign, tokA, nil).wantError(t, 404, "not_found", "")
	s.do(t, "GET", foreign+"/history", tokA, nil).wantError(t, 404, "not_found", "")
	s.do(t, "PUT", foreign, tokA, map[string]any{"result": "Real"}).wantError(t, 404, "not_found", "")
	s.do(t, "PUT", foreign, tokA, map[string]any{"result": "Real"}, "If-Match", `"1"`).wantError(t, 404, "not_found", "")
	var p queryapi.Page
	s.do(t, "GET", "/v1/face-liveness?size=200", tokA, nil).json(t, &p)
	if p.TotalElements != 5 {
		t.Fatalf("A lists %d scans, want its own 5", p.TotalElements)
	}
	for _, sc := range p.Content {
		if sc.CompanyID != a {
			t.Fatalf("A listed a scan of %s", sc.CompanyID)
		}
	}
	s.do(t, "GET", "/v1/face-liveness?reference="+bs[3].Reference, tokA, nil).json(t, &p)
	if p.TotalElements != 1 || p.Content[0].CompanyID != a { // A's own contract-3, not B's
		t.Fatalf("reference filter crossed companies: %+v", p)
	}
	var st []store.StatsBucket
	s.do(t, "GET", "/v1/face-liveness/stats?interval=day&from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z", tokA, nil).json(t, &st)
	var n uint64
	for _, x := range st {
		n += x.Count
	}
	if n != 5 {
		t.Fatalf("A counts %d scans, want its own 5", n)
	}
	// B's scan is untouched, and B still sees it at version 1.
	r := s.do(t, "GET", foreign, tokB, nil)
	if r.status != 200 || r.header.Get("ETag") != `"1"` {
		t.Fatalf("B's scan after A's attempts: %d %s", r.status, r.header.Get("ETag"))
	}
}
