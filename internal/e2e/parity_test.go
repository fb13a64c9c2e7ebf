//go:build integration

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"liveness/internal/scan"
)

// scoreTolerance allows for float rounding between batch compositions (the
// pipeline batches captures as they come, scan batches files in order).
const scoreTolerance = 1e-4

// Every image of the manifest, posted to ingest, gets the same verdict as
// `processor scan --json` on the file; the files scan refuses get the
// documented 4xx: 415 from ingest's sniffing, 422 when the processor
// dead-letters what passed the sniffing (a truncated JPEG).
func TestEveryFaceMatchesScan(t *testing.T) {
	s := newStack(t, localKafka(t))
	s.processor()
	_, base := s.ingest()
	faces := manifest(t, s.paths.faces)
	want := scanAll(t, s, faces)
	tok := s.token()

	got := make([]reply, len(faces))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4) // a few at once: the processor batches them
	for i, f := range faces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			got[i] = post(t, base, tok, 120, capture(filepath.Base(f.File), readFace(t, s.paths, f.File))...)
		}()
	}
	wg.Wait()

	refused := 0
	for i, f := range faces {
		w, r := want[f.File], got[i]
		if w.Error != "" {
			refused++
			if r.Status != http.StatusUnsupportedMediaType && r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: scan refuses it (%s) but ingest answered %s", f.File, w.Error, r)
			} else if e := r.apiError(); e.Field != "file" {
				t.Errorf("%s: error body %s does not name the file field", f.File, r.Body)
			}
			continue
		}
		if r.Status != http.StatusOK {
			t.Errorf("%s: want 200 with the scan, got %s", f.File, r)
			continue
		}
		var sc scan.Scan
		if err := json.Unmarshal(r.Body, &sc); err != nil {
			t.Errorf("%s: %v in %s", f.File, err, r)
			continue
		}
		compare(t, f.File, w.Analysis, &sc.Analysis)
		if sc.Reference != "e2e-"+filepath.Base(f.File) || sc.CompanyID != company || sc.SalesChannel != scan.ChannelWeb {
			t.Errorf("%s: identity fields %q %s %s", f.File, sc.Reference, sc.CompanyID, sc.SalesChannel)
		}
	}
	if refused == 0 || refused == len(faces) {
		t.Errorf("%d of %d images refused: the manifest should hold both valid and broken images", refused, len(faces))
	}
	t.Logf("%d images: %d scanned alike, %d refused alike", len(faces), len(faces)-refused, refused)
}

func compare(t *testing.T, name string, want, got *scan.Analysis) {
	t.Helper()
	if got.Result != want.Result || len(got.Faces) != len(want.Faces) {
		t.Errorf("%s: pipeline %s with %d faces, scan %s with %d faces", name, got.Result, len(got.Faces), want.Result, len(want.Faces))
	}
	flags := func(a *scan.Analysis) [6]bool {
		return [6]bool{a.EyeClosed, a.MouthOpened, a.BoundaryFace, a.NotFront, a.Occluded, a.Small}
	}
	if flags(got) != flags(want) {
		t.Errorf("%s: flags [eyeClosed mouthOpened boundaryFace notFront occluded small] pipeline %v, scan %v",
			name, flags(got), flags(want))
	}
	if math.Abs(got.LivenessScore-want.LivenessScore) > scoreTolerance {
		t.Errorf("%s: livenessScore pipeline %.6f, scan %.6f", name, got.LivenessScore, want.LivenessScore)
	}
}

// scanLine is one line of `processor scan --json`.
type scanLine struct {
	File string `json:"file"`
	*scan.Analysis
	Error string `json:"error"`
}

// scanAll runs `processor scan --json` once over the manifest's files,
// keyed by the manifest's relative name.
func scanAll(t *testing.T, s *stack, faces []face) map[string]scanLine {
	t.Helper()
	args := []string{"scan", "--json"}
	for _, f := range faces {
		args = append(args, filepath.Join(s.paths.faces, f.File))
	}
	cmd := exec.Command(filepath.Join(s.bin, "processor"), args...)
	cmd.Env = append(cmd.Environ(), s.commonEnv()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // exits 1 when some files cannot be scanned; each line says which
	out := map[string]scanLine{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l scanLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("processor scan: %v in %q", err, sc.Text())
		}
		rel, err := filepath.Rel(s.paths.faces, l.File)
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = l
	}
	if len(out) != len(faces) {
		t.Fatalf("processor scan gave %d lines for %d files:\n%s", len(out), len(faces), stderr.String())
	}
	return out
}
