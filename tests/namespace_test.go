package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Numbered databases and named namespaces keep their keys apart; DBSIZE,
// FLUSHDB and FLUSHALL see what Redis's would.
func TestNamespaceIsolation(t *testing.T) {
	p := startDurastore(t)
	c := p.Dial(t)
	for _, ns := range []string{"0", "1", "15", "sessions", "rate-limits", "A_b-9"} {
		expectReply(t, c, "+OK\r\n", "SELECT", ns)
		expectReply(t, c, "+OK\r\n", "SET", "shared", "in:"+ns)
		expectReply(t, c, "+OK\r\n", "SET", "only:"+ns, "x")
	}
	for _, ns := range []string{"0", "1", "15", "sessions", "rate-limits", "A_b-9"} {
		expectReply(t, c, "+OK\r\n", "SELECT", ns)
		want := "in:" + ns
		expectReply(t, c, "$"+itoa(len(want))+"\r\n"+want+"\r\n", "GET", "shared")
		expectReply(t, c, ":2\r\n", "DBSIZE")
	}
	// FLUSHDB empties the current namespace only.
	expectReply(t, c, "+OK\r\n", "SELECT", "sessions")
	expectReply(t, c, "+OK\r\n", "FLUSHDB")
	expectReply(t, c, ":0\r\n", "DBSIZE")
	expectReply(t, c, "+OK\r\n", "SELECT", "1")
	expectReply(t, c, ":2\r\n", "DBSIZE")
	// A second connection starts in database 0.
	c2 := p.Dial(t)
	expectReply(t, c2, "$4\r\nin:0\r\n", "GET", "shared")
	// FLUSHALL empties every namespace.
	expectReply(t, c2, "+OK\r\n", "FLUSHALL")
	for _, ns := range []string{"0", "1", "15", "rate-limits", "A_b-9"} {
		expectReply(t, c, "+OK\r\n", "SELECT", ns)
		expectReply(t, c, ":0\r\n", "DBSIZE")
	}
}

// SELECT's errors match Redis for numbers; names that could reach the file
// system unvalidated are refused and create nothing.
func TestSelectErrors(t *testing.T) {
	x := newDiff(t, nil, nil)
	for _, arg := range []string{"16", "-1", "99999999999999999999", "99999999999", "-2147483649", "2147483647", "1.5", "007", "", " 1", "+1"} {
		x.Do(t, "SELECT", arg)
	}
	x.Do(t, "SELECT")
	x.Do(t, "SELECT", "1", "2")

	p := startDurastore(t, "--databases", "4")
	c := p.Dial(t)
	expectReply(t, c, "-ERR DB index is out of range\r\n", "SELECT", "4")
	for _, bad := range []string{"../../etc", "a/b", "a b", "x.aof", strings.Repeat("n", 65), "sp\x00ce"} {
		expectReply(t, c, "-ERR value is not an integer or out of range\r\n", "SELECT", bad)
	}
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "manifest" && !strings.HasPrefix(e.Name(), "ns-") {
			t.Errorf("unexpected file %s in data dir", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(p.Dir, "..", "etc")); err == nil {
		t.Error("a namespace name escaped the data directory")
	}
}

// Selecting a namespace creates nothing until the first write, and the
// number of namespaces is capped by max-namespaces.
func TestNamespaceCreationAndCap(t *testing.T) {
	p := startDurastore(t, "--databases", "2", "--max-namespaces", "3")
	c := p.Dial(t)
	expectReply(t, c, "+OK\r\n", "SELECT", "one")
	expectReply(t, c, "$-1\r\n", "GET", "k")
	expectReply(t, c, ":0\r\n", "DBSIZE")
	expectReply(t, c, "+OK\r\n", "SET", "k", "v")
	expectReply(t, c, "+OK\r\n", "SELECT", "0")
	expectReply(t, c, "+OK\r\n", "SET", "k", "v")
	expectReply(t, c, "+OK\r\n", "SELECT", "1")
	expectReply(t, c, "+OK\r\n", "SET", "k", "v")
	expectReply(t, c, "+OK\r\n", "SELECT", "two")
	expectReply(t, c, "$-1\r\n", "GET", "k")
	if r := c.Do("SET", "k", "v"); !strings.HasPrefix(r, "-ERR too many namespaces") {
		t.Fatalf("SET in a namespace past the cap: %q", r)
	}
	// The refused write changed nothing.
	expectReply(t, c, ":0\r\n", "DBSIZE")
	// Survives a restart, names and all.
	c.Close()
	p.Stop()
	p.Restart(t)
	c = p.Dial(t)
	expectReply(t, c, "+OK\r\n", "SELECT", "one")
	expectReply(t, c, "$1\r\nv\r\n", "GET", "k")
}

func itoa(n int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n))
}

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}
