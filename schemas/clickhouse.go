package schemas

import "embed"

// ClickHouseMigrations holds the ClickHouse DDL migrations, one statement per
// file, applied in file-name order by internal/store.Migrate. Table names are
// written ${db}.name; the store substitutes the configured database (a
// validated, quoted identifier) so the same files serve any database name.
//
//go:embed clickhouse/*.sql
var ClickHouseMigrations embed.FS
