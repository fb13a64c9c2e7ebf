package detect_test

import (
	"path/filepath"
	"strconv"
	"testing"

	"liveness/inference/detect"
	"liveness/inference/geom"
	"liveness/inference/internal/modeltest"
	"liveness/inference/models"
	"liveness/inference/onnx"
	"liveness/internal/faceset"
	"liveness/internal/imagefile"
)

func openYuNet(t testing.TB) *onnx.Session { return modeltest.Open(t, models.Detector) }

type labelled struct {
	file  string
	faces int
}

// manifest lists the images of MANIFEST.tsv with a numeric face count.
func manifest(t testing.TB) []labelled {
	rows, err := faceset.Read(faceset.Dir())
	if err != nil {
		t.Fatalf("test images: %v", err)
	}
	var out []labelled
	for _, r := range rows {
		if r.Faces >= 0 {
			out = append(out, labelled{r.File, r.Faces})
		}
	}
	return out
}

func decode(t testing.TB, rel string) *imagefile.Image {
	t.Helper()
	return modeltest.Image(t, rel, imagefile.WithMaxSide(1280))
}

// Every labelled image finds exactly its faces at the default score, and the
// no-face images find none; the test also logs the scores that justify the
// default.
func TestFaceCountsOnSharedFaces(t *testing.T) {
	d := detect.New(openYuNet(t), detect.WithMinScore(0.3), detect.WithMinRelative(0))
	for _, l := range manifest(t) {
		im := decode(t, l.file)
		dets, err := d.Detect([]*imagefile.Image{im})
		if err != nil {
			t.Fatal(err)
		}
		var scores []string
		n := 0
		for _, det := range dets[0] {
			scores = append(scores, strconv.FormatFloat(float64(det.Score), 'f', 2, 32))
			if det.Score >= detect.DefaultMinScore && det.W() >= detect.DefaultMinRelative*dets[0][0].W() {
				n++
				checkInside(t, l.file, det, im)
			}
		}
		t.Logf("%-60s want %d got %d scores %v %dx%d", filepath.Base(l.file), l.faces, n, scores, im.Width, im.Height)
		if n != l.faces {
			for _, det := range dets[0] {
				t.Logf("   box %+v", det.Box)
			}
		}
		if n != l.faces {
			t.Errorf("%s: %d faces at score %.2f, want %d (scores %v)", l.file, n, detect.DefaultMinScore, l.faces, scores)
		}
	}
}

func checkInside(t *testing.T, file string, det geom.Detection, im *imagefile.Image) {
	t.Helper()
	c := det.Center()
	if c.X < 0 || c.Y < 0 || c.X > float32(im.Width) || c.Y > float32(im.Height) || det.W() <= 0 || det.H() <= 0 {
		t.Errorf("%s: box %+v outside %dx%d", file, det.Box, im.Width, im.Height)
	}
	for _, k := range det.Keypoints {
		if k.X < det.X1-det.W()/4 || k.X > det.X2+det.W()/4 || k.Y < det.Y1-det.H()/4 || k.Y > det.Y2+det.H()/4 {
			t.Errorf("%s: keypoint %+v far from box %+v", file, k, det.Box)
		}
	}
}

// A batch of differently sized images gives the same boxes as one at a time,
// in each image's own coordinates.
func TestBatchMatchesSingle(t *testing.T) {
	d := detect.New(openYuNet(t))
	var imgs []*imagefile.Image
	for _, f := range []string{"real/r01_astronaut.png", "edge/e04_two_faces_side_by_side.jpg", "real/r124_selfie_man_glasses_frontal_indoor.jpg"} {
		imgs = append(imgs, decode(t, f))
	}
	batch, err := d.Detect(imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, im := range imgs {
		one, err := d.Detect([]*imagefile.Image{im})
		if err != nil {
			t.Fatal(err)
		}
		if len(one[0]) != len(batch[i]) || len(one[0]) == 0 {
			t.Fatalf("image %d: %d faces alone, %d in batch", i, len(one[0]), len(batch[i]))
		}
		for k := range one[0] {
			if one[0][k].IoU(batch[i][k].Box) < 0.9 {
				t.Errorf("image %d face %d: alone %+v, batch %+v", i, k, one[0][k].Box, batch[i][k].Box)
			}
		}
	}
}

// A reduced detection input still gives boxes in the caller's pixels: a
// 2x-enlarged image gives boxes twice as large.
func TestBoxesInCallerPixels(t *testing.T) {
	d := detect.New(openYuNet(t), detect.WithMaxSide(512))
	im := decode(t, "real/r01_astronaut.png")
	big := imagefile.Resize(im, im.Width*2, im.Height*2)
	res, err := d.Detect([]*imagefile.Image{im, big})
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0]) != 1 || len(res[1]) != 1 {
		t.Fatalf("faces: %d and %d", len(res[0]), len(res[1]))
	}
	if got := res[0][0].Scale(2).IoU(res[1][0].Box); got < 0.85 {
		t.Fatalf("IoU of doubled box %.2f: %+v vs %+v", got, res[0][0].Box, res[1][0].Box)
	}
}
