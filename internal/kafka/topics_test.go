package kafka

import (
	"errors"
	"strconv"
	"testing"
)

func TestTopicsSpecs(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Topics {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if seen[s.Name] {
			t.Fatalf("topic %s defined twice", s.Name)
		}
		seen[s.Name] = true
		if _, err := strconv.ParseInt(s.Configs["retention.ms"], 10, 64); err != nil {
			t.Fatalf("%s: retention.ms must be explicit: %v", s.Name, err)
		}
	}
	for _, name := range []string{TopicCaptures, TopicResults, TopicUpdates, TopicCapturesDLQ, TopicResultsDLQ} {
		if !seen[name] {
			t.Fatalf("topic %s has no spec", name)
		}
	}
	caps := Topics[0]
	ret, _ := strconv.ParseInt(caps.Configs["retention.ms"], 10, 64)
	seg, _ := strconv.ParseInt(caps.Configs["segment.ms"], 10, 64)
	max, _ := strconv.Atoi(caps.Configs["max.message.bytes"])
	if caps.Name != TopicCaptures || ret > 3600_000 || seg == 0 || seg > ret || max < 10<<20 {
		t.Fatalf("captures must keep images briefly and accept 10 MiB: %+v", caps)
	}
}

func TestTopicSpecRequest(t *testing.T) {
	r := TopicSpec{Name: "x", Partitions: 3, Configs: map[string]string{"b": "2", "a": "1"}}.request()
	if r.ReplicationFactor != -1 || r.NumPartitions != 3 || len(r.ConfigEntries) != 2 || r.ConfigEntries[0].ConfigName != "a" {
		t.Fatalf("request %+v", r)
	}
	if r := (TopicSpec{Name: "x", Partitions: 1, ReplicationFactor: 3}).request(); r.ReplicationFactor != 3 {
		t.Fatalf("explicit replication factor lost: %+v", r)
	}
	for _, bad := range []TopicSpec{{Partitions: 1}, {Name: "x"}, {Name: "x", Partitions: 1, ReplicationFactor: -2}} {
		if err := bad.Validate(); !errors.Is(err, ErrTopicSpec) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
}
