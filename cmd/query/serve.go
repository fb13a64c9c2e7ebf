package main

import (
	"context"
	"fmt"
	"time"

	"liveness/internal/auth"
	"liveness/internal/avro"
	"liveness/internal/cli"
	"liveness/internal/config"
	"liveness/internal/kafka"
	"liveness/internal/queryapi"
	"liveness/internal/service"
	"liveness/internal/store"
)

func init() {
	commands["serve"] = cli.Command{Summary: "serve the query API (get, update, list, stats of scans)", Run: serve}
}

// serveConfig is every setting of query serve.
type serveConfig struct {
	ch                  store.Config
	kc                  kafka.Config
	av                  avro.Settings
	ac                  auth.Config
	httpAddr, adminAddr string
	updates, level      string
	timeout, drain      time.Duration
}

func (c *serveConfig) register(s *config.Set) {
	c.ac = auth.DefaultConfig()
	c.ch.Register(s)
	c.kc.Bind(s)
	c.av.Register(s)
	s.String(&c.httpAddr, "QUERY_HTTP_ADDR", "127.0.0.1:8081", "address of the query API")
	s.String(&c.adminAddr, "QUERY_ADMIN_ADDR", "127.0.0.1:9182", "address of /metrics, /healthz and /readyz")
	s.String(&c.updates, "UPDATES_TOPIC", kafka.TopicUpdates, "topic of analysts' updates")
	s.Duration(&c.timeout, "QUERY_TIMEOUT", 10*time.Second, "bound on each request's ClickHouse and Kafka calls")
	s.String(&c.level, "LOG_LEVEL", "info", "log level: debug, info, warn, error")
	s.Duration(&c.drain, "SHUTDOWN_TIMEOUT", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	c.ac.Register(s)
}

func serve(ctx context.Context, args []string) error {
	var c serveConfig
	s := config.New("serve")
	c.register(s)
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	log := service.NewLogger("query-serve", c.level)

	v, err := auth.New(ctx, c.ac, auth.WithLogger(log))
	if err != nil {
		return err
	}
	defer v.Close()
	st, err := store.Open(c.ch, store.WithLogger(log))
	if err != nil {
		return err
	}
	defer st.Close()
	codec, err := c.av.Codec()
	if err != nil {
		return err
	}
	w, err := kafka.NewWriter(c.kc, c.updates, kafka.WithWriterErrorLog(log))
	if err != nil {
		return err
	}
	defer w.Close()

	admin := service.NewAdmin(c.adminAddr)
	admin.AddCheck("clickhouse", st.Ping)
	admin.AddCheck("kafka", kafka.Ready(c.kc))
	app := queryapi.New(st, queryapi.KafkaPublisher{W: w, Enc: codec}, v,
		queryapi.WithLogger(log), queryapi.WithScopes(c.ac.ReadScope, c.ac.WriteScope),
		queryapi.WithMetrics(admin.Registry), queryapi.WithTimeout(c.timeout))
	if err := admin.Start(log); err != nil {
		return err
	}
	defer admin.Shutdown(context.Background())
	log.Info("query api starting", "clickhouse", c.ch.String(), "dev_auth", c.ac.DevMode)
	return service.ServeHTTP(ctx, log, app, c.httpAddr, c.drain)
}
