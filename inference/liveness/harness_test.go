package liveness

// A test-only harness until the engine core lands: ONNX Runtime sessions
// straight from onnxruntime_go, and a YuNet-n detector with the reference's
// recipe (largest face, score ≥ 0.6, NMS 0.3).

import (
	"context"
	"testing"

	"liveness/inference/detect"
	"liveness/inference/geom"
	"liveness/inference/internal/modeltest"
	"liveness/inference/models"
	"liveness/inference/onnx"
	"liveness/internal/faceset"
	"liveness/internal/imagefile"
)

func testModels(t testing.TB) Models {
	return Models{
		V2:   modeltest.Open(t, models.FASNetV2),
		V1SE: modeltest.Open(t, models.FASNetV1SE),
		Suri: modeltest.Open(t, models.Suri128),
	}
}

// plainModels are the three models as shipped (no PRelu rewrite).
func plainModels(t testing.TB) Models {
	return Models{
		V2:   modeltest.OpenWith(t, models.FASNetV2),
		V1SE: modeltest.OpenWith(t, models.FASNetV1SE),
		Suri: modeltest.OpenWith(t, models.Suri128),
	}
}

// yunet is the engine's detector; the stages use its largest face, as the
// reference did.
type yunet struct {
	m *onnx.Session
	d *detect.Detector
}

func newYunet(t testing.TB) *yunet {
	m := modeltest.Open(t, models.Detector)
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
	return modeltest.LargestFirst(res[0]), nil
}

func readManifest(t testing.TB) []faceset.Entry {
	rows, err := faceset.Read(faceset.Dir())
	if err != nil {
		t.Fatalf("faces missing (set FACES_DIR): %v", err)
	}
	return rows
}

func loadImage(t testing.TB, rel string) *imagefile.Image {
	t.Helper()
	return modeltest.Image(t, rel, imagefile.WithMaxSide(engineDecodeSide))
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
