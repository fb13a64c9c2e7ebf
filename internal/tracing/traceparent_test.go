package tracing

import "testing"

func TestParse(t *testing.T) {
	valid := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	p, ok := Parse(valid)
	if !ok || p.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || p.SpanID != "00f067aa0ba902b7" || p.String() != valid {
		t.Fatalf("parse %q: %+v %v", valid, p, ok)
	}
	for _, bad := range []string{
		"", "garbage", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span id
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
		"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
	} {
		if _, ok := Parse(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, ok := Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"); !ok {
		t.Error("flags 00 refused")
	}
}

func TestContinueKeepsTraceAndMakesNewSpan(t *testing.T) {
	in := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	p := Continue(in)
	if p.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || p.SpanID == "00f067aa0ba902b7" {
		t.Fatalf("continue: %+v", p)
	}
	fresh := Continue("nonsense")
	if _, ok := Parse(fresh.String()); !ok || fresh.TraceID == p.TraceID {
		t.Fatalf("fresh trace invalid: %+v", fresh)
	}
}
