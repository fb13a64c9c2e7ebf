//go:build integration

package kafka

import (
	"context"
	"liveness/internal/kafka/kafkatest"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

func TestEnsureTopicsCreatesWithSettingsAndIsIdempotent(t *testing.T) {
	cfg := localConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	spec := TopicSpec{
		Name:       kafkatest.Unique("test.ensure"),
		Partitions: 12,
		Configs: map[string]string{
			"retention.ms":      "3600000",
			"max.message.bytes": "12582912",
			"segment.ms":        "600000",
		},
	}
	created, err := EnsureTopics(ctx, cfg, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 1 || created[0] != spec.Name {
		t.Fatalf("created %v, want [%s]", created, spec.Name)
	}
	t.Cleanup(func() { deleteTopics(t, cfg, spec.Name) })

	// Second call, with a different partition count: existing topics are left
	// alone, and that is success.
	again := spec
	again.Partitions = 3
	created, err = EnsureTopics(ctx, cfg, again)
	if err != nil || len(created) != 0 {
		t.Fatalf("second EnsureTopics: created %v, err %v; want nothing and no error", created, err)
	}

	cl, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer CloseIdle(cl)

	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{spec.Name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		t.Fatalf("metadata %+v", md.Topics)
	}
	if got := len(md.Topics[0].Partitions); got != 12 {
		t.Fatalf("%d partitions, want 12 (the second call must not change the topic)", got)
	}

	dc, err := cl.DescribeConfigs(ctx, &kafkago.DescribeConfigsRequest{Resources: []kafkago.DescribeConfigRequestResource{{
		ResourceType: kafkago.ResourceTypeTopic,
		ResourceName: spec.Name,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(dc.Resources) != 1 || dc.Resources[0].Error != nil {
		t.Fatalf("describe configs: %+v", dc.Resources)
	}
	got := map[string]string{}
	for _, e := range dc.Resources[0].ConfigEntries {
		got[e.ConfigName] = e.ConfigValue
	}
	for k, want := range spec.Configs {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
}

// The project's own topics exist on the local broker (scripts/kafka.sh up
// creates them through the same EnsureTopics) with the specified partitions.
func TestProjectTopicsExist(t *testing.T) {
	cfg := localConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := EnsureTopics(ctx, cfg, Topics...); err != nil {
		t.Fatal(err)
	}
	cl, _ := cfg.Client()
	defer CloseIdle(cl)
	names := make([]string, len(Topics))
	for i, s := range Topics {
		names[i] = s.Name
	}
	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: names})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]int{}
	for _, tp := range md.Topics {
		parts[tp.Name] = len(tp.Partitions)
	}
	for _, s := range Topics {
		if parts[s.Name] != s.Partitions {
			t.Errorf("%s: %d partitions, want %d", s.Name, parts[s.Name], s.Partitions)
		}
	}
}

func TestEnsureTopicsReportsBrokerRefusal(t *testing.T) {
	cfg := localConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bad := TopicSpec{Name: kafkatest.Unique("test.refused"), Partitions: 1, Configs: map[string]string{"retention.ms": "not-a-number"}}
	if _, err := EnsureTopics(ctx, cfg, bad); err == nil {
		t.Fatal("broker accepted retention.ms=not-a-number")
	}
}
