package imagefile

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"liveness/internal/faceset"
)

// TestLabelledFaces decodes every file of $FACES_DIR/MANIFEST.tsv with both
// decoders and holds them to what the manifest says about the file.
func TestLabelledFaces(t *testing.T) {
	entries, err := faceset.Read(faceset.Dir())
	if err != nil {
		t.Fatalf("labelled faces not found (set FACES_DIR): %v", err)
	}
	n := 0
	for _, e := range entries {
		rel := e.File
		if rel == "" {
			continue
		}
		n++
		t.Run(rel, func(t *testing.T) { checkFace(t, rel, readFace(t, rel)) })
	}
	if n < 40 {
		t.Fatalf("manifest lists only %d files", n)
	}
}

func checkFace(t *testing.T, rel string, data []byte) {
	base := filepath.Base(rel)
	switch {
	case strings.HasPrefix(base, "e14_"): // plain text named .jpg
		for _, err := range []error{probeErr(data), decodeErr(data)} {
			if !errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("got %v, want ErrUnsupportedFormat", err)
			}
		}
		return
	case strings.HasPrefix(base, "e13_"): // first half of a JPEG: header fine, pixels not
		in, err := Probe(data)
		if err != nil || in.Orientation != 6 {
			t.Fatalf("Probe = %+v, %v; the header is intact", in, err)
		}
		for _, opts := range [][]Option{nil, {pureGo()}, {WithMaxSide(160)}} {
			_, err := Decode(data, opts...)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode = %v, want ErrCorrupt", err)
			}
			t.Logf("truncated: %v", err)
		}
		return
	}
	in, err := Probe(data)
	if err != nil {
		t.Fatal(err)
	}
	wantFormat := FormatJPEG
	if strings.HasSuffix(base, ".png") || strings.HasPrefix(base, "e15_") { // e15: PNG named .jpg
		wantFormat = FormatPNG
	}
	if in.Format != wantFormat {
		t.Fatalf("format %v, want %v", in.Format, wantFormat)
	}
	sideways := strings.Contains(base, "r03_") || strings.Contains(base, "s01_") || strings.Contains(base, "s02_")
	if sideways != (in.Orientation == 6) {
		t.Fatalf("orientation %d", in.Orientation)
	}
	full, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if full.Width != in.Width || full.Height != in.Height || full.Scale != 1 || full.Source != in {
		t.Fatalf("decoded %dx%d scale %v, probe %+v", full.Width, full.Height, full.Scale, in)
	}
	if sideways && full.Width >= full.Height {
		t.Fatalf("stored sideways: upright must be portrait, got %dx%d", full.Width, full.Height)
	}
	// The pure-Go decoder is independent of libjpeg-turbo (and of its DCT
	// shortcuts): the two must agree, orientation included.
	ref, err := Decode(data, pureGo())
	if err != nil {
		t.Fatal(err)
	}
	if d := meanAbsDiff(full, ref); d > 2 {
		t.Fatalf("turbo vs Go full decode differ by %.2f per channel", d)
	}
	small, err := Decode(data, WithMaxSide(320))
	if err != nil {
		t.Fatal(err)
	}
	if max(small.Width, small.Height) != min(320, max(in.Width, in.Height)) {
		t.Fatalf("reduced decode %dx%d", small.Width, small.Height)
	}
	// Different filters (DCT-domain scaling vs box halving + bilinear) and,
	// for odd sizes, a sub-pixel drift (a 1/2 DCT scale of 591 px is 296 px
	// at exactly 2×): 0.3–4.9 measured on these files.
	if d := meanAbsDiff(small, Resize(ref, small.Width, small.Height)); d > 6 {
		t.Fatalf("reduced decode differs from full decode + Resize by %.2f per channel", d)
	}
	if base == "r02_cameraman_profile.png" { // grayscale, expanded
		for i := 0; i < len(full.Pix); i += 3 {
			if full.Pix[i] != full.Pix[i+1] || full.Pix[i] != full.Pix[i+2] {
				t.Fatal("grayscale not expanded to equal R, G, B")
			}
		}
	}
}

func probeErr(data []byte) error  { _, err := Probe(data); return err }
func decodeErr(data []byte) error { _, err := Decode(data); return err }

// The sideways SFAS sample, decoded upright, must match the stored pixels
// turned 90° clockwise — checked against the decoder's own stored-orientation
// output, so a wrong direction of rotation cannot pass.
func TestSidewaysSampleRotatesClockwise(t *testing.T) {
	data := readFace(t, "real/r03_sfas_T1_rotated.jpg")
	up, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	in := up.Source
	sw, sh := in.storedSize()
	stored, err := decodeGo(FormatJPEG, data, sw, sh)
	if err != nil {
		t.Fatal(err)
	}
	cw, ccw := orient(stored, 6), orient(stored, 8)
	if d := meanAbsDiff(up, cw); d > 2 {
		t.Fatalf("upright differs from clockwise rotation by %.2f", d)
	}
	if d := meanAbsDiff(up, ccw); d < 10 {
		t.Fatalf("upright is as close to the counter-clockwise rotation (%.2f): test is blind", d)
	}
}

func TestAlphaCompositedOnWhite(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	m.SetNRGBA(0, 0, color.NRGBA{10, 20, 30, 255}) // opaque: unchanged
	m.SetNRGBA(1, 0, color.NRGBA{10, 20, 30, 0})   // transparent: white
	m.SetNRGBA(2, 0, color.NRGBA{0, 0, 0, 128})    // half black: mid grey
	got, err := Decode(encodePNG(t, m))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{10, 20, 30, 255, 255, 255, 127, 127, 127}
	if !bytes.Equal(got.Pix, want) {
		t.Fatalf("got %v, want %v", got.Pix, want)
	}
}

// The labelled RGBA PNG (r07) goes through the NRGBA path.
func TestRGBAPNGFace(t *testing.T) {
	m, err := Decode(readFace(t, "real/r07_lin_manuel_mouth_open.png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pix) != m.Width*m.Height*3 || m.Width != 704 || m.Height != 612 {
		t.Fatalf("got %dx%d with %d bytes", m.Width, m.Height, len(m.Pix))
	}
}

func TestWebPAndBMP(t *testing.T) {
	c := color.NRGBA{200, 100, 50, 255}
	webp := solidWebP(300, 200, c)
	var bmpBuf bytes.Buffer
	if err := bmp.Encode(&bmpBuf, quadrants(40, 30)); err != nil {
		t.Fatal(err)
	}
	w, err := Decode(webp, WithMaxSide(150))
	if err != nil {
		t.Fatal(err)
	}
	if w.Width != 150 || w.Height != 100 || w.Scale != 2 || w.Source.Format != FormatWebP {
		t.Fatalf("webp: %dx%d scale %v %+v", w.Width, w.Height, w.Scale, w.Source)
	}
	if r, g, b := w.RGBAt(75, 50); r != c.R || g != c.G || b != c.B {
		t.Fatalf("webp pixel %d,%d,%d", r, g, b)
	}
	b, err := Decode(bmpBuf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	checkUpright(t, b, 1, 40, 30, 0, 0)
}

// Truncating a JPEG anywhere after its header must give ErrCorrupt from
// both decoders, never a partly grey image.
func TestTruncatedJPEG(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 256, 192))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7 % 251) // busy content: the data is the bulk of the file
	}
	data := encodeJPEG(t, m, 90)
	if _, err := Decode(data); err != nil {
		t.Fatal(err)
	}
	for _, frac := range []float64{0.3, 0.5, 0.8, 0.95} {
		cut := data[:int(float64(len(data))*frac)]
		for _, opts := range [][]Option{nil, {pureGo()}, {WithMaxSide(64)}} {
			if _, err := Decode(cut, opts...); !errors.Is(err, ErrCorrupt) {
				t.Errorf("cut at %.0f%% (%d opts): got %v, want ErrCorrupt", frac*100, len(opts), err)
			}
		}
	}
}

func TestFitSide(t *testing.T) {
	cases := []struct{ w, h, max, ww, wh int }{
		{4000, 3000, 640, 640, 480},
		{3000, 4000, 640, 480, 640},
		{640, 480, 640, 640, 480},
		{100, 50, 640, 100, 50}, // never enlarged
		{4000, 3000, 0, 4000, 3000},
		{5000, 1, 100, 100, 1}, // never below one pixel
	}
	for _, c := range cases {
		if w, h := fitSide(c.w, c.h, c.max); w != c.ww || h != c.wh {
			t.Errorf("fitSide(%d,%d,%d) = %d,%d want %d,%d", c.w, c.h, c.max, w, h, c.ww, c.wh)
		}
	}
}
