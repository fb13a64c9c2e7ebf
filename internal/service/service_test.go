package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminEndpoints(t *testing.T) {
	a := NewAdmin("127.0.0.1:0")
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_things_total", Help: "things"})
	a.Registry.MustRegister(c)
	c.Add(3)
	var healthy atomic.Bool
	healthy.Store(true)
	a.AddCheck("kafka", func(context.Context) error {
		if healthy.Load() {
			return nil
		}
		return errors.New("broker unreachable")
	})
	if err := a.Start(slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	base := "http://" + a.Addr()

	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "kafka") {
		t.Fatalf("readyz %d %s", code, body)
	}
	healthy.Store(false)
	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a failing check: %d", code)
	}
	var out struct{ Failed map[string]string }
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Failed["kafka"] != "broker unreachable" {
		t.Fatalf("body %s (%v)", body, err)
	}
	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "test_things_total 3") {
		t.Fatalf("metrics %d", code)
	}
}

func TestProfilingLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:6060", "nohost"} {
		if _, err := StartProfiling(addr, slog.Default()); !errors.Is(err, ErrProfileAddr) {
			t.Errorf("StartProfiling(%q) = %v, want ErrProfileAddr", addr, err)
		}
	}
	stop, err := StartProfiling("", slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	stop()
}

func TestProfilingServes(t *testing.T) {
	addr, err := freeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	stop, err := StartProfiling(addr, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	code, body := get(t, "http://"+addr+"/debug/pprof/goroutine?debug=1")
	if code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("goroutine profile: %d %.200q", code, body)
	}
}

func freeLoopback() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
