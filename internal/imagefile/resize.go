package imagefile

import "image"

// Resize returns src scaled to w×h with bilinear interpolation (pixel
// centres aligned, as OpenCV's INTER_LINEAR). When shrinking by more than 2×
// it first halves with 2×2 box averages, because plain bilinear then skips
// source pixels and aliases (moiré on fabric, jagged edges that a liveness
// model can mistake for screen artefacts). Scale is updated so coordinates
// still map back to the original. w and h below 1 are taken as 1.
func Resize(src *Image, w, h int) *Image {
	w, h = max(w, 1), max(h, 1)
	orig := src
	for (src.Width >= 2*w && src.Width >= 2) || (src.Height >= 2*h && src.Height >= 2) {
		src = halve(src, src.Width >= 2*w, src.Height >= 2*h)
	}
	var dst *Image
	if src.Width == w && src.Height == h {
		dst = src
		if dst == orig { // never hand back the caller's buffer
			dst = newImage(w, h)
			copy(dst.Pix, orig.Pix)
		}
	} else {
		dst = bilinear(src, w, h)
	}
	dst.Source = orig.Source
	dst.Scale = orig.Scale * float64(orig.Width) / float64(w)
	return dst
}

// halve averages 2×1, 1×2 or 2×2 blocks; an odd last row or column is dropped.
func halve(src *Image, hx, hy bool) *Image {
	fx, fy := 1, 1
	if hx {
		fx = 2
	}
	if hy {
		fy = 2
	}
	w, h := src.Width/fx, src.Height/fy
	dst := newImage(w, h)
	sp, S := src.Pix, src.Stride
	for y := range h {
		r0 := y * fy * S
		r1 := r0 + (fy-1)*S
		row := dst.Pix[y*dst.Stride : y*dst.Stride+3*w]
		for x := range w {
			i := x * fx * 3
			j := i + (fx-1)*3
			for k := range 3 {
				s := uint32(sp[r0+i+k]) + uint32(sp[r0+j+k]) + uint32(sp[r1+i+k]) + uint32(sp[r1+j+k])
				row[3*x+k] = uint8((s + 2) >> 2)
			}
		}
	}
	return dst
}

// taps holds, for one axis, the two source indices and the 8-bit weight of
// the second for every destination index.
type taps struct {
	i0, i1 []int
	w1     []uint32
}

func makeTaps(srcN, dstN int) taps {
	t := taps{i0: make([]int, dstN), i1: make([]int, dstN), w1: make([]uint32, dstN)}
	ratio := float64(srcN) / float64(dstN)
	for d := range dstN {
		s := (float64(d)+0.5)*ratio - 0.5
		s = min(max(s, 0), float64(srcN-1))
		i0 := int(s)
		t.i0[d], t.i1[d] = i0, min(i0+1, srcN-1)
		t.w1[d] = uint32((s-float64(i0))*256 + 0.5)
	}
	return t
}

func bilinear(src *Image, w, h int) *Image {
	dst := newImage(w, h)
	tx, ty := makeTaps(src.Width, w), makeTaps(src.Height, h)
	for x := range tx.i0 { // column taps as byte offsets
		tx.i0[x] *= 3
		tx.i1[x] *= 3
	}
	sp := src.Pix
	for y := range h {
		r0, r1 := sp[ty.i0[y]*src.Stride:], sp[ty.i1[y]*src.Stride:]
		wy1 := ty.w1[y]
		wy0 := 256 - wy1
		row := dst.Pix[y*dst.Stride : y*dst.Stride+3*w]
		for x := range w {
			a, b, wx1 := tx.i0[x], tx.i1[x], tx.w1[x]
			wx0 := 256 - wx1
			for k := range 3 {
				top := uint32(r0[a+k])*wx0 + uint32(r0[b+k])*wx1
				bot := uint32(r1[a+k])*wx0 + uint32(r1[b+k])*wx1
				row[3*x+k] = uint8((top*wy0 + bot*wy1 + 1<<15) >> 16)
			}
		}
	}
	return dst
}

// Border says how Crop fills the part of the rectangle outside the image.
type Border uint8

const (
	// BorderConstant fills outside pixels with black (0,0,0), like OpenCV's
	// copyMakeBorder default.
	BorderConstant Border = iota
	// BorderReplicate repeats the nearest edge pixel.
	BorderReplicate
)

// Crop copies the rectangle r (in src coordinates) into a new image; r may
// reach outside src (a face box near the edge, enlarged for context), and the
// outside is filled per border. An empty r gives a 0×0 image. Scale is kept:
// a crop pixel (x, y) is original ((x+r.Min.X)·Scale, (y+r.Min.Y)·Scale).
func Crop(src *Image, r image.Rectangle, border Border) *Image {
	r = r.Canon()
	dst := newImage(r.Dx(), r.Dy())
	dst.Scale, dst.Source = src.Scale, src.Source
	if dst.Width == 0 || dst.Height == 0 || src.Width == 0 || src.Height == 0 {
		return dst
	}
	// The columns of r that lie inside src: copied in one go per row.
	x0, x1 := max(r.Min.X, 0), min(r.Max.X, src.Width)
	for y := range dst.Height {
		sy := y + r.Min.Y
		row := dst.Pix[y*dst.Stride : y*dst.Stride+3*dst.Width]
		if border == BorderConstant && (sy < 0 || sy >= src.Height) {
			continue // already black
		}
		sy = min(max(sy, 0), src.Height-1)
		srow := src.Pix[sy*src.Stride : sy*src.Stride+3*src.Width]
		if x0 < x1 {
			copy(row[3*(x0-r.Min.X):], srow[3*x0:3*x1])
		}
		if border != BorderReplicate {
			continue
		}
		for x := range dst.Width {
			sx := x + r.Min.X
			if sx >= 0 && sx < src.Width {
				continue
			}
			sx = min(max(sx, 0), src.Width-1)
			copy(row[3*x:3*x+3], srow[3*sx:3*sx+3])
		}
	}
	return dst
}
