package avro

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// The wire structs mirror the .avsc files field by field; the domain types
// stay free of Avro tags and the contract's enum spellings ("No face") stay out
// of Avro, whose enum symbols cannot contain spaces.

type wireCapture struct {
	ID           string `avro:"id"`
	CompanyID    string `avro:"companyId"`
	CreatedByID  string `avro:"createdById"`
	Reference    string `avro:"reference"`
	SalesChannel string `avro:"salesChannel"`
	ReceivedAt   int64  `avro:"receivedAt"`
	ContentType  string `avro:"contentType"`
	Image        []byte `avro:"image"`
}

type wireResult struct {
	ID            string     `avro:"id"`
	CompanyID     string     `avro:"companyId"`
	CreatedDate   int64      `avro:"createdDate"`
	UpdatedDate   *int64     `avro:"updatedDate"`
	CreatedByID   string     `avro:"createdById"`
	UpdatedByID   *string    `avro:"updatedById"`
	Reference     string     `avro:"reference"`
	ElapsedTime   float64    `avro:"elapsedTime"`
	SalesChannel  string     `avro:"salesChannel"`
	EyeClosed     bool       `avro:"eyeClosed"`
	LivenessScore float64    `avro:"livenessScore"`
	Luminance     string     `avro:"luminance"`
	MouthOpened   bool       `avro:"mouthOpened"`
	Quality       string     `avro:"quality"`
	Result        string     `avro:"result"`
	BoundaryFace  bool       `avro:"boundaryFace"`
	NotFront      bool       `avro:"notFront"`
	Occluded      bool       `avro:"occluded"`
	Small         bool       `avro:"small"`
	Faces         []wireFace `avro:"faces"`
	ModelVersion  string     `avro:"modelVersion"`
	ImageWidth    int32      `avro:"imageWidth"`
	ImageHeight   int32      `avro:"imageHeight"`
	Version       int64      `avro:"version"`
}

type wireFace struct {
	X1             int32     `avro:"x1"`
	Y1             int32     `avro:"y1"`
	X2             int32     `avro:"x2"`
	Y2             int32     `avro:"y2"`
	Liveness       float64   `avro:"liveness"`
	Yaw            float64   `avro:"yaw"`
	Roll           float64   `avro:"roll"`
	Pitch          float64   `avro:"pitch"`
	FaceQuality    float64   `avro:"faceQuality"`
	FaceLuminance  float64   `avro:"faceLuminance"`
	EyeDistance    float64   `avro:"eyeDistance"`
	LeftEyeClosed  float64   `avro:"leftEyeClosed"`
	RightEyeClosed float64   `avro:"rightEyeClosed"`
	FaceOcclusion  float64   `avro:"faceOcclusion"`
	MouthOpened    float64   `avro:"mouthOpened"`
	Landmarks68    []float32 `avro:"landmarks68"`
}

// enumMap translates between the contract's spellings and Avro symbols:
// upper case, spaces as underscores ("No face" <-> "NO_FACE").
type enumMap[T ~string] struct {
	field      string
	toSymbol   map[T]string
	fromSymbol map[string]T
}

func newEnumMap[T ~string](field string, values []T) enumMap[T] {
	m := enumMap[T]{field: field, toSymbol: map[T]string{}, fromSymbol: map[string]T{}}
	for _, v := range values {
		s := symbolOf(string(v))
		m.toSymbol[v], m.fromSymbol[s] = s, v
	}
	return m
}

func symbolOf(v string) string { return strings.ToUpper(strings.ReplaceAll(v, " ", "_")) }

func (m enumMap[T]) symbol(v T) (string, error) {
	s, ok := m.toSymbol[v]
	if !ok {
		return "", fmt.Errorf("%w: %s %q", ErrInvalid, m.field, string(v))
	}
	return s, nil
}

func (m enumMap[T]) value(s string) (T, error) {
	v, ok := m.fromSymbol[s]
	if !ok {
		return "", fmt.Errorf("%w: %s symbol %q", ErrInvalid, m.field, s)
	}
	return v, nil
}

var (
	channels   = newEnumMap("salesChannel", scan.Channels)
	results    = newEnumMap("result", scan.Results)
	qualities  = newEnumMap("quality", scan.Qualities)
	luminances = newEnumMap("luminance", scan.Luminances)
)

// millis and fromMillis fix the codec's time rule: UTC, millisecond precision.
func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func parseUUID(field, s string) (uuid.UUID, error) {
	// Only the canonical 36-character form is valid for logicalType uuid.
	if len(s) != 36 {
		return uuid.UUID{}, fmt.Errorf("%w: %s is not a canonical UUID", ErrInvalid, field)
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("%w: %s: %w", ErrInvalid, field, err)
	}
	return id, nil
}

func toInt32(field string, v int) (int32, error) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("%w: %s %d out of int range", ErrInvalid, field, v)
	}
	return int32(v), nil
}

func captureToWire(v *scan.Capture) (wireCapture, error) {
	ch, err := channels.symbol(v.SalesChannel)
	if err != nil {
		return wireCapture{}, err
	}
	return wireCapture{
		ID:           v.ID.String(),
		CompanyID:    v.CompanyID.String(),
		CreatedByID:  v.CreatedByID,
		Reference:    v.Reference,
		SalesChannel: ch,
		ReceivedAt:   millis(v.ReceivedAt),
		ContentType:  v.ContentType,
		Image:        v.Image,
	}, nil
}

func captureFromWire(w *wireCapture) (*scan.Capture, error) {
	id, err := parseUUID("id", w.ID)
	if err != nil {
		return nil, err
	}
	company, err := parseUUID("companyId", w.CompanyID)
	if err != nil {
		return nil, err
	}
	ch, err := channels.value(w.SalesChannel)
	if err != nil {
		return nil, err
	}
	c := &scan.Capture{
		ID:           id,
		CompanyID:    company,
		CreatedByID:  w.CreatedByID,
		Reference:    w.Reference,
		SalesChannel: ch,
		ReceivedAt:   fromMillis(w.ReceivedAt),
		ContentType:  w.ContentType,
	}
	if len(w.Image) > 0 { // an empty image decodes as nil
		c.Image = w.Image
	}
	return c, nil
}

func resultToWire(v *scan.ScanResult) (wireResult, error) {
	var w wireResult
	var err error
	if w.SalesChannel, err = channels.symbol(v.SalesChannel); err != nil {
		return w, err
	}
	if w.Result, err = results.symbol(v.Result); err != nil {
		return w, err
	}
	if w.Quality, err = qualities.symbol(v.Quality); err != nil {
		return w, err
	}
	if w.Luminance, err = luminances.symbol(v.Luminance); err != nil {
		return w, err
	}
	if w.ImageWidth, err = toInt32("imageWidth", v.ImageWidth); err != nil {
		return w, err
	}
	if w.ImageHeight, err = toInt32("imageHeight", v.ImageHeight); err != nil {
		return w, err
	}
	if v.Version > math.MaxInt64 {
		return w, fmt.Errorf("%w: version %d exceeds Avro long", ErrInvalid, v.Version)
	}
	if w.Faces, err = facesToWire(v.Faces); err != nil {
		return w, err
	}
	w.ID, w.CompanyID = v.ID.String(), v.CompanyID.String()
	w.CreatedDate = millis(v.CreatedDate)
	if v.UpdatedDate != nil {
		ms := millis(*v.UpdatedDate)
		w.UpdatedDate = &ms
	}
	w.CreatedByID, w.UpdatedByID = v.CreatedByID, v.UpdatedByID
	w.Reference, w.ElapsedTime = v.Reference, v.ElapsedTime
	w.EyeClosed, w.LivenessScore, w.MouthOpened = v.EyeClosed, v.LivenessScore, v.MouthOpened
	w.BoundaryFace, w.NotFront, w.Occluded, w.Small = v.BoundaryFace, v.NotFront, v.Occluded, v.Small
	w.ModelVersion, w.Version = v.ModelVersion, int64(v.Version)
	return w, nil
}

func facesToWire(faces []scan.Face) ([]wireFace, error) {
	if len(faces) > MaxFaces {
		return nil, fmt.Errorf("%w: %d faces, at most %d", ErrInvalid, len(faces), MaxFaces)
	}
	out := make([]wireFace, len(faces))
	for i, f := range faces {
		if len(f.Landmarks68) != scan.LandmarkCount {
			return nil, fmt.Errorf("%w: face %d has %d landmark values, want %d", ErrInvalid, i, len(f.Landmarks68), scan.LandmarkCount)
		}
		box, err := boxToWire(i, f)
		if err != nil {
			return nil, err
		}
		out[i] = wireFace{
			X1: box[0], Y1: box[1], X2: box[2], Y2: box[3],
			Liveness: f.Liveness, Yaw: f.Yaw, Roll: f.Roll, Pitch: f.Pitch,
			FaceQuality: f.FaceQuality, FaceLuminance: f.FaceLuminance, EyeDistance: f.EyeDistance,
			LeftEyeClosed: f.LeftEyeClosed, RightEyeClosed: f.RightEyeClosed,
			FaceOcclusion: f.FaceOcclusion, MouthOpened: f.MouthOpened,
			Landmarks68: f.Landmarks68,
		}
	}
	return out, nil
}

func boxToWire(i int, f scan.Face) ([4]int32, error) {
	var box [4]int32
	for j, v := range [4]int{f.X1, f.Y1, f.X2, f.Y2} {
		if v < math.MinInt32 || v > math.MaxInt32 {
			return box, fmt.Errorf("%w: face %d box coordinate %d out of int range", ErrInvalid, i, v)
		}
		box[j] = int32(v)
	}
	return box, nil
}

func resultFromWire(w *wireResult) (*scan.ScanResult, error) {
	var r scan.ScanResult
	var err error
	if r.ID, err = parseUUID("id", w.ID); err != nil {
		return nil, err
	}
	if r.CompanyID, err = parseUUID("companyId", w.CompanyID); err != nil {
		return nil, err
	}
	if r.SalesChannel, err = channels.value(w.SalesChannel); err != nil {
		return nil, err
	}
	if r.Result, err = results.value(w.Result); err != nil {
		return nil, err
	}
	if r.Quality, err = qualities.value(w.Quality); err != nil {
		return nil, err
	}
	if r.Luminance, err = luminances.value(w.Luminance); err != nil {
		return nil, err
	}
	if w.Version < 0 {
		return nil, fmt.Errorf("%w: negative version %d", ErrInvalid, w.Version)
	}
	if r.Faces, err = facesFromWire(w.Faces); err != nil {
		return nil, err
	}
	r.CreatedDate = fromMillis(w.CreatedDate)
	if w.UpdatedDate != nil {
		t := fromMillis(*w.UpdatedDate)
		r.UpdatedDate = &t
	}
	r.CreatedByID, r.UpdatedByID = w.CreatedByID, w.UpdatedByID
	r.Reference, r.ElapsedTime = w.Reference, w.ElapsedTime
	r.EyeClosed, r.LivenessScore, r.MouthOpened = w.EyeClosed, w.LivenessScore, w.MouthOpened
	r.BoundaryFace, r.NotFront, r.Occluded, r.Small = w.BoundaryFace, w.NotFront, w.Occluded, w.Small
	r.ModelVersion, r.Version = w.ModelVersion, uint64(w.Version)
	r.ImageWidth, r.ImageHeight = int(w.ImageWidth), int(w.ImageHeight)
	return &r, nil
}

// facesFromWire always returns a non-nil slice, so that a scan without faces
// serialises to JSON as "faces": [] rather than null.
func facesFromWire(faces []wireFace) ([]scan.Face, error) {
	if len(faces) > MaxFaces {
		return nil, fmt.Errorf("%w: %d faces, at most %d", ErrInvalid, len(faces), MaxFaces)
	}
	out := make([]scan.Face, len(faces))
	for i, f := range faces {
		if len(f.Landmarks68) != scan.LandmarkCount {
			return nil, fmt.Errorf("%w: face %d has %d landmark values, want %d", ErrInvalid, i, len(f.Landmarks68), scan.LandmarkCount)
		}
		out[i] = scan.Face{
			X1: int(f.X1), Y1: int(f.Y1), X2: int(f.X2), Y2: int(f.Y2),
			Liveness: f.Liveness, Yaw: f.Yaw, Roll: f.Roll, Pitch: f.Pitch,
			FaceQuality: f.FaceQuality, FaceLuminance: f.FaceLuminance, EyeDistance: f.EyeDistance,
			LeftEyeClosed: f.LeftEyeClosed, RightEyeClosed: f.RightEyeClosed,
			FaceOcclusion: f.FaceOcclusion, MouthOpened: f.MouthOpened,
			Landmarks68: f.Landmarks68,
		}
	}
	return out, nil
}
