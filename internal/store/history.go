package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// Revision is one version of a scan as scan_history keeps it: the fields an
// analyst may change and who changed them. Faces and measurements do not
// change between versions, so history does not repeat them.
type Revision struct {
	Version       uint64         `json:"version"`
	UpdatedDate   *time.Time     `json:"updatedDate"`
	UpdatedByID   *string        `json:"updatedById"`
	Reference     string         `json:"reference"`
	SalesChannel  scan.Channel   `json:"salesChannel"`
	Result        scan.Result    `json:"result"`
	LivenessScore float64        `json:"livenessScore"`
	Quality       scan.Quality   `json:"quality"`
	Luminance     scan.Luminance `json:"luminance"`
	EyeClosed     bool           `json:"eyeClosed"`
	MouthOpened   bool           `json:"mouthOpened"`
	BoundaryFace  bool           `json:"boundaryFace"`
	NotFront      bool           `json:"notFront"`
	Occluded      bool           `json:"occluded"`
	Small         bool           `json:"small"`
}

type revisionRow struct {
	Version       uint64     `ch:"version"`
	UpdatedDate   *time.Time `ch:"updated_date"`
	UpdatedDateMs uint16     `ch:"updated_date_ms"`
	UpdatedByID   *string    `ch:"updated_by_id"`
	Reference     string     `ch:"reference"`
	SalesChannel  string     `ch:"sales_channel"`
	Result        string     `ch:"result"`
	LivenessScore float64    `ch:"liveness_score"`
	Quality       string     `ch:"quality"`
	Luminance     string     `ch:"luminance"`
	EyeClosed     uint8      `ch:"eye_closed"`
	MouthOpened   uint8      `ch:"mouth_opened"`
	BoundaryFace  uint8      `ch:"boundary_face"`
	NotFront      uint8      `ch:"not_front"`
	Occluded      uint8      `ch:"occluded"`
	Small         uint8      `ch:"small"`
}

// ScanHistory returns every version of scan id in companyID, oldest first,
// or ErrNotFound. scans keeps only the newest version once its parts merge;
// scan_history (migrations 0008/0009) keeps them all.
func (s *Store) ScanHistory(ctx context.Context, companyID, id uuid.UUID) ([]Revision, error) {
	q := "SELECT version, updated_date, updated_date_ms, updated_by_id, reference, sales_channel, result," +
		" liveness_score, quality, luminance, eye_closed, mouth_opened, boundary_face, not_front, occluded, small" +
		" FROM " + s.db + ".scan_history WHERE company_id = ? AND id = ? ORDER BY version LIMIT 1 BY version"
	rows, err := s.conn.Query(ctx, q, companyID, id)
	if err != nil {
		return nil, fmt.Errorf("store: scan history %s: %w", id, err)
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var r revisionRow
		if err := rows.ScanStruct(&r); err != nil {
			return nil, fmt.Errorf("store: scan history %s: %w", id, err)
		}
		rev := Revision{
			Version: r.Version, UpdatedByID: r.UpdatedByID, Reference: r.Reference,
			SalesChannel: scan.Channel(r.SalesChannel), Result: scan.Result(r.Result),
			LivenessScore: r.LivenessScore, Quality: scan.Quality(r.Quality), Luminance: scan.Luminance(r.Luminance),
			EyeClosed: r.EyeClosed != 0, MouthOpened: r.MouthOpened != 0, BoundaryFace: r.BoundaryFace != 0,
			NotFront: r.NotFront != 0, Occluded: r.Occluded != 0, Small: r.Small != 0,
		}
		if r.UpdatedDate != nil {
			t := joinTime(*r.UpdatedDate, r.UpdatedDateMs)
			rev.UpdatedDate = &t
		}
		out = append(out, rev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: scan history %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}
