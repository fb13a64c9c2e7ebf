// Package k8s holds the production manifests; this test keeps them in step
// with the services' settings.
package k8s

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every environment variable the manifests set, and every flag they pass,
// is a setting of the services (the README's configuration table lists them
// all, and tests in cmd/* keep that table complete).
func TestManifestsUseRealSettings(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		known[m[1]] = true
	}
	if len(known) < 50 {
		t.Fatalf("found only %d settings in the README's table", len(known))
	}
	files, _ := filepath.Glob("*.yaml")
	envKey := regexp.MustCompile(`(?m)^  ([A-Z][A-Z0-9_]+):`)
	envName := regexp.MustCompile(`\{name: ([A-Z][A-Z0-9_]+),`)
	flag := regexp.MustCompile(`"--([a-z0-9-]+)=`)
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{envKey, envName} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				checked++
				if !known[m[1]] {
					t.Errorf("%s sets %s, which no service reads", f, m[1])
				}
			}
		}
		for _, m := range flag.FindAllStringSubmatch(string(b), -1) {
			checked++
			if env := strings.ToUpper(strings.ReplaceAll(m[1], "-", "_")); !known[env] {
				t.Errorf("%s passes --%s, which no service has", f, m[1])
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d settings: the patterns no longer match the manifests", checked)
	}
}
