// Package models is the model set the engine may load: the embedded
// manifest (file, sha256, inputs and outputs of every model), its names, and
// how a model is opened from MODELS_DIR. It imports only inference/onnx, so
// the stage packages' tests can open models exactly as the engine does
// without importing the engine (which imports them).
package models

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"liveness/inference/onnx"
)

// Model names in the manifest.
const (
	Detector    = "facedet-yunet"
	Landmarks68 = "landmarks68-peppa-slim160"
	Iris        = "eye-iris-mediapipe"
	FASNetV2    = "antispoof-MiniFASNetV2"
	FASNetV1SE  = "antispoof-MiniFASNetV1SE"
	Suri128     = "antispoof-suri-MiniFASNetV2SE-128"
	Landmarks66 = "landmarks66-openseeface"
	MLSD        = "context-mlsd-tiny-320"
	PicoDet     = "context-picodet-s-320"
)

//go:embed manifest.json
var manifestJSON []byte

// ErrUnknownModel: a name that is not in the manifest.
var ErrUnknownModel = errors.New("models: model not in manifest")

// ErrModelMismatch: a model file's inputs or outputs differ from the manifest.
var ErrModelMismatch = errors.New("models: model does not match manifest")

// IO is one named tensor of a model; -1 marks a dynamic dimension.
type IO struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
}

// Spec is one manifest entry. File is relative to MODELS_DIR; SHA256 is
// the digest recorded in the model's SOURCE.txt. RewriteBatch makes the file's
// fixed batch dimension of 1 dynamic when loading; Batchable says N>1 runs
// were checked to equal N single runs (models_test.go).
//
// eye-iris-mediapipe (a Barracuda conversion) pads channels by
// concatenating zeros made with a batch of 1; the batch rewrite turns that
// into a Pad (inference/onnx), so it batches too: both eyes of a face in
// one N=2 run. Its manifest lists the eye contour only, so its iris branch
// is not computed (onnx.KeptOutputs: 5.4 → 4.7 ms per run).
type Spec struct {
	Name         string `json:"name"`
	File         string `json:"file"`
	SHA256       string `json:"sha256"`
	Inputs       []IO   `json:"inputs"`
	Outputs      []IO   `json:"outputs"`
	RewriteBatch bool   `json:"rewriteBatch,omitempty"`
	Batchable    bool   `json:"batchable"`
	// ResizeScales are the constant scales of the graph's computed-size
	// Resize nodes at the model's fixed input size (onnx.ResizeScales).
	ResizeScales []float32 `json:"resizeScales,omitempty"`
	// OutputChannels, when set, keeps the first channels of the output only
	// (onnx.OutputChannels); Outputs gives the shape the session has then.
	// The 66-point model keeps its 66 heatmaps, which is all the occlusion
	// stage reads, and drops the offset maps: 7.8 → 5.0 ms per run,
	// heatmaps unchanged bit for bit.
	OutputChannels int64 `json:"outputChannels,omitempty"`
}

// Manifest is the model set the engine may load.
type Manifest struct {
	Models []Spec `json:"models"`
	raw    []byte
}

// Load parses the manifest embedded in the binary.
func Load() (*Manifest, error) { return Parse(manifestJSON) }

// Parse parses a manifest document.
func Parse(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("models: manifest: %w", err)
	}
	m.raw = data
	return &m, nil
}

// Version identifies the model set: a digest of the manifest, which pins every
// file by sha256, for ScanResult.ModelVersion.
func (m *Manifest) Version() string {
	sum := sha256.Sum256(m.raw)
	return "models-" + hex.EncodeToString(sum[:6])
}

// Spec returns the entry named name.
func (m *Manifest) Spec(name string) (Spec, error) {
	for _, s := range m.Models {
		if s.Name == name {
			return s, nil
		}
	}
	return Spec{}, fmt.Errorf("%w: %q", ErrUnknownModel, name)
}

// CPURewrites are the graph rewrites every session gets on CPU, the engine's
// and the tests' alike: weights listed as graph inputs made constants,
// pruned channel counts padded to the blocked layout's block, PRelu as
// Relu, hard-swish gates as one HardSigmoid. Fewer element-wise passes and
// layout reorders, and depthwise convolutions in the blocked layout
// (together 45-55% less CPU per run of the anti-spoof models, 25-40% for
// iris, ~8% for the 66-point model, ~64% for the 68-point model, whose
// weights were inputs; outputs equal to float rounding; see inference/onnx
// and BenchmarkSessions).
func CPURewrites() []onnx.OpenOption {
	return []onnx.OpenOption{onnx.WithConstantInitializers(), onnx.WithPaddedChannels(onnx.BlockChannels()),
		onnx.WithPReluAsRelu(), onnx.WithHardSigmoid()}
}

// CUDAOptions are the session options every model gets on CUDA, the
// engine's and the tests' alike. The 66-point model was saved after ONNX
// Runtime's CPU optimisations: its FusedConv nodes with a Clip activation
// are claimed and then refused by the CUDA provider ("unsupported conv
// activation mode Clip"), so they are split back into Conv and activation
// (onnx.WithUnfusedConvs); and the graph is optimised at the basic level
// (constant folding, Conv+BatchNorm folding) so that ONNX Runtime does not
// fuse them again. The CPU rewrites are CPU layout work and are not applied.
func CUDAOptions() []onnx.OpenOption {
	return []onnx.OpenOption{onnx.WithUnfusedConvs(), onnx.WithOptimization(onnx.OptimizeBasic)}
}

// DeviceOptions are CPURewrites or CUDAOptions, as d asks.
func DeviceOptions(d onnx.Device) []onnx.OpenOption {
	if d == onnx.DeviceCUDA {
		return CUDAOptions()
	}
	return CPURewrites()
}

// Open loads the model from modelsDir: checks its sha256, applies the batch,
// Resize and output rewrites (only the outputs the manifest lists are
// computed), and checks its inputs and outputs against the
// manifest. extra tunes the session (threads, arena).
func (s Spec) Open(modelsDir string, extra ...onnx.OpenOption) (*onnx.Session, error) {
	opts := append([]onnx.OpenOption(nil), extra...)
	if s.RewriteBatch {
		opts = append(opts, onnx.WithDynamicBatch())
	}
	if s.ResizeScales != nil {
		opts = append(opts, onnx.WithResizeScales(s.ResizeScales))
	}
	if s.OutputChannels > 0 {
		opts = append(opts, onnx.WithOutputChannels(s.OutputChannels))
	}
	opts = append(opts, onnx.WithKeptOutputs(s.outputNames()...))
	sess, err := onnx.Open(filepath.Join(modelsDir, s.File), s.SHA256, opts...)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", s.Name, err)
	}
	if err := s.check(sess); err != nil {
		sess.Close()
		return nil, err
	}
	return sess, nil
}

// outputNames are the outputs the manifest lists: all a session computes.
func (s Spec) outputNames() []string {
	names := make([]string, len(s.Outputs))
	for i, o := range s.Outputs {
		names[i] = o.Name
	}
	return names
}

func (s Spec) check(sess *onnx.Session) error {
	if err := sameIO(s.Inputs, sess.Inputs()); err != nil {
		return fmt.Errorf("%w: %s inputs: %v", ErrModelMismatch, s.Name, err)
	}
	if err := sameIO(s.Outputs, sess.Outputs()); err != nil {
		return fmt.Errorf("%w: %s outputs: %v", ErrModelMismatch, s.Name, err)
	}
	return nil
}

func sameIO(want []IO, got []onnx.Info) error {
	if len(want) != len(got) {
		return fmt.Errorf("manifest has %d, file has %d", len(want), len(got))
	}
	for i := range want {
		if want[i].Name != got[i].Name || !slices.Equal(want[i].Shape, got[i].Shape) {
			return fmt.Errorf("manifest %s %v, file %s %v", want[i].Name, want[i].Shape, got[i].Name, got[i].Shape)
		}
	}
	return nil
}
