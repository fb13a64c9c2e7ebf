package queryapi

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// cursor is the position after a page plus that page's number. It is
// opaque to clients (base64url of JSON) but not secret: it names the last
// scan of a page the caller was allowed to see, and it cannot widen what a
// request reads, since the company always comes from the token.
type cursor struct {
	Created time.Time `json:"t"`
	ID      uuid.UUID `json:"i"`
	Page    int       `json:"p"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // plain fields: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 256 || json.Unmarshal(b, &c) != nil || c.ID == uuid.Nil || c.Created.IsZero() || c.Page < 0 {
		return cursor{}, badField("cursor", "not a cursor of this API (use nextCursor as given)")
	}
	return c, nil
}
