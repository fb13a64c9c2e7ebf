// Package inference is the face-liveness inference engine: given image bytes
// it returns the scan of DESIGN.md (result, flags, per-face measurements).
//
// Stages, each run over the images (or faces) of one chunk: decode
// (imagefile, libjpeg-turbo DCT-scaled), detect (YuNet at 640 px), landmarks
// (slim160), then the per-face stages of stages.go (liveness, eyes,
// occlusion), then the pure-Go measurements (measure.go) and the decision
// (decide.go). New opens every model from the manifest, so every engine
// has every stage.
//
// CPU vs CUDA: Analyze hands chunks of MaxBatch images to Workers
// goroutines. On CPU the defaults are one image per model run, one worker
// per core and one intra-op thread per session; on CUDA, four workers each
// run an even share of the call as true N>1 tensors. On an H200 (README
// "CUDA"; the models opened with models.CUDAOptions, TF32 off, cuDNN's
// heuristic search) BenchmarkEngine640x480 gave 56.6 images/s one image
// per call, 124.2 for one worker of N=16, 263.2 for 16-image calls on four
// workers and 460.1 for two such calls at once (the processor's default),
// with the CPU's results (processor eval identical; in the first check,
// with one worker and the exhaustive search, every scan's liveness within
// 0.021 of the CPU's).
//
// On CPU, measured on the 2-core build machine while shared (load average
// in brackets: it rose from 5.8 to 10.7 during the run, so read the rows
// against their load), CPU ms per 640×480 single-face image
// (BenchmarkEngine640x480; wall figures follow the load):
//
//	strategy                               cpu-ms/img  images/s  RSS MB
//	Analyze(1) serially                    66.3        10.4      142  (5.8)
//	Analyze(16), 2 workers, N=1 (default)  79.5         7.4      178  (7.6)
//	Analyze(1) from 2 goroutines           73.1         7.0      177  (7.9)
//	Analyze(16), 1 worker, 2 threads, N=1  76.6         7.7      263 (10.2)
//	Analyze(16), 2 workers, N=8            76.2         4.6      982 (10.8)
//	Analyze(16), 1 worker, N=16            95.7         4.0     1218 (10.7)
//
// N>1 tensors cost no less CPU per image on CPU and keep far more memory,
// and a second intra-op thread costs more CPU for no wall gain when the
// other core is busy anyway. The arena is on for N=1 sessions (20-30% less
// CPU per run in BenchmarkModels) and off where runs are batched: it keeps
// the largest batch's peak for good (the 982/1218 MB above, measured on
// N=1 sessions driven at N=8/16). Two workers side by side cost ~13% more
// CPU per image than one alone at equal load (66.7 against 75.4 at load
// 3.7-3.8 in an earlier run: the cores share caches).
//
// Where the CPU went (issue #3: the stages cost about twice the models'
// quiet-machine times). BenchmarkStages feeds each model again the exact
// tensors its stage gave it: our pre- and post-processing is 6-9 ms of an
// image's ~70 (detect 1.0-1.3, landmarks 0.6-0.8, liveness 2.8-4.5, eyes
// 0.3-0.4, occlusion 1.3-1.8); the rest is ONNX Runtime's own runs, which
// under this machine's load take about twice their quiet-machine times
// (ours and onnxruntime-node's alike: the same library). Inside the runs
// (ORT profile) two patterns were waste, both rewritten when a CPU session
// is opened, outputs equal to float rounding (inference/onnx tests; the
// liveness scores move by < 1e-6 over ../shared/faces,
// TestPReluRewriteKeepsScores, so the calibration stands):
//
//   - PRelu (33 in each anti-spoof model, 53 in iris): the CPU's blocked
//     NCHWc layout does not support it, so each cost a reorder out of the
//     layout and back besides its broadcast multiply; onnx.WithPReluAsRelu
//     writes it as x + Relu((a−1)·x) (x + (1−a)·Relu(−x) where a slope
//     exceeds 1), all layout-friendly.
//   - the 66-point model's 27 hard-swish gates, Add 3 → Clip 0..6 → Div 6:
//     onnx.WithHardSigmoid makes each one HardSigmoid.
//
// BenchmarkSessions, all variants in one loop at load ~5, CPU ms per image,
// shipped → rewritten: MiniFASNetV2 5.8 → 4.1, MiniFASNetV1SE 4.8 → 3.1,
// SURI-128 9.9 → 7.2, iris (two runs) 10.5-12.6 → 6.0-7.7, 66-point
// 8.1-9.0 → 7.5-8.4. Also measured there and not kept: inputs pinned to
// the fed shape (onnx.WithFixedInputs) gain nothing on any model (ORT
// re-plans nothing per call at a stable shape), and optimisation level
// "extended" (no NCHWc) costs 1.1-2.3× more. Whole engine, both engines in
// turn (BenchmarkEngineCompare, load 5.2-5.4, twice): 65.7 CPU ms per
// image with the rewrites, 78.5-79.3 without (−17%); 14.4 images/s
// against 10.5-12.6.
//
// Before and after, the engine as it was (commit 3e1b341) and as it is,
// test binaries run in turn at load 4.4-5.2, CPU ms per 640×480 image:
// Analyze(1) serially 81.6/75.3/83.9 → 75.2/60.8/59.9 (−19% on the means),
// the default Analyze(16) with 2 workers 74.2/80.8 → 61.1/72.7 (15.5/8.3
// → 19.4/14.0 images/s); RSS 123-165 MB before, 134-178 MB after (all
// models loaded). Per stage, means of the three serial pairs: eyes 11.8 →
// 7.0, liveness 25.2 → 18.2, landmarks 4.8 → 4.2, occlusion 10.2 → 9.5,
// detect 21.9 → 20.3 (unchanged work: load), decode 1.5, measure 0.5.
//
// Per stage now (Analyze(1) serially, thread CPU ms per image, load 5.8;
// before the rewrites at load ~6 in brackets): decode 1.5 (1.5), detect
// 20.4 (19.1), landmarks 4.2 (4.3), liveness 19.4 (23.6, three models),
// eyes 7.0 (11.2, two iris runs), occlusion 9.6 (9.4), measure 0.5 (0.5).
// Detection, now the largest stage, is all YuNet's own convolutions; at
// 320 or 480 px it breaks the liveness calibration (see inference/detect).
// Issue #3, second round (CPU per 640×480 image without moving the
// calibration). The ORT profile of each model showed three more graphs
// off the blocked layout, each rewritten when a session is opened, the
// liveness scores unchanged bit for bit over ../shared/faces and APCER /
// BPCER as before (14.3% / 8.0%):
//
//   - the 68-point model lists its 152 weights among its graph inputs
//     (IR 4), so ORT folded no BatchNormalization, fused no Relu and left
//     every Conv in plain NCHW; onnx.WithConstantInitializers makes them
//     constants (BenchmarkSessionConfig, load ~3: 3.9 → 1.4 ms per run;
//     landmarks move by at most 0.0005 px, pose by < 1e-4°, eye closure
//     by < 3e-6, no flag);
//   - the iris model pads channels with a Concat of a batch-1
//     ConstantOfShape, which pinned its batch: onnx.DynamicBatch makes it
//     a Pad, and the eye stage runs both eyes of a face as one N=2 tensor
//     (7.2 → 6.1 ms per face, outputs bit for bit);
//   - the 66-point model's two Resize nodes compute their sizes in the
//     graph, which kept them (and their reorders) out of the layout; the
//     manifest's resizeScales gives them constant scales
//     (onnx.ResizeScales; 9.4 → 8.7 ms per run, heatmaps within 4e-7).
//
// Before and after, the test binaries of commit abb2c80 and of this one
// alternating four times under one flock at load 3.1-3.7, default
// strategy (Analyze(16), 2 workers, N=1), CPU ms per image: 74.1 / 68.4
// / 77.0 / 67.2 → 69.5 / 66.1 / 69.1 / 60.7 (means 71.7 → 66.3, −7.4%;
// −2.3 to −7.9 ms pair by pair), 23.2 / 27.9 / 14.8 / 18.3 → 27.3 /
// 28.1 / 18.8 / 31.2 images/s; per stage (means) landmarks 4.9 → 2.2,
// eyes 7.6 → 6.7, occlusion 10.4 → 9.7, the rest unchanged. Measured and
// not kept (BenchmarkSessionConfig, one run at load ~2, each within ±4%
// of the engine's session and of a second copy of it, none better on
// more than one model): "session.set_denormal_as_zero",
// "session.disable_prepacking", memory pattern off; the iris-like
// rewrite of the 66-point model's channel-multiplier-4 depthwise Conv
// (Gather + plain depthwise, so it joins the blocked layout) gained
// nothing over the Resize rewrite alone (8.70 against 8.72 ms).
//
// Issue #3, third round. The ORT profile of each model, one thread, showed
// where CPU still went to layouts rather than arithmetic, and three more
// rewrites remove it, the scores unchanged to float rounding (liveness
// within 1.2e-6, occlusion within 2.2e-6, every other field of every scan
// of ../shared/faces identical; processor eval as before):
//
//   - the anti-spoof models were pruned to channel counts such as 13, 103,
//     231 and 308; their depthwise convolutions then ran as grouped im2col
//     convolutions off the blocked layout, with a reorder around each:
//     onnx.WithPaddedChannels widens those chains to whole blocks with zero
//     weights (SURI 9.8 → 6.2 ms per run, MiniFASNetV2 4.1 → 2.7, V1SE 3.5
//     → 2.7);
//   - the 66-point model computes 132 offset maps besides its 66 heatmaps,
//     through two grouped convolutions that stay off the blocked layout; the
//     occlusion stage reads only the heatmaps, so the manifest keeps those
//     (onnx.OutputChannels: 7.8 → 5.0 ms per run, heatmaps bit for bit);
//   - the iris model's iris branch, whose output the eyes stage does not
//     read, is dropped (onnx.KeptOutputs: 5.4 → 4.7 ms per run).
//
// Also the occlusion crop's normalisation lost two divisions per value.
// Before and after, the test binaries of commit fa7e83e and of commit
// 0aa2df3 alternating four times under one flock (load 1.3-1.7), default
// strategy, CPU ms per image: 72.4 / 59.3 / 68.9 / 60.9 → 54.7 / 50.8 /
// 53.5 / 56.9 (means 65.4 → 54.0, −17%), 24.1 / 32.1 / 27.7 / 31.4 →
// 35.0 / 37.7 / 35.8 / 33.5 images/s (target 35; then eight runs of
// 0aa2df3 in one process: 36.8 / 31.1 / 31.0 / 38.5 / 37.5 / 36.0 / 39.7
// / 38.5, median 37.2, the two at 31 at 62 CPU ms per image against
// 48.6-53.5 for the rest); one image at a time
// 14.6 / 16.8 / 12.7 / 15.6 → 20.3 / 21.5 / 18.5 / 17.4 images/s. Per stage
// (an earlier pair of the same binaries) liveness 19.2 → 13.7, occlusion
// 9.1 → 5.7, eyes 6.3 → 5.5, detect 21.6 → 19.8 (the same work). 12 MP captures: 16.7 → 18.4 images/s
// (115 → 105 CPU ms; decoding is 42 of them). RSS with every model
// loaded: 166-174 MB.
//
// What is left is mostly arithmetic: YuNet at 640×480 is 15-21 ms of
// convolutions, its 1×1 layers at ~75 GFLOP/s on one core, near this
// CPU's peak, and detection at 608 px or less already changes the face
// count and flips r09 and s08 (processor eval with DETECT_MAX_SIDE 512,
// 544, 576, 608). The machine's own speed drifts by ±15% from one minute
// to the next, more than the margin over the target, so a single run may
// land under 35.
package inference

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"liveness/inference/detect"
	"liveness/inference/eyes"
	"liveness/inference/geom"
	"liveness/inference/landmarks"
	"liveness/inference/liveness"
	"liveness/inference/models"
	"liveness/inference/occlusion"
	"liveness/inference/onnx"
	"liveness/internal/imagefile"
	"liveness/internal/scan"
)

// Config configures the engine. Zero values take the defaults noted.
type Config struct {
	ModelsDir      string          // default ../shared/models
	LibraryPath    string          // ONNX Runtime library; default onnx.DefaultLibraryPath()
	Device         onnx.Device     // cpu (default) or cuda
	ConvSearch     onnx.ConvSearch // cuDNN's algorithm search on cuda; default heuristic
	IntraOpThreads int             // per session; default 1 (workers use the cores)
	Workers        int             // concurrent workers per Analyze; default NumCPU on CPU, 4 on CUDA
	MaxBatch       int             // images per model run; default 1 on CPU, on CUDA (or -1) the call split evenly over the workers
	MaxPixels      int64           // decompression-bomb limit; default imagefile.DefaultMaxPixels
	DecodeMaxSide  int             // long side images are decoded to; default 1280
	DetectMaxSide  int             // long side for detection; default detect.DefaultMaxSide
	MinScore       float32         // detector score floor; default detect.DefaultMinScore
	Thresholds     *Thresholds     // default DefaultThresholds()

	shippedGraphs bool // benchmarks: the models as shipped, without the CPU rewrite
}

// DefaultModelsDir is MODELS_DIR's default, relative to the repository root.
const DefaultModelsDir = "../shared/models"

// DefaultCUDAWorkers is the engine's workers on CUDA: each runs its share of
// a call as N-image tensors, so one worker's host work (decode, crops,
// output decoding: ~11 CPU ms per image) overlaps the others' models.
const DefaultCUDAWorkers = 4

// Result is the analysis of one image, or the error that stopped it (an
// undecodable image fails alone, never the batch).
type Result struct {
	Analysis      scan.Analysis
	Width, Height int // upright original size
	Err           error
}

// Engine holds the loaded models; it is safe for concurrent use.
type Engine struct {
	cfg      Config
	th       Thresholds
	manifest *models.Manifest
	sessions []*onnx.Session
	det      *detect.Detector
	lm       *landmarks.Landmarker
	stages   []faceStage
	timings  *Timings
}

// New initialises ONNX Runtime (once per process) and loads every model.
func New(cfg Config) (*Engine, error) {
	cfg = withDefaults(cfg)
	if err := onnx.Init(onnx.Options{LibraryPath: cfg.LibraryPath, Device: cfg.Device, ConvSearch: cfg.ConvSearch, IntraOpThreads: cfg.IntraOpThreads, InterOpThreads: 1}); err != nil {
		return nil, err
	}
	m, err := models.Load()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, th: *cfg.Thresholds, manifest: m, timings: newTimings()}
	if err := e.load(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func withDefaults(c Config) Config {
	if c.ModelsDir == "" {
		c.ModelsDir = DefaultModelsDir
	}
	if c.Device == "" {
		c.Device = onnx.DeviceCPU
	}
	if c.IntraOpThreads <= 0 {
		c.IntraOpThreads = 1
	}
	if c.Workers <= 0 {
		c.Workers = runtime.NumCPU()
		if c.Device == onnx.DeviceCUDA {
			c.Workers = DefaultCUDAWorkers
		}
	}
	if c.MaxBatch < 0 || c.MaxBatch == 0 && c.Device == onnx.DeviceCUDA {
		c.MaxBatch = 0 // the call split evenly: true N>1 tensors where they pay
	} else if c.MaxBatch == 0 {
		c.MaxBatch = 1
	}
	if c.DecodeMaxSide <= 0 {
		c.DecodeMaxSide = 1280
	}
	if c.DetectMaxSide <= 0 {
		c.DetectMaxSide = detect.DefaultMaxSide
	}
	if c.MinScore <= 0 {
		c.MinScore = detect.DefaultMinScore
	}
	if c.Thresholds == nil {
		t := DefaultThresholds()
		c.Thresholds = &t
	}
	return c
}

func (e *Engine) open(name string) (*onnx.Session, error) {
	spec, err := e.manifest.Spec(name)
	if err != nil {
		return nil, err
	}
	s, err := spec.Open(e.cfg.ModelsDir, e.sessionOptions()...)
	if err != nil {
		return nil, err
	}
	e.sessions = append(e.sessions, s)
	return s, nil
}

// sessionOptions: the engine's thread count on every session, and on CPU
// the memory arena when runs are single images (BenchmarkModels: 20-30%
// less CPU per run; its peak is then one image's, so resident memory stays
// small; with N>1 runs it would keep the largest batch's peak for good),
// then the device's options (models.DeviceOptions: the CPU graph rewrites,
// or CUDA's optimisation level).
func (e *Engine) sessionOptions() []onnx.OpenOption {
	opts := []onnx.OpenOption{onnx.WithThreads(e.cfg.IntraOpThreads)}
	if e.cfg.Device == onnx.DeviceCPU {
		opts = append(opts, onnx.WithCPUArena(e.cfg.MaxBatch == 1))
		if e.cfg.shippedGraphs {
			return opts
		}
	}
	return append(opts, models.DeviceOptions(e.cfg.Device)...)
}

func (e *Engine) load() error {
	yunet, err := e.open(models.Detector)
	if err != nil {
		return err
	}
	e.det = detect.New(yunet, detect.WithMinScore(e.cfg.MinScore), detect.WithMaxSide(e.cfg.DetectMaxSide))
	slim, err := e.open(models.Landmarks68)
	if err != nil {
		return err
	}
	e.lm = landmarks.New(slim)
	var lv liveness.Models
	for name, dst := range map[string]*liveness.Model{models.FASNetV2: &lv.V2, models.FASNetV1SE: &lv.V1SE, models.Suri128: &lv.Suri} {
		s, err := e.open(name)
		if err != nil {
			return err
		}
		*dst = s
	}
	scorer, err := liveness.New(lv)
	if err != nil {
		return err
	}
	iris, err := e.open(models.Iris)
	if err != nil {
		return err
	}
	osf, err := e.open(models.Landmarks66)
	if err != nil {
		return err
	}
	e.stages = []faceStage{livenessStage{scorer}, eyesStage{eyes.New(iris)}, occlusionStage{occlusion.New(osf)}}
	return nil
}

// Manifest is the model set the engine loaded.
func (e *Engine) Manifest() *models.Manifest { return e.manifest }

// ModelVersion identifies the model set, for ScanResult.ModelVersion.
func (e *Engine) ModelVersion() string { return e.manifest.Version() }

// Thresholds are the decision thresholds in use.
func (e *Engine) Thresholds() Thresholds { return e.th }

// Timings are the cumulative per-stage timings since New.
func (e *Engine) Timings() *Timings { return e.timings }

// Close releases every session.
func (e *Engine) Close() error {
	var errs []error
	for _, s := range e.sessions {
		errs = append(errs, s.Close())
	}
	e.sessions = nil
	return errors.Join(errs...)
}

// Analyze scans every image. The error is for the whole call (a cancelled
// context, a model failure); per-image problems are in Result.Err.
//
// Workers goroutines take chunks of MaxBatch images from the call in turn
// until none is left: on CPU one image at a time per worker (a slow image
// does not hold up a fixed half of the batch), on CUDA an even share of the
// call each (true N>1 tensors, the workers' host work beside each other's
// models).
func (e *Engine) Analyze(ctx context.Context, images [][]byte) ([]Result, error) {
	out := make([]Result, len(images))
	if len(images) == 0 {
		return out, ctx.Err()
	}
	chunk := e.cfg.MaxBatch
	if chunk <= 0 {
		chunk = (len(images) + e.cfg.Workers - 1) / e.cfg.Workers
	}
	chunk = min(chunk, len(images))
	chunks := (len(images) + chunk - 1) / chunk
	workers := min(e.cfg.Workers, chunks)
	errs := make([]error, workers)
	var next atomic.Int64
	work := func(w int) {
		// One OS thread per worker, so its thread CPU clock measures the
		// stages it runs (ONNX Runtime runs on the calling thread).
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= len(images) {
				return
			}
			hi := min(lo+chunk, len(images))
			if err := e.analyze(ctx, images[lo:hi], out[lo:hi]); err != nil {
				errs[w] = err
				return
			}
		}
	}
	if workers <= 1 {
		work(0)
		return out, errs[0]
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// analyze runs the stages over one sub-batch, batched.
func (e *Engine) analyze(ctx context.Context, images [][]byte, out []Result) error {
	imgs := e.decode(images, out)
	var ok []int // indices of decoded images
	for i, im := range imgs {
		if im != nil {
			ok = append(ok, i)
		}
	}
	if len(ok) == 0 {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	batch := make([]*imagefile.Image, len(ok))
	for k, i := range ok {
		batch[k] = imgs[i]
	}
	t0 := e.timings.start()
	dets, err := e.det.Detect(batch)
	e.timings.add("detect", t0, len(batch))
	if err != nil {
		return err
	}
	faces := e.collect(batch, dets)
	if err := e.faceStages(ctx, faces); err != nil {
		return err
	}
	e.finish(ok, batch, dets, faces, out)
	return nil
}

// decode decodes every image, in parallel when there are several;
// failures land in out[i].Err.
func (e *Engine) decode(images [][]byte, out []Result) []*imagefile.Image {
	imgs := make([]*imagefile.Image, len(images))
	one := func(i int) {
		t0 := e.timings.start()
		defer e.timings.add("decode", t0, 1)
		im, err := imagefile.Decode(images[i], imagefile.WithMaxSide(e.cfg.DecodeMaxSide), imagefile.WithMaxPixels(e.cfg.MaxPixels))
		if err != nil {
			out[i].Err = err
			return
		}
		imgs[i] = im
		out[i].Width, out[i].Height = im.Source.Width, im.Source.Height
	}
	if len(images) == 1 {
		one(0) // on the worker's own thread: no goroutine, exact CPU time
		return imgs
	}
	var wg sync.WaitGroup
	for i := range images {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // for the thread CPU clock
			defer runtime.UnlockOSThread()
			one(i)
		}()
	}
	wg.Wait()
	return imgs
}

// collect orders each image's detections largest first (the primary face
// leads) and makes one faceInput per face.
func (e *Engine) collect(batch []*imagefile.Image, dets [][]geom.Detection) []faceInput {
	var faces []faceInput
	for k, im := range batch {
		d := dets[k]
		sort.SliceStable(d, func(a, b int) bool { return d[a].Area() > d[b].Area() })
		for _, det := range d {
			faces = append(faces, faceInput{Image: im, Detection: det, Face: &scan.Face{}})
		}
	}
	return faces
}

// faceStages runs landmarks, then every FaceStage, over the faces. With
// several faces and several workers, two goroutines take half the faces
// each: a lone multi-face capture (below full load, the other core idle)
// is the slowest kind, 2-3 faces at ~30 ms each after detection, and was
// the tail of the pipeline's latency (the six slowest images of
// ../shared/faces, 137-165 ms against a 77 ms median). At full load the
// cores are busy either way, so the split costs nothing there.
func (e *Engine) faceStages(ctx context.Context, faces []faceInput) error {
	if len(faces) < 2 || e.cfg.Workers < 2 || e.cfg.MaxBatch != 1 {
		return e.runFaceStages(ctx, faces)
	}
	half := (len(faces) + 1) / 2
	var errs [2]error
	var wg sync.WaitGroup
	for k, part := range [2][]faceInput{faces[:half], faces[half:]} {
		wg.Go(func() {
			runtime.LockOSThread() // for the thread CPU clock of the timings
			defer runtime.UnlockOSThread()
			errs[k] = e.runFaceStages(ctx, part)
		})
	}
	wg.Wait()
	return errors.Join(errs[:]...)
}

// runFaceStages runs landmarks, then every FaceStage, over faces at once.
func (e *Engine) runFaceStages(ctx context.Context, faces []faceInput) error {
	if len(faces) == 0 {
		return nil
	}
	in := make([]landmarks.Face, len(faces))
	for i, f := range faces {
		in[i] = landmarks.Face{Image: f.Image, Box: f.Detection.Box}
	}
	t0 := e.timings.start()
	lms, err := e.lm.Run(in)
	e.timings.add("landmarks", t0, len(faces))
	if err != nil {
		return err
	}
	for i := range faces {
		faces[i].Landmarks = &lms[i]
	}
	for _, s := range e.stages {
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := e.timings.start()
		err := s.Run(ctx, faces)
		e.timings.add(s.Name(), t0, len(faces))
		if err != nil {
			return fmt.Errorf("inference: stage %s: %w", s.Name(), err)
		}
	}
	return nil
}

// finish measures every face, maps it to original pixels and decides.
func (e *Engine) finish(ok []int, batch []*imagefile.Image, dets [][]geom.Detection, faces []faceInput, out []Result) {
	t0 := e.timings.start()
	next := 0
	for k, i := range ok {
		n := len(dets[k])
		mine := faces[next : next+n]
		next += n
		sf := make([]scan.Face, n)
		boundary := make([]bool, n)
		for j, f := range mine {
			e.measure(f)
			sf[j] = *f.Face
			boundary[j] = NearBoundary(f.Detection.Box, batch[k].Width, batch[k].Height, e.th.BoundaryMargin)
		}
		out[i].Analysis = Decide(sf, boundary, e.th)
	}
	e.timings.add("measure", t0, len(faces))
}

// measure fills the computed fields of one face and its geometry in
// original-image pixels.
func (e *Engine) measure(f faceInput) {
	s := f.Image.Scale
	lm := f.Landmarks
	face := f.Face
	b := f.Detection.Box
	face.X1, face.Y1 = int(float64(b.X1)*s+0.5), int(float64(b.Y1)*s+0.5)
	face.X2, face.Y2 = int(float64(b.X2)*s+0.5), int(float64(b.Y2)*s+0.5)
	face.Yaw, face.Pitch, face.Roll = clampPose(lm.Yaw), clampPose(lm.Pitch), clampPose(lm.Roll)
	face.Landmarks68 = make([]float32, 0, scan.LandmarkCount)
	for _, p := range lm.Points {
		face.Landmarks68 = append(face.Landmarks68, float32(float64(p.X)*s), float32(float64(p.Y)*s))
	}
	face.MouthOpened = MouthOpening(&lm.Points)
	face.EyeDistance = EyeDistance(&lm.Points, s)
	face.FaceLuminance = Luminance(f.Image, b)
	face.FaceQuality = Quality(QualityInputs{
		Sharpness: Sharpness(f.Image, b), Luminance: face.FaceLuminance, EyeDistance: face.EyeDistance,
		Yaw: lm.Yaw, Pitch: lm.Pitch, Roll: lm.Roll, Score: float64(f.Detection.Score),
	})
}

// clampPose keeps the pose in the contract's −45…45 degrees; the flags use
// it too, and anything beyond 10° is notFront either way.
func clampPose(v float64) float64 { return max(-45, min(45, v)) }

// Timings accumulate per-stage wall time, CPU time and item counts.
type Timings struct {
	mu    sync.Mutex
	total map[string]time.Duration
	cpu   map[string]time.Duration
	items map[string]int
}

func newTimings() *Timings {
	return &Timings{total: map[string]time.Duration{}, cpu: map[string]time.Duration{}, items: map[string]int{}}
}

// mark is a stage's start: wall clock and the calling thread's CPU clock
// (the caller is locked to its OS thread).
type mark struct {
	wall time.Time
	cpu  time.Duration
}

func (t *Timings) start() mark { return mark{time.Now(), threadCPU()} }

func (t *Timings) add(stage string, m mark, n int) {
	d, c := time.Since(m.wall), threadCPU()-m.cpu
	t.mu.Lock()
	t.total[stage] += d
	t.cpu[stage] += c
	t.items[stage] += n
	t.mu.Unlock()
}

// StageTiming is one stage's cumulative wall time, CPU time (of the
// threads that ran it: on a loaded machine the steadier figure) and item
// count (images for decode and detect, faces for the others).
type StageTiming struct {
	Stage string
	Total time.Duration
	CPU   time.Duration
	Items int
}

// Snapshot returns the timings so far, in pipeline order.
func (t *Timings) Snapshot() []StageTiming {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []StageTiming
	for s, d := range t.total {
		out = append(out, StageTiming{s, d, t.cpu[s], t.items[s]})
	}
	order := map[string]int{"decode": 0, "detect": 1, "landmarks": 2, "liveness": 3, "measure": 9}
	sort.Slice(out, func(a, b int) bool {
		oa, ob := order[out[a].Stage], order[out[b].Stage]
		if _, ok := order[out[a].Stage]; !ok {
			oa = 5
		}
		if _, ok := order[out[b].Stage]; !ok {
			ob = 5
		}
		return oa < ob
	})
	return out
}

// Reset zeroes the timings.
func (t *Timings) Reset() {
	t.mu.Lock()
	t.total, t.cpu, t.items = map[string]time.Duration{}, map[string]time.Duration{}, map[string]int{}
	t.mu.Unlock()
}
