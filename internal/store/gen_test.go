package store

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// genScan builds a plausible, fully populated scan from rng: 0, 1 or 2 faces
// with landmarks, millisecond timestamps, every enum value in turn. Times are
// whole milliseconds, the precision the store keeps.
func genScan(rng *rand.Rand, company uuid.UUID, i int) scan.ScanResult {
	created := time.Date(2026, time.Month(1+i%12), 1+i%28, i%24, i%60, i%60, 0, time.UTC).
		Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
	nFaces := []int{1, 1, 1, 0, 2}[i%5]
	faces := make([]scan.Face, nFaces)
	for j := range faces {
		faces[j] = genFace(rng)
	}
	result := scan.ResultReal
	switch {
	case nFaces == 0:
		result = scan.ResultNoFace
	case nFaces > 1:
		result = scan.ResultMultipleFace
	case i%2 == 1:
		result = scan.ResultSpoof
	}
	sr := scan.ScanResult{
		Scan: scan.Scan{
			ID:           uuid.New(),
			CompanyID:    company,
			CreatedDate:  created,
			CreatedByID:  fmt.Sprintf("client-%d", i%7),
			Reference:    fmt.Sprintf("contract-%06d", i),
			ElapsedTime:  rng.Float64() * 3,
			SalesChannel: scan.Channels[i%len(scan.Channels)],
			Analysis: scan.Analysis{
				EyeClosed:     i%3 == 0,
				LivenessScore: rng.Float64(),
				Luminance:     scan.Luminances[i%len(scan.Luminances)],
				MouthOpened:   i%4 == 0,
				Quality:       scan.Qualities[i%len(scan.Qualities)],
				Result:        result,
				BoundaryFace:  i%5 == 0,
				NotFront:      i%6 == 0,
				Occluded:      i%7 == 0,
				Small:         i%8 == 0,
				Faces:         faces,
			},
		},
		ModelVersion: "sha256:0123abcd",
		ImageWidth:   640 + i%3,
		ImageHeight:  480 + i%5,
		Version:      1,
	}
	if nFaces == 0 {
		sr.Luminance, sr.Quality = "", "" // nothing measured
	}
	if i%10 == 9 { // an analyst's update
		u := created.Add(90*time.Minute + 123*time.Millisecond)
		by := "analyst@example.com"
		sr.UpdatedDate, sr.UpdatedByID, sr.Version = &u, &by, 2
	}
	return sr
}

func genFace(rng *rand.Rand) scan.Face {
	x1, y1 := rng.IntN(300), rng.IntN(200)
	lm := make([]float32, scan.LandmarkCount)
	for k := range lm {
		lm[k] = float32(x1) + rng.Float32()*200
	}
	return scan.Face{
		X1: x1, Y1: y1, X2: x1 + 100 + rng.IntN(200), Y2: y1 + 120 + rng.IntN(200),
		Liveness: rng.Float64(), Yaw: rng.Float64()*90 - 45, Roll: rng.Float64()*90 - 45, Pitch: rng.Float64()*90 - 45,
		FaceQuality: rng.Float64(), FaceLuminance: rng.Float64() * 255, EyeDistance: 40 + rng.Float64()*100,
		LeftEyeClosed: rng.Float64(), RightEyeClosed: rng.Float64(), FaceOcclusion: rng.Float64(), MouthOpened: rng.Float64(),
		Landmarks68: lm,
	}
}
