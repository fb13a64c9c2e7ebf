package liveness

// Threshold is DESIGN.md's decision threshold on the fused score: a face
// with Fused ≥ Threshold is live.
const Threshold = 0.7

// FusionName and rawThreshold are the output of Calibrate over
// ../shared/faces (see the package doc for the table): the winning
// candidate and its threshold on the raw score.
const (
	FusionName   = "logit-mean"
	rawThreshold = 0.8381
)

// Fuse combines the per-model probabilities into the calibrated liveness:
// the mean log-odds of the three models (the chosen raw fusion), mapped
// monotonically so that its threshold lands on Threshold.
func Fuse(s Scores) float64 {
	return Calibrated(logitMean(s), rawThreshold)
}

// logitMean is the "logit-mean" candidate: sigmoid of the mean log-odds.
func logitMean(s Scores) float64 {
	return sigmoid((logit(s.V2) + logit(s.V1SE) + logit(s.Suri)) / 3)
}
