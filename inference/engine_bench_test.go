package inference

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"liveness/inference/internal/modeltest"
	"liveness/inference/onnx"
	"liveness/internal/faceset"
	"liveness/internal/imagefile"
)

// Benchmarks (make bench; go test -run '^$' -bench Engine -benchtime 64x
// ./inference/): 640×480 single-face captures and a 12 MP capture through
// the whole engine, each strategy in the same run:
//
//	batch1               one-image Analyze calls, one after another
//	batch16-w2-n1        Analyze(16 images), 2 workers, one image per model run (the CPU default)
//	single-x2            one-image Analyze calls from 2 goroutines (the processor's other option)
//	batch16-w1-n1-t2     Analyze(16), 1 worker, 2 intra-op threads per session
//	batch16-w2-n8        Analyze(16), 2 workers of 8-image runs (the previous default)
//	batch16-w1-n16       Analyze(16), 1 worker, true N=16 tensors (what CUDA does)
//
// With INFERENCE_DEVICE=cuda (modeltest.Device) the variants are instead
// batchB-wW-nN: calls of B images, W workers of true N-image tensors on
// the GPU (see benchCapture).
//
// Reported: cpu-ms/img (process CPU time per image, getrusage: the primary
// figure on a shared machine), images/s (wall), <stage>-cpu-ms/img (thread
// CPU clock of each stage per image), RSS-MB, load1. The N>1 variants run
// last: a session's arena keeps the largest batch's peak. Figures are in
// the package doc.

// captureJPEG renders a face image at w×h (centre crop to the aspect, then
// resize) as a JPEG; generated at run time, never committed.
func captureJPEG(b *testing.B, w, h int) []byte {
	data, err := os.ReadFile(filepath.Join(faceset.Dir(), "real/r124_selfie_man_glasses_frontal_indoor.jpg"))
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
	if e.cfg.Device == onnx.DeviceCUDA {
		// One worker of true N-image tensors, the engine's CUDA strategy.
		// Calls of `batch` images, `w` workers of n-image tensors each: one
		// worker, then several sharing the GPU (the host side of one
		// worker's chunk overlaps another's models); x2, two calls at once
		// (the processor's two batches in flight).
		for _, v := range []struct{ batch, w, x int }{{1, 1, 1}, {16, 1, 1}, {64, 1, 1}, {16, 4, 1}, {16, 4, 2}, {64, 4, 1}, {64, 8, 1}, {128, 8, 1}} {
			n := v.batch / v.w
			name := fmt.Sprintf("batch%d-w%d-n%d", v.batch, v.w, n)
			if v.x > 1 {
				name += fmt.Sprintf("-x%d", v.x)
			}
			b.Run(name, func(b *testing.B) { run(b, e, img, v.batch, v.w, n, v.x) })
		}
		return
	}
	b.Run("batch1", func(b *testing.B) { run(b, e, img, 1, 1, 1, 1) })
	b.Run("batch16-w2-n1", func(b *testing.B) { run(b, e, img, 16, 2, 1, 1) })
	b.Run("single-x2", func(b *testing.B) { run(b, e, img, 1, 1, 1, 2) })
	b.Run("batch16-w1-n1-t2", func(b *testing.B) {
		t2, err := New(Config{ModelsDir: modeltest.ModelsDir(), IntraOpThreads: 2, Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		defer t2.Close()
		run(b, t2, img, 16, 1, 1, 1)
	})
	b.Run("batch16-w2-n8", func(b *testing.B) { run(b, e, img, 16, 2, 8, 1) })
	b.Run("batch16-w1-n16", func(b *testing.B) { run(b, e, img, 16, 1, 16, 1) })
}

// run analyses b.N images in calls of batch images, the engine using workers
// workers of maxBatch-image model runs, from goroutines concurrent callers.
func run(b *testing.B, e *Engine, img []byte, batch, workers, maxBatch, goroutines int) {
	saved := e.cfg
	e.cfg.Workers, e.cfg.MaxBatch = workers, maxBatch
	defer func() { e.cfg = saved }()
	imgs := make([][]byte, batch)
	for i := range imgs {
		imgs[i] = img
	}
	calls := max(1, b.N/batch/goroutines)
	e.timings.Reset()
	cpu0 := cpuTime()
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
	b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(n), "cpu-ms/img")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
	for _, st := range e.timings.Snapshot() {
		b.ReportMetric(float64(st.CPU.Microseconds())/1000/float64(n), st.Stage+"-cpu-ms/img")
	}
	b.ReportMetric(rssMB(), "RSS-MB")
	b.ReportMetric(loadAvg(), "load1")
}

// BenchmarkEngineCompare runs the default engine and one with the models
// as shipped (no PRelu rewrite) in turn, 16-image Analyze calls each, so
// both see the same load: process CPU ms and wall images/s per engine.
// go test -run '^$' -bench EngineCompare -benchtime 64x ./inference/
func BenchmarkEngineCompare(b *testing.B) {
	img := captureJPEG(b, 640, 480)
	cur := testEngine(b)
	shipped, err := New(Config{ModelsDir: modeltest.ModelsDir(), shippedGraphs: true})
	if err != nil {
		b.Fatal(err)
	}
	defer shipped.Close()
	imgs := make([][]byte, 16)
	for i := range imgs {
		imgs[i] = img
	}
	engines := []*Engine{cur, shipped}
	var cpu, wall [2]time.Duration
	load0 := loadAvg()
	calls := max(1, b.N/len(imgs))
	b.ResetTimer()
	for c := 0; c < calls; c++ {
		for k, e := range engines {
			c0, w0 := cpuTime(), time.Now()
			if _, err := e.Analyze(context.Background(), imgs); err != nil {
				b.Fatal(err)
			}
			cpu[k] += cpuTime() - c0
			wall[k] += time.Since(w0)
		}
	}
	n := float64(calls * len(imgs))
	for k, name := range []string{"default", "shipped"} {
		b.ReportMetric(float64(cpu[k])/1e6/n, name+"-cpu-ms/img")
		b.ReportMetric(n/wall[k].Seconds(), name+"-images/s")
	}
	b.ReportMetric((load0+loadAvg())/2, "load1")
	b.ReportMetric(rssMB(), "RSS-MB")
}

// loadAvg is the 1-minute load average, reported next to the wall figures.
func loadAvg() float64 {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// cpuTime is the process's user+system CPU time: on a shared machine wall
// time swings with the load, CPU time spent per image does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
