package eyes

import (
	"context"
	"testing"

	"liveness/inference/detect"
	"liveness/inference/internal/modeltest"
	"liveness/inference/landmarks"
	"liveness/inference/models"
	"liveness/internal/imagefile"
)

// faces returns every face of the image with its landmarks, largest first.
func faces(t *testing.T, det *detect.Detector, lm *landmarks.Landmarker, rel string) []Face {
	t.Helper()
	img := modeltest.Image(t, rel)
	d, err := det.Detect([]*imagefile.Image{img})
	if err != nil {
		t.Fatal(err)
	}
	dets := modeltest.LargestFirst(d[0])
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
	det := detect.New(modeltest.Open(t, models.Detector))
	lm := landmarks.New(modeltest.Open(t, models.Landmarks68))
	est := New(modeltest.Open(t, models.Iris))
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
