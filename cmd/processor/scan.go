package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"

	"liveness/inference"
	"liveness/internal/cli"
	"liveness/internal/config"
	"liveness/internal/scan"
)

func init() {
	commands["scan"] = cli.Command{Summary: "scan image files or folders: [--json] PATH...", Run: scanCmd}
}

// scanBatch is how many images go to the engine at once.
const scanBatch = 16

// scanLine is one --json output line: the analysis exactly as the HTTP API
// returns it, plus the file; or the file and its error.
type scanLine struct {
	File string `json:"file"`
	*scan.Analysis
	Error string `json:"error,omitempty"`
}

func scanCmd(ctx context.Context, args []string) error {
	var ef engineFlags
	var asJSON bool
	s := config.New("scan")
	ef.register(s)
	s.FlagSet().BoolVar(&asJSON, "json", false, "one JSON object per line on stdout")
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if len(s.Args()) == 0 {
		return fmt.Errorf("%w: scan [--json] PATH... (files or folders)", cli.ErrUsage)
	}
	files, folders, err := collectFiles(s.Args())
	if err != nil {
		return err
	}
	cfg, err := ef.config()
	if err != nil {
		return err
	}
	eng, err := inference.New(cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	var bar *progressbar.ProgressBar
	if folders {
		bar = progressbar.NewOptions(len(files), progressbar.OptionSetWriter(os.Stderr), progressbar.OptionShowCount(),
			progressbar.OptionSetDescription("scanning"), progressbar.OptionClearOnFinish())
	}
	sum, failed, err := scanFiles(ctx, eng, files, asJSON, os.Stdout, bar)
	if err != nil {
		return err
	}
	summaryOut := io.Writer(os.Stdout)
	if asJSON {
		summaryOut = os.Stderr // keep stdout one JSON object per line
	}
	printSummary(summaryOut, sum, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be scanned", failed, len(files))
	}
	return nil
}

// collectFiles expands folders into their regular files (sorted, recursive).
func collectFiles(paths []string) (files []string, folders bool, err error) {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			files = append(files, p) // reported as that file's error
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		folders = true
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, false, err
		}
	}
	return files, folders, nil
}

// scanFiles scans in batches and writes one line per file.
func scanFiles(ctx context.Context, eng *inference.Engine, files []string, asJSON bool, w io.Writer, bar *progressbar.ProgressBar) (map[string]int, int, error) {
	sum := map[string]int{}
	failed := 0
	enc := json.NewEncoder(w)
	for lo := 0; lo < len(files); lo += scanBatch {
		chunk := files[lo:min(lo+scanBatch, len(files))]
		data := make([][]byte, len(chunk))
		readErr := make([]error, len(chunk))
		for i, f := range chunk {
			data[i], readErr[i] = os.ReadFile(f)
		}
		res, err := eng.Analyze(ctx, data)
		if err != nil {
			return nil, 0, err
		}
		for i, f := range chunk {
			err := cmp.Or(readErr[i], res[i].Err)
			if err != nil {
				failed++
				sum["error"]++
			} else {
				sum[string(res[i].Analysis.Result)]++
			}
			if werr := writeLine(enc, w, asJSON, f, res[i], err); werr != nil {
				return nil, 0, werr
			}
			if bar != nil {
				_ = bar.Add(1)
			}
		}
	}
	return sum, failed, nil
}

func writeLine(enc *json.Encoder, w io.Writer, asJSON bool, file string, r inference.Result, err error) error {
	if asJSON {
		line := scanLine{File: file}
		if err != nil {
			line.Error = err.Error()
		} else {
			line.Analysis = &r.Analysis
		}
		return enc.Encode(line)
	}
	if err != nil {
		_, werr := fmt.Fprintf(w, "%s\terror: %v\n", file, err)
		return werr
	}
	a := r.Analysis
	_, werr := fmt.Fprintf(w, "%s\t%s\tfaces=%d liveness=%.3f quality=%s luminance=%s flags=%s\n",
		file, a.Result, len(a.Faces), a.LivenessScore, a.Quality, a.Luminance, flags(a))
	return werr
}

func flags(a scan.Analysis) string {
	var out string
	for _, f := range []struct {
		name string
		on   bool
	}{{"notFront", a.NotFront}, {"occluded", a.Occluded}, {"eyeClosed", a.EyeClosed},
		{"mouthOpened", a.MouthOpened}, {"boundaryFace", a.BoundaryFace}, {"small", a.Small}} {
		if f.on {
			out += f.name + ","
		}
	}
	if out == "" {
		return "-"
	}
	return out[:len(out)-1]
}

func printSummary(w io.Writer, sum map[string]int, failed int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "result\tcount")
	keys := make([]string, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	total := 0
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%d\n", k, sum[k])
		total += sum[k]
	}
	fmt.Fprintf(tw, "total\t%d\n", total)
	tw.Flush()
}
