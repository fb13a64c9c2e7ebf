package config

import (
	"strings"
	"testing"
	"time"
)

func TestPrecedenceFlagOverEnvOverDefault(t *testing.T) {
	t.Setenv("TEST_CFG_NAME", "from-env")
	t.Setenv("TEST_CFG_WAIT", "2s")
	var name, other string
	var wait time.Duration
	var n int
	s := New("t")
	s.String(&name, "TEST_CFG_NAME", "default", "a name")
	s.String(&other, "TEST_CFG_OTHER", "other-default", "another")
	s.Duration(&wait, "TEST_CFG_WAIT", time.Second, "a wait")
	s.Int(&n, "TEST_CFG_N", 3, "a count")
	if err := s.Parse([]string{"--test-cfg-n", "7", "rest"}); err != nil {
		t.Fatal(err)
	}
	if name != "from-env" || other != "other-default" || wait != 2*time.Second || n != 7 {
		t.Fatalf("got name=%q other=%q wait=%v n=%d", name, other, wait, n)
	}
	if got := s.Args(); len(got) != 1 || got[0] != "rest" {
		t.Fatalf("args %v", got)
	}
}

func TestBadEnvValueNamesTheVariable(t *testing.T) {
	t.Setenv("TEST_CFG_COUNT", "many")
	var n int
	s := New("t")
	s.Int(&n, "TEST_CFG_COUNT", 1, "a count")
	err := s.Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "TEST_CFG_COUNT") {
		t.Fatalf("want an error naming TEST_CFG_COUNT, got %v", err)
	}
}

func TestListAndVars(t *testing.T) {
	t.Setenv("TEST_CFG_BROKERS", " a:1, b:2 ,,")
	var brokers []string
	var on bool
	s := New("t")
	s.List(&brokers, "TEST_CFG_BROKERS", "127.0.0.1:9092", "brokers")
	s.Bool(&on, "TEST_CFG_ON", false, "switch")
	if err := s.Parse([]string{"--test-cfg-on"}); err != nil {
		t.Fatal(err)
	}
	if len(brokers) != 2 || brokers[0] != "a:1" || brokers[1] != "b:2" || !on {
		t.Fatalf("brokers %q on %v", brokers, on)
	}
	vars := s.Vars()
	if len(vars) != 2 || vars[0].Flag != "--test-cfg-brokers" || vars[0].Default != "127.0.0.1:9092" {
		t.Fatalf("vars %+v", vars)
	}
}
