package imagefile

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"
)

// Info is what the headers say about an image.
type Info struct {
	Format Format
	// Width and Height of the upright image, i.e. after EXIF orientation:
	// orientations 5..8 swap the stored width and height.
	Width, Height int
	// Orientation is the EXIF Orientation, 1..8 (1 when there is no EXIF).
	Orientation int
}

// swapsSides reports whether an EXIF orientation turns the image by 90°.
func swapsSides(orientation int) bool { return orientation >= 5 }

// storedSize is the width and height of the pixels as stored in the file.
func (in Info) storedSize() (w, h int) {
	if swapsSides(in.Orientation) {
		return in.Height, in.Width
	}
	return in.Width, in.Height
}

// Probe reads format, size and orientation from the headers only, and
// refuses images over the pixel limit (WithMaxPixels) with ErrTooManyPixels.
func Probe(data []byte, opts ...Option) (Info, error) {
	c := newConfig(opts)
	return probe(data, &c)
}

func probe(data []byte, c *config) (Info, error) {
	f, err := Sniff(data)
	if err != nil {
		return Info{}, err
	}
	cfg, err := decodeConfig(f, data)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %s header: %v", ErrCorrupt, f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, fmt.Errorf("%w: %s header declares %dx%d", ErrCorrupt, f, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > c.maxPixels {
		return Info{}, fmt.Errorf("%w: %dx%d is %.1f MP, limit %.1f MP", ErrTooManyPixels,
			cfg.Width, cfg.Height, float64(px)/1e6, float64(c.maxPixels)/1e6)
	}
	in := Info{Format: f, Width: cfg.Width, Height: cfg.Height, Orientation: 1}
	if f == FormatJPEG {
		in.Orientation = jpegOrientation(data)
	}
	if swapsSides(in.Orientation) {
		in.Width, in.Height = in.Height, in.Width
	}
	return in, nil
}

func decodeConfig(f Format, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch f {
	case FormatJPEG:
		return jpeg.DecodeConfig(r)
	case FormatPNG:
		return png.DecodeConfig(r)
	case FormatWebP:
		return webp.DecodeConfig(r)
	case FormatBMP:
		return bmp.DecodeConfig(r)
	}
	return image.Config{}, ErrUnsupportedFormat
}
