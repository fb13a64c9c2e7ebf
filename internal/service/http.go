package service

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
)

// ServeHTTP runs a Fiber app on addr until ctx ends (SIGTERM), then stops
// accepting connections and waits up to drain for in-flight requests.
func ServeHTTP(ctx context.Context, log *slog.Logger, app *fiber.App, addr string, drain time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	log.Info("http server listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "timeout", drain)
	if err := app.ShutdownWithTimeout(drain); err != nil {
		log.Warn("drain incomplete", "err", err)
	}
	log.Info("http server stopped")
	return nil
}
