package imagefile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"
)

// Decode returns the upright image as packed RGB. It probes first (pixel
// limit, corrupt headers), so nothing is allocated for a refused image.
// EXIF orientation is applied (all eight cases). With WithMaxSide the longer
// side is reduced to at most n; for JPEG the reduction happens inside the
// DCT (libjpeg-turbo, 1/2, 1/4 or 1/8), for other formats by Resize. 8-bit
// PNGs are decoded by libspng, to image/png's pixels bit for bit and up to
// twice as fast (BenchmarkDecodePNG, three runs: 31-35 against 61-67 ms for
// the 1 MB photo, 21-22 against 33-51 for a 920 KB one; a 250 KB RGBA
// capture gained little, 30-31 against 28-34).
// Truncated or corrupt pixel data is an ErrCorrupt, never a half-grey image.
func Decode(data []byte, opts ...Option) (*Image, error) {
	c := newConfig(opts)
	in, err := probe(data, &c)
	if err != nil {
		return nil, err
	}
	sw, sh := in.storedSize()
	tw, th := fitSide(sw, sh, c.maxSide)

	// A C decoder's failure (libjpeg-turbo: a warning such as a premature
	// end of data, or a colour space it cannot convert, e.g. CMYK; libspng:
	// a bad chunk, or a 16-bit or palette image it leaves to Go) hands over
	// to the Go decoder, which is the one arbiter of what is corrupt: both
	// decoders then agree on which files are accepted.
	var (
		img  *Image
		cerr error
	)
	switch {
	case c.pureGo:
	case in.Format == FormatJPEG && turboAvailable:
		img, cerr = decodeTurbo(data, sw, sh, tw, th)
		cerr = wrapC("libjpeg-turbo", cerr)
	case in.Format == FormatPNG && spngAvailable:
		img, cerr = decodeSPNG(data, sw, sh)
		cerr = wrapC("libspng", cerr)
	}
	if img == nil {
		if img, err = decodeGo(in.Format, data, sw, sh); err != nil {
			if cerr != nil && !errors.Is(cerr, errSPNGSkip) { // the C library's words are often the clearer ones
				err = fmt.Errorf("%w (%v)", err, cerr)
			}
			return nil, err
		}
	}
	if img.Width != tw || img.Height != th {
		img = Resize(img, tw, th)
	}
	img = orient(img, in.Orientation)
	img.Scale = float64(in.Width) / float64(img.Width)
	img.Source = in
	return img, nil
}

// errSPNGSkip: libspng leaves the image to Go's decoder (not an error).
var errSPNGSkip = errors.New("left to image/png")

func wrapC(lib string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", lib, err)
}

// fitSide returns w×h shrunk so that the longer side is at most maxSide,
// keeping the aspect ratio; unchanged when maxSide <= 0 or already small.
func fitSide(w, h, maxSide int) (int, int) {
	long := max(w, h)
	if maxSide <= 0 || long <= maxSide {
		return w, h
	}
	s := float64(maxSide) / float64(long)
	return max(int(float64(w)*s+0.5), 1), max(int(float64(h)*s+0.5), 1)
}

// decodeGo decodes with the standard library and x/image, then converts to
// packed RGB in stored orientation.
func decodeGo(f Format, data []byte, sw, sh int) (*Image, error) {
	r := bytes.NewReader(data)
	var (
		m   image.Image
		err error
	)
	switch f {
	case FormatJPEG:
		m, err = jpeg.Decode(r)
	case FormatPNG:
		m, err = png.Decode(r)
	case FormatWebP:
		m, err = webp.Decode(r)
	case FormatBMP:
		m, err = bmp.Decode(r)
	default:
		return nil, ErrUnsupportedFormat
	}
	if err != nil {
		if errors.Is(err, io.EOF) { // a clean EOF in the middle is still a truncation
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, f, err)
	}
	if b := m.Bounds(); b.Dx() != sw || b.Dy() != sh {
		return nil, fmt.Errorf("%w: %s: decoded %dx%d, header said %dx%d", ErrCorrupt, f, b.Dx(), b.Dy(), sw, sh)
	}
	return toRGB(m), nil
}
