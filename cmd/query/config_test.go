package main

import (
	"strings"
	"testing"

	"liveness/internal/config"
)

// Every setting of every subcommand is in the README's configuration table.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	sets := []*config.Set{config.New("serve"), config.New("sink"), config.New("bench"), config.New("migrate"), config.New("token")}
	new(serveConfig).register(sets[0])
	new(sinkConfig).register(sets[1])
	new(benchConfig).register(sets[2])
	new(migrateConfig).register(sets[3])
	new(tokenConfig).register(sets[4])
	missing, err := config.Undocumented("../../README.md", sets...)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("README.md lacks these settings:\n%s", strings.Join(missing, "\n"))
	}
}
