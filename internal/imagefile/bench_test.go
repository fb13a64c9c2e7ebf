package imagefile

import (
	"fmt"
	"image"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time. The build machine is shared
// (load far above its core count), so wall-clock ns/op swings 2×; CPU time
// spent per decode is the steadier figure and is reported as cpu-ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs f b.N times and reports CPU ns/op next to the wall-clock ns/op.
func loop(b *testing.B, f func() error) {
	b.Helper()
	start := cpuTime()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// Benchmark inputs are generated, never committed: a 12 MP phone-sized
// capture and a 640×480 webcam frame, with smooth shading plus noise so the
// JPEG carries realistic entropy (a flat image decodes unrealistically fast).
var (
	benchOnce  sync.Once
	benchJPEGs map[string][]byte
)

func benchInputs(b *testing.B) map[string][]byte {
	benchOnce.Do(func() {
		benchJPEGs = map[string][]byte{
			"12MP":       encodeJPEG(b, synthetic(4000, 3000, 24), 90),
			"12MPsmooth": encodeJPEG(b, synthetic(4000, 3000, 4), 90),
			"640x480":    encodeJPEG(b, synthetic(640, 480, 24), 90),
		}
	})
	return benchJPEGs
}

// synthetic: noise is the per-pixel noise amplitude; 24 gives a ~4 MB 12 MP
// file (like a phone photo, Huffman decoding dominates), 4 a ~1.5 MB one.
func synthetic(w, h, noise int) *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			v := 128 + 60*((x*7/w+y*5/h)%3-1) + (x*97/w)%40 + rng.IntN(noise)
			m.Y[m.YOffset(x, y)] = uint8(min(max(v, 0), 255))
		}
	}
	for i := range m.Cb {
		m.Cb[i] = uint8(110 + i%37)
		m.Cr[i] = uint8(140 - i%29)
	}
	return m
}

// BenchmarkDecode compares the pure-Go path (image/jpeg, then Resize) with
// libjpeg-turbo (DCT-scaled when reduced), through the public Decode.
func BenchmarkDecode(b *testing.B) {
	in := benchInputs(b)
	for _, name := range []string{"12MP", "12MPsmooth", "640x480"} {
		data := in[name]
		for _, maxSide := range []int{0, 2000, 640, 320} {
			for _, path := range []struct {
				name string
				opts []Option
			}{{"go", []Option{pureGo()}}, {"turbo", nil}} {
				b.Run(fmt.Sprintf("%s/max%d/%s", name, maxSide, path.name), func(b *testing.B) {
					opts := append(path.opts, WithMaxSide(maxSide))
					b.SetBytes(int64(len(data)))
					loop(b, func() error { _, err := Decode(data, opts...); return err })
				})
			}
		}
	}
}

// BenchmarkDecodePNG compares image/png (then toRGB) with libspng on the
// labelled set's PNG captures, from the 1 MB studio photo down.
func BenchmarkDecodePNG(b *testing.B) {
	for _, rel := range []string{"real/r119_woman_business_suit_studio.png", "edge/e07_mixed_real_and_phone_replay_annotated.png",
		"spoof/s03_hyperfas_replay_tablet.png", "real/r07_lin_manuel_mouth_open.png"} {
		data := readFace(b, rel)
		for _, path := range []struct {
			name string
			opts []Option
		}{{"go", []Option{pureGo()}}, {"spng", nil}} {
			b.Run(fmt.Sprintf("%s/%s", filepath.Base(rel)[:3], path.name), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				loop(b, func() error { _, err := Decode(data, path.opts...); return err })
			})
		}
	}
}

// BenchmarkResize is the non-JPEG reduction: 12 MP RGB to 640 px.
func BenchmarkResize(b *testing.B) {
	src := gradient(4000, 3000)
	loop(b, func() error { Resize(src, 640, 480); return nil })
}
