package avro

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// at is a fixed instant at millisecond precision, in UTC: what a round trip
// returns unchanged.
var at = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func sampleCapture(imageSize int) *scan.Capture {
	rng := rand.New(rand.NewPCG(1, uint64(imageSize)))
	var img []byte
	if imageSize > 0 {
		img = make([]byte, imageSize)
		for i := range img {
			img[i] = byte(rng.Uint32())
		}
	}
	return &scan.Capture{
		ID:           uuid.MustParse("0b6f5f3c-6a43-4c1e-9e0b-3d4c2f6e9a11"),
		CompanyID:    uuid.MustParse("7d2a4f1e-2b3c-4d5e-8f90-a1b2c3d4e5f6"),
		CreatedByID:  "client-42",
		Reference:    "contract/2025/0001 é",
		SalesChannel: scan.ChannelMobile,
		ReceivedAt:   at,
		ContentType:  "image/jpeg",
		Image:        img,
	}
}

func sampleFace(seed uint64) scan.Face {
	rng := rand.New(rand.NewPCG(seed, 2))
	lm := make([]float32, scan.LandmarkCount)
	for i := range lm {
		lm[i] = rng.Float32() * 640
	}
	return scan.Face{
		X1: 100 + int(seed), Y1: 120, X2: 300, Y2: 360,
		Liveness: 0.93, Yaw: -3.5, Roll: 1.25, Pitch: 7.75,
		FaceQuality: 0.8, FaceLuminance: 131.5, EyeDistance: 92.3,
		LeftEyeClosed: 0.1, RightEyeClosed: 0.12, FaceOcclusion: 0.05, MouthOpened: 0.2,
		Landmarks68: lm,
	}
}

func sampleResult(faces int) *scan.ScanResult {
	r := &scan.ScanResult{
		Scan: scan.Scan{
			ID:           uuid.MustParse("0b6f5f3c-6a43-4c1e-9e0b-3d4c2f6e9a11"),
			CompanyID:    uuid.MustParse("7d2a4f1e-2b3c-4d5e-8f90-a1b2c3d4e5f6"),
			CreatedDate:  at,
			CreatedByID:  "client-42",
			Reference:    "contract/2025/0001",
			ElapsedTime:  0.734,
			SalesChannel: scan.ChannelWeb,
			Analysis: scan.Analysis{
				EyeClosed: true, LivenessScore: 0.91, Luminance: scan.LuminanceNormal,
				MouthOpened: false, Quality: scan.QualityHigh, Result: scan.ResultReal,
				BoundaryFace: true, NotFront: false, Occluded: true, Small: false,
				Faces: []scan.Face{},
			},
		},
		ModelVersion: "sha256:0123abcd",
		ImageWidth:   640,
		ImageHeight:  480,
		Version:      3,
	}
	for i := range faces {
		r.Faces = append(r.Faces, sampleFace(uint64(i)))
	}
	return r
}

// fakeRegistry is a real HTTP server implementing the Confluent Schema
// Registry endpoints the codec uses, with ids assigned like the real one
// (same schema text under any subject -> same id).
type fakeRegistry struct {
	*httptest.Server
	mu       sync.Mutex
	schemas  []string // id-1 -> schema text
	subjects map[string][]int
	extra    map[int]map[string]string // id -> raw answer override (e.g. PROTOBUF)
	posts    atomic.Int64
	gets     atomic.Int64
}

func newFakeRegistry(t testing.TB) *fakeRegistry {
	f := &fakeRegistry{subjects: map[string][]int{}, extra: map[int]map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /subjects/{subject}/versions", f.register)
	mux.HandleFunc("GET /schemas/ids/{id}", f.byID)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// add registers a schema out of band, as another producer would, returning its id.
func (f *fakeRegistry) add(subject, schema string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.schemas {
		if s == schema {
			f.subjects[subject] = append(f.subjects[subject], i+1)
			return i + 1
		}
	}
	f.schemas = append(f.schemas, schema)
	id := len(f.schemas)
	f.subjects[subject] = append(f.subjects[subject], id)
	return id
}

func (f *fakeRegistry) register(w http.ResponseWriter, r *http.Request) {
	f.posts.Add(1)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.schemaregistry") {
		http.Error(w, `{"error_code":415,"message":"bad content type"}`, http.StatusUnsupportedMediaType)
		return
	}
	var body struct {
		Schema string `json:"schema"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || !json.Valid([]byte(body.Schema)) {
		http.Error(w, `{"error_code":42201,"message":"Invalid schema"}`, http.StatusUnprocessableEntity)
		return
	}
	id := f.add(r.PathValue("subject"), body.Schema)
	w.Header().Set("Content-Type", registryMediaType)
	fmt.Fprintf(w, `{"id":%d}`, id)
}

func (f *fakeRegistry) byID(w http.ResponseWriter, r *http.Request) {
	f.gets.Add(1)
	id, err := strconv.Atoi(r.PathValue("id"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil || id < 1 || id > len(f.schemas) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error_code":40403,"message":"Schema not found"}`)
		return
	}
	answer := map[string]string{"schema": f.schemas[id-1]}
	for k, v := range f.extra[id] {
		answer[k] = v
	}
	w.Header().Set("Content-Type", registryMediaType)
	_ = json.NewEncoder(w).Encode(answer)
}

func mustCodec(t testing.TB, opts ...Option) *Codec {
	t.Helper()
	c, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}
