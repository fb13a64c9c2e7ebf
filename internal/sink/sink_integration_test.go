//go:build integration

package sink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/batch"
	"liveness/internal/kafka"
	"liveness/internal/scan"
)

// Results through Kafka into ClickHouse: a duplicate delivery and a newer
// version end as one scan each; undecodable and unstorable events go to the
// dead-letter topic with their reason; every offset is committed.
func TestSinkEndToEnd(t *testing.T) {
	e := newEnv(t)
	company := uuid.New()
	scans := genScans(1, company, 300)
	v2 := scans[0]
	v2.Result, v2.Version = scan.ResultReal, 2
	bad := genScans(2, company, 1)[0]
	bad.CreatedDate = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) // Avro carries it; ClickHouse's DateTime cannot
	all := append(append(append([]scan.ScanResult{}, scans...), scans[:50]...), v2, bad)
	e.produce(t, all, []byte("not avro at all"), []byte{0xC3, 0x01, 1, 2, 3})
	events := int64(len(all) + 2)

	stop := e.startSink(t, e.chcfg.Addr, WithPolicy(batch.Policy{MaxItems: 100, MaxBytes: 1 << 20, MaxWait: 200 * time.Millisecond}))
	eventually(t, 60*time.Second, "every event committed", func() bool { return e.committed(t) == events })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "SELECT count() FROM $db.scans FINAL"); n != 300 {
		t.Fatalf("%d scans, want 300 (50 duplicates and one new version collapse)", n)
	}
	var result string
	if err := e.conn.QueryRow(context.Background(), "SELECT toString(result) FROM "+e.chcfg.Database+
		".scans FINAL WHERE company_id = ? AND id = ?", company, scans[0].ID).Scan(&result); err != nil || result != "Real" {
		t.Fatalf("scan 0 result %q (%v), want version 2's Real", result, err)
	}

	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: e.kcfg.Brokers, Topic: e.dlq, Partition: 0, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	reasons := map[string]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(reasons) < 3 {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("dead letters: got %d of 3: %v", len(reasons), err)
		}
		reason, ok := kafka.Header(m, HeaderReason)
		if src, _ := kafka.Header(m, HeaderTopic); !ok || reason == "" || src != e.topic {
			t.Fatalf("dead letter without reason or source: %v", m.Headers)
		}
		reasons[string(m.Key)] = reason
	}
	if !strings.Contains(reasons[bad.ID.String()], "createdDate") || !strings.Contains(reasons["raw-0"], "avro") {
		t.Fatalf("reasons do not say what is wrong: %v", reasons)
	}
}

// ClickHouse unreachable (a TCP proxy in front of it is taken down: refused
// connections and cut sessions, as when the server dies), then back on the
// same address: nothing is committed while it is down, nothing is lost, the
// sink catches up by itself.
func TestSinkClickHouseDownThenBackLosesNothing(t *testing.T) {
	e := newEnv(t)
	p := newProxy(t, e.chcfg.Addr)
	company := uuid.New()
	stop := e.startSink(t, p.addr, WithPolicy(batch.Policy{MaxItems: 50, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond}))

	e.produce(t, genScans(3, company, 200))
	eventually(t, 60*time.Second, "first 200 stored and committed", func() bool { return e.committed(t) == 200 })

	p.down()
	e.produce(t, genScans(4, company, 300))
	time.Sleep(3 * time.Second) // several failed attempts
	if got := e.committed(t); got != 200 {
		t.Fatalf("%d committed while ClickHouse was unreachable, want 200", got)
	}
	if n := e.count(t, "SELECT count() FROM $db.scans"); n != 200 {
		t.Fatalf("%d rows while unreachable, want 200", n)
	}

	p.up(t)
	eventually(t, 60*time.Second, "all 500 committed after recovery", func() bool { return e.committed(t) == 500 })
	if n := e.count(t, "SELECT count() FROM $db.scans FINAL"); n != 500 {
		t.Fatalf("%d scans after recovery, want 500", n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// SIGTERM (the context ends) with a batch in hand: the sink stores and
// commits it before Run returns, rather than leaving it to a redelivery.
func TestSinkShutdownFlushesTheBatchInHand(t *testing.T) {
	e := newEnv(t)
	company := uuid.New()
	e.produce(t, genScans(5, company, 400))
	// A batch that would wait a minute: only the shutdown can flush it.
	stop := e.startSink(t, e.chcfg.Addr, WithPolicy(batch.Policy{MaxItems: 100_000, MaxBytes: 64 << 20, MaxWait: time.Minute}))
	time.Sleep(5 * time.Second)
	if n := e.count(t, "SELECT count() FROM $db.scans"); n != 0 {
		t.Fatalf("%d rows stored before the batch was due", n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	stored := e.count(t, "SELECT count() FROM $db.scans")
	if stored == 0 || int64(stored) != e.committed(t) {
		t.Fatalf("after shutdown: %d stored, %d committed; want equal and > 0", stored, e.committed(t))
	}
	t.Logf("shutdown flushed and committed %d of 400 events", stored)
}
