package main

import (
	"context"
	"fmt"
	"time"

	"liveness/internal/avro"
	"liveness/internal/cli"
	"liveness/internal/config"
	"liveness/internal/kafka"
	"liveness/internal/service"
	"liveness/internal/sink"
	"liveness/internal/store"
)

func init() {
	commands["sink"] = cli.Command{Summary: "consume scan results into ClickHouse (consumer group, batched)", Run: runSink}
}

func runSink(ctx context.Context, args []string) error {
	var (
		ch                     store.Config
		kc                     kafka.Config
		topic, dlq, group      string
		adminAddr, level       string
		policy                 sink.BatchPolicy
		drain, backoff, maxOff time.Duration
	)
	s := config.New("sink")
	ch.Register(s)
	kc.Bind(s)
	s.String(&topic, "SINK_TOPIC", kafka.TopicResults, "topic of the scan results")
	s.String(&dlq, "SINK_DLQ_TOPIC", kafka.TopicResultsDLQ, "dead-letter topic for events that cannot be decoded or stored")
	s.String(&group, "SINK_GROUP", "face-liveness-sink", "consumer group")
	s.Int(&policy.MaxRows, "SINK_BATCH_ROWS", sink.DefaultBatchPolicy.MaxRows, "events per batch (insert) at most")
	s.Int(&policy.MaxBytes, "SINK_BATCH_BYTES", sink.DefaultBatchPolicy.MaxBytes, "bytes of events per batch at most")
	s.Duration(&policy.MaxWait, "SINK_BATCH_WAIT", sink.DefaultBatchPolicy.MaxWait, "longest wait from a batch's first event to its insert")
	s.Duration(&backoff, "SINK_RETRY_MIN", 200*time.Millisecond, "first wait before retrying a failed insert")
	s.Duration(&maxOff, "SINK_RETRY_MAX", 30*time.Second, "longest wait between retries")
	s.Duration(&drain, "SINK_DRAIN_TIMEOUT", 20*time.Second, "time to flush and commit the batch in hand on shutdown")
	s.String(&adminAddr, "ADMIN_ADDR", "127.0.0.1:9183", "address of /metrics, /healthz and /readyz")
	s.String(&level, "LOG_LEVEL", "info", "log level: debug, info, warn, error")
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	log := service.NewLogger("query-sink", level)

	st, err := store.Open(ch, store.WithLogger(log))
	if err != nil {
		return err
	}
	defer st.Close()
	codec, err := avro.New()
	if err != nil {
		return err
	}
	r, err := kafka.NewReader(kc, group, topic, kafka.WithReaderErrorLog(log))
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := kafka.NewWriter(kc, dlq, kafka.WithWriterErrorLog(log))
	if err != nil {
		return err
	}
	defer w.Close()

	admin := service.NewAdmin(adminAddr)
	admin.AddCheck("clickhouse", st.Ping)
	admin.AddCheck("kafka", func(ctx context.Context) error { _, err := kafka.Ping(ctx, kc); return err })
	sk, err := sink.New(r, codec, st, w, sink.WithPolicy(policy), sink.WithLogger(log),
		sink.WithMetrics(admin.Registry), sink.WithBackoff(backoff, maxOff), sink.WithDrainTimeout(drain))
	if err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if err := admin.Start(log); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = admin.Shutdown(sctx)
	}()
	log.Info("sink consuming", "topic", topic, "group", group, "clickhouse", ch.String())
	return sk.Run(ctx)
}
