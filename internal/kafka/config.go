// Package kafka is the Kafka wiring every service shares: configuration from
// the environment, the dialer and transport built from it, writers and readers
// with the project's settings, header helpers, topic specs and readiness.
//
// It knows nothing of Avro, inference or HTTP: it moves bytes with keys and
// headers. segmentio/kafka-go is imported as kafkago so that this package's
// own name stays unambiguous for callers.
package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"liveness/internal/config"
)

// Environment variables declared by Bind; each is also a flag, named like the
// variable in lower case with dashes: KAFKA_TLS_CA_FILE is --kafka-tls-ca-file.
//
//	Variable               Default           Meaning
//	KAFKA_BROKERS          127.0.0.1:9092    bootstrap brokers, comma-separated
//	KAFKA_CLIENT_ID        liveness          client.id sent to the brokers (quotas, logs)
//	KAFKA_TLS              false             connect with TLS
//	KAFKA_TLS_CA_FILE      (system roots)    PEM CA bundle that signs the brokers' certificates
//	KAFKA_TLS_CERT_FILE    (none)            PEM client certificate, for mutual TLS
//	KAFKA_TLS_KEY_FILE     (none)            PEM private key of the client certificate
//	KAFKA_TLS_SERVER_NAME  (broker host)     name to verify in the brokers' certificates
//	KAFKA_SASL_MECHANISM   none              none | PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
//	KAFKA_SASL_USERNAME    (none)            SASL user
//	KAFKA_SASL_PASSWORD    (none)            SASL password
const (
	EnvBrokers       = "KAFKA_BROKERS"
	EnvClientID      = "KAFKA_CLIENT_ID"
	EnvTLS           = "KAFKA_TLS"
	EnvTLSCAFile     = "KAFKA_TLS_CA_FILE"
	EnvTLSCertFile   = "KAFKA_TLS_CERT_FILE"
	EnvTLSKeyFile    = "KAFKA_TLS_KEY_FILE"
	EnvTLSServerName = "KAFKA_TLS_SERVER_NAME"
	EnvSASLMechanism = "KAFKA_SASL_MECHANISM"
	EnvSASLUsername  = "KAFKA_SASL_USERNAME"
	EnvSASLPassword  = "KAFKA_SASL_PASSWORD"
)

// Defaults that run against the local stack (scripts/kafka.sh).
const (
	DefaultBrokers  = "127.0.0.1:9092"
	DefaultClientID = "liveness"
)

// SASL mechanism names, spelled as Kafka's sasl.enabled.mechanisms spells them.
const (
	SASLNone        = "none"
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// dialTimeout bounds connection setup (TCP, TLS and SASL handshakes): long
// enough for a remote cluster, short enough that readiness probes fail fast.
const dialTimeout = 10 * time.Second

// TLSConfig says how to reach brokers over TLS.
type TLSConfig struct {
	Enable     bool
	CAFile     string // empty: the system roots
	CertFile   string // client certificate for mutual TLS; needs KeyFile
	KeyFile    string
	ServerName string // empty: the host part of the broker address
}

// SASLConfig says how to authenticate to brokers.
type SASLConfig struct {
	Mechanism string // one of SASLNone, SASLPlain, SASLScramSHA256, SASLScramSHA512
	Username  string
	Password  string // never logged
}

// Config is everything needed to connect to a Kafka cluster.
type Config struct {
	Brokers  []string
	ClientID string
	TLS      TLSConfig
	SASL     SASLConfig
}

// DefaultConfig returns the configuration of the local stack.
func DefaultConfig() Config {
	return Config{
		Brokers:  []string{DefaultBrokers},
		ClientID: DefaultClientID,
		SASL:     SASLConfig{Mechanism: SASLNone},
	}
}

// Bind declares the KAFKA_* settings on s (env variable, flag, default;
// see internal/config), writing into c when s is parsed. Defaults are those of
// DefaultConfig, i.e. the local stack.
//
// The password is a flag too, as every setting is, but prefer the
// environment (or a mounted secret) in production: command lines show in ps(1).
func (c *Config) Bind(s *config.Set) {
	s.List(&c.Brokers, EnvBrokers, DefaultBrokers, "Kafka bootstrap brokers, comma-separated")
	s.String(&c.ClientID, EnvClientID, DefaultClientID, "Kafka client.id (broker quotas and logs)")
	s.Bool(&c.TLS.Enable, EnvTLS, false, "connect to Kafka with TLS")
	s.String(&c.TLS.CAFile, EnvTLSCAFile, "", "PEM CA bundle that signs the brokers' certificates (empty: system roots)")
	s.String(&c.TLS.CertFile, EnvTLSCertFile, "", "PEM client certificate for mutual TLS")
	s.String(&c.TLS.KeyFile, EnvTLSKeyFile, "", "PEM private key of the client certificate")
	s.String(&c.TLS.ServerName, EnvTLSServerName, "", "name to verify in the brokers' certificates (empty: the broker host)")
	s.String(&c.SASL.Mechanism, EnvSASLMechanism, SASLNone, "Kafka SASL mechanism: none, PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	s.String(&c.SASL.Username, EnvSASLUsername, "", "Kafka SASL username")
	s.String(&c.SASL.Password, EnvSASLPassword, "", "Kafka SASL password (prefer the environment)")
}

// SplitBrokers parses a comma-separated broker list, dropping blanks.
func SplitBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Validate reports the first problem that would stop a connection. It does
// not read the TLS files; TLS() does.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return ErrNoBrokers
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return fmt.Errorf("%w: client certificate and key must be given together", ErrTLSConfig)
	}
	_, err := c.mechanism()
	return err
}

// TLSConfig builds the crypto/tls configuration, or nil when TLS is off.
func (c Config) TLSConfig() (*tls.Config, error) {
	if !c.TLS.Enable {
		return nil, nil
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLS.ServerName}
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: CA file: %v", ErrTLSConfig, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrTLSConfig, c.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: client key pair: %v", ErrTLSConfig, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// SASLMechanism builds the kafka-go SASL mechanism, or nil for none.
func (c Config) SASLMechanism() (sasl.Mechanism, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c.mechanism()
}

func (c Config) mechanism() (sasl.Mechanism, error) {
	name := c.SASL.Mechanism
	if name == "" || strings.EqualFold(name, SASLNone) {
		return nil, nil
	}
	if c.SASL.Username == "" || c.SASL.Password == "" {
		return nil, fmt.Errorf("%w (%s)", ErrSASLCredentials, name)
	}
	switch strings.ToUpper(name) {
	case SASLPlain:
		return plain.Mechanism{Username: c.SASL.Username, Password: c.SASL.Password}, nil
	case SASLScramSHA256:
		return scram.Mechanism(scram.SHA256, c.SASL.Username, c.SASL.Password)
	case SASLScramSHA512:
		return scram.Mechanism(scram.SHA512, c.SASL.Username, c.SASL.Password)
	}
	return nil, fmt.Errorf("%w: %q (want none, PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", ErrSASLMechanism, name)
}

// Dialer builds the kafka-go Dialer that readers (and raw connections) use.
func (c Config) Dialer() (*kafkago.Dialer, error) {
	tc, mech, err := c.security()
	if err != nil {
		return nil, err
	}
	return &kafkago.Dialer{
		ClientID:      c.ClientID,
		Timeout:       dialTimeout,
		DualStack:     true,
		TLS:           tc,
		SASLMechanism: mech,
	}, nil
}

// Transport builds the kafka-go Transport that writers and Clients use. Each
// Transport pools its own connections: build one per long-lived component.
func (c Config) Transport() (*kafkago.Transport, error) {
	tc, mech, err := c.security()
	if err != nil {
		return nil, err
	}
	return &kafkago.Transport{
		ClientID:    c.ClientID,
		DialTimeout: dialTimeout,
		TLS:         tc,
		SASL:        mech,
	}, nil
}

// Client builds a kafka-go Client (admin and metadata requests) over a new
// Transport. Close its idle connections with CloseIdle when done.
func (c Config) Client() (*kafkago.Client, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	return &kafkago.Client{Addr: kafkago.TCP(c.Brokers...), Transport: t}, nil
}

func (c Config) security() (*tls.Config, sasl.Mechanism, error) {
	tc, err := c.TLSConfig()
	if err != nil {
		return nil, nil, err
	}
	mech, err := c.SASLMechanism()
	if err != nil {
		return nil, nil, err
	}
	return tc, mech, nil
}

// CloseIdle releases the pooled connections of a Client built by Config.Client.
func CloseIdle(cl *kafkago.Client) {
	if t, ok := cl.Transport.(*kafkago.Transport); ok {
		t.CloseIdleConnections()
	}
}
