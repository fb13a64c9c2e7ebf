package models_test

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"liveness/inference/internal/modeltest"
	"liveness/inference/models"
	"liveness/inference/onnx"
)

func TestManifestVersionIsStable(t *testing.T) {
	m, err := models.Load()
	if err != nil {
		t.Fatal(err)
	}
	v := m.Version()
	if !strings.HasPrefix(v, "models-") || len(v) != len("models-")+12 {
		t.Fatalf("version %q", v)
	}
	doc, err := os.ReadFile("manifest.json") // the document Load embeds
	if err != nil {
		t.Fatal(err)
	}
	if same, _ := models.Parse(doc); same.Version() != v {
		t.Fatalf("the embedded manifest is not manifest.json: %s, %s", v, same.Version())
	}
	other, _ := models.Parse([]byte(strings.Replace(string(doc), "yunet_n", "yunet_s", 1)))
	if other.Version() == v {
		t.Fatal("a different manifest has the same version")
	}
	if _, err := m.Spec("nope"); !errors.Is(err, models.ErrUnknownModel) {
		t.Fatalf("unknown model: %v", err)
	}
}

func TestManifestRejectsMismatch(t *testing.T) {
	modeltest.Init(t)
	m, _ := models.Load()
	s, _ := m.Spec(models.Landmarks68)
	s.RewriteBatch = false // the file pins N=1; the manifest says -1
	if _, err := s.Open(modeltest.ModelsDir()); !errors.Is(err, models.ErrModelMismatch) {
		t.Fatalf("want ErrModelMismatch, got %v", err)
	}
}

// Every manifest model loads with its sha256 and declared I/O, and each one
// marked batchable gives the same answer for N=4 as for four N=1 runs: this is
// what catches a Reshape that pins the batch inside the graph. The models are
// opened as the engine opens them on the test device (the shipped 66-point
// graph cannot open on CUDA without models.CUDAOptions).
func TestManifestModelsLoadAndBatch(t *testing.T) {
	modeltest.Init(t)
	m, err := models.Load()
	if err != nil {
		t.Fatal(err)
	}
	opts := models.DeviceOptions(modeltest.Device(t))
	for _, spec := range m.Models {
		t.Run(spec.Name, func(t *testing.T) {
			sess, err := spec.Open(modeltest.ModelsDir(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if !spec.Batchable {
				return
			}
			checkBatch(t, sess, spec)
		})
	}
}

func checkBatch(t *testing.T, sess *onnx.Session, spec models.Spec) {
	const n = 4
	shape := concrete(spec.Inputs[0].Shape, n)
	per := int(product(shape[1:]))
	data := make([]float32, n*per)
	for i := range data { // deterministic, image-like values, different per item
		data[i] = float32((i*2654435761)>>7%256) / 255
	}
	batch, err := sess.Run(onnx.Tensor{Shape: shape, Data: data})
	if err != nil {
		t.Fatalf("N=%d: %v", n, err)
	}
	one := append([]int64{1}, shape[1:]...)
	for k := 0; k < n; k++ {
		single, err := sess.Run(onnx.Tensor{Shape: one, Data: data[k*per : (k+1)*per]})
		if err != nil {
			t.Fatal(err)
		}
		for o := range single {
			w := len(single[o].Data)
			if len(batch[o].Data) != n*w {
				t.Fatalf("output %d: N=%d gives %d values, N=1 gives %d", o, n, len(batch[o].Data), w)
			}
			for j, v := range single[o].Data {
				b := batch[o].Data[k*w+j]
				if math.Abs(float64(v-b)) > 1e-3*(1+math.Abs(float64(v))) {
					t.Fatalf("output %d item %d [%d]: batched %g, single %g", o, k, j, b, v)
				}
			}
		}
	}
}

// concrete fills dynamic dimensions: the batch with n, others (YuNet's H, W)
// with multiples of 32.
func concrete(shape []int64, n int64) []int64 {
	out := append([]int64(nil), shape...)
	out[0] = n
	for i := 1; i < len(out); i++ {
		if out[i] < 0 {
			out[i] = 96 + 32*int64(i)
		}
	}
	return out
}

func product(s []int64) int64 {
	p := int64(1)
	for _, v := range s {
		p *= v
	}
	return p
}
