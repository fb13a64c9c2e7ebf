package liveness

// A test-only harness until the engine core lands: ONNX Runtime sessions
// straight from onnxruntime_go, and a YuNet-n detector with the reference's
// recipe (largest face, score ≥ 0.6, NMS 0.3).

import (
	"bufio"
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"liveness/inference/geom"
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

type ortModel struct {
	s      *ort.DynamicAdvancedSession
	loop   bool // batch dim fixed at 1 in the file
	outIdx int
	nOut   int
}

var ortOnce sync.Once

func openModel(t testing.TB, rel, in string, outs []string, fixedBatch bool) *ortModel {
	t.Helper()
	ortOnce.Do(func() {
		lib := sharedDir("ONNXRUNTIME_LIB", "../../.stack/onnxruntime/libonnxruntime.so.1")
		if _, err := os.Stat(lib); err != nil {
			t.Fatalf("ONNX Runtime library missing (scripts/onnxruntime.sh install, or ONNXRUNTIME_LIB): %v", err)
		}
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(); err != nil {
			t.Fatalf("ONNX Runtime: %v", err)
		}
	})
	so, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer so.Destroy()
	so.SetIntraOpNumThreads(1)
	so.SetInterOpNumThreads(1)
	p := filepath.Join(modelsDir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("model missing (set MODELS_DIR): %v", err)
	}
	s, err := ort.NewDynamicAdvancedSession(p, []string{in}, outs, so)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return &ortModel{s: s, loop: fixedBatch, nOut: len(outs)}
}

func (m *ortModel) runOne(in []float32, shape []int64) ([][]float32, error) {
	x, err := ort.NewTensor(ort.NewShape(shape...), in)
	if err != nil {
		return nil, err
	}
	defer x.Destroy()
	outs := make([]ort.Value, m.nOut)
	if err := m.s.Run([]ort.Value{x}, outs); err != nil {
		return nil, err
	}
	res := make([][]float32, m.nOut)
	for i, o := range outs {
		res[i] = append([]float32(nil), o.(*ort.Tensor[float32]).GetData()...)
		o.Destroy()
	}
	return res, nil
}

func (m *ortModel) Run(_ context.Context, in []float32, shape []int64) ([]float32, error) {
	if !m.loop || shape[0] == 1 {
		r, err := m.runOne(in, shape)
		if err != nil {
			return nil, err
		}
		return r[m.outIdx], nil
	}
	n := len(in) / int(shape[0])
	var all []float32
	for i := range int(shape[0]) {
		s := append([]int64{1}, shape[1:]...)
		r, err := m.runOne(in[i*n:(i+1)*n], s)
		if err != nil {
			return nil, err
		}
		all = append(all, r[m.outIdx]...)
	}
	return all, nil
}

func testModels(t testing.TB) Models {
	return Models{
		V2:   openModel(t, "antispoof-MiniFASNetV2/MiniFASNetV2.onnx", "input", []string{"output"}, true),
		V1SE: openModel(t, "antispoof-MiniFASNetV1SE/MiniFASNetV1SE.onnx", "input", []string{"output"}, true),
		Suri: openModel(t, "antispoof-suri-MiniFASNetV2SE-128/best_model.onnx", "input", []string{"output"}, false),
	}
}

// yunet detects faces on the image reduced to a long side ≤ 640 and returns
// boxes in the image's pixels, largest first.
type yunet struct{ m *ortModel }

func newYunet(t testing.TB) *yunet {
	var outs []string
	for _, k := range []string{"cls", "obj", "bbox", "kps"} {
		for _, s := range []string{"8", "16", "32"} {
			outs = append(outs, k+"_"+s)
		}
	}
	return &yunet{openModel(t, "facedet-yunet/yunet_n_dynamic.onnx", "input", outs, false)}
}

func (y *yunet) detect(img *imagefile.Image) ([]geom.Detection, error) { return y.detectAt(img, 640) }

// detectAt feeds YuNet the image reduced to a long side of at most maxSide
// (0: full size, the reference recipe).
func (y *yunet) detectAt(img *imagefile.Image, maxSide int) ([]geom.Detection, error) {
	small := img
	if maxSide > 0 && max(img.Width, img.Height) > maxSide {
		f := float64(maxSide) / float64(max(img.Width, img.Height))
		small = imagefile.Resize(img, int(math.Round(float64(img.Width)*f)), int(math.Round(float64(img.Height)*f)))
	}
	back := float32(float64(img.Width) / float64(small.Width))
	pw, ph := ((small.Width-1)/32+1)*32, ((small.Height-1)/32+1)*32
	in := make([]float32, 3*pw*ph)
	for yy := range small.Height {
		for xx := range small.Width {
			r, g, b := small.RGBAt(xx, yy)
			in[yy*pw+xx], in[pw*ph+yy*pw+xx], in[2*pw*ph+yy*pw+xx] = float32(b), float32(g), float32(r)
		}
	}
	outs, err := y.m.runOne(in, []int64{1, 3, int64(ph), int64(pw)})
	if err != nil {
		return nil, err
	}
	var dets []geom.Detection
	for si, s := range []int{8, 16, 32} {
		cls, obj, bb, kp := outs[si], outs[3+si], outs[6+si], outs[9+si]
		cols := pw / s
		for i := range cls {
			score := float32(math.Sqrt(float64(min(max(cls[i], 0), 1) * min(max(obj[i], 0), 1))))
			if score < 0.6 {
				continue
			}
			r, c := float32(i/cols), float32(i%cols)
			fs := float32(s)
			cx, cy := (c+bb[4*i])*fs, (r+bb[4*i+1])*fs
			w := float32(math.Exp(float64(bb[4*i+2]))) * fs
			h := float32(math.Exp(float64(bb[4*i+3]))) * fs
			d := geom.Detection{Box: geom.Box{X1: cx - w/2, Y1: cy - h/2, X2: cx + w/2, Y2: cy + h/2}.Scale(back), Score: score}
			for k := range 5 {
				d.Keypoints[k] = geom.Point{X: (kp[10*i+2*k] + c) * fs * back, Y: (kp[10*i+2*k+1] + r) * fs * back}
			}
			dets = append(dets, d)
		}
	}
	sort.Slice(dets, func(i, j int) bool { return dets[i].Score > dets[j].Score })
	var keep []geom.Detection
	for _, d := range dets {
		ok := true
		for _, k := range keep {
			if d.IoU(k.Box) > 0.3 {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, d)
		}
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].Area() > keep[j].Area() })
	return keep, nil
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
	img, err := imagefile.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return img
}

// scoreManifest scores the largest face of every real and spoof image.
func scoreManifest(t testing.TB) ([]Labelled, []string) {
	y := newYunet(t)
	s, err := New(testModels(t))
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
