package inference

import (
	"math"

	"liveness/inference/geom"
	"liveness/internal/imagefile"
)

// iBUG-68 indices used by the measurements.
var (
	rightEyeIdx = [6]int{36, 37, 38, 39, 40, 41} // image-left eye
	leftEyeIdx  = [6]int{42, 43, 44, 45, 46, 47}
	innerUpper  = [3]int{61, 62, 63}
	innerLower  = [3]int{67, 66, 65} // facing innerUpper
)

const (
	noseRoot = 27
	chin     = 8
	// mouthClosedRatio and mouthWideRatio map the inner-lip gap, as a
	// fraction of the nose-root-to-chin distance, onto 0..1: slim160 leaves a
	// gap of ~0.02 on closed lips, and a wide-open mouth reaches ~0.3.
	mouthClosedRatio = 0.03
	mouthWideRatio   = 0.30
)

// MouthOpening is the inner-lip gap (mean of the three facing pairs 61-67,
// 62-66, 63-65) over the face height (nose root 27 to chin 8), mapped
// linearly so a closed mouth is 0 and a wide-open one 1.
//
// Measured on ../shared/faces: closed mouths give gap ratios 0.015..0.05
// (→ 0..0.07), toothy smiles 0.10..0.14 (→ 0.26..0.41), the wide-open s101
// 0.20 (→ 0.63). Known misses: slim160's inner-lip points lag on open
// mouths (its SOURCE.txt says so), so r07 (speaking behind a microphone,
// 0.056) and r17 (grimace, 0.09) read as nearly closed. The model's own
// big-mouth-open head fires on toothy smiles (r01, r06, r11 ≥ 0.98) and is
// not used.
func MouthOpening(p *[68]geom.Point) float64 {
	h := dist(p[noseRoot], p[chin])
	if h <= 0 {
		return 0
	}
	var gap float64
	for i := range innerUpper {
		gap += dist(p[innerUpper[i]], p[innerLower[i]])
	}
	r := gap / 3 / h
	return clamp01((r - mouthClosedRatio) / (mouthWideRatio - mouthClosedRatio))
}

// EyeDistance is the distance between the two eye centres (means of the six
// points of each eye), multiplied by scale to give original-image pixels.
func EyeDistance(p *[68]geom.Point, scale float64) float64 {
	return dist(centre(p, rightEyeIdx), centre(p, leftEyeIdx)) * scale
}

func centre(p *[68]geom.Point, idx [6]int) geom.Point {
	var c geom.Point
	for _, i := range idx {
		c.X += p[i].X / 6
		c.Y += p[i].Y / 6
	}
	return c
}

func dist(a, b geom.Point) float64 { return math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y)) }

func clamp01(v float64) float64 { return math.Min(math.Max(v, 0), 1) }

// luma is BT.601 Y of an RGB pixel, 0..255.
func luma(r, g, b byte) float64 { return 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b) }

// Luminance is the mean Y (BT.601, 0..255) of the face box, clipped to the
// image.
func Luminance(img *imagefile.Image, box geom.Box) float64 {
	b := box.Clip(img.Width, img.Height)
	x0, y0, x1, y1 := int(b.X1), int(b.Y1), int(b.X2), int(b.Y2)
	var sum float64
	n := 0
	for y := y0; y < y1; y++ {
		row := img.Pix[y*img.Stride:]
		for x := x0; x < x1; x++ {
			sum += luma(row[3*x], row[3*x+1], row[3*x+2])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// sharpSide is the square the face is resampled to before measuring
// sharpness, so the measure does not depend on the face's pixel size.
const sharpSide = 96

// Sharpness is the variance of the 4-neighbour Laplacian of the face's luma,
// resampled (nearest) to 96×96 so faces of any size compare.
func Sharpness(img *imagefile.Image, box geom.Box) float64 {
	b := box.Clip(img.Width, img.Height)
	if b.W() < 2 || b.H() < 2 {
		return 0
	}
	var g [sharpSide][sharpSide]float64
	for y := range sharpSide {
		sy := min(int(b.Y1+(float32(y)+0.5)*b.H()/sharpSide), img.Height-1)
		for x := range sharpSide {
			sx := min(int(b.X1+(float32(x)+0.5)*b.W()/sharpSide), img.Width-1)
			i := sy*img.Stride + 3*sx
			g[y][x] = luma(img.Pix[i], img.Pix[i+1], img.Pix[i+2])
		}
	}
	var sum, sq float64
	n := float64((sharpSide - 2) * (sharpSide - 2))
	for y := 1; y < sharpSide-1; y++ {
		for x := 1; x < sharpSide-1; x++ {
			l := g[y-1][x] + g[y+1][x] + g[y][x-1] + g[y][x+1] - 4*g[y][x]
			sum += l
			sq += l * l
		}
	}
	m := sum / n
	return sq/n - m*m
}

// QualityInputs are the measurements the face quality is made of.
type QualityInputs struct {
	Sharpness   float64 // variance of Laplacian (Sharpness)
	Luminance   float64 // 0..255
	EyeDistance float64 // original-image pixels
	Yaw, Pitch  float64 // degrees
	Roll        float64
	Score       float64 // detector score 0..1
}

// Quality is a 0..1 face quality:
//
//	q = 0.30·sharp + 0.20·exposure + 0.20·size + 0.15·pose + 0.15·det
//	sharp    = min(varLaplacian / 250, 1)          (96×96 face; blurred < 50, crisp > 250)
//	exposure = 1 − |luminance − 128| / 128
//	size     = min(eyeDistance / 120 px, 1)        (80 px is the "small" limit)
//	pose     = max(0, 1 − max(|yaw|, |pitch|, |roll|) / 45°)
//	det      = clamp((score − 0.5) / 0.45, 0, 1)   (0.5 is the detector's floor)
func Quality(q QualityInputs) float64 {
	sharp := math.Min(q.Sharpness/250, 1)
	exposure := clamp01(1 - math.Abs(q.Luminance-128)/128)
	size := math.Min(q.EyeDistance/120, 1)
	worst := math.Max(math.Abs(q.Yaw), math.Max(math.Abs(q.Pitch), math.Abs(q.Roll)))
	pose := math.Max(0, 1-worst/45)
	det := clamp01((q.Score - 0.5) / 0.45)
	return clamp01(0.30*sharp + 0.20*exposure + 0.20*size + 0.15*pose + 0.15*det)
}

// NearBoundary reports whether the box comes within margin (a fraction of
// the image's width or height) of an edge.
func NearBoundary(b geom.Box, w, h int, margin float64) bool {
	mx, my := float32(margin)*float32(w), float32(margin)*float32(h)
	return b.X1 < mx || b.Y1 < my || b.X2 > float32(w)-mx || b.Y2 > float32(h)-my
}
