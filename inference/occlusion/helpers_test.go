package occlusion

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"liveness/inference/onnx"
)

func dir(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

var (
	modelsDir = dir("MODELS_DIR", "../../../shared/models")
	facesDir  = dir("FACES_DIR", "../../../shared/faces")
	initOnce  sync.Once
)

func open(t *testing.T, name string) *onnx.Session {
	t.Helper()
	initOnce.Do(func() {
		if err := onnx.Init(onnx.Options{IntraOpThreads: 1, InterOpThreads: 1}); err != nil {
			t.Fatalf("ONNX Runtime is required (%s): %v", onnx.LibraryEnv, err)
		}
	})
	data, err := os.ReadFile("../manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models []struct {
			Name, File, SHA256 string
			RewriteBatch       bool
		}
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Models {
		if s.Name == name {
			opts := []onnx.OpenOption{onnx.WithPReluAsRelu(), onnx.WithHardSigmoid()} // as the engine on CPU
			if s.RewriteBatch {
				opts = append(opts, onnx.WithDynamicBatch())
			}
			sess, err := onnx.Open(filepath.Join(modelsDir, s.File), s.SHA256, opts...)
			if err != nil {
				t.Fatalf("%s (MODELS_DIR=%s): %v", name, modelsDir, err)
			}
			return sess
		}
	}
	t.Fatalf("%s not in manifest", name)
	return nil
}
