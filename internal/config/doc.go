package config

import (
	"fmt"
	"os"
	"strings"
)

// Row formats a setting as a line of the README's configuration table.
func (v Var) Row() string {
	def := v.Default
	if def == "" {
		def = "(empty)"
	}
	return fmt.Sprintf("| `%s` | `%s` | %s |", v.Env, strings.ReplaceAll(def, "|", `\|`), v.Usage)
}

// Undocumented returns the rows of the settings that the README at path does
// not list, so a test can fail with exactly the lines to add.
func Undocumented(path string, sets ...*Set) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	readme := string(b)
	var missing []string
	seen := map[string]bool{}
	for _, s := range sets {
		for _, v := range s.Vars() {
			if !seen[v.Env] && !strings.Contains(readme, "| `"+v.Env+"` |") {
				missing = append(missing, v.Row())
			}
			seen[v.Env] = true
		}
	}
	return missing, nil
}
