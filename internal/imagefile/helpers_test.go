package imagefile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"liveness/internal/faceset"
)

// pureGo forces the standard-library decoder (tests and benchmarks only).
func pureGo() Option { return func(c *config) { c.pureGo = true } }

// readFace reads a file of the labelled set; a missing set fails the test:
// the labelled images are part of the checkout's environment, not optional.
func readFace(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(faceset.Dir(), rel))
	if err != nil {
		t.Fatalf("labelled faces not found (set FACES_DIR): %v", err)
	}
	return data
}

// quadrants paints four distinct flat colours, so every one of the eight
// rotations/mirrors of it is distinguishable even after JPEG compression.
var (
	colTL = color.RGBA{220, 30, 30, 255}  // red
	colTR = color.RGBA{30, 200, 30, 255}  // green
	colBL = color.RGBA{30, 30, 220, 255}  // blue
	colBR = color.RGBA{230, 230, 40, 255} // yellow
)

func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := colTL
			switch {
			case x >= w/2 && y < h/2:
				c = colTR
			case x < w/2 && y >= h/2:
				c = colBL
			case x >= w/2 && y >= h/2:
				c = colBR
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withEXIF inserts an APP1 Exif segment holding only IFD0/Orientation right
// after SOI, in the given byte order, as cameras write it.
func withEXIF(jpg []byte, orientation uint16, bo binary.ByteOrder) []byte {
	tiff := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(tiff, "II")
	} else {
		copy(tiff, "MM")
	}
	bo.PutUint16(tiff[2:], 42)
	bo.PutUint32(tiff[4:], 8) // IFD0 offset
	bo.PutUint16(tiff[8:], 1) // one entry
	bo.PutUint16(tiff[10:], tagOrientation)
	bo.PutUint16(tiff[12:], 3) // SHORT
	bo.PutUint32(tiff[14:], 1) // count
	bo.PutUint16(tiff[18:], orientation)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, app1...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// bitWriter writes LSB-first, as VP8L reads.
type bitWriter struct {
	buf  []byte
	nbit uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := range n {
		if w.nbit%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>i&1 == 1 {
			w.buf[len(w.buf)-1] |= 1 << (w.nbit % 8)
		}
		w.nbit++
	}
}

// solidWebP builds a lossless WebP of one colour without an encoder (Go has
// none): a VP8L stream whose five prefix codes each have a single symbol, so
// every pixel costs zero bits. w and h may be up to 16384 — handy for a bomb.
func solidWebP(w, h int, c color.NRGBA) []byte {
	bw := &bitWriter{}
	bw.write(0x2f, 8) // VP8L signature
	bw.write(uint32(w-1), 14)
	bw.write(uint32(h-1), 14)
	bw.write(1, 1) // alpha used
	bw.write(0, 3) // version
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes
	for _, sym := range []uint32{uint32(c.G), uint32(c.R), uint32(c.B), uint32(c.A)} {
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // 8-bit symbol
		bw.write(sym, 8)
	}
	bw.write(1, 1) // distance code: simple, one 1-bit symbol 0
	bw.write(0, 1)
	bw.write(0, 1)
	bw.write(0, 1)
	body := bw.buf
	if len(body)%2 == 1 {
		body = append(body, 0)
	}
	out := []byte("RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00")
	binary.LittleEndian.PutUint32(out[16:], uint32(len(bw.buf)))
	out = append(out, body...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// meanAbsDiff is the mean absolute difference per channel of two images of
// the same size; +Inf-like 999 when sizes differ.
func meanAbsDiff(a, b *Image) float64 {
	if a.Width != b.Width || a.Height != b.Height {
		return 999
	}
	var s int64
	for y := range a.Height {
		ra, rb := a.Pix[y*a.Stride:y*a.Stride+3*a.Width], b.Pix[y*b.Stride:y*b.Stride+3*b.Width]
		for i := range ra {
			d := int64(ra[i]) - int64(rb[i])
			s += max(d, -d)
		}
	}
	return float64(s) / float64(3*a.Width*a.Height)
}

// near: every channel within tol of c.
func near(r, g, b uint8, c color.RGBA, tol int) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(r, c.R) <= tol && d(g, c.G) <= tol && d(b, c.B) <= tol
}

func grayAlphaRows(w, h int) [][]byte {
	rows := make([][]byte, h)
	for y := range rows {
		for x := range w {
			rows[y] = append(rows[y], uint8(x*13+y), uint8(x*y*5))
		}
	}
	return rows
}

func rgbRows(w, h int) [][]byte {
	rows := make([][]byte, h)
	for y := range rows {
		for x := range w {
			rows[y] = append(rows[y], uint8(x*7), uint8(y*11), uint8(x+y)) // (7, 11, 2) at (1, 1) only: the tRNS colour
		}
	}
	return rows
}

// rawPNG writes an 8-bit, non-interlaced PNG of the given colour type from
// unfiltered rows, with extra chunks before the image data (the colour types
// image/png's encoder never writes).
func rawPNG(w, h int, colourType byte, rows [][]byte, extra ...[]byte) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, colourType
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for _, r := range rows {
		_, _ = zw.Write(append([]byte{0}, r...)) // filter type 0
	}
	_ = zw.Close()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr[:])...)
	for _, c := range extra {
		out = append(out, c...)
	}
	out = append(out, chunk("IDAT", z.Bytes())...)
	return append(out, chunk("IEND", nil)...)
}

func chunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[4:]))
}
