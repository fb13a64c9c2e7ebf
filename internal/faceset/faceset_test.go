package faceset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReadParsesColumns(t *testing.T) {
	dir := write(t, "file\tgroup\tlabel_detail\tnum_faces\tsource\tlicence\n"+
		"real/a.jpg\treal\tfrontal; smiling\t1\tsrc-a\tCC0\n"+
		"\n"+
		"edge/b.txt\tedge\tnot an image\tn/a\tsrc-b\tMIT\n"+
		"edge/c.jpg\tedge\ttwo\t 2 \n")
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{File: "real/a.jpg", Group: GroupReal, Label: "frontal; smiling", Faces: 1, Source: "src-a", Licence: "CC0"},
		{File: "edge/b.txt", Group: GroupEdge, Label: "not an image", Faces: -1, Source: "src-b", Licence: "MIT"},
		{File: "edge/c.jpg", Group: GroupEdge, Label: "two", Faces: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadRejectsShortLine(t *testing.T) {
	dir := write(t, "file\tgroup\tlabel_detail\tnum_faces\nreal/a.jpg\treal\n")
	_, err := Read(dir)
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("want ErrFormat, got %v", err)
	}
	if want := ManifestName + ":2"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %s", err, want)
	}
}

func TestReadMissingFile(t *testing.T) {
	if _, err := Read(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want a not-exist error, got %v", err)
	}
}

// The default resolves from the repository root, so every package folder
// agrees; FACES_DIR overrides it.
func TestDirResolvesFromRepoRoot(t *testing.T) {
	t.Setenv("FACES_DIR", "")
	root, err := filepath.Abs("../..") // internal/faceset
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Dir(), filepath.Join(root, "..", "shared", "faces"); got != want {
		t.Fatalf("Dir() = %s, want %s", got, want)
	}
	t.Chdir(filepath.Join(root, "inference"))
	if got, want := SharedDir("MODELS_DIR_UNSET_FOR_TEST", "models"), filepath.Join(root, "..", "shared", "models"); got != want {
		t.Fatalf("from inference/: %s, want %s", got, want)
	}
	t.Setenv("FACES_DIR", "/elsewhere/faces")
	if got := Dir(); got != "/elsewhere/faces" {
		t.Fatalf("FACES_DIR ignored: %s", got)
	}
}

// The real labelled set parses and holds what the tests rely on.
func TestSharedSet(t *testing.T) {
	entries, err := Read(Dir())
	if err != nil {
		t.Fatalf("labelled set (FACES_DIR): %v", err)
	}
	groups := map[string]int{}
	for _, e := range entries {
		groups[e.Group]++
		if _, err := os.Stat(filepath.Join(Dir(), e.File)); err != nil {
			t.Errorf("%s: %v", e.File, err)
		}
		if e.Source == "" || e.Licence == "" {
			t.Errorf("%s: no source or licence", e.File)
		}
	}
	if groups[GroupReal] == 0 || groups[GroupSpoof] == 0 || groups[GroupEdge] == 0 {
		t.Fatalf("groups %v", groups)
	}
}
