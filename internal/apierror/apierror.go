// Package apierror is the one shape of an HTTP error in the public APIs:
// {"error": code, "message": what is wrong, "field": the offending field},
// as documented in schemas/openapi.yaml.
package apierror

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Error is an API error with its HTTP status.
type Error struct {
	Status     int           `json:"-"`
	Code       string        `json:"error"`
	Message    string        `json:"message"`
	Field      string        `json:"field,omitempty"`
	RetryAfter time.Duration `json:"-"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New builds an error; field may be empty.
func New(status int, code, field, message string) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: message}
}

// Invalid is a 400 naming the field.
func Invalid(field, message string) *Error {
	return New(fiber.StatusBadRequest, "invalid_field", field, message)
}

// Unavailable is a 503 (or 429) asking the client to retry after d.
func Unavailable(status int, code, message string, d time.Duration) *Error {
	e := New(status, code, "", message)
	e.RetryAfter = d
	return e
}

// Handler is a Fiber ErrorHandler that writes every error as JSON: *Error as
// itself, *fiber.Error (e.g. 413 from the body limit, 404 route) with its
// status, anything else as a 500 without internals.
func Handler(c *fiber.Ctx, err error) error {
	var e *Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &fe):
		e = New(fe.Code, codeFor(fe.Code), "", fe.Message)
	default:
		e = New(fiber.StatusInternalServerError, "internal", "", "internal error")
	}
	if e.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	return c.Status(e.Status).JSON(e)
}

func codeFor(status int) string {
	switch status {
	case fiber.StatusRequestEntityTooLarge:
		return "too_large"
	case fiber.StatusNotFound:
		return "not_found"
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	}
	if status >= 500 {
		return "internal"
	}
	return "bad_request"
}
