package store

import (
	"fmt"
	"math"
	"strconv"

	"liveness/internal/scan"
)

// appendFacesJSON appends faces as encoding/json would marshal them, byte
// for byte (TestFacesJSONMatchesEncodingJSON), without its reflection: the
// sink maps every event this way, and json.Marshal's walk over 136
// landmarks a face cost it as much again as formatting the numbers
// (0.9 of 2.75 s CPU per 200k scans in the bench-query profile).
// NaN and ±Inf are refused, as encoding/json refuses them.
func appendFacesJSON(b []byte, faces []scan.Face) ([]byte, error) {
	if faces == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range faces {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendFace(b, &faces[i]); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

func appendFace(b []byte, f *scan.Face) ([]byte, error) {
	b = strconv.AppendInt(append(b, `{"x1":`...), int64(f.X1), 10)
	b = strconv.AppendInt(append(b, `,"y1":`...), int64(f.Y1), 10)
	b = strconv.AppendInt(append(b, `,"x2":`...), int64(f.X2), 10)
	b = strconv.AppendInt(append(b, `,"y2":`...), int64(f.Y2), 10)
	for _, fl := range [...]struct {
		key string
		v   float64
	}{
		{`,"liveness":`, f.Liveness}, {`,"yaw":`, f.Yaw}, {`,"roll":`, f.Roll}, {`,"pitch":`, f.Pitch},
		{`,"faceQuality":`, f.FaceQuality}, {`,"faceLuminance":`, f.FaceLuminance},
		{`,"eyeDistance":`, f.EyeDistance}, {`,"leftEyeClosed":`, f.LeftEyeClosed},
		{`,"rightEyeClosed":`, f.RightEyeClosed}, {`,"faceOcclusion":`, f.FaceOcclusion},
		{`,"mouthOpened":`, f.MouthOpened},
	} {
		var err error
		if b, err = appendFloat(append(b, fl.key...), fl.v, 64); err != nil {
			return nil, fmt.Errorf("%s %w", fl.key[2:len(fl.key)-2], err)
		}
	}
	b = append(b, `,"landmarks68":`...)
	if f.Landmarks68 == nil {
		return append(b, "null}"...), nil
	}
	b = append(b, '[')
	for i, v := range f.Landmarks68 {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendFloat(b, float64(v), 32); err != nil {
			return nil, fmt.Errorf("landmark %d %w", i, err)
		}
	}
	return append(b, "]}"...), nil
}

// appendFloat formats f as encoding/json does: the shortest representation
// that reads back as the same float of the given size, in exponent form
// only below 1e-6 or from 1e21, with a one-digit negative exponent unpadded.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("is %v, not a JSON number", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1] // e-09 -> e-9
			b = b[:n-1]
		}
	}
	return b, nil
}
