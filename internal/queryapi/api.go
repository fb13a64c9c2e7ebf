// Package queryapi is the query service's HTTP API (Fiber): read one scan,
// correct it (a new version, published to the updates topic), list a
// company's scans newest first, and count them. Every route needs a bearer
// token (internal/auth); the caller's company comes from the token and
// scopes every store call, so another company's scan is simply not found.
//
// Handlers reach ClickHouse only through Store and Kafka only through
// Publisher; the JSON shapes follow schemas/openapi.yaml.
package queryapi

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"liveness/internal/auth"
	"liveness/internal/scan"
	"liveness/internal/store"
)

// Store is what the handlers need of the ClickHouse store (*store.Store).
type Store interface {
	GetScan(ctx context.Context, companyID, id uuid.UUID) (scan.ScanResult, error)
	UpdateScan(ctx context.Context, companyID, id uuid.UUID, expectVersion uint64, change store.Change) (scan.ScanResult, error)
	ListScans(ctx context.Context, companyID uuid.UUID, q store.ListQuery) (store.ListResult, error)
	ScanHistory(ctx context.Context, companyID, id uuid.UUID) ([]store.Revision, error)
	Stats(ctx context.Context, companyID uuid.UUID, from, to time.Time, interval store.Interval) ([]store.StatsBucket, error)
}

// Publisher tells downstream systems about an analyst's update.
type Publisher interface {
	PublishUpdate(ctx context.Context, sr scan.ScanResult) error
}

// Paging limits.
const (
	DefaultPageSize = 20
	MaxPageSize     = 200 // larger sizes are capped, and the page says so in "size"
)

// Base is the API's path prefix.
const Base = "/v1/face-liveness"

type api struct {
	st         Store
	pub        Publisher
	log        *slog.Logger
	readScope  string
	writeScope string
	timeout    time.Duration
	reg        prometheus.Registerer
}

// Option tunes New.
type Option func(*api)

// WithLogger sets the logger (slog.Default otherwise). Handlers log ids and
// outcomes, never tokens, images or landmarks.
func WithLogger(l *slog.Logger) Option { return func(a *api) { a.log = l } }

// WithScopes sets the scopes required to read (GETs) and to write (PUT);
// auth.DefaultReadScope and auth.DefaultWriteScope otherwise.
func WithScopes(read, write string) Option {
	return func(a *api) { a.readScope, a.writeScope = read, write }
}

// WithMetrics registers request metrics on reg.
func WithMetrics(reg prometheus.Registerer) Option { return func(a *api) { a.reg = reg } }

// WithTimeout bounds each request's store and Kafka calls (default 10 s).
func WithTimeout(d time.Duration) Option { return func(a *api) { a.timeout = d } }

// New returns the Fiber app serving the query API.
func New(st Store, pub Publisher, v *auth.Validator, opts ...Option) *fiber.App {
	a := &api{st: st, pub: pub, log: slog.Default(), readScope: auth.DefaultReadScope,
		writeScope: auth.DefaultWriteScope, timeout: 10 * time.Second}
	for _, o := range opts {
		o(a)
	}
	app := fiber.New(fiber.Config{
		AppName:               "face-liveness-query",
		DisableStartupMessage: true,
		BodyLimit:             64 << 10, // an update is a few hundred bytes; faces echoed back fit too
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           60 * time.Second,
		ErrorHandler:          a.errorHandler,
	})
	app.Use(recover.New())
	app.Use(newMetrics(a.reg).middleware)
	read, write := auth.Middleware(v, a.readScope), auth.Middleware(v, a.writeScope)
	// stats before /:id, which would otherwise take "stats" for an id.
	app.Get(Base+"/stats", read, a.stats)
	app.Get(Base, read, a.list)
	app.Get(Base+"/:id/history", read, a.history)
	app.Get(Base+"/:id", read, a.get)
	app.Put(Base+"/:id", write, a.update)
	return app
}

// apiError is the JSON error of schemas/openapi.yaml.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func badField(field, format string, args ...any) *apiError {
	return &apiError{Status: fiber.StatusBadRequest, Code: "invalid_field", Field: field, Message: sprintf(format, args...)}
}

var errNotFound = &apiError{Status: fiber.StatusNotFound, Code: "not_found", Message: "no such scan"}

// errorHandler turns every error into the API's JSON error. Unexpected
// errors are logged and answered 500 without their text, which may name
// internals.
func (a *api) errorHandler(c *fiber.Ctx, err error) error {
	var ae *apiError
	var fe *fiber.Error
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, store.ErrNotFound):
		ae = errNotFound
	case errors.Is(err, store.ErrInvalidScan), errors.Is(err, store.ErrInvalidQuery):
		ae = &apiError{Status: fiber.StatusBadRequest, Code: "invalid_field", Message: err.Error()}
	case errors.As(err, &fe):
		ae = &apiError{Status: fe.Code, Code: codeFor(fe.Code), Message: fe.Message}
	case errors.Is(err, context.DeadlineExceeded):
		ae = &apiError{Status: fiber.StatusServiceUnavailable, Code: "timeout", Message: "the store did not answer in time"}
		c.Set(fiber.HeaderRetryAfter, "1")
	default:
		a.log.ErrorContext(c.UserContext(), "query api: request failed", "method", c.Method(), "route", c.Route().Path, "err", err)
		ae = &apiError{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error"}
	}
	return c.Status(ae.Status).JSON(ae)
}

func codeFor(status int) string {
	switch status {
	case fiber.StatusNotFound:
		return "not_found"
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusRequestEntityTooLarge:
		return "too_large"
	case fiber.StatusBadRequest:
		return "bad_request"
	}
	return "error_" + strconv.Itoa(status)
}

// principal returns the caller's company; Middleware guarantees one.
func principal(c *fiber.Ctx) auth.Principal {
	p, _ := auth.PrincipalFrom(c)
	return p
}

// ctx bounds a handler's downstream calls.
func (a *api) ctx(c *fiber.Ctx) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.UserContext(), a.timeout)
}

// scanID parses the path id; a malformed one is a 404 like an unknown one,
// so ids give no hint either way.
func scanID(c *fiber.Ctx) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil, errNotFound
	}
	return id, nil
}
