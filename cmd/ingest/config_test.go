package main

import (
	"strings"
	"testing"

	"liveness/internal/config"
)

// Every setting of every subcommand is in the README's configuration table.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	var sc serveConfig
	serveSet := config.New("serve")
	sc.register(serveSet)
	var c sendConfig
	sendSet := config.New("send")
	c.register(sendSet)
	missing, err := config.Undocumented("../../README.md", serveSet, sendSet)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("README.md lacks these settings:\n%s", strings.Join(missing, "\n"))
	}
}
