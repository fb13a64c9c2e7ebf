package inference

import (
	"context"

	"liveness/inference/eyes"
	"liveness/inference/geom"
	"liveness/inference/landmarks"
	"liveness/inference/liveness"
	"liveness/inference/occlusion"
	"liveness/internal/imagefile"
	"liveness/internal/scan"
)

// faceInput is what a per-face stage gets: the decoded image (coordinates of
// Detection and Landmarks are in its pixels; Image.Scale maps them to the
// original), and the scan face to fill.
type faceInput struct {
	Image     *imagefile.Image
	Detection geom.Detection
	Landmarks *landmarks.Result
	Face      *scan.Face
}

// faceStage fills some fields of every face of a batch in one call.
//
// The stages are adapters kept here, next to the engine that opens their
// models, rather than in the stage packages: those packages then know
// nothing of the engine (no import cycle), and New opens every stage from
// the manifest, so no caller can build an engine that lacks one.
type faceStage interface {
	Name() string
	Run(ctx context.Context, faces []faceInput) error
}

// livenessStage fills Liveness from the three fused anti-spoof models.
type livenessStage struct{ s *liveness.Scorer }

func (livenessStage) Name() string { return "liveness" }

func (l livenessStage) Run(ctx context.Context, faces []faceInput) error {
	in := make([]liveness.Face, len(faces))
	for i, f := range faces {
		in[i] = liveness.Face{Image: f.Image, Box: f.Detection.Box}
	}
	scores, err := l.s.Score(ctx, in)
	if err != nil {
		return err
	}
	for i, s := range scores {
		faces[i].Face.Liveness = s.Fused
	}
	return nil
}

// eyesStage fills LeftEyeClosed and RightEyeClosed (the subject's eyes).
type eyesStage struct{ e *eyes.Estimator }

func (eyesStage) Name() string { return "eyes" }

func (s eyesStage) Run(ctx context.Context, faces []faceInput) error {
	in := make([]eyes.Face, 0, len(faces))
	idx := make([]int, 0, len(faces))
	for i, f := range faces {
		if f.Landmarks == nil {
			continue // no landmarks, no eye crops: the fields stay 0
		}
		in = append(in, eyes.Face{Image: f.Image, Landmarks: f.Landmarks.Points})
		idx = append(idx, i)
	}
	res, err := s.e.Run(ctx, in)
	if err != nil {
		return err
	}
	for k, r := range res {
		faces[idx[k]].Face.LeftEyeClosed = r.LeftClosed
		faces[idx[k]].Face.RightEyeClosed = r.RightClosed
	}
	return nil
}

// occlusionStage fills FaceOcclusion, all faces in one model run.
type occlusionStage struct{ e *occlusion.Estimator }

func (occlusionStage) Name() string { return "occlusion" }

func (s occlusionStage) Run(ctx context.Context, faces []faceInput) error {
	in := make([]occlusion.Face, len(faces))
	for i, f := range faces {
		in[i] = occlusion.Face{Image: f.Image, Box: f.Detection.Box}
	}
	res, err := s.e.Run(ctx, in)
	if err != nil {
		return err
	}
	for i, r := range res {
		faces[i].Face.FaceOcclusion = r.Occlusion
	}
	return nil
}
