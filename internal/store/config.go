package store

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ErrInvalidConfig reports a configuration the store refuses to start with.
var ErrInvalidConfig = errors.New("store: invalid config")

// Config says where ClickHouse is and how to reach it. Register (register.go)
// binds every field to its environment variable and flag; the defaults reach
// the local stack (scripts/clickhouse.sh).
type Config struct {
	Addr          string // CLICKHOUSE_ADDR: host:port of the native protocol, comma-separated for several
	Database      string // CLICKHOUSE_DATABASE
	Username      string // CLICKHOUSE_USERNAME
	Password      string // CLICKHOUSE_PASSWORD
	TLS           bool   // CLICKHOUSE_TLS
	CAFile        string // CLICKHOUSE_CA_FILE: PEM bundle; the system pool when empty
	TLSServerName string // CLICKHOUSE_TLS_SERVER_NAME: when the address is not the certificate's name
	Compression   string // CLICKHOUSE_COMPRESSION: lz4, zstd or none (see compressions)
}

// compressions are the native protocol's block compressions
// CLICKHOUSE_COMPRESSION names; 18.16 and current releases speak all three.
//
// The default, auto, is lz4 for a server across a network and none on
// loopback, where there is no network to save and compressing only spends
// CPU that the server on the same cores needs: Go's lz4 compressed the
// sink's blocks at ~150 MB/s, 2.3 of its 10.2 s CPU per 200k scans, and
// bench-query's sink went from 17.8k to 19.7-26.0k rows/s without it
// (200k scans, two inserts at once, two shared cores). zstd was slower
// still (11.4k rows/s).
var compressions = map[string]clickhouse.CompressionMethod{
	"lz4":  clickhouse.CompressionLZ4,
	"zstd": clickhouse.CompressionZSTD,
	"none": clickhouse.CompressionNone,
}

// CompressionAuto picks lz4 or none by the addresses (see compressions).
const CompressionAuto = "auto"

// compression is c.Compression's method.
func (c Config) compression() (clickhouse.CompressionMethod, bool) {
	if c.Compression == "" || c.Compression == CompressionAuto {
		if c.loopback() {
			return clickhouse.CompressionNone, true
		}
		return clickhouse.CompressionLZ4, true
	}
	m, ok := compressions[c.Compression]
	return m, ok
}

// loopback says whether every address is on this host.
func (c Config) loopback() bool {
	for _, a := range c.addrs() {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			host = a
		}
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return true
}

// Defaults of the local stack.
const (
	DefaultAddr     = "127.0.0.1:9000"
	DefaultDatabase = "face_liveness"
	DefaultUsername = "default"
)

// Validate checks what would otherwise fail later and less clearly.
func (c Config) Validate() error {
	if len(c.addrs()) == 0 {
		return fmt.Errorf("%w: empty ClickHouse address", ErrInvalidConfig)
	}
	if _, err := quoteIdent(c.Database); err != nil {
		return err
	}
	if _, ok := c.compression(); !ok {
		return fmt.Errorf("%w: CLICKHOUSE_COMPRESSION %q: want auto, lz4, zstd or none", ErrInvalidConfig, c.Compression)
	}
	if !c.TLS && (c.CAFile != "" || c.TLSServerName != "") {
		// A CA file without TLS is a half-done setup: refuse rather than
		// silently talk plain text.
		return fmt.Errorf("%w: CLICKHOUSE_CA_FILE/CLICKHOUSE_TLS_SERVER_NAME set but CLICKHOUSE_TLS is off", ErrInvalidConfig)
	}
	return nil
}

// String leaves the password out, so a config can be logged.
func (c Config) String() string {
	return fmt.Sprintf("clickhouse://%s@%s/%s?tls=%t", c.Username, c.Addr, c.Database, c.TLS)
}

func (c Config) addrs() []string {
	var out []string
	for _, a := range strings.Split(c.Addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (c Config) tlsConfig() (*tls.Config, error) {
	if !c.TLS {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
	if c.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("%w: CA file: %v", ErrInvalidConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrInvalidConfig, c.CAFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

// identRe is deliberately narrower than what ClickHouse accepts: a database
// name ends up in DDL text (identifiers cannot be bound as parameters), so
// only plain names are allowed.
var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// quoteIdent returns name as a back-quoted identifier, or ErrInvalidConfig.
func quoteIdent(name string) (string, error) {
	if !identRe.MatchString(name) {
		return "", fmt.Errorf("%w: database name %q must match %s", ErrInvalidConfig, name, identRe)
	}
	return "`" + name + "`", nil
}
