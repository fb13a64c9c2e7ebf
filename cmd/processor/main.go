// Command processor runs the inference side of the platform.
//
//	processor run                     consume captures, publish scan results
//	processor scan [--json] PATH...   scan image files or folders
//	processor eval MANIFEST.tsv       APCER/BPCER/ACER over a labelled set
//
// Each subcommand registers itself from its own file; all three build the
// same full engine with inference.New from engineFlags.
package main

import (
	"fmt"

	"liveness/inference"
	"liveness/inference/onnx"
	"liveness/internal/cli"
	"liveness/internal/config"
)

// commands is filled by each subcommand's file, so adding one touches one file.
var commands = map[string]cli.Command{}

func main() { cli.Main("processor", commands) }

// engineFlags binds the engine's configuration to environment variables and
// flags; every subcommand that loads the engine shares it.
type engineFlags struct {
	modelsDir, library, device string
	convSearch                 string
	threads, workers, maxBatch int
	decodeSide, detectSide     int
	maxPixels                  int64
	minScore                   float64
	th                         inference.Thresholds
}

func (f *engineFlags) register(s *config.Set) {
	d := inference.DefaultThresholds()
	s.String(&f.modelsDir, "MODELS_DIR", inference.DefaultModelsDir, "folder of the ONNX models (one subfolder per model)")
	s.String(&f.library, "ONNXRUNTIME_LIB", onnx.DefaultLibraryPath(), "path to libonnxruntime.so")
	s.String(&f.device, "INFERENCE_DEVICE", "cpu", "cpu or cuda")
	s.String(&f.convSearch, onnx.ConvSearchEnv, string(onnx.ConvSearchHeuristic), "cuDNN convolution algorithm search on cuda: HEURISTIC or EXHAUSTIVE")
	s.Int(&f.threads, "INFERENCE_THREADS", 1, "ONNX Runtime intra-op threads per session")
	s.Int(&f.workers, "INFERENCE_WORKERS", 0, "concurrent engine workers per batch (0: one per core on cpu, 4 on cuda)")
	s.Int(&f.maxBatch, "INFERENCE_MAX_BATCH", 0, "images per model run (0: 1 on cpu, on cuda the batch split evenly over the workers; -1: that split on cpu too)")
	s.Int(&f.decodeSide, "DECODE_MAX_SIDE", 1280, "long side images are decoded to")
	s.Int(&f.detectSide, "DETECT_MAX_SIDE", 640, "long side images are reduced to for face detection")
	s.Int64(&f.maxPixels, "MAX_PIXELS", 40_000_000, "largest image accepted, in pixels (decompression bombs)")
	s.Float(&f.minScore, "DETECT_MIN_SCORE", 0.5, "face detector score floor")
	s.Float(&f.th.Real, "THRESHOLD_REAL", d.Real, "livenessScore at or above which a face is Real")
	s.Float(&f.th.Pose, "THRESHOLD_POSE", d.Pose, "degrees of yaw, pitch or roll above which a face is notFront")
	s.Float(&f.th.Occluded, "THRESHOLD_OCCLUDED", d.Occluded, "faceOcclusion above which a face is occluded")
	s.Float(&f.th.EyeClosed, "THRESHOLD_EYE_CLOSED", d.EyeClosed, "eye closure above which eyeClosed is set")
	s.Float(&f.th.MouthOpened, "THRESHOLD_MOUTH_OPENED", d.MouthOpened, "mouth opening above which mouthOpened is set")
	s.Float(&f.th.SmallEyes, "THRESHOLD_SMALL_EYES", d.SmallEyes, "eye distance (px) below which a face is small")
	s.Float(&f.th.BoundaryMargin, "THRESHOLD_BOUNDARY", d.BoundaryMargin, "fraction of the image near an edge that makes boundaryFace")
	f.th.QualityMedium, f.th.QualityHigh, f.th.Dark, f.th.Light = d.QualityMedium, d.QualityHigh, d.Dark, d.Light
}

func (f *engineFlags) config() (inference.Config, error) {
	dev, err := onnx.ParseDevice(f.device)
	if err != nil {
		return inference.Config{}, fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	search, err := onnx.ParseConvSearch(f.convSearch)
	if err != nil {
		return inference.Config{}, fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	th := f.th
	return inference.Config{
		ModelsDir: f.modelsDir, LibraryPath: f.library, Device: dev, ConvSearch: search, IntraOpThreads: f.threads, Workers: f.workers, MaxBatch: f.maxBatch,
		DecodeMaxSide: f.decodeSide, DetectMaxSide: f.detectSide, MaxPixels: f.maxPixels, MinScore: float32(f.minScore),
		Thresholds: &th,
	}, nil
}
