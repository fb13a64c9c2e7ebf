// Package liveness scores how likely a detected face is a live person
// (bona fide) rather than a presentation attack, from three anti-spoof models
// fused into one calibrated score 0..1. The engine calls Scorer.Score once per
// batch with every face of the batch: one N>1 run per model.
//
// # Models and pre-processing (each exactly as its SOURCE.txt)
//
//   - MiniFASNetV2: minivision CropImage at scale 2.7 (box scaled around its
//     centre, shifted back inside the image, not clipped), 80×80 bilinear,
//     BGR, raw 0..255; softmax index 1 = real.
//   - MiniFASNetV1SE: the same at scale 4.0.
//   - SURI MiniFASNetV2SE-128 (fp32): square crop of 1.5·max(w,h) around the
//     box centre, outside filled by reflection (REFLECT_101), INTER_AREA to
//     128×128 (bilinear when enlarging, where the reference uses Lanczos-4),
//     RGB /255; softmax index 0 = real.
//
// Port check (port_test.go): on the reference's boxes recipe (YuNet-n on the
// full image, largest face) our scores stay within 0.15 of
// models/REFERENCE_SCORES.tsv on all 22 rows of images up to 1200 px (largest
// difference 0.12, r06, minivision mean). On 2 MP frames YuNet-n at full size
// picks face fragments (it finds faces of ~10-300 px), so the reference's
// SURI scores there (s05 0.998, s08 0.148, r133 0.575) come from other boxes;
// the engine detects at 640 px, where the whole face is found.
//
// # Fusion and threshold: the rule
//
// Over the labelled set ../shared/faces (MANIFEST.tsv groups real = bona fide,
// 25 faces; spoof = attacks, 7 faces; the largest face of each image, decoded
// at the engine's 1280-px long side, boxes from inference/detect), each
// candidate fusion in Candidates gets the threshold (a midpoint between
// consecutive scores) that minimises ACER = (APCER+BPCER)/2, ties broken by
// the lower BPCER, then by the wider margin; the candidate with the lowest
// ACER wins under the same tie-breaks. Calibrate implements the rule and
// TestAcceptance checks that it still picks the shipped fusion. Measured
// (go test ./inference/liveness -run TestAcceptance -v):
//
//	candidate              raw thr  margin  APCER  BPCER  ACER
//	logit-mean             0.8381   0.0265  14.3%   8.0%  11.1%   ← chosen
//	max3                   0.9713   0.0062  14.3%   8.0%  11.1%
//	mean3                  0.7418   0.0174  14.3%  12.0%  13.1%
//	min(minivision,SURI)   0.6317   0.0096  14.3%  12.0%  13.1%
//	SURI-128               0.9703   0.0052  14.3%  12.0%  13.1%
//	MiniFASNetV2           0.8902   0.0404   0.0%  28.0%  14.0%
//	min3                   0.5333   0.0583  14.3%  16.0%  15.1%
//	minivision-mean        0.7753   0.0101  14.3%  20.0%  17.1%
//	MiniFASNetV1SE         0.7502   0.0221  28.6%  16.0%  22.3%
//
// logit-mean (sigmoid of the mean log-odds of the three "real"
// probabilities: logistic fusion with equal weights; fitted weights would only
// memorise 32 faces) and max3 tie on ACER and BPCER; logit-mean wins on
// margin. (On full-resolution decodes max3 won narrowly instead, margin
// 0.008: the ranking at the top is that fragile.) The raw score is mapped by
// Calibrated, piecewise linear and monotone, so that the raw threshold 0.8381
// lands on DESIGN.md's 0.7: Fused ≥ 0.7 ⇔ logit-mean ≥ 0.8381.
//
// Caveats: 32 labelled faces and margins of a few hundredths make the
// threshold fragile (another detector box moves single scores by more).
// Recalibrate when the detector, the decode size or the set changes; the
// test fails when the rule's choice moves.
//
// # Misses at the shipped threshold (findings, not tuned away)
//
//	real/r02_cameraman_profile.png   bona fide rejected  fused 0.296 (V2 0.007, V1SE 0.008, SURI 1.000)
//	real/r15_profile_left.jpeg       bona fide rejected  fused 0.451 (V2 0.478, V1SE 0.388, SURI 0.736)
//	spoof/s05_mi_paper_mask_2d.jpg   attack accepted     fused 0.986 (V2 0.850, V1SE 0.992, SURI 1.000)
//
// BPCER 8.0% (2/25), APCER 14.3% (1/7): the acceptance bounds (10%, 30%)
// hold. Both rejected bona fide faces are profiles (minivision warns: face
// rotation < 30°); the paper mask passes all three models, as DESIGN.md warned.
//
// # Context cues
//
// inference/context (M-LSD edges, PicoDet device boxes) was not built or
// measured in this round: the face models alone meet the acceptance bounds,
// and the one attack they miss is a paper mask worn on the face. Whether the
// cues catch it without hurting real faces is an open measurement.
package liveness
