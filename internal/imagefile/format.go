package imagefile

import (
	"bytes"
	"encoding/binary"
)

// Format is an image container format recognised by its magic bytes.
type Format uint8

// Formats Sniff recognises. The zero value is "unknown".
const (
	FormatUnknown Format = iota
	FormatJPEG
	FormatPNG
	FormatWebP
	FormatBMP
)

// String returns a short lowercase name ("jpeg", "png", "webp", "bmp").
func (f Format) String() string {
	switch f {
	case FormatJPEG:
		return "jpeg"
	case FormatPNG:
		return "png"
	case FormatWebP:
		return "webp"
	case FormatBMP:
		return "bmp"
	}
	return "unknown"
}

// MIME returns the media type of the format, e.g. "image/jpeg"; "" when unknown.
func (f Format) MIME() string {
	if f == FormatUnknown {
		return ""
	}
	return "image/" + f.String()
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// Sniff names the format of data from its magic bytes only.
func Sniff(data []byte) (Format, error) {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return FormatJPEG, nil
	case bytes.HasPrefix(data, pngMagic):
		return FormatPNG, nil
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP, nil
	case isBMP(data):
		return FormatBMP, nil
	}
	return FormatUnknown, ErrUnsupportedFormat
}

// isBMP checks "BM" and, because two ASCII letters alone would match plenty of
// text, also a known DIB header size.
func isBMP(data []byte) bool {
	if len(data) < 18 || data[0] != 'B' || data[1] != 'M' {
		return false
	}
	switch binary.LittleEndian.Uint32(data[14:18]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}
