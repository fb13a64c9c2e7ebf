package inference

import (
	"os"
	"testing"

	"liveness/inference/onnx"
)

// testModelsDir is MODELS_DIR or ../shared/models seen from this package.
func testModelsDir() string {
	if d := os.Getenv("MODELS_DIR"); d != "" {
		return d
	}
	return "../../shared/models"
}

// testFacesDir is FACES_DIR or ../shared/faces seen from this package.
func testFacesDir() string {
	if d := os.Getenv("FACES_DIR"); d != "" {
		return d
	}
	return "../../shared/faces"
}

func initORT(t testing.TB) {
	t.Helper()
	if err := onnx.Init(onnx.Options{IntraOpThreads: 1}); err != nil {
		t.Fatalf("ONNX Runtime is required for these tests (set %s or run scripts/onnxruntime.sh install): %v", onnx.LibraryEnv, err)
	}
}
