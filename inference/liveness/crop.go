package liveness

import (
	"math"

	"liveness/inference/geom"
	"liveness/internal/imagefile"
)

// Each model sees the face exactly as it was trained to: the crop rules and
// tensor layouts below follow the models' SOURCE.txt line by line, because a
// different crop or channel order moves the scores more than any fusion can
// correct.

// minivisionRect is minivision's CropImage box (src/generate_patches.py): the
// detector box scaled by s = min((H-1)/h, (W-1)/w, scale) around its centre,
// then SHIFTED (not clipped) back inside the image. It returns the inclusive
// pixel rectangle [l, r] × [t, b] after Python's int() truncation.
func minivisionRect(b geom.Box, w, h int, scale float64) (l, t, r, bt int) {
	bw, bh := float64(b.W()), float64(b.H())
	if bw <= 0 || bh <= 0 {
		return 0, 0, 0, 0
	}
	s := min((float64(h)-1)/bh, (float64(w)-1)/bw, scale)
	nw, nh := bw*s, bh*s
	cx, cy := float64(b.X1)+bw/2, float64(b.Y1)+bh/2
	x0, y0, x1, y1 := cx-nw/2, cy-nh/2, cx+nw/2, cy+nh/2
	if x0 < 0 {
		x1 -= x0
		x0 = 0
	}
	if y0 < 0 {
		y1 -= y0
		y0 = 0
	}
	if x1 > float64(w-1) {
		x0 -= x1 - float64(w-1)
		x1 = float64(w - 1)
	}
	if y1 > float64(h-1) {
		y0 -= y1 - float64(h-1)
		y1 = float64(h - 1)
	}
	return int(x0), int(y0), int(x1), int(y1)
}

// minivisionTensor writes the 80×80 minivision input of one face into dst
// (3·80·80 floats): BGR planes, raw 0..255, no normalisation, crop resized
// with OpenCV-style bilinear (INTER_LINEAR, no pre-filter, as the reference).
func minivisionTensor(img *imagefile.Image, b geom.Box, scale float64, dst []float32) {
	l, t, r, bt := minivisionRect(b, img.Width, img.Height, scale)
	l, t = max(l, 0), max(t, 0)
	r, bt = min(r, img.Width-1), min(bt, img.Height-1)
	src := window{img: img, x0: l, y0: t, w: max(r-l+1, 1), h: max(bt-t+1, 1)}
	bilinearCHW(src, minivisionSize, dst, [3]int{2, 1, 0}, 1)
}

// suriRect is the SURI crop (src/inference/preprocess.py): a square of side
// int(1.5·max(w,h)) around the box centre, its corner truncated with int().
func suriRect(b geom.Box) (x0, y0, side int) {
	m := float64(max(b.W(), b.H()))
	c := b.Center()
	side = int(m * suriExpand)
	x0 = int(float64(c.X) - m*suriExpand/2)
	y0 = int(float64(c.Y) - m*suriExpand/2)
	return x0, y0, max(side, 1)
}

// suriTensor writes the 128×128 SURI input of one face into dst: RGB planes,
// /255; the square crop's outside is filled by reflection (BORDER_REFLECT_101)
// and shrunk by area averaging (INTER_AREA). Upscaling (a face under ~85 px)
// uses bilinear where the reference uses Lanczos-4: a small difference on
// faces that are below the model's stated 64-px minimum anyway.
func suriTensor(img *imagefile.Image, b geom.Box, dst []float32) {
	x0, y0, side := suriRect(b)
	src := window{img: img, x0: x0, y0: y0, w: side, h: side, reflect: true}
	if side >= suriSize {
		areaCHW(src, suriSize, dst, [3]int{0, 1, 2}, 1.0/255)
	} else {
		bilinearCHW(src, suriSize, dst, [3]int{0, 1, 2}, 1.0/255)
	}
}

// window is a rectangle of an image; pixels outside the image are clamped to
// the edge, or reflected without repeating the edge (OpenCV REFLECT_101).
type window struct {
	img     *imagefile.Image
	x0, y0  int
	w, h    int
	reflect bool
}

// col and row map window coordinates to image coordinates per the border rule.
func (w window) col(x int) int { return w.edge(w.x0+x, w.img.Width) }
func (w window) row(y int) int { return w.edge(w.y0+y, w.img.Height) }

func (w window) edge(i, n int) int {
	if w.reflect {
		return reflect101(i, n)
	}
	return min(max(i, 0), n-1)
}

func reflect101(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*n - 2 - i
		}
	}
	return i
}

// bilinearCHW resizes the window to size×size like cv2.resize INTER_LINEAR
// (pixel centres aligned, edge clamped inside the window) and writes planes in
// the order given by order (index of the RGB channel for plane 0, 1, 2),
// multiplied by mul.
func bilinearCHW(src window, size int, dst []float32, order [3]int, mul float32) {
	fx, fy := float64(src.w)/float64(size), float64(src.h)/float64(size)
	plane := size * size
	// Resolve the border rule once per column and row (window.at per
	// sample was most of this function's time).
	type tap struct {
		o0, o1 int // byte offsets of the two source pixels in a row
		w      float32
	}
	xs := make([]tap, size)
	for x := range xs {
		x0, x1, wx := linearTap(x, fx, src.w)
		xs[x] = tap{3 * src.col(x0), 3 * src.col(x1), wx}
	}
	stride := src.img.Stride
	for y := range size {
		y0, y1, wy := linearTap(y, fy, src.h)
		r0, r1 := src.img.Pix[src.row(y0)*stride:], src.img.Pix[src.row(y1)*stride:]
		for x, t := range xs {
			for p, c := range order {
				top := float32(r0[t.o0+c])*(1-t.w) + float32(r0[t.o1+c])*t.w
				bot := float32(r1[t.o0+c])*(1-t.w) + float32(r1[t.o1+c])*t.w
				dst[p*plane+y*size+x] = (top*(1-wy) + bot*wy) * mul
			}
		}
	}
}

func linearTap(d int, f float64, n int) (i0, i1 int, w float32) {
	s := (float64(d)+0.5)*f - 0.5
	if s <= 0 {
		return 0, 0, 0
	}
	i0 = int(s)
	if i0 >= n-1 {
		return n - 1, n - 1, 0
	}
	return i0, i0 + 1, float32(s - float64(i0))
}

// areaCHW shrinks the window to size×size by exact area averaging
// (cv2 INTER_AREA for a downscale): each output pixel is the mean of the
// source pixels it covers, partly covered pixels weighted by their coverage.
//
// The order of every sum is that of the straightforward version kept in
// crop_test.go (areaCHWReference), so the outputs are bit for bit the
// same; the taps sit in flat arrays and the partial sums in channel
// planes, which takes ~25% less time (BenchmarkAreaCHW).
func areaCHW(src window, size int, dst []float32, order [3]int, mul float32) {
	cols := flatten(areaTaps(src.w, size)) // per output column: its source columns
	rows := invert(areaTaps(src.h, size), src.h)
	plane := size * size
	acc := make([]float32, 3*plane)
	hs := make([]float32, 3*size) // one source row, shrunk horizontally, per channel
	// Source column byte offsets, resolved once: the border rule per pixel
	// and channel cost as much as the averaging itself.
	xoff := make([]int, src.w)
	for x := range xoff {
		xoff[x] = 3 * src.col(x)
	}
	h0, h1, h2 := hs[:size], hs[size:2*size], hs[2*size:]
	for sy := range src.h {
		row := src.img.Pix[src.row(sy)*src.img.Stride:]
		// The horizontal pass once per source row, then its share of
		// each output row it covers (a row on a boundary covers two).
		for dx := range size {
			var s0, s1, s2 float32
			for k := cols.start[dx]; k < cols.start[dx+1]; k++ {
				o, w := xoff[cols.i[k]], cols.w[k]
				px := row[o : o+3 : o+3]
				s0 += float32(px[0]) * w
				s1 += float32(px[1]) * w
				s2 += float32(px[2]) * w
			}
			h0[dx], h1[dx], h2[dx] = s0, s1, s2
		}
		for _, ry := range rows[sy] {
			o := ry.i * size
			for c, hc := range [3][]float32{h0, h1, h2} {
				a := acc[c*plane+o : c*plane+o+size]
				for dx, v := range hc[:len(a)] {
					a[dx] += v * ry.w
				}
			}
		}
	}
	for p, c := range order {
		out, in := dst[p*plane:(p+1)*plane], acc[c*plane:(c+1)*plane]
		for i, v := range in {
			out[i] = v * mul
		}
	}
}

// flatTaps is [][]tap in flat arrays: output d's taps are
// i[start[d]:start[d+1]] with weights w[start[d]:start[d+1]].
type flatTaps struct {
	start, i []int
	w        []float32
}

func flatten(byDst [][]tap) flatTaps {
	f := flatTaps{start: make([]int, 1, len(byDst)+1)}
	for _, taps := range byDst {
		for _, t := range taps {
			f.i = append(f.i, t.i)
			f.w = append(f.w, t.w)
		}
		f.start = append(f.start, len(f.i))
	}
	return f
}

type tap struct {
	i int
	w float32
}

// areaTaps returns, for n source pixels shrunk to m, the source pixels of
// each output pixel with their coverage weights (summing to 1).
func areaTaps(n, m int) [][]tap {
	scale := float64(n) / float64(m)
	byDst := make([][]tap, m)
	for d := range m {
		lo, hi := float64(d)*scale, float64(d+1)*scale
		for s := int(math.Floor(lo)); s < int(math.Ceil(hi)) && s < n; s++ {
			if cover := min(hi, float64(s+1)) - max(lo, float64(s)); cover > 1e-9 {
				byDst[d] = append(byDst[d], tap{s, float32(cover / scale)})
			}
		}
	}
	return byDst
}

// invert turns output→source taps into source→output taps.
func invert(byDst [][]tap, n int) [][]tap {
	bySrc := make([][]tap, n)
	for d, taps := range byDst {
		for _, t := range taps {
			bySrc[t.i] = append(bySrc[t.i], tap{d, t.w})
		}
	}
	return bySrc
}
