package landmarks

import (
	"math"
	"testing"

	"liveness/inference/geom"
	"liveness/internal/imagefile"
)

// sampleBGRReference is the per-sample implementation sampleBGR replaced.
func sampleBGRReference(img *imagefile.Image, crop geom.Box, dst []float32) {
	const plane = size * size
	sx := float64(crop.W()) / size
	sy := float64(crop.H()) / size
	for y := range size {
		fy := float64(crop.Y1) + (float64(y)+0.5)*sy - 0.5
		for x := range size {
			fx := float64(crop.X1) + (float64(x)+0.5)*sx - 0.5
			x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
			r, g, b := bilinearAt(img, x0, y0, float32(fx-float64(x0)), float32(fy-float64(y0)))
			o := y*size + x
			dst[o] = (b - 127) / 127
			dst[plane+o] = (g - 127) / 127
			dst[2*plane+o] = (r - 127) / 127
		}
	}
}

// TestSampleBGRBitExact: the tap-based crop equals the per-sample one bit
// for bit, for crops inside, across and beyond the image's edges, up- and
// downscaled.
func TestSampleBGRBitExact(t *testing.T) {
	img := &imagefile.Image{Width: 97, Height: 61, Stride: 3 * 97}
	img.Pix = make([]byte, img.Stride*img.Height)
	for i := range img.Pix {
		img.Pix[i] = byte(i*7 + i/291*13)
	}
	for _, crop := range []geom.Box{
		{X1: 10.3, Y1: 5.7, X2: 60.1, Y2: 50.2},
		{X1: -20.5, Y1: -11, X2: 40, Y2: 30.25},
		{X1: 50, Y1: 20, X2: 130.75, Y2: 90},
		{X1: 0, Y1: 0, X2: 97, Y2: 61},
		{X1: -100, Y1: -80, X2: 300, Y2: 200},
		{X1: 30, Y1: 30, X2: 32, Y2: 31},
	} {
		got, want := make([]float32, 3*size*size), make([]float32, 3*size*size)
		sampleBGR(img, crop, got)
		sampleBGRReference(img, crop, want)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("crop %+v: value %d is %v, reference %v", crop, i, got[i], want[i])
			}
		}
	}
}
