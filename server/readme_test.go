package server

import (
	"os"
	"strings"
	"testing"
)

// Every parameter CONFIG understands is listed in the README's Options
// section.
func TestReadmeListsEveryOption(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "## Options")
	if start < 0 {
		t.Fatal("README.md has no Options section")
	}
	end := strings.Index(text[start+1:], "\n## ")
	section := text[start:]
	if end >= 0 {
		section = text[start : start+1+end]
	}
	for _, p := range Params() {
		if !strings.Contains(section, "`"+p.Name+"`") {
			t.Errorf("option %s is not in README.md's Options section", p.Name)
		}
		for _, a := range p.Aliases {
			if !strings.Contains(section, "`"+a+"`") {
				t.Errorf("alias %s of %s is not in README.md's Options section", a, p.Name)
			}
		}
	}
}
