package onnx

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestPReluAsReluKeepsOutputs runs the PRelu models as shipped and
// rewritten on the same inputs: every PRelu is rewritten (iris has 11 with
// a slope above 1, the second form), and the outputs agree to float
// rounding.
func TestPReluAsReluKeepsOutputs(t *testing.T) {
	initRuntime(t)
	for _, m := range []struct {
		file, sum string
		shape     []int64
		prelu     int // PRelu nodes in the file
		kept      int // left as PRelu (a slope above 1)
		scale     float32
	}{
		{"antispoof-MiniFASNetV2/MiniFASNetV2.onnx", "4eed38f0bde33c9b805942a5f25e42ce1161e2bda545254be622be957727794e", []int64{1, 3, 80, 80}, 33, 0, 255},
		{"antispoof-MiniFASNetV1SE/MiniFASNetV1SE.onnx", "d819a69bac6b9ade2a0f4d9b60b618e1260f7bf3ba1fddff6c5d82131cb1083f", []int64{1, 3, 80, 80}, 33, 0, 255},
		{"antispoof-suri-MiniFASNetV2SE-128/best_model.onnx", "af2381b88f38769222ed93379e12444e2a50814575de1c46170de570c55a42b6", []int64{1, 3, 128, 128}, 33, 0, 1},
		{"eye-iris-mediapipe/iris_landmark_barracuda.onnx", "3eb985960b80e6069812c2f20682b7a4194d80cf5a3a918ddb8d0b3ca72a6432", []int64{1, 3, 64, 64}, 53, 0, 1},
	} {
		path, data := readModel(t, m.file)
		_, n, err := PReluAsRelu(data)
		if err != nil {
			t.Fatal(err)
		}
		if n != m.prelu-m.kept {
			t.Errorf("%s: %d PRelu rewritten, want %d", m.file, n, m.prelu-m.kept)
		}
		plain := openSession(t, path, m.sum)
		rewritten := openSession(t, path, m.sum, WithPReluAsRelu())
		// In the model's input range.
		in := wave(m.shape, 0.5*float64(m.scale), 0.4*float64(m.scale), 0.013, 0.0007)
		requireSameOutputs(t, m.file, plain, rewritten, in)
	}
}

// TestFixedInputsPinsTheShape: a session opened with fixed inputs reports
// and runs that shape, and refuses another.
func TestFixedInputsPinsTheShape(t *testing.T) {
	initRuntime(t)
	s := openSession(t, filepath.Join(modelsDir(), slimFile), slimSum, WithFixedInputs([]int64{2, 3, 160, 160}))
	if got := s.Inputs()[0].Shape; len(got) != 4 || got[0] != 2 || got[2] != 160 {
		t.Fatalf("input shape %v, want [2 3 160 160]", got)
	}
	out, err := s.Run(Tensor{Shape: []int64{2, 3, 160, 160}, Data: make([]float32, 2*3*160*160)})
	if err != nil || len(out[0].Data) != 2*143 {
		t.Fatalf("fixed N=2 run: %v", err)
	}
	if _, err := s.Run(Tensor{Shape: []int64{1, 3, 160, 160}, Data: make([]float32, 3*160*160)}); err == nil {
		t.Fatal("a fixed-shape session ran another shape")
	}
	if _, err := FixedInputs([]byte{0xff}, [][]int64{{1}}); err == nil {
		t.Fatal("garbage accepted")
	}
}

// TestHardSigmoidChainsKeepOutputs: the 66-point model's 27 hard-swish
// gates become HardSigmoid nodes, and its heatmaps agree to float rounding.
func TestHardSigmoidChainsKeepOutputs(t *testing.T) {
	initRuntime(t)
	path, data := readModel(t, osf66File)
	if _, n, err := HardSigmoidChains(data); err != nil || n != 27 {
		t.Fatalf("%d chains rewritten (%v), want 27", n, err)
	}
	plain := openSession(t, path, osf66Sum)
	rewritten := openSession(t, path, osf66Sum, WithHardSigmoid())
	in := wave([]int64{1, 3, 224, 224}, 0, 2, 0.013, 0.0007)
	requireSameOutputs(t, t.Name(), plain, rewritten, in)
}

// TestUnfusedConvsKeepOutputs: the 66-point model's 20 FusedConv nodes
// (14 Relu, 6 Clip), split into Conv and activation, give the same
// heatmaps.
func TestUnfusedConvsKeepOutputs(t *testing.T) {
	initRuntime(t)
	path, data := readModel(t, osf66File)
	out, n, err := UnfusedConvs(data)
	if err != nil || n != 20 {
		t.Fatalf("%d FusedConv split (%v), want 20", n, err)
	}
	if bytes.Contains(out, []byte(fusedConvOp)) {
		t.Fatal("a FusedConv is left in the rewritten graph")
	}
	plain := openSession(t, path, osf66Sum)
	rewritten := openSession(t, path, osf66Sum, WithUnfusedConvs(), WithOptimization(OptimizeBasic))
	in := wave([]int64{1, 3, 224, 224}, 0, 2, 0.011, 0.0009)
	requireSameOutputs(t, t.Name(), plain, rewritten, in)
}

// TestConstantInitializersKeepOutputs: the 68-point model lists its 152
// weights among its inputs; as constants its landmarks agree to float
// rounding.
func TestConstantInitializersKeepOutputs(t *testing.T) {
	initRuntime(t)
	path, data := readModel(t, slimFile)
	if _, n, err := ConstantInitializers(data); err != nil || n != 152 {
		t.Fatalf("%d inputs dropped (%v), want 152", n, err)
	}
	plain := openSession(t, path, slimSum, WithDynamicBatch())
	consts := openSession(t, path, slimSum, WithDynamicBatch(), WithConstantInitializers())
	if len(consts.Inputs()) != 1 || len(plain.Inputs()) != 1 {
		t.Fatalf("inputs: %v and %v, want the image only", plain.Inputs(), consts.Inputs())
	}
	in := wave([]int64{1, 3, 160, 160}, 0, 1, 0.011, 0.0009)
	requireSameOutputs(t, t.Name(), plain, consts, in)
}

// TestDynamicBatchPadsIrisChannels: the iris model's zero channels
// (Concat with a ConstantOfShape of batch 1) become a Pad, so N=2 runs and
// gives exactly the two N=1 outputs of the file as shipped.
func TestDynamicBatchPadsIrisChannels(t *testing.T) {
	initRuntime(t)
	const file, sum = "eye-iris-mediapipe/iris_landmark_barracuda.onnx", "3eb985960b80e6069812c2f20682b7a4194d80cf5a3a918ddb8d0b3ca72a6432"
	path, data := readModel(t, file)
	rw, err := DynamicBatch(data)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rw, []byte("ConstantOfShape")) || !bytes.Contains(rw, []byte("Pad")) {
		t.Fatal("the channel padding was not rewritten into a Pad")
	}
	plain := openSession(t, path, sum)
	dyn := openSession(t, path, sum, WithDynamicBatch())
	const per = 3 * 64 * 64
	in := make([]float32, 2*per)
	for i := range in {
		in[i] = float32((i*7919)%255) / 255
	}
	both, err := dyn.Run(Tensor{Shape: []int64{2, 3, 64, 64}, Data: in})
	if err != nil {
		t.Fatal(err)
	}
	for k := range 2 {
		one, err := plain.Run(Tensor{Shape: []int64{1, 3, 64, 64}, Data: in[k*per : (k+1)*per]})
		if err != nil {
			t.Fatal(err)
		}
		for o := range one {
			w := len(one[o].Data)
			for j, v := range one[o].Data {
				if got := both[o].Data[k*w+j]; got != v {
					t.Fatalf("output %d item %d [%d]: N=2 gives %g, N=1 %g", o, k, j, got, v)
				}
			}
		}
	}
}

// TestResizeScalesKeepOutputs: the 66-point model's two computed-size
// Resize nodes take constant scales 2 (its input is 224×224), the nodes
// that computed the sizes go, and its heatmaps agree to float rounding.
func TestResizeScalesKeepOutputs(t *testing.T) {
	initRuntime(t)
	path, data := readModel(t, osf66File)
	scales := []float32{1, 1, 2, 2}
	rw, n, err := ResizeScales(data, scales)
	if err != nil || n != 2 {
		t.Fatalf("%d Resize rewritten (%v), want 2", n, err)
	}
	if bytes.Contains(rw, []byte("Shape")) {
		t.Error("the nodes that computed the sizes are still there")
	}
	plain := openSession(t, path, osf66Sum)
	scaled := openSession(t, path, osf66Sum, WithResizeScales(scales))
	in := wave([]int64{1, 3, 224, 224}, 0, 2, 0.017, 0.0011)
	requireSameOutputs(t, t.Name(), plain, scaled, in)
	// A wrong scale changes the output's shape: the rewrite cannot pass
	// unnoticed.
	wrong, err := Open(path, osf66Sum, WithResizeScales([]float32{1, 1, 3, 3}))
	if err == nil {
		defer wrong.Close()
		if _, err := wrong.Run(in); err == nil {
			t.Error("scales 3 ran")
		}
	}
}

// requireSameOutputs runs in through both sessions and fails unless every
// output agrees to float rounding (1e-4 of the largest value, or of 1).
func requireSameOutputs(t *testing.T, name string, plain, rewritten *Session, in Tensor) {
	t.Helper()
	want, got := runPair(t, plain, rewritten, in)
	if len(got) != len(want) {
		t.Fatalf("%s: %d outputs, want %d", name, len(got), len(want))
	}
	var worst, norm float64
	for k := range want {
		if len(got[k].Data) != len(want[k].Data) {
			t.Fatalf("%s: output %d has %d values, want %d", name, k, len(got[k].Data), len(want[k].Data))
		}
		for i, v := range want[k].Data {
			worst = max(worst, math.Abs(float64(got[k].Data[i]-v)))
			norm = max(norm, math.Abs(float64(v)))
		}
	}
	t.Logf("%s: max |Δ| %.3g over outputs up to %.3g", name, worst, norm)
	if worst > 1e-4*max(norm, 1) {
		t.Fatalf("%s: outputs moved by %g (largest output %g)", name, worst, norm)
	}
}

// runPair runs in through both sessions or fails the test.
func runPair(t *testing.T, plain, rewritten *Session, in Tensor) (want, got []Tensor) {
	t.Helper()
	want, err := plain.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = rewritten.Run(in); err != nil {
		t.Fatal(err)
	}
	return want, got
}

// openSession opens a model or fails the test; the session closes when the
// test ends.
func openSession(t *testing.T, path, sum string, opts ...OpenOption) *Session {
	t.Helper()
	s, err := Open(path, sum, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// osf66File and osf66Sum: the 66-point model, which three rewrites edit.
const (
	osf66File = "landmarks66-openseeface/lm_model0_opt.onnx"
	osf66Sum  = "43c9c58f03701cc15b8423c49b78af348a6397334d348887e0fda59013275c29"
)

// readModel reads file from the models folder: its path and bytes.
func readModel(t *testing.T, file string) (string, []byte) {
	t.Helper()
	path := filepath.Join(modelsDir(), file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

// wave is a smooth input with texture, off + amp·sin(f·i)·cos(g·i) at
// index i, so the rewritten and plain graphs see more than a constant.
func wave(shape []int64, off, amp, f, g float64) Tensor {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	in := Tensor{Shape: shape, Data: make([]float32, n)}
	for i := range in.Data {
		in.Data[i] = float32(off + amp*math.Sin(float64(i)*f)*math.Cos(float64(i)*g))
	}
	return in
}

// TestPaddedChannelsKeepOutputs: the anti-spoof models' 15 pruned channel
// chains are widened, to blocks of 8 and of 16, and the scores agree to
// float rounding; a second pass finds nothing left to pad.
func TestPaddedChannelsKeepOutputs(t *testing.T) {
	initRuntime(t)
	for _, m := range []struct {
		file, sum string
		shape     []int64
		scale     float64
		batch     bool
	}{
		{"antispoof-MiniFASNetV2/MiniFASNetV2.onnx", "4eed38f0bde33c9b805942a5f25e42ce1161e2bda545254be622be957727794e", []int64{1, 3, 80, 80}, 255, true},
		{"antispoof-MiniFASNetV1SE/MiniFASNetV1SE.onnx", "d819a69bac6b9ade2a0f4d9b60b618e1260f7bf3ba1fddff6c5d82131cb1083f", []int64{1, 3, 80, 80}, 255, true},
		{"antispoof-suri-MiniFASNetV2SE-128/best_model.onnx", "af2381b88f38769222ed93379e12444e2a50814575de1c46170de570c55a42b6", []int64{2, 3, 128, 128}, 1, false},
	} {
		path, data := readModel(t, m.file)
		for _, block := range []int{8, 16} {
			padded, n, err := PaddedChannels(data, block)
			if err != nil || n != 15 {
				t.Fatalf("%s: %d chains padded to %d (%v), want 15", m.file, n, block, err)
			}
			if _, again, err := PaddedChannels(padded, block); err != nil || again != 0 {
				t.Fatalf("%s: a second pass padded %d chains (%v)", m.file, again, err)
			}
			var opts []OpenOption
			if m.batch {
				opts = append(opts, WithDynamicBatch())
			}
			plain := openSession(t, path, m.sum, opts...)
			wide := openSession(t, path, m.sum, append(opts, WithPaddedChannels(block))...)
			in := wave(m.shape, 0.5*m.scale, 0.4*m.scale, 0.017, 0.0005)
			requireSameOutputs(t, m.file, plain, wide, in)
		}
	}
}

// TestOutputChannelsKeepsTheHeatmaps: keeping the 66-point model's first 66
// output channels prunes its last three convolutions, and those channels
// are the shipped model's, exactly; a channel count that splits a group,
// or all of them, leaves the model as it was.
func TestOutputChannelsKeepsTheHeatmaps(t *testing.T) {
	initRuntime(t)
	path, data := readModel(t, osf66File)
	if _, n, err := OutputChannels(data, 66); err != nil || n != 3 {
		t.Fatalf("%d convolutions pruned (%v), want 3", n, err)
	}
	for _, keep := range []int64{65, 198, 500} {
		if out, n, err := OutputChannels(data, keep); err != nil || n != 0 || !bytes.Equal(out, data) {
			t.Errorf("keeping %d channels: %d convolutions pruned (%v), want the model unchanged", keep, n, err)
		}
	}
	plain := openSession(t, path, osf66Sum)
	heat := openSession(t, path, osf66Sum, WithOutputChannels(66))
	if got := heat.Outputs()[0].Shape; len(got) != 4 || got[1] != 66 {
		t.Fatalf("output shape %v, want 66 channels", got)
	}
	want, got := runPair(t, plain, heat, wave([]int64{2, 3, 224, 224}, 0, 2, 0.013, 0.0007))
	const plane = 28 * 28
	for b := range 2 {
		w, g := want[0].Data[b*198*plane:][:66*plane], got[0].Data[b*66*plane:][:66*plane]
		for i := range w {
			if w[i] != g[i] {
				t.Fatalf("image %d, heatmap value %d: %g, want %g", b, i, g[i], w[i])
			}
		}
	}
}

// TestKeptOutputsDropsTheIrisBranch: keeping only the iris model's eye
// contour drops its iris output with the nodes and weights that computed
// it alone, and the contour is the shipped model's bit for bit; keeping
// every output leaves the model as it was.
func TestKeptOutputsDropsTheIrisBranch(t *testing.T) {
	initRuntime(t)
	const file, sum, contour = "eye-iris-mediapipe/iris_landmark_barracuda.onnx", "3eb985960b80e6069812c2f20682b7a4194d80cf5a3a918ddb8d0b3ca72a6432", "output_eyes_contours_and_brows"
	path, data := readModel(t, file)
	if out, n, err := KeptOutputs(data, []string{contour, "output_iris"}); err != nil || n != 0 || !bytes.Equal(out, data) {
		t.Fatalf("keeping both outputs: %d dropped (%v), want the model unchanged", n, err)
	}
	small, n, err := KeptOutputs(data, []string{contour})
	if err != nil || n != 1 {
		t.Fatalf("%d outputs dropped (%v), want 1", n, err)
	}
	nodes := func(m []byte) int {
		k := 0
		_ = eachField(firstBytes(m, fModelGraph), fGraphNode, func([]byte) error { k++; return nil })
		return k
	}
	if nodes(small) >= nodes(data) || len(small) >= len(data)*95/100 {
		t.Fatalf("%d nodes and %d bytes left of %d and %d: the iris branch was not pruned", nodes(small), len(small), nodes(data), len(data))
	}
	plain := openSession(t, path, sum, WithDynamicBatch())
	kept := openSession(t, path, sum, WithDynamicBatch(), WithKeptOutputs(contour))
	if len(kept.Outputs()) != 1 || kept.Outputs()[0].Name != contour {
		t.Fatalf("outputs %v, want the contour only", kept.Outputs())
	}
	want, got := runPair(t, plain, kept, wave([]int64{2, 3, 64, 64}, 0.5, 0.4, 0.013, 0.0007))
	for i, v := range want[0].Data {
		if got[0].Data[i] != v {
			t.Fatalf("contour value %d: %g, want %g", i, got[0].Data[i], v)
		}
	}
}
