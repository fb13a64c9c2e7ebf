//go:build cgo && !noturbojpeg

package imagefile

import (
	"encoding/binary"
	"errors"
	"image"
	"sync"
	"testing"
)

// libjpeg reports a truncated stream as a warning and fills the rest with
// grey; decodeTurbo must return it as an error, not an image.
func TestTurboTruncatedIsAnError(t *testing.T) {
	data := readFace(t, "edge/e13_truncated.jpg")
	in, err := Probe(data)
	if err != nil {
		t.Fatal(err)
	}
	sw, sh := in.storedSize()
	for _, target := range [][2]int{{sw, sh}, {sw / 4, sh / 4}} {
		m, err := decodeTurbo(data, sw, sh, target[0], target[1])
		if m != nil || !errors.Is(err, errTurboWarning) {
			t.Fatalf("target %v: image %v, err %v; want a warning error", target, m != nil, err)
		}
	}
}

func TestTurboScaleChoice(t *testing.T) {
	cases := []struct{ sw, sh, tw, th, want int }{
		{4000, 3000, 640, 480, 4}, // 1000x750 covers, 500x375 does not
		{4000, 3000, 500, 375, 8},
		{4000, 3000, 4000, 3000, 1},
		{4000, 3000, 2000, 1500, 2},
		{640, 480, 320, 240, 2},
	}
	for _, c := range cases {
		if got := scaleDenom(c.sw, c.sh, c.tw, c.th); got != c.want {
			t.Errorf("%+v: got 1/%d", c, got)
		}
	}
}

// One TurboJPEG handle per call: concurrent decodes of different images and
// sizes must give exactly what a lone decode gives (run with -race too).
func TestTurboConcurrent(t *testing.T) {
	inputs := [][]byte{
		withEXIF(encodeJPEG(t, quadrants(320, 240), 90), 6, binary.BigEndian),
		encodeJPEG(t, gradientRGBA(500, 300), 85),
		readFace(t, "real/r06_biden_portrait.jpg"),
	}
	sizes := []int{0, 100, 200}
	want := make(map[[2]int][]byte)
	for i, d := range inputs {
		for j, s := range sizes {
			m, err := Decode(d, WithMaxSide(s))
			if err != nil {
				t.Fatal(err)
			}
			want[[2]int{i, j}] = m.Pix
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 12 {
				i, j := (g+k)%len(inputs), (g*k)%len(sizes)
				m, err := Decode(inputs[i], WithMaxSide(sizes[j]))
				if err != nil {
					errs <- err
					return
				}
				if string(m.Pix) != string(want[[2]int{i, j}]) {
					errs <- errors.New("concurrent decode differs from a lone decode")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func gradientRGBA(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(x), uint8(y), uint8(x^y), 255
		}
	}
	return m
}
