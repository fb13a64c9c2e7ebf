package eyes

import (
	"context"

	"liveness/inference"
)

// Stage adapts the Estimator to the engine's per-face stage interface: it
// fills LeftEyeClosed and RightEyeClosed (the subject's eyes) of every face.
func Stage(m Model) inference.FaceStage { return stage{New(m)} }

type stage struct{ e *Estimator }

func (stage) Name() string { return "eyes" }

func (s stage) Run(ctx context.Context, faces []inference.FaceInput) error {
	in := make([]Face, 0, len(faces))
	idx := make([]int, 0, len(faces))
	for i, f := range faces {
		if f.Landmarks == nil {
			continue // no landmarks, no eye crops: the fields stay 0
		}
		in = append(in, Face{Image: f.Image, Landmarks: f.Landmarks.Points})
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
