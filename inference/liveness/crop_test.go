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

// areaCHWReference is the straightforward areaCHW that the fast one must
// equal bit for bit.
func areaCHWReference(src window, size int, dst []float32, order [3]int, mul float32) {
	cols := areaTaps(src.w, size) // cols[dx]: source columns of output column dx
	rows := invert(areaTaps(src.h, size), src.h)
	plane := size * size
	line := make([]float32, 3*src.w)
	acc := make([]float32, 3*plane)
	hs := make([]float32, 3*size)
	// Source column offsets, resolved once: the border rule per pixel and
	// channel cost as much as the averaging itself.
	xoff := make([]int, src.w)
	for x := range xoff {
		xoff[x] = 3 * src.col(x)
	}
	for sy := range src.h {
		row := src.img.Pix[src.row(sy)*src.img.Stride:]
		for x, o := range xoff {
			line[3*x], line[3*x+1], line[3*x+2] = float32(row[o]), float32(row[o+1]), float32(row[o+2])
		}
		// The horizontal pass once per source row, then its share of
		// each output row it covers (a row on a boundary covers two).
		for dx, taps := range cols {
			var s [3]float32
			for _, t := range taps {
				px := line[3*t.i : 3*t.i+3 : 3*t.i+3]
				s[0] += px[0] * t.w
				s[1] += px[1] * t.w
				s[2] += px[2] * t.w
			}
			hs[3*dx], hs[3*dx+1], hs[3*dx+2] = s[0], s[1], s[2]
		}
		for _, ry := range rows[sy] {
			o := ry.i * size
			for c := range 3 {
				a := acc[c*plane+o : c*plane+o+size]
				for dx := range a {
					a[dx] += hs[3*dx+c] * ry.w
				}
			}
		}
	}
	for p, c := range order {
		out, in := dst[p*plane:(p+1)*plane], acc[c*plane:(c+1)*plane]
		for i, v := range in {
			out[i] = v * mul
		}
	}
}

// TestAreaCHWBitExact: the fast area shrink equals the reference bit for
// bit on windows inside the image and reflected across its borders.
func TestAreaCHWBitExact(t *testing.T) {
	img := &imagefile.Image{Width: 301, Height: 203, Stride: 3 * 301, Scale: 1}
	img.Pix = make([]byte, img.Stride*img.Height)
	for i := range img.Pix {
		img.Pix[i] = byte(i*31 + i/903*7)
	}
	for _, w := range []window{
		{img: img, x0: 10, y0: 5, w: 180, h: 180, reflect: true},
		{img: img, x0: -40, y0: -30, w: 260, h: 260, reflect: true},
		{img: img, x0: 200, y0: 100, w: 129, h: 129, reflect: true},
		{img: img, x0: 0, y0: 0, w: 301, h: 203},
	} {
		got, want := make([]float32, 3*128*128), make([]float32, 3*128*128)
		areaCHW(w, 128, got, [3]int{2, 1, 0}, 1.0/255)
		areaCHWReference(w, 128, want, [3]int{2, 1, 0}, 1.0/255)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("window %d,%d %dx%d: value %d is %v, reference %v", w.x0, w.y0, w.w, w.h, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkAreaCHW: the SURI crop of a ~250-px face (a 375-px window).
func BenchmarkAreaCHW(b *testing.B) {
	img := &imagefile.Image{Width: 640, Height: 480, Stride: 3 * 640, Scale: 1}
	img.Pix = make([]byte, img.Stride*img.Height)
	for i := range img.Pix {
		img.Pix[i] = byte(i * 13)
	}
	w := window{img: img, x0: 130, y0: 50, w: 375, h: 375, reflect: true}
	dst := make([]float32, 3*128*128)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			areaCHW(w, 128, dst, [3]int{0, 1, 2}, 1.0/255)
		}
	})
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			areaCHWReference(w, 128, dst, [3]int{0, 1, 2}, 1.0/255)
		}
	})
}
