package store

import (
	"time"

	"github.com/google/uuid"
)

// columns returns rows column by column, in scanColumns order, for a
// columnar append: one typed slice per column instead of a reflective
// AppendStruct per row, which cost the sink more than the rest of the
// insert on the client side (~7 us a row, 40k-row batches).
// TestColumnsFollowTheRow keeps it in step with row.
func columns(rows []Row) []any {
	return []any{
		col(rows, func(r *row) uuid.UUID { return r.ID }),
		col(rows, func(r *row) uuid.UUID { return r.CompanyID }),
		col(rows, func(r *row) time.Time { return r.CreatedDate }),
		col(rows, func(r *row) uint16 { return r.CreatedDateMs }),
		col(rows, func(r *row) *time.Time { return r.UpdatedDate }),
		col(rows, func(r *row) uint16 { return r.UpdatedDateMs }),
		col(rows, func(r *row) string { return r.CreatedByID }),
		col(rows, func(r *row) *string { return r.UpdatedByID }),
		col(rows, func(r *row) string { return r.Reference }),
		col(rows, func(r *row) float64 { return r.ElapsedTime }),
		col(rows, func(r *row) string { return r.SalesChannel }),
		col(rows, func(r *row) uint8 { return r.EyeClosed }),
		col(rows, func(r *row) float64 { return r.LivenessScore }),
		col(rows, func(r *row) string { return r.Luminance }),
		col(rows, func(r *row) uint8 { return r.MouthOpened }),
		col(rows, func(r *row) string { return r.Quality }),
		col(rows, func(r *row) string { return r.Result }),
		col(rows, func(r *row) uint8 { return r.BoundaryFace }),
		col(rows, func(r *row) uint8 { return r.NotFront }),
		col(rows, func(r *row) uint8 { return r.Occluded }),
		col(rows, func(r *row) uint8 { return r.Small }),
		col(rows, func(r *row) uint16 { return r.FaceCount }),
		col(rows, func(r *row) int32 { return r.FaceX1 }),
		col(rows, func(r *row) int32 { return r.FaceY1 }),
		col(rows, func(r *row) int32 { return r.FaceX2 }),
		col(rows, func(r *row) int32 { return r.FaceY2 }),
		col(rows, func(r *row) float64 { return r.FaceLiveness }),
		col(rows, func(r *row) float64 { return r.FaceYaw }),
		col(rows, func(r *row) float64 { return r.FaceRoll }),
		col(rows, func(r *row) float64 { return r.FacePitch }),
		col(rows, func(r *row) float64 { return r.FaceQuality }),
		col(rows, func(r *row) float64 { return r.FaceLuminance }),
		col(rows, func(r *row) float64 { return r.FaceEyeDistance }),
		col(rows, func(r *row) float64 { return r.FaceLeftEyeClosed }),
		col(rows, func(r *row) float64 { return r.FaceRightEyeClosed }),
		col(rows, func(r *row) float64 { return r.FaceOcclusion }),
		col(rows, func(r *row) float64 { return r.FaceMouthOpened }),
		col(rows, func(r *row) string { return r.Faces }),
		col(rows, func(r *row) string { return r.ModelVersion }),
		col(rows, func(r *row) uint32 { return r.ImageWidth }),
		col(rows, func(r *row) uint32 { return r.ImageHeight }),
		col(rows, func(r *row) uint64 { return r.Version }),
	}
}

func col[T any](rows []Row, f func(*row) T) []T {
	out := make([]T, len(rows))
	for i := range rows {
		out[i] = f(&rows[i].r)
	}
	return out
}
