package ingest

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"liveness/internal/apierror"
	"liveness/internal/imagefile"
	"liveness/internal/scan"
)

// form is a validated submission.
type form struct {
	channel   scan.Channel
	reference string
	image     []byte
	info      imagefile.Info
}

// parseForm checks every field of the multipart form, each failure with its
// own status and the field named, before anything is published.
func (h *Handler) parseForm(mf *multipart.Form) (*form, error) {
	var f form
	ch, err := single(mf, "channel")
	if err != nil {
		return nil, err
	}
	if f.channel, err = scan.ParseChannel(ch); err != nil {
		return nil, apierror.Invalid("channel", err.Error())
	}
	if f.reference, err = single(mf, "reference"); err != nil {
		return nil, err
	}
	if err := checkReference(f.reference, h.cfg.MaxReferenceLen); err != nil {
		return nil, err
	}
	if f.image, err = h.readFile(mf); err != nil {
		return nil, err
	}
	if f.info, err = imagefile.Probe(f.image, imagefile.WithMaxPixels(h.cfg.MaxPixels)); err != nil {
		return nil, imageError(err)
	}
	return &f, nil
}

// single returns the one value of a text field.
func single(mf *multipart.Form, name string) (string, error) {
	vs := mf.Value[name]
	switch {
	case len(vs) == 0:
		return "", apierror.New(fiber.StatusBadRequest, "missing_field", name, name+" is required")
	case len(vs) > 1:
		return "", apierror.Invalid(name, name+" is given more than once")
	}
	return vs[0], nil
}

func checkReference(ref string, maxLen int) error {
	switch n := utf8.RuneCountInString(ref); {
	case strings.TrimSpace(ref) == "":
		return apierror.Invalid("reference", "reference is empty")
	case !utf8.ValidString(ref):
		return apierror.Invalid("reference", "reference is not valid UTF-8")
	case n > maxLen:
		return apierror.Invalid("reference", fmt.Sprintf("reference has %d characters, at most %d allowed", n, maxLen))
	}
	if i := strings.IndexFunc(ref, unicode.IsControl); i >= 0 {
		return apierror.Invalid("reference", "reference contains a control character at byte "+strconv.Itoa(i))
	}
	return nil
}

// readFile reads the one `file` part, refusing an empty or oversized one.
func (h *Handler) readFile(mf *multipart.Form) ([]byte, error) {
	fhs := mf.File["file"]
	switch {
	case len(fhs) == 0:
		return nil, apierror.New(fiber.StatusBadRequest, "missing_field", "file", "file is required")
	case len(fhs) > 1:
		return nil, apierror.Invalid("file", "file is given more than once")
	case fhs[0].Size == 0:
		return nil, apierror.Invalid("file", "file is empty")
	case fhs[0].Size > int64(h.cfg.MaxImageBytes):
		return nil, apierror.New(fiber.StatusRequestEntityTooLarge, "too_large", "file",
			fmt.Sprintf("file has %d bytes, at most %d allowed", fhs[0].Size, h.cfg.MaxImageBytes))
	}
	r, err := fhs[0].Open()
	if err != nil {
		return nil, apierror.Invalid("file", "file part unreadable: "+err.Error())
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, int64(h.cfg.MaxImageBytes)+1))
}

// imageError maps the image probe's sentinels onto HTTP: not an image or an
// unsupported format is 415, a bomb or broken header is 422.
func imageError(err error) error {
	switch {
	case errors.Is(err, imagefile.ErrUnsupportedFormat):
		return apierror.New(fiber.StatusUnsupportedMediaType, "unsupported_media_type", "file",
			"file is not a JPEG, PNG, WebP or BMP image")
	case errors.Is(err, imagefile.ErrTooManyPixels):
		return apierror.New(fiber.StatusUnprocessableEntity, "too_many_pixels", "file", err.Error())
	default:
		return apierror.New(fiber.StatusUnprocessableEntity, "corrupt_image", "file", err.Error())
	}
}

// waitBudget reads RFC 7240 `Prefer: wait=N` (seconds), capped at max.
func waitBudget(prefer string, def, max time.Duration) time.Duration {
	for _, pref := range strings.Split(prefer, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pref), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "wait") {
			continue
		}
		n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`))
		if err != nil || n < 0 {
			continue
		}
		return min(time.Duration(n)*time.Second, max)
	}
	return def
}
