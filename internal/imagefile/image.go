package imagefile

import (
	"image"
	"image/color"
)

// Image is an upright image as packed RGB: 3 bytes a pixel, rows Stride bytes
// apart. Every model downstream wants RGB or BGR planes, so this is the one
// pixel layout the package hands out.
type Image struct {
	Pix           []byte
	Width, Height int
	Stride        int
	// Scale maps this image's coordinates back to the original upright image:
	// original x = x * Scale (1 for a full-size decode, 4 for a quarter).
	Scale float64
	// Source is what the headers said about the original.
	Source Info
}

func newImage(w, h int) *Image {
	return &Image{Pix: make([]byte, w*h*3), Width: w, Height: h, Stride: w * 3, Scale: 1}
}

// RGBAt returns the pixel at (x, y); it panics outside the image.
func (m *Image) RGBAt(x, y int) (r, g, b uint8) {
	if uint(x) >= uint(m.Width) || uint(y) >= uint(m.Height) {
		panic("imagefile: RGBAt out of range")
	}
	i := y*m.Stride + x*3
	return m.Pix[i], m.Pix[i+1], m.Pix[i+2]
}

// toRGB converts a decoded image to packed RGB. Transparent pixels are
// composited on white: a capture with a transparent background should look
// like a plain white wall to a face model, not a black hole.
func toRGB(src image.Image) *Image {
	b := src.Bounds()
	dst := newImage(b.Dx(), b.Dy())
	switch s := src.(type) {
	case *image.YCbCr:
		for y := 0; y < dst.Height; y++ {
			row := dst.Pix[y*dst.Stride:]
			for x := 0; x < dst.Width; x++ {
				yi := s.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := s.COffset(b.Min.X+x, b.Min.Y+y)
				row[3*x], row[3*x+1], row[3*x+2] = color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
			}
		}
	case *image.Gray:
		for y := 0; y < dst.Height; y++ {
			in := s.Pix[y*s.Stride : y*s.Stride+dst.Width]
			row := dst.Pix[y*dst.Stride:]
			for x, v := range in {
				row[3*x], row[3*x+1], row[3*x+2] = v, v, v
			}
		}
	case *image.NRGBA:
		for y := 0; y < dst.Height; y++ {
			compositeNRGBA(dst.Pix[y*dst.Stride:y*dst.Stride+3*dst.Width], s.Pix[y*s.Stride:y*s.Stride+4*dst.Width])
		}
	case *image.RGBA: // premultiplied: c + (1-a)·white
		for y := 0; y < dst.Height; y++ {
			in := s.Pix[y*s.Stride : y*s.Stride+4*dst.Width]
			row := dst.Pix[y*dst.Stride:]
			for x := 0; x < dst.Width; x++ {
				na := 255 - uint32(in[4*x+3])
				for k := range 3 {
					row[3*x+k] = uint8(min(uint32(in[4*x+k])+na, 255))
				}
			}
		}
	default: // CMYK, NYCbCrA, 16-bit, paletted: rare, take the generic road
		for y := 0; y < dst.Height; y++ {
			row := dst.Pix[y*dst.Stride:]
			for x := 0; x < dst.Width; x++ {
				r, g, bb, a := src.At(b.Min.X+x, b.Min.Y+y).RGBA() // premultiplied, 16 bit
				na := 0xffff - a
				row[3*x] = uint8(min(r+na, 0xffff) >> 8)
				row[3*x+1] = uint8(min(g+na, 0xffff) >> 8)
				row[3*x+2] = uint8(min(bb+na, 0xffff) >> 8)
			}
		}
	}
	return dst
}

// compositeNRGBA writes one row of non-premultiplied RGBA pixels onto white
// as RGB (the NRGBA case of toRGB, and libspng's alpha images).
func compositeNRGBA(row, in []byte) {
	for x := range len(row) / 3 {
		a := uint32(in[4*x+3])
		for k := range 3 {
			row[3*x+k] = uint8((uint32(in[4*x+k])*a + 255*(255-a) + 127) / 255)
		}
	}
}
