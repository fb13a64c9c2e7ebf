// Package store is the ClickHouse store of the scans: the only package that
// talks to ClickHouse. It speaks the native protocol (clickhouse-go/v2) and
// works against ClickHouse 18.16 (Debian's package) as well as current
// releases; see Migrate for the schema and InsertScans/GetScan for the data.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ErrNotFound means no scan with that id exists in that company.
var ErrNotFound = errors.New("store: scan not found")

// Store reads and writes the scans of one ClickHouse database.
type Store struct {
	conn driver.Conn
	db   string // quoted identifier
	log  *slog.Logger
	sql  queries
}

// Option tunes Open.
type Option func(*options)

type options struct {
	log          *slog.Logger
	maxOpenConns int
	dialTimeout  time.Duration
}

// WithLogger sets the logger (slog.Default otherwise). The store logs ids and
// counts, never images or landmarks.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithMaxOpenConns caps the connection pool (default 4: the sink and the query
// API each need a few, and the local server has two cores).
func WithMaxOpenConns(n int) Option { return func(o *options) { o.maxOpenConns = n } }

// WithDialTimeout bounds connecting (default 5 s).
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// Open validates cfg and prepares a connection pool. It does not connect:
// call Ping (readiness) or Migrate (startup) to find out whether the server
// answers.
//
// The connection has no default database: the database may not exist yet
// (Migrate creates it, and 18.16 refuses a handshake naming a missing one),
// so every statement names it.
func Open(cfg Config, opts ...Option) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{log: slog.Default(), maxOpenConns: 4, dialTimeout: 5 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	method, _ := cfg.compression() // validated above
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol:     clickhouse.Native,
		Addr:         cfg.addrs(),
		Auth:         clickhouse.Auth{Username: cfg.Username, Password: cfg.Password},
		TLS:          tc,
		Compression:  &clickhouse.Compression{Method: method},
		DialTimeout:  o.dialTimeout,
		MaxOpenConns: o.maxOpenConns,
		MaxIdleConns: o.maxOpenConns,
		ClientInfo: clickhouse.ClientInfo{Products: []struct{ Name, Version string }{
			{Name: "face-liveness", Version: "1"},
		}},
		// No Settings here: against a server older than revision 54429
		// (18.16 is one) the driver can only encode integer settings.
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", cfg, err)
	}
	db, _ := quoteIdent(cfg.Database) // validated above
	return &Store{conn: conn, db: db, log: o.log, sql: newQueries(db)}, nil
}

// Close releases the pool.
func (s *Store) Close() error { return s.conn.Close() }

// Ping reports whether the server answers; for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Migrate brings the store's database up to date; see the package function.
func (s *Store) Migrate(ctx context.Context) error {
	return migrate(ctx, s.conn, s.db, s.log)
}
