package inference

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"liveness/inference/internal/modeltest"
	"liveness/internal/faceset"
	"liveness/internal/imagefile"
	"liveness/internal/scan"
)

var (
	engineOnce sync.Once
	engine     *Engine
	engineErr  error
)

// testEngine loads the engine once for the package's tests and benchmarks.
func testEngine(t testing.TB) *Engine {
	t.Helper()
	modeltest.Init(t)
	engineOnce.Do(func() { engine, engineErr = New(Config{ModelsDir: modeltest.ModelsDir(), Device: modeltest.Device(t)}) })
	if engineErr != nil {
		t.Fatalf("engine: %v", engineErr)
	}
	return engine
}

func facesManifest(t testing.TB) []faceset.Entry {
	rows, err := faceset.Read(faceset.Dir())
	if err != nil {
		t.Fatalf("test images (FACES_DIR): %v", err)
	}
	return rows
}

var (
	allOnce sync.Once
	allRes  map[string]Result
	allRows []faceset.Entry
)

// analyzeAll scans every manifest image in one Analyze call (once per run).
func analyzeAll(t *testing.T) (map[string]Result, []faceset.Entry) {
	allOnce.Do(func() { allRes, allRows = scanAll(t) })
	if allRes == nil {
		t.Fatal("scanning the test images failed")
	}
	return allRes, allRows
}

func scanAll(t *testing.T) (map[string]Result, []faceset.Entry) {
	e := testEngine(t)
	rows := facesManifest(t)
	data := make([][]byte, len(rows))
	for i, r := range rows {
		b, err := os.ReadFile(filepath.Join(faceset.Dir(), r.File))
		if err != nil {
			t.Fatal(err)
		}
		data[i] = b
	}
	res, err := e.Analyze(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Result{}
	for i, r := range rows {
		out[r.File] = res[i]
	}
	return out, rows
}

func TestEngineOnSharedFaces(t *testing.T) {
	res, rows := analyzeAll(t)
	for _, r := range rows {
		got := res[r.File]
		a := got.Analysis
		if got.Err == nil {
			f0 := scan.Face{}
			if len(a.Faces) > 0 {
				f0 = a.Faces[0]
			}
			t.Logf("%-55s %-13s faces %d live %.2f yaw %5.1f pitch %5.1f roll %5.1f q %.2f %s lum %5.1f %s eyes %.0f mouth %.2f flags nf=%v b=%v s=%v m=%v",
				r.File, a.Result, len(a.Faces), a.LivenessScore, f0.Yaw, f0.Pitch, f0.Roll, f0.FaceQuality, a.Quality, f0.FaceLuminance, a.Luminance, f0.EyeDistance, f0.MouthOpened,
				a.NotFront, a.BoundaryFace, a.Small, a.MouthOpened)
		}
		switch {
		case r.Faces == 0:
			if a.Result != scan.ResultNoFace || len(a.Faces) != 0 {
				t.Errorf("%s: %s with %d faces, want No face", r.File, a.Result, len(a.Faces))
			}
		case r.Faces > 1:
			if a.Result != scan.ResultMultipleFace || len(a.Faces) != r.Faces {
				t.Errorf("%s: %s with %d faces, want Multiple face with %d", r.File, a.Result, len(a.Faces), r.Faces)
			}
		case r.Faces == 1:
			if a.Result != scan.ResultReal && a.Result != scan.ResultSpoof {
				t.Errorf("%s: %s, want Real or Spoof", r.File, a.Result)
			}
		}
		if r.Faces >= 0 && got.Err != nil {
			t.Errorf("%s: %v", r.File, got.Err)
		}
		if got.Err == nil {
			checkRanges(t, r.File, got)
		}
	}
}

func checkRanges(t *testing.T, file string, r Result) {
	for i, f := range r.Analysis.Faces {
		for name, v := range map[string]float64{"liveness": f.Liveness, "quality": f.FaceQuality, "mouth": f.MouthOpened,
			"leftEye": f.LeftEyeClosed, "rightEye": f.RightEyeClosed, "occlusion": f.FaceOcclusion} {
			if v < 0 || v > 1 || math.IsNaN(v) {
				t.Errorf("%s face %d: %s = %v outside 0..1", file, i, name, v)
			}
		}
		if f.FaceLuminance < 0 || f.FaceLuminance > 255 {
			t.Errorf("%s face %d: luminance %v", file, i, f.FaceLuminance)
		}
		for _, v := range []float64{f.Yaw, f.Pitch, f.Roll} {
			if v < -45 || v > 45 {
				t.Errorf("%s face %d: pose %v outside ±45", file, i, v)
			}
		}
		if len(f.Landmarks68) != scan.LandmarkCount {
			t.Fatalf("%s face %d: %d landmark values", file, i, len(f.Landmarks68))
		}
		w, h := float32(f.X2-f.X1), float32(f.Y2-f.Y1)
		mx, my := max(w/4, 6), max(h/4, 6) // "near": a quarter of the box, at least 6 px for tiny faces
		for k := 0; k < 68; k++ {
			x, y := f.Landmarks68[2*k], f.Landmarks68[2*k+1]
			if x < float32(f.X1)-mx || x > float32(f.X2)+mx || y < float32(f.Y1)-my || y > float32(f.Y2)+my {
				t.Errorf("%s face %d: landmark %d (%.0f,%.0f) far from box %d,%d,%d,%d", file, i, k, x, y, f.X1, f.Y1, f.X2, f.Y2)
			}
		}
		if f.X2 > r.Width+int(w) || f.Y2 > r.Height+int(h) {
			t.Errorf("%s face %d: box beyond the %dx%d image", file, i, r.Width, r.Height)
		}
	}
}

func TestEngineFlagsOnSharedFaces(t *testing.T) {
	res, _ := analyzeAll(t)
	check := func(file string, what string, ok func(scan.Analysis) bool) {
		t.Helper()
		if r := res[file]; r.Err != nil || !ok(r.Analysis) {
			t.Errorf("%s: want %s, got %+v (err %v)", file, what, summary(r.Analysis), r.Err)
		}
	}
	for _, f := range []string{"real/r02_cameraman_profile.png", "real/r15_profile_left.jpeg", "edge/e112_full_profile_facing_left.jpg",
		"real/r09_kit_harington_3quarter.jpeg", "real/r131_boy_captain_cap_outdoor.jpg"} {
		check(f, "notFront", func(a scan.Analysis) bool { return a.NotFront })
	}
	check("edge/e12_very_dark_face.png", "Dark", func(a scan.Analysis) bool { return a.Luminance == scan.LuminanceDark })
	check("edge/e11_very_small_face_composite.jpg", "small", func(a scan.Analysis) bool { return a.Small })
	check("edge/e08_partial_face_at_border.jpg", "boundaryFace", func(a scan.Analysis) bool { return a.BoundaryFace })
	check("real/r04_apk_glasses.jpeg", "a frontal, normal, not small, not boundary face", func(a scan.Analysis) bool {
		return !a.NotFront && !a.Small && !a.BoundaryFace && a.Luminance == scan.LuminanceNormal
	})
	for _, f := range []string{"real/r124_selfie_man_glasses_frontal_indoor.jpg", "real/r12_eyes_closed.jpeg"} {
		check(f, "closed mouth < 0.1", func(a scan.Analysis) bool { return a.Faces[0].MouthOpened < 0.1 })
	}
	check("spoof/s101_phone_screen_face_held_over_face.jpg", "open mouth", func(a scan.Analysis) bool { return a.MouthOpened })
	// The eye and occlusion stages are part of every engine New builds.
	check("real/r12_eyes_closed.jpeg", "eyeClosed", func(a scan.Analysis) bool { return a.EyeClosed })
	for _, f := range []string{"real/r14_face_mask.jpg", "edge/e115_real_person_surgical_mask.jpg"} {
		check(f, "occluded", func(a scan.Analysis) bool { return a.Occluded })
	}
	check("real/r124_selfie_man_glasses_frontal_indoor.jpg", "open eyes, not occluded", func(a scan.Analysis) bool {
		return !a.EyeClosed && !a.Occluded
	})
}

func summary(a scan.Analysis) scan.Analysis { a.Faces = nil; return a }

func TestEngineBadImages(t *testing.T) {
	res, _ := analyzeAll(t)
	if err := res["edge/e13_truncated.jpg"].Err; !errors.Is(err, imagefile.ErrCorrupt) {
		t.Errorf("truncated JPEG: want ErrCorrupt, got %v", err)
	}
	if err := res["edge/e14_not_an_image.jpg"].Err; !errors.Is(err, imagefile.ErrUnsupportedFormat) {
		t.Errorf("text file: want ErrUnsupportedFormat, got %v", err)
	}
	if r := res["edge/e15_png_data_named_jpg.jpg"]; r.Err != nil || len(r.Analysis.Faces) != 1 {
		t.Errorf("PNG named .jpg: %v, %d faces", r.Err, len(r.Analysis.Faces))
	}
}

// One face from a batch equals the same image scanned alone: batching and
// workers do not mix images.
func TestEngineBatchEqualsSingle(t *testing.T) {
	e := testEngine(t)
	var data [][]byte
	for _, f := range []string{"real/r01_astronaut.png", "edge/e14_not_an_image.jpg", "edge/e04_two_faces_side_by_side.jpg", "real/r04_apk_glasses.jpeg"} {
		b, err := os.ReadFile(filepath.Join(faceset.Dir(), f))
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, b)
	}
	// The CPU default (one image per model run, a worker per core), one
	// worker of true N>1 tensors, and the CUDA default's even split (here
	// two workers of N=2) must agree with one image alone.
	nBatch, split := *e, *e
	nBatch.cfg.Workers, nBatch.cfg.MaxBatch = 1, len(data)
	split.cfg.Workers, split.cfg.MaxBatch = 2, 0
	for _, eng := range []*Engine{e, &nBatch, &split} {
		batchEqualsSingle(t, eng, data)
	}
}

func TestEngineEmptyCall(t *testing.T) {
	res, err := testEngine(t).Analyze(context.Background(), nil)
	if err != nil || len(res) != 0 {
		t.Fatalf("Analyze(nil) = %v, %v", res, err)
	}
}

func batchEqualsSingle(t *testing.T, e *Engine, data [][]byte) {
	t.Helper()
	batch, err := e.Analyze(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range data {
		one, err := e.Analyze(context.Background(), [][]byte{d})
		if err != nil {
			t.Fatal(err)
		}
		a, b := one[0].Analysis, batch[i].Analysis
		if (one[0].Err == nil) != (batch[i].Err == nil) || a.Result != b.Result || len(a.Faces) != len(b.Faces) {
			t.Fatalf("image %d: alone %s/%v, in batch %s/%v", i, a.Result, one[0].Err, b.Result, batch[i].Err)
		}
		for k := range a.Faces {
			if math.Abs(a.Faces[k].Liveness-b.Faces[k].Liveness) > 1e-3 || a.Faces[k].X1 != b.Faces[k].X1 {
				t.Errorf("image %d face %d: alone %+v, batch %+v", i, k, a.Faces[k].Liveness, b.Faces[k].Liveness)
			}
		}
	}
}
