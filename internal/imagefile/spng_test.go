//go:build cgo && !nospng

package imagefile

import (
	"bytes"
	"compress/zlib"
	"errors"
	"image"
	"image/color"
	"testing"

	"liveness/internal/faceset"
)

// Every PNG of the labelled set decodes to the same pixels through libspng
// as through image/png and toRGB, and most take the libspng path.
func TestSPNGEqualsGoOnLabelledPNGs(t *testing.T) {
	entries, err := faceset.Read(faceset.Dir())
	if err != nil {
		t.Fatal(err)
	}
	fast := 0
	for _, e := range entries {
		data := readFace(t, e.File)
		in, err := Probe(data)
		if err != nil || in.Format != FormatPNG {
			continue
		}
		sw, sh := in.storedSize()
		if _, err := decodeSPNG(data, sw, sh); err == nil {
			fast++
		} else if !errors.Is(err, errSPNGSkip) {
			t.Errorf("%s: libspng: %v", e.File, err)
		}
		sameAsGo(t, e.File, data)
	}
	t.Logf("%d labelled PNGs took the libspng path", fast)
	if fast < 5 {
		t.Fatalf("only %d labelled PNGs took the libspng path", fast)
	}
}

// Each colour type: the 8-bit ones through libspng, 16-bit and palettes left
// to Go, all with Go's pixels.
func TestSPNGColourTypes(t *testing.T) {
	const w, h = 37, 23
	gray, rgba, nrgba := image.NewGray(image.Rect(0, 0, w, h)), image.NewRGBA(image.Rect(0, 0, w, h)), image.NewNRGBA(image.Rect(0, 0, w, h))
	pal := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 128}, color.Black})
	g16 := image.NewGray16(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(x*7 + y*11)
			gray.SetGray(x, y, color.Gray{v})
			rgba.SetRGBA(x, y, color.RGBA{v, 255 - v, uint8(x * y), 255})
			nrgba.SetNRGBA(x, y, color.NRGBA{v, uint8(y * 9), 200, uint8(x * 7)})
			pal.SetColorIndex(x, y, uint8((x+y)%3))
			g16.SetGray16(x, y, color.Gray16{uint16(x*1777 + y*311)})
		}
	}
	trns := rawPNG(w, h, 2, rgbRows(w, h), chunk("tRNS", []byte{0, 7, 0, 11, 0, 2}))
	for _, c := range []struct {
		name string
		data []byte
		fast bool
	}{
		{"gray8", encodePNG(t, gray), true},
		{"rgb8", encodePNG(t, rgba), true},
		{"rgba8", encodePNG(t, nrgba), true},
		{"gray-alpha8", rawPNG(w, h, 4, grayAlphaRows(w, h)), true},
		{"rgb8-trns", trns, true},
		{"palette", encodePNG(t, pal), false},
		{"gray16", encodePNG(t, g16), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeSPNG(c.data, w, h)
			if c.fast && err != nil || !c.fast && !errors.Is(err, errSPNGSkip) {
				t.Fatalf("libspng: %v (want the libspng path: %v)", err, c.fast)
			}
			sameAsGo(t, c.name, c.data)
		})
	}
	m, err := Decode(trns)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b := m.RGBAt(1, 1); r != 255 || g != 255 || b != 255 {
		t.Errorf("the tRNS colour gave %d,%d,%d, want white", r, g, b)
	}
	if r, g, b := m.RGBAt(2, 1); r != 14 || g != 11 || b != 3 {
		t.Errorf("an opaque pixel gave %d,%d,%d, want 14,11,3", r, g, b)
	}
}

// A file image/png refuses is refused through libspng too: cut inside the
// image data, cut after it (no IEND), a bad CRC on a chunk after the image.
func TestSPNGRejectsWhatGoRejects(t *testing.T) {
	const w, h = 16, 16
	whole := rawPNG(w, h, 2, rgbRows(w, h))
	iend := bytes.LastIndex(whole, []byte("IEND")) - 4
	withText := append(append(bytes.Clone(whole[:iend]), chunk("tEXt", []byte("k\x00v"))...), whole[iend:]...)
	badCRC := bytes.Clone(withText)
	badCRC[iend+4+4+3] ^= 0xff // the tEXt chunk's CRC
	for name, data := range map[string][]byte{"inside IDAT": whole[:iend-20], "no IEND": whole[:iend], "bad CRC after IDAT": badCRC} {
		for _, opts := range [][]Option{nil, {pureGo()}} {
			if _, err := Decode(data, opts...); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s (pure Go %v): %v, want ErrCorrupt", name, len(opts) > 0, err)
			}
		}
	}
	if _, err := Decode(withText); err != nil {
		t.Fatalf("the intact file: %v", err)
	}
}

func sameAsGo(t *testing.T, name string, data []byte) {
	t.Helper()
	got, err := Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want, err := Decode(data, pureGo())
	if err != nil {
		t.Fatalf("%s (Go): %v", name, err)
	}
	if got.Width != want.Width || got.Height != want.Height || !bytes.Equal(got.Pix, want.Pix) {
		t.Errorf("%s: pixels differ from image/png's", name)
	}
}

// A compressed-text bomb (zTXt inflating to 64 MiB) stops libspng at its
// chunk cache bound; image/png skips the chunk and decodes the image.
func TestSPNGTextBombBounded(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 64<<20))
	_ = zw.Close()
	ztxt := chunk("zTXt", append([]byte("Comment\x00\x00"), z.Bytes()...))
	data := rawPNG(8, 8, 2, rgbRows(8, 8), ztxt)
	if _, err := decodeSPNG(data, 8, 8); err == nil {
		t.Fatal("libspng inflated 64 MiB of text")
	}
	if _, err := Decode(data); err != nil {
		t.Fatalf("Decode: %v", err)
	}
}
