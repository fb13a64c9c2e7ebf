//go:build integration

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/auth"
	"liveness/internal/faceset"
	"liveness/internal/kafka"
	"liveness/internal/kafka/kafkatest"
)

// binDir holds the binaries, built once per test run (TestMain removes it).
var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "liveness-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binaries builds cmd/ingest and cmd/processor on first use and returns
// their folder.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./cmd/ingest", "./cmd/processor")
		cmd.Dir = kafkatest.RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// paths are the shared inputs, from the environment or the Makefile's defaults.
type paths struct{ models, faces, ortLib string }

func sharedPaths(t *testing.T) paths {
	t.Helper()
	root := kafkatest.RepoRoot(t)
	p := paths{
		models: faceset.SharedDir("MODELS_DIR", "models"),
		faces:  faceset.Dir(),
		ortLib: envOr("ONNXRUNTIME_LIB", filepath.Join(root, ".stack/onnxruntime/libonnxruntime.so.1")),
	}
	for _, f := range []string{p.models, filepath.Join(p.faces, faceset.ManifestName), p.ortLib} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("missing input (scripts/stack.sh up, ../shared): %v", err)
		}
	}
	for _, f := range []*string{&p.models, &p.faces, &p.ortLib} {
		abs, err := filepath.Abs(*f)
		if err != nil {
			t.Fatal(err)
		}
		*f = abs
	}
	return p
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// localKafka is the broker of scripts/stack.sh (or KAFKA_BROKERS); the test
// fails when it does not answer.
func localKafka(t *testing.T) kafka.Config {
	t.Helper()
	cfg := kafka.DefaultConfig()
	cfg.Brokers = kafkatest.LocalBrokers(t)
	return cfg
}

// topics are one test's fresh captures, results and dead-letter topics,
// created with the platform's specs (partitions, limits) under new names.
type topics struct{ Captures, Results, DLQ string }

func freshTopics(t *testing.T, cfg kafka.Config) topics {
	t.Helper()
	tp := topics{Captures: kafkatest.Unique("e2e.captures"), Results: kafkatest.Unique("e2e.results"), DLQ: kafkatest.Unique("e2e.captures-dlq")}
	var specs []kafka.TopicSpec
	for _, s := range kafka.Topics {
		switch s.Name {
		case kafka.TopicCaptures:
			s.Name = tp.Captures
		case kafka.TopicResults:
			s.Name = tp.Results
		case kafka.TopicCapturesDLQ:
			s.Name = tp.DLQ
		default:
			continue
		}
		specs = append(specs, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := kafka.EnsureTopics(ctx, cfg, specs...)
	if err != nil || len(created) != len(specs) {
		t.Fatalf("create test topics: created %v: %v", created, err)
	}
	t.Cleanup(func() { deleteTopics(t, cfg, created...) })
	waitLeaders(t, cfg, created...)
	return tp
}

func deleteTopics(t *testing.T, cfg kafka.Config, names ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := cfg.Client()
	if err != nil {
		t.Error(err)
		return
	}
	defer kafka.CloseIdle(cl)
	if _, err := cl.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: names}); err != nil {
		t.Logf("delete test topics: %v", err) // the broker may be gone (outage test)
	}
}

// endOffsets sums the end offsets of every partition of topic: the number
// of messages ever written to it.
func endOffsets(t *testing.T, cfg kafka.Config, topic string) int64 {
	t.Helper()
	n, err := offsets(cfg, topic)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func offsets(cfg kafka.Config, topic string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := cfg.Client()
	if err != nil {
		return 0, err
	}
	defer kafka.CloseIdle(cl)
	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return 0, fmt.Errorf("metadata of %s: %+v", topic, md.Topics)
	}
	var reqs []kafkago.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafkago.LastOffsetOf(p.ID))
	}
	lo, err := cl.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: reqs}})
	if err != nil {
		return 0, fmt.Errorf("offsets of %s: %w", topic, err)
	}
	var sum int64
	for _, po := range lo.Topics[topic] {
		if po.Error != nil {
			return 0, fmt.Errorf("offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		sum += po.LastOffset
	}
	return sum, nil
}

// waitLeaders waits until every partition of the new topics answers: a
// service started on a topic whose leaders are still being elected fails
// ("Not Leader For Partition").
func waitLeaders(t *testing.T, cfg kafka.Config, topics ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, topic := range topics {
		for {
			_, err := offsets(cfg, topic)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("new topic not ready: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// proc is a service started by a test; it is stopped when the test ends,
// and its log is shown when the test failed.
type proc struct {
	name, log string
	cmd       *exec.Cmd
	exited    chan struct{}
	err       error
}

func startProc(t *testing.T, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: filepath.Join(t.TempDir(), name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...) // later entries win
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); logf.Close(); close(p.exited) }()
	t.Cleanup(func() {
		p.stop(20 * time.Second)
		if t.Failed() {
			data, _ := os.ReadFile(p.log)
			t.Logf("--- %s log (tail) ---\n%s", name, kafkatest.Tail(string(data), 6000))
		}
	})
	return p
}

// stop sends SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitHTTP polls url until it answers 200, failing if the process exits.
func (p *proc) waitHTTP(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if !p.running() {
			data, _ := os.ReadFile(p.log)
			t.Fatalf("%s exited (%v):\n%s", p.name, p.err, kafkatest.Tail(string(data), 4000))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not ready in %s (last: %v)", p.name, url, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", kafkatest.FreePorts(t, 1)[0])
}

// stack is one test's pipeline: topics on a broker, the dev-mode auth key,
// and the services started on them.
type stack struct {
	t      *testing.T
	kafka  kafka.Config
	topics topics
	paths  paths
	bin    string
	devKey string
	group  string
}

func newStack(t *testing.T, cfg kafka.Config) *stack {
	t.Helper()
	return &stack{t: t, kafka: cfg, topics: freshTopics(t, cfg), paths: sharedPaths(t), bin: binaries(t),
		devKey: filepath.Join(t.TempDir(), "dev-jwt-key.pem"), group: kafkatest.Unique("e2e-processor")}
}

func (s *stack) commonEnv() []string {
	return []string{
		kafka.EnvBrokers + "=" + strings.Join(s.kafka.Brokers, ","),
		"LOG_LEVEL=info",
		"MODELS_DIR=" + s.paths.models,
		"ONNXRUNTIME_LIB=" + s.paths.ortLib,
	}
}

// processor starts `processor run` in the test's group; extra env entries
// override the defaults.
func (s *stack) processor(extra ...string) (*proc, string) {
	s.t.Helper()
	admin := freeAddr(s.t)
	env := append(s.commonEnv(),
		"PROCESSOR_GROUP="+s.group,
		"PROCESSOR_CAPTURES_TOPIC="+s.topics.Captures,
		"PROCESSOR_RESULTS_TOPIC="+s.topics.Results,
		"PROCESSOR_DLQ_TOPIC="+s.topics.DLQ,
		"PROCESSOR_ADMIN_ADDR="+admin,
		// A short session: a member that dies mid-test leaves the group soon.
		"PROCESSOR_SESSION_TIMEOUT=10s",
	)
	p := startProc(s.t, "processor-"+admin, append(env, extra...), filepath.Join(s.bin, "processor"), "run")
	p.waitHTTP(s.t, "http://"+admin+"/healthz", 120*time.Second)
	return p, admin
}

// ingest starts `ingest serve` in dev auth mode and returns its base URL.
func (s *stack) ingest(extra ...string) (*proc, string) {
	s.t.Helper()
	httpAddr, admin := freeAddr(s.t), freeAddr(s.t)
	env := append(s.commonEnv(),
		"INGEST_HTTP_ADDR="+httpAddr,
		"INGEST_ADMIN_ADDR="+admin,
		"INGEST_CAPTURES_TOPIC="+s.topics.Captures,
		"INGEST_RESULTS_TOPIC="+s.topics.Results,
		"INGEST_DLQ_TOPIC="+s.topics.DLQ,
		"AUTH_DEV_MODE=true",
		auth.EnvDevKeyFile+"="+s.devKey,
		// A loaded CI machine scans a few images a second: a generous
		// budget keeps answers synchronous (a 202 fails the tests).
		"INGEST_WAIT=90s", "INGEST_MAX_WAIT=120s",
	)
	s.token() // the key file exists before the service reads it
	p := startProc(s.t, "ingest-"+httpAddr, append(env, extra...), filepath.Join(s.bin, "ingest"), "serve")
	p.waitHTTP(s.t, "http://"+admin+"/healthz", 60*time.Second)
	waitTCP(s.t, p, httpAddr, 30*time.Second)
	return p, "http://" + httpAddr
}

func waitTCP(t *testing.T, p *proc, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if !p.running() || time.Now().After(deadline) {
			t.Fatalf("%s: %s not listening: %v", p.name, addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// company is the tenant of every test capture.
var company = uuid.MustParse("00000000-0000-4000-8000-00000000e2e0")

func (s *stack) token() string {
	s.t.Helper()
	tok, err := auth.MintDevToken(s.devKey, auth.DevClaims{CompanyID: company, UserID: "e2e", Scopes: []string{"write"}})
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// reply is an HTTP answer of the capture API.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r reply) String() string {
	return fmt.Sprintf("HTTP %d %s", r.Status, kafkatest.Tail(string(r.Body), 300))
}

// apiError is the error body of the public APIs.
type apiError struct{ Error, Message, Field string }

func (r reply) apiError() apiError {
	var e apiError
	_ = json.Unmarshal(r.Body, &e)
	return e
}

// part is one multipart field; file parts have a filename.
type part struct {
	name, filename string
	data           []byte
}

func field(name, value string) part      { return part{name: name, data: []byte(value)} }
func file(name string, data []byte) part { return part{name: "file", filename: name, data: data} }
func capture(name string, img []byte) []part {
	return []part{field("channel", "WEB"), field("reference", "e2e-"+name), file(name, img)}
}

// post sends parts to the capture route with Prefer: wait=waitS.
func post(t *testing.T, base, token string, waitS int, parts ...part) reply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return postRaw(t, base, token, waitS, mw.FormDataContentType(), body.Bytes())
}

var client = &http.Client{Timeout: 150 * time.Second}

// postHead sends only the head of a capture request that declares length
// body bytes, and reads the answer.
func postHead(t *testing.T, base, token string, length int) reply {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /face-liveness-sdk/v1/check_liveness HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n", u.Host, token, length)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return reply{Status: -1, Body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func postRaw(t *testing.T, base, token string, waitS int, contentType string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/face-liveness-sdk/v1/check_liveness", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Prefer", fmt.Sprintf("wait=%d", waitS))
	resp, err := client.Do(req)
	if err != nil {
		return reply{Status: -1, Body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// face is one MANIFEST.tsv row.
type face = faceset.Entry

func manifest(t *testing.T, dir string) []face {
	t.Helper()
	out, err := faceset.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("empty MANIFEST.tsv")
	}
	return out
}

func readFace(t *testing.T, p paths, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.faces, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
