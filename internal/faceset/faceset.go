// Package faceset reads the labelled face set: MANIFEST.tsv (file, group,
// label_detail, num_faces, source, licence) in FACES_DIR. It is the one
// parser of that file, for the product (processor eval), the benchmarks and
// every test that walks the set.
package faceset

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ManifestName is the labelled set's index file inside its folder.
const ManifestName = "MANIFEST.tsv"

// Groups of the set.
const (
	GroupReal  = "real"  // bona fide captures
	GroupSpoof = "spoof" // presentation attacks
	GroupEdge  = "edge"  // hard or invalid inputs
)

// ErrFormat: a MANIFEST.tsv line lacks the leading four columns.
var ErrFormat = errors.New("faceset: malformed manifest line")

// Entry is one MANIFEST.tsv line. File is relative to the manifest's folder.
type Entry struct {
	File, Group, Label string
	Faces              int // num_faces; -1 when not a number ("n/a": not an image)
	Source, Licence    string
}

// Read parses dir/MANIFEST.tsv.
func Read(dir string) ([]Entry, error) { return ReadFile(filepath.Join(dir, ManifestName)) }

// ReadFile parses a manifest at path: a header line (starting "file"),
// then one tab-separated line per file; blank lines are skipped.
func ReadFile(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		c := strings.Split(text, "\t")
		if line == 1 && c[0] == "file" || strings.TrimSpace(text) == "" {
			continue
		}
		if len(c) < 4 {
			return nil, fmt.Errorf("%w: %s:%d: want at least 4 tab-separated columns (file, group, label_detail, num_faces)", ErrFormat, path, line)
		}
		e := Entry{File: c[0], Group: c[1], Label: c[2], Faces: -1}
		if n, err := strconv.Atoi(strings.TrimSpace(c[3])); err == nil {
			e.Faces = n
		}
		if len(c) > 4 {
			e.Source = c[4]
		}
		if len(c) > 5 {
			e.Licence = c[5]
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Dir is FACES_DIR, else ../shared/faces beside the repository root.
func Dir() string { return SharedDir("FACES_DIR", "faces") }

// SharedDir is the environment variable env when set, else ../shared/sub
// beside the repository root: the folder of the go.mod above the working
// directory, so that tests in any package folder (go test runs each in its
// own) and commands run from the root agree. Without a go.mod above, it is
// ../shared/sub from the working directory.
func SharedDir(env, sub string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return filepath.Join(repoRoot(), "..", "shared", sub)
}

func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}
