package inference

import (
	"math"
	"testing"

	"liveness/inference/geom"
	"liveness/internal/imagefile"
	"liveness/internal/scan"
)

// face68 is a schematic frontal face: eyes 100 px apart, nose root at
// (150,100), chin at (150,250), inner lips at y=200±gap/2.
func face68(gap float32) *[68]geom.Point {
	var p [68]geom.Point
	for i := range p {
		p[i] = geom.Point{X: 150, Y: 150}
	}
	for _, i := range rightEyeIdx {
		p[i] = geom.Point{X: 100, Y: 100}
	}
	for _, i := range leftEyeIdx {
		p[i] = geom.Point{X: 200, Y: 100}
	}
	p[noseRoot], p[chin] = geom.Point{X: 150, Y: 100}, geom.Point{X: 150, Y: 250}
	for k := range innerUpper {
		p[innerUpper[k]] = geom.Point{X: 140 + 10*float32(k), Y: 200 - gap/2}
		p[innerLower[k]] = geom.Point{X: 140 + 10*float32(k), Y: 200 + gap/2}
	}
	return &p
}

func TestMouthOpening(t *testing.T) {
	if got := MouthOpening(face68(0)); got != 0 {
		t.Errorf("closed: %v", got)
	}
	if got := MouthOpening(face68(150 * 0.3)); math.Abs(got-1) > 1e-6 {
		t.Errorf("wide open: %v", got)
	}
	half := MouthOpening(face68(150 * 0.165))
	if half < 0.45 || half > 0.55 {
		t.Errorf("half open: %v", half)
	}
}

func TestEyeDistanceScales(t *testing.T) {
	if got := EyeDistance(face68(0), 1); math.Abs(got-100) > 1e-4 {
		t.Errorf("got %v, want 100", got)
	}
	if got := EyeDistance(face68(0), 2.5); math.Abs(got-250) > 1e-3 {
		t.Errorf("scaled: got %v, want 250", got)
	}
}

func solid(w, h int, v byte) *imagefile.Image {
	im := &imagefile.Image{Pix: make([]byte, 3*w*h), Width: w, Height: h, Stride: 3 * w, Scale: 1}
	for i := range im.Pix {
		im.Pix[i] = v
	}
	return im
}

func TestLuminanceAndSharpness(t *testing.T) {
	im := solid(100, 100, 40)
	box := geom.Box{X1: 10, Y1: 10, X2: 60, Y2: 60}
	if got := Luminance(im, box); math.Abs(got-40) > 1e-9 {
		t.Errorf("luminance %v", got)
	}
	if got := Sharpness(im, box); got != 0 {
		t.Errorf("flat image sharpness %v", got)
	}
	for y := 0; y < 100; y++ { // a checkerboard is as sharp as it gets
		for x := 0; x < 100; x++ {
			if (x/2+y/2)%2 == 0 {
				copy(im.Pix[y*im.Stride+3*x:], []byte{255, 255, 255})
			}
		}
	}
	if got := Sharpness(im, box); got < 1000 {
		t.Errorf("checkerboard sharpness %v", got)
	}
	if got := Luminance(im, geom.Box{X1: -50, Y1: -50, X2: -10, Y2: -10}); got != 0 {
		t.Errorf("box outside the image: %v", got)
	}
}

func TestQualityFormula(t *testing.T) {
	best := Quality(QualityInputs{Sharpness: 1000, Luminance: 128, EyeDistance: 200, Score: 0.95})
	if math.Abs(best-1) > 1e-9 {
		t.Errorf("ideal face quality %v, want 1", best)
	}
	worst := Quality(QualityInputs{Sharpness: 0, Luminance: 0, EyeDistance: 0, Yaw: 90, Score: 0.5})
	if worst != 0 {
		t.Errorf("worst face quality %v, want 0", worst)
	}
	blurred := Quality(QualityInputs{Sharpness: 25, Luminance: 128, EyeDistance: 200, Score: 0.95})
	if math.Abs(blurred-(1-0.27)) > 1e-9 {
		t.Errorf("blurred quality %v, want 0.73", blurred)
	}
}

func TestNearBoundary(t *testing.T) {
	if NearBoundary(geom.Box{X1: 100, Y1: 100, X2: 200, Y2: 200}, 400, 400, 0.05) {
		t.Error("centred box flagged")
	}
	for _, b := range []geom.Box{{X1: 10, Y1: 100, X2: 200, Y2: 200}, {X1: 100, Y1: 100, X2: 390, Y2: 200}, {X1: 100, Y1: 100, X2: 200, Y2: 395}} {
		if !NearBoundary(b, 400, 400, 0.05) {
			t.Errorf("%+v not flagged", b)
		}
	}
}

func TestDecide(t *testing.T) {
	th := DefaultThresholds()
	good := scan.Face{Liveness: 0.9, FaceQuality: 0.8, FaceLuminance: 120, EyeDistance: 100}
	if a := Decide(nil, nil, th); a.Result != scan.ResultNoFace || a.Faces == nil {
		t.Errorf("no faces: %+v", a)
	}
	if a := Decide([]scan.Face{good}, []bool{false}, th); a.Result != scan.ResultReal || a.NotFront || a.Small || a.Quality != scan.QualityHigh || a.Luminance != scan.LuminanceNormal {
		t.Errorf("good face: %+v", a)
	}
	edge := good
	edge.Liveness = 0.7
	if a := Decide([]scan.Face{edge}, nil, th); a.Result != scan.ResultReal {
		t.Errorf("liveness exactly at the threshold: %s", a.Result)
	}
	edge.Liveness = 0.69
	if a := Decide([]scan.Face{edge}, nil, th); a.Result != scan.ResultSpoof {
		t.Errorf("liveness 0.69: %s", a.Result)
	}
	if a := Decide([]scan.Face{good, good}, nil, th); a.Result != scan.ResultMultipleFace {
		t.Errorf("two faces: %s", a.Result)
	}
	bad := scan.Face{Liveness: 0.9, Yaw: 0, Pitch: -11, FaceOcclusion: 0.95, RightEyeClosed: 0.8, MouthOpened: 0.6,
		EyeDistance: 79, FaceQuality: 0.3, FaceLuminance: 30}
	a := Decide([]scan.Face{bad}, []bool{true}, th)
	if !a.NotFront || !a.Occluded || !a.EyeClosed || !a.MouthOpened || !a.BoundaryFace || !a.Small ||
		a.Quality != scan.QualityLow || a.Luminance != scan.LuminanceDark {
		t.Errorf("every flag expected: %+v", a)
	}
	bad.FaceLuminance, bad.FaceQuality = 230, 0.5
	if a := Decide([]scan.Face{bad}, nil, th); a.Luminance != scan.LuminanceLight || a.Quality != scan.QualityMedium {
		t.Errorf("light/medium: %+v", a)
	}
	th.Real = 0.95 // thresholds are configurable
	if a := Decide([]scan.Face{good}, nil, th); a.Result != scan.ResultSpoof {
		t.Errorf("raised threshold: %s", a.Result)
	}
}
