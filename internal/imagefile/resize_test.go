package imagefile

import (
	"image"
	"testing"
)

func gradient(w, h int) *Image {
	m := newImage(w, h)
	for y := range h {
		for x := range w {
			i := y*m.Stride + 3*x
			m.Pix[i], m.Pix[i+1], m.Pix[i+2] = uint8(x*255/max(w-1, 1)), uint8(y*255/max(h-1, 1)), 77
		}
	}
	return m
}

func TestResizeKeepsFlatColourAndScale(t *testing.T) {
	src := newImage(101, 37)
	for i := 0; i < len(src.Pix); i += 3 {
		src.Pix[i], src.Pix[i+1], src.Pix[i+2] = 12, 200, 99
	}
	for _, sz := range [][2]int{{50, 18}, {10, 4}, {202, 74}, {101, 37}, {1, 1}, {7, 90}} {
		got := Resize(src, sz[0], sz[1])
		if got.Width != sz[0] || got.Height != sz[1] || len(got.Pix) != sz[0]*sz[1]*3 {
			t.Fatalf("%v: got %dx%d", sz, got.Width, got.Height)
		}
		if want := 101.0 / float64(sz[0]); got.Scale != want {
			t.Fatalf("%v: scale %v want %v", sz, got.Scale, want)
		}
		for i := 0; i < len(got.Pix); i += 3 {
			if got.Pix[i] != 12 || got.Pix[i+1] != 200 || got.Pix[i+2] != 99 {
				t.Fatalf("%v: pixel %d = %v", sz, i/3, got.Pix[i:i+3])
			}
		}
	}
	if same := Resize(src, 101, 37); &same.Pix[0] == &src.Pix[0] {
		t.Fatal("Resize to the same size must not share the caller's buffer")
	}
}

// A linear ramp stays a linear ramp under bilinear interpolation and box
// averaging: each output pixel equals the ramp at its centre (±1 rounding).
func TestResizeFollowsRamp(t *testing.T) {
	const sw, sh = 256, 64
	src := newImage(sw, sh)
	for y := range sh {
		for x := range sw {
			src.Pix[y*src.Stride+3*x] = uint8(x)
		}
	}
	for _, w := range []int{200, 128, 64, 37, 400} {
		got := Resize(src, w, 16)
		for x := range w {
			c := (float64(x)+0.5)*float64(sw)/float64(w) - 0.5 // centre in source pixels
			want := min(max(c, 0), sw-1)
			if r, _, _ := got.RGBAt(x, 8); float64(r) < want-1.01 || float64(r) > want+1.01 {
				t.Fatalf("w=%d x=%d: %d, want %.1f", w, x, r, want)
			}
		}
	}
}

// Shrinking a one-pixel checkerboard must give flat grey (box halving), not
// the aliased stripes a plain bilinear sample would produce.
func TestResizeAntiAliases(t *testing.T) {
	src := newImage(64, 64)
	for y := range 64 {
		for x := range 64 {
			if (x+y)%2 == 0 {
				copy(src.Pix[y*src.Stride+3*x:], []byte{255, 255, 255})
			}
		}
	}
	got := Resize(src, 10, 10)
	for i, v := range got.Pix {
		if v < 120 || v > 136 {
			t.Fatalf("byte %d = %d, want ~128", i, v)
		}
	}
}

func TestCrop(t *testing.T) {
	src := gradient(10, 8)
	src.Scale = 2
	inside := Crop(src, image.Rect(2, 3, 6, 5), BorderConstant)
	if inside.Width != 4 || inside.Height != 2 || inside.Scale != 2 {
		t.Fatalf("inside: %dx%d scale %v", inside.Width, inside.Height, inside.Scale)
	}
	for y := range 2 {
		for x := range 4 {
			r, g, b := inside.RGBAt(x, y)
			wr, wg, wb := src.RGBAt(x+2, y+3)
			if r != wr || g != wg || b != wb {
				t.Fatalf("inside (%d,%d)", x, y)
			}
		}
	}
	// A box hanging off the top-left corner.
	r := image.Rect(-3, -2, 4, 3)
	k := Crop(src, r, BorderConstant)
	rep := Crop(src, r, BorderReplicate)
	for y := range r.Dy() {
		for x := range r.Dx() {
			sx, sy := x+r.Min.X, y+r.Min.Y
			kr, kg, kb := k.RGBAt(x, y)
			rr, rg, rb := rep.RGBAt(x, y)
			wr, wg, wb := src.RGBAt(min(max(sx, 0), 9), min(max(sy, 0), 7))
			if sx < 0 || sy < 0 {
				if kr|kg|kb != 0 {
					t.Fatalf("constant border (%d,%d) = %d,%d,%d", sx, sy, kr, kg, kb)
				}
			} else if kr != wr || kg != wg || kb != wb {
				t.Fatalf("constant inside (%d,%d)", sx, sy)
			}
			if rr != wr || rg != wg || rb != wb {
				t.Fatalf("replicate (%d,%d) = %d,%d,%d want %d,%d,%d", sx, sy, rr, rg, rb, wr, wg, wb)
			}
		}
	}
	// Entirely outside, below the image: constant is black, replicate is
	// the last row.
	far := image.Rect(3, 20, 6, 22)
	if m := Crop(src, far, BorderConstant); m.Pix[0]|m.Pix[len(m.Pix)-1] != 0 {
		t.Fatal("outside crop not black")
	}
	if m := Crop(src, far, BorderReplicate); m.Pix[1] != src.Pix[7*src.Stride+3*3+1] {
		t.Fatal("outside crop does not replicate the last row")
	}
	if m := Crop(src, image.Rectangle{}, BorderConstant); m.Width != 0 || m.Height != 0 {
		t.Fatal("empty rectangle")
	}
}
