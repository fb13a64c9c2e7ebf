// Package ingest is the HTTP front door: it validates a capture, publishes it
// to Kafka and waits for its scan. It reaches Kafka only through a Publisher
// and learns of results through Waiters, so it can be tested without a
// broker and wired to one in cmd/ingest.
package ingest

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"liveness/internal/apierror"
	"liveness/internal/auth"
	"liveness/internal/scan"
	"liveness/internal/tracing"
)

// Route is the capture endpoint of DESIGN.md.
const Route = "/face-liveness-sdk/v1/check_liveness"

// Publisher puts a capture on the captures topic and returns once Kafka
// holds it (acks from all in-sync replicas), or fails.
type Publisher interface {
	PublishCapture(ctx context.Context, c *scan.Capture, traceparent string) error
}

// Handler serves Route.
type Handler struct {
	cfg     Config
	pub     Publisher
	waiters *Waiters
	limiter *companyLimiter
	log     *slog.Logger
	m       metrics
}

// New builds the handler; its metrics are registered on reg.
func New(cfg Config, pub Publisher, w *Waiters, log *slog.Logger, reg prometheus.Registerer) *Handler {
	return &Handler{
		cfg: cfg, pub: pub, waiters: w, log: log,
		limiter: newCompanyLimiter(cfg.RatePerSecond, cfg.RateBurst),
		m:       newMetrics(reg, w),
	}
}

// NewApp returns a Fiber app sized for captures, with JSON errors.
func NewApp(cfg Config) *fiber.App {
	return fiber.New(fiber.Config{
		AppName:   "face-liveness-ingest",
		BodyLimit: cfg.MaxBodyBytes,
		// Parse multipart in the handler, so a malformed body gets its own
		// error code rather than the server's generic 400.
		DisablePreParseMultipartForm: true,
		ErrorHandler:                 apierror.Handler,
		DisableStartupMessage:        true,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 cfg.MaxWait + 10*time.Second,
		IdleTimeout:                  60 * time.Second,
	})
}

// Mount registers the route behind authn (a bearer-token check with the
// write scope).
func (h *Handler) Mount(app *fiber.App, authn fiber.Handler) {
	app.Post(Route, authn, h.checkLiveness)
}

func (h *Handler) checkLiveness(c *fiber.Ctx) error {
	start := time.Now()
	p, ok := auth.PrincipalFrom(c)
	if !ok {
		return apierror.New(fiber.StatusUnauthorized, "unauthorized", "", "no authenticated caller")
	}
	if ok, retry := h.limiter.allow(p.CompanyID); !ok {
		h.m.rejected.WithLabelValues("rate_limited").Inc()
		return apierror.Unavailable(fiber.StatusTooManyRequests, "rate_limited",
			"too many captures for this company; retry later", retry)
	}
	mf, err := c.MultipartForm()
	if err != nil {
		h.m.rejected.WithLabelValues("malformed_multipart").Inc()
		return apierror.New(fiber.StatusBadRequest, "malformed_multipart", "", "body is not a valid multipart/form-data: "+err.Error())
	}
	f, err := h.parseForm(mf)
	if err != nil {
		h.m.rejected.WithLabelValues(codeOf(err)).Inc()
		return err
	}
	capture := &scan.Capture{
		ID: uuid.New(), CompanyID: p.CompanyID, CreatedByID: p.UserID,
		Reference: f.reference, SalesChannel: f.channel,
		ReceivedAt: start.UTC(), ContentType: f.info.Format.MIME(), Image: f.image,
	}
	trace := tracing.Continue(c.Get(tracing.Header))
	log := h.log.With("scan_id", capture.ID, "trace_id", trace.TraceID, "company_id", p.CompanyID)

	outcome, cancel := h.waiters.Expect(capture.ID)
	defer cancel()
	if err := h.publish(c.UserContext(), capture, trace.String()); err != nil {
		log.Error("capture not published", "err", err)
		return apierror.Unavailable(fiber.StatusServiceUnavailable, "unavailable",
			"the capture could not be queued; nothing was kept, retry later", 5*time.Second)
	}
	log.Info("capture published", "channel", f.channel, "bytes", len(f.image), "format", f.info.Format.String())
	c.Set(tracing.Header, trace.String())
	return h.answer(c, capture.ID, outcome, waitBudget(c.Get("Prefer"), h.cfg.Wait, h.cfg.MaxWait))
}

func (h *Handler) publish(ctx context.Context, capture *scan.Capture, trace string) error {
	t := time.Now()
	err := h.pub.PublishCapture(ctx, capture, trace)
	h.m.publish.Observe(time.Since(t).Seconds())
	return err
}

// answer waits up to budget: 200 with the scan, 422 when the processor
// refused the image, 202 with a Location to poll otherwise.
func (h *Handler) answer(c *fiber.Ctx, id uuid.UUID, outcome <-chan Outcome, budget time.Duration) error {
	if budget > 0 {
		c.Set("Preference-Applied", "wait="+strconv.Itoa(int(budget/time.Second)))
	}
	timer := time.NewTimer(budget)
	defer timer.Stop()
	select {
	case o := <-outcome:
		if o.Result == nil {
			h.m.answers.WithLabelValues("dead_letter").Inc()
			return apierror.New(fiber.StatusUnprocessableEntity, "unprocessable_image", "file", o.Reason)
		}
		h.m.answers.WithLabelValues("scan").Inc()
		return c.JSON(o.Result.Scan)
	case <-timer.C:
	case <-c.UserContext().Done():
	}
	h.m.answers.WithLabelValues("accepted").Inc()
	c.Location("/v1/face-liveness/" + id.String())
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": id, "status": "PENDING"})
}

func codeOf(err error) string {
	if e, ok := err.(*apierror.Error); ok {
		return e.Code
	}
	return "other"
}
