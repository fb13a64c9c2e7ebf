// Package scan holds the product's domain types: the capture a channel sends and
// the scan the platform answers with. Field names and JSON tags follow the
// entity in DESIGN.md; every other package (inference, Avro, store, HTTP)
// speaks these types, so the contract lives in exactly one place.
package scan

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Channel is the onboarding channel a capture came from.
type Channel string

const (
	ChannelWeb    Channel = "WEB"
	ChannelMobile Channel = "MOBILE"
	ChannelOther  Channel = "OTHER"
)

// Channels lists every valid channel, in the Avro enum's symbol order.
var Channels = []Channel{ChannelWeb, ChannelMobile, ChannelOther}

// Result is the scan's verdict.
type Result string

const (
	ResultReal         Result = "Real"
	ResultSpoof        Result = "Spoof"
	ResultNoFace       Result = "No face"
	ResultMultipleFace Result = "Multiple face"
)

// Results lists every valid result, in the Avro enum's symbol order.
var Results = []Result{ResultReal, ResultSpoof, ResultNoFace, ResultMultipleFace}

// Quality is the coarse image-quality class of the primary face.
type Quality string

const (
	QualityLow    Quality = "Low"
	QualityMedium Quality = "Medium"
	QualityHigh   Quality = "High"
)

// Qualities lists every valid quality, in the Avro enum's symbol order.
var Qualities = []Quality{QualityLow, QualityMedium, QualityHigh}

// Luminance is the coarse brightness class of the primary face.
type Luminance string

const (
	LuminanceDark   Luminance = "Dark"
	LuminanceNormal Luminance = "Normal"
	LuminanceLight  Luminance = "Light"
)

// Luminances lists every valid luminance, in the Avro enum's symbol order.
var Luminances = []Luminance{LuminanceDark, LuminanceNormal, LuminanceLight}

// ParseChannel, ParseResult, ParseQuality and ParseLuminance accept exactly the
// contract's spellings and name the field in their error.
func ParseChannel(s string) (Channel, error)     { return parseEnum("channel", s, Channels) }
func ParseResult(s string) (Result, error)       { return parseEnum("result", s, Results) }
func ParseQuality(s string) (Quality, error)     { return parseEnum("quality", s, Qualities) }
func ParseLuminance(s string) (Luminance, error) { return parseEnum("luminance", s, Luminances) }

func parseEnum[T ~string](field, s string, valid []T) (T, error) {
	for _, v := range valid {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s: %q is not one of %v", field, s, valid)
}

// LandmarkCount is the length of Face.Landmarks68: 68 (x, y) pairs in iBUG order.
const LandmarkCount = 136

// Face is one detected face and its measurements. Coordinates are pixels of
// the upright (EXIF-corrected) original image.
type Face struct {
	X1             int       `json:"x1"`
	Y1             int       `json:"y1"`
	X2             int       `json:"x2"`
	Y2             int       `json:"y2"`
	Liveness       float64   `json:"liveness"`       // 0..1, 1 = live
	Yaw            float64   `json:"yaw"`            // degrees, -45..45
	Roll           float64   `json:"roll"`           // degrees, -45..45
	Pitch          float64   `json:"pitch"`          // degrees, -45..45
	FaceQuality    float64   `json:"faceQuality"`    // 0..1
	FaceLuminance  float64   `json:"faceLuminance"`  // 0..255
	EyeDistance    float64   `json:"eyeDistance"`    // pixels between eye centres
	LeftEyeClosed  float64   `json:"leftEyeClosed"`  // 0..1, 1 = closed
	RightEyeClosed float64   `json:"rightEyeClosed"` // 0..1, 1 = closed
	FaceOcclusion  float64   `json:"faceOcclusion"`  // 0..1, 1 = fully occluded
	MouthOpened    float64   `json:"mouthOpened"`    // 0..1
	Landmarks68    []float32 `json:"landmarks68"`    // 136 floats: x0,y0,x1,y1,...
}

// Analysis is what the inference engine derives from one image: the verdict,
// its flags and the faces. It carries no identity or tenancy.
type Analysis struct {
	EyeClosed     bool      `json:"eyeClosed"`
	LivenessScore float64   `json:"livenessScore"`
	Luminance     Luminance `json:"luminance"`
	MouthOpened   bool      `json:"mouthOpened"`
	Quality       Quality   `json:"quality"`
	Result        Result    `json:"result"`
	BoundaryFace  bool      `json:"boundaryFace"`
	NotFront      bool      `json:"notFront"`
	Occluded      bool      `json:"occluded"`
	Small         bool      `json:"small"`
	Faces         []Face    `json:"faces"`
}

// Scan is the entity of DESIGN.md: an Analysis with its identity, tenancy and
// audit fields. Its JSON is the HTTP API's answer.
type Scan struct {
	ID           uuid.UUID  `json:"id"`
	CompanyID    uuid.UUID  `json:"companyId"`
	CreatedDate  time.Time  `json:"createdDate"`
	UpdatedDate  *time.Time `json:"updatedDate"`
	CreatedByID  string     `json:"createdById"`
	UpdatedByID  *string    `json:"updatedById"`
	Reference    string     `json:"reference"`
	ElapsedTime  float64    `json:"elapsedTime"` // seconds from receipt to result
	SalesChannel Channel    `json:"salesChannel"`
	Analysis
}

// Capture is one image sent by a channel, as carried by a CaptureEvent.
// Image holds biometric data: never log it.
type Capture struct {
	ID           uuid.UUID
	CompanyID    uuid.UUID
	CreatedByID  string
	Reference    string
	SalesChannel Channel
	ReceivedAt   time.Time
	ContentType  string
	Image        []byte
}

// ScanResult is a scan as published on the results topic: the entity plus what a
// downstream system needs to interpret it.
type ScanResult struct {
	Scan
	ModelVersion string // identifies the model set, e.g. a digest of the manifest
	ImageWidth   int    // upright image size in pixels
	ImageHeight  int
	Version      uint64 // grows with each update; the store keeps the highest
}
