package queryapi

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"time"
	"unicode"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// updateBody is a PUT body, checked field by field. Editable fields change
// the scan; identity and creation fields (id, companyId, createdDate,
// createdById) and the measurements (elapsedTime, faces) may be sent back
// as read, but not changed; updatedDate and updatedById are the server's
// (from the clock and the token) and are ignored. Anything else is refused,
// so a typo is an error rather than a silent no-op.
type updateBody map[string]json.RawMessage

var (
	immutable = map[string]bool{"id": true, "companyId": true, "createdDate": true, "createdById": true,
		"elapsedTime": true, "faces": true}
	serverSet = map[string]bool{"updatedDate": true, "updatedById": true}
	editable  = map[string]bool{"reference": true, "salesChannel": true, "result": true, "livenessScore": true,
		"quality": true, "luminance": true, "eyeClosed": true, "mouthOpened": true, "boundaryFace": true,
		"notFront": true, "occluded": true, "small": true}
)

const maxReference = 128

func parseUpdate(b []byte) (updateBody, error) {
	var body updateBody
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&body); err != nil || body == nil || d.More() {
		return nil, badField("", "the body must be one JSON object of scan fields")
	}
	for k := range body {
		if !immutable[k] && !serverSet[k] && !editable[k] {
			return nil, badField(k, "unknown field")
		}
	}
	return body, nil
}

// apply checks every field against the current scan and applies the
// editable ones to it. The first problem found is returned, naming its field.
func (u updateBody) apply(sr *scan.ScanResult) error {
	for k, raw := range u {
		var err error
		switch {
		case immutable[k]:
			err = u.unchanged(k, raw, sr)
		case editable[k]:
			err = u.set(k, raw, sr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (u updateBody) unchanged(k string, raw json.RawMessage, sr *scan.ScanResult) error {
	same := false
	switch k {
	case "id", "companyId":
		var v uuid.UUID
		want := sr.ID
		if k == "companyId" {
			want = sr.CompanyID
		}
		same = json.Unmarshal(raw, &v) == nil && v == want
	case "createdDate":
		var v time.Time
		same = json.Unmarshal(raw, &v) == nil && v.Equal(sr.CreatedDate)
	case "createdById":
		var v string
		same = json.Unmarshal(raw, &v) == nil && v == sr.CreatedByID
	case "elapsedTime":
		var v float64
		same = json.Unmarshal(raw, &v) == nil && v == sr.ElapsedTime
	case "faces":
		var v []scan.Face
		same = json.Unmarshal(raw, &v) == nil && (len(v) == 0 && len(sr.Faces) == 0 || reflect.DeepEqual(v, sr.Faces))
	}
	if !same {
		return &apiError{Status: 400, Code: "immutable_field", Field: k, Message: k + " cannot be changed"}
	}
	return nil
}

func (u updateBody) set(k string, raw json.RawMessage, sr *scan.ScanResult) error {
	switch k {
	case "reference":
		var v string
		if json.Unmarshal(raw, &v) != nil || v == "" || len(v) > maxReference || hasControl(v) {
			return badField(k, "want a string of 1 to %d characters without control characters", maxReference)
		}
		sr.Reference = v
	case "salesChannel":
		return enum(k, raw, &sr.SalesChannel, scan.ParseChannel)
	case "result":
		return enum(k, raw, &sr.Result, scan.ParseResult)
	case "quality":
		return enum(k, raw, &sr.Quality, scan.ParseQuality)
	case "luminance":
		return enum(k, raw, &sr.Luminance, scan.ParseLuminance)
	case "livenessScore":
		var v float64
		if json.Unmarshal(raw, &v) != nil || math.IsNaN(v) || v < 0 || v > 1 {
			return badField(k, "want a number from 0 to 1")
		}
		sr.LivenessScore = v
	default: // the flags
		var v bool
		if json.Unmarshal(raw, &v) != nil {
			return badField(k, "want true or false")
		}
		*flag(k, sr) = v
	}
	return nil
}

func flag(k string, sr *scan.ScanResult) *bool {
	return map[string]*bool{"eyeClosed": &sr.EyeClosed, "mouthOpened": &sr.MouthOpened, "boundaryFace": &sr.BoundaryFace,
		"notFront": &sr.NotFront, "occluded": &sr.Occluded, "small": &sr.Small}[k]
}

func enum[T ~string](k string, raw json.RawMessage, dst *T, parse func(string) (T, error)) error {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return badField(k, "want a string")
	}
	v, err := parse(s)
	if err != nil {
		return badField(k, "%v", err)
	}
	*dst = v
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
