package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRunDispatchesAndMapsErrors(t *testing.T) {
	var got []string
	cmds := map[string]Command{
		"ok":    {Summary: "works", Run: func(_ context.Context, a []string) error { got = a; return nil }},
		"fail":  {Summary: "fails", Run: func(context.Context, []string) error { return errors.New("boom") }},
		"usage": {Summary: "misused", Run: func(context.Context, []string) error { return fmt.Errorf("%w: need PATH", ErrUsage) }},
	}
	var out bytes.Buffer
	if code := run("bin", cmds, []string{"ok", "a", "b"}, &out); code != 0 || strings.Join(got, ",") != "a,b" {
		t.Fatalf("ok: code %d args %v", code, got)
	}
	if code := run("bin", cmds, []string{"fail"}, &out); code != 1 || !strings.Contains(out.String(), "bin fail: boom") {
		t.Fatalf("fail: code %d out %q", code, out.String())
	}
	if code := run("bin", cmds, []string{"usage"}, &out); code != 2 {
		t.Fatalf("usage: code %d", code)
	}
	out.Reset()
	if code := run("bin", cmds, []string{"nope"}, &out); code != 2 || !strings.Contains(out.String(), "unknown command") || !strings.Contains(out.String(), "works") {
		t.Fatalf("unknown: code %d out %q", code, out.String())
	}
}
