package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"runtime"
	"strings"
	"testing"
)

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngBomb is a PNG whose IHDR claims w×h RGB pixels, followed by a tiny
// IDAT: what a decompression bomb looks like from the header.
func pngBomb(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		out = append(out, typ...)
		out = append(out, data...)
		crc := crc32.ChecksumIEEE(append([]byte(typ), data...))
		return binary.BigEndian.AppendUint32(out, crc)
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	out := append([]byte{}, pngMagic...)
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

// jpegBomb is a baseline JPEG header (SOI, SOF0, SOS, no data) claiming w×h, 3 components.
func jpegBomb(w, h uint16) []byte {
	sof := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8}
	sof = binary.BigEndian.AppendUint16(sof, h)
	sof = binary.BigEndian.AppendUint16(sof, w)
	sof = append(sof, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	sos := []byte{0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0}
	return append(append(sof, sos...), 0xFF, 0xD9)
}

// allocated runs f and returns the bytes it allocated on the heap.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestPixelLimitRefusedFromHeader(t *testing.T) {
	bombs := map[string][]byte{
		"png 100000x100000": pngBomb(100000, 100000),
		"jpeg 65000x65000":  jpegBomb(65000, 65000),
		"webp 16384x16384":  solidWebP(16384, 16384, color.NRGBA{9, 9, 9, 255}),
	}
	for name, data := range bombs {
		t.Run(name, func(t *testing.T) {
			var perr, derr error
			n := allocated(func() {
				_, perr = Probe(data)
				_, derr = Decode(data, WithMaxSide(640))
			})
			if !errors.Is(perr, ErrTooManyPixels) || !errors.Is(derr, ErrTooManyPixels) {
				t.Fatalf("Probe: %v; Decode: %v", perr, derr)
			}
			if !strings.Contains(derr.Error(), "MP") {
				t.Errorf("error should state the size: %v", derr)
			}
			// A 100000² RGB buffer is 30 GB; the header checks cost a few KB.
			if n > 1<<20 {
				t.Fatalf("refusal allocated %d bytes", n)
			}
		})
	}
}

func TestPixelLimitConfigurable(t *testing.T) {
	data := encodePNG(t, image.NewGray(image.Rect(0, 0, 100, 50)))
	if _, err := Probe(data, WithMaxPixels(5000)); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	if _, err := Probe(data, WithMaxPixels(4999)); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("one over the limit: %v", err)
	}
	if _, err := Decode(data, WithMaxPixels(4999)); !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("Decode one over the limit: %v", err)
	}
}

func TestProbeCorruptHeaders(t *testing.T) {
	good := encodePNG(t, image.NewGray(image.Rect(0, 0, 4, 4)))
	badCRC := append([]byte{}, good...)
	badCRC[20] ^= 0xFF // inside IHDR data
	cases := map[string][]byte{
		"png magic only":  pngMagic,
		"png bad IHDR":    badCRC,
		"png zero width":  pngBomb(0, 10),
		"jpeg SOI only":   {0xFF, 0xD8, 0xFF},
		"jpeg zero size":  jpegBomb(0, 0),
		"webp riff only":  []byte("RIFF\x04\x00\x00\x00WEBP"),
		"bmp header only": []byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00"),
	}
	for name, data := range cases {
		if _, err := Probe(data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
}
