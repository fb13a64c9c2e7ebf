package imagefile

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
)

func TestSniff(t *testing.T) {
	var pngBuf, bmpBuf bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, 2, 2))
	if err := png.Encode(&pngBuf, m); err != nil {
		t.Fatal(err)
	}
	if err := bmp.Encode(&bmpBuf, m); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want Format
	}{
		{"jpeg", encodeJPEG(t, m, 80), FormatJPEG},
		{"png", pngBuf.Bytes(), FormatPNG},
		{"webp", solidWebP(2, 2, color.NRGBA{1, 2, 3, 255}), FormatWebP},
		{"bmp", bmpBuf.Bytes(), FormatBMP},
		{"empty", nil, FormatUnknown},
		{"jpeg prefix only", []byte{0xFF, 0xD8}, FormatUnknown},
		{"text starting BM", []byte("BMW drivers are a well-known species of motorist"), FormatUnknown},
		{"riff but wave", []byte("RIFF\x10\x00\x00\x00WAVEfmt "), FormatUnknown},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), FormatUnknown},
		{"pdf", []byte("%PDF-1.7\n"), FormatUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Sniff(tc.data)
			if got != tc.want {
				t.Fatalf("Sniff = %v, want %v", got, tc.want)
			}
			if (tc.want == FormatUnknown) != errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestFormatNames(t *testing.T) {
	if FormatJPEG.MIME() != "image/jpeg" || FormatWebP.String() != "webp" || FormatUnknown.MIME() != "" {
		t.Fatal("format names wrong")
	}
}
