package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"durastore/engine"
)

const (
	recA = "*3\r\n$3\r\nset\r\n$1\r\na\r\n$2\r\n\x001\r\n"
	recB = "*3\r\n$3\r\nset\r\n$1\r\nb\r\n$2\r\n\x002\r\n"
	recD = "*2\r\n$3\r\ndel\r\n$1\r\na\r\n"
)

func checkAOFRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"check-aof"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckAOF(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ns-000001.aof")
	os.WriteFile(good, []byte(recA+recB+recD), 0o644)
	code, out, _ := checkAOFRun(t, good)
	if code != 0 || !strings.Contains(out, "ok, 3 records") {
		t.Fatalf("valid file: %d %q", code, out)
	}

	cut := filepath.Join(dir, "ns-000002.aof")
	os.WriteFile(cut, []byte(recA+recB[:10]), 0o644)
	code, out, _ = checkAOFRun(t, cut)
	if code != 1 || !strings.Contains(out, "middle of a record at offset 28") || !strings.Contains(out, "--fix cuts it at offset 28") {
		t.Fatalf("cut file: %d %q", code, out)
	}

	bad := filepath.Join(dir, "ns-000003.aof")
	os.WriteFile(bad, []byte(recA+"*3\r\n$3\r\nset\r\n$1\r\nb\r\n$2\r\n\x002XY"+recD), 0o644)
	code, out, _ = checkAOFRun(t, bad)
	if code != 1 || !strings.Contains(out, "damaged at offset 54") || !strings.Contains(out, "1 whole records after the problem are lost") {
		t.Fatalf("damaged file: %d %q", code, out)
	}

	// A directory: every file, and the worst status.
	code, out, _ = checkAOFRun(t, dir)
	if code != 1 || strings.Count(out, "ns-00000") < 3 {
		t.Fatalf("directory: %d %q", code, out)
	}

	code, out, _ = checkAOFRun(t, bad, "--fix")
	if code != 0 || !strings.Contains(out, "fixed: cut from") {
		t.Fatalf("--fix: %d %q", code, out)
	}
	if b, _ := os.ReadFile(bad); string(b) != recA {
		t.Fatalf("fixed file holds %q", b)
	}
	saved, _ := filepath.Glob(bad + ".cut-*")
	if len(saved) != 1 {
		t.Fatalf("removed bytes not saved: %v", saved)
	}
	if rep, _ := engine.CheckFile(bad); rep.Status != engine.FileOK {
		t.Fatalf("after --fix: %v", rep)
	}
	code, _, _ = checkAOFRun(t, "--fix", dir)
	if code != 0 {
		t.Fatalf("--fix on the directory: %d", code)
	}
	code, out, _ = checkAOFRun(t, dir)
	if code != 0 || strings.Count(out, ": ok,") != 3 {
		t.Fatalf("directory after --fix: %d %q", code, out)
	}

	if code, _, errs := checkAOFRun(t); code != 2 || !strings.Contains(errs, "Usage") {
		t.Fatalf("no file: %d %q", code, errs)
	}
	if code, _, _ := checkAOFRun(t, filepath.Join(dir, "nope")); code != 2 {
		t.Fatalf("missing file: %d", code)
	}
}
