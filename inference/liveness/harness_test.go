package liveness

// A test-only harness until the engine core lands: ONNX Runtime sessions
// straight from onnxruntime_go, and a YuNet-n detector with the reference's
// recipe (largest face, score ≥ 0.6, NMS 0.3).

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"liveness/inference/detect"
	"liveness/inference/geom"
	"liveness/inference/onnx"
	"liveness/internal/imagefile"
)

func sharedDir(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

var (
	modelsDir = sharedDir("MODELS_DIR", "../../../shared/models")
	facesDir  = sharedDir("FACES_DIR", "../../../shared/faces")
)

var ortOnce sync.Once

// openModel loads a manifest model through inference/onnx, as the engine
// does on CPU (the graph rewrites included); extra adds options.
func openModel(t testing.TB, name string, extra ...onnx.OpenOption) *onnx.Session {
	return openModelWith(t, name, append([]onnx.OpenOption{onnx.WithPReluAsRelu(), onnx.WithHardSigmoid()}, extra...)...)
}

// openModelWith loads a manifest model with only the given options (and the
// manifest's batch rewrite).
func openModelWith(t testing.TB, name string, opts ...onnx.OpenOption) *onnx.Session {
	t.Helper()
	ortOnce.Do(func() {
		if err := onnx.Init(onnx.Options{IntraOpThreads: 1, InterOpThreads: 1}); err != nil {
			t.Fatalf("ONNX Runtime is required (scripts/onnxruntime.sh install, or %s): %v", onnx.LibraryEnv, err)
		}
	})
	data, err := os.ReadFile("../manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models []struct {
			Name, File, SHA256 string
			RewriteBatch       bool
		}
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, spec := range m.Models {
		if spec.Name != name {
			continue
		}
		if spec.RewriteBatch {
			opts = append(opts, onnx.WithDynamicBatch())
		}
		s, err := onnx.Open(filepath.Join(modelsDir, spec.File), spec.SHA256, opts...)
		if err != nil {
			t.Fatalf("%s (MODELS_DIR=%s): %v", name, modelsDir, err)
		}
		return s
	}
	t.Fatalf("model %s not in manifest", name)
	return nil
}

func testModels(t testing.TB) Models {
	return Models{
		V2:   openModel(t, "antispoof-MiniFASNetV2"),
		V1SE: openModel(t, "antispoof-MiniFASNetV1SE"),
		Suri: openModel(t, "antispoof-suri-MiniFASNetV2SE-128"),
	}
}

// plainModels are the three models as shipped (no PRelu rewrite).
func plainModels(t testing.TB) Models {
	return Models{
		V2:   openModelWith(t, "antispoof-MiniFASNetV2"),
		V1SE: openModelWith(t, "antispoof-MiniFASNetV1SE"),
		Suri: openModelWith(t, "antispoof-suri-MiniFASNetV2SE-128"),
	}
}

// yunet is the engine's detector; the stages use its largest face, as the
// reference did.
type yunet struct {
	m *onnx.Session
	d *detect.Detector
}

func newYunet(t testing.TB) *yunet {
	m := openModel(t, "facedet-yunet")
	return &yunet{m: m, d: detect.New(m)}
}

func (y *yunet) detect(img *imagefile.Image) ([]geom.Detection, error) {
	return y.detectAt(img, detect.DefaultMaxSide)
}

// detectAt runs the detector on the image reduced to a long side of at most
// maxSide (0: full size, the reference recipe), largest face first.
func (y *yunet) detectAt(img *imagefile.Image, maxSide int) ([]geom.Detection, error) {
	d := y.d
	if maxSide != detect.DefaultMaxSide {
		if maxSide <= 0 {
			maxSide = 1 << 20
		}
		d = detect.New(y.m, detect.WithMaxSide(maxSide), detect.WithMinScore(0.6))
	}
	res, err := d.Detect([]*imagefile.Image{img})
	if err != nil {
		return nil, err
	}
	dets := res[0]
	sort.Slice(dets, func(i, j int) bool { return dets[i].Area() > dets[j].Area() })
	return dets, nil
}

type manifestRow struct {
	File, Group, Detail string
	NumFaces            string
}

func readManifest(t testing.TB) []manifestRow {
	f, err := os.Open(filepath.Join(facesDir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatalf("faces missing (set FACES_DIR): %v", err)
	}
	defer f.Close()
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 4 || c[0] == "file" {
			continue
		}
		rows = append(rows, manifestRow{c[0], c[1], c[2], c[3]})
	}
	return rows
}

func loadImage(t testing.TB, rel string) *imagefile.Image {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(facesDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagefile.Decode(data, imagefile.WithMaxSide(engineDecodeSide))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return img
}

// scoreManifest scores the largest face of every real and spoof image.
func scoreManifest(t testing.TB) ([]Labelled, []string) {
	return scoreManifestWith(t, testModels(t))
}

func scoreManifestWith(t testing.TB, models Models) ([]Labelled, []string) {
	y := newYunet(t)
	s, err := New(models)
	if err != nil {
		t.Fatal(err)
	}
	var set []Labelled
	var names []string
	for _, r := range readManifest(t) {
		if r.Group != "real" && r.Group != "spoof" {
			continue
		}
		img := loadImage(t, r.File)
		dets, err := y.detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if len(dets) == 0 {
			t.Fatalf("%s: no face found", r.File)
		}
		sc, err := s.Score(context.Background(), []Face{{Image: img, Box: dets[0].Box}})
		if err != nil {
			t.Fatal(err)
		}
		set = append(set, Labelled{Scores: sc[0], Live: r.Group == "real"})
		names = append(names, r.File)
	}
	return set, names
}

// engineDecodeSide is the engine's default decode size (inference.Config
// DecodeMaxSide): the faces are scored at the resolution the engine sees.
const engineDecodeSide = 1280
