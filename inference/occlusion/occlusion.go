package occlusion

import (
	"context"
	"errors"
	"fmt"

	"liveness/inference/geom"
	"liveness/inference/onnx"
	"liveness/internal/imagefile"
)

const (
	inSize = 224
	grid   = 28
	points = 66
)

// ErrOutput: the model answered with a tensor of an unexpected size.
var ErrOutput = errors.New("occlusion: unexpected model output")

// Model is what the stage needs of the OpenSeeFace session (*onnx.Session).
type Model interface {
	Run(inputs ...onnx.Tensor) ([]onnx.Tensor, error)
}

// Face is one face: the image and its detector box in image pixels.
type Face struct {
	Image *imagefile.Image
	Box   geom.Box
}

// Estimator runs the 66-point model over all faces of a batch in one run.
type Estimator struct{ m Model }

// New returns an Estimator over a loaded lm_model0 session.
func New(m Model) *Estimator { return &Estimator{m: m} }

// Confidences returns, per face, the 66 per-point confidences (the heatmap
// maxima, 0..1).
func (e *Estimator) Confidences(ctx context.Context, faces []Face) ([][points]float32, error) {
	out := make([][points]float32, len(faces))
	if len(faces) == 0 {
		return out, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := 3 * inSize * inSize
	in := make([]float32, len(faces)*n)
	for i, f := range faces {
		faceTensor(f.Image, f.Box, in[i*n:(i+1)*n])
	}
	res, err := e.m.Run(onnx.Tensor{Shape: []int64{int64(len(faces)), 3, inSize, inSize}, Data: in})
	if err != nil {
		return nil, fmt.Errorf("occlusion: %w", err)
	}
	// The first 66 channels are the heatmaps: the whole output as the
	// manifest opens the model (models.Spec.OutputChannels), the first third
	// of the file's own (offset maps follow).
	if len(res) != 1 || !heatmaps(res[0], len(faces)) {
		return nil, fmt.Errorf("%w: want one %d×(66 or more)×28×28 tensor", ErrOutput, len(faces))
	}
	per := int(res[0].Shape[1]) * grid * grid
	for i := range faces {
		maps := res[0].Data[i*per:]
		for k := range points {
			var m float32
			for _, v := range maps[k*grid*grid : (k+1)*grid*grid] {
				m = max(m, v)
			}
			out[i][k] = m
		}
	}
	return out, nil
}

// heatmaps reports whether t is n faces' maps: N×C×28×28, C ≥ 66.
func heatmaps(t onnx.Tensor, n int) bool {
	sh := t.Shape
	return len(sh) == 4 && sh[0] == int64(n) && sh[1] >= points && sh[2] == grid && sh[3] == grid &&
		int64(len(t.Data)) == sh[0]*sh[1]*grid*grid
}

// ImageNet normalisation, (px/255 − mean)/std, as px·gain − shift: two
// divisions per value were a third of the crop's time.
var (
	mean  = [3]float32{0.485, 0.456, 0.406}
	std   = [3]float32{0.229, 0.224, 0.225}
	gain  = [3]float32{1 / (255 * std[0]), 1 / (255 * std[1]), 1 / (255 * std[2])}
	shift = [3]float32{mean[0] / std[0], mean[1] / std[1], mean[2] / std[2]}
)

// faceTensor is OpenSeeFace's crop (tracker.py): the box grown by int(0.1·w)
// left and right and int(0.125·h) top and bottom, clamped to the image,
// resized bilinearly to 224×224, RGB with ImageNet normalisation.
func faceTensor(img *imagefile.Image, b geom.Box, dst []float32) {
	x, y, w, h := float64(b.X1), float64(b.Y1), float64(b.W()), float64(b.H())
	x1 := min(max(x-float64(int(0.1*w)), 0), float64(img.Width-1))
	y1 := min(max(y-float64(int(0.125*h)), 0), float64(img.Height-1))
	x2 := min(max(x+w+float64(int(0.1*w)), x1+1), float64(img.Width))
	y2 := min(max(y+h+float64(int(0.125*h)), y1+1), float64(img.Height))
	x1, y1, x2, y2 = float64(int(x1)), float64(int(y1)), float64(int(x2)), float64(int(y2))
	fx, fy := (x2-x1)/inSize, (y2-y1)/inSize
	plane := inSize * inSize
	// Sample positions resolved once per column and row (the same
	// arithmetic as a per-pixel bilinear clamped to the crop).
	xs, ys := taps(x1, x2-1, fx), taps(y1, y2-1, fy)
	for v, ty := range ys {
		r0, r1 := img.Pix[ty.i0*img.Stride:], img.Pix[ty.i1*img.Stride:]
		for u, tx := range xs {
			o0, o1 := 3*tx.i0, 3*tx.i1
			for c := range 3 {
				top := float32(r0[o0+c])*(1-tx.w) + float32(r0[o1+c])*tx.w
				bot := float32(r1[o0+c])*(1-tx.w) + float32(r1[o1+c])*tx.w
				px := top*(1-ty.w) + bot*ty.w
				dst[c*plane+v*inSize+u] = px*gain[c] - shift[c]
			}
		}
	}
}

// tap is one output coordinate's two source indices and the weight of the
// second.
type tap struct {
	i0, i1 int
	w      float32
}

// taps maps inSize output coordinates onto [lo, hi] with step f, pixel
// centres aligned and clamped to the crop (cv2.resize on the cropped array
// repeats the crop's edge).
func taps(lo, hi, f float64) []tap {
	out := make([]tap, inSize)
	for d := range out {
		s := min(max(lo+(float64(d)+0.5)*f-0.5, lo), hi)
		i0 := int(s)
		out[d] = tap{i0, min(i0+1, int(hi)), float32(s - float64(i0))}
	}
	return out
}

// The mapping's anchor points on R = mouth / eye confidence (see the doc).
const (
	ClearRatio   = 1.0
	FlagRatio    = 0.845
	CoveredRatio = 0.70
	flagScore    = 0.9
)

// Score is one face's occlusion and the ratio it came from.
type Score struct {
	Occlusion float64 // 0 clear .. 1 covered
	Ratio     float64 // mean mouth-point / mean eye-point confidence
}

// Run scores every face of the batch.
func (e *Estimator) Run(ctx context.Context, faces []Face) ([]Score, error) {
	conf, err := e.Confidences(ctx, faces)
	if err != nil {
		return nil, err
	}
	out := make([]Score, len(faces))
	for i, c := range conf {
		r := Ratio(c)
		out[i] = Score{Occlusion: FromRatio(r), Ratio: r}
	}
	return out, nil
}

// Ratio is the mean confidence of the mouth points (OSF 48-65) over that of
// the eye points (OSF 36-47, the same as iBUG).
func Ratio(c [points]float32) float64 {
	mean := func(a, b int) float64 {
		var s float64
		for k := a; k < b; k++ {
			s += float64(c[k])
		}
		return s / float64(b-a)
	}
	eyes := mean(36, 48)
	if eyes <= 1e-6 {
		return 0
	}
	return mean(48, points) / eyes
}

// FromRatio maps R to occlusion 0..1 (see the package doc).
func FromRatio(r float64) float64 {
	switch {
	case r >= ClearRatio:
		return 0
	case r >= FlagRatio:
		return flagScore * (ClearRatio - r) / (ClearRatio - FlagRatio)
	case r > CoveredRatio:
		return flagScore + (1-flagScore)*(FlagRatio-r)/(FlagRatio-CoveredRatio)
	}
	return 1
}
