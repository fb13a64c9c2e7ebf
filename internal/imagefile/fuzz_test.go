package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"testing"

	"golang.org/x/image/bmp"
)

// seeds: one small valid file of each format plus broken ones, so the fuzzer
// starts from inside every parser rather than at the magic-byte check.
func seeds(f *testing.F) {
	q := quadrants(16, 12)
	f.Add(encodeJPEG(f, q, 75))
	f.Add(withEXIF(encodeJPEG(f, q, 75), 6, binary.LittleEndian))
	f.Add(withEXIF(encodeJPEG(f, q, 75), 8, binary.BigEndian))
	f.Add(encodePNG(f, q))
	f.Add(encodePNG(f, image.NewGray(image.Rect(0, 0, 5, 3))))
	f.Add(encodePNG(f, image.NewNRGBA(image.Rect(0, 0, 4, 6))))
	f.Add(rawPNG(5, 4, 4, grayAlphaRows(5, 4)))
	f.Add(rawPNG(6, 3, 2, rgbRows(6, 3), chunk("tRNS", []byte{0, 7, 0, 11, 0, 2})))
	f.Add(solidWebP(9, 7, color.NRGBA{1, 2, 3, 200}))
	var b bytes.Buffer
	if err := bmp.Encode(&b, q); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(pngBomb(100000, 100000))
	f.Add(jpegBomb(300, 200))
	f.Add([]byte{0xFF, 0xD8, 0xFF})
}

// fuzzLimit keeps each input cheap: the fuzzer loves headers that claim
// thousands of pixels a side.
const fuzzLimit = 1 << 20

func knownErr(err error) bool {
	return errors.Is(err, ErrUnsupportedFormat) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooManyPixels)
}

func FuzzProbe(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Probe(data, WithMaxPixels(fuzzLimit))
		if err != nil {
			if !knownErr(err) {
				t.Fatalf("error outside the sentinels: %v", err)
			}
			return
		}
		if in.Width <= 0 || in.Height <= 0 || int64(in.Width)*int64(in.Height) > fuzzLimit ||
			in.Orientation < 1 || in.Orientation > 8 || in.Format == FormatUnknown {
			t.Fatalf("implausible Info %+v", in)
		}
	})
}

func FuzzDecode(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var full *Image // the first decode, at full size
		for i, opts := range [][]Option{{WithMaxPixels(fuzzLimit)}, {WithMaxPixels(fuzzLimit), WithMaxSide(7)}} {
			m, err := Decode(data, opts...)
			if err != nil {
				if !knownErr(err) {
					t.Fatalf("error outside the sentinels: %v", err)
				}
				continue
			}
			in := m.Source
			if len(m.Pix) != m.Height*m.Stride || m.Stride != 3*m.Width || m.Width > in.Width || m.Height > in.Height {
				t.Fatalf("bad image %dx%d stride %d len %d for %+v", m.Width, m.Height, m.Stride, len(m.Pix), in)
			}
			if i == 0 {
				full = m
			}
		}
		// A PNG libspng accepts, image/png accepts too, with the same pixels.
		if full != nil && full.Source.Format == FormatPNG {
			g, err := Decode(data, WithMaxPixels(fuzzLimit), pureGo())
			if err != nil || !bytes.Equal(g.Pix, full.Pix) {
				t.Fatalf("image/png disagrees: %v", err)
			}
		}
	})
}
