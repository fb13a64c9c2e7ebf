package main

import (
	"context"
	"fmt"
	"time"

	"liveness/internal/avro"
	"liveness/internal/batch"
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

// sinkConfig is every setting of query sink.
type sinkConfig struct {
	ch                     store.Config
	kc                     kafka.Config
	av                     avro.Settings
	topic, dlq, group      string
	adminAddr, level       string
	policy                 batch.Policy
	inserts                int
	drain, backoff, maxOff time.Duration
}

func (c *sinkConfig) register(s *config.Set) {
	c.ch.Register(s)
	c.kc.Bind(s)
	c.av.Register(s)
	s.String(&c.topic, "SINK_TOPIC", kafka.TopicResults, "topic of the scan results")
	s.String(&c.dlq, "SINK_DLQ_TOPIC", kafka.TopicResultsDLQ, "dead-letter topic for events that cannot be decoded or stored")
	s.String(&c.group, "SINK_GROUP", "face-liveness-sink", "consumer group")
	s.Int(&c.policy.MaxItems, "SINK_BATCH_ROWS", sink.DefaultBatchPolicy.MaxItems, "events per batch (insert) at most")
	s.Int(&c.policy.MaxBytes, "SINK_BATCH_BYTES", sink.DefaultBatchPolicy.MaxBytes, "bytes of events per batch at most")
	s.Duration(&c.policy.MaxWait, "SINK_BATCH_WAIT", sink.DefaultBatchPolicy.MaxWait, "longest wait from a batch's first event to its insert")
	s.Int(&c.inserts, "SINK_INSERTS", sink.DefaultInserts, "batches inserted at once, each on its own connection (commits stay in order)")
	s.Duration(&c.backoff, "SINK_RETRY_MIN", 200*time.Millisecond, "first wait before retrying a failed insert")
	s.Duration(&c.maxOff, "SINK_RETRY_MAX", 30*time.Second, "longest wait between retries")
	s.Duration(&c.drain, "SINK_DRAIN_TIMEOUT", 20*time.Second, "time to flush and commit the batches in hand on shutdown")
	s.String(&c.adminAddr, "SINK_ADMIN_ADDR", "127.0.0.1:9183", "address of /metrics, /healthz and /readyz")
	s.String(&c.level, "LOG_LEVEL", "info", "log level: debug, info, warn, error")
}

func runSink(ctx context.Context, args []string) error {
	var c sinkConfig
	s := config.New("sink")
	c.register(s)
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	log := service.NewLogger("query-sink", c.level)

	st, err := store.Open(c.ch, store.WithLogger(log))
	if err != nil {
		return err
	}
	defer st.Close()
	codec, err := c.av.Codec()
	if err != nil {
		return err
	}
	r, err := kafka.NewReader(c.kc, c.group, c.topic, kafka.WithReaderErrorLog(log))
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := kafka.NewWriter(c.kc, c.dlq, kafka.WithWriterErrorLog(log))
	if err != nil {
		return err
	}
	defer w.Close()

	admin := service.NewAdmin(c.adminAddr)
	admin.AddCheck("clickhouse", st.Ping)
	admin.AddCheck("kafka", kafka.Ready(c.kc))
	sk, err := sink.New(r, codec, st, w, sink.WithPolicy(c.policy), sink.WithInserts(c.inserts), sink.WithLogger(log),
		sink.WithMetrics(admin.Registry), sink.WithBackoff(c.backoff, c.maxOff), sink.WithDrainTimeout(c.drain))
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
	log.Info("sink consuming", "topic", c.topic, "group", c.group, "clickhouse", c.ch.String())
	return sk.Run(ctx)
}
