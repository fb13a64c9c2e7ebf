package liveness

// Threshold is DESIGN.md's decision threshold on the fused score: a face
// with Fused ≥ Threshold is live.
const Threshold = 0.7

// FusionName and rawThreshold are the output of Calibrate over
// ../shared/faces (see the package doc for the table): the winning
// candidate and its threshold on the raw score.
const (
	FusionName   = "max3"
	rawThreshold = 0.9710
)

// Fuse combines the per-model probabilities into the calibrated liveness:
// the chosen raw fusion, mapped monotonically so that its threshold lands on
// Threshold.
func Fuse(s Scores) float64 {
	return Calibrated(max(s.V2, s.V1SE, s.Suri), rawThreshold)
}
