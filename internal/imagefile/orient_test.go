package imagefile

import (
	"encoding/binary"
	"fmt"
	"image/color"
	"testing"
)

// Where the stored image's top-left and top-right corners end up once
// upright, straight from the EXIF 2.3 definition of tag 0x0112 ("the 0th row
// is the visual top/right/bottom/left, the 0th column is the visual ...").
// Two corners pin down which of the eight transforms was applied.
type corner uint8

const (
	tl corner = iota
	tr
	bl
	br
)

var orientationCorners = map[int][2]corner{
	1: {tl, tr}, 2: {tr, tl}, 3: {br, bl}, 4: {bl, br},
	5: {tl, bl}, 6: {tr, br}, 7: {br, tr}, 8: {bl, tl},
}

// at returns the pixel a few pixels in from corner c (clear of JPEG ringing
// at the quadrant borders when the image is large enough).
func at(m *Image, c corner, inset int) (uint8, uint8, uint8) {
	x, y := inset, inset
	if c == tr || c == br {
		x = m.Width - 1 - inset
	}
	if c == bl || c == br {
		y = m.Height - 1 - inset
	}
	return m.RGBAt(x, y)
}

func checkUpright(t *testing.T, got *Image, o, storedW, storedH, inset, tol int) {
	t.Helper()
	w, h := storedW, storedH
	if o >= 5 {
		w, h = h, w
	}
	if got.Width != w || got.Height != h {
		t.Fatalf("orientation %d: size %dx%d, want %dx%d", o, got.Width, got.Height, w, h)
	}
	want := orientationCorners[o]
	for i, c := range []color.RGBA{colTL, colTR} {
		if r, g, b := at(got, want[i], inset); !near(r, g, b, c, tol) {
			t.Errorf("orientation %d: stored corner %d expected at %d has (%d,%d,%d), want %v", o, i, want[i], r, g, b, c)
		}
	}
}

// TestOrientExact checks the pixel walk on raw RGB: every pixel, exactly,
// against a direct per-pixel mapping.
func TestOrientExact(t *testing.T) {
	const W, H = 7, 4 // odd, non-square: catches off-by-one and swapped sides
	src := newImage(W, H)
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	// Source pixel for upright (x, y), written out case by case.
	mapping := map[int]func(x, y int) (int, int){
		1: func(x, y int) (int, int) { return x, y },
		2: func(x, y int) (int, int) { return W - 1 - x, y },
		3: func(x, y int) (int, int) { return W - 1 - x, H - 1 - y },
		4: func(x, y int) (int, int) { return x, H - 1 - y },
		5: func(x, y int) (int, int) { return y, x },
		6: func(x, y int) (int, int) { return y, H - 1 - x },
		7: func(x, y int) (int, int) { return W - 1 - y, H - 1 - x },
		8: func(x, y int) (int, int) { return W - 1 - y, x },
	}
	for o := 1; o <= 8; o++ {
		got := orient(src, o)
		for y := range got.Height {
			for x := range got.Width {
				sx, sy := mapping[o](x, y)
				r, g, b := got.RGBAt(x, y)
				wr, wg, wb := src.RGBAt(sx, sy)
				if r != wr || g != wg || b != wb {
					t.Fatalf("orientation %d pixel (%d,%d) = %d,%d,%d want %d,%d,%d", o, x, y, r, g, b, wr, wg, wb)
				}
			}
		}
	}
}

// TestDecodeAllOrientations runs generated JPEGs carrying each orientation,
// in both EXIF byte orders, through both decoders, full size and reduced.
func TestDecodeAllOrientations(t *testing.T) {
	const W, H = 96, 64
	base := encodeJPEG(t, quadrants(W, H), 95)
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := 1; o <= 8; o++ {
			data := withEXIF(base, uint16(o), bo)
			for _, dec := range []struct {
				name string
				opts []Option
			}{{"turbo", nil}, {"go", []Option{pureGo()}}} {
				t.Run(fmt.Sprintf("%v/%d/%s", bo, o, dec.name), func(t *testing.T) {
					in, err := Probe(data)
					if err != nil || in.Orientation != o {
						t.Fatalf("Probe = %+v, %v", in, err)
					}
					m, err := Decode(data, dec.opts...)
					if err != nil {
						t.Fatal(err)
					}
					if m.Width != in.Width || m.Height != in.Height || m.Scale != 1 {
						t.Fatalf("decode %dx%d scale %v, probe %dx%d", m.Width, m.Height, m.Scale, in.Width, in.Height)
					}
					checkUpright(t, m, o, W, H, 4, 24)
					small, err := Decode(data, append(dec.opts, WithMaxSide(24))...)
					if err != nil {
						t.Fatal(err)
					}
					checkUpright(t, small, o, 24, 16, 2, 40)
					if small.Scale != 4 {
						t.Fatalf("scale %v, want 4", small.Scale)
					}
				})
			}
		}
	}
}

// Orientation applies to the pixels only for JPEG (the only container whose
// EXIF this package reads); a PNG is taken as stored.
func TestPNGIsTakenAsStored(t *testing.T) {
	data := encodePNG(t, quadrants(10, 6))
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	checkUpright(t, m, 1, 10, 6, 0, 0)
}
