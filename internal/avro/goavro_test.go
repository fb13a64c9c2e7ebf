package avro

// github.com/linkedin/goavro/v2 is the library DESIGN.md names first; the
// product uses hamba/avro (faster, see bench_test.go), and goavro lives only in
// tests: as an independent Avro implementation that must read our bytes and
// write bytes we read, and as the benchmark's other contestant.

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/linkedin/goavro/v2"

	"liveness/internal/scan"
	"liveness/schemas"
)

const tsUnion = "long.timestamp-millis" // goavro's name for the union branch

func goavroCodec(tb testing.TB, text string) *goavro.Codec {
	tb.Helper()
	c, err := goavro.NewCodec(text)
	if err != nil {
		tb.Fatalf("goavro: %v", err)
	}
	return c
}

func goavroBinary(tb testing.TB, text string, native map[string]any) []byte {
	tb.Helper()
	b, err := goavroCodec(tb, text).BinaryFromNative(nil, native)
	if err != nil {
		tb.Fatalf("goavro encode: %v", err)
	}
	return b
}

func goavroNativeCapture(c *scan.Capture) map[string]any {
	return map[string]any{
		"id": c.ID.String(), "companyId": c.CompanyID.String(),
		"createdById": c.CreatedByID, "reference": c.Reference,
		"salesChannel": symbolOf(string(c.SalesChannel)),
		"receivedAt":   c.ReceivedAt, "contentType": c.ContentType, "image": c.Image,
	}
}

func goavroNativeResult(_ testing.TB, r *scan.ScanResult) map[string]any {
	m := map[string]any{
		"id": r.ID.String(), "companyId": r.CompanyID.String(),
		"createdDate": r.CreatedDate, "updatedDate": nil,
		"createdById": r.CreatedByID, "updatedById": nil,
		"reference": r.Reference, "elapsedTime": r.ElapsedTime,
		"salesChannel": symbolOf(string(r.SalesChannel)),
		"eyeClosed":    r.EyeClosed, "livenessScore": r.LivenessScore,
		"luminance":    symbolOf(string(r.Luminance)),
		"mouthOpened":  r.MouthOpened,
		"quality":      symbolOf(string(r.Quality)),
		"result":       symbolOf(string(r.Result)),
		"boundaryFace": r.BoundaryFace, "notFront": r.NotFront,
		"occluded": r.Occluded, "small": r.Small,
		"modelVersion": r.ModelVersion,
		"imageWidth":   int32(r.ImageWidth), "imageHeight": int32(r.ImageHeight),
		"version": int64(r.Version),
	}
	if r.UpdatedDate != nil {
		m["updatedDate"] = goavro.Union(tsUnion, *r.UpdatedDate)
	}
	if r.UpdatedByID != nil {
		m["updatedById"] = goavro.Union("string", *r.UpdatedByID)
	}
	faces := make([]any, len(r.Faces))
	for i, f := range r.Faces {
		lm := make([]any, len(f.Landmarks68))
		for j, v := range f.Landmarks68 {
			lm[j] = v
		}
		faces[i] = map[string]any{
			"x1": int32(f.X1), "y1": int32(f.Y1), "x2": int32(f.X2), "y2": int32(f.Y2),
			"liveness": f.Liveness, "yaw": f.Yaw, "roll": f.Roll, "pitch": f.Pitch,
			"faceQuality": f.FaceQuality, "faceLuminance": f.FaceLuminance,
			"eyeDistance": f.EyeDistance, "leftEyeClosed": f.LeftEyeClosed,
			"rightEyeClosed": f.RightEyeClosed, "faceOcclusion": f.FaceOcclusion,
			"mouthOpened": f.MouthOpened, "landmarks68": lm,
		}
	}
	m["faces"] = faces
	return m
}

// fromGoavroResult maps goavro's native form back to the domain type, with
// checked type assertions so that a shape mismatch is an error, not a panic.
func fromGoavroResult(native any) (r *scan.ScanResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("goavro native shape: %v", p)
		}
	}()
	m := native.(map[string]any)
	r = &scan.ScanResult{}
	r.ID = uuid.MustParse(m["id"].(string))
	r.CompanyID = uuid.MustParse(m["companyId"].(string))
	r.CreatedDate = m["createdDate"].(time.Time).UTC()
	if u, ok := m["updatedDate"].(map[string]any); ok {
		t := u[tsUnion].(time.Time).UTC()
		r.UpdatedDate = &t
	}
	r.CreatedByID = m["createdById"].(string)
	if u, ok := m["updatedById"].(map[string]any); ok {
		s := u["string"].(string)
		r.UpdatedByID = &s
	}
	r.Reference = m["reference"].(string)
	r.ElapsedTime = m["elapsedTime"].(float64)
	if r.SalesChannel, err = channels.value(m["salesChannel"].(string)); err != nil {
		return nil, err
	}
	if r.Luminance, err = luminances.value(m["luminance"].(string)); err != nil {
		return nil, err
	}
	if r.Quality, err = qualities.value(m["quality"].(string)); err != nil {
		return nil, err
	}
	if r.Result, err = results.value(m["result"].(string)); err != nil {
		return nil, err
	}
	r.EyeClosed, r.MouthOpened = m["eyeClosed"].(bool), m["mouthOpened"].(bool)
	r.LivenessScore = m["livenessScore"].(float64)
	r.BoundaryFace, r.NotFront = m["boundaryFace"].(bool), m["notFront"].(bool)
	r.Occluded, r.Small = m["occluded"].(bool), m["small"].(bool)
	r.ModelVersion = m["modelVersion"].(string)
	r.ImageWidth, r.ImageHeight = int(m["imageWidth"].(int32)), int(m["imageHeight"].(int32))
	r.Version = uint64(m["version"].(int64))
	faces := m["faces"].([]any)
	r.Faces = make([]scan.Face, len(faces))
	for i, fv := range faces {
		f := fv.(map[string]any)
		lm := f["landmarks68"].([]any)
		out := scan.Face{
			X1: int(f["x1"].(int32)), Y1: int(f["y1"].(int32)), X2: int(f["x2"].(int32)), Y2: int(f["y2"].(int32)),
			Liveness: f["liveness"].(float64), Yaw: f["yaw"].(float64), Roll: f["roll"].(float64),
			Pitch: f["pitch"].(float64), FaceQuality: f["faceQuality"].(float64),
			FaceLuminance: f["faceLuminance"].(float64), EyeDistance: f["eyeDistance"].(float64),
			LeftEyeClosed: f["leftEyeClosed"].(float64), RightEyeClosed: f["rightEyeClosed"].(float64),
			FaceOcclusion: f["faceOcclusion"].(float64), MouthOpened: f["mouthOpened"].(float64),
			Landmarks68: make([]float32, len(lm)),
		}
		for j, v := range lm {
			out.Landmarks68[j] = v.(float32)
		}
		r.Faces[i] = out
	}
	return r, nil
}

// TestGoavroAgrees: goavro reads our Avro bodies and we read its. The
// single-object headers cannot be compared: goavro 2.15 fingerprints
// {"type":"long"} instead of "long" for logical types, so its Rabin differs
// from the spec's (and Java's); the bodies are framed with our header here.
// goavro does confirm the CRC-64-AVRO arithmetic over our canonical form.
func TestGoavroAgrees(t *testing.T) {
	c := mustCodec(t)
	for _, l := range []*local{c.capture, c.result} {
		pcf, err := canonical(l.text)
		if err != nil {
			t.Fatal(err)
		}
		g := goavroCodec(t, pcf.String())
		if g.CanonicalSchema() != pcf.String() || g.Rabin != l.fp {
			t.Fatalf("%s: goavro canonical/rabin %016x disagree with ours %016x", l.kind, g.Rabin, l.fp)
		}
	}
	gr := goavroCodec(t, schemas.ScanResult)
	gc := goavroCodec(t, schemas.CaptureEvent)

	in := sampleResult(3)
	up, by := at.Add(time.Hour), "analyst"
	in.UpdatedDate, in.UpdatedByID = &up, &by

	t.Run("hamba to goavro", func(t *testing.T) {
		ours, err := c.EncodeResult(in)
		if err != nil {
			t.Fatal(err)
		}
		native, rest, err := gr.NativeFromBinary(ours[soeLen:])
		if err != nil || len(rest) != 0 {
			t.Fatalf("goavro decode: %v, %d bytes left", err, len(rest))
		}
		out, err := fromGoavroResult(native)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("goavro read %+v, want %+v", out, in)
		}
	})
	t.Run("goavro to hamba", func(t *testing.T) {
		body, err := gr.BinaryFromNative(nil, goavroNativeResult(t, in))
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.DecodeResult(append(c.result.soe[:], body...))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("read %+v, want %+v", out, in)
		}
	})
	t.Run("capture both ways", func(t *testing.T) {
		cin := sampleCapture(5000)
		theirs, err := gc.BinaryFromNative(nil, goavroNativeCapture(cin))
		if err != nil {
			t.Fatal(err)
		}
		ours, err := c.EncodeCapture(cin)
		if err != nil {
			t.Fatal(err)
		}
		// Avro binary of a record without arrays or maps has one encoding.
		if string(theirs) != string(ours[soeLen:]) {
			t.Fatal("goavro and hamba encode the capture differently")
		}
		out, err := c.DecodeCapture(append(c.capture.soe[:], theirs...))
		if err != nil || !reflect.DeepEqual(cin, out) {
			t.Fatalf("read goavro capture: %v", err)
		}
	})
}
