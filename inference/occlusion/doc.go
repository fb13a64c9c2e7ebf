// Package occlusion scores how much of a face is covered (a mask, a hand),
// 0 (clear) .. 1 (covered), from the per-point confidences of OpenSeeFace's
// 66-point model (lm_model0): a landmark hidden under a mask or a hand is
// found with low heatmap confidence.
//
// Method, as measured on ../shared/faces (largest face of every image, boxes
// from inference/detect): absolute confidences drift with image quality (a
// dark or blurred face lowers every point), so the cue is relative: the ratio
// R = mean confidence of the 18 mouth points / mean confidence of the 12 eye
// points. Measured R: face masks 0.51 (r14) and 0.63 (e115); hands over the
// mouth 0.75 (e111) and 0.82 (e109); clear faces 0.87 (r01) .. 1.0, most
// 0.90-0.97; the ~16-px tiny face 0.64 (a finding: it is flagged occluded).
//
// Mapping (monotone, piecewise linear): R ≥ ClearRatio (1.0) → 0;
// R = FlagRatio (0.845, midway between the highest hand 0.82 and the lowest
// clear face 0.87) → 0.9, DESIGN.md's occluded threshold; R ≤ CoveredRatio
// (0.70) → 1. The margin is narrow (0.05 of R on each side); with 4 occluded
// and ~40 clear faces measured, treat it as a first calibration.
//
// The model takes N>1 batches: all faces of a batch go through one run.
package occlusion
