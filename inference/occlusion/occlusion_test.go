package occlusion

import (
	"context"
	"sort"
	"testing"

	"liveness/inference/detect"
	"liveness/inference/internal/modeltest"
	"liveness/inference/models"
	"liveness/internal/imagefile"
)

// TestOccluded: the masked faces and the hands over the mouth score above
// DESIGN.md's 0.9; clear faces (frontal, turned, dark, blurred, attacks)
// score below it; every score lies in 0..1. The whole batch goes through one
// N>1 run.
func TestOccluded(t *testing.T) {
	det := detect.New(modeltest.Open(t, models.Detector))
	est := New(modeltest.Open(t, models.Landmarks66))
	cases := map[string]bool{
		"real/r14_face_mask.jpg":                             true,
		"edge/e115_real_person_surgical_mask.jpg":            true,
		"edge/e109_hand_covering_mouth_chin.png":             true,
		"edge/e111_baby_hands_toy_over_mouth.jpg":            true,
		"real/r01_astronaut.png":                             false,
		"real/r02_cameraman_profile.png":                     false,
		"real/r04_apk_glasses.jpeg":                          false,
		"real/r09_kit_harington_3quarter.jpeg":               false,
		"real/r12_eyes_closed.jpeg":                          false,
		"real/r15_profile_left.jpeg":                         false,
		"real/r105_woman_short_hair_smiling_side_glance.jpg": false,
		"real/r117_woman_blonde_studio_hand_at_neck.jpg":     false,
		"real/r122_girl_face_paint_laughing_outdoor.jpg":     false,
		"real/r128_woman_black_hat_hands_on_cheeks.jpg":      false,
		"edge/e08_partial_face_at_border.jpg":                false,
		"edge/e09_low_light_motion_blur.jpg":                 false,
		"edge/e12_very_dark_face.png":                        false,
		"spoof/s101_phone_screen_face_held_over_face.jpg":    false,
	}
	var files []string
	var faces []Face
	for f := range cases {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		img := modeltest.Image(t, f)
		d, err := det.Detect([]*imagefile.Image{img})
		if err != nil || len(d[0]) == 0 {
			t.Fatalf("%s: no face (%v)", f, err)
		}
		dets := modeltest.LargestFirst(d[0])
		faces = append(faces, Face{Image: img, Box: dets[0].Box})
	}
	got, err := est.Run(context.Background(), faces)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		s := got[i]
		t.Logf("%-50s R %.3f occlusion %.3f", f, s.Ratio, s.Occlusion)
		if s.Occlusion < 0 || s.Occlusion > 1 {
			t.Errorf("%s: occlusion %v outside 0..1", f, s.Occlusion)
		}
		if (s.Occlusion > 0.9) != cases[f] {
			t.Errorf("%s: occluded %v (%.3f), want %v", f, s.Occlusion > 0.9, s.Occlusion, cases[f])
		}
	}
}

func TestFromRatioMonotone(t *testing.T) {
	prev := 2.0
	for r := 0.5; r <= 1.1; r += 0.01 {
		v := FromRatio(r)
		if v > prev+1e-12 || v < 0 || v > 1 {
			t.Fatalf("FromRatio(%.2f) = %v after %v", r, v, prev)
		}
		prev = v
	}
	if v := FromRatio(FlagRatio); v < 0.9-1e-9 || v > 0.9+1e-9 {
		t.Errorf("FromRatio(FlagRatio) = %v, want 0.9", FromRatio(FlagRatio))
	}
}
