package tests

// Self-tests for the harness. They use only redis-server (two instances are
// diffed against each other), so they run before durastore exists.

import (
	"bufio"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestHarnessSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "", want: nil},
		{in: "   ", want: nil},
		{in: "SET k v", want: []string{"SET", "k", "v"}},
		{in: "  SET\tk   v  ", want: []string{"SET", "k", "v"}},
		{in: `SET "a b" 'c d'`, want: []string{"SET", "a b", "c d"}},
		{in: `SET k ""`, want: []string{"SET", "k", ""}},
		{in: `SET k ''`, want: []string{"SET", "k", ""}},
		{in: `ECHO "x\x41\n"`, want: []string{"ECHO", "xA\n"}},
		{in: `ECHO "\x00\xff\xFf"`, want: []string{"ECHO", "\x00\xff\xff"}},
		{in: `ECHO "\r\t\b\a\\\"\q"`, want: []string{"ECHO", "\r\t\b\a\\\"q"}},
		{in: `ECHO "\xZZ"`, want: []string{"ECHO", "xZZ"}},
		{in: `ECHO 'it\'s' 'a\nb'`, want: []string{"ECHO", "it's", `a\nb`}},
		{in: `ECHO a\x41b`, want: []string{"ECHO", `a\x41b`}},
		{in: `ECHO foo"bar baz"`, want: []string{"ECHO", "foobar baz"}},
		{in: `ECHO "unterminated`, bad: true},
		{in: `ECHO 'unterminated`, bad: true},
		{in: `ECHO "a"b`, bad: true},
		{in: `ECHO 'a'b`, bad: true},
	}
	for _, c := range cases {
		got, err := splitArgs(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("splitArgs(%q) = %q, want error", c.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestHarnessReadReply(t *testing.T) {
	cases := []struct {
		raw  string
		want any
	}{
		{"+OK\r\n", "OK"},
		{"-ERR bad\r\n", RespError("ERR bad")},
		{":-42\r\n", int64(-42)},
		{"$5\r\nhe\r\nl\r\n", "he\r\nl"},
		{"$0\r\n\r\n", ""},
		{"$-1\r\n", nil},
		{"*-1\r\n", nil},
		{"*0\r\n", []any{}},
		{"*2\r\n$1\r\na\r\n:1\r\n", []any{"a", int64(1)}},
		{"*2\r\n*1\r\n*0\r\n$-1\r\n", []any{[]any{[]any{}}, nil}},
		{"_\r\n", nil},
		{",3.14\r\n", "3.14"},
		{",inf\r\n", "inf"},
		{"#t\r\n", true},
		{"#f\r\n", false},
		{"!10\r\nSYNTAX bad\r\n", RespError("SYNTAX bad")},
		{"=15\r\ntxt:Some string\r\n", "Some string"},
		{"(3492890328409238509324850943850943825024385\r\n", "3492890328409238509324850943850943825024385"},
		{"%2\r\n+a\r\n:1\r\n+b\r\n_\r\n", []any{"a", int64(1), "b", nil}},
		{"~2\r\n+x\r\n+y\r\n", []any{"x", "y"}},
		{">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n", []any{"invalidate", []any{"k"}}},
		{"|1\r\n+ttl\r\n:3\r\n*2\r\n:1\r\n:2\r\n", []any{int64(1), int64(2)}},
		{"*2\r\n|1\r\n+a\r\n+b\r\n:7\r\n:8\r\n", []any{int64(7), int64(8)}},
		{"$?\r\n;4\r\nHell\r\n;1\r\no\r\n;0\r\n", "Hello"},
		{"*?\r\n:1\r\n+x\r\n.\r\n", []any{int64(1), "x"}},
		{"~?\r\n.\r\n", []any{}},
	}
	for _, c := range cases {
		// Two replies back to back: the reader must stop exactly at the end
		// of the first and return its exact bytes.
		r := bufio.NewReader(strings.NewReader(c.raw + "+NEXT\r\n"))
		raw, v, err := readReply(r)
		if err != nil || raw != c.raw || !reflect.DeepEqual(v, c.want) {
			t.Errorf("readReply(%q) = %q, %#v, %v; want same bytes, %#v", c.raw, raw, v, err, c.want)
			continue
		}
		if raw2, _, err := readReply(r); err != nil || raw2 != "+NEXT\r\n" {
			t.Errorf("after %q: next reply = %q, %v", c.raw, raw2, err)
		}
		if got := parseReply(c.raw); !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseReply(%q) = %#v, want %#v", c.raw, got, c.want)
		}
	}
	for _, bad := range []string{"", "+OK", "+OK\n", "$5\r\nab\r\n", "$2\r\nabcd\r\n", ":x\r\n", "*2\r\n:1\r\n", "?\r\n", "#x\r\n", "$-2\r\n"} {
		if raw, v, err := readReply(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("readReply(%q) = %q, %#v; want error", bad, raw, v)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("parseReply with trailing bytes did not panic")
			}
		}()
		parseReply("+OK\r\n+OK\r\n")
	}()
}

func TestHarnessCompareUnordered(t *testing.T) {
	ok := [][2]string{
		{"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nb\r\n$1\r\na\r\n"},
		{"~2\r\n+a\r\n+b\r\n", "~2\r\n+b\r\n+a\r\n"},
		{"%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%2\r\n+b\r\n:2\r\n+a\r\n:1\r\n"},
		{"*2\r\n*1\r\n:1\r\n:2\r\n", "*2\r\n:2\r\n*1\r\n:1\r\n"},
		{"+OK\r\n", "+OK\r\n"},
	}
	for _, c := range ok {
		if err := compareUnordered(c[0], c[1]); err != nil {
			t.Errorf("compareUnordered(%q, %q) = %v, want nil", c[0], c[1], err)
		}
	}
	bad := [][2]string{
		{"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\na\r\n$1\r\na\r\n"},     // multiset differs
		{"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*1\r\n$1\r\na\r\n"},                // count differs
		{"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "~2\r\n$1\r\nb\r\n$1\r\na\r\n"},     // type differs
		{"%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%2\r\n+a\r\n:2\r\n+b\r\n:1\r\n"}, // pairs differ
		{"*2\r\n*2\r\n:1\r\n:2\r\n:3\r\n", "*2\r\n:3\r\n*2\r\n:2\r\n:1\r\n"}, // only top level is unordered
		{"+OK\r\n", "+Ok\r\n"},
		{"*-1\r\n", "*0\r\n"},
	}
	for _, c := range bad {
		if err := compareUnordered(c[0], c[1]); err == nil {
			t.Errorf("compareUnordered(%q, %q) = nil, want mismatch", c[0], c[1])
		}
	}
}

// redisPair diffs two independent redis-servers against each other.
func redisPair(t *testing.T) *Diff {
	t.Helper()
	return newDiffProcs(t, startRedis(t), startRedis(t))
}

func TestHarnessRedisDiff(t *testing.T) {
	x := redisPair(t)
	if got := x.Do(t, "PING"); got != "+PONG\r\n" {
		t.Errorf("PING = %q", got)
	}
	if got := x.Do(t, "SET", "k", "v"); got != "+OK\r\n" {
		t.Errorf("SET = %q", got)
	}
	if got := x.Do(t, "GET", "k"); got != "$1\r\nv\r\n" {
		t.Errorf("GET = %q", got)
	}
	if got := x.Do(t, "GET", "missing"); got != "$-1\r\n" || parseReply(got) != nil {
		t.Errorf("GET missing = %q", got)
	}
	if got := x.Do(t, "INCR", "k"); got != "-ERR value is not an integer or out of range\r\n" {
		t.Errorf("INCR = %q", got)
	}
	if _, ok := parseReply(x.Do(t, "LPUSH", "k", "x")).(RespError); !ok {
		t.Errorf("LPUSH on string: want an error reply")
	}
	x.Do(t, "NOSUCHCOMMAND", "a", "b")
	x.Do(t, "SET", "bin", "a\x00b\r\nc")
	if got := x.Do(t, "GET", "bin"); got != "$6\r\na\x00b\r\nc\r\n" {
		t.Errorf("GET bin = %q", got)
	}

	// Nested reply, compared exactly.
	info := x.Do(t, "COMMAND", "INFO", "get")
	v, ok := parseReply(info).([]any)
	if !ok || len(v) != 1 {
		t.Fatalf("COMMAND INFO get = %q", info)
	}
	if entry, ok := v[0].([]any); !ok || len(entry) < 6 || entry[0] != "get" || entry[1] != int64(2) {
		t.Errorf("COMMAND INFO get parsed = %#v", v[0])
	}

	// Pipelining through Send/ReadReply on both sides.
	for _, c := range []*RawConn{x.R, x.D} {
		c.Send("INCR", "n")
		c.Send("INCR", "n")
		c.SendRaw([]byte("PING\r\n")) // inline command
		if a, b, p := c.ReadReply(), c.ReadReply(), c.ReadReply(); a != ":1\r\n" || b != ":2\r\n" || p != "+PONG\r\n" {
			t.Errorf("pipeline on %s = %q %q %q", c.Addr, a, b, p)
		}
	}
	x.DoRaw(t, []byte("ECHO inline\r\n"))

	// Unordered replies.
	for i := 0; i < 50; i++ {
		x.Do(t, "SET", fmt.Sprintf("key:%d", i), "x")
		x.Do(t, "SADD", "set", fmt.Sprintf("m%d", i))
	}
	keys := x.DoUnordered(t, "KEYS", "key:*")
	if n := len(parseReply(keys).([]any)); n != 50 {
		t.Errorf("KEYS returned %d keys", n)
	}
	x.DoUnordered(t, "SMEMBERS", "set")
	x.Do(t, "SCARD", "set")

	// DoMatch for legitimately different replies.
	x.DoMatch(t, func(r, d string) bool {
		return strings.HasPrefix(r, "$") && strings.HasPrefix(d, "$")
	}, "RANDOMKEY")
}

func TestHarnessScript(t *testing.T) {
	x := redisPair(t)
	replies := x.Script(t, `
		# a comment
		SET "a b" "x\x41\n"
		GET 'a b'

		RPUSH list "one" 'two' "th ree"
		LRANGE list 0 -1
		@unordered KEYS *
		HSET h f1 v1 f2 v2
		@unordered HGETALL h
		EXISTS "a b" list nope
	`)
	want := []string{
		"+OK\r\n",
		"$3\r\nxA\n\r\n",
		":3\r\n",
		"*3\r\n$3\r\none\r\n$3\r\ntwo\r\n$6\r\nth ree\r\n",
		"", // KEYS: order not checked
		":2\r\n",
		"", // HGETALL: order not checked
		":2\r\n",
	}
	if len(replies) != len(want) {
		t.Fatalf("Script returned %d replies: %q", len(replies), replies)
	}
	for i := range want {
		if want[i] != "" && replies[i] != want[i] {
			t.Errorf("script reply %d = %q, want %q", i, replies[i], want[i])
		}
	}
}

func TestHarnessRESP3(t *testing.T) {
	x := redisPair(t)
	hello := x.DoMatch(t, func(r, d string) bool {
		return strings.HasPrefix(r, "%") && strings.HasPrefix(d, "%")
	}, "HELLO", "3")
	m := parseReply(hello).([]any)
	if len(m) < 2 || m[0] != "server" || m[1] != "redis" {
		t.Errorf("HELLO 3 parsed = %#v", m)
	}
	x.Script(t, `
		HSET h a 1 b 2 c 3
		@unordered HGETALL h
		SADD s x y z
		@unordered SMEMBERS s
		ZADD z 1.5 m
		ZSCORE z m
		GET nope
		EXISTS h
		LPOS nolist x
	`)
	if got := x.Do(t, "ZSCORE", "z", "m"); got != ",1.5\r\n" {
		t.Errorf("RESP3 ZSCORE = %q", got)
	}
	if got := x.Do(t, "GET", "nope"); got != "_\r\n" {
		t.Errorf("RESP3 null = %q", got)
	}
	if got := x.Do(t, "HGETALL", "h"); got[0] != '%' {
		t.Errorf("RESP3 HGETALL = %q", got)
	}

	// A push message: client tracking invalidation on a key we read.
	c := x.R
	c.Do("CLIENT", "TRACKING", "on")
	c.Do("GET", "h2")
	other := x.Redis.Dial(t)
	other.Do("SET", "h2", "v")
	if got := c.Do("PING"); got != ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nh2\r\n" {
		t.Errorf("expected invalidation push, got %q", got)
	} else if pong := c.ReadReply(); pong != "+PONG\r\n" {
		t.Errorf("after push: %q", pong)
	}
}

// recordingTB records Errorf calls instead of failing the test.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recordingTB) reported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func TestHarnessDetectsDifference(t *testing.T) {
	x := redisPair(t)
	// Give the two servers different data behind the Diff's back.
	x.R.Do("SET", "k", "1")
	x.D.Do("SET", "k", "2")
	x.R.Do("SET", "only-in-r", "x")
	x.R.Do("SET", "common", "x")
	x.D.Do("SET", "common", "x")

	t.Run("Try", func(t *testing.T) {
		r, d, err := x.Try("GET", "k")
		if err == nil {
			t.Fatalf("Try(GET k) reported no mismatch: %q vs %q", r, d)
		}
		if r != "$1\r\n1\r\n" || d != "$1\r\n2\r\n" {
			t.Errorf("Try replies = %q, %q", r, d)
		}
		msg := err.Error()
		for _, want := range []string{`GET k`, `"$1\r\n1\r\n"`, `"$1\r\n2\r\n"`} {
			if !strings.Contains(msg, want) {
				t.Errorf("mismatch message %q lacks %q", msg, want)
			}
		}
		if _, _, err := x.Try("GET", "common"); err != nil {
			t.Errorf("Try(GET common): unexpected mismatch: %v", err)
		}
	})

	t.Run("TryUnordered", func(t *testing.T) {
		if _, _, err := x.TryUnordered("KEYS", "*"); err == nil {
			t.Errorf("TryUnordered(KEYS *) reported no mismatch")
		}
		if _, _, err := x.TryUnordered("KEYS", "common"); err != nil {
			t.Errorf("TryUnordered(KEYS common): %v", err)
		}
	})

	t.Run("TryMatch", func(t *testing.T) {
		if _, _, err := x.TryMatch(func(r, d string) bool { return r == d }, "GET", "k"); err == nil {
			t.Errorf("TryMatch with equality reported no mismatch")
		}
		if _, _, err := x.TryMatch(func(r, d string) bool { return true }, "GET", "k"); err != nil {
			t.Errorf("TryMatch accepting everything: %v", err)
		}
	})

	t.Run("DoReportsErrorf", func(t *testing.T) {
		rec := &recordingTB{TB: t}
		got := x.Do(rec, "GET", "k")
		if got != "$1\r\n1\r\n" {
			t.Errorf("Do returned %q, want redis's reply", got)
		}
		x.DoUnordered(rec, "KEYS", "*")
		x.DoMatch(rec, func(r, d string) bool { return false }, "PING")
		x.Script(rec, "GET k\nGET common\n@unordered KEYS *")
		x.Do(rec, "GET", "common") // equal: must not be reported
		errs := rec.reported()
		if len(errs) != 5 {
			t.Fatalf("recorded %d errors, want 5: %q", len(errs), errs)
		}
		if !strings.Contains(errs[0], `"$1\r\n1\r\n"`) || !strings.Contains(errs[0], `"$1\r\n2\r\n"`) {
			t.Errorf("Do error lacks both replies: %s", errs[0])
		}
		if !strings.Contains(errs[3], "script line 1") || !strings.Contains(errs[4], "script line 3") {
			t.Errorf("script errors lack line numbers: %q", errs[3:])
		}
	})
}

func TestHarnessProcLifecycle(t *testing.T) {
	p := startRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	if p.Port == 0 || p.Dir == "" || p.Addr != fmt.Sprintf("127.0.0.1:%d", p.Port) {
		t.Fatalf("bad Proc: %+v", p)
	}
	c := p.Dial(t)
	c.Do("SET", "persist", "yes")
	port, dir, pid := p.Port, p.Dir, p.Pid()

	if code, err := p.Stop(); code != 0 || err != nil {
		t.Fatalf("Stop = %d, %v", code, err)
	}
	if p.Running() {
		t.Fatalf("still running after Stop")
	}
	if code, err := p.Stop(); code != 0 || err != nil { // idempotent
		t.Errorf("second Stop = %d, %v", code, err)
	}
	if _, err := c.DoErr("PING"); err == nil {
		t.Errorf("PING on a stopped server succeeded")
	}

	p.Restart(t)
	if p.Port != port || p.Dir != dir || p.Pid() == pid {
		t.Errorf("Restart changed port/dir or kept pid: %d %s %d", p.Port, p.Dir, p.Pid())
	}
	c = p.Dial(t)
	if got := c.Do("GET", "persist"); got != "$3\r\nyes\r\n" {
		t.Errorf("after restart GET = %q", got)
	}
	c.Do("SET", "after-kill", "1")

	p.Kill()
	if p.Running() {
		t.Fatalf("still running after Kill")
	}
	if code, err := p.Stop(); code != -1 || err == nil {
		t.Errorf("Stop after Kill = %d, %v; want -1 and an error", code, err)
	}
	p.Restart(t) // Restart on a running process stops it first
	p.Restart(t)
	c = p.Dial(t)
	if got := c.Do("GET", "after-kill"); got != "$1\r\n1\r\n" {
		t.Errorf("after kill+restart GET = %q", got)
	}

	// SHUTDOWN makes the server exit by itself.
	if raw, err := c.DoErr("SHUTDOWN"); err == nil {
		t.Errorf("SHUTDOWN replied %q", raw)
	}
	if code, err := p.Wait(startTimeout); code != 0 || err != nil {
		t.Errorf("Wait after SHUTDOWN = %d, %v", code, err)
	}
	if out := p.Stdout(); !strings.Contains(out, "Ready to accept connections") || !strings.Contains(out, "harness: restart #3") {
		t.Errorf("captured stdout looks wrong:\n%s", out)
	}
}

func TestHarnessStartFailure(t *testing.T) {
	rec := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		startRedis(rec, "--no-such-option", "1")
	}()
	<-done
	if !strings.Contains(rec.msg, "did not become ready") || !strings.Contains(rec.msg, "no-such-option") {
		t.Errorf("start failure message lacks reason/output:\n%s", rec.msg)
	}
}

// fatalTB turns Fatalf into a recorded message plus Goexit of the (helper)
// goroutine, so a start failure can be observed without failing the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestHarnessFreePort(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 20; i++ {
		p := freePort(t)
		if p <= 0 || seen[p] {
			t.Fatalf("freePort returned %d (seen before: %v)", p, seen[p])
		}
		seen[p] = true
	}
	if v, ok := flagValue([]string{"--port", "1", "--dir=/x", "--port", "2"}, "--port"); !ok || v != "2" {
		t.Errorf("flagValue --port = %q %v", v, ok)
	}
	if v, ok := flagValue([]string{"--dir=/x"}, "--dir"); !ok || v != "/x" {
		t.Errorf("flagValue --dir = %q %v", v, ok)
	}
	if _, ok := flagValue([]string{"--http-port"}, "--http-port"); ok {
		t.Errorf("flagValue without value found something")
	}
}
