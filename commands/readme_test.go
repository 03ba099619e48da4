package commands

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The README's command list and the command table name the same commands.
func TestReadmeListsEveryCommand(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "<!-- commands:start -->")
	end := strings.Index(text, "<!-- commands:end -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no commands:start/commands:end section")
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("`([A-Z_.]+)`").FindAllStringSubmatch(text[start:end], -1) {
		name := strings.ToLower(m[1])
		if listed[name] {
			t.Errorf("README lists %s twice", m[1])
		}
		listed[name] = true
	}
	var missing, extra []string
	for _, c := range Default.All() {
		if !listed[c.Name] {
			missing = append(missing, c.Name)
		}
		delete(listed, c.Name)
	}
	for name := range listed {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("commands in the table but not in README.md: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("commands in README.md but not in the table: %v", extra)
	}
}
