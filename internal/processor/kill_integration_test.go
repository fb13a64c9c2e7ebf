//go:build integration

package processor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/avro"
	"liveness/internal/kafka"
	"liveness/internal/kafka/kafkatest"
	"liveness/internal/scan"
)

// subprocess is one `processor run` started by the test.
type subprocess struct {
	name string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

func (s *subprocess) tail() string {
	lines := strings.Split(strings.TrimSpace(s.out.String()), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// syncBuffer lets the test read a child's output while the child writes it.
type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// buildProcessor builds cmd/processor once for the test.
func buildProcessor(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "processor")
	out, err := exec.Command("go", "build", "-o", bin, "liveness/cmd/processor").CombinedOutput()
	if err != nil {
		t.Fatalf("go build cmd/processor: %v\n%s", err, out)
	}
	return bin
}

func startProcessor(t *testing.T, bin, name string, env []string) *subprocess {
	t.Helper()
	cmd := exec.Command(bin, "run")
	cmd.Env = append(os.Environ(), env...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &subprocess{name: name, cmd: cmd, out: &out.Buffer, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// groupMembers returns the members of group that hold at least one
// partition of topic, with their partition counts.
func groupMembers(t *testing.T, cfg kafka.Config, group, topic string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := cfg.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer kafka.CloseIdle(cl)
	res, err := cl.DescribeGroups(ctx, &kafkago.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil || len(res.Groups) != 1 || res.Groups[0].GroupState != "Stable" {
		return nil
	}
	out := map[string]int{}
	for _, m := range res.Groups[0].Members {
		for _, a := range m.MemberAssignments.Topics {
			if a.Topic == topic && len(a.Partitions) > 0 {
				out[m.ClientHost+"/"+m.MemberID] = len(a.Partitions)
			}
		}
	}
	return out
}

// Two processors in one group share the partitions; one is SIGKILLed in the
// middle of 500 captures; nothing is lost: every capture has at least one
// result and the de-duplicated results are exactly the captures.
func TestKillOneOfTwoProcessorsLosesNothing(t *testing.T) {
	const total = 500
	cfg := localKafka(t)
	tt := freshTopics(t, cfg, 6)
	codec, err := avro.New()
	if err != nil {
		t.Fatal(err)
	}
	faces := testFaces(t)
	bin := buildProcessor(t)
	models, _ := filepath.Abs(testDir("MODELS_DIR", "../../../shared/models"))
	group := kafkatest.Unique("test-processor-group")
	env := func(admin string) []string {
		return []string{
			"KAFKA_BROKERS=" + strings.Join(cfg.Brokers, ","),
			"PROCESSOR_GROUP=" + group,
			"PROCESSOR_CAPTURES_TOPIC=" + tt.captures,
			"PROCESSOR_RESULTS_TOPIC=" + tt.results,
			"PROCESSOR_DLQ_TOPIC=" + tt.dlq,
			"PROCESSOR_ADMIN_ADDR=" + admin,
			"PROCESSOR_SESSION_TIMEOUT=6s",
			"INFERENCE_WORKERS=1", // two processes share this machine's cores
			"MODELS_DIR=" + models,
			"LOG_LEVEL=info",
		}
	}
	a := startProcessor(t, bin, "A", env("127.0.0.1:0"))
	b := startProcessor(t, bin, "B", env("127.0.0.1:0"))

	// Both members hold partitions before any capture is sent.
	deadline := time.Now().Add(90 * time.Second)
	for m := groupMembers(t, cfg, group, tt.captures); len(m) != 2; m = groupMembers(t, cfg, group, tt.captures) {
		if time.Now().After(deadline) {
			t.Fatalf("the two processors did not share the partitions (members %v)\nA:\n%s\nB:\n%s", m, a.tail(), b.tail())
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("group %s: partitions shared by two members", group)

	caps := make([]*scan.Capture, total)
	want := map[string]bool{}
	for i := range caps {
		caps[i] = newCapture(faces[i%len(faces)], fmt.Sprint("kill-", i))
		want[caps[i].ID.String()] = true
	}
	start := time.Now()
	publish(t, cfg, codec, tt.captures, caps)

	seen := map[string]int{}
	killed := false
	var killedAt time.Time
	res := consume(t, cfg, tt.results, 4*time.Minute, func(ms []kafkago.Message) bool {
		if len(ms) > 0 {
			seen[string(ms[len(ms)-1].Key)]++
		}
		if !killed && len(seen) >= total/4 {
			// In the middle: A holds fetched, analysed and uncommitted captures.
			if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed, killedAt = true, time.Now()
			t.Logf("SIGKILL A after %d distinct results (%.1fs)", len(seen), time.Since(start).Seconds())
		}
		return len(seen) >= total
	})
	elapsed := time.Since(start)
	if !killed {
		t.Fatalf("A was never killed (%d results)", len(res))
	}
	<-a.done

	var missing []string
	for id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	var extra []string
	for id := range seen {
		if !want[id] {
			extra = append(extra, id)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("%d captures without a result, %d results for no capture (of %d captures, %d results)\nB:\n%s",
			len(missing), len(extra), total, len(res), b.tail())
	}
	dups := len(res) - len(seen)
	t.Logf("%d captures -> %d results (%d duplicates, from A's uncommitted work) in %.1fs: %.1f captures/s overall; %.1fs from the kill to the last result",
		total, len(res), dups, elapsed.Seconds(), float64(total)/elapsed.Seconds(), time.Since(killedAt).Seconds())
	for _, m := range res {
		sr, err := codec.DecodeResult(m.Value)
		if err != nil || sr.ID.String() != string(m.Key) {
			t.Fatalf("result %s: %v", m.Key, err)
		}
	}

	// B drains on SIGTERM and exits cleanly, leaving the group.
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-b.done:
		if err != nil {
			t.Fatalf("B after SIGTERM: %v\n%s", err, b.tail())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("B did not stop within 40s of SIGTERM\n%s", b.tail())
	}
	if ok, why := committedAll(t, cfg, group, tt.captures); !ok {
		t.Errorf("after B's drain the group has not committed every capture: %s", why)
	}
}
