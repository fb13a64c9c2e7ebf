package queryapi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"liveness/internal/scan"
	"liveness/internal/store"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// etag is a scan version as a strong entity tag.
func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }

// entity is the scan as the API shows it: the entity of DESIGN.md, with
// faces never null.
func entity(sr scan.ScanResult) scan.Scan {
	s := sr.Scan
	if s.Faces == nil {
		s.Faces = []scan.Face{}
	}
	return s
}

func (a *api) get(c *fiber.Ctx) error {
	id, err := scanID(c)
	if err != nil {
		return err
	}
	ctx, cancel := a.ctx(c)
	defer cancel()
	sr, err := a.st.GetScan(ctx, principal(c).CompanyID, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(sr.Version))
	return c.JSON(entity(sr))
}

func (a *api) history(c *fiber.Ctx) error {
	id, err := scanID(c)
	if err != nil {
		return err
	}
	ctx, cancel := a.ctx(c)
	defer cancel()
	h, err := a.st.ScanHistory(ctx, principal(c).CompanyID, id)
	if err != nil {
		return err
	}
	return c.JSON(h)
}

// update writes the body's changes as a new version, then publishes it.
func (a *api) update(c *fiber.Ctx) error {
	id, err := scanID(c)
	if err != nil {
		return err
	}
	expect, err := ifMatch(c.Get(fiber.HeaderIfMatch))
	if err != nil {
		return err
	}
	body, err := parseUpdate(c.Body())
	if err != nil {
		return err
	}
	p := principal(c)
	ctx, cancel := a.ctx(c)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Millisecond)
	by := p.UserID
	sr, err := a.st.UpdateScan(ctx, p.CompanyID, id, expect, func(sr *scan.ScanResult) error {
		if err := body.apply(sr); err != nil {
			return err
		}
		sr.UpdatedDate, sr.UpdatedByID = &now, &by
		return nil
	})
	if errors.Is(err, store.ErrVersionConflict) {
		c.Set(fiber.HeaderETag, etag(sr.Version))
		return &apiError{Status: fiber.StatusPreconditionFailed, Code: "precondition_failed", Field: "If-Match",
			Message: fmt.Sprintf("the scan is at version %d, not %d", sr.Version, expect)}
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(sr.Version))
	if err := a.pub.PublishUpdate(ctx, sr); err != nil {
		// Stored but not announced: say so, so the client retries (a retry
		// writes and publishes a newer version holding the same change).
		a.log.ErrorContext(ctx, "query api: update stored but not published", "id", id, "version", sr.Version, "err", err)
		c.Set(fiber.HeaderRetryAfter, "1")
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: "publish_failed",
			Message: fmt.Sprintf("stored as version %d but not yet published; retry with If-Match: %d", sr.Version, sr.Version)}
	}
	a.log.InfoContext(ctx, "scan updated", "id", id, "version", sr.Version, "by", by)
	return c.JSON(entity(sr))
}

// ifMatch parses If-Match: empty or * means any version; otherwise one
// entity tag, the version ("3", or W/"3", compared strongly anyway).
func ifMatch(h string) (uint64, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return 0, nil
	}
	tag := strings.TrimPrefix(h, "W/")
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, badField("If-Match", "want one entity tag such as \"3\" (the ETag of a GET)")
	}
	v, err := strconv.ParseUint(tag[1:len(tag)-1], 10, 64)
	if err != nil || v == 0 {
		return 0, badField("If-Match", "%s is not an ETag of this API", h)
	}
	return v, nil
}

// Page is Spring Data's Page shape plus a cursor for deep paging.
type Page struct {
	Content          []scan.Scan `json:"content"`
	TotalElements    uint64      `json:"totalElements"`
	TotalPages       uint64      `json:"totalPages"`
	Number           int         `json:"number"`
	Size             int         `json:"size"`
	NumberOfElements int         `json:"numberOfElements"`
	First            bool        `json:"first"`
	Last             bool        `json:"last"`
	Empty            bool        `json:"empty"`
	NextCursor       *string     `json:"nextCursor"`
}

func (a *api) list(c *fiber.Ctx) error {
	q, number, err := parseList(c)
	if err != nil {
		return err
	}
	ctx, cancel := a.ctx(c)
	defer cancel()
	res, err := a.st.ListScans(ctx, principal(c).CompanyID, q)
	if err != nil {
		return err
	}
	size := uint64(q.Limit)
	p := Page{
		Content:       make([]scan.Scan, len(res.Scans)),
		TotalElements: res.Total, TotalPages: (res.Total + size - 1) / size,
		Number: number, Size: q.Limit, NumberOfElements: len(res.Scans),
		First: number == 0, Empty: len(res.Scans) == 0,
	}
	for i, sr := range res.Scans {
		p.Content[i] = entity(sr)
	}
	p.Last = uint64(number+1) >= p.TotalPages
	if !p.Last && len(res.Scans) == q.Limit && res.Last != nil {
		cur := encodeCursor(cursor{Created: res.Last.Created, ID: res.Last.ID, Page: number + 1})
		p.NextCursor = &cur
	}
	return c.JSON(p)
}

// parseList reads the list parameters. Every value is validated here and
// bound as a parameter by the store; none reaches SQL text.
func parseList(c *fiber.Ctx) (store.ListQuery, int, error) {
	var q store.ListQuery
	var err error
	if v := c.Query("result"); v != "" {
		if q.Filter.Result, err = scan.ParseResult(v); err != nil {
			return q, 0, badField("result", "%v", err)
		}
	}
	if v := c.Query("salesChannel"); v != "" {
		if q.Filter.SalesChannel, err = scan.ParseChannel(v); err != nil {
			return q, 0, badField("salesChannel", "%v", err)
		}
	}
	q.Filter.Reference = c.Query("reference")
	if q.Filter.From, err = optTime(c, "from"); err != nil {
		return q, 0, err
	}
	if q.Filter.To, err = optTime(c, "to"); err != nil {
		return q, 0, err
	}
	if !q.Filter.From.IsZero() && !q.Filter.To.IsZero() && !q.Filter.To.After(q.Filter.From) {
		return q, 0, badField("to", "must be after from")
	}
	size, err := intParam(c, "size", DefaultPageSize, 1)
	if err != nil {
		return q, 0, err
	}
	q.Limit = min(size, MaxPageSize)
	page, err := intParam(c, "page", 0, 0)
	if err != nil {
		return q, 0, err
	}
	if raw := c.Query("cursor"); raw != "" {
		cur, err := decodeCursor(raw)
		if err != nil {
			return q, 0, err
		}
		q.After = &store.Position{Created: cur.Created, ID: cur.ID}
		return q, cur.Page, nil
	}
	if page*q.Limit > store.MaxListOffset {
		return q, 0, badField("page", "pages beyond %d rows need the cursor of the previous page (nextCursor)", store.MaxListOffset)
	}
	q.Offset = page * q.Limit
	return q, page, nil
}

func intParam(c *fiber.Ctx, name string, def, least int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least || n > 1_000_000 {
		return 0, badField(name, "%q is not an integer ≥ %d", v, least)
	}
	return n, nil
}

func optTime(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badField(name, "%q is not an RFC 3339 date-time (e.g. 2026-03-01T00:00:00Z)", v)
	}
	return t, nil
}

// Longest stats ranges, so one request cannot ask for millions of buckets.
const (
	maxHourRange = 31 * 24 * time.Hour
	maxDayRange  = 366 * 24 * time.Hour
)

func (a *api) stats(c *fiber.Ctx) error {
	from, err := optTime(c, "from")
	if err != nil {
		return err
	}
	to, err := optTime(c, "to")
	if err != nil {
		return err
	}
	if from.IsZero() {
		return badField("from", "required")
	}
	if to.IsZero() {
		return badField("to", "required")
	}
	if !to.After(from) {
		return badField("to", "must be after from")
	}
	interval := store.Interval(c.Query("interval", string(store.IntervalHour)))
	limit := maxHourRange
	switch interval {
	case store.IntervalHour:
	case store.IntervalDay:
		limit = maxDayRange
	default:
		return badField("interval", "%q is not one of [hour day]", interval)
	}
	if to.Sub(from) > limit {
		return badField("to", "range longer than %s for interval %s", limit, interval)
	}
	ctx, cancel := a.ctx(c)
	defer cancel()
	buckets, err := a.st.Stats(ctx, principal(c).CompanyID, from, to, interval)
	if err != nil {
		return err
	}
	return c.JSON(buckets)
}
