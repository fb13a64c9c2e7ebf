package inference

import (
	"testing"

	"liveness/inference/internal/modeltest"
	"liveness/inference/models"
	"liveness/inference/onnx"
)

// BenchmarkModels times each model's own ONNX Runtime run at batch 1 on the
// input size the engine feeds it (YuNet at 640×480), as CPU ms per run, for
// the session settings the engine could use: 1 or 2 intra-op threads, CPU
// arena off or on. go test -run '^$' -bench Models ./inference/
func BenchmarkModels(b *testing.B) {
	modeltest.Init(b)
	m, err := models.Load()
	if err != nil {
		b.Fatal(err)
	}
	runs := []struct {
		label, model string
		shape        []int64
	}{
		{"yunet-640x480", models.Detector, []int64{1, 3, 480, 640}},
		{"yunet-320x256", models.Detector, []int64{1, 3, 256, 320}},
		{"slim160", models.Landmarks68, []int64{1, 3, 160, 160}},
		{"iris", models.Iris, []int64{1, 3, 64, 64}},
		{"MiniFASNetV2", models.FASNetV2, []int64{1, 3, 80, 80}},
		{"MiniFASNetV1SE", models.FASNetV1SE, []int64{1, 3, 80, 80}},
		{"SURI-128", models.Suri128, []int64{1, 3, 128, 128}},
		{"osf66", models.Landmarks66, []int64{1, 3, 224, 224}},
		{"mlsd-320", models.MLSD, []int64{1, 320, 320, 4}},
		{"picodet-320", models.PicoDet, []int64{1, 3, 320, 320}},
	}
	for _, v := range []struct {
		name string
		opts []onnx.OpenOption
	}{
		{"t1", []onnx.OpenOption{onnx.WithThreads(1)}},
		{"t1-arena", []onnx.OpenOption{onnx.WithThreads(1), onnx.WithCPUArena(true)}},
		{"t2", []onnx.OpenOption{onnx.WithThreads(2)}},
		{"t2-spin", []onnx.OpenOption{onnx.WithThreads(2), onnx.WithSpin()}},
	} {
		for _, r := range runs {
			spec, err := m.Spec(r.model)
			if err != nil {
				b.Fatal(err)
			}
			shape := r.shape
			opts := v.opts
			if spec.RewriteBatch {
				opts = append(opts[:len(opts):len(opts)], onnx.WithDynamicBatch())
			}
			s, err := onnx.Open(modeltest.ModelsDir()+"/"+spec.File, spec.SHA256, opts...)
			if err != nil {
				b.Fatal(err)
			}
			n := int64(1)
			for _, d := range shape {
				n *= d
			}
			in := onnx.Tensor{Shape: shape, Data: make([]float32, n)}
			for i := range in.Data {
				in.Data[i] = float32(i%251) / 251
			}
			b.Run(v.name+"/"+r.label, func(b *testing.B) {
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := s.Run(in); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
			})
			s.Close()
		}
	}
}
