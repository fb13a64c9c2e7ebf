package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Topic names. Versioned: an incompatible change to a payload gets a new
// topic rather than a surprise for existing consumers.
const (
	TopicCaptures    = "face-liveness.captures.v1"
	TopicResults     = "face-liveness.results.v1"
	TopicUpdates     = "face-liveness.updates.v1"
	TopicCapturesDLQ = "face-liveness.captures.dlq.v1"
	TopicResultsDLQ  = "face-liveness.results.dlq.v1"
)

const (
	hour = int64(time.Hour / time.Millisecond)
	day  = 24 * hour
)

// TopicSpec is a topic as the project wants it created.
type TopicSpec struct {
	Name       string
	Partitions int
	// ReplicationFactor 0 leaves it to the cluster's default.replication.factor
	// (1 on the local broker, typically 3 in production), so one spec serves both.
	ReplicationFactor int
	// Configs are topic-level overrides (retention.ms, max.message.bytes...).
	Configs map[string]string
}

// Topics is the one definition of the project's topics, used by
// scripts/kafka.sh (through cmd/kafka-topics), the services and the tests.
var Topics = []TopicSpec{
	{
		Name:       TopicCaptures,
		Partitions: 12,
		Configs: map[string]string{
			"max.message.bytes": strconv.Itoa(MaxMessageBytes),
			// Images are biometric data: keep them only as long as the
			// processor may lag. Retention deletes whole closed segments, so
			// segments roll every 10 min; with 1 GiB/7 d segments an image
			// would outlive retention.ms by days.
			"retention.ms": strconv.FormatInt(1*hour, 10),
			"segment.ms":   strconv.FormatInt(hour/6, 10),
			// Retention counts from the broker's clock, not the channel's:
			// a client clock set in the future must not keep images longer.
			"message.timestamp.type": "LogAppendTime",
		},
	},
	{
		Name:       TopicResults,
		Partitions: 12,
		Configs:    map[string]string{"retention.ms": strconv.FormatInt(7*day, 10)},
	},
	{
		Name:       TopicUpdates,
		Partitions: 12,
		Configs:    map[string]string{"retention.ms": strconv.FormatInt(7*day, 10)},
	},
	{
		Name:       TopicCapturesDLQ,
		Partitions: 3,
		Configs: map[string]string{
			// Dead captures still hold images: a day to investigate, no more.
			"max.message.bytes": strconv.Itoa(MaxMessageBytes),
			"retention.ms":      strconv.FormatInt(1*day, 10),
			"segment.ms":        strconv.FormatInt(1*hour, 10),
		},
	},
	{
		Name:       TopicResultsDLQ,
		Partitions: 3,
		Configs:    map[string]string{"retention.ms": strconv.FormatInt(7*day, 10)},
	},
}

// Validate checks what the broker would otherwise reject less clearly.
func (s TopicSpec) Validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("%w: empty name", ErrTopicSpec)
	case s.Partitions < 1:
		return fmt.Errorf("%w: %s: %d partitions", ErrTopicSpec, s.Name, s.Partitions)
	case s.ReplicationFactor < 0:
		return fmt.Errorf("%w: %s: replication factor %d", ErrTopicSpec, s.Name, s.ReplicationFactor)
	}
	return nil
}

func (s TopicSpec) request() kafkago.TopicConfig {
	rf := s.ReplicationFactor
	if rf == 0 {
		rf = -1 // CreateTopics v4+: the broker's default
	}
	tc := kafkago.TopicConfig{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: rf}
	keys := make([]string, 0, len(s.Configs))
	for k := range s.Configs {
		keys = append(keys, k)
	}
	sort.Strings(keys) // stable requests, stable logs
	for _, k := range keys {
		tc.ConfigEntries = append(tc.ConfigEntries, kafkago.ConfigEntry{ConfigName: k, ConfigValue: s.Configs[k]})
	}
	return tc
}

// EnsureTopics creates the topics that do not exist yet. A topic that already
// exists counts as success and is left as it is, settings included: changing
// a live topic is an operator's decision, not a side effect of a deploy.
// It returns the names it created.
func EnsureTopics(ctx context.Context, cfg Config, specs ...TopicSpec) ([]string, error) {
	req := &kafkago.CreateTopicsRequest{}
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			return nil, err
		}
		req.Topics = append(req.Topics, s.request())
	}
	if len(req.Topics) == 0 {
		return nil, nil
	}
	cl, err := cfg.Client()
	if err != nil {
		return nil, err
	}
	defer CloseIdle(cl)
	res, err := cl.CreateTopics(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTopicCreate, err)
	}
	var created []string
	var errs []error
	for _, s := range specs {
		switch err := res.Errors[s.Name]; {
		case err == nil:
			created = append(created, s.Name)
		case errors.Is(err, kafkago.TopicAlreadyExists):
		default:
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrTopicCreate, s.Name, err))
		}
	}
	return created, errors.Join(errs...)
}
