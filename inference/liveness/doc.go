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
//     RGB /255; softmax index 0 = real. The folder's INT8 file
//     (best_model_quantized.onnx, dynamic quantisation) is not faster here:
//     11.6-11.8 against 10.8-11.1 ms per run, one thread, same run (dynamic
//     integer convolutions; this CPU has AVX2 but no VNNI), so fp32 stays.
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
// rotation < 30°); the paper mask passes all three models, as DESIGN.md
// warned, and the context cues below do not catch it either. Near misses
// (not misses): s08 print cut-out 0.678 and s101 phone over face 0.569 sit
// just under the 0.7 threshold; outside the real/spoof groups, the live
// 6%-brightness e12 scores 0.695 (Spoof).
//
// # Context cues: measured, left out
//
// inference/cue decodes M-LSD tiny 320 (long straight segments; FrameSides
// counts the sides of the face box with a long segment running alongside it
// within one face width) and PP-PicoDet-S 320 (tv, laptop, cell phone and
// book boxes; DeviceAround is the best such box holding the face centre).
// TestContextCues in inference/ measures both on every labelled face (real
// and spoof groups, plus the one-face edge images, all live people) and
// applies THE RULE over the whole set, never per image: a cue's threshold
// is the lowest that flags no bona fide face; the cue is wired into the
// fusion only if it then flags an attack the face models accept. Measured
// (engine verdict, FrameSides at segment length ≥ 0.15/0.25/0.35 of the
// short side — identical at all three — and DeviceAround ≥ 0.2):
//
//	face                      verdict  live   frame  device
//	s02 replay tablet         Spoof    0.002  3      tv 0.21
//	s03 replay tablet         Spoof    0.004  3      tv 0.38
//	s07 replay monitor        Spoof    0.025  3      laptop 0.43
//	s05 paper mask            Real     0.986  2      -
//	s08 print cut-out         Spoof    0.678  2      -
//	s01 print                 Spoof    0.002  1      -
//	s101 phone over face      Spoof    0.569  1      -
//	r03 bona fide (sfas T1)   Real     1.000  2      -
//	r131 boy, captain's cap   Real     0.996  0      cell phone 0.47
//	r128 hands on cheeks      Real     1.000  0      cell phone 0.26
//	other 31 live faces       -        -      0-1    -
//
//	cue     threshold  bona fide flagged  attacks flagged  of them accepted
//	frame   > 2 sides  0                  3 (s02 s03 s07)  0
//	device  > 0.47     0                  0                0
//
// Decision: neither cue is wired. The frame cue separates the three screen
// replays (3 framed sides) from every live face (at most 2), but the face
// models already reject those three; the paper mask s05, the one attack
// accepted, has 2 framed sides, as many as the live r03, so catching it
// would reject a live face. The device cue scores two live faces higher
// (a cap and hands read as a cell phone, 0.47 and 0.26) than any attack
// (0.43 at most), so at a zero-false-reject threshold it flags nothing.
// They would also cost more CPU than the rest of the engine together
// (BenchmarkModels: M-LSD ~55 ms, PicoDet ~35-45 ms per image under load,
// against ~70 ms for everything else). Revisit with more screen and mask
// attacks: the frame cue's 3-side separation is the one promising signal.
package liveness
