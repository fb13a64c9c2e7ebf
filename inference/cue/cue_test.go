package cue

import (
	"testing"

	"liveness/inference/geom"
)

func seg(x1, y1, x2, y2 float32) Segment {
	return Segment{geom.Point{X: x1, Y: y1}, geom.Point{X: x2, Y: y2}}
}

// A face framed like a screen (bezel edges just outside it on all four
// sides) counts 4; short, far, inside or slanted segments count nothing.
func TestFrameSides(t *testing.T) {
	face := geom.Box{X1: 200, Y1: 150, X2: 300, Y2: 270} // 100×120 in a 640×480 image
	frame := []Segment{
		seg(150, 100, 150, 330), // left, vertical, 50 px out
		seg(360, 100, 362, 330), // right, nearly vertical
		seg(150, 100, 360, 100), // top
		seg(150, 330, 360, 330), // bottom
	}
	if got := FrameSides(frame, face, 640, 480, 0.25); got != 4 {
		t.Errorf("framed face: %d sides, want 4", got)
	}
	for name, s := range map[string]Segment{
		"short":   seg(150, 180, 150, 240), // 60 px < 0.25·480
		"far":     seg(20, 100, 20, 330),   // 180 px left of a 100-px face
		"inside":  seg(250, 100, 250, 330), // crosses the face
		"slanted": seg(100, 100, 190, 330), // ~21° off vertical
		"beside":  seg(150, 280, 150, 470), // below the face's vertical span
	} {
		if got := FrameSides([]Segment{s}, face, 640, 480, 0.25); got != 0 {
			t.Errorf("%s segment: %d sides, want 0", name, got)
		}
	}
}

func TestDeviceAround(t *testing.T) {
	face := geom.Box{X1: 200, Y1: 150, X2: 300, Y2: 270}
	devs := []Device{
		{Box: geom.Box{X1: 0, Y1: 0, X2: 100, Y2: 100}, Class: "tv", Score: 0.9},             // elsewhere
		{Box: geom.Box{X1: 240, Y1: 200, X2: 260, Y2: 220}, Class: "cell phone", Score: 0.8}, // smaller than the face
		{Box: geom.Box{X1: 150, Y1: 100, X2: 400, Y2: 400}, Class: "laptop", Score: 0.5},     // holds it
	}
	if s, c := DeviceAround(devs, face); s != 0.5 || c != "laptop" {
		t.Errorf("DeviceAround = %v %q, want 0.5 laptop", s, c)
	}
	if s, _ := DeviceAround(devs[:2], face); s != 0 {
		t.Errorf("no device holds the face, got %v", s)
	}
}

func TestDFL(t *testing.T) {
	if got := dfl([]float32{0, 0, 0, 0, 0, 0, 0, 0}); got != 3.5 {
		t.Errorf("uniform bins: %v, want 3.5", got)
	}
	if got := dfl([]float32{-50, -50, 50, -50, -50, -50, -50, -50}); got < 1.99 || got > 2.01 {
		t.Errorf("peaked at bin 2: %v", got)
	}
}
