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
// DCT (libjpeg-turbo, 1/2, 1/4 or 1/8), for other formats by Resize.
// Truncated or corrupt pixel data is an ErrCorrupt, never a half-grey image.
func Decode(data []byte, opts ...Option) (*Image, error) {
	c := newConfig(opts)
	in, err := probe(data, &c)
	if err != nil {
		return nil, err
	}
	sw, sh := in.storedSize()
	tw, th := fitSide(sw, sh, c.maxSide)

	var (
		img  *Image
		terr error
	)
	if in.Format == FormatJPEG && !c.pureGo && turboAvailable {
		// A libjpeg-turbo failure (a warning such as a premature end of
		// data, or a colour space it cannot convert, e.g. CMYK) hands over
		// to the Go decoder, which is the one arbiter of what is corrupt:
		// both decoders then agree on which files are accepted.
		img, terr = decodeTurbo(data, sw, sh, tw, th)
	}
	if img == nil {
		if img, err = decodeGo(in.Format, data, sw, sh); err != nil {
			if terr != nil { // libjpeg's words are often the clearer ones
				err = fmt.Errorf("%w (libjpeg-turbo: %v)", err, terr)
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
