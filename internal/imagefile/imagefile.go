// Package imagefile turns the bytes of a capture into an upright RGB image.
//
// It is the one place that knows image containers: Sniff names the format from
// magic bytes (never from a file name or a declared content type), Probe reads
// the size and EXIF orientation from the headers without decoding pixels, and
// Decode returns the upright image as packed RGB, optionally reduced in size.
// Every size check happens on the header, before any pixel buffer is
// allocated, so a decompression bomb costs nothing.
//
// The package knows nothing of Kafka, HTTP or models.
package imagefile

import "errors"

// Sentinel errors. Returned errors wrap one of these with the detail, so test
// with errors.Is.
var (
	// ErrUnsupportedFormat: the bytes are not a JPEG, PNG, WebP or BMP.
	ErrUnsupportedFormat = errors.New("imagefile: unsupported image format (want JPEG, PNG, WebP or BMP)")
	// ErrTooManyPixels: the header declares more pixels than the limit
	// (a decompression bomb, or simply too large a capture).
	ErrTooManyPixels = errors.New("imagefile: image has too many pixels")
	// ErrCorrupt: a bad or truncated header or pixel stream.
	ErrCorrupt = errors.New("imagefile: corrupt or truncated image")
)

// DefaultMaxPixels is the pixel limit when WithMaxPixels is not given:
// 40 MP, above any phone camera a selfie is taken with.
const DefaultMaxPixels = 40_000_000

// Option tunes Probe and Decode.
type Option func(*config)

type config struct {
	maxPixels int64
	maxSide   int
	pureGo    bool // tests and benchmarks only: bypass libjpeg-turbo and libspng
}

func newConfig(opts []Option) config {
	c := config{maxPixels: DefaultMaxPixels}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithMaxPixels sets the largest width×height accepted; larger images fail
// with ErrTooManyPixels before any pixel is decoded. n <= 0 keeps the default.
func WithMaxPixels(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxPixels = n
		}
	}
}

// WithMaxSide asks Decode for an image whose longer side is at most n pixels
// (never enlarged). JPEGs are then decoded at a reduced DCT scale, which is
// far cheaper than a full decode followed by a resize. n <= 0 means full size.
func WithMaxSide(n int) Option {
	return func(c *config) { c.maxSide = n }
}
