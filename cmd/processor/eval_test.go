package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"liveness/inference"
	"liveness/internal/scan"
)

func TestAttackKind(t *testing.T) {
	for detail, want := range map[string]string{
		"print attack (visually a printed photo; source name F=fake)":              "print",
		"replay (face on hand-held tablet; source name F=fake)":                    "replay",
		"2D paper mask (printed face cut-out held over face, real glasses on top)": "mask",
		"print attack, cut-out printed face held by hand":                          "cut-out",
		"visibly a smartphone screen showing a bearded man's face held in front":   "replay",
		"something else entirely":                                                  "other",
	} {
		if got := attackKind(detail); got != want {
			t.Errorf("attackKind(%q) = %q, want %q", detail, got, want)
		}
	}
}

// TestReport: rates and misses from hand-made outcomes.
func TestReport(t *testing.T) {
	face := scan.Face{}
	real := func(file string, r scan.Result, score float64, faces int) evalOutcome {
		fs := make([]scan.Face, faces)
		for i := range fs {
			fs[i] = face
		}
		return evalOutcome{evalRow{file: file, group: "real", faces: 1},
			inference.Result{Analysis: scan.Analysis{Result: r, LivenessScore: score, Faces: fs}}}
	}
	outs := []evalOutcome{
		real("a.jpg", scan.ResultReal, 0.9, 1),
		real("b.jpg", scan.ResultSpoof, 0.2, 1),
		{evalRow{file: "s.jpg", group: "spoof", detail: "replay on tablet", faces: 1},
			inference.Result{Analysis: scan.Analysis{Result: scan.ResultReal, LivenessScore: 0.8, Faces: []scan.Face{face}}}},
		{evalRow{file: "p.jpg", group: "spoof", detail: "print attack", faces: 1},
			inference.Result{Analysis: scan.Analysis{Result: scan.ResultSpoof, LivenessScore: 0.1, Faces: []scan.Face{face}}}},
		{evalRow{file: "x.jpg", group: "edge", faces: -1}, inference.Result{Err: errors.New("corrupt")}},
		{evalRow{file: "two.jpg", group: "edge", faces: 2}, inference.Result{Analysis: scan.Analysis{Faces: []scan.Face{face}}}},
	}
	var buf bytes.Buffer
	report(&buf, outs, 0.7)
	got := buf.String()
	for _, want := range []string{
		"APCER print        0.0% (0/1)", "APCER replay     100.0% (1/1)", "APCER overall     50.0% (1/2)",
		"BPCER             50.0% (1/2)", "ACER              50.0%", "face-count accuracy    83.3% (5/6)",
		"bona fide rejected  b.jpg", "attack accepted (replay)  s.jpg  livenessScore 0.800", "two.jpg  want 2 face(s), got 1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}
