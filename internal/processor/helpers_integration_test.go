//go:build integration

package processor

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"
	"golang.org/x/image/draw"

	"liveness/internal/avro"
	"liveness/internal/kafka"
	"liveness/internal/kafka/kafkatest"
	"liveness/internal/scan"
)

// localKafka is the broker of scripts/kafka.sh, or the one KAFKA_BROKERS
// names. The test fails (never skips) when it does not answer.
func localKafka(t testing.TB) kafka.Config {
	t.Helper()
	cfg := kafka.DefaultConfig()
	cfg.Brokers = kafkatest.LocalBrokers(t)
	return cfg
}

// testTopics are fresh captures/results/dead-letter topics, deleted at the end.
type testTopics struct{ captures, results, dlq string }

func freshTopics(t testing.TB, cfg kafka.Config, partitions int) testTopics {
	t.Helper()
	tt := testTopics{kafkatest.Unique("test-captures"), kafkatest.Unique("test-results"), kafkatest.Unique("test-dlq")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var specs []kafka.TopicSpec
	for _, n := range []string{tt.captures, tt.results, tt.dlq} {
		specs = append(specs, kafka.TopicSpec{Name: n, Partitions: partitions,
			Configs: map[string]string{"max.message.bytes": "12582912"}})
	}
	created, err := kafka.EnsureTopics(ctx, cfg, specs...)
	if err != nil || len(created) != len(specs) {
		t.Fatalf("fresh topics: created %v: %v", created, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cl, err := cfg.Client()
		if err != nil {
			return
		}
		defer kafka.CloseIdle(cl)
		_, _ = cl.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: created})
	})
	return tt
}

func testDir(env, rel string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	return rel
}

// testFaces are a few real faces of FACES_DIR re-encoded as 320-px JPEGs:
// small, so hundreds of captures go through the engine quickly on 2 cores.
func testFaces(t testing.TB) [][]byte {
	t.Helper()
	dir := testDir("FACES_DIR", "../../../shared/faces")
	var out [][]byte
	for _, name := range []string{"real/r01_astronaut.png", "real/r04_apk_glasses.jpeg", "real/r06_biden_portrait.jpg", "real/r11_tom_cruise_closeup.jpg"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("test faces (FACES_DIR): %v", err)
		}
		src, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := src.Bounds()
		w, h := 320, b.Dy()*320/b.Dx()
		if b.Dy() > b.Dx() {
			w, h = b.Dx()*320/b.Dy(), 320
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// newCapture is a capture of img with fresh ids.
func newCapture(img []byte, ref string) *scan.Capture {
	return &scan.Capture{ID: uuid.New(), CompanyID: uuid.New(), CreatedByID: "it-user", Reference: ref,
		SalesChannel: scan.ChannelWeb, ReceivedAt: time.Now().UTC(), ContentType: "image/jpeg", Image: img}
}

// publish writes captures (and raw extra messages) to topic.
func publish(t testing.TB, cfg kafka.Config, codec *avro.Codec, topic string, caps []*scan.Capture, raw ...kafkago.Message) {
	t.Helper()
	w, err := kafka.NewWriter(cfg, topic, kafka.WithBatchSize(100))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	msgs := append([]kafkago.Message(nil), raw...)
	for _, c := range caps {
		v, err := codec.EncodeCapture(c)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafkago.Message{Key: []byte(c.ID.String()), Value: v})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// consume reads topic in a fresh group until stop says enough or the
// deadline passes; it returns every message read.
func consume(t testing.TB, cfg kafka.Config, topic string, timeout time.Duration, stop func([]kafkago.Message) bool) []kafkago.Message {
	t.Helper()
	r, err := kafka.NewReader(cfg, kafkatest.Unique("test-reader"), topic)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []kafkago.Message
	for !stop(out) {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Logf("consume %s: stopped after %d messages: %v", topic, len(out), err)
			return out
		}
		out = append(out, m)
	}
	return out
}

// committedAll reports whether group has committed every partition of
// topic up to its end.
func committedAll(t testing.TB, cfg kafka.Config, group, topic string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer kafka.CloseIdle(cl)
	meta, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(meta.Topics) != 1 {
		t.Fatalf("metadata: %v", err)
	}
	var parts []int
	var reqs []kafkago.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		parts = append(parts, p.ID)
		reqs = append(reqs, kafkago.LastOffsetOf(p.ID))
	}
	ends, err := cl.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cl.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		t.Fatal(err)
	}
	end := map[int]int64{}
	for _, po := range ends.Topics[topic] {
		end[po.Partition] = po.LastOffset
	}
	for _, po := range got.Topics[topic] {
		if e := end[po.Partition]; e > 0 && po.CommittedOffset != e {
			return false, fmt.Sprintf("partition %d: committed %d, end %d", po.Partition, po.CommittedOffset, end[po.Partition])
		}
	}
	return true, ""
}
