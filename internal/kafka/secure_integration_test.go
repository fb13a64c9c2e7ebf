//go:build integration

package kafka

import (
	"context"
	"errors"
	"fmt"
	"liveness/internal/kafka/kafkatest"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// TLS and SASL against a real broker: the same Config path services use
// (Dialer for readers, Transport for writers and admin) through a SASL_SSL
// listener, with SCRAM-SHA-512 and with PLAIN; wrong credentials and an
// unknown CA must fail.
func TestTLSAndSASL(t *testing.T) {
	b := startSecureBroker(t)
	secure := func(mech, user, pass string) Config {
		c := DefaultConfig()
		c.Brokers = []string{b.Secure}
		c.ClientID = "secure-test"
		c.TLS = TLSConfig{Enable: true, CAFile: b.CAFile}
		c.SASL = SASLConfig{Mechanism: mech, Username: user, Password: pass}
		return c
	}

	for _, tc := range []struct {
		mech, user, pass string
	}{
		{SASLScramSHA512, scramUser, scramPassword},
		{SASLPlain, plainUser, plainPassword},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			cfg := secure(tc.mech, tc.user, tc.pass)
			roundTrip(t, cfg)

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			wrong := secure(tc.mech, tc.user, tc.pass+"-wrong")
			_, err := Ping(ctx, wrong)
			if err == nil {
				t.Fatal("wrong password accepted")
			}
			if !errors.Is(err, kafkago.SASLAuthenticationFailed) {
				t.Errorf("wrong password: %v, want SASLAuthenticationFailed", err)
			}
			w, _ := NewWriter(wrong, TopicResults)
			defer w.Close()
			if err := w.WriteMessages(ctx, kafkago.Message{Key: []byte("k"), Value: []byte("v")}); err == nil {
				t.Error("writer with a wrong password wrote")
			}
		})
	}

	t.Run("unknown CA", func(t *testing.T) {
		cfg := secure(SASLScramSHA512, scramUser, scramPassword)
		cfg.TLS.CAFile = "" // system roots do not know the test CA
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := Ping(ctx, cfg); err == nil {
			t.Fatal("TLS accepted a certificate from an unknown CA")
		}
	})

	t.Run("plaintext to TLS listener", func(t *testing.T) {
		cfg := secure(SASLScramSHA512, scramUser, scramPassword)
		cfg.TLS.Enable = false
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := Ping(ctx, cfg); err == nil {
			t.Fatal("plaintext client got an answer from the SASL_SSL listener")
		}
	})
}

// roundTrip creates a topic, produces and consumes through cfg only.
func roundTrip(t *testing.T, cfg Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	n, err := Ping(ctx, cfg)
	if err != nil || n != 1 {
		t.Fatalf("ping over SASL_SSL: %d brokers, %v", n, err)
	}
	topic := kafkatest.Unique("test.secure")
	if _, err := EnsureTopics(ctx, cfg, TopicSpec{Name: topic, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(cfg, topic)
	if err != nil {
		t.Fatal(err)
	}
	const count = 20
	for i := range count {
		m := kafkago.Message{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("secret-%d", i))}
		SetHeader(&m, "n", fmt.Sprint(i))
		if err := w.WriteMessages(ctx, m); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	w.Close()

	r, err := NewReader(cfg, kafkatest.Unique("secure-group"), topic)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seen := map[string]bool{}
	for len(seen) < count {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch after %d: %v", len(seen), err)
		}
		if h, _ := Header(m, "n"); h != string(m.Key) || string(m.Value) != "secret-"+h {
			t.Fatalf("message %q/%q header %q", m.Key, m.Value, h)
		}
		seen[string(m.Key)] = true
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}
