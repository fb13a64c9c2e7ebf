//go:build integration

package e2e

import (
	"net/http"
	"testing"
	"time"

	"liveness/internal/kafka"
	"liveness/internal/kafka/kafkatest"
)

// The broker goes away under a running ingest: captures get 503 with
// Retry-After and none of them is in Kafka afterwards (nothing half-written);
// the broker comes back on the same ports and data, and the same ingest and
// processor processes answer 200 again, without a restart.
func TestBrokerOutage(t *testing.T) {
	// Its own broker, which it kills. After a SIGKILL the controller keeps the
	// dead broker's registration until its session expires: a short session
	// and a patient registration let the restarted node back in.
	broker := kafkatest.Start(t, kafkatest.WithProperties(
		"broker.session.timeout.ms=15000\ninitial.broker.registration.timeout.ms=180000"))
	cfg := kafka.DefaultConfig()
	cfg.Brokers = []string{broker.Addr}
	s := newStack(t, cfg)
	processor, _ := s.processor()
	ingest, base := s.ingest("INGEST_PUBLISH_TIMEOUT=3s")
	tok := s.token()
	img := readFace(t, s.paths, "real/r11_tom_cruise_closeup.jpg")

	if r := post(t, base, tok, 120, capture("before.jpg", img)...); r.Status != http.StatusOK {
		t.Fatalf("before the outage: want 200, got %s", r)
	}
	published := endOffsets(t, cfg, s.topics.Captures)

	broker.Kill(t)
	for i := range 3 {
		r := post(t, base, tok, 5, capture("during.jpg", img)...)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" || r.apiError().Error != "unavailable" {
			t.Errorf("during the outage (%d): want 503 unavailable with Retry-After, got %s (Retry-After %q)",
				i, r, r.Header.Get("Retry-After"))
		}
	}

	broker.Restart(t)
	if !processor.running() {
		t.Fatalf("processor run exited during the outage (%v): it must wait for the broker", processor.err)
	}
	// Clients reconnect on their own; until they have, 503 is the right answer.
	deadline := time.Now().Add(120 * time.Second)
	var accepted int64
	for {
		r := post(t, base, tok, 60, capture("after.jpg", img)...)
		if r.Status == http.StatusOK || r.Status == http.StatusAccepted {
			accepted++
		}
		if r.Status == http.StatusOK {
			break
		}
		if r.Status != http.StatusServiceUnavailable && r.Status != http.StatusAccepted {
			t.Fatalf("after the outage: want 200 (or 503 while reconnecting), got %s", r)
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingest did not recover within 120 s of the broker's return: %s", r)
		}
		time.Sleep(time.Second)
	}
	if !ingest.running() || !processor.running() {
		t.Fatal("ingest or processor exited during the outage")
	}
	// A 503'd capture written late (a retry behind the client's back) would
	// show here, and would be scanned though its caller was told to retry.
	time.Sleep(2 * time.Second)
	if got := endOffsets(t, cfg, s.topics.Captures); got != published+accepted {
		t.Fatalf("captures topic holds %d captures since the outage, want %d (the ones accepted): 503s were half-written",
			got-published, accepted)
	}
}
