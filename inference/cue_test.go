package inference

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"liveness/inference/cue"
	"liveness/inference/geom"
	"liveness/inference/models"
	"liveness/internal/faceset"
	"liveness/internal/imagefile"
	"liveness/internal/scan"
)

// cueRow is one labelled face with its context cues.
type cueRow struct {
	file, group string
	bona        bool    // a live person (real group, or a one-face edge image)
	accepted    bool    // the engine says Real
	live        float64 // livenessScore
	frame       [3]int  // FrameSides at minLen 0.15, 0.25, 0.35
	device      float32 // DeviceAround score
	devClass    string
}

var frameLens = [3]float64{0.15, 0.25, 0.35}

// TestContextCues measures the two context cues on every labelled face and
// applies THE RULE (see contextCueDecision) over the whole set.
func TestContextCues(t *testing.T) {
	e := testEngine(t)
	res, rows := analyzeAll(t)
	lsd, err := e.open(models.MLSD)
	if err != nil {
		t.Fatal(err)
	}
	pico, err := e.open(models.PicoDet)
	if err != nil {
		t.Fatal(err)
	}
	var set []cueRow
	for _, r := range rows {
		a := res[r.File].Analysis
		bona := r.Group == "real" || r.Group == "edge" && r.Faces == 1
		if res[r.File].Err != nil || len(a.Faces) == 0 || !(bona || r.Group == "spoof") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(faceset.Dir(), r.File))
		if err != nil {
			t.Fatal(err)
		}
		im, err := imagefile.Decode(data, imagefile.WithMaxSide(e.cfg.DecodeMaxSide))
		if err != nil {
			t.Fatal(err)
		}
		f := a.Faces[0]
		s := float32(im.Scale)
		box := geom.Box{X1: float32(f.X1) / s, Y1: float32(f.Y1) / s, X2: float32(f.X2) / s, Y2: float32(f.Y2) / s}
		segs, err := cue.Lines(lsd, im)
		if err != nil {
			t.Fatal(err)
		}
		devs, err := cue.Devices(pico, im, 0.2)
		if err != nil {
			t.Fatal(err)
		}
		c := cueRow{file: r.File, group: r.Group, bona: bona, accepted: a.Result == scan.ResultReal, live: a.LivenessScore}
		for i, l := range frameLens {
			c.frame[i] = cue.FrameSides(segs, box, im.Width, im.Height, l)
		}
		c.device, c.devClass = cue.DeviceAround(devs, box)
		set = append(set, c)
	}
	sort.Slice(set, func(i, j int) bool { return set[i].group+set[i].file < set[j].group+set[j].file })
	var b strings.Builder
	fmt.Fprintf(&b, "%-55s %-5s %-8s %5s  frame@.15 .25 .35  device\n", "file", "group", "verdict", "live")
	for _, c := range set {
		v := "Spoof"
		if c.accepted {
			v = "Real"
		}
		fmt.Fprintf(&b, "%-55s %-5s %-8s %5.3f  %9d %3d %3d  %.2f %s\n", c.file, c.group, v, c.live, c.frame[0], c.frame[1], c.frame[2], c.device, c.devClass)
	}
	t.Log("\n" + b.String())
	for _, d := range contextCueDecision(set) {
		t.Log(d.String())
		if d.helps {
			t.Errorf("cue %s now helps by THE RULE (%s): wire it into the fusion and update the doc", d.name, d)
		}
	}
}

type cueVerdict struct {
	name                string
	threshold           float64
	bonaFlagged, caught int // bona fide faces flagged; accepted attacks flagged
	attacksFlagged      int
	helps               bool
}

func (v cueVerdict) String() string {
	return fmt.Sprintf("%-16s threshold %.2f: flags %d bona fide, %d attacks (%d the face models accept) → helps %v",
		v.name, v.threshold, v.bonaFlagged, v.attacksFlagged, v.caught, v.helps)
}

// contextCueDecision is THE RULE for context cues, over the whole labelled
// set, never per image: a cue's threshold is the lowest that flags no bona
// fide face (just above the highest bona fide value); the cue helps only if
// at that threshold it flags at least one attack the face models accept
// (APCER drops, BPCER unchanged).
func contextCueDecision(set []cueRow) []cueVerdict {
	cues := []struct {
		name string
		val  func(cueRow) float64
	}{
		{"frame@0.15", func(c cueRow) float64 { return float64(c.frame[0]) }},
		{"frame@0.25", func(c cueRow) float64 { return float64(c.frame[1]) }},
		{"frame@0.35", func(c cueRow) float64 { return float64(c.frame[2]) }},
		{"device", func(c cueRow) float64 { return float64(c.device) }},
	}
	var out []cueVerdict
	for _, q := range cues {
		top := 0.0
		for _, c := range set {
			if c.bona {
				top = max(top, q.val(c))
			}
		}
		v := cueVerdict{name: q.name, threshold: top}
		for _, c := range set {
			if c.bona || q.val(c) <= top {
				continue
			}
			v.attacksFlagged++
			if c.accepted {
				v.caught++
			}
		}
		v.helps = v.caught > 0
		out = append(out, v)
	}
	return out
}
