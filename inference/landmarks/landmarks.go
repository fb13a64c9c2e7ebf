// Package landmarks finds the 68 iBUG landmarks and the head pose of a face
// with Peppa slim160 (Peppa-Facial-Landmark-PyTorch), batched over every
// face of a batch.
//
// Pre-processing follows the model's SOURCE.txt: the detector box grown by
// 0.2·w and 0.2·h on each side, clipped to the image, resized to 160×160
// (bilinear), BGR, (x−127)/127. WithSecondPass(true) rebuilds the crop from
// the first pass's landmark box grown 0.2·w sideways and 0.3·h vertically,
// grey-127 padded (the training crop). It is off by default because it did
// not measurably help: on eight real portraits the landmarks of an image and
// of its mirror image agree to 1.21% of the face width with one pass and
// 1.37% with two (TestSecondPassMirrorConsistency), and it doubles the cost.
//
// Pose sign convention (degrees, the model's outputs ×90, output order
// pitch, yaw, roll): yaw > 0 when the face turns towards the image's left
// (r15 "left_face" +48°, the full profile e112 +71°; their mirror images
// −50° and −73°). Roll and yaw change sign under a horizontal mirror and
// pitch does not (TestPoseSignsUnderMirror). Pitch > 0 when the head tilts
// down: the model reads +12° (median) on the nine portraits labelled
// frontal in ../shared/faces and +20° on the "head tilted down" one, so
// PitchBias (12°) is subtracted to put a frontal face at 0. The pose is rough (a solvePnP
// training target) and meaningless beyond about ±60° yaw, where the model
// leaves its training range.
package landmarks

import (
	"errors"
	"fmt"
	"math"

	"liveness/inference/geom"
	"liveness/inference/onnx"
	"liveness/internal/imagefile"
)

// Runner is what the stage needs of a model session (*onnx.Session).
type Runner interface {
	Run(inputs ...onnx.Tensor) ([]onnx.Tensor, error)
}

// ErrOutput: the model answered with a tensor of an unexpected size.
var ErrOutput = errors.New("landmarks: unexpected model output")

// PitchBias is the model's pitch on frontal faces, measured (see above).
const PitchBias = 12

const (
	size    = 160
	outLen  = 143
	points  = 68
	padGrey = 127
)

// Face is one face to measure: the image and its detector box (image pixels).
type Face struct {
	Image *imagefile.Image
	Box   geom.Box
}

// Result is one face's landmarks (image pixels, iBUG-68 order) and pose.
type Result struct {
	Points            [points]geom.Point
	Yaw, Pitch, Roll  float64 // degrees, see the package doc for the signs
	EyeClosedLogits   [2]float32
	MouthClosedLogit  float32
	BigMouthOpenLogit float32
}

// Box is the tight box around the landmarks.
func (r *Result) Box() geom.Box {
	b := geom.Box{X1: math.MaxFloat32, Y1: math.MaxFloat32, X2: -math.MaxFloat32, Y2: -math.MaxFloat32}
	for _, p := range r.Points {
		b.X1, b.Y1, b.X2, b.Y2 = min(b.X1, p.X), min(b.Y1, p.Y), max(b.X2, p.X), max(b.Y2, p.Y)
	}
	return b
}

// Landmarker runs the model; safe for concurrent use.
type Landmarker struct {
	m          Runner
	secondPass bool
}

// Option tunes the Landmarker.
type Option func(*Landmarker)

// WithSecondPass turns the landmark-box refinement on or off (default off).
func WithSecondPass(on bool) Option { return func(l *Landmarker) { l.secondPass = on } }

// New returns a Landmarker over a loaded slim160 session (batch rewritten).
func New(m Runner, opts ...Option) *Landmarker {
	l := &Landmarker{m: m}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Run measures every face in one model run (two with the second pass).
func (l *Landmarker) Run(faces []Face) ([]Result, error) {
	if len(faces) == 0 {
		return nil, nil
	}
	crops := make([]geom.Box, len(faces))
	for i, f := range faces {
		crops[i] = f.Box.Grow(0.2, 0.2).Clip(f.Image.Width, f.Image.Height)
	}
	res, err := l.pass(faces, crops)
	if err != nil || !l.secondPass {
		return res, err
	}
	for i := range faces {
		crops[i] = res[i].Box().Grow(0.2, 0.3)
	}
	return l.pass(faces, crops)
}

func (l *Landmarker) pass(faces []Face, crops []geom.Box) ([]Result, error) {
	const plane = size * size
	in := onnx.Tensor{Shape: []int64{int64(len(faces)), 3, size, size}, Data: make([]float32, len(faces)*3*plane)}
	for i, f := range faces {
		sampleBGR(f.Image, crops[i], in.Data[i*3*plane:(i+1)*3*plane])
	}
	out, err := l.m.Run(in)
	if err != nil {
		return nil, fmt.Errorf("landmarks: %w", err)
	}
	if len(out) != 1 || len(out[0].Data) != len(faces)*outLen {
		return nil, fmt.Errorf("%w: want %d×%d values", ErrOutput, len(faces), outLen)
	}
	res := make([]Result, len(faces))
	for i := range faces {
		res[i] = decode(out[0].Data[i*outLen:(i+1)*outLen], crops[i])
	}
	return res, nil
}

func decode(v []float32, crop geom.Box) Result {
	var r Result
	for k := range points {
		r.Points[k] = geom.Point{X: v[2*k]*crop.W() + crop.X1, Y: v[2*k+1]*crop.H() + crop.Y1}
	}
	r.Pitch, r.Yaw, r.Roll = float64(v[136])*90-PitchBias, float64(v[137])*90, float64(v[138])*90
	r.EyeClosedLogits = [2]float32{v[139], v[140]}
	r.MouthClosedLogit, r.BigMouthOpenLogit = v[141], v[142]
	return r
}

// sampleBGR resamples the crop box of img to size×size with bilinear
// interpolation (pixel centres aligned, like cv2.resize), writing planar BGR
// (x−127)/127; outside the image reads as grey 127.
//
// Source positions are resolved once per column and row, and a sample
// whose four neighbours lie inside the image takes a branch-free path;
// both give bit for bit the per-sample arithmetic of bilinear (the
// reference in landmarks_test.go).
func sampleBGR(img *imagefile.Image, crop geom.Box, dst []float32) {
	const plane = size * size
	xs := taps(float64(crop.X1), float64(crop.W())/size)
	ys := taps(float64(crop.Y1), float64(crop.H())/size)
	for y, ty := range ys {
		inY := ty.i >= 0 && ty.i+1 < img.Height
		for x, tx := range xs {
			var r, g, b float32
			if inY && tx.i >= 0 && tx.i+1 < img.Width {
				r, g, b = inside(img, tx, ty)
			} else {
				r, g, b = bilinearAt(img, tx.i, ty.i, tx.a, ty.a)
			}
			o := y*size + x
			dst[o] = (b - 127) / 127
			dst[plane+o] = (g - 127) / 127
			dst[2*plane+o] = (r - 127) / 127
		}
	}
}

// tap is one output coordinate's first source index and the weight of the
// second.
type tap struct {
	i int
	a float32
}

func taps(lo, step float64) [size]tap {
	var out [size]tap
	for d := range out {
		f := lo + (float64(d)+0.5)*step - 0.5
		i := int(math.Floor(f))
		out[d] = tap{i, float32(f - float64(i))}
	}
	return out
}

// inside is bilinearAt for a sample whose four neighbours are in the image:
// a zero weight adds an exact 0, so no tap needs skipping.
func inside(img *imagefile.Image, tx, ty tap) (r, g, b float32) {
	ax, ay := tx.a, ty.a
	w00, w10, w01, w11 := (1-ax)*(1-ay), ax*(1-ay), (1-ax)*ay, ax*ay
	p0 := img.Pix[ty.i*img.Stride+3*tx.i:]
	p1 := img.Pix[(ty.i+1)*img.Stride+3*tx.i:]
	p0, p1 = p0[:6:6], p1[:6:6]
	var acc [3]float32
	for c := range acc {
		v := w00 * float32(p0[c])
		v += w10 * float32(p0[3+c])
		v += w01 * float32(p1[c])
		v += w11 * float32(p1[3+c])
		acc[c] = v
	}
	return acc[0], acc[1], acc[2]
}

// bilinearAt samples at (x0+ax, y0+ay), grey outside the image.
func bilinearAt(img *imagefile.Image, x0, y0 int, ax, ay float32) (r, g, b float32) {
	var acc [3]float32
	for _, t := range [4]struct {
		dx, dy int
		w      float32
	}{{0, 0, (1 - ax) * (1 - ay)}, {1, 0, ax * (1 - ay)}, {0, 1, (1 - ax) * ay}, {1, 1, ax * ay}} {
		if t.w == 0 {
			continue
		}
		px, py := x0+t.dx, y0+t.dy
		if px < 0 || py < 0 || px >= img.Width || py >= img.Height {
			for c := range acc {
				acc[c] += t.w * padGrey
			}
			continue
		}
		i := py*img.Stride + 3*px
		for c := range acc {
			acc[c] += t.w * float32(img.Pix[i+c])
		}
	}
	return acc[0], acc[1], acc[2]
}
