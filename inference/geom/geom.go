// Package geom holds the small geometric types the inference stages pass
// between them: points, boxes and detections, in pixels of the decoded image.
package geom

import "math"

// Point is a 2-D position in pixels.
type Point struct{ X, Y float32 }

// Box is an axis-aligned rectangle in pixels; (X1, Y1) is the top-left corner.
type Box struct{ X1, Y1, X2, Y2 float32 }

func (b Box) W() float32    { return b.X2 - b.X1 }
func (b Box) H() float32    { return b.Y2 - b.Y1 }
func (b Box) Area() float32 { return max(b.W(), 0) * max(b.H(), 0) }
func (b Box) Center() Point { return Point{(b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2} }
func (b Box) Scale(f float32) Box {
	return Box{b.X1 * f, b.Y1 * f, b.X2 * f, b.Y2 * f}
}

// Grow widens the box by fx·W on the left and right and fy·H on top and
// bottom, around its centre.
func (b Box) Grow(fx, fy float32) Box {
	dx, dy := b.W()*fx, b.H()*fy
	return Box{b.X1 - dx, b.Y1 - dy, b.X2 + dx, b.Y2 + dy}
}

// Clip limits the box to a w×h image.
func (b Box) Clip(w, h int) Box {
	c := func(v, hi float32) float32 { return float32(math.Min(math.Max(float64(v), 0), float64(hi))) }
	return Box{c(b.X1, float32(w)), c(b.Y1, float32(h)), c(b.X2, float32(w)), c(b.Y2, float32(h))}
}

// IoU is the intersection over union of two boxes.
func (b Box) IoU(o Box) float32 {
	in := Box{max(b.X1, o.X1), max(b.Y1, o.Y1), min(b.X2, o.X2), min(b.Y2, o.Y2)}.Area()
	u := b.Area() + o.Area() - in
	if u <= 0 {
		return 0
	}
	return in / u
}

// Detection is one face found by the detector, with its five keypoints in
// YuNet's order: subject's right eye, left eye, nose tip, right and left
// mouth corners (the subject's right is the image's left on a frontal face).
type Detection struct {
	Box
	Score     float32
	Keypoints [5]Point
}
