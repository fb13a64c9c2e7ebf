package main

import (
	"context"
	"fmt"
	"time"

	"liveness/internal/auth"
	"liveness/internal/avro"
	"liveness/internal/cli"
	"liveness/internal/config"
	"liveness/internal/ingest"
	"liveness/internal/kafka"
	"liveness/internal/service"
)

func init() {
	commands["serve"] = cli.Command{Summary: "serve the capture API (Kafka in, results back)", Run: serve}
}

type serveConfig struct {
	HTTPAddr, AdminAddr, LogLevel string
	PublishTimeout, DrainTimeout  time.Duration
	Topics                        topics
	Kafka                         kafka.Config
	Avro                          avro.Settings
	Auth                          auth.Config
	Ingest                        ingest.Config
}

func (c *serveConfig) register(s *config.Set) {
	s.String(&c.HTTPAddr, "INGEST_HTTP_ADDR", "127.0.0.1:8080", "address of the capture API")
	s.String(&c.AdminAddr, "INGEST_ADMIN_ADDR", "127.0.0.1:9180", "address of /metrics, /healthz, /readyz")
	s.String(&c.LogLevel, "LOG_LEVEL", "info", "log level: debug, info, warn, error")
	s.Duration(&c.PublishTimeout, "INGEST_PUBLISH_TIMEOUT", 5*time.Second, "bound on publishing one capture; past it the client gets 503")
	s.Duration(&c.DrainTimeout, "SHUTDOWN_TIMEOUT", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	c.Topics.register(s)
	c.Kafka.Bind(s)
	c.Avro.Register(s)
	c.Auth.Register(s)
	c.Ingest.Register(s)
}

// topics are the ones ingest writes and reads, named like the processor's
// PROCESSOR_*_TOPIC settings (one service prefix, one setting per topic):
// the defaults are the platform's topics; tests and side-by-side deployments
// point a service at others.
type topics struct{ Captures, Results, DeadLetter string }

func (t *topics) register(s *config.Set) {
	s.String(&t.Captures, "INGEST_CAPTURES_TOPIC", kafka.TopicCaptures, "topic the captures are published to")
	s.String(&t.Results, "INGEST_RESULTS_TOPIC", kafka.TopicResults, "topic of the scan results answered to requests")
	s.String(&t.DeadLetter, "INGEST_DLQ_TOPIC", kafka.TopicCapturesDLQ, "the processor's dead-letter topic (refused captures are answered 422)")
}

func serve(ctx context.Context, args []string) error {
	var c serveConfig
	s := config.New("serve")
	c.register(s)
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	log := service.NewLogger("ingest", c.LogLevel)
	codec, err := c.Avro.Codec()
	if err != nil {
		return err
	}
	validator, err := auth.New(ctx, c.Auth, auth.WithLogger(log))
	if err != nil {
		return err
	}
	defer validator.Close()
	writer, err := kafka.NewWriter(c.Kafka, c.Topics.Captures, kafka.WithWriterErrorLog(log))
	if err != nil {
		return err
	}
	defer writer.Close()

	// Outcomes are read before the API opens, so no request can miss its result.
	waiters := ingest.NewWaiters()
	listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	listener := &ingest.Listener{Kafka: c.Kafka, Codec: codec, Waiters: waiters, Log: log,
		Results: c.Topics.Results, DeadLetter: c.Topics.DeadLetter}
	listening, err := listener.Run(listenCtx)
	if err != nil {
		stopListening()
		return err
	}
	defer func() { stopListening(); listening() }()

	admin := service.NewAdmin(c.AdminAddr)
	admin.AddCheck("kafka", kafka.Ready(c.Kafka))
	if err := admin.Start(log); err != nil {
		return err
	}
	defer admin.Shutdown(context.Background())

	pub := &ingest.KafkaPublisher{W: writer, Codec: codec, Timeout: c.PublishTimeout}
	h := ingest.New(c.Ingest, pub, waiters, log, admin.Registry)
	app := ingest.NewApp(c.Ingest)
	h.Mount(app, auth.Middleware(validator, c.Auth.WriteScope))
	return service.ServeHTTP(ctx, log, app, c.HTTPAddr, c.DrainTimeout)
}
