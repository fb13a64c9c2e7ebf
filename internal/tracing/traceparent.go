// Package tracing carries W3C Trace Context (the `traceparent` header) from
// the HTTP request through the Kafka headers of a capture and of its result,
// so that one trace id ties the ingest log line, the processor's batch and
// the downstream consumer together.
package tracing

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Header is the name of the header in HTTP and in Kafka records.
const Header = "traceparent"

// Parent is a parsed traceparent: version 00, trace id, parent span id, flags.
type Parent struct {
	TraceID string // 32 lowercase hex digits, not all zero
	SpanID  string // 16 lowercase hex digits, not all zero
	Flags   string // 2 hex digits
}

// Parse reads a traceparent header. It accepts version 00 only and reports
// false for anything malformed, as the spec asks (restart the trace).
func Parse(s string) (Parent, bool) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) != 4 || parts[0] != "00" {
		return Parent{}, false
	}
	p := Parent{TraceID: parts[1], SpanID: parts[2], Flags: parts[3]}
	if !isHex(p.TraceID, 32) || !isHex(p.SpanID, 16) || !isHex(p.Flags, 2) ||
		allZero(p.TraceID) || allZero(p.SpanID) {
		return Parent{}, false
	}
	return p, true
}

// Continue returns the traceparent to propagate for a new span: the incoming
// trace when header is valid, a fresh sampled trace otherwise.
func Continue(header string) Parent {
	p, ok := Parse(header)
	if !ok {
		return Parent{TraceID: randomHex(16), SpanID: randomHex(8), Flags: "01"}
	}
	p.SpanID = randomHex(8)
	return p
}

// String formats the header value.
func (p Parent) String() string { return "00-" + p.TraceID + "-" + p.SpanID + "-" + p.Flags }

func allZero(s string) bool { return strings.Trim(s, "0") == "" }

// isHex reports whether s is n lowercase hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
