package inference

import (
	"math"

	"liveness/internal/scan"
)

// Thresholds are the decision rules of DESIGN.md; DefaultThresholds gives
// its defaults. Deployments and companies may override any of them.
type Thresholds struct {
	Real           float64 // livenessScore ≥ Real → Real, else Spoof
	Pose           float64 // degrees; |yaw|, |pitch| or |roll| above → notFront
	Occluded       float64 // faceOcclusion above → occluded
	EyeClosed      float64 // either eye above → eyeClosed
	MouthOpened    float64 // mouth opening above → mouthOpened
	BoundaryMargin float64 // box within this fraction of an edge → boundaryFace
	SmallEyes      float64 // eye distance (px) below → small
	QualityMedium  float64 // faceQuality ≥ → Medium
	QualityHigh    float64 // faceQuality ≥ → High
	Dark           float64 // faceLuminance < → Dark
	Light          float64 // faceLuminance > → Light
}

// DefaultThresholds: DESIGN.md's rules; the quality cut-offs split the
// formula of Quality at 0.45 and 0.7, the luminance ones at 60 and 200 of
// 255 (a face under 60 is too dark to judge skin texture, one over 200 is
// washed out).
func DefaultThresholds() Thresholds {
	return Thresholds{
		Real: 0.7, Pose: 10, Occluded: 0.9, EyeClosed: 0.7, MouthOpened: 0.5,
		BoundaryMargin: 0.05, SmallEyes: 80,
		QualityMedium: 0.45, QualityHigh: 0.7, Dark: 60, Light: 200,
	}
}

// Decide derives the verdict and flags from the faces of an image (largest
// first; the largest is the primary face, whose measurements the flags and
// the livenessScore report). boundary says whether each face is near an edge.
func Decide(faces []scan.Face, boundary []bool, t Thresholds) scan.Analysis {
	a := scan.Analysis{Faces: faces, Result: scan.ResultNoFace, Quality: scan.QualityLow, Luminance: scan.LuminanceNormal}
	if a.Faces == nil {
		a.Faces = []scan.Face{}
	}
	if len(faces) == 0 {
		return a
	}
	f := faces[0]
	a.LivenessScore = f.Liveness
	switch {
	case len(faces) > 1:
		a.Result = scan.ResultMultipleFace
	case f.Liveness >= t.Real:
		a.Result = scan.ResultReal
	default:
		a.Result = scan.ResultSpoof
	}
	a.NotFront = math.Abs(f.Yaw) > t.Pose || math.Abs(f.Pitch) > t.Pose || math.Abs(f.Roll) > t.Pose
	a.Occluded = f.FaceOcclusion > t.Occluded
	a.EyeClosed = f.LeftEyeClosed > t.EyeClosed || f.RightEyeClosed > t.EyeClosed
	a.MouthOpened = f.MouthOpened > t.MouthOpened
	a.BoundaryFace = len(boundary) > 0 && boundary[0]
	a.Small = f.EyeDistance < t.SmallEyes
	a.Quality = t.quality(f.FaceQuality)
	a.Luminance = t.luminance(f.FaceLuminance)
	return a
}

func (t Thresholds) quality(q float64) scan.Quality {
	switch {
	case q >= t.QualityHigh:
		return scan.QualityHigh
	case q >= t.QualityMedium:
		return scan.QualityMedium
	}
	return scan.QualityLow
}

func (t Thresholds) luminance(l float64) scan.Luminance {
	switch {
	case l < t.Dark:
		return scan.LuminanceDark
	case l > t.Light:
		return scan.LuminanceLight
	}
	return scan.LuminanceNormal
}
