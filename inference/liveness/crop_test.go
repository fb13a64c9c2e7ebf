package liveness

import (
	"math"
	"testing"

	"liveness/inference/geom"
	"liveness/internal/imagefile"
)

func TestMinivisionRectShiftsInside(t *testing.T) {
	// A 100×100 box at the left edge of a 1000×800 image, scale 2.7: the
	// 270-px crop is shifted right to start at 0, not clipped.
	l, tp, r, b := minivisionRect(geom.Box{X1: 0, Y1: 300, X2: 100, Y2: 400}, 1000, 800, 2.7)
	if l != 0 || r != 270 || tp != 215 || b != 485 {
		t.Fatalf("got l=%d t=%d r=%d b=%d", l, tp, r, b)
	}
	// The scale is capped so the crop fits: (H-1)/h = 0.999 for a full-height box.
	l, tp, r, b = minivisionRect(geom.Box{X1: 100, Y1: 0, X2: 200, Y2: 800}, 1000, 800, 4)
	if b-tp > 799 || tp < 0 || b > 799 || r-l > 100 {
		t.Fatalf("capped crop got l=%d t=%d r=%d b=%d", l, tp, r, b)
	}
}

func TestReflect101(t *testing.T) {
	for _, c := range []struct{ i, n, want int }{{-1, 5, 1}, {-2, 5, 2}, {5, 5, 3}, {6, 5, 2}, {0, 5, 0}, {-3, 1, 0}} {
		if got := reflect101(c.i, c.n); got != c.want {
			t.Errorf("reflect101(%d,%d) = %d, want %d", c.i, c.n, got, c.want)
		}
	}
}

func TestAreaTapsSumToOne(t *testing.T) {
	for _, nm := range [][2]int{{300, 128}, {129, 128}, {1000, 7}} {
		for d, taps := range areaTaps(nm[0], nm[1]) {
			var s float32
			for _, tp := range taps {
				s += tp.w
			}
			if math.Abs(float64(s)-1) > 1e-5 {
				t.Errorf("%v: output %d weights sum to %v", nm, d, s)
			}
		}
	}
}

// TestTensorLayout: a pure red image gives R planes per the model's order:
// minivision BGR 0..255 (red in plane 2), SURI RGB 0..1 (red in plane 0).
func TestTensorLayout(t *testing.T) {
	img := &imagefile.Image{Width: 200, Height: 200, Stride: 600, Pix: make([]byte, 600*200), Scale: 1}
	for i := 0; i < len(img.Pix); i += 3 {
		img.Pix[i] = 200
	}
	box := geom.Box{X1: 60, Y1: 60, X2: 140, Y2: 140}
	mv := make([]float32, 3*80*80)
	minivisionTensor(img, box, 2.7, mv)
	if mv[0] != 0 || mv[2*6400+100] != 200 {
		t.Errorf("minivision planes: B %v R %v", mv[0], mv[2*6400+100])
	}
	su := make([]float32, 3*128*128)
	suriTensor(img, box, su)
	if math.Abs(float64(su[500])-200.0/255) > 1e-5 || su[128*128+500] != 0 {
		t.Errorf("SURI planes: R %v G %v", su[500], su[128*128+500])
	}
}
