package liveness

import (
	"context"
	"fmt"
	"testing"

	"liveness/inference/onnx"
)

// BenchmarkModels times each anti-spoof model (crop + run) per face, at
// batch 1 and 8, single-threaded ONNX Runtime.
func BenchmarkModels(b *testing.B) {
	y := newYunet(b)
	m := testModels(b)
	img := loadImage(b, "real/r04_apk_glasses.jpeg")
	d, err := y.detect(img)
	if err != nil || len(d) == 0 {
		b.Fatalf("no face (%v)", err)
	}
	for _, n := range []int{1, 8} {
		faces := make([]Face, n)
		for i := range faces {
			faces[i] = Face{Image: img, Box: d[0].Box}
		}
		for _, c := range []struct {
			name string
			run  func() error
		}{
			{"MiniFASNetV2", func() error { _, err := runMinivision(context.Background(), m.V2, faces, scaleV2); return err }},
			{"MiniFASNetV1SE", func() error { _, err := runMinivision(context.Background(), m.V1SE, faces, scaleV1SE); return err }},
			{"SURI-128", func() error { _, err := runSuri(context.Background(), m.Suri, faces); return err }},
		} {
			b.Run(fmt.Sprintf("%s/N=%d", c.name, n), func(b *testing.B) {
				for b.Loop() {
					if err := c.run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*n), "ms/face")
			})
		}
	}
	_ = onnx.Tensor{}
}
