package kafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"

	"liveness/internal/config"
)

func bind(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	var c Config
	set := config.New("test")
	c.Bind(set)
	err := set.Parse(args)
	return c, err
}

func TestBindDefaults(t *testing.T) {
	for _, v := range []string{EnvBrokers, EnvClientID, EnvTLS, EnvSASLMechanism} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	c, err := bind(t)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, DefaultConfig()) {
		t.Fatalf("got %+v, want defaults %+v", c, DefaultConfig())
	}
	if got := c.Brokers; len(got) != 1 || got[0] != "127.0.0.1:9092" {
		t.Fatalf("default brokers %v", got)
	}
}

func TestBindReadsEveryVariable(t *testing.T) {
	for k, v := range map[string]string{
		EnvBrokers:       " a:1, b:2 ,,c:3 ",
		EnvClientID:      "ingest",
		EnvTLS:           "true",
		EnvTLSCAFile:     "/ca.pem",
		EnvTLSCertFile:   "/c.pem",
		EnvTLSKeyFile:    "/k.pem",
		EnvTLSServerName: "kafka.example",
		EnvSASLMechanism: "SCRAM-SHA-512",
		EnvSASLUsername:  "svc",
		EnvSASLPassword:  " secret ",
	} {
		t.Setenv(k, v)
	}
	c, err := bind(t)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Brokers:  []string{"a:1", "b:2", "c:3"},
		ClientID: "ingest",
		TLS:      TLSConfig{Enable: true, CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/k.pem", ServerName: "kafka.example"},
		SASL:     SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "svc", Password: " secret "},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestBindRejectsBadBool(t *testing.T) {
	t.Setenv(EnvTLS, "maybe")
	if _, err := bind(t); err == nil || !strings.Contains(err.Error(), EnvTLS) {
		t.Fatalf("err = %v, want one naming %s", err, EnvTLS)
	}
}

func TestFlagsOverrideEnv(t *testing.T) {
	t.Setenv(EnvBrokers, "env:1")
	t.Setenv(EnvClientID, "env")
	c, err := bind(t, "--kafka-brokers", "f:1,f:2", "--kafka-tls", "--kafka-sasl-mechanism", "PLAIN")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Brokers, []string{"f:1", "f:2"}) || !c.TLS.Enable || c.SASL.Mechanism != "PLAIN" || c.ClientID != "env" {
		t.Fatalf("flags not applied over env: %+v", c)
	}
}

func TestValidate(t *testing.T) {
	base := DefaultConfig()
	cases := []struct {
		name string
		mod  func(*Config)
		want error
	}{
		{"defaults", func(*Config) {}, nil},
		{"no brokers", func(c *Config) { c.Brokers = nil }, ErrNoBrokers},
		{"cert without key", func(c *Config) { c.TLS.CertFile = "c.pem" }, ErrTLSConfig},
		{"unknown mechanism", func(c *Config) { c.SASL = SASLConfig{Mechanism: "GSSAPI", Username: "u", Password: "p"} }, ErrSASLMechanism},
		{"plain without password", func(c *Config) { c.SASL = SASLConfig{Mechanism: "PLAIN", Username: "u"} }, ErrSASLCredentials},
		{"scram without user", func(c *Config) { c.SASL = SASLConfig{Mechanism: "SCRAM-SHA-256", Password: "p"} }, ErrSASLCredentials},
		{"empty mechanism is none", func(c *Config) { c.SASL = SASLConfig{} }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.Brokers = append([]string(nil), base.Brokers...)
			tc.mod(&c)
			err := c.Validate()
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Validate() = %v, want %v", err, tc.want)
			}
			if _, derr := c.Dialer(); (derr == nil) != (tc.want == nil) {
				t.Fatalf("Dialer() error %v disagrees with Validate() %v", derr, err)
			}
		})
	}
}

func TestSASLMechanismMapping(t *testing.T) {
	for _, tc := range []struct{ in, name string }{
		{"none", ""}, {"", ""}, {"PLAIN", "PLAIN"}, {"plain", "PLAIN"},
		{"SCRAM-SHA-256", "SCRAM-SHA-256"}, {"scram-sha-512", "SCRAM-SHA-512"},
	} {
		c := DefaultConfig()
		c.SASL = SASLConfig{Mechanism: tc.in, Username: "u", Password: "p"}
		m, err := c.SASLMechanism()
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		got := ""
		if m != nil {
			got = m.Name()
		}
		if got != tc.name {
			t.Fatalf("%q: mechanism %q, want %q", tc.in, got, tc.name)
		}
		d, _ := c.Dialer()
		tr, _ := c.Transport()
		if mechName(d.SASLMechanism) != got || mechName(tr.SASL) != got {
			t.Fatalf("%q: dialer/transport do not carry the mechanism", tc.in)
		}
	}
	c := DefaultConfig()
	c.SASL = SASLConfig{Mechanism: "PLAIN", Username: "alice", Password: "pw"}
	m, _ := c.SASLMechanism()
	if p, ok := m.(plain.Mechanism); !ok || p.Username != "alice" || p.Password != "pw" {
		t.Fatalf("PLAIN mechanism %#v", m)
	}
}

func mechName(m sasl.Mechanism) string {
	if m == nil {
		return ""
	}
	return m.Name()
}

func TestDialerAndTransportWithoutTLS(t *testing.T) {
	c := DefaultConfig()
	c.ClientID = "proc"
	d, err := c.Dialer()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.Transport()
	if err != nil {
		t.Fatal(err)
	}
	if d.TLS != nil || tr.TLS != nil || d.SASLMechanism != nil || tr.SASL != nil {
		t.Fatal("plaintext config produced TLS or SASL")
	}
	if d.ClientID != "proc" || tr.ClientID != "proc" || d.Timeout == 0 || tr.DialTimeout == 0 {
		t.Fatalf("dialer %+v / transport %+v miss client id or timeouts", d, tr)
	}
}

func TestTLSConfigFromFiles(t *testing.T) {
	dir := t.TempDir()
	caPEM, certPEM, keyPEM := selfSigned(t)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := DefaultConfig()
	c.TLS = TLSConfig{Enable: true, CAFile: write("ca.pem", caPEM), CertFile: write("c.pem", certPEM),
		KeyFile: write("k.pem", keyPEM), ServerName: "kafka.internal"}
	tc, err := c.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if tc.ServerName != "kafka.internal" || tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.MinVersion < 0x0303 {
		t.Fatalf("tls config %+v", tc)
	}
	d, _ := c.Dialer()
	tr, _ := c.Transport()
	if d.TLS == nil || tr.TLS == nil || d.TLS.ServerName != "kafka.internal" {
		t.Fatal("dialer/transport do not carry TLS")
	}

	c.TLS.CAFile = write("junk.pem", []byte("not pem"))
	if _, err := c.TLSConfig(); !errors.Is(err, ErrTLSConfig) {
		t.Fatalf("junk CA: err = %v", err)
	}
	c.TLS.CAFile = filepath.Join(dir, "missing.pem")
	if _, err := c.Dialer(); !errors.Is(err, ErrTLSConfig) {
		t.Fatalf("missing CA: err = %v", err)
	}
	c.TLS.Enable = false
	if tc, err := c.TLSConfig(); tc != nil || err != nil {
		t.Fatalf("disabled TLS: %v %v", tc, err)
	}
}

// selfSigned returns a CA certificate and a leaf certificate+key it signed.
func selfSigned(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caTmpl, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func TestSplitBrokers(t *testing.T) {
	if got := SplitBrokers(" , "); got != nil {
		t.Fatalf("blank list gave %v", got)
	}
	if got := SplitBrokers("a:1,b:2"); !reflect.DeepEqual(got, []string{"a:1", "b:2"}) {
		t.Fatalf("got %v", got)
	}
}

func TestNewWriterSettings(t *testing.T) {
	w, err := NewWriter(DefaultConfig(), "t1", WithBatchSize(7))
	if err != nil {
		t.Fatal(err)
	}
	if w.RequiredAcks != kafkago.RequireAll || w.Async || w.BatchTimeout != DefaultBatchTimeout ||
		w.BatchBytes != MaxMessageBytes || w.BatchSize != 7 || w.AllowAutoTopicCreation || w.Topic != "t1" {
		t.Fatalf("writer %+v", w)
	}
	if _, ok := w.Balancer.(*kafkago.Murmur2Balancer); !ok {
		t.Fatalf("balancer %T, want murmur2 (Java-compatible)", w.Balancer)
	}
	if _, err := NewWriter(DefaultConfig(), ""); !errors.Is(err, ErrTopicSpec) {
		t.Fatalf("empty topic: %v", err)
	}
	bad := DefaultConfig()
	bad.Brokers = nil
	if _, err := NewWriter(bad, "t"); !errors.Is(err, ErrNoBrokers) {
		t.Fatalf("no brokers: %v", err)
	}
}

func TestNewReaderSettings(t *testing.T) {
	r, err := NewReader(DefaultConfig(), "g", "t", WithMaxWait(150*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rc := r.Config()
	if rc.GroupID != "g" || rc.Topic != "t" || rc.CommitInterval != 0 || rc.StartOffset != kafkago.FirstOffset ||
		rc.MaxWait != 150*time.Millisecond || rc.MaxBytes != ReaderMaxBytes || rc.MaxBytes <= MaxMessageBytes {
		t.Fatalf("reader config %+v", rc)
	}
	if _, err := NewReader(DefaultConfig(), "", "t"); !errors.Is(err, ErrTopicSpec) {
		t.Fatalf("no group: %v", err)
	}
}
