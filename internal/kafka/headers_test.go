package kafka

import (
	"testing"

	kafkago "github.com/segmentio/kafka-go"
)

func TestHeaders(t *testing.T) {
	var m kafkago.Message
	if _, ok := Header(m, "content-type"); ok {
		t.Fatal("header found on an empty message")
	}
	SetHeader(&m, "content-type", "image/jpeg")
	SetHeader(&m, "trace", "abc")
	SetHeader(&m, "content-type", "image/png") // replaces, does not repeat
	if v, ok := Header(m, "content-type"); !ok || v != "image/png" {
		t.Fatalf("content-type = %q, %v", v, ok)
	}
	if v, _ := Header(m, "trace"); v != "abc" {
		t.Fatalf("trace = %q", v)
	}
	if len(m.Headers) != 2 {
		t.Fatalf("%d headers, want 2: %v", len(m.Headers), m.Headers)
	}
	if v, ok := Header(m, "Content-Type"); ok {
		t.Fatalf("header keys are case-sensitive, got %q", v)
	}
}

func TestSetHeaderDoesNotAliasCopies(t *testing.T) {
	a := kafkago.Message{Headers: []kafkago.Header{{Key: "k", Value: []byte("1")}, {Key: "x", Value: []byte("2")}}}
	b := a // a shallow copy shares the header slice
	SetHeader(&b, "k", "changed")
	if v, _ := Header(a, "k"); v != "1" {
		t.Fatalf("SetHeader on a copy changed the original: %q", v)
	}
}

func TestDeadLetterKeepsMessageAndAddsOrigin(t *testing.T) {
	m := kafkago.Message{Topic: "caps", Partition: 3, Offset: 42, Key: []byte("k"), Value: []byte("v"),
		Headers: []kafkago.Header{{Key: "traceparent", Value: []byte("t")}}}
	d := DeadLetter(m, []byte("id"), "ignored", "decode: boom")
	for k, want := range map[string]string{HeaderDLQReason: "decode: boom", HeaderDLQTopic: "caps",
		HeaderDLQPartition: "3", HeaderDLQOffset: "42", "traceparent": "t"} {
		if got, _ := Header(d, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if string(d.Key) != "id" || string(d.Value) != "v" || len(m.Headers) != 1 {
		t.Fatalf("dead letter %+v, original headers %v", d, m.Headers)
	}
	if got, _ := Header(DeadLetter(kafkago.Message{}, nil, "fallback", "r"), HeaderDLQTopic); got != "fallback" {
		t.Fatalf("topic fallback: %q", got)
	}
}
