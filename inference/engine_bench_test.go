package inference

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"liveness/internal/imagefile"
)

// Benchmarks (go test -run '^$' -bench Engine -benchtime 64x ./inference/):
// images/s for 640×480 single-face captures and a 12 MP capture, as one
// Analyze of 1 image, one of 16 (true N=16 tensors, one worker), one of 16
// split over one worker per core, and one-image Analyze calls from one
// goroutine per core; ms per stage per image; resident memory.

// captureJPEG renders a face image at w×h (centre crop to the aspect, then
// resize) as a JPEG; generated at run time, never committed.
func captureJPEG(b *testing.B, w, h int) []byte {
	data, err := os.ReadFile(filepath.Join(testFacesDir(), "real/r124_selfie_man_glasses_frontal_indoor.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	im, err := imagefile.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	cw, ch := im.Width, im.Width*h/w
	if ch > im.Height {
		cw, ch = im.Height*w/h, im.Height
	}
	crop := imagefile.Crop(im, image.Rect((im.Width-cw)/2, (im.Height-ch)/2, (im.Width+cw)/2, (im.Height+ch)/2), imagefile.BorderReplicate)
	out := imagefile.Resize(crop, w, h)
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bb := out.RGBAt(x, y)
			i := rgba.PixOffset(x, y)
			rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], rgba.Pix[i+3] = r, g, bb, 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkEngine640x480(b *testing.B) {
	benchCapture(b, captureJPEG(b, 640, 480))
}

func BenchmarkEngine12MP(b *testing.B) {
	benchCapture(b, captureJPEG(b, 4000, 3000))
}

func benchCapture(b *testing.B, img []byte) {
	e := testEngine(b)
	res, err := e.Analyze(context.Background(), [][]byte{img})
	if err != nil || res[0].Err != nil || len(res[0].Analysis.Faces) != 1 {
		b.Fatalf("benchmark capture: %v %v %+v", err, res[0].Err, res[0].Analysis.Result)
	}
	cores := runtime.NumCPU()
	b.Run("batch1", func(b *testing.B) { run(b, e, img, 1, 1, 1) })
	b.Run("batch16", func(b *testing.B) { run(b, e, img, 16, 1, 1) })
	b.Run("batch16-workers"+strconv.Itoa(cores), func(b *testing.B) { run(b, e, img, 16, cores, 1) })
	b.Run("single-x"+strconv.Itoa(cores)+"-goroutines", func(b *testing.B) { run(b, e, img, 1, 1, cores) })
}

// run analyses b.N images in calls of batch images, with the engine split
// into workers sub-batches, from goroutines concurrent callers.
func run(b *testing.B, e *Engine, img []byte, batch, workers, goroutines int) {
	saved := e.cfg.Workers
	e.cfg.Workers = workers
	defer func() { e.cfg.Workers = saved }()
	imgs := make([][]byte, batch)
	for i := range imgs {
		imgs[i] = img
	}
	calls := max(1, b.N/batch/goroutines)
	e.timings.Reset()
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := 0; c < calls; c++ {
				if _, err := e.Analyze(context.Background(), imgs); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	n := calls * batch * goroutines
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
	for _, st := range e.timings.Snapshot() {
		b.ReportMetric(float64(st.Total.Microseconds())/1000/float64(n), st.Stage+"-ms/img")
	}
	b.ReportMetric(rssMB(), "RSS-MB")
}

func rssMB() float64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
