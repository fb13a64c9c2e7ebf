// Package modeltest opens manifest models for the tests and benchmarks of
// inference/...: ONNX Runtime initialised as the engine does, MODELS_DIR
// resolved one way, sessions with the engine's CPU graph rewrites; and it
// loads the labelled images those tests feed them. It is a
// non-test package so that every package's tests share it; internal keeps
// it out of the product.
package modeltest

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"liveness/inference/geom"
	"liveness/inference/models"
	"liveness/inference/onnx"
	"liveness/internal/faceset"
	"liveness/internal/imagefile"
)

// ModelsDir is MODELS_DIR, else ../shared/models beside the repository root.
func ModelsDir() string { return faceset.SharedDir("MODELS_DIR", "models") }

// DeviceEnv names the device the tests and benchmarks of inference/... run
// on: cpu unless set, so that a machine with a GPU runs the same suite on
// ONNX Runtime's CUDA provider (INFERENCE_DEVICE=cuda, with ONNXRUNTIME_LIB
// naming a library that ships it).
const DeviceEnv = "INFERENCE_DEVICE"

// Device is $INFERENCE_DEVICE; an unknown name fails t.
func Device(t testing.TB) onnx.Device {
	t.Helper()
	d, err := onnx.ParseDevice(os.Getenv(DeviceEnv))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ConvSearch is $INFERENCE_CUDA_CONV_SEARCH; an unknown name fails t.
func ConvSearch(t testing.TB) onnx.ConvSearch {
	t.Helper()
	c, err := onnx.ParseConvSearch(os.Getenv(onnx.ConvSearchEnv))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Init initialises ONNX Runtime once per process on Device (with
// ConvSearch) and the engine's default threads (1 intra-op, 1 inter-op); it
// fails t when the library is missing, since these tests exist to run the
// real models.
func Init(t testing.TB) {
	t.Helper()
	if err := onnx.Init(onnx.Options{IntraOpThreads: 1, InterOpThreads: 1, Device: Device(t), ConvSearch: ConvSearch(t)}); err != nil {
		t.Fatalf("ONNX Runtime is required (scripts/onnxruntime.sh install, or set %s): %v", onnx.LibraryEnv, err)
	}
}

// Spec is the manifest entry named name.
func Spec(t testing.TB, name string) models.Spec {
	t.Helper()
	m, err := models.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Spec(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Open loads manifest model name as the engine does on Device (on CPU the
// graph rewrites included); extra adds options. Sessions are not closed with
// the test: some tests share them through a sync.Once, and the process ends
// soon.
func Open(t testing.TB, name string, extra ...onnx.OpenOption) *onnx.Session {
	t.Helper()
	return OpenWith(t, name, append(models.DeviceOptions(Device(t)), extra...)...)
}

// OpenWith loads manifest model name with only opts (and the manifest's
// own rewrites and checks: batch, Resize scales, outputs): the shipped
// graph's computation when opts is empty.
func OpenWith(t testing.TB, name string, opts ...onnx.OpenOption) *onnx.Session {
	t.Helper()
	Init(t)
	s, err := Spec(t, name).Open(ModelsDir(), opts...)
	if err != nil {
		t.Fatalf("%s (MODELS_DIR=%s): %v", name, ModelsDir(), err)
	}
	return s
}

// Image reads rel (a path of the labelled set, relative to FACES_DIR) and
// decodes it with opts; a missing set fails t.
func Image(t testing.TB, rel string, opts ...imagefile.Option) *imagefile.Image {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(faceset.Dir(), rel))
	if err != nil {
		t.Fatalf("faces missing (FACES_DIR): %v", err)
	}
	img, err := imagefile.Decode(data, opts...)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return img
}

// LargestFirst orders dets by area, largest first, in place: the stage
// tests take the largest face, as the reference recipes did.
func LargestFirst(dets []geom.Detection) []geom.Detection {
	sort.Slice(dets, func(i, j int) bool { return dets[i].Area() > dets[j].Area() })
	return dets
}
