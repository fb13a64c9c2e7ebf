package inference

import (
	"runtime"
	"testing"

	"liveness/inference/internal/modeltest"
	"liveness/inference/models"
	"liveness/inference/onnx"
	"liveness/internal/imagefile"
)

// BenchmarkSessionConfig feeds each model the engine's tensors for a
// 640×480 capture through the engine's session (rewritten graph, one
// thread, arena) and through copies of it with one ONNX Runtime session
// setting changed, all in turn within one loop, in thread CPU ms per
// image. "again" is a second engine session: the noise floor.
// go test -run '^$' -bench SessionConfig ./inference/
func BenchmarkSessionConfig(b *testing.B) {
	modeltest.Init(b)
	img, err := imagefile.Decode(captureJPEG(b, 640, 480), imagefile.WithMaxSide(1280))
	if err != nil {
		b.Fatal(err)
	}
	inputs := recordInputs(b, img)
	m, _ := models.Load()
	rw := models.CPURewrites()
	vs := []sessionVariant{
		{name: "engine", engine: true, opts: rw},
		{name: "again", engine: true, opts: rw},
		{name: "daz", engine: true, opts: append(rw[:len(rw):len(rw)], onnx.WithConfig("session.set_denormal_as_zero", "1"))},
		{name: "noprepack", engine: true, opts: append(rw[:len(rw):len(rw)], onnx.WithConfig("session.disable_prepacking", "1"))},
		{name: "nomempattern", engine: true, opts: append(rw[:len(rw):len(rw)], onnx.WithMemPattern(false))},
	}
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
