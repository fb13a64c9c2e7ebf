// Package service is the plumbing every long-running command shares: JSON
// logs on log/slog, an admin HTTP server with Prometheus /metrics, /healthz
// and /readyz, and a context cancelled by SIGTERM or SIGINT so that each
// service can drain, commit and close before it exits.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewLogger returns a JSON logger tagged with the service name. Level is one
// of debug, info, warn, error.
func NewLogger(name, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	h := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})
	return slog.New(h).With("service", name)
}

// SignalContext is cancelled on SIGTERM or SIGINT.
func SignalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, syscall.SIGTERM, syscall.SIGINT)
}

// Check reports whether one dependency (Kafka, ClickHouse) answers.
type Check func(ctx context.Context) error

// Admin serves /metrics, /healthz and /readyz on its own address, apart from
// the public API, so that probes and scrapes never queue behind user traffic.
type Admin struct {
	Registry *prometheus.Registry
	srv      *http.Server
	ln       net.Listener

	mu     sync.Mutex
	checks map[string]Check
}

// NewAdmin builds the admin server with a fresh registry that already holds
// the Go runtime and process collectors.
func NewAdmin(addr string) *Admin {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := &Admin{Registry: reg, checks: map[string]Check{}}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.ready)
	a.srv = &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return a
}

// AddCheck registers a readiness check under a name shown in /readyz.
func (a *Admin) AddCheck(name string, c Check) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checks[name] = c
}

// Start listens and serves in the background; it returns once the address is
// bound, so a bad address fails the command at start-up.
func (a *Admin) Start(log *slog.Logger) error {
	ln, err := net.Listen("tcp", a.srv.Addr)
	if err != nil {
		return err
	}
	a.ln = ln
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin server stopped", "err", err)
		}
	}()
	log.Info("admin server listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the bound address (useful with port 0 in tests).
func (a *Admin) Addr() string { return a.ln.Addr().String() }

// Shutdown stops the admin server, waiting for in-flight scrapes.
func (a *Admin) Shutdown(ctx context.Context) error { return a.srv.Shutdown(ctx) }

// ready runs every check in parallel with a short timeout and answers 503
// naming the failing ones.
func (a *Admin) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	a.mu.Lock()
	checks := make(map[string]Check, len(a.checks))
	for k, v := range a.checks {
		checks[k] = v
	}
	a.mu.Unlock()

	var mu sync.Mutex
	var wg sync.WaitGroup
	failed := map[string]string{}
	for name, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c(ctx); err != nil {
				mu.Lock()
				failed[name] = err.Error()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failed": failed})
		return
	}
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checked": names})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
