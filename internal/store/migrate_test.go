package store

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"liveness/internal/config"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations("`x`")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 7 {
		t.Fatalf("%d migrations, want at least 7", len(ms))
	}
	for i, m := range ms {
		if m.version != uint32(i+1) {
			t.Errorf("%s: version %d at position %d: versions must be 1, 2, 3...", m.name, m.version, i)
		}
		if strings.Contains(m.sql, dbPlaceholder) || !strings.Contains(m.sql, "`x`.") {
			t.Errorf("%s: database not substituted", m.name)
		}
		if !idempotent(stripComments(m.sql)) {
			t.Errorf("%s: not idempotent (neither CREATE ... IF NOT EXISTS nor INSERT ... NOT IN)", m.name)
		}
	}
}

// idempotent recognises the two kinds of migration Migrate allows: a CREATE
// ... IF NOT EXISTS, and a backfill INSERT that copies only what its target
// lacks (NOT IN a subquery of the target).
func idempotent(sql string) bool {
	s := strings.Join(strings.Fields(sql), " ")
	switch {
	case strings.HasPrefix(s, "CREATE "):
		return strings.Contains(s, " IF NOT EXISTS ")
	case strings.HasPrefix(s, "INSERT INTO "):
		target := strings.Fields(strings.TrimPrefix(s, "INSERT INTO "))[0]
		return strings.Contains(s, " NOT IN (SELECT ") && strings.HasSuffix(s, " FROM "+target+")")
	}
	return false
}

func TestIdempotentRule(t *testing.T) {
	for sql, want := range map[string]bool{
		"CREATE TABLE IF NOT EXISTS `x`.t (a UInt8) ENGINE = Memory":                 true,
		"CREATE TABLE `x`.t (a UInt8) ENGINE = Memory":                               false,
		"INSERT INTO `x`.t SELECT a FROM `x`.s WHERE a NOT IN (SELECT a FROM `x`.t)": true,
		"INSERT INTO `x`.t SELECT a FROM `x`.s":                                      false,
		"INSERT INTO `x`.t SELECT a FROM `x`.s WHERE a NOT IN (SELECT a FROM `x`.s)": false,
		"DROP TABLE `x`.t": false,
	} {
		if got := idempotent(sql); got != want {
			t.Errorf("idempotent(%q) = %v, want %v", sql, got, want)
		}
	}
}

// What ClickHouse 18.16 does not know (or keeps experimental); the files
// must run there and on current releases.
var newerThan1816 = regexp.MustCompile(`\b(DateTime64|LowCardinality|Bool|Map|JSON|Nullable\(Array|CODEC|TTL|PROJECTION|INDEX)\b`)

func TestMigrationsAvoidNewSyntax(t *testing.T) {
	ms, err := loadMigrations("`x`")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if bad := newerThan1816.FindString(stripComments(m.sql)); bad != "" {
			t.Errorf("%s uses %s, which ClickHouse 18.16 lacks", m.name, bad)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Addr: DefaultAddr, Database: DefaultDatabase, Username: DefaultUsername}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := map[string]Config{
		"injected database":   {Addr: DefaultAddr, Database: "x; DROP TABLE y"},
		"quoted database":     {Addr: DefaultAddr, Database: "a`b"},
		"empty address":       {Addr: " , ", Database: "db"},
		"CA without TLS":      {Addr: DefaultAddr, Database: "db", CAFile: "/etc/ssl/ca.pem"},
		"unknown compression": {Addr: DefaultAddr, Database: "db", Compression: "gzip"},
	}
	for name, c := range bad {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestConfigRegister(t *testing.T) {
	t.Setenv("CLICKHOUSE_ADDR", "ch1:9000, ch2:9000")
	t.Setenv("CLICKHOUSE_TLS", "true")
	t.Setenv("CLICKHOUSE_COMPRESSION", "none")
	var c Config
	set := config.New("test")
	c.Register(set)
	if err := set.Parse([]string{"--clickhouse-username=reader"}); err != nil {
		t.Fatal(err)
	}
	if got := c.addrs(); len(got) != 2 || got[1] != "ch2:9000" || !c.TLS || c.Database != DefaultDatabase || c.Username != "reader" || c.Compression != "none" {
		t.Fatalf("config %+v", c)
	}
	c.Password = "s3cret-pw"
	if strings.Contains(c.String(), c.Password) {
		t.Fatalf("String() leaks the password: %s", c)
	}
}

func TestAutoCompressionIsNoneOnlyOnLoopback(t *testing.T) {
	for addr, want := range map[string]clickhouse.CompressionMethod{
		"127.0.0.1:9000":              clickhouse.CompressionNone,
		"localhost:9000, [::1]:9000":  clickhouse.CompressionNone,
		"127.0.0.1:9000, ch.svc:9000": clickhouse.CompressionLZ4,
		"10.0.0.7:9000":               clickhouse.CompressionLZ4,
		"clickhouse.data.svc:9440":    clickhouse.CompressionLZ4,
	} {
		for _, setting := range []string{"", CompressionAuto} {
			got, ok := Config{Addr: addr, Compression: setting}.compression()
			if !ok || got != want {
				t.Errorf("%q with %q: %v, want %v", addr, setting, got, want)
			}
		}
	}
	if got, _ := (Config{Addr: "127.0.0.1:9000", Compression: "lz4"}).compression(); got != clickhouse.CompressionLZ4 {
		t.Errorf("lz4 asked on loopback: %v", got)
	}
}
