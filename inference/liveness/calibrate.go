package liveness

import (
	"math"
	"sort"
)

// Labelled is one scored face of the labelled set with its ground truth.
type Labelled struct {
	Scores
	Live bool
}

// Candidate is one way to fuse the three probabilities into a raw score.
type Candidate struct {
	Name string
	Raw  func(Scores) float64
}

// Candidates are the fusions compared by Calibrate. "logit-mean" is the
// logistic fusion without fitted weights (the mean log-odds): with a few
// dozen labelled faces, fitted weights would only memorise them.
var Candidates = []Candidate{
	{"MiniFASNetV2", func(s Scores) float64 { return s.V2 }},
	{"MiniFASNetV1SE", func(s Scores) float64 { return s.V1SE }},
	{"SURI-128", func(s Scores) float64 { return s.Suri }},
	{"minivision-mean", func(s Scores) float64 { return (s.V2 + s.V1SE) / 2 }},
	{"mean3", func(s Scores) float64 { return (s.V2 + s.V1SE + s.Suri) / 3 }},
	{"min3", func(s Scores) float64 { return min(s.V2, s.V1SE, s.Suri) }},
	{"max3", func(s Scores) float64 { return max(s.V2, s.V1SE, s.Suri) }},
	{"min(minivision,SURI)", func(s Scores) float64 { return min((s.V2+s.V1SE)/2, s.Suri) }},
	{"logit-mean", logitMean},
}

// Operating is a candidate's best threshold on the raw score and its error
// rates there (ISO/IEC 30107-3: APCER over attacks, BPCER over bona fide).
type Operating struct {
	Name               string
	Threshold          float64
	APCER, BPCER, ACER float64
	Margin             float64 // distance from the threshold to the nearest score
}

// Calibrate applies THE RULE: for each candidate, the threshold (a midpoint
// between two consecutive raw scores) minimising ACER, ties broken by lower
// BPCER, then by the larger margin; the candidate with the lowest ACER wins,
// ties broken the same way. It returns every candidate's operating point,
// the winner first.
func Calibrate(set []Labelled, cands []Candidate) []Operating {
	ops := make([]Operating, 0, len(cands))
	for _, c := range cands {
		ops = append(ops, best(set, c))
	}
	sort.SliceStable(ops, func(i, j int) bool { return better(ops[i], ops[j]) })
	return ops
}

func better(a, b Operating) bool {
	const eps = 1e-9
	if math.Abs(a.ACER-b.ACER) > eps {
		return a.ACER < b.ACER
	}
	if math.Abs(a.BPCER-b.BPCER) > eps {
		return a.BPCER < b.BPCER
	}
	return a.Margin > b.Margin
}

func best(set []Labelled, c Candidate) Operating {
	raw := make([]float64, len(set))
	for i, s := range set {
		raw[i] = c.Raw(s.Scores)
	}
	sorted := append([]float64(nil), raw...)
	sort.Float64s(sorted)
	var op Operating
	for i := 0; i+1 < len(sorted); i++ {
		if sorted[i+1]-sorted[i] < 1e-12 {
			continue
		}
		t := (sorted[i] + sorted[i+1]) / 2
		o := rates(set, raw, t)
		o.Name, o.Margin = c.Name, (sorted[i+1]-sorted[i])/2
		if op.Name == "" || better(o, op) {
			op = o
		}
	}
	return op
}

func rates(set []Labelled, raw []float64, t float64) Operating {
	var live, att, falseRej, falseAcc float64
	for i, s := range set {
		if s.Live {
			live++
			if raw[i] < t {
				falseRej++
			}
		} else {
			att++
			if raw[i] >= t {
				falseAcc++
			}
		}
	}
	o := Operating{Threshold: t}
	if live > 0 {
		o.BPCER = falseRej / live
	}
	if att > 0 {
		o.APCER = falseAcc / att
	}
	o.ACER = (o.APCER + o.BPCER) / 2
	return o
}

// Calibrated maps a raw fused score monotonically onto 0..1 so that the raw
// threshold t lands on Threshold (0.7): piecewise linear, [0,t] → [0,0.7]
// and [t,1] → [0.7,1]. Order, and so every decision, is unchanged.
func Calibrated(raw, t float64) float64 {
	raw = min(max(raw, 0), 1)
	if raw < t {
		return Threshold * raw / t
	}
	return Threshold + (1-Threshold)*(raw-t)/(1-t)
}

func logit(p float64) float64 {
	p = min(max(p, 1e-6), 1-1e-6)
	return math.Log(p / (1 - p))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
