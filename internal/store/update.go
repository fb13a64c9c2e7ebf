package store

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// ErrVersionConflict means the scan's current version is not the one the
// caller read (an If-Match that went stale).
var ErrVersionConflict = errors.New("store: version conflict")

// Change edits a copy of the current scan in place. Returning an error
// abandons the update and UpdateScan returns that error unchanged.
type Change func(*scan.ScanResult) error

// updateLocks serialise read-modify-write cycles per scan within this
// process. ClickHouse has no compare-and-set, so two concurrent updates of
// one scan could otherwise both pass the version check and both write
// version n+1. Across processes the window stays open (the last writer of
// n+1 wins in ReplacingMergeTree); run one writer per scan id or accept it.
var (
	updateLocks [64]sync.Mutex
	lockSeed    = maphash.MakeSeed()
)

func lockFor(id uuid.UUID) *sync.Mutex {
	return &updateLocks[maphash.Bytes(lockSeed, id[:])%uint64(len(updateLocks))]
}

// UpdateScan reads the newest version of scan id in companyID, checks it is
// expectVersion (0: any), applies change to a copy and writes the result as
// version n+1. Identity and creation fields (id, companyId, createdDate,
// createdById) are restored after change, whatever it did: they never move.
// Older versions stay readable through ScanHistory.
func (s *Store) UpdateScan(ctx context.Context, companyID, id uuid.UUID, expectVersion uint64, change Change) (scan.ScanResult, error) {
	mu := lockFor(id)
	mu.Lock()
	defer mu.Unlock()
	cur, err := s.GetScan(ctx, companyID, id)
	if err != nil {
		return scan.ScanResult{}, err
	}
	if expectVersion != 0 && cur.Version != expectVersion {
		return cur, ErrVersionConflict
	}
	next := cur
	next.Faces = append([]scan.Face(nil), cur.Faces...)
	if err := change(&next); err != nil {
		return scan.ScanResult{}, err
	}
	next.ID, next.CompanyID, next.CreatedDate, next.CreatedByID = cur.ID, cur.CompanyID, cur.CreatedDate, cur.CreatedByID
	next.Version = cur.Version + 1
	if err := s.InsertScans(ctx, []scan.ScanResult{next}); err != nil {
		return scan.ScanResult{}, err
	}
	// Read back what the store now serves, so the caller answers with (and
	// publishes) exactly the stored state, at the store's precision.
	return s.GetScan(ctx, companyID, id)
}
