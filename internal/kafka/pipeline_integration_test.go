//go:build integration

// The acceptance test of the event pipeline's transport: Avro events from
// internal/avro through the real broker with internal/kafka's writers and
// group readers. An external test package, so that internal/avro may one day
// import internal/kafka without a cycle.
package kafka_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/avro"
	"liveness/internal/kafka"
	"liveness/internal/scan"
)

const (
	pipelineEvents = 1000
	imageBytes     = 200 << 10
	produceBatch   = 50
	commitBatch    = 100
)

// base is a millisecond-precision UTC instant: Avro timestamp-millis returns
// it unchanged, so decoded events can be compared with reflect.DeepEqual.
var base = time.Now().UTC().Truncate(time.Millisecond)

// capture i is rebuilt from its index when checking, so the test keeps
// 200 MB of images out of memory.
func capture(i int) *scan.Capture {
	rng := mrand.New(mrand.NewPCG(uint64(i), 0xCA97))
	img := make([]byte, imageBytes)
	for j := 0; j < len(img); j += 8 {
		v := rng.Uint64()
		for k := 0; k < 8 && j+k < len(img); k++ {
			img[j+k] = byte(v >> (8 * k))
		}
	}
	return &scan.Capture{
		ID:           idOf(rng),
		CompanyID:    idOf(rng),
		CreatedByID:  fmt.Sprintf("client-%d", i%7),
		Reference:    fmt.Sprintf("contract/%06d", i),
		SalesChannel: scan.Channels[i%len(scan.Channels)],
		ReceivedAt:   base.Add(time.Duration(i) * time.Millisecond),
		ContentType:  "image/jpeg",
		Image:        img,
	}
}

func result(i int) *scan.ScanResult {
	rng := mrand.New(mrand.NewPCG(uint64(i), 0x4E5))
	lm := make([]float32, scan.LandmarkCount)
	for j := range lm {
		lm[j] = rng.Float32() * 640
	}
	r := &scan.ScanResult{
		Scan: scan.Scan{
			ID:           idOf(rng),
			CompanyID:    idOf(rng),
			CreatedDate:  base.Add(time.Duration(i) * time.Millisecond),
			CreatedByID:  fmt.Sprintf("client-%d", i%7),
			Reference:    fmt.Sprintf("contract/%06d", i),
			ElapsedTime:  rng.Float64(),
			SalesChannel: scan.Channels[i%len(scan.Channels)],
			Analysis: scan.Analysis{
				EyeClosed: i%2 == 0, LivenessScore: rng.Float64(),
				Luminance: scan.Luminances[i%3], MouthOpened: i%3 == 0,
				Quality: scan.Qualities[i%3], Result: scan.Results[i%2],
				BoundaryFace: i%5 == 0, NotFront: i%7 == 0, Occluded: i%11 == 0, Small: i%13 == 0,
				Faces: []scan.Face{{
					X1: rng.IntN(300), Y1: rng.IntN(300), X2: 300 + rng.IntN(300), Y2: 300 + rng.IntN(300),
					Liveness: rng.Float64(), Yaw: rng.Float64()*90 - 45, Roll: rng.Float64()*90 - 45,
					Pitch: rng.Float64()*90 - 45, FaceQuality: rng.Float64(), FaceLuminance: rng.Float64() * 255,
					EyeDistance: rng.Float64() * 200, LeftEyeClosed: rng.Float64(), RightEyeClosed: rng.Float64(),
					FaceOcclusion: rng.Float64(), MouthOpened: rng.Float64(), Landmarks68: lm,
				}},
			},
		},
		ModelVersion: "sha256:test",
		ImageWidth:   640,
		ImageHeight:  480,
		Version:      uint64(i + 1),
	}
	if i%4 == 0 { // some analyst-updated scans, so the optional fields travel too
		u, by := base.Add(time.Hour), "analyst-1"
		r.UpdatedDate, r.UpdatedByID = &u, &by
	}
	return r
}

func idOf(rng *mrand.Rand) uuid.UUID {
	var id uuid.UUID
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

func TestPipelineAvroThroughBroker(t *testing.T) {
	cfg := kafka.DefaultConfig()
	if b := kafka.SplitBrokers(os.Getenv(kafka.EnvBrokers)); len(b) > 0 {
		cfg.Brokers = b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := kafka.Ping(ctx, cfg); err != nil {
		t.Fatalf("Kafka at %v does not answer (start it with scripts/kafka.sh up): %v", cfg.Brokers, err)
	}
	codec, err := avro.New()
	if err != nil {
		t.Fatal(err)
	}

	// Fresh topics with the production specs' settings.
	suffix := randomSuffix()
	capSpec, resSpec := kafka.Topics[0], kafka.Topics[1]
	capSpec.Name += ".test-" + suffix
	resSpec.Name += ".test-" + suffix
	if created, err := kafka.EnsureTopics(ctx, cfg, capSpec, resSpec); err != nil || len(created) != 2 {
		t.Fatalf("create fresh topics: %v %v", created, err)
	}
	// The captures topic holds 200 MB of images: delete both when done.
	t.Cleanup(func() {
		cl, err := cfg.Client()
		if err != nil {
			t.Error(err)
			return
		}
		defer kafka.CloseIdle(cl)
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer dcancel()
		if _, err := cl.DeleteTopics(dctx, &kafkago.DeleteTopicsRequest{Topics: []string{capSpec.Name, resSpec.Name}}); err != nil {
			t.Errorf("delete test topics: %v", err)
		}
	})

	// Produce both streams concurrently, as ingest and processor would.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	start := time.Now()
	for _, job := range []struct {
		topic  string
		encode func(i int) (key string, value []byte, err error)
	}{
		{capSpec.Name, func(i int) (string, []byte, error) {
			c := capture(i)
			b, err := codec.EncodeCapture(c)
			return c.ID.String(), b, err
		}},
		{resSpec.Name, func(i int) (string, []byte, error) {
			r := result(i)
			b, err := codec.EncodeResult(r)
			return r.ID.String(), b, err
		}},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- produce(ctx, t, cfg, job.topic, job.encode)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	produced := time.Since(start)
	t.Logf("produced %d captures (%d KB images) and %d results in %v (%.1f MB/s of captures)",
		pipelineEvents, imageBytes>>10, pipelineEvents, produced,
		float64(pipelineEvents*imageBytes)/produced.Seconds()/1e6)

	// Consume each back in its own consumer group, as the processor and the
	// ClickHouse sink do. (One group over both topics would rebalance when the
	// second reader joins and redeliver uncommitted messages: at-least-once,
	// but it would blur this test's "each event exactly once" check.)
	group := "test-pipeline-" + suffix
	start = time.Now()
	var capOK, resOK map[uuid.UUID]bool
	wg.Add(2)
	go func() {
		defer wg.Done()
		capOK = consumeAll(ctx, t, cfg, group+".captures", capSpec.Name, func(i int) uuid.UUID { return capture(i).ID },
			func(b []byte) (uuid.UUID, any, error) {
				c, err := codec.DecodeCapture(b)
				if err != nil {
					return uuid.Nil, nil, err
				}
				return c.ID, c, nil
			},
			func(i int) any { return capture(i) })
	}()
	go func() {
		defer wg.Done()
		resOK = consumeAll(ctx, t, cfg, group+".results", resSpec.Name, func(i int) uuid.UUID { return result(i).ID },
			func(b []byte) (uuid.UUID, any, error) {
				r, err := codec.DecodeResult(b)
				if err != nil {
					return uuid.Nil, nil, err
				}
				return r.ID, r, nil
			},
			func(i int) any { return result(i) })
	}()
	wg.Wait()
	t.Logf("consumed and checked %d captures and %d results in %v", len(capOK), len(resOK), time.Since(start))
	if len(capOK) != pipelineEvents || len(resOK) != pipelineEvents {
		t.Fatalf("matched %d captures and %d results, want %d each", len(capOK), len(resOK), pipelineEvents)
	}

	// None extra: the topics hold exactly what was produced.
	for _, topic := range []string{capSpec.Name, resSpec.Name} {
		if n := messagesIn(ctx, t, cfg, topic, 12); n != pipelineEvents {
			t.Errorf("%s holds %d messages, want %d", topic, n, pipelineEvents)
		}
	}
}

func produce(ctx context.Context, t *testing.T, cfg kafka.Config, topic string,
	encode func(int) (string, []byte, error)) error {
	w, err := kafka.NewWriter(cfg, topic)
	if err != nil {
		return err
	}
	defer w.Close()
	batch := make([]kafkago.Message, 0, produceBatch)
	for i := range pipelineEvents {
		key, value, err := encode(i)
		if err != nil {
			return fmt.Errorf("encode %d: %w", i, err)
		}
		m := kafkago.Message{Key: []byte(key), Value: value}
		kafka.SetHeader(&m, "event-index", fmt.Sprint(i))
		batch = append(batch, m)
		if len(batch) == produceBatch || i == pipelineEvents-1 {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				return fmt.Errorf("%s: write: %w", topic, err)
			}
			batch = batch[:0]
			if (i+1)%250 == 0 {
				t.Logf("%s: produced %d/%d", topic, i+1, pipelineEvents)
			}
		}
	}
	return nil
}

// consumeAll reads topic in the group until every event arrived, decodes each
// and compares it with the event rebuilt from its index header. It returns
// the ids that matched; a duplicate, unknown or different event fails the test.
func consumeAll(ctx context.Context, t *testing.T, cfg kafka.Config, group, topic string,
	idAt func(int) uuid.UUID, decode func([]byte) (uuid.UUID, any, error), want func(int) any) map[uuid.UUID]bool {
	r, err := kafka.NewReader(cfg, group, topic)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer r.Close()
	ok := map[uuid.UUID]bool{}
	var pending []kafkago.Message
	for len(ok) < pipelineEvents {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Errorf("%s: fetch after %d: %v", topic, len(ok), err)
			return ok
		}
		var idx int
		h, _ := kafka.Header(m, "event-index")
		if _, err := fmt.Sscan(h, &idx); err != nil || idx < 0 || idx >= pipelineEvents {
			t.Errorf("%s: bad event-index header %q", topic, h)
			return ok
		}
		id, got, err := decode(m.Value)
		switch {
		case err != nil:
			t.Errorf("%s: decode event %d: %v", topic, idx, err)
		case id != idAt(idx) || string(m.Key) != id.String():
			t.Errorf("%s: event %d: id %s, key %s, want %s", topic, idx, id, m.Key, idAt(idx))
		case ok[id]:
			t.Errorf("%s: event %d read twice", topic, idx)
		case !reflect.DeepEqual(got, want(idx)):
			t.Errorf("%s: event %d decoded differently from what was sent", topic, idx)
		default:
			ok[id] = true
		}
		pending = append(pending, m)
		if len(pending) == commitBatch || len(ok) == pipelineEvents {
			if err := r.CommitMessages(ctx, pending...); err != nil {
				t.Errorf("%s: commit: %v", topic, err)
				return ok
			}
			pending = pending[:0]
		}
		if len(ok)%250 == 0 && len(pending) == 0 {
			t.Logf("%s: consumed %d/%d", topic, len(ok), pipelineEvents)
		}
		if t.Failed() {
			return ok
		}
	}
	return ok
}

// messagesIn sums the last offsets of a fresh topic's partitions.
func messagesIn(ctx context.Context, t *testing.T, cfg kafka.Config, topic string, partitions int) int64 {
	cl, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer kafka.CloseIdle(cl)
	var req []kafkago.OffsetRequest
	for p := range partitions {
		req = append(req, kafkago.FirstOffsetOf(p), kafkago.LastOffsetOf(p))
	}
	res, err := cl.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: req}})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			t.Fatalf("%s/%d: %v", topic, p.Partition, p.Error)
		}
		if p.FirstOffset < 0 || p.LastOffset < p.FirstOffset {
			t.Fatalf("%s/%d: offsets %d..%d", topic, p.Partition, p.FirstOffset, p.LastOffset)
		}
		n += p.LastOffset - p.FirstOffset
	}
	if got := len(res.Topics[topic]); got != partitions {
		t.Fatalf("%s: offsets of %d partitions, want %d", topic, got, partitions)
	}
	return n
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
