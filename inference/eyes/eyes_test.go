package eyes

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"liveness/inference/detect"
	"liveness/inference/landmarks"
	"liveness/inference/onnx"
	"liveness/internal/imagefile"
)

func dir(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

var (
	modelsDir = dir("MODELS_DIR", "../../../shared/models")
	facesDir  = dir("FACES_DIR", "../../../shared/faces")
	initOnce  sync.Once
)

func open(t *testing.T, name string) *onnx.Session {
	t.Helper()
	initOnce.Do(func() {
		if err := onnx.Init(onnx.Options{IntraOpThreads: 1, InterOpThreads: 1}); err != nil {
			t.Fatalf("ONNX Runtime is required (%s): %v", onnx.LibraryEnv, err)
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
	for _, s := range m.Models {
		if s.Name == name {
			opts := []onnx.OpenOption{onnx.WithPReluAsRelu(), onnx.WithHardSigmoid()} // as the engine on CPU
			if s.RewriteBatch {
				opts = append(opts, onnx.WithDynamicBatch())
			}
			sess, err := onnx.Open(filepath.Join(modelsDir, s.File), s.SHA256, opts...)
			if err != nil {
				t.Fatalf("%s (MODELS_DIR=%s): %v", name, modelsDir, err)
			}
			return sess
		}
	}
	t.Fatalf("%s not in manifest", name)
	return nil
}

// faces returns every face of the image with its landmarks, largest first.
func faces(t *testing.T, det *detect.Detector, lm *landmarks.Landmarker, rel string) []Face {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(facesDir, rel))
	if err != nil {
		t.Fatalf("faces missing (FACES_DIR): %v", err)
	}
	img, err := imagefile.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	d, err := det.Detect([]*imagefile.Image{img})
	if err != nil {
		t.Fatal(err)
	}
	dets := d[0]
	sort.Slice(dets, func(i, j int) bool { return dets[i].Area() > dets[j].Area() })
	var in []landmarks.Face
	for _, x := range dets {
		in = append(in, landmarks.Face{Image: img, Box: x.Box})
	}
	res, err := lm.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	var out []Face
	for _, r := range res {
		out = append(out, Face{Image: img, Landmarks: r.Points})
	}
	return out
}

// TestEyeClosure: the closed-eyes images give eyeClosed (either eye > 0.7);
// open-eyed faces do not. The set has no winking image; the man dancing with
// eyes closed (e102, the smaller face) is the second closed case.
func TestEyeClosure(t *testing.T) {
	det := detect.New(open(t, "facedet-yunet"))
	lm := landmarks.New(open(t, "landmarks68-peppa-slim160"))
	est := New(open(t, "eye-iris-mediapipe"))
	cases := []struct {
		file   string
		face   int
		closed bool
	}{
		{"real/r12_eyes_closed.jpeg", 0, true},
		{"edge/e102_two_faces_dancing_headscarf.jpg", -1, true}, // -1: some face of the image
		{"real/r04_apk_glasses.jpeg", 0, false},
		{"real/r01_astronaut.png", 0, false},
		{"real/r111_man_smiling_event_paul_rudd.jpg", 0, false},
		{"real/r124_selfie_man_glasses_frontal_indoor.jpg", 0, false},
		{"real/r126_woman_white_bucket_hat.jpg", 0, false},
		{"real/r133_man_beard_frontal_selfie_plain_wall.jpg", 0, false},
		{"real/r03_sfas_T1_rotated.jpg", 0, false},
	}
	for _, c := range cases {
		fs := faces(t, det, lm, c.file)
		if len(fs) == 0 {
			t.Fatalf("%s: no face", c.file)
		}
		got, err := est.Run(context.Background(), fs)
		if err != nil {
			t.Fatal(err)
		}
		anyClosed := false
		for i, e := range got {
			for _, v := range []float64{e.LeftClosed, e.RightClosed} {
				if v < 0 || v > 1 {
					t.Errorf("%s face %d: closure %v outside 0..1", c.file, i, v)
				}
			}
			closed := e.LeftClosed > 0.7 || e.RightClosed > 0.7
			t.Logf("%s face %d: left %.2f (open %.3f) right %.2f (open %.3f)", c.file, i, e.LeftClosed, e.LeftOpenness, e.RightClosed, e.RightOpenness)
			if c.face == i && closed != c.closed {
				t.Errorf("%s face %d: eyeClosed %v, want %v", c.file, i, closed, c.closed)
			}
			anyClosed = anyClosed || closed
		}
		if c.face < 0 && anyClosed != c.closed {
			t.Errorf("%s: some face eyeClosed %v, want %v", c.file, anyClosed, c.closed)
		}
	}
}

func TestClosureMapping(t *testing.T) {
	for _, c := range []struct{ open, want float64 }{{0.40, 0}, {0.30, 0}, {0.20, 0.5}, {0.13, 0.85}, {0.05, 1}} {
		if got := Closure(c.open); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("Closure(%v) = %v, want %v", c.open, got, c.want)
		}
	}
}
