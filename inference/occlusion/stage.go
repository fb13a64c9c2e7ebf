package occlusion

import (
	"context"

	"liveness/inference"
)

// Stage adapts the Estimator to the engine's per-face stage interface: it
// fills FaceOcclusion of every face, all faces in one model run.
func Stage(m Model) inference.FaceStage { return stage{New(m)} }

type stage struct{ e *Estimator }

func (stage) Name() string { return "occlusion" }

func (s stage) Run(ctx context.Context, faces []inference.FaceInput) error {
	in := make([]Face, len(faces))
	for i, f := range faces {
		in[i] = Face{Image: f.Image, Box: f.Detection.Box}
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
