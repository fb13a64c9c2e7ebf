package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// ErrInvalidScan reports a scan that cannot be stored as given.
var ErrInvalidScan = errors.New("store: invalid scan")

// row is one line of the scans table. It is the only place where a
// scan.ScanResult meets the table's columns: the ch tags name the columns,
// and scanColumns (derived from them) is the column list of every INSERT and
// SELECT, so the two cannot drift apart.
//
// ClickHouse 18.16 has no DateTime64: times are stored as DateTime (seconds,
// for partitioning and filtering) plus the millisecond part, so the store
// keeps millisecond precision, the precision of the Avro timestamps.
type row struct {
	ID            uuid.UUID  `ch:"id"`
	CompanyID     uuid.UUID  `ch:"company_id"`
	CreatedDate   time.Time  `ch:"created_date"`
	CreatedDateMs uint16     `ch:"created_date_ms"`
	UpdatedDate   *time.Time `ch:"updated_date"`
	UpdatedDateMs uint16     `ch:"updated_date_ms"`
	CreatedByID   string     `ch:"created_by_id"`
	UpdatedByID   *string    `ch:"updated_by_id"`
	Reference     string     `ch:"reference"`
	ElapsedTime   float64    `ch:"elapsed_time"`
	SalesChannel  string     `ch:"sales_channel"`
	EyeClosed     uint8      `ch:"eye_closed"`
	LivenessScore float64    `ch:"liveness_score"`
	Luminance     string     `ch:"luminance"`
	MouthOpened   uint8      `ch:"mouth_opened"`
	Quality       string     `ch:"quality"`
	Result        string     `ch:"result"`
	BoundaryFace  uint8      `ch:"boundary_face"`
	NotFront      uint8      `ch:"not_front"`
	Occluded      uint8      `ch:"occluded"`
	Small         uint8      `ch:"small"`

	// The primary face (Faces[0]) repeated as columns for analysts; zero when
	// FaceCount is 0. Faces (JSON) is the source of truth when reading back.
	FaceCount          uint16  `ch:"face_count"`
	FaceX1             int32   `ch:"face_x1"`
	FaceY1             int32   `ch:"face_y1"`
	FaceX2             int32   `ch:"face_x2"`
	FaceY2             int32   `ch:"face_y2"`
	FaceLiveness       float64 `ch:"face_liveness"`
	FaceYaw            float64 `ch:"face_yaw"`
	FaceRoll           float64 `ch:"face_roll"`
	FacePitch          float64 `ch:"face_pitch"`
	FaceQuality        float64 `ch:"face_quality"`
	FaceLuminance      float64 `ch:"face_luminance"`
	FaceEyeDistance    float64 `ch:"face_eye_distance"`
	FaceLeftEyeClosed  float64 `ch:"face_left_eye_closed"`
	FaceRightEyeClosed float64 `ch:"face_right_eye_closed"`
	FaceOcclusion      float64 `ch:"face_occlusion"`
	FaceMouthOpened    float64 `ch:"face_mouth_opened"`

	Faces        string `ch:"faces"` // JSON array of scan.Face, landmarks included
	ModelVersion string `ch:"model_version"`
	ImageWidth   uint32 `ch:"image_width"`
	ImageHeight  uint32 `ch:"image_height"`
	Version      uint64 `ch:"version"`
}

// scanColumns lists row's columns in field order.
var scanColumns = func() []string {
	t := reflect.TypeFor[row]()
	cols := make([]string, t.NumField())
	for i := range cols {
		cols[i] = t.Field(i).Tag.Get("ch")
	}
	return cols
}()

// columnList is scanColumns as SQL: "id, company_id, ...".
func columnList() string { return strings.Join(scanColumns, ", ") }

// readColumnList is what reads select: every column fromRow uses, which
// leaves out the primary face's copies (face_*: faces is the source of
// truth). A point lookup on 18.16 costs about a granule's read and
// decompression per column, so 16 columns fewer is a third off a get
// (measured: 37 -> 23 ms p50 at 200k scans).
func readColumnList() string {
	var cols []string
	for _, c := range scanColumns {
		if !strings.HasPrefix(c, "face_") {
			cols = append(cols, c)
		}
	}
	return strings.Join(cols, ", ")
}

// toRow maps a scan onto the table, refusing what the columns cannot hold
// rather than letting one bad scan fail a whole batch on the server.
func toRow(sr scan.ScanResult) (row, error) {
	if err := checkEnums(sr); err != nil {
		return row{}, err
	}
	created, createdMs, err := splitTime(sr.CreatedDate)
	if err != nil {
		return row{}, fmt.Errorf("%w: scan %s: createdDate: %v", ErrInvalidScan, sr.ID, err)
	}
	r := row{
		ID: sr.ID, CompanyID: sr.CompanyID,
		CreatedDate: created, CreatedDateMs: createdMs,
		CreatedByID: sr.CreatedByID, UpdatedByID: sr.UpdatedByID,
		Reference: sr.Reference, ElapsedTime: sr.ElapsedTime,
		SalesChannel:  string(sr.SalesChannel),
		EyeClosed:     u8(sr.EyeClosed),
		LivenessScore: sr.LivenessScore,
		Luminance:     string(sr.Luminance),
		MouthOpened:   u8(sr.MouthOpened),
		Quality:       string(sr.Quality),
		Result:        string(sr.Result),
		BoundaryFace:  u8(sr.BoundaryFace), NotFront: u8(sr.NotFront),
		Occluded: u8(sr.Occluded), Small: u8(sr.Small),
		ModelVersion: sr.ModelVersion, Version: sr.Version,
	}
	if sr.UpdatedDate != nil {
		t, ms, err := splitTime(*sr.UpdatedDate)
		if err != nil {
			return row{}, fmt.Errorf("%w: scan %s: updatedDate: %v", ErrInvalidScan, sr.ID, err)
		}
		r.UpdatedDate, r.UpdatedDateMs = &t, ms
	}
	if r.ImageWidth, err = u32(sr.ImageWidth); err != nil {
		return row{}, fmt.Errorf("%w: scan %s: image width: %v", ErrInvalidScan, sr.ID, err)
	}
	if r.ImageHeight, err = u32(sr.ImageHeight); err != nil {
		return row{}, fmt.Errorf("%w: scan %s: image height: %v", ErrInvalidScan, sr.ID, err)
	}
	if err := r.setFaces(sr.Faces); err != nil {
		return row{}, fmt.Errorf("%w: scan %s: %v", ErrInvalidScan, sr.ID, err)
	}
	return r, nil
}

// facesJSONSize is room for one face's JSON with its 136 landmarks (~1.7 KB).
const facesJSONSize = 2048

func (r *row) setFaces(faces []scan.Face) error {
	if len(faces) > math.MaxUint16 {
		return fmt.Errorf("%d faces", len(faces))
	}
	if faces == nil {
		faces = []scan.Face{} // "[]" rather than "null" for analysts' JSON functions
	}
	b, err := appendFacesJSON(make([]byte, 0, facesJSONSize*max(1, len(faces))), faces)
	if err != nil {
		return fmt.Errorf("faces: %v", err)
	}
	r.Faces, r.FaceCount = string(b), uint16(len(faces))
	if len(faces) == 0 {
		return nil
	}
	f := faces[0]
	for _, c := range []int{f.X1, f.Y1, f.X2, f.Y2} {
		if c < math.MinInt32 || c > math.MaxInt32 {
			return fmt.Errorf("face box coordinate %d out of range", c)
		}
	}
	r.FaceX1, r.FaceY1, r.FaceX2, r.FaceY2 = int32(f.X1), int32(f.Y1), int32(f.X2), int32(f.Y2)
	r.FaceLiveness, r.FaceYaw, r.FaceRoll, r.FacePitch = f.Liveness, f.Yaw, f.Roll, f.Pitch
	r.FaceQuality, r.FaceLuminance, r.FaceEyeDistance = f.FaceQuality, f.FaceLuminance, f.EyeDistance
	r.FaceLeftEyeClosed, r.FaceRightEyeClosed = f.LeftEyeClosed, f.RightEyeClosed
	r.FaceOcclusion, r.FaceMouthOpened = f.FaceOcclusion, f.MouthOpened
	return nil
}

// fromRow is toRow's inverse. Times come back in UTC; faces come back from
// the JSON (an empty, non-nil slice when there are none).
func fromRow(r row) (scan.ScanResult, error) {
	var sr scan.ScanResult
	var err error
	if sr.SalesChannel, err = scan.ParseChannel(r.SalesChannel); err != nil {
		return sr, fmt.Errorf("store: scan %s: %w", r.ID, err)
	}
	if sr.Result, err = scan.ParseResult(r.Result); err != nil {
		return sr, fmt.Errorf("store: scan %s: %w", r.ID, err)
	}
	sr.Luminance, sr.Quality = scan.Luminance(r.Luminance), scan.Quality(r.Quality)
	if err := json.Unmarshal([]byte(r.Faces), &sr.Faces); err != nil {
		return sr, fmt.Errorf("store: scan %s: faces: %w", r.ID, err)
	}
	if sr.Faces == nil {
		sr.Faces = []scan.Face{}
	}
	sr.ID, sr.CompanyID = r.ID, r.CompanyID
	sr.CreatedDate = joinTime(r.CreatedDate, r.CreatedDateMs)
	if r.UpdatedDate != nil {
		t := joinTime(*r.UpdatedDate, r.UpdatedDateMs)
		sr.UpdatedDate = &t
	}
	sr.CreatedByID, sr.UpdatedByID, sr.Reference = r.CreatedByID, r.UpdatedByID, r.Reference
	sr.ElapsedTime, sr.LivenessScore = r.ElapsedTime, r.LivenessScore
	sr.EyeClosed, sr.MouthOpened = r.EyeClosed != 0, r.MouthOpened != 0
	sr.BoundaryFace, sr.NotFront = r.BoundaryFace != 0, r.NotFront != 0
	sr.Occluded, sr.Small = r.Occluded != 0, r.Small != 0
	sr.ModelVersion, sr.Version = r.ModelVersion, r.Version
	sr.ImageWidth, sr.ImageHeight = int(r.ImageWidth), int(r.ImageHeight)
	return sr, nil
}

// checkEnums validates the enum fields against the contract; luminance and
// quality may be empty (no face measured), channel and result may not.
func checkEnums(sr scan.ScanResult) error {
	if _, err := scan.ParseChannel(string(sr.SalesChannel)); err != nil {
		return fmt.Errorf("%w: scan %s: %v", ErrInvalidScan, sr.ID, err)
	}
	if _, err := scan.ParseResult(string(sr.Result)); err != nil {
		return fmt.Errorf("%w: scan %s: %v", ErrInvalidScan, sr.ID, err)
	}
	if sr.Luminance != "" {
		if _, err := scan.ParseLuminance(string(sr.Luminance)); err != nil {
			return fmt.Errorf("%w: scan %s: %v", ErrInvalidScan, sr.ID, err)
		}
	}
	if sr.Quality != "" {
		if _, err := scan.ParseQuality(string(sr.Quality)); err != nil {
			return fmt.Errorf("%w: scan %s: %v", ErrInvalidScan, sr.ID, err)
		}
	}
	return nil
}

// DateTime is a UInt32 of seconds since the epoch.
var minDateTime, maxDateTime = time.Unix(0, 0), time.Unix(math.MaxUint32, 0)

// splitTime splits t into whole UTC seconds and milliseconds; finer digits
// are dropped.
func splitTime(t time.Time) (time.Time, uint16, error) {
	if t.Before(minDateTime) || !t.Before(maxDateTime) {
		return time.Time{}, 0, fmt.Errorf("%s is outside ClickHouse DateTime's range", t.Format(time.RFC3339))
	}
	t = t.UTC()
	return t.Truncate(time.Second), uint16(t.Nanosecond() / int(time.Millisecond)), nil
}

func joinTime(t time.Time, ms uint16) time.Time {
	return time.Unix(t.Unix(), int64(ms)*int64(time.Millisecond)).UTC()
}

func u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func u32(n int) (uint32, error) {
	if n < 0 || n > math.MaxUint32 {
		return 0, fmt.Errorf("%d out of range", n)
	}
	return uint32(n), nil
}
