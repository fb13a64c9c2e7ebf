package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/schollz/progressbar/v3"

	"liveness/inference"
	"liveness/internal/cli"
	"liveness/internal/config"
	"liveness/internal/faceset"
	"liveness/internal/scan"
)

func init() {
	commands["eval"] = cli.Command{
		Summary: "scan every image of a MANIFEST.tsv and print APCER/BPCER/ACER, face-count accuracy and every miss",
		Run:     eval,
	}
}

// evalRow is one MANIFEST.tsv line: file (relative to the manifest's folder),
// group (real, spoof, edge), label_detail and num_faces ("n/a" for files
// that are not images).
type evalRow struct {
	file, group, detail string
	faces               int // -1: n/a, an error is expected
}

// evalOutcome is one scanned row.
type evalOutcome struct {
	evalRow
	res inference.Result
}

// evalConfig is eval's settings: the engine's, and how many images go to
// each Analyze call.
type evalConfig struct {
	Engine engineFlags
	Batch  int
}

func (c *evalConfig) register(s *config.Set) {
	c.Engine.register(s)
	s.Int(&c.Batch, "EVAL_BATCH", 16, "images per Analyze call")
}

func eval(ctx context.Context, args []string) error {
	var c evalConfig
	s := config.New("eval")
	c.register(s)
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if len(s.Args()) != 1 {
		return fmt.Errorf("%w: processor eval [flags] MANIFEST.tsv", cli.ErrUsage)
	}
	manifest := s.Args()[0]
	rows, err := readEvalManifest(manifest)
	if err != nil {
		return err
	}
	cfg, err := c.Engine.config()
	if err != nil {
		return err
	}
	eng, err := inference.New(cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	outs, err := scanRows(ctx, eng, filepath.Dir(manifest), rows, max(c.Batch, 1))
	if err != nil {
		return err
	}
	report(os.Stdout, outs, eng.Thresholds().Real)
	return nil
}

// readEvalManifest reads the labelled set through faceset, the one parser
// of MANIFEST.tsv.
func readEvalManifest(path string) ([]evalRow, error) {
	entries, err := faceset.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rows := make([]evalRow, len(entries))
	for i, e := range entries {
		rows[i] = evalRow{file: e.File, group: e.Group, detail: e.Label, faces: e.Faces}
	}
	return rows, nil
}

func scanRows(ctx context.Context, eng *inference.Engine, dir string, rows []evalRow, batch int) ([]evalOutcome, error) {
	bar := progressbar.NewOptions(len(rows), progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription("eval"), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	defer bar.Finish()
	outs := make([]evalOutcome, 0, len(rows))
	for start := 0; start < len(rows); start += batch {
		chunk := rows[start:min(start+batch, len(rows))]
		imgs := make([][]byte, len(chunk))
		readErr := make([]error, len(chunk))
		for i, r := range chunk {
			imgs[i], readErr[i] = os.ReadFile(filepath.Join(dir, r.file))
		}
		res, err := eng.Analyze(ctx, imgs)
		if err != nil {
			return nil, err
		}
		for i, r := range chunk {
			if readErr[i] != nil {
				res[i] = inference.Result{Err: readErr[i]}
			}
			outs = append(outs, evalOutcome{evalRow: r, res: res[i]})
		}
		_ = bar.Add(len(chunk))
	}
	return outs, nil
}

// attackKind names the presentation-attack instrument from label_detail;
// the first keyword found wins, in this order, so "print attack, cut-out
// printed face" is a cut-out and "paper mask (printed face cut-out...)" a mask.
func attackKind(detail string) string {
	d := strings.ToLower(detail)
	for _, k := range []struct{ word, kind string }{
		{"mask", "mask"}, {"cut-out", "cut-out"}, {"cutout", "cut-out"},
		{"replay", "replay"}, {"screen", "replay"}, {"monitor", "replay"}, {"print", "print"},
	} {
		if strings.Contains(d, k.word) {
			return k.kind
		}
	}
	return "other"
}

// report prints the ISO/IEC 30107-3 rates over the real (bona fide) and
// spoof (attack) groups, the face-count accuracy over every row with a face
// count, and every miss with its score.
func report(w io.Writer, outs []evalOutcome, threshold float64) {
	type tally struct{ n, miss int }
	kinds := map[string]*tally{}
	var bona, att, counted tally
	var misses []string
	for _, o := range outs {
		a, err := o.res.Analysis, o.res.Err
		score := fmt.Sprintf("livenessScore %.3f", a.LivenessScore)
		switch {
		case o.group == "real":
			bona.n++
			if err != nil || a.Result != scan.ResultReal {
				bona.miss++
				misses = append(misses, fmt.Sprintf("bona fide rejected  %s  result %q %s%s", o.file, a.Result, score, errNote(err)))
			}
		case o.group == "spoof":
			k := attackKind(o.detail)
			if kinds[k] == nil {
				kinds[k] = &tally{}
			}
			kinds[k].n++
			att.n++
			if err == nil && a.Result == scan.ResultReal {
				kinds[k].miss++
				att.miss++
				misses = append(misses, fmt.Sprintf("attack accepted (%s)  %s  %s", k, o.file, score))
			}
		}
		counted.n++
		if ok, why := faceCountOK(o, err); !ok {
			counted.miss++
			misses = append(misses, fmt.Sprintf("face count          %s  %s", o.file, why))
		}
	}
	pct := func(t tally) string {
		if t.n == 0 {
			return "  n/a"
		}
		return fmt.Sprintf("%5.1f%% (%d/%d)", 100*float64(t.miss)/float64(t.n), t.miss, t.n)
	}
	fmt.Fprintf(w, "liveness threshold %.2f\n\n", threshold)
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(w, "APCER %-10s %s\n", k, pct(*kinds[k]))
	}
	fmt.Fprintf(w, "APCER %-10s %s\n", "overall", pct(att))
	fmt.Fprintf(w, "BPCER %-10s %s\n", "", pct(bona))
	if att.n > 0 && bona.n > 0 {
		acer := (float64(att.miss)/float64(att.n) + float64(bona.miss)/float64(bona.n)) / 2
		fmt.Fprintf(w, "ACER  %-10s %5.1f%%\n", "", 100*acer)
	}
	fmt.Fprintf(w, "face-count accuracy   %5.1f%% (%d/%d)\n", 100*float64(counted.n-counted.miss)/float64(max(counted.n, 1)), counted.n-counted.miss, counted.n)
	fmt.Fprintf(w, "\nmisses (%d):\n", len(misses))
	for _, m := range misses {
		fmt.Fprintln(w, "  "+m)
	}
}

// faceCountOK: a row with a face count must give that many faces; a row
// without one (n/a: a truncated file, not an image) must give an error.
func faceCountOK(o evalOutcome, err error) (bool, string) {
	if o.faces < 0 {
		if err == nil {
			return false, fmt.Sprintf("want an error, got %d face(s)", len(o.res.Analysis.Faces))
		}
		return true, ""
	}
	if err != nil {
		return false, fmt.Sprintf("want %d face(s), got error: %v", o.faces, err)
	}
	if got := len(o.res.Analysis.Faces); got != o.faces {
		return false, fmt.Sprintf("want %d face(s), got %d", o.faces, got)
	}
	return true, ""
}

func errNote(err error) string {
	if err == nil {
		return ""
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "  (unreadable: " + pe.Err.Error() + ")"
	}
	return "  (error: " + err.Error() + ")"
}
