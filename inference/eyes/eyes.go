// Package eyes measures how closed each eye of a face is, 0 (open) .. 1
// (closed), from the MediaPipe iris model's eye contour.
//
// Why the iris model: the 68 landmarks' eyelid points did not separate open
// from closed eyes in our checks; the iris model, fed a close crop of one
// eye, draws the lids precisely.
//
// Pre-processing (models/eye-iris-mediapipe/SOURCE.txt): per eye, a square of
// side 2.3 × the distance between the eye's two corners (iBUG 36/39 for the
// subject's right eye, 42/45 for the left), centred on their midpoint,
// unrotated, resized bilinearly to 64×64, RGB in [0,1], NCHW. The subject's
// right eye (image left on a frontal face) is mirrored horizontally, as
// MediaPipe does, so the model always sees the same eye orientation.
//
// Openness = |p12 − p4| / |p0 − p8| on the 71-point contour (0 and 8 are the
// corners, 4 the middle of the lower lid, 12 the middle of the upper lid);
// mirroring does not change it. Closure maps openness linearly between the
// measured extremes (see Closure): SOURCE.txt measured open eyes at
// 0.31-0.44, closed 0.03-0.13 and a half-closed eye at 0.20.
//
// The model's file fixes its batch at 1 and cannot be rewritten (a Concat
// with batch-1 constants; see inference/models), so the stage runs one
// eye per call, about 3-4 ms CPU each on the shared build machine
// (BenchmarkSessions, PRelu rewritten; ~2 ms on a quiet one).
package eyes

import (
	"context"
	"errors"
	"fmt"
	"math"

	"liveness/inference/geom"
	"liveness/inference/onnx"
	"liveness/internal/imagefile"
)

const (
	cropSize   = 64
	cropFactor = 2.3
	contourLen = 71 * 3
)

// Openness at or above OpenOpenness is a fully open eye (closure 0); at or
// below ClosedOpenness a fully closed one (closure 1); linear between. The
// bounds are the edges of SOURCE.txt's measured open (≥ 0.31) and closed
// (≤ 0.13) ranges, widened slightly: a closed eye (≤ 0.13) then scores
// ≥ 0.85, above DESIGN.md's 0.7 eyeClosed threshold, a half-closed one
// (0.20) 0.5, and an open one 0.
const (
	OpenOpenness   = 0.30
	ClosedOpenness = 0.10
)

// ErrOutput: the model answered with a tensor of an unexpected size.
var ErrOutput = errors.New("eyes: unexpected model output")

// Model is what the stage needs of the iris model session (*onnx.Session).
type Model interface {
	Run(inputs ...onnx.Tensor) ([]onnx.Tensor, error)
}

// Face is one face: the image and its 68 iBUG landmarks in image pixels.
type Face struct {
	Image     *imagefile.Image
	Landmarks [68]geom.Point
}

// Eyes is one face's measurement; Left and Right are the subject's.
type Eyes struct {
	LeftClosed, RightClosed     float64 // 0 open .. 1 closed
	LeftOpenness, RightOpenness float64 // lid gap / eye width
}

// Estimator runs the iris model; safe for concurrent use if the model is.
type Estimator struct{ m Model }

// New returns an Estimator over a loaded iris session.
func New(m Model) *Estimator { return &Estimator{m: m} }

// Run measures both eyes of every face.
func (e *Estimator) Run(ctx context.Context, faces []Face) ([]Eyes, error) {
	out := make([]Eyes, len(faces))
	in := make([]float32, 3*cropSize*cropSize)
	for i, f := range faces {
		for _, side := range []struct {
			a, b   int
			mirror bool
			open   *float64
		}{{36, 39, true, &out[i].RightOpenness}, {42, 45, false, &out[i].LeftOpenness}} {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			eyeTensor(f.Image, f.Landmarks[side.a], f.Landmarks[side.b], side.mirror, in)
			o, err := e.openness(in)
			if err != nil {
				return nil, err
			}
			*side.open = o
		}
		out[i].LeftClosed = Closure(out[i].LeftOpenness)
		out[i].RightClosed = Closure(out[i].RightOpenness)
	}
	return out, nil
}

func (e *Estimator) openness(in []float32) (float64, error) {
	res, err := e.m.Run(onnx.Tensor{Shape: []int64{1, 3, cropSize, cropSize}, Data: in})
	if err != nil {
		return 0, fmt.Errorf("eyes: %w", err)
	}
	if len(res) < 1 || len(res[0].Data) != contourLen {
		return 0, fmt.Errorf("%w: want %d contour values", ErrOutput, contourLen)
	}
	c := res[0].Data
	pt := func(k int) (float64, float64) { return float64(c[3*k]), float64(c[3*k+1]) }
	dist := func(a, b int) float64 {
		ax, ay := pt(a)
		bx, by := pt(b)
		return math.Hypot(ax-bx, ay-by)
	}
	width := dist(0, 8)
	if width < 1e-3 {
		return 0, nil // degenerate contour: treat as closed rather than divide by zero
	}
	return dist(12, 4) / width, nil
}

// Closure maps openness to 0 (open) .. 1 (closed).
func Closure(openness float64) float64 {
	return min(max((OpenOpenness-openness)/(OpenOpenness-ClosedOpenness), 0), 1)
}

// eyeTensor fills dst (3·64·64) with the eye crop between corners a and b.
func eyeTensor(img *imagefile.Image, a, b geom.Point, mirror bool, dst []float32) {
	cx, cy := float64(a.X+b.X)/2, float64(a.Y+b.Y)/2
	side := max(cropFactor*math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y)), 1)
	x0, y0 := cx-side/2, cy-side/2
	step := side / cropSize
	plane := cropSize * cropSize
	for v := range cropSize {
		sy := y0 + (float64(v)+0.5)*step - 0.5
		for u := range cropSize {
			su := u
			if mirror {
				su = cropSize - 1 - u
			}
			sx := x0 + (float64(su)+0.5)*step - 0.5
			r, g, bb := sample(img, sx, sy)
			dst[v*cropSize+u] = r / 255
			dst[plane+v*cropSize+u] = g / 255
			dst[2*plane+v*cropSize+u] = bb / 255
		}
	}
}

// sample is bilinear with the edge pixels repeated outside the image.
func sample(img *imagefile.Image, x, y float64) (r, g, b float32) {
	x = min(max(x, 0), float64(img.Width-1))
	y = min(max(y, 0), float64(img.Height-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, img.Width-1), min(y0+1, img.Height-1)
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	px := func(xx, yy, c int) float32 { return float32(img.Pix[yy*img.Stride+3*xx+c]) }
	var out [3]float32
	for c := range 3 {
		top := px(x0, y0, c)*(1-fx) + px(x1, y0, c)*fx
		bot := px(x0, y1, c)*(1-fx) + px(x1, y1, c)*fx
		out[c] = top*(1-fy) + bot*fy
	}
	return out[0], out[1], out[2]
}
