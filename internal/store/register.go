package store

import "liveness/internal/config"

// Register declares the store's settings (CLICKHOUSE_*) on a command's
// configuration set, with the local stack's defaults.
func (c *Config) Register(s *config.Set) {
	s.String(&c.Addr, "CLICKHOUSE_ADDR", DefaultAddr, "ClickHouse native address(es), host:port[,host:port]")
	s.String(&c.Database, "CLICKHOUSE_DATABASE", DefaultDatabase, "ClickHouse database")
	s.String(&c.Username, "CLICKHOUSE_USERNAME", DefaultUsername, "ClickHouse user")
	s.String(&c.Password, "CLICKHOUSE_PASSWORD", "", "ClickHouse password")
	s.Bool(&c.TLS, "CLICKHOUSE_TLS", false, "connect to ClickHouse over TLS")
	s.String(&c.CAFile, "CLICKHOUSE_CA_FILE", "", "PEM CA bundle for ClickHouse TLS (system pool when empty)")
	s.String(&c.Compression, "CLICKHOUSE_COMPRESSION", CompressionAuto, "ClickHouse native block compression: auto (none on loopback, lz4 otherwise), lz4, zstd or none")
	s.String(&c.TLSServerName, "CLICKHOUSE_TLS_SERVER_NAME", "", "expected name in ClickHouse's certificate")
}
