package processor

import (
	"time"

	"liveness/internal/batch"
	"liveness/internal/config"
	"liveness/internal/kafka"
)

// Settings declared by Bind; each is also a flag (PROCESSOR_GROUP is
// --processor-group).
//
//	Variable                    Default                     Meaning
//	PROCESSOR_GROUP             face-liveness-processor     consumer group id
//	PROCESSOR_CAPTURES_TOPIC    face-liveness.captures.v1   topic read
//	PROCESSOR_RESULTS_TOPIC     face-liveness.results.v1    topic of the scan results
//	PROCESSOR_DLQ_TOPIC         face-liveness.captures.dlq.v1  dead letters
//	PROCESSOR_BATCH_MAX_ITEMS   16                          captures per batch
//	PROCESSOR_BATCH_MAX_BYTES   67108864                    bytes of captures per batch
//	PROCESSOR_BATCH_MAX_WAIT    1ms                         longest wait of a batch's oldest capture
//	PROCESSOR_BATCHES_IN_FLIGHT 2                           batches analysed at once, delivered in order
//	PROCESSOR_DRAIN_TIMEOUT     20s                         finishing the batch in hand after SIGTERM
//	PROCESSOR_ADMIN_ADDR        127.0.0.1:9181              /metrics, /healthz, /readyz
//	PROCESSOR_PPROF_ADDR        (off)                       net/http/pprof on a loopback address, e.g. 127.0.0.1:6060
const (
	EnvGroup         = "PROCESSOR_GROUP"
	EnvCapturesTopic = "PROCESSOR_CAPTURES_TOPIC"
	EnvResultsTopic  = "PROCESSOR_RESULTS_TOPIC"
	EnvDLQTopic      = "PROCESSOR_DLQ_TOPIC"
	EnvBatchItems    = "PROCESSOR_BATCH_MAX_ITEMS"
	EnvBatchBytes    = "PROCESSOR_BATCH_MAX_BYTES"
	EnvBatchWait     = "PROCESSOR_BATCH_MAX_WAIT"
	EnvInFlight      = "PROCESSOR_BATCHES_IN_FLIGHT"
	EnvDrainTimeout  = "PROCESSOR_DRAIN_TIMEOUT"
	EnvAdminAddr     = "PROCESSOR_ADMIN_ADDR"
	EnvPprofAddr     = "PROCESSOR_PPROF_ADDR"
)

// Defaults that run against the local stack.
const (
	DefaultGroup        = "face-liveness-processor"
	DefaultAdminAddr    = "127.0.0.1:9181"
	DefaultDrainTimeout = 20 * time.Second
)

// Config is the processor's own configuration (Kafka's and the engine's
// are bound by their packages and by cmd/processor).
type Config struct {
	Group         string
	CapturesTopic string
	ResultsTopic  string
	DLQTopic      string
	Policy        batch.Policy
	InFlight      int // batches analysed at once
	DrainTimeout  time.Duration
	AdminAddr     string
	PprofAddr     string // empty: no profiling endpoint
}

// Bind declares the PROCESSOR_* settings on s.
func (c *Config) Bind(s *config.Set) {
	s.String(&c.Group, EnvGroup, DefaultGroup, "consumer group of the processors")
	s.String(&c.CapturesTopic, EnvCapturesTopic, kafka.TopicCaptures, "topic of the captures to analyse")
	s.String(&c.ResultsTopic, EnvResultsTopic, kafka.TopicResults, "topic of the scan results")
	s.String(&c.DLQTopic, EnvDLQTopic, kafka.TopicCapturesDLQ, "dead-letter topic of captures that cannot be decoded or analysed")
	s.Int(&c.Policy.MaxItems, EnvBatchItems, DefaultPolicy.MaxItems, "captures per batch")
	s.Int(&c.Policy.MaxBytes, EnvBatchBytes, DefaultPolicy.MaxBytes, "bytes of captures per batch")
	s.Duration(&c.Policy.MaxWait, EnvBatchWait, DefaultPolicy.MaxWait, "longest a batch's oldest capture waits for the batch to fill")
	s.Int(&c.InFlight, EnvInFlight, DefaultBatchesInFlight, "batches analysed at once (1 = one at a time); results are still delivered and committed in fetch order")
	s.Duration(&c.DrainTimeout, EnvDrainTimeout, DefaultDrainTimeout, "how long SIGTERM waits for the batch in hand to be delivered and committed")
	s.String(&c.AdminAddr, EnvAdminAddr, DefaultAdminAddr, "address of /metrics, /healthz, /readyz")
	s.String(&c.PprofAddr, EnvPprofAddr, "", "loopback address to serve net/http/pprof on (empty: off)")
}
