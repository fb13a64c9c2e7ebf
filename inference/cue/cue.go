// Package cue measures context around a face that the face anti-spoof
// models do not see: long straight edges framing the face (M-LSD tiny 320:
// a screen bezel, a paper border) and device boxes around it (PP-PicoDet-S
// 320, COCO: tv, laptop, cell phone, book).
//
// Pre- and post-processing follow each model's SOURCE.txt: the whole image
// resized plainly to 320×320 (no letterbox); M-LSD takes NHWC RGB 0..255
// plus a constant-1 channel and returns a peak map and segment offsets on a
// 160 grid; PicoDet takes NCHW RGB with ImageNet normalisation and returns
// sigmoid class scores and 4×8-bin box distributions on strides 8..64.
//
// Whether the cues go into the liveness decision is measured, not assumed:
// see TestContextCues in inference/ for the table over ../shared/faces and
// the decision.
package cue

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"liveness/inference/geom"
	"liveness/inference/onnx"
	"liveness/internal/imagefile"
)

// Runner is what a cue needs of a model session (*onnx.Session).
type Runner interface {
	Run(inputs ...onnx.Tensor) ([]onnx.Tensor, error)
}

// ErrOutput: a model answered with tensors of an unexpected shape.
var ErrOutput = errors.New("cue: unexpected model output")

const (
	side        = 320
	lsdGrid     = 160
	lsdMinScore = 0.1
)

// Segment is a line segment in image pixels.
type Segment struct {
	A, B geom.Point
}

// Len is the segment's length in pixels.
func (s Segment) Len() float64 {
	return math.Hypot(float64(s.B.X-s.A.X), float64(s.B.Y-s.A.Y))
}

// Lines returns M-LSD's segments of the image, in its pixels.
func Lines(m Runner, img *imagefile.Image) ([]Segment, error) {
	small := imagefile.Resize(img, side, side)
	in := make([]float32, side*side*4)
	for y := range side {
		row := small.Pix[y*small.Stride:]
		for x := range side {
			o := (y*side + x) * 4
			in[o], in[o+1], in[o+2], in[o+3] = float32(row[3*x]), float32(row[3*x+1]), float32(row[3*x+2]), 1
		}
	}
	res, err := m.Run(onnx.Tensor{Shape: []int64{1, side, side, 4}, Data: in})
	if err != nil {
		return nil, fmt.Errorf("cue: M-LSD: %w", err)
	}
	if len(res) != 2 || len(res[0].Data) != lsdGrid*lsdGrid*4 || len(res[1].Data) != lsdGrid*lsdGrid {
		return nil, fmt.Errorf("%w: M-LSD", ErrOutput)
	}
	off, score := res[0].Data, res[1].Data
	sx, sy := float32(img.Width)/side, float32(img.Height)/side
	var segs []Segment
	for i, s := range score {
		if s <= lsdMinScore {
			continue
		}
		gx, gy := float32(i%lsdGrid), float32(i/lsdGrid)
		d := off[4*i : 4*i+4]
		segs = append(segs, Segment{
			A: geom.Point{X: (gx + d[0]) * 2 * sx, Y: (gy + d[1]) * 2 * sy},
			B: geom.Point{X: (gx + d[2]) * 2 * sx, Y: (gy + d[3]) * 2 * sy},
		})
	}
	return segs, nil
}

// FrameSides counts the sides of the face box (left, right, top, bottom)
// along which a long straight segment runs outside the face: at least
// minLen × the image's shorter side long, within 20° of that side's
// direction, beyond the face edge by no more than one face width (height),
// and overlapping at least half of the face's span along that side. A
// screen or a held print frames the face on 2-4 sides; a wall behind a
// live person rarely does so that closely.
func FrameSides(segs []Segment, face geom.Box, w, h int, minLen float64) int {
	short := float64(min(w, h))
	fw, fh := float64(face.W()), float64(face.H())
	var sides [4]bool
	for _, s := range segs {
		if s.Len() < minLen*short {
			continue
		}
		dx, dy := math.Abs(float64(s.B.X-s.A.X)), math.Abs(float64(s.B.Y-s.A.Y))
		mx, my := float64(s.A.X+s.B.X)/2, float64(s.A.Y+s.B.Y)/2
		lo, hi := float64(min(s.A.Y, s.B.Y)), float64(max(s.A.Y, s.B.Y))
		if dx < dy*math.Tan(20*math.Pi/180) && overlap(lo, hi, float64(face.Y1), float64(face.Y2)) >= fh/2 {
			if mx < float64(face.X1) && float64(face.X1)-mx <= fw {
				sides[0] = true
			}
			if mx > float64(face.X2) && mx-float64(face.X2) <= fw {
				sides[1] = true
			}
		}
		lo, hi = float64(min(s.A.X, s.B.X)), float64(max(s.A.X, s.B.X))
		if dy < dx*math.Tan(20*math.Pi/180) && overlap(lo, hi, float64(face.X1), float64(face.X2)) >= fw/2 {
			if my < float64(face.Y1) && float64(face.Y1)-my <= fh {
				sides[2] = true
			}
			if my > float64(face.Y2) && my-float64(face.Y2) <= fh {
				sides[3] = true
			}
		}
	}
	n := 0
	for _, s := range sides {
		if s {
			n++
		}
	}
	return n
}

func overlap(a0, a1, b0, b1 float64) float64 { return max(0, min(a1, b1)-max(a0, b0)) }

// COCO classes that show or carry a face in a presentation attack.
var deviceClasses = map[int]string{62: "tv", 63: "laptop", 67: "cell phone", 73: "book"}

// Device is one detected device box in image pixels.
type Device struct {
	Box   geom.Box
	Class string
	Score float32
}

var (
	picoMean = [3]float32{123.675, 116.28, 103.53}
	picoStd  = [3]float32{58.395, 57.12, 57.375}
	picoStr  = [4]int{8, 16, 32, 64}
)

// Devices returns PicoDet's device boxes scoring at least minScore, best
// first, after class-wise NMS (IoU 0.45).
func Devices(m Runner, img *imagefile.Image, minScore float32) ([]Device, error) {
	small := imagefile.Resize(img, side, side)
	plane := side * side
	in := make([]float32, 3*plane)
	for y := range side {
		row := small.Pix[y*small.Stride:]
		for x := range side {
			for c := range 3 {
				in[c*plane+y*side+x] = (float32(row[3*x+c]) - picoMean[c]) / picoStd[c]
			}
		}
	}
	res, err := m.Run(onnx.Tensor{Shape: []int64{1, 3, side, side}, Data: in})
	if err != nil {
		return nil, fmt.Errorf("cue: PicoDet: %w", err)
	}
	if len(res) != 8 {
		return nil, fmt.Errorf("%w: PicoDet has %d outputs, want 8", ErrOutput, len(res))
	}
	sx, sy := float32(img.Width)/side, float32(img.Height)/side
	var out []Device
	for l, s := range picoStr {
		g := side / s
		cls, reg := res[l].Data, res[4+l].Data
		if len(cls) != g*g*80 || len(reg) != g*g*32 {
			return nil, fmt.Errorf("%w: PicoDet level %d", ErrOutput, l)
		}
		for i := range g * g {
			for c, name := range deviceClasses {
				p := cls[i*80+c]
				if p < minScore {
					continue
				}
				cx, cy := (float32(i%g)+0.5)*float32(s), (float32(i/g)+0.5)*float32(s)
				var d [4]float32
				for k := range 4 {
					d[k] = dfl(reg[i*32+k*8:i*32+k*8+8]) * float32(s)
				}
				out = append(out, Device{Box: geom.Box{X1: (cx - d[0]) * sx, Y1: (cy - d[1]) * sy, X2: (cx + d[2]) * sx, Y2: (cy + d[3]) * sy}, Class: name, Score: p})
			}
		}
	}
	return nmsDevices(out, 0.45), nil
}

// dfl is the expected bin of a softmax over 8 bins (GFL's distribution).
func dfl(v []float32) float32 {
	mx := v[0]
	for _, x := range v {
		mx = max(mx, x)
	}
	var sum, acc float32
	for i, x := range v {
		e := float32(math.Exp(float64(x - mx)))
		sum += e
		acc += e * float32(i)
	}
	return acc / sum
}

func nmsDevices(d []Device, iou float32) []Device {
	sort.SliceStable(d, func(a, b int) bool { return d[a].Score > d[b].Score })
	var keep []Device
	for _, x := range d {
		ok := true
		for _, k := range keep {
			if k.Class == x.Class && k.Box.IoU(x.Box) > iou {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, x)
		}
	}
	return keep
}

// DeviceAround is the best score of a device box that holds the face: the
// face box's centre inside it and the device at least as large as the face.
func DeviceAround(devs []Device, face geom.Box) (float32, string) {
	c := face.Center()
	for _, d := range devs { // best first
		if c.X >= d.Box.X1 && c.X <= d.Box.X2 && c.Y >= d.Box.Y1 && c.Y <= d.Box.Y2 && d.Box.W()*d.Box.H() >= face.W()*face.H() {
			return d.Score, d.Class
		}
	}
	return 0, ""
}
