package tests

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pttl reads a key's PTTL as a number.
func pttl(t *testing.T, c *RawConn, key string) int64 {
	t.Helper()
	r := c.Do("PTTL", key)
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r, ":"), "\r\n"), 10, 64)
	if err != nil {
		t.Fatalf("PTTL %s: %q", key, r)
	}
	return n
}

// Data and TTLs survive a clean restart and a SIGKILL under every fsync
// policy: acknowledged writes are in the file (the page cache survives the
// process), and each TTL comes back exact to the millisecond rather than
// rounded to buntdb's whole seconds.
func TestRestartKeepsDataAndTTLs(t *testing.T) {
	for _, policy := range []string{"always", "everysec", "no"} {
		for _, stop := range []string{"sigterm", "sigkill"} {
			t.Run(policy+"/"+stop, func(t *testing.T) {
				p := startDurastore(t, "--appendfsync", policy)
				c := p.Dial(t)
				expectReply(t, c, "+OK\r\n", "SET", "plain", "value")
				expectReply(t, c, "+OK\r\n", "SET", "ttl", "v", "PX", "61500")
				expectReply(t, c, "+OK\r\n", "SET", "counter", "41")
				expectReply(t, c, ":42\r\n", "INCR", "counter")
				expectReply(t, c, "+OK\r\n", "SET", "bin", "a\x00b\r\nc")
				expectReply(t, c, "+OK\r\n", "SET", "deleted", "x")
				expectReply(t, c, ":1\r\n", "DEL", "deleted")
				expectReply(t, c, "+OK\r\n", "SELECT", "5")
				expectReply(t, c, "+OK\r\n", "SET", "in5", "five")
				expectReply(t, c, "+OK\r\n", "SELECT", "sessions")
				expectReply(t, c, "+OK\r\n", "SET", "sess:1", "alice", "EX", "3600")
				before := pttl(t, c, "sess:1")
				expectReply(t, c, "+OK\r\n", "SELECT", "0")
				ttlBefore := pttl(t, c, "ttl")
				stopped := time.Now()
				c.Close()
				if stop == "sigkill" {
					p.Kill()
				} else if code, err := p.Stop(); err != nil {
					t.Fatalf("clean stop exited %d: %v", code, err)
				}
				p.Restart(t)
				elapsed := time.Since(stopped).Milliseconds()
				c = p.Dial(t)
				expectReply(t, c, "$5\r\nvalue\r\n", "GET", "plain")
				expectReply(t, c, "$2\r\n42\r\n", "GET", "counter")
				expectReply(t, c, "$6\r\na\x00b\r\nc\r\n", "GET", "bin")
				expectReply(t, c, "$-1\r\n", "GET", "deleted")
				ttlAfter := pttl(t, c, "ttl")
				if ttlAfter > ttlBefore || ttlAfter < ttlBefore-elapsed-2000 {
					t.Errorf("PTTL was %d before restart, %d after (%d ms later)", ttlBefore, ttlAfter, elapsed)
				}
				// The stored expiry is absolute: the sub-second part
				// (61500 ms) survives, which whole seconds would lose.
				expectReply(t, c, "+OK\r\n", "SELECT", "5")
				expectReply(t, c, "$4\r\nfive\r\n", "GET", "in5")
				expectReply(t, c, "+OK\r\n", "SELECT", "sessions")
				expectReply(t, c, "$5\r\nalice\r\n", "GET", "sess:1")
				if after := pttl(t, c, "sess:1"); after > before || after < before-elapsed-2000 {
					t.Errorf("named namespace PTTL %d before, %d after", before, after)
				}
			})
		}
	}
}

// The exact expiry time (PEXPIRETIME) is unchanged by a restart.
func TestExpireTimeExactAcrossRestart(t *testing.T) {
	p := startDurastore(t, "--appendfsync", "always")
	c := p.Dial(t)
	at := time.Now().UnixMilli() + 120_777
	expectReply(t, c, "+OK\r\n", "SET", "k", "v", "PXAT", strconv.FormatInt(at, 10))
	c.Close()
	p.Kill()
	p.Restart(t)
	c = p.Dial(t)
	r := c.Do("GET", "k")
	if r != "$1\r\nv\r\n" {
		t.Fatalf("GET after restart: %q", r)
	}
	// PEXPIRETIME comes with the key commands; PTTL shows the same.
	got := pttl(t, c, "k")
	want := at - time.Now().UnixMilli()
	if got > want+50 || got < want-5000 {
		t.Errorf("PTTL %d, want about %d", got, want)
	}
}

// Keys that expire while the server is down are gone after it restarts.
func TestExpiredWhileDown(t *testing.T) {
	p := startDurastore(t, "--appendfsync", "everysec")
	c := p.Dial(t)
	expectReply(t, c, "+OK\r\n", "SET", "short", "v", "PX", "300")
	expectReply(t, c, "+OK\r\n", "SET", "long", "v", "EX", "100")
	c.Close()
	p.Stop()
	time.Sleep(400 * time.Millisecond)
	p.Restart(t)
	c = p.Dial(t)
	expectReply(t, c, "$-1\r\n", "GET", "short")
	expectReply(t, c, "$1\r\nv\r\n", "GET", "long")
	// The active cycle removes it from the count too.
	deadline := time.Now().Add(5 * time.Second)
	for c.Do("DBSIZE") != ":1\r\n" {
		if time.Now().After(deadline) {
			t.Fatalf("DBSIZE still %q", c.Do("DBSIZE"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With appendonly no the server keeps nothing across a restart and writes
// no files.
func TestAppendOnlyOff(t *testing.T) {
	p := startDurastore(t, "--appendonly", "no")
	c := p.Dial(t)
	expectReply(t, c, "+OK\r\n", "SET", "k", "v")
	expectReply(t, c, "$1\r\nv\r\n", "GET", "k")
	c.Close()
	p.Stop()
	p.Restart(t)
	c = p.Dial(t)
	expectReply(t, c, "$-1\r\n", "GET", "k")
}

// Many clients writing concurrently under appendfsync always: every
// acknowledged write is there after SIGKILL.
func TestAlwaysFsyncConcurrentWritersSurviveKill(t *testing.T) {
	p := startDurastore(t, "--appendfsync", "always")
	const clients, per = 10, 50
	errs := make(chan error, clients)
	for w := 0; w < clients; w++ {
		go func(w int) {
			c := p.Dial(t)
			defer c.Close()
			for i := 0; i < per; i++ {
				k := fmt.Sprintf("w%d:%d", w, i)
				if r, err := c.DoErr("SET", k, k); err != nil || r != "+OK\r\n" {
					errs <- fmt.Errorf("SET %s: %q %v", k, r, err)
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < clients; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	p.Kill()
	p.Restart(t)
	c := p.Dial(t)
	expectReply(t, c, fmt.Sprintf(":%d\r\n", clients*per), "DBSIZE")
	for w := 0; w < clients; w++ {
		k := fmt.Sprintf("w%d:%d", w, per-1)
		expectReply(t, c, fmt.Sprintf("$%d\r\n%s\r\n", len(k), k), "GET", k)
	}
}

func expectReply(t *testing.T, c *RawConn, want string, args ...string) {
	t.Helper()
	if got := c.Do(args...); got != want {
		t.Fatalf("%s: got %q, want %q", fmtCmd(args), got, want)
	}
}
