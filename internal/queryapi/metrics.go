package queryapi

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

// newMetrics builds request metrics, labelled by route pattern (never the
// raw path: ids would make one series per scan), registered when reg is set.
func newMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "query_http_requests_total",
			Help: "Query API requests by route, method and status."}, []string{"route", "method", "status"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "query_http_request_seconds",
			Help: "Query API latency by route.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"route"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.seconds)
	}
	return m
}

func (m *httpMetrics) middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		// The error handler runs after this middleware returns; a Fiber
		// error carries its own status, anything else ends as a 4xx/5xx
		// the handler decides: count it by the error's status when known.
		if fe, ok := err.(*fiber.Error); ok {
			status = fe.Code
		} else if ae, ok := err.(*apiError); ok {
			status = ae.Status
		}
	}
	route := c.Route().Path
	m.requests.WithLabelValues(route, c.Method(), strconv.Itoa(status)).Inc()
	m.seconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
	return err
}
