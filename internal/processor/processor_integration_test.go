//go:build integration

package processor

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"liveness/inference"
	"liveness/internal/avro"
	"liveness/internal/batch"
	"liveness/internal/kafka"
	"liveness/internal/kafka/kafkatest"
	"liveness/internal/scan"
)

func testEngine(t testing.TB) *inference.Engine {
	t.Helper()
	eng, err := inference.New(inference.Config{ModelsDir: testDir("MODELS_DIR", "../../../shared/models")})
	if err != nil {
		t.Fatalf("engine (MODELS_DIR, ONNXRUNTIME_LIB): %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// Captures in, one result per capture out with the right ids; a bad Avro
// message and an undecodable image are dead-lettered with their reasons
// while the rest of their batch succeeds; then every offset is committed.
func TestCapturesToResultsAndDeadLetters(t *testing.T) {
	cfg := localKafka(t)
	tt := freshTopics(t, cfg, 3)
	codec, err := avro.New()
	if err != nil {
		t.Fatal(err)
	}
	eng := testEngine(t)
	faces := testFaces(t)

	var good []*scan.Capture
	for i := range 8 {
		good = append(good, newCapture(faces[i%len(faces)], "it-good"))
	}
	badImage := newCapture([]byte("this is not an image at all"), "it-bad-image")
	badAvro := kafkago.Message{Key: []byte("bad-avro-key"), Value: []byte("\xc3\x01 not a capture event")}
	// One write: the bad ones travel in the same batch as the good ones.
	publish(t, cfg, codec, tt.captures, append(good, badImage), badAvro)

	group := kafkatest.Unique("test-processor")
	r, err := kafka.NewReader(cfg, group, tt.captures)
	if err != nil {
		t.Fatal(err)
	}
	results, _ := kafka.NewWriter(cfg, tt.results)
	dlq, _ := kafka.NewWriter(cfg, tt.dlq)
	defer results.Close()
	defer dlq.Close()
	p, err := New(r, codec, eng, results, dlq, WithSourceTopic(tt.captures),
		WithPolicy(batch.Policy{MaxItems: 16, MaxBytes: 64 << 20, MaxWait: 2 * time.Second}),
		WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	res := consume(t, cfg, tt.results, 90*time.Second, func(ms []kafkago.Message) bool { return len(ms) >= len(good) })
	dead := consume(t, cfg, tt.dlq, 30*time.Second, func(ms []kafkago.Message) bool { return len(ms) >= 2 })
	// Let the last commit land, then stop as SIGTERM would.
	deadline := time.Now().Add(20 * time.Second)
	for ok, why := committedAll(t, cfg, group, tt.captures); !ok; ok, why = committedAll(t, cfg, group, tt.captures) {
		if time.Now().After(deadline) {
			t.Errorf("offsets not committed after the results: %s", why)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	r.Close()

	want := map[string]*scan.Capture{}
	for _, c := range good {
		want[c.ID.String()] = c
	}
	if len(res) != len(good) {
		t.Fatalf("%d results, want %d", len(res), len(good))
	}
	for _, m := range res {
		sr, err := codec.DecodeResult(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := want[sr.ID.String()]
		if !ok || string(m.Key) != sr.ID.String() {
			t.Fatalf("result %s (key %s) answers no capture", sr.ID, m.Key)
		}
		delete(want, sr.ID.String())
		if sr.CompanyID != c.CompanyID || sr.Reference != c.Reference || sr.SalesChannel != c.SalesChannel ||
			!sr.CreatedDate.Equal(c.ReceivedAt.Truncate(time.Millisecond)) || sr.ModelVersion != eng.ModelVersion() ||
			max(sr.ImageWidth, sr.ImageHeight) != 320 || sr.ElapsedTime <= 0 || sr.Version != 1 {
			// Not the whole scan: landmarks are biometric data, even in test logs.
			t.Errorf("result %s: fields do not follow its capture: company %s ref %q channel %s created %v model %q size %dx%d elapsed %.3f version %d",
				sr.ID, sr.CompanyID, sr.Reference, sr.SalesChannel, sr.CreatedDate, sr.ModelVersion, sr.ImageWidth, sr.ImageHeight, sr.ElapsedTime, sr.Version)
		}
		if sr.Result != scan.ResultReal && sr.Result != scan.ResultSpoof {
			t.Errorf("result %s: %s on a single real face", sr.ID, sr.Result)
		}
	}
	if len(dead) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dead))
	}
	reasons := map[string]string{}
	for _, d := range dead {
		reason, _ := kafka.Header(d, kafka.HeaderDLQReason)
		topic, _ := kafka.Header(d, kafka.HeaderDLQTopic)
		if topic != tt.captures {
			t.Errorf("dead letter %s: source topic %q", d.Key, topic)
		}
		reasons[string(d.Key)] = reason
	}
	if r := reasons[badImage.ID.String()]; !strings.HasPrefix(r, deadAnalyse+": ") {
		t.Errorf("bad image: reason %q, want an analyse failure keyed by its capture id (got %v)", r, reasons)
	}
	if r := reasons["bad-avro-key"]; !strings.HasPrefix(r, deadDecode+": ") {
		t.Errorf("bad Avro: reason %q, want a decode failure keyed by the message key (got %v)", r, reasons)
	}
	t.Logf("dead-letter reasons: %v", reasons)
}
