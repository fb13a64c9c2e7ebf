package liveness

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
	minivisionSize = 80
	suriSize       = 128
	suriExpand     = 1.5
	scaleV2        = 2.7 // MiniFASNetV2's crop scale
	scaleV1SE      = 4.0 // MiniFASNetV1SE's crop scale
)

// ErrOutput: a model answered with a tensor of the wrong size.
var ErrOutput = errors.New("liveness: unexpected model output")

// Model is what a stage needs of a loaded model (*onnx.Session): one
// float32 NCHW batch in, the outputs back.
type Model interface {
	Run(inputs ...onnx.Tensor) ([]onnx.Tensor, error)
}

// Models are the three anti-spoof models, each loaded from its manifest entry.
type Models struct {
	V2   Model // MiniFASNetV2, 80×80, crop scale 2.7, 3 classes, index 1 = real
	V1SE Model // MiniFASNetV1SE, 80×80, crop scale 4.0, 3 classes, index 1 = real
	Suri Model // SURI MiniFASNetV2SE-128 fp32, 2 classes, index 0 = real
}

// Face is what the stage needs of one face: the image and the detector box
// in that image's pixels.
type Face struct {
	Image *imagefile.Image
	Box   geom.Box
}

// Scores are one face's per-model probabilities of "real" and their fusion.
type Scores struct {
	V2, V1SE, Suri float64 // softmax probability of the "real" class, 0..1
	Fused          float64 // calibrated liveness, 0..1; ≥ Threshold means live
}

// Scorer runs the three models over every face of a batch, one run per model.
type Scorer struct{ m Models }

// New returns a Scorer over the given models; all three are required.
func New(m Models) (*Scorer, error) {
	if m.V2 == nil || m.V1SE == nil || m.Suri == nil {
		return nil, errors.New("liveness: all three models are required")
	}
	return &Scorer{m: m}, nil
}

// Score returns the scores of each face, in order.
func (s *Scorer) Score(ctx context.Context, faces []Face) ([]Scores, error) {
	out := make([]Scores, len(faces))
	if len(faces) == 0 {
		return out, nil
	}
	v2, err := runMinivision(ctx, s.m.V2, faces, scaleV2)
	if err != nil {
		return nil, fmt.Errorf("liveness: MiniFASNetV2: %w", err)
	}
	v1, err := runMinivision(ctx, s.m.V1SE, faces, scaleV1SE)
	if err != nil {
		return nil, fmt.Errorf("liveness: MiniFASNetV1SE: %w", err)
	}
	su, err := runSuri(ctx, s.m.Suri, faces)
	if err != nil {
		return nil, fmt.Errorf("liveness: SURI-128: %w", err)
	}
	for i := range out {
		out[i] = Scores{V2: v2[i], V1SE: v1[i], Suri: su[i]}
		out[i].Fused = Fuse(out[i])
	}
	return out, nil
}

func runMinivision(ctx context.Context, m Model, faces []Face, scale float64) ([]float64, error) {
	n := minivisionSize * minivisionSize * 3
	in := make([]float32, len(faces)*n)
	for i, f := range faces {
		minivisionTensor(f.Image, f.Box, scale, in[i*n:(i+1)*n])
	}
	return realProb(ctx, m, in, []int64{int64(len(faces)), 3, minivisionSize, minivisionSize}, 3, 1)
}

func runSuri(ctx context.Context, m Model, faces []Face) ([]float64, error) {
	n := suriSize * suriSize * 3
	in := make([]float32, len(faces)*n)
	for i, f := range faces {
		suriTensor(f.Image, f.Box, in[i*n:(i+1)*n])
	}
	return realProb(ctx, m, in, []int64{int64(len(faces)), 3, suriSize, suriSize}, 2, 0)
}

// realProb runs the model and returns softmax(logits)[real] per row.
func realProb(ctx context.Context, m Model, in []float32, shape []int64, classes, real int) ([]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := m.Run(onnx.Tensor{Shape: shape, Data: in})
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("%w: %d outputs, want 1", ErrOutput, len(res))
	}
	logits := res[0].Data
	n := int(shape[0])
	if len(logits) != n*classes {
		return nil, fmt.Errorf("%w: %d values for %d faces × %d classes", ErrOutput, len(logits), n, classes)
	}
	p := make([]float64, n)
	for i := range n {
		p[i] = softmax(logits[i*classes : (i+1)*classes])[real]
	}
	return p, nil
}

func softmax(z []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, float64(v))
	}
	out := make([]float64, len(z))
	var sum float64
	for i, v := range z {
		out[i] = math.Exp(float64(v) - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
