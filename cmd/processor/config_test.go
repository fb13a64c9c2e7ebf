package main

import (
	"strings"
	"testing"

	"liveness/internal/config"
)

// Every setting of every subcommand is in the README's configuration table.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	var rc runConfig
	runSet := config.New("run")
	rc.register(runSet)
	var scan engineFlags
	scanSet := config.New("scan")
	scan.register(scanSet)
	var ec evalConfig
	evalSet := config.New("eval")
	ec.register(evalSet)
	missing, err := config.Undocumented("../../README.md", runSet, scanSet, evalSet)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("README.md lacks these settings:\n%s", strings.Join(missing, "\n"))
	}
}
