package inference

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"liveness/inference/detect"
	"liveness/inference/eyes"
	"liveness/inference/geom"
	"liveness/inference/internal/modeltest"
	"liveness/inference/landmarks"
	"liveness/inference/liveness"
	"liveness/inference/models"
	"liveness/inference/occlusion"
	"liveness/inference/onnx"
	"liveness/internal/imagefile"
)

// recorder passes runs through to a session and keeps a copy of every input
// it was fed: the exact tensors a stage gives its model.
type recorder struct {
	s    *onnx.Session
	runs [][]onnx.Tensor
	off  bool // pass through only (timing)
}

func (r *recorder) Run(in ...onnx.Tensor) ([]onnx.Tensor, error) {
	if r.off {
		return r.s.Run(in...)
	}
	cp := make([]onnx.Tensor, len(in))
	for i, t := range in {
		cp[i] = onnx.Tensor{Shape: append([]int64(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
	}
	r.runs = append(r.runs, cp)
	return r.s.Run(in...)
}

// BenchmarkStages splits each stage of a 640×480 single-face capture into
// the model's own runs (the recorded input tensors, fed to session.Run
// again) and the stage as a whole, in thread CPU ms per image, for the
// session variants the engine could open. The stage minus its bare runs is
// our pre- and post-processing. go test -run '^$' -bench Stages ./inference/
func BenchmarkStages(b *testing.B) {
	modeltest.Init(b)
	img, err := imagefile.Decode(captureJPEG(b, 640, 480), imagefile.WithMaxSide(1280))
	if err != nil {
		b.Fatal(err)
	}
	m, err := models.Load()
	if err != nil {
		b.Fatal(err)
	}
	vs := sessionVariants()
	for _, v := range []sessionVariant{vs[0], vs[len(vs)-1]} { // shipped, the engine's
		open := func(name string) *recorder {
			s := openVariant(b, m, name, v, img)
			b.Cleanup(func() { s.Close() })
			return &recorder{s: s}
		}
		det := open(models.Detector)
		lmr := open(models.Landmarks68)
		v2, v1, su := open(models.FASNetV2), open(models.FASNetV1SE), open(models.Suri128)
		iris, osf := open(models.Iris), open(models.Landmarks66)
		d := detect.New(det)
		lm := landmarks.New(lmr)
		sc, _ := liveness.New(liveness.Models{V2: v2, V1SE: v1, Suri: su})
		ey, oc := eyes.New(iris), occlusion.New(osf)
		ctx := context.Background()
		var dets [][]geom.Detection
		var lms []landmarks.Result
		stages := []struct {
			name string
			recs []*recorder
			run  func() error
		}{
			{"detect", []*recorder{det}, func() error {
				r, err := d.Detect([]*imagefile.Image{img})
				dets = [][]geom.Detection{r[0]}
				return err
			}},
			{"landmarks", []*recorder{lmr}, func() error {
				_, err := lm.Run([]landmarks.Face{{Image: img, Box: dets[0][0].Box}})
				return err
			}},
			{"liveness", []*recorder{v2, v1, su}, func() error {
				_, err := sc.Score(ctx, []liveness.Face{{Image: img, Box: dets[0][0].Box}})
				return err
			}},
			{"eyes", []*recorder{iris}, func() error {
				if lms == nil {
					l, err := lm.Run([]landmarks.Face{{Image: img, Box: dets[0][0].Box}})
					if err != nil {
						return err
					}
					lms = l
				}
				_, err := ey.Run(ctx, []eyes.Face{{Image: img, Landmarks: lms[0].Points}})
				return err
			}},
			{"occlusion", []*recorder{osf}, func() error {
				_, err := oc.Run(ctx, []occlusion.Face{{Image: img, Box: dets[0][0].Box}})
				return err
			}},
		}
		for _, st := range stages {
			// Record once (and warm up), then time stage and bare runs.
			for _, r := range st.recs {
				r.runs = nil
			}
			if err := st.run(); err != nil {
				b.Fatal(err)
			}
			var bare [][]onnx.Tensor
			var sess []*onnx.Session
			for _, r := range st.recs {
				r.off = true
				for _, in := range r.runs {
					bare = append(bare, in)
					sess = append(sess, r.s)
				}
			}
			b.Run(v.name+"/"+st.name, func(b *testing.B) {
				runtime.LockOSThread() // b.Run's own goroutine: pin it for the thread clock
				defer runtime.UnlockOSThread()
				var stage, model int64
				for b.Loop() {
					t0 := threadCPU()
					if err := st.run(); err != nil {
						b.Fatal(err)
					}
					t1 := threadCPU()
					for k, in := range bare {
						if _, err := sess[k].Run(in...); err != nil {
							b.Fatal(err)
						}
					}
					t2 := threadCPU()
					stage += int64(t1 - t0)
					model += int64(t2 - t1)
				}
				b.ReportMetric(float64(stage)/1e6/float64(b.N), "stage-cpu-ms")
				b.ReportMetric(float64(model)/1e6/float64(b.N), "bare-cpu-ms")
				b.ReportMetric(float64(stage-model)/1e6/float64(b.N), "ours-cpu-ms")
			})
		}
	}
}

type sessionVariant struct {
	name   string
	fixed  bool
	engine bool // the manifest's Resize scales too, as Spec.Open gives the engine
	opts   []onnx.OpenOption
}

func sessionVariants() []sessionVariant {
	return []sessionVariant{
		{name: "shipped"},
		{name: "fixed", fixed: true},
		{name: "extended", opts: []onnx.OpenOption{onnx.WithOptimization(onnx.OptimizeExtended)}},
		{name: "rewritten", engine: true, opts: models.CPURewrites()},
	}
}

// openVariant opens model name as variant v, single-threaded with the CPU
// arena (the engine's single-image settings). It bypasses Spec.Open: a
// fixed-input variant must skip the manifest's dynamic-shape check.
func openVariant(b *testing.B, m *models.Manifest, name string, v sessionVariant, img *imagefile.Image) *onnx.Session {
	b.Helper()
	spec, err := m.Spec(name)
	if err != nil {
		b.Fatal(err)
	}
	opts := append([]onnx.OpenOption{onnx.WithThreads(1), onnx.WithCPUArena(true)}, v.opts...)
	if spec.RewriteBatch {
		opts = append(opts, onnx.WithDynamicBatch())
	}
	if v.fixed {
		opts = append(opts, onnx.WithFixedInputs(fixedShape(name, img)))
	}
	if v.engine && spec.ResizeScales != nil {
		opts = append(opts, onnx.WithResizeScales(spec.ResizeScales))
	}
	if v.engine && spec.OutputChannels > 0 {
		opts = append(opts, onnx.WithOutputChannels(spec.OutputChannels))
	}
	s, err := onnx.Open(filepath.Join(modeltest.ModelsDir(), spec.File), spec.SHA256, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// fixedShape is the one input shape the engine feeds model name for img.
func fixedShape(name string, img *imagefile.Image) []int64 {
	switch name {
	case models.Detector:
		return []int64{1, 3, int64((img.Height-1)/32+1) * 32, int64((img.Width-1)/32+1) * 32}
	case models.Landmarks68:
		return []int64{1, 3, 160, 160}
	case models.Iris:
		return []int64{2, 3, 64, 64} // both eyes of the face in one run
	case models.FASNetV2, models.FASNetV1SE:
		return []int64{1, 3, 80, 80}
	case models.Suri128:
		return []int64{1, 3, 128, 128}
	case models.Landmarks66:
		return []int64{1, 3, 224, 224}
	}
	panic(fmt.Sprint("no fixed shape for ", name))
}

// recordInputs runs every stage once on img with engine-like sessions and
// returns, per model, the input tensors of each of its runs.
func recordInputs(b *testing.B, img *imagefile.Image) map[string][][]onnx.Tensor {
	m, err := models.Load()
	if err != nil {
		b.Fatal(err)
	}
	recs := map[string]*recorder{}
	open := func(name string) *recorder {
		spec, err := m.Spec(name)
		if err != nil {
			b.Fatal(err)
		}
		s, err := spec.Open(modeltest.ModelsDir(), onnx.WithThreads(1), onnx.WithCPUArena(true))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		recs[name] = &recorder{s: s}
		return recs[name]
	}
	ctx := context.Background()
	dets, err := detect.New(open(models.Detector)).Detect([]*imagefile.Image{img})
	if err != nil || len(dets[0]) != 1 {
		b.Fatalf("detect: %v %d faces", err, len(dets[0]))
	}
	box := dets[0][0].Box
	lms, err := landmarks.New(open(models.Landmarks68)).Run([]landmarks.Face{{Image: img, Box: box}})
	if err != nil {
		b.Fatal(err)
	}
	sc, _ := liveness.New(liveness.Models{V2: open(models.FASNetV2), V1SE: open(models.FASNetV1SE), Suri: open(models.Suri128)})
	if _, err := sc.Score(ctx, []liveness.Face{{Image: img, Box: box}}); err != nil {
		b.Fatal(err)
	}
	if _, err := eyes.New(open(models.Iris)).Run(ctx, []eyes.Face{{Image: img, Landmarks: lms[0].Points}}); err != nil {
		b.Fatal(err)
	}
	if _, err := occlusion.New(open(models.Landmarks66)).Run(ctx, []occlusion.Face{{Image: img, Box: box}}); err != nil {
		b.Fatal(err)
	}
	out := map[string][][]onnx.Tensor{}
	for name, r := range recs {
		out[name] = r.runs
	}
	return out
}

// BenchmarkSessions feeds each model the exact tensors the engine gives it
// for a 640×480 single-face capture, through every session variant in
// turn within one loop (so the machine's load weighs on all alike), and
// reports thread CPU ms per image for each. go test -run '^$' -bench
// Sessions ./inference/
func BenchmarkSessions(b *testing.B) {
	benchVariants(b, sessionVariants())
}

// benchVariants feeds each model the engine's tensors for a 640×480
// capture through every variant in turn within one loop and reports
// thread CPU ms per image for each.
func benchVariants(b *testing.B, vs []sessionVariant) {
	modeltest.Init(b)
	img, err := imagefile.Decode(captureJPEG(b, 640, 480), imagefile.WithMaxSide(1280))
	if err != nil {
		b.Fatal(err)
	}
	inputs := recordInputs(b, img)
	m, _ := models.Load()
	for _, name := range []string{models.Detector, models.Landmarks68, models.FASNetV2, models.FASNetV1SE, models.Suri128, models.Iris, models.Landmarks66} {
		sess := make([]*onnx.Session, len(vs))
		for i, v := range vs {
			s := openVariant(b, m, name, v, img)
			defer s.Close()
			sess[i] = s
		}
		runs := inputs[name]
		b.Run(name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu := make([]int64, len(vs))
			for b.Loop() {
				for i, s := range sess {
					t0 := threadCPU()
					for _, in := range runs {
						if _, err := s.Run(in...); err != nil {
							b.Fatal(err)
						}
					}
					cpu[i] += int64(threadCPU() - t0)
				}
			}
			for i, v := range vs {
				b.ReportMetric(float64(cpu[i])/1e6/float64(b.N), v.name+"-cpu-ms")
			}
		})
	}
}
