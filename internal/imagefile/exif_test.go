package imagefile

import (
	"encoding/binary"
	"image"
	"testing"
)

func TestJPEGOrientationBothByteOrders(t *testing.T) {
	base := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)), 80)
	if got := jpegOrientation(base); got != 1 {
		t.Fatalf("no EXIF: got %d, want 1", got)
	}
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := uint16(1); o <= 8; o++ {
			if got := jpegOrientation(withEXIF(base, o, bo)); got != int(o) {
				t.Errorf("%v orientation %d: got %d", bo, o, got)
			}
		}
	}
}

func TestJPEGOrientationMalformed(t *testing.T) {
	base := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)), 80)
	good := withEXIF(base, 6, binary.BigEndian)
	// Segment layout: SOI(2) FFE1(2) len(2) "Exif\0\0"(6) TIFF...
	tiff := 2 + 4 + 6
	mutate := map[string]func(b []byte) []byte{
		"value out of range": func(b []byte) []byte { b[tiff+19] = 9; return b },
		"bad byte order":     func(b []byte) []byte { b[tiff] = 'X'; return b },
		"bad magic":          func(b []byte) []byte { b[tiff+3] = 43; return b },
		"IFD offset past end": func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[tiff+4:], 1<<20)
			return b
		},
		"segment length past end": func(b []byte) []byte { b[4], b[5] = 0xFF, 0xFF; return b },
		"truncated in APP1":       func(b []byte) []byte { return b[:tiff+10] },
	}
	for name, f := range mutate {
		b := f(append([]byte{}, good...))
		if got := jpegOrientation(b); got != 1 {
			t.Errorf("%s: got %d, want 1", name, got)
		}
	}
	if got := jpegOrientation(good); got != 6 {
		t.Fatalf("unmutated: got %d, want 6", got)
	}
}
