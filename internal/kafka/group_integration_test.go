//go:build integration

package kafka

import (
	"context"
	"fmt"
	"liveness/internal/kafka/kafkatest"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

type received struct {
	reader    int
	partition int
	key       string
}

// Two readers of one group share a 12-partition topic: each owns some
// partitions, none shares one, together they read every message once and
// commit it. This exercises JoinGroup/SyncGroup/Heartbeat/OffsetCommit of
// kafka-go against the pinned broker release.
func TestConsumerGroupSharesPartitions(t *testing.T) {
	const n = 1200
	cfg := localConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	topic := kafkatest.Unique("test.group")
	createTopics(ctx, t, cfg, TopicSpec{Name: topic, Partitions: 12})
	group := kafkatest.Unique("test-group")

	got := make(chan received, n*2)
	readCtx, stopReading := context.WithCancel(ctx)
	var wg sync.WaitGroup
	readers := make([]*kafkago.Reader, 2)
	for i := range readers {
		r, err := NewReader(cfg, group, topic)
		if err != nil {
			t.Fatal(err)
		}
		readers[i] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			consume(readCtx, t, i, r, got)
		}()
	}

	waitForStableGroup(ctx, t, cfg, group, 2)

	w, err := NewWriter(cfg, topic)
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]kafkago.Message, n)
	for i := range msgs {
		msgs[i] = kafkago.Message{Key: []byte(fmt.Sprintf("key-%04d", i)), Value: []byte(fmt.Sprintf("value-%d", i))}
	}
	start := time.Now()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Logf("produced %d messages in %v", n, time.Since(start))

	seen := map[string]int{}
	owner := map[int]int{} // partition -> reader
	perReader := [2]int{}
	for len(seen) < n {
		select {
		case m := <-got:
			seen[m.key]++
			perReader[m.reader]++
			if o, ok := owner[m.partition]; ok && o != m.reader {
				t.Errorf("partition %d read by both readers", m.partition)
			}
			owner[m.partition] = m.reader
		case <-ctx.Done():
			t.Fatalf("timed out with %d of %d messages", len(seen), n)
		}
	}
	t.Logf("consumed %d messages in %v: reader0 %d, reader1 %d, partitions %d",
		n, time.Since(start), perReader[0], perReader[1], len(owner))
	stopReading()
	wg.Wait()
	for _, r := range readers {
		if err := r.Close(); err != nil {
			t.Errorf("close reader: %v", err)
		}
	}

	for i := range n {
		if k := fmt.Sprintf("key-%04d", i); seen[k] != 1 {
			t.Errorf("%s read %d times", k, seen[k])
		}
	}
	if len(seen) != n {
		t.Errorf("read %d distinct keys, want %d", len(seen), n)
	}
	if perReader[0] == 0 || perReader[1] == 0 {
		t.Errorf("one reader got nothing: %v", perReader)
	}
	if len(owner) != 12 {
		t.Errorf("messages came from %d partitions, want 12", len(owner))
	}

	// The commits reached the broker: the group's offsets add up to n.
	cl, _ := cfg.Client()
	defer CloseIdle(cl)
	parts := make([]int, 12)
	for i := range parts {
		parts[i] = i
	}
	of, err := cl.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	for _, p := range of.Topics[topic] {
		committed += max(p.CommittedOffset, 0)
	}
	if committed != n {
		t.Errorf("committed offsets add up to %d, want %d", committed, n)
	}
}

func consume(ctx context.Context, t *testing.T, id int, r *kafkago.Reader, out chan<- received) {
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				t.Errorf("reader %d: %v", id, err)
			}
			return
		}
		out <- received{reader: id, partition: m.Partition, key: string(m.Key)}
		if err := r.CommitMessages(ctx, m); err != nil {
			if ctx.Err() == nil {
				t.Errorf("reader %d commit: %v", id, err)
			}
			return
		}
	}
}

// waitForStableGroup polls DescribeGroups until the group is Stable with the
// given number of members, each holding an assignment, so that messages are
// produced after the rebalance and no partition changes hands mid-test.
func waitForStableGroup(ctx context.Context, t *testing.T, cfg Config, group string, members int) {
	t.Helper()
	cl, _ := cfg.Client()
	defer CloseIdle(cl)
	deadline := time.Now().Add(60 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		res, err := cl.DescribeGroups(ctx, &kafkago.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err == nil && len(res.Groups) == 1 {
			g := res.Groups[0]
			last = fmt.Sprintf("state %s, %d members", g.GroupState, len(g.Members))
			if g.GroupState == "Stable" && len(g.Members) == members && allAssigned(g.Members) {
				t.Logf("group %s: %s", group, last)
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("group %s not stable with %d members in 60 s (last: %s)", group, members, last)
}

func allAssigned(ms []kafkago.DescribeGroupsResponseMember) bool {
	for _, m := range ms {
		n := 0
		for _, tp := range m.MemberAssignments.Topics {
			n += len(tp.Partitions)
		}
		if n == 0 {
			return false
		}
	}
	return true
}
