package store

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"liveness/schemas"
)

// dbPlaceholder is how the migration files name the database.
const dbPlaceholder = "${db}"

// migration is one embedded DDL file: one statement.
type migration struct {
	version uint32
	name    string // file name
	sql     string // with the database substituted
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// Migrate creates database (when missing) and its schema_migrations table,
// then applies, in version order, each embedded migration that table does not
// list yet, recording it once applied. Re-running it is a no-op.
//
// Every migration is a single CREATE ... IF NOT EXISTS, or a backfill
// INSERT ... SELECT that copies only the rows its target lacks (NOT IN), so
// a run cut short between applying and recording a version repeats
// harmlessly (TestLoadMigrations holds every file to this). Two processes
// migrating at once may both apply (idempotently) and both record a version;
// schema_migrations is a ReplacingMergeTree keyed by version, and Migrate
// reads it with DISTINCT, so that stays correct too.
func Migrate(ctx context.Context, conn driver.Conn, database string) error {
	db, err := quoteIdent(database)
	if err != nil {
		return err
	}
	return migrate(ctx, conn, db, slog.Default())
}

func migrate(ctx context.Context, conn driver.Conn, db string, log *slog.Logger) error {
	ms, err := loadMigrations(db)
	if err != nil {
		return err
	}
	for _, ddl := range []string{
		"CREATE DATABASE IF NOT EXISTS " + db,
		"CREATE TABLE IF NOT EXISTS " + db + ".schema_migrations" +
			" (version UInt32, name String, applied_at DateTime)" +
			" ENGINE = ReplacingMergeTree ORDER BY version SETTINGS index_granularity = 8192",
	} {
		if err := conn.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("store: migrate: bootstrap: %w", err)
		}
	}
	applied, err := appliedVersions(ctx, conn, db)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if slices.Contains(applied, m.version) {
			continue
		}
		if err := conn.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("store: migrate %s: %w", m.name, err)
		}
		if err := record(ctx, conn, db, m); err != nil {
			return err
		}
		log.Info("clickhouse migration applied", "version", m.version, "name", m.name)
	}
	return nil
}

func appliedVersions(ctx context.Context, conn driver.Conn, db string) ([]uint32, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT version FROM "+db+".schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrate: read applied versions: %w", err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: migrate: read applied versions: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func record(ctx context.Context, conn driver.Conn, db string, m migration) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".schema_migrations (version, name, applied_at)")
	if err != nil {
		return fmt.Errorf("store: migrate: record %s: %w", m.name, err)
	}
	if err := b.Append(m.version, m.name, time.Now().UTC().Truncate(time.Second)); err != nil {
		_ = b.Abort()
		return fmt.Errorf("store: migrate: record %s: %w", m.name, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("store: migrate: record %s: %w", m.name, err)
	}
	return nil
}

// loadMigrations reads the embedded files in version order, substituting db.
// Names must be NNNN_name.sql with unique versions; one statement per file.
func loadMigrations(db string) ([]migration, error) {
	names, err := fs.Glob(schemas.ClickHouseMigrations, "clickhouse/*.sql")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var ms []migration
	for _, p := range names {
		name := strings.TrimPrefix(p, "clickhouse/")
		sub := migrationName.FindStringSubmatch(name)
		if sub == nil {
			return nil, fmt.Errorf("store: migration file %s: want NNNN_name.sql", name)
		}
		v, _ := strconv.ParseUint(sub[1], 10, 32)
		b, err := schemas.ClickHouseMigrations.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("store: migrations: %w", err)
		}
		stmt := strings.TrimSpace(string(b))
		stmt = strings.TrimSpace(strings.TrimSuffix(stmt, ";"))
		if strings.Contains(stripComments(stmt), ";") {
			return nil, fmt.Errorf("store: migration %s: one statement per file", name)
		}
		ms = append(ms, migration{version: uint32(v), name: name, sql: strings.ReplaceAll(stmt, dbPlaceholder, db)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return int(a.version) - int(b.version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("store: migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// stripComments drops "--" line comments; enough for our own DDL files, which
// hold no string literal containing "--".
func stripComments(sql string) string {
	var b strings.Builder
	for line := range strings.Lines(sql) {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}
