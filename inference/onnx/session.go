package onnx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Tensor is a dense float32 tensor in row-major order.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// Info describes one model input or output; -1 marks a dynamic dimension.
type Info struct {
	Name  string
	Shape []int64
}

// Session is one loaded model. It is created once and shared: Run may be
// called from many goroutines at once (ONNX Runtime's Run is thread-safe).
type Session struct {
	path    string
	s       *ort.DynamicAdvancedSession
	inputs  []Info
	outputs []Info
}

type openConfig struct {
	batchDim bool
	fixed    [][]int64 // per input; nil: as the file says
	prelu    bool
	consts   bool
	scales   []float32 // Resize scales; nil: as the file says
	hsig     bool
	unfuse   bool
	block    int      // channel block for PaddedChannels; 0: off
	outChans int64    // OutputChannels; 0: off
	outputs  []string // KeptOutputs; nil: all
	opts     Options  // the runtime's options, with any per-session overrides
}

// OpenOption tunes Open.
type OpenOption func(*openConfig)

// WithDynamicBatch rewrites a fixed batch dimension of 1 on the graph's
// inputs and outputs into the symbolic dimension "N" before the session is
// created, so a model exported for one image runs on N>1 tensors.
func WithDynamicBatch() OpenOption { return func(c *openConfig) { c.batchDim = true } }

// WithFixedInputs pins every dimension of the graph's inputs to the given
// shapes, one per input in Inputs() order (see FixedInputs): the session
// runs that shape only. With WithDynamicBatch it applies after the batch
// rewrite (which also frees batch-1 constants inside the graph). Measured against
// the shipped shapes in BenchmarkSessions (inference/): no gain on CPU for
// any of the engine's models, so the engine does not use it.
func WithFixedInputs(shapes ...[]int64) OpenOption {
	return func(c *openConfig) { c.fixed = shapes }
}

// WithPReluAsRelu rewrites the graph's per-channel PRelu nodes into
// layout-friendly operators (see PReluAsRelu).
func WithPReluAsRelu() OpenOption { return func(c *openConfig) { c.prelu = true } }

// WithConstantInitializers makes initializers that the graph also lists
// as inputs constants (see ConstantInitializers).
func WithConstantInitializers() OpenOption { return func(c *openConfig) { c.consts = true } }

// WithResizeScales gives the graph's Resize nodes whose size is computed
// these constant scales (see ResizeScales).
func WithResizeScales(scales []float32) OpenOption {
	return func(c *openConfig) { c.scales = scales }
}

// WithHardSigmoid rewrites the graph's hard-swish gates into one
// HardSigmoid each (see HardSigmoidChains).
func WithHardSigmoid() OpenOption { return func(c *openConfig) { c.hsig = true } }

// WithKeptOutputs computes only the named outputs of the graph (see
// KeptOutputs).
func WithKeptOutputs(names ...string) OpenOption { return func(c *openConfig) { c.outputs = names } }

// WithOutputChannels keeps the first n channels of the graph's output
// (see OutputChannels).
func WithOutputChannels(n int64) OpenOption { return func(c *openConfig) { c.outChans = n } }

// WithPaddedChannels widens the graph's pruned channel chains to a multiple
// of block (see PaddedChannels; BlockChannels is this machine's block).
func WithPaddedChannels(block int) OpenOption { return func(c *openConfig) { c.block = block } }

// WithUnfusedConvs splits the graph's FusedConv nodes (Relu, Clip) into
// Conv and activation, which CUDA can run (see UnfusedConvs).
func WithUnfusedConvs() OpenOption { return func(c *openConfig) { c.unfuse = true } }

// WithThreads overrides the runtime's intra-op thread count for this
// session (n > 0), so engines with different thread budgets can share the
// process's one runtime.
func WithThreads(n int) OpenOption {
	return func(c *openConfig) {
		if n > 0 {
			c.opts.IntraOpThreads = n
		}
	}
}

// WithOptimization sets this session's graph optimisation level.
func WithOptimization(o Optimization) OpenOption {
	return func(c *openConfig) { c.opts.Optimization = o }
}

// WithSpin lets this session's intra-op threads spin-wait (ONNX Runtime's
// own default, off here).
func WithSpin() OpenOption { return func(c *openConfig) { c.opts.Spin = true } }

// WithCPUArena turns ONNX Runtime's CPU memory arena on or off for this
// session (default: off on CPU, see sessionOptions).
func WithCPUArena(on bool) OpenOption {
	return func(c *openConfig) { c.opts.CPUArena = &on }
}

// WithConfig adds a session configuration entry (ONNX Runtime's
// AddSessionConfigEntry) to this session's options.
func WithConfig(key, value string) OpenOption {
	return func(c *openConfig) {
		m := make(map[string]string, len(c.opts.Config)+1)
		for k, v := range c.opts.Config {
			m[k] = v
		}
		m[key] = value
		c.opts.Config = m
	}
}

// WithMemPattern turns ONNX Runtime's memory pattern planning on or off.
func WithMemPattern(on bool) OpenOption {
	return func(c *openConfig) { c.opts.MemPattern = &on }
}

// Open verifies the model file against its sha256 (hex), applies the
// requested graph rewrites (batch, then fixed shapes, then constant
// initializers, Resize scales, kept outputs, output channels, padded
// channels, PRelu, hard-sigmoid, unfused convs) and
// creates the session.
func Open(path, sum string, opts ...OpenOption) (*Session, error) {
	if !Initialized() {
		return nil, ErrNotInitialized
	}
	cfg := openConfig{opts: initOpts}
	for _, o := range opts {
		o(&cfg)
	}
	data, err := readVerified(path, sum)
	if err != nil {
		return nil, err
	}
	for _, r := range cfg.rewrites() {
		if data, err = r(data); err != nil {
			return nil, fmt.Errorf("onnx: %s: %w", path, err)
		}
	}
	return newSession(path, data, cfg.opts)
}

// rewrites are the graph rewrites c asks for, in the order Open applies
// them.
func (c openConfig) rewrites() []func([]byte) ([]byte, error) {
	var rs []func([]byte) ([]byte, error)
	add := func(on bool, r func([]byte) ([]byte, int, error)) {
		if on {
			rs = append(rs, func(m []byte) ([]byte, error) { m, _, err := r(m); return m, err })
		}
	}
	if c.batchDim {
		rs = append(rs, DynamicBatch)
	}
	if c.fixed != nil {
		rs = append(rs, func(m []byte) ([]byte, error) { return FixedInputs(m, c.fixed) })
	}
	add(c.consts, ConstantInitializers)
	add(c.scales != nil, func(m []byte) ([]byte, int, error) { return ResizeScales(m, c.scales) })
	add(c.outputs != nil, func(m []byte) ([]byte, int, error) { return KeptOutputs(m, c.outputs) })
	add(c.outChans > 0, func(m []byte) ([]byte, int, error) { return OutputChannels(m, c.outChans) })
	add(c.block > 0, func(m []byte) ([]byte, int, error) { return PaddedChannels(m, c.block) })
	add(c.prelu, PReluAsRelu)
	add(c.hsig, HardSigmoidChains)
	add(c.unfuse, UnfusedConvs)
	return rs
}

// readVerified reads the file and checks its sha256 before anything parses it.
func readVerified(path, sum string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModelFile, err)
	}
	got := sha256.Sum256(data)
	if h := hex.EncodeToString(got[:]); !strings.EqualFold(h, sum) {
		return nil, fmt.Errorf("%w: %s: sha256 is %s, expected %s", ErrChecksum, path, h, sum)
	}
	return data, nil
}

func newSession(path string, data []byte, o Options) (*Session, error) {
	in, out, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: reading inputs/outputs: %w", path, err)
	}
	so, err := sessionOptions(o)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	s := &Session{path: path, inputs: infos(in), outputs: infos(out)}
	s.s, err = ort.NewDynamicAdvancedSessionWithONNXData(data, names(s.inputs), names(s.outputs), so)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: creating session: %w", path, err)
	}
	return s, nil
}

func infos(src []ort.InputOutputInfo) []Info {
	out := make([]Info, len(src))
	for i, v := range src {
		out[i] = Info{Name: v.Name, Shape: append([]int64(nil), v.Dimensions...)}
	}
	return out
}

func names(src []Info) []string {
	out := make([]string, len(src))
	for i, v := range src {
		out[i] = v.Name
	}
	return out
}

// Path is the model file the session was loaded from.
func (s *Session) Path() string { return s.path }

// Inputs lists the model's inputs in the order Run expects them.
func (s *Session) Inputs() []Info { return s.inputs }

// Outputs lists the model's outputs in the order Run returns them.
func (s *Session) Outputs() []Info { return s.outputs }

// Run feeds one tensor per input, in Inputs() order, and returns every output
// in Outputs() order. The returned data is owned by the caller.
func (s *Session) Run(inputs ...Tensor) ([]Tensor, error) {
	if len(inputs) != len(s.inputs) {
		return nil, fmt.Errorf("%w: %s takes %d inputs, got %d", ErrInput, s.path, len(s.inputs), len(inputs))
	}
	in := make([]ort.Value, len(inputs))
	defer destroyAll(in)
	for i, t := range inputs {
		v, err := ort.NewTensor(ort.NewShape(t.Shape...), t.Data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s input %q shape %v: %v", ErrInput, s.path, s.inputs[i].Name, t.Shape, err)
		}
		in[i] = v
	}
	out := make([]ort.Value, len(s.outputs)) // nil: ORT allocates them
	defer destroyAll(out)
	if err := s.s.Run(in, out); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", s.path, err)
	}
	return copyOut(s.path, out)
}

// RunNamed is Run with the inputs given by name.
func (s *Session) RunNamed(inputs map[string]Tensor) ([]Tensor, error) {
	in := make([]Tensor, len(s.inputs))
	for i, info := range s.inputs {
		t, ok := inputs[info.Name]
		if !ok {
			return nil, fmt.Errorf("%w: %s: missing input %q", ErrInput, s.path, info.Name)
		}
		in[i] = t
	}
	return s.Run(in...)
}

func copyOut(path string, vals []ort.Value) ([]Tensor, error) {
	res := make([]Tensor, len(vals))
	for i, v := range vals {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("onnx: %s: output %d is not a float32 tensor", path, i)
		}
		res[i] = Tensor{Shape: append([]int64(nil), t.GetShape()...), Data: append([]float32(nil), t.GetData()...)}
	}
	return res, nil
}

func destroyAll(vals []ort.Value) {
	for _, v := range vals {
		if v != nil {
			v.Destroy()
		}
	}
}

// Close releases the session.
func (s *Session) Close() error { return s.s.Destroy() }
