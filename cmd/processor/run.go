package main

import (
	"context"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"liveness/inference"
	"liveness/internal/avro"
	"liveness/internal/cli"
	"liveness/internal/config"
	"liveness/internal/kafka"
	"liveness/internal/processor"
	"liveness/internal/service"
)

func init() {
	commands["run"] = cli.Command{Summary: "consume captures, analyse them in batches, publish results (a consumer-group member)", Run: runCmd}
}

type runConfig struct {
	LogLevel       string
	SessionTimeout time.Duration
	Processor      processor.Config
	Kafka          kafka.Config
	Avro           avro.Settings
	Engine         engineFlags
}

func (c *runConfig) register(s *config.Set) {
	s.String(&c.LogLevel, "LOG_LEVEL", "info", "log level: debug, info, warn, error")
	s.Duration(&c.SessionTimeout, "PROCESSOR_SESSION_TIMEOUT", 30*time.Second,
		"consumer-group session timeout: how soon the partitions of a member that died are given to the others")
	c.Processor.Bind(s)
	c.Kafka.Bind(s)
	c.Avro.Register(s)
	c.Engine.register(s)
}

func runCmd(ctx context.Context, args []string) error {
	var c runConfig
	s := config.New("run")
	c.register(s)
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if len(s.Args()) != 0 {
		return fmt.Errorf("%w: run takes no arguments", cli.ErrUsage)
	}
	log := service.NewLogger("processor", c.LogLevel)
	codec, err := c.Avro.Codec()
	if err != nil {
		return err
	}
	ecfg, err := c.Engine.config()
	if err != nil {
		return err
	}
	t0 := time.Now()
	eng, err := inference.New(ecfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	log.Info("engine loaded", "modelVersion", eng.ModelVersion(), "seconds", time.Since(t0).Seconds())

	admin := service.NewAdmin(c.Processor.AdminAddr)
	admin.AddCheck("kafka", kafka.Ready(c.Kafka))
	if err := admin.Start(log); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = admin.Shutdown(sctx)
	}()

	stopProfiling, err := service.StartProfiling(c.Processor.PprofAddr, log)
	if err != nil {
		return err
	}
	defer stopProfiling()

	results, err := kafka.NewWriter(c.Kafka, c.Processor.ResultsTopic, kafka.WithWriterErrorLog(log))
	if err != nil {
		return err
	}
	defer results.Close()
	dlq, err := kafka.NewWriter(c.Kafka, c.Processor.DLQTopic, kafka.WithWriterErrorLog(log))
	if err != nil {
		return err
	}
	defer dlq.Close()
	session := c.SessionTimeout
	reader, err := kafka.NewReader(c.Kafka, c.Processor.Group, c.Processor.CapturesTopic,
		kafka.WithReaderErrorLog(log),
		func(rc *kafkago.ReaderConfig) {
			rc.SessionTimeout = session
			rc.HeartbeatInterval = min(3*time.Second, session/3)
		})
	if err != nil {
		return err
	}
	p, err := processor.New(reader, codec, eng, results, dlq,
		processor.WithPolicy(c.Processor.Policy),
		processor.WithBatchesInFlight(c.Processor.InFlight),
		processor.WithDrainTimeout(c.Processor.DrainTimeout),
		processor.WithSourceTopic(c.Processor.CapturesTopic),
		processor.WithLogger(log),
		processor.WithMetrics(admin.Registry))
	if err != nil {
		reader.Close()
		return err
	}
	log.Info("processor joining group", "group", c.Processor.Group, "topic", c.Processor.CapturesTopic)
	runErr := p.Run(ctx)
	// Close leaves the group, so the partitions move to the other members
	// now rather than after the session timeout.
	if err := reader.Close(); err != nil {
		log.Warn("reader close", "err", err)
	}
	return runErr
}
