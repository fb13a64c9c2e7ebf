// Package onnx is the project's thin layer over ONNX Runtime
// (github.com/yalue/onnxruntime_go): one runtime environment per process,
// sha256-checked model files, sessions created once and shared by every
// goroutine, and float32 tensors in and out.
//
// It knows nothing of faces or images; the stages in inference/ build their
// tensors and decode the outputs themselves.
package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Device selects the execution provider every session is created with.
type Device string

const (
	DeviceCPU  Device = "cpu"
	DeviceCUDA Device = "cuda"
)

// ConvSearch is how cuDNN picks the algorithm of each convolution, once per
// new input shape (ONNX Runtime's cudnn_conv_algo_search option).
//
// HEURISTIC is the default: the processor's batches come in many shapes
// (image aspect, images and faces per batch), and ONNX Runtime's default,
// EXHAUSTIVE, times every algorithm at each new one. On an H200, processor
// eval over ../shared/faces (53 images, nearly every shape new) took 24 s
// with HEURISTIC against 51 s, with the same report line for line, while
// BenchmarkEngine640x480's steady state (one shape, searched once) was
// within the run-to-run spread: 107.4 against 105.6 images/s at N=16,
// 256.4 against 253.9 with four workers of N=16, 47.5 against 51.4 at N=1.
type ConvSearch string

const (
	// ConvSearchHeuristic takes cuDNN's heuristic choice, timing none.
	ConvSearchHeuristic ConvSearch = "HEURISTIC"
	// ConvSearchExhaustive times every algorithm: ONNX Runtime's default.
	ConvSearchExhaustive ConvSearch = "EXHAUSTIVE"
)

// ConvSearchEnv names the setting of the services, tests and benchmarks.
const ConvSearchEnv = "INFERENCE_CUDA_CONV_SEARCH"

// ParseConvSearch accepts HEURISTIC and EXHAUSTIVE (any case); "" is
// ConvSearchHeuristic.
func ParseConvSearch(s string) (ConvSearch, error) {
	switch c := ConvSearch(strings.ToUpper(s)); c {
	case "", ConvSearchHeuristic:
		return ConvSearchHeuristic, nil
	case ConvSearchExhaustive:
		return c, nil
	}
	return "", fmt.Errorf("onnx: cuDNN convolution search %q is not HEURISTIC or EXHAUSTIVE", s)
}

// ParseDevice accepts "cpu" (or "") and "cuda".
func ParseDevice(s string) (Device, error) {
	switch s {
	case "", string(DeviceCPU):
		return DeviceCPU, nil
	case string(DeviceCUDA):
		return DeviceCUDA, nil
	}
	return "", fmt.Errorf("onnx: device %q is not cpu or cuda", s)
}

var (
	// ErrCUDAUnavailable: the CUDA execution provider could not be set up
	// (the library was built without it, or CUDA/cuDNN libraries are missing).
	ErrCUDAUnavailable = errors.New("onnx: CUDA execution provider unavailable")
	// ErrNotInitialized: Open or Run before a successful Init.
	ErrNotInitialized = errors.New("onnx: runtime not initialized (call onnx.Init)")
	// ErrLibrary: the ONNX Runtime shared library is missing or unusable.
	ErrLibrary = errors.New("onnx: ONNX Runtime library unavailable")
	// ErrModelFile: the model file is missing or unreadable.
	ErrModelFile = errors.New("onnx: model file unavailable")
	// ErrChecksum: the model file's sha256 differs from the expected one.
	ErrChecksum = errors.New("onnx: model file checksum mismatch")
	// ErrInput: Run got tensors that do not fit the session.
	ErrInput = errors.New("onnx: bad input")
)

// Options configure the process-wide runtime. Zero thread counts leave the
// choice to ONNX Runtime (one intra-op thread per core).
type Options struct {
	LibraryPath    string // path to libonnxruntime.so; "" = DefaultLibraryPath()
	IntraOpThreads int    // threads inside one operator (per session)
	InterOpThreads int    // threads across independent operators (per session)
	Device         Device // cpu (default) or cuda
	CUDADeviceID   int
	ConvSearch     ConvSearch // on CUDA; "" is ConvSearchHeuristic
	// CPUArena: nil keeps the default (off on CPU, on with CUDA).
	CPUArena *bool
	// Spin lets intra-op pool threads spin-wait (ONNX Runtime's default);
	// off unless set, see applyThreads.
	Spin bool
	// Optimization is the graph optimisation level; zero is OptimizeAll.
	Optimization Optimization
	// Config are extra session configuration entries (ONNX Runtime's
	// AddSessionConfigEntry keys, e.g. "session.set_denormal_as_zero").
	Config map[string]string
	// MemPattern: nil keeps ONNX Runtime's default (on).
	MemPattern *bool
}

// Optimization is ONNX Runtime's graph optimisation level.
type Optimization int

const (
	// OptimizeAll: every rewrite, including the CPU's NCHWc layout
	// (ONNX Runtime's default).
	OptimizeAll Optimization = iota
	// OptimizeExtended: fusions without the NCHWc layout rewrite.
	OptimizeExtended
	// OptimizeBasic: constant folding and redundant-node removal only.
	OptimizeBasic
)

func (o Optimization) ort() ort.GraphOptimizationLevel {
	switch o {
	case OptimizeExtended:
		return ort.GraphOptimizationLevelEnableExtended
	case OptimizeBasic:
		return ort.GraphOptimizationLevelEnableBasic
	}
	return ort.GraphOptimizationLevelEnableAll
}

// LibraryEnv names the environment variable that overrides the library path.
const LibraryEnv = "ONNXRUNTIME_LIB"

// repoLibrary is where scripts/onnxruntime.sh installs the library,
// relative to the repository root.
const repoLibrary = ".stack/onnxruntime/libonnxruntime.so.1"

// DefaultLibraryPath returns $ONNXRUNTIME_LIB when set, otherwise
// .stack/onnxruntime/libonnxruntime.so.1 in the nearest directory at or
// above the working directory that has one (so tests run from any package
// directory find the repository's copy), otherwise the bare relative path.
func DefaultLibraryPath() string {
	if p := os.Getenv(LibraryEnv); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		return repoLibrary
	}
	for {
		p := filepath.Join(dir, repoLibrary)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return repoLibrary
		}
		dir = parent
	}
}

var (
	initOnce sync.Once
	initErr  error
	initOpts Options
)

// Init sets up the process's single ONNX Runtime environment. Only the
// first call does work; later calls return its result (ORT cannot host two
// environments, and sessions must all share one).
func Init(o Options) error {
	initOnce.Do(func() { initErr = doInit(o) })
	return initErr
}

// Initialized reports whether Init succeeded.
func Initialized() bool { return initErr == nil && ort.IsInitialized() }

// Config returns the options the runtime was initialised with.
func Config() Options { return initOpts }

func doInit(o Options) error {
	if o.LibraryPath == "" {
		o.LibraryPath = DefaultLibraryPath()
	}
	if o.Device == "" {
		o.Device = DeviceCPU
	}
	if _, err := os.Stat(o.LibraryPath); err != nil {
		return fmt.Errorf("%w: %s: %v (run scripts/onnxruntime.sh install or set %s)",
			ErrLibrary, o.LibraryPath, err, LibraryEnv)
	}
	ort.SetSharedLibraryPath(o.LibraryPath)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrLibrary, o.LibraryPath, err)
	}
	initOpts = o
	if o.Device == DeviceCUDA {
		// Probe once, so a CPU-only library fails here with a clear error
		// rather than on the first model.
		so, err := sessionOptions(o)
		if err != nil {
			return err
		}
		so.Destroy()
	}
	return nil
}

// sessionOptions builds the per-session settings from the runtime options.
func sessionOptions(o Options) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("onnx: session options: %w", err)
	}
	if err := so.SetGraphOptimizationLevel(o.Optimization.ort()); err != nil {
		so.Destroy()
		return nil, fmt.Errorf("onnx: graph optimisation level: %w", err)
	}
	if err := applyThreads(so, o); err != nil {
		so.Destroy()
		return nil, err
	}
	// The CPU arena keeps the peak of every batch size ever seen for the
	// process's lifetime (900 MB resident after N=16 runs of the nine
	// models); without it memory follows the current batch.
	arena := o.Device == DeviceCUDA
	if o.CPUArena != nil {
		arena = *o.CPUArena
	}
	if err := so.SetCpuMemArena(arena); err != nil {
		so.Destroy()
		return nil, fmt.Errorf("onnx: cpu arena: %w", err)
	}
	if o.MemPattern != nil {
		if err := so.SetMemPattern(*o.MemPattern); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("onnx: memory pattern: %w", err)
		}
	}
	for k, v := range o.Config {
		if err := so.AddSessionConfigEntry(k, v); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("onnx: session config %s=%s: %w", k, v, err)
		}
	}
	if o.Device == DeviceCUDA {
		if err := appendCUDA(so, o); err != nil {
			so.Destroy()
			return nil, err
		}
	}
	return so, nil
}

func applyThreads(so *ort.SessionOptions, o Options) error {
	if o.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(o.IntraOpThreads); err != nil {
			return fmt.Errorf("onnx: intra-op threads: %w", err)
		}
	}
	if o.IntraOpThreads != 1 && !o.Spin {
		// ONNX Runtime's pool threads spin-wait between operators by
		// default: on a shared machine that burns CPU the other workers
		// need (BenchmarkModels: 2 threads cost ~1.8× the CPU of 1).
		if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			return fmt.Errorf("onnx: intra-op spinning: %w", err)
		}
	}
	if o.InterOpThreads > 0 {
		if err := so.SetInterOpNumThreads(o.InterOpThreads); err != nil {
			return fmt.Errorf("onnx: inter-op threads: %w", err)
		}
	}
	return nil
}

func appendCUDA(so *ort.SessionOptions, o Options) error {
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCUDAUnavailable, err)
	}
	defer cuda.Destroy()
	// TF32 off: its 10-bit mantissa moves the liveness scores away from the
	// CPU's, on which the fusion was calibrated, for no gain on models this
	// small.
	search := o.ConvSearch
	if search == "" {
		search = ConvSearchHeuristic
	}
	if err := cuda.Update(map[string]string{"device_id": fmt.Sprint(o.CUDADeviceID), "use_tf32": "0",
		"cudnn_conv_algo_search": string(search)}); err != nil {
		return fmt.Errorf("%w: %v", ErrCUDAUnavailable, err)
	}
	if err := so.AppendExecutionProviderCUDA(cuda); err != nil {
		return fmt.Errorf("%w: %v", ErrCUDAUnavailable, err)
	}
	return nil
}
