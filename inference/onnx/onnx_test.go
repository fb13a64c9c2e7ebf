package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modelsDir is ../shared/models relative to the repository root, or $MODELS_DIR.
func modelsDir() string {
	if d := os.Getenv("MODELS_DIR"); d != "" {
		return d
	}
	return "../../../shared/models"
}

const (
	slimFile = "landmarks68-peppa-slim160/slim_160_latest.onnx"
	slimSum  = "2121aacea9169ac27227508238237376fe64b96e2f2cc57082f26e88d650fbd2"
)

func initRuntime(t testing.TB) {
	t.Helper()
	if err := Init(Options{IntraOpThreads: 1}); err != nil {
		t.Fatalf("ONNX Runtime is required (set %s or run scripts/onnxruntime.sh install): %v", LibraryEnv, err)
	}
}

func TestOpenChecksSHA256(t *testing.T) {
	initRuntime(t)
	path := filepath.Join(modelsDir(), slimFile)
	wrong := strings.Repeat("0", 64)
	_, err := Open(path, wrong)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("want ErrChecksum, got %v", err)
	}
	for _, want := range []string{path, slimSum, wrong} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	_, err = Open(filepath.Join(t.TempDir(), "missing.onnx"), slimSum)
	if !errors.Is(err, ErrModelFile) || !strings.Contains(err.Error(), "missing.onnx") {
		t.Fatalf("want ErrModelFile naming the file, got %v", err)
	}
}

func TestDynamicBatchRewritesFixedBatch(t *testing.T) {
	initRuntime(t)
	path := filepath.Join(modelsDir(), slimFile)
	fixed, err := Open(path, slimSum)
	if err != nil {
		t.Fatal(err)
	}
	defer fixed.Close()
	if got := fixed.Inputs()[0].Shape[0]; got != 1 {
		t.Fatalf("file should pin batch 1, has %d", got)
	}
	dyn, err := Open(path, slimSum, WithDynamicBatch())
	if err != nil {
		t.Fatal(err)
	}
	defer dyn.Close()
	if got := dyn.Inputs()[0].Shape[0]; got != -1 {
		t.Fatalf("rewritten input batch dim = %d, want -1", got)
	}
	if got := dyn.Outputs()[0].Shape[0]; got != -1 {
		t.Fatalf("rewritten output batch dim = %d, want -1", got)
	}
	// N=3 must equal three N=1 runs.
	const n, size = 3, 3 * 160 * 160
	batch := make([]float32, n*size)
	for i := range batch {
		batch[i] = float32((i*7919)%255)/127 - 1
	}
	out, err := dyn.Run(Tensor{Shape: []int64{n, 3, 160, 160}, Data: batch})
	if err != nil {
		t.Fatal(err)
	}
	width := len(out[0].Data) / n
	for k := 0; k < n; k++ {
		one, err := fixed.Run(Tensor{Shape: []int64{1, 3, 160, 160}, Data: batch[k*size : (k+1)*size]})
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range one[0].Data {
			if d := v - out[0].Data[k*width+j]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("image %d output %d: batched %g vs single %g", k, j, out[0].Data[k*width+j], v)
			}
		}
	}
}

func TestRunRejectsWrongInputs(t *testing.T) {
	initRuntime(t)
	s, err := Open(filepath.Join(modelsDir(), slimFile), slimSum)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Run(); !errors.Is(err, ErrInput) {
		t.Fatalf("no inputs: want ErrInput, got %v", err)
	}
	if _, err := s.Run(Tensor{Shape: []int64{1, 3, 160, 160}, Data: make([]float32, 10)}); !errors.Is(err, ErrInput) {
		t.Fatalf("short data: want ErrInput, got %v", err)
	}
	if _, err := s.RunNamed(map[string]Tensor{"nope": {}}); !errors.Is(err, ErrInput) {
		t.Fatalf("wrong name: want ErrInput, got %v", err)
	}
}

// Asking for the CUDA provider either works, where the library ships it
// (onnxruntime-gpu's, on a machine with a GPU), or gives ErrCUDAUnavailable
// (the npm build, which has none): never a crash.
func TestCUDAProvider(t *testing.T) {
	initRuntime(t)
	lib := Config().LibraryPath
	_, missing := os.Stat(filepath.Join(filepath.Dir(lib), "libonnxruntime_providers_cuda.so"))
	so, err := sessionOptions(Options{Device: DeviceCUDA})
	if missing == nil {
		if err != nil {
			t.Fatalf("%s ships a CUDA provider, which failed: %v", lib, err)
		}
		so.Destroy()
		return
	}
	if err == nil {
		so.Destroy()
		t.Fatal("CUDA session options succeeded on a CPU-only build")
	}
	if !errors.Is(err, ErrCUDAUnavailable) {
		t.Fatalf("want ErrCUDAUnavailable, got %v", err)
	}
	t.Logf("cuda: %v", err)
}

func TestParseDevice(t *testing.T) {
	for in, want := range map[string]Device{"": DeviceCPU, "cpu": DeviceCPU, "cuda": DeviceCUDA} {
		if got, err := ParseDevice(in); err != nil || got != want {
			t.Errorf("ParseDevice(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseDevice("tpu"); err == nil {
		t.Error("ParseDevice(tpu) succeeded")
	}
}

func TestParseConvSearch(t *testing.T) {
	for in, want := range map[string]ConvSearch{"": ConvSearchHeuristic, "exhaustive": ConvSearchExhaustive, "HEURISTIC": ConvSearchHeuristic} {
		if got, err := ParseConvSearch(in); err != nil || got != want {
			t.Errorf("ParseConvSearch(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseConvSearch("fastest"); err == nil {
		t.Error("ParseConvSearch(fastest) succeeded")
	}
}

func TestDynamicBatchRejectsGarbage(t *testing.T) {
	if _, err := DynamicBatch([]byte{0xff, 0xff, 0xff}); err == nil {
		t.Fatal("garbage accepted")
	}
}
