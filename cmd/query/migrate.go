package main

import (
	"context"
	"fmt"

	"liveness/internal/cli"
	"liveness/internal/config"
	"liveness/internal/service"
	"liveness/internal/store"
)

func init() {
	commands["migrate"] = cli.Command{Summary: "apply the ClickHouse migrations (idempotent)", Run: migrate}
}

// migrateConfig is every setting of query migrate.
type migrateConfig struct {
	ch    store.Config
	level string
}

func (c *migrateConfig) register(s *config.Set) {
	c.ch.Register(s)
	s.String(&c.level, "LOG_LEVEL", "info", "log level: debug, info, warn, error")
}

func migrate(ctx context.Context, args []string) error {
	var c migrateConfig
	s := config.New("migrate")
	c.register(s)
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	cfg, level := c.ch, c.level
	log := service.NewLogger("query-migrate", level)
	st, err := store.Open(cfg, store.WithLogger(log))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	log.Info("migrations applied", "clickhouse", cfg.String())
	return nil
}
