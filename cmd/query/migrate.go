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

func migrate(ctx context.Context, args []string) error {
	var cfg store.Config
	var level string
	s := config.New("migrate")
	cfg.Register(s)
	s.String(&level, "LOG_LEVEL", "info", "log level: debug, info, warn, error")
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
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
