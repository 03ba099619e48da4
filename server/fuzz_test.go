package server

// Fuzzing the commands (issue 7, part 5), with the real server as their
// host so INFO, CONFIG, CLIENT and the rest run for real.
//
//	go test ./server -run '^$' -fuzz FuzzCommands -fuzztime 10m
//
// An input is a script: commands separated by '\n', arguments by '\x00'.
// Each command runs against a fresh in-memory server holding a few keys,
// and must not panic (dispatch would turn the panic into "internal error"),
// must not hang, and, when it is rejected with an error, must leave every
// key as it was. Finally the whole script runs again as one pipeline on a
// fresh server, which exercises the shared transactions of a batch.
// The seed corpus is testdata/fuzz/FuzzCommands plus a seed per command of
// the table.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"durastore/commands"
	"durastore/engine"
)

// newMemServer is a server in memory, not listening.
func newMemServer(t testing.TB) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.AppendOnly = false
	cfg.Dir = os.TempDir()
	cfg.HTTPPort = 0
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fuzzScript splits a fuzz input into commands.
func fuzzScript(in []byte) [][][]byte {
	var cmds [][][]byte
	for _, line := range bytes.Split(in, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		cmds = append(cmds, bytes.Split(line, []byte{0}))
	}
	return cmds
}

// encodeScript is fuzzScript's inverse, for seeds.
func encodeScript(cmds ...[]string) []byte {
	var b bytes.Buffer
	for i, c := range cmds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.Join(c, "\x00"))
	}
	return b.Bytes()
}

// fuzzSkip leaves out what would stop the server under test (SHUTDOWN),
// scripts that may loop forever, which Redis too runs until killed, and
// huge allocations.
func fuzzSkip(cmd [][]byte) bool {
	name := strings.ToLower(string(cmd[0]))
	switch name {
	case "shutdown":
		return true
	case "setrange":
		// A legal offset up to 512 MB allocates that much: correct,
		// but it would make each run slow. Keep to 1 MB.
		if len(cmd) > 2 {
			if off, err := strconv.ParseInt(string(cmd[2]), 10, 64); err == nil && off > 1<<20 {
				return true
			}
		}
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "function", "script":
		for _, a := range cmd[1:] {
			for _, w := range []string{"while", "repeat", "goto", "for", "function"} {
				if bytes.Contains(bytes.ToLower(a), []byte(w)) {
					return true
				}
			}
		}
	}
	return false
}

// scriptsMayFail lists commands whose error may follow writes they made,
// as in Redis (a script's writes before its error stay).
var scriptsMayFail = map[string]bool{
	"eval": true, "evalsha": true, "fcall": true, "function": true,
}

// fuzzPreload is the state every input starts from.
var fuzzPreload = [][]string{
	{"SET", "s", "hello"},
	{"SET", "n", "42"},
	{"SET", "f", "3.5"},
	{"SET", "t", "ttl", "EX", "100000"},
	{"SET", "big", strings.Repeat("x", 100)},
	{"SELECT", "1"},
	{"SET", "s1", "one"},
	{"SELECT", "0"},
}

// storeDump is every live key of every namespace, rendered comparably.
// Keys expiring within a minute are left out: they may expire between two
// dumps.
func storeDump(t testing.TB, s *Server) map[string]string {
	t.Helper()
	out := map[string]string{}
	limit := time.Now().Add(time.Minute).UnixMilli()
	err := s.store.Exclusive(func(tx *engine.Tx) error {
		for _, ns := range s.store.Names() {
			err := tx.Scan(ns, func(key string, v engine.Value) bool {
				if v.ExpireAt == 0 || v.ExpireAt > limit {
					out[ns+"\x00"+key] = fmt.Sprintf("%d/%d/%q", v.Type, v.ExpireAt, v.Data)
				}
				return true
			})
			if err != nil {
				return err
			}
		}
		return engine.ErrRollback
	})
	if err != nil {
		t.Fatalf("dumping the store: %v", err)
	}
	return out
}

// runFuzzBatch runs cmds as one batch and fails on a hang or a panic.
func runFuzzBatch(t testing.TB, s *Server, sess *commands.Session, w *commands.Writer, cmds [][][]byte) string {
	t.Helper()
	w.B = w.B[:0]
	w.RESP = sess.RESP
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.env.Run(sess, w, cmds)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("hang: %q did not finish in 20 s", cmds)
	}
	reply := string(w.B)
	if strings.Contains(reply, "internal error while running the command") {
		t.Fatalf("panic in %q: reply %q", cmds, reply)
	}
	return reply
}

func fuzzCommands(t *testing.T, in []byte) {
	cmds := fuzzScript(in)
	kept := cmds[:0]
	for _, c := range cmds {
		if !fuzzSkip(c) {
			kept = append(kept, c)
		}
	}
	cmds = kept
	if len(cmds) == 0 || len(cmds) > 64 {
		return
	}
	preload := make([][][]byte, len(fuzzPreload))
	for i, c := range fuzzPreload {
		for _, a := range c {
			preload[i] = append(preload[i], []byte(a))
		}
	}

	s := newMemServer(t)
	defer s.Shutdown()
	sess := commands.NewSession(1, "127.0.0.1:40000", "127.0.0.1:6379")
	sess.Authed = true
	var w commands.Writer
	runFuzzBatch(t, s, sess, &w, preload)
	for _, cmd := range cmds {
		before := storeDump(t, s)
		reply := runFuzzBatch(t, s, sess, &w, [][][]byte{cmd})
		if sess.Closing {
			break
		}
		if len(reply) > 0 && reply[0] == '-' && !scriptsMayFail[strings.ToLower(string(cmd[0]))] {
			after := storeDump(t, s)
			if d := dumpDiff(before, after); d != "" {
				t.Fatalf("%q was rejected with %q but changed the data: %s", cmd, reply, d)
			}
		}
	}

	// The same script as one pipeline.
	s2 := newMemServer(t)
	defer s2.Shutdown()
	sess2 := commands.NewSession(2, "127.0.0.1:40001", "127.0.0.1:6379")
	sess2.Authed = true
	runFuzzBatch(t, s2, sess2, &w, append(preload, cmds...))
}

func dumpDiff(a, b map[string]string) string {
	for k, v := range a {
		if w, ok := b[k]; !ok {
			return fmt.Sprintf("%q (%s) disappeared", k, v)
		} else if w != v {
			return fmt.Sprintf("%q changed from %s to %s", k, v, w)
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			return fmt.Sprintf("%q (%s) appeared", k, v)
		}
	}
	return ""
}

// fuzzSeeds are invocations of every command with typical and edge-case
// arguments; the committed corpus holds them too.
var fuzzSeeds = [][][]string{
	{{"GET", "s"}, {"GET", "n", "x"}, {"GET", "nokey"}},
	{{"SET", "k", "v", "NX", "PX", "100"}, {"SET", "k", "v", "XX", "GET", "KEEPTTL"}, {"SET", "k", "v", "EX", "0"}},
	{{"SET", "k", "v", "EXAT", "9223372036854775807"}, {"SET", "k", "v", "PXAT", "-1"}, {"SET", "k", "v", "EX", "9223372036854775"}},
	{{"SETEX", "k", "-1", "v"}, {"PSETEX", "k", "1e3", "v"}, {"SETNX", "s", "v"}, {"GETSET", "s", "w"}},
	{{"GETEX", "s", "PERSIST"}, {"GETEX", "t", "EX", "10", "PX", "10"}, {"GETDEL", "s"}, {"GETEX", "n", "EXAT", "1"}},
	{{"MSET", "a", "1", "b"}, {"MSET", "a", "1", "b", "2"}, {"MSETNX", "a", "1", "c", "3"}, {"MGET", "a", "b", "nokey"}},
	{{"INCR", "n"}, {"INCR", "s"}, {"INCRBY", "n", "9223372036854775807"}, {"DECRBY", "n", "-9223372036854775808"}, {"DECR", "big"}},
	{{"INCRBYFLOAT", "f", "1e308"}, {"INCRBYFLOAT", "f", "1e308"}, {"INCRBYFLOAT", "f", "inf"}, {"INCRBYFLOAT", "f", "nan"}, {"INCRBYFLOAT", "n", "-0.1"}},
	{{"APPEND", "s", "x"}, {"STRLEN", "s"}, {"GETRANGE", "s", "-100", "100"}, {"SUBSTR", "s", "1", "-1"}, {"SETRANGE", "s", "536870911", "x"}},
	{{"SETRANGE", "k", "-1", "x"}, {"SETRANGE", "s", "3", ""}, {"SETRANGE", "s", "100", "y"}},
	{{"LCS", "s", "big"}, {"LCS", "s", "s1", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"}, {"LCS", "s", "n", "LEN", "IDX"}},
	{{"DEL", "s", "n", "nokey"}, {"UNLINK", "f"}, {"EXISTS", "s", "s", "t"}, {"TOUCH", "s"}, {"TYPE", "s"}},
	{{"RENAME", "s", "n"}, {"RENAME", "nokey", "x"}, {"RENAMENX", "s", "s"}, {"COPY", "s", "c", "DB", "1", "REPLACE"}, {"MOVE", "s", "1"}},
	{{"COPY", "s", "c", "DB", "99999"}, {"MOVE", "s", "-1"}, {"MOVE", "s", "0"}, {"SWAPDB", "0", "1"}, {"SWAPDB", "0", "x"}},
	{{"KEYS", "*"}, {"KEYS", "[a-"}, {"KEYS", "\\"}, {"SCAN", "0", "MATCH", "*", "COUNT", "1", "TYPE", "string"}, {"SCAN", "18446744073709551615"}},
	{{"SCAN", "-1"}, {"SCAN", "0", "COUNT", "0"}, {"RANDOMKEY"}, {"DBSIZE"}},
	{{"EXPIRE", "s", "100", "NX"}, {"EXPIRE", "s", "100", "GT", "LT"}, {"PEXPIRE", "s", "9223372036854775807"}, {"EXPIREAT", "t", "-1"}},
	{{"PEXPIREAT", "s", "1"}, {"TTL", "t"}, {"PTTL", "s"}, {"EXPIRETIME", "t"}, {"PEXPIRETIME", "nokey"}, {"PERSIST", "t"}},
	{{"SELECT", "1"}, {"SELECT", "sessions"}, {"SELECT", "../x"}, {"SELECT", "-1"}, {"GET", "s1"}},
	{{"FLUSHDB", "ASYNC"}, {"FLUSHALL", "SYNC"}, {"FLUSHDB", "x"}},
	{{"PING"}, {"PING", "x"}, {"ECHO", ""}, {"HELLO", "3"}, {"GET", "s"}, {"HELLO", "4"}, {"HELLO", "2", "AUTH", "default", "x"}},
	{{"AUTH", "x"}, {"AUTH", "default", "x"}, {"CLIENT", "SETNAME", "a b"}, {"CLIENT", "SETNAME", "ok"}, {"CLIENT", "GETNAME"}, {"CLIENT", "ID"}},
	{{"CLIENT", "LIST", "ID", "1", "x"}, {"CLIENT", "INFO"}, {"CLIENT", "KILL", "ID", "999"}, {"CLIENT", "NO-EVICT", "maybe"}, {"CLIENT", "HELP"}},
	{{"COMMAND", "COUNT"}, {"COMMAND", "INFO", "get", "nosuch"}, {"COMMAND", "DOCS", "set"}, {"COMMAND", "GETKEYS", "set", "k", "v"}, {"COMMAND", "GETKEYS", "get"}},
	{{"COMMAND", "LIST", "FILTERBY", "PATTERN", "g*"}, {"COMMAND", "GETKEYSANDFLAGS", "mset", "a", "b"}},
	{{"INFO"}, {"INFO", "keyspace", "stats"}, {"TIME"}, {"LASTSAVE"}, {"DBSIZE"}},
	{{"CONFIG", "GET", "*max*"}, {"CONFIG", "SET", "maxclients", "-1"}, {"CONFIG", "SET", "hz", "1000"}, {"CONFIG", "SET", "dir", "/"}, {"CONFIG", "RESETSTAT"}},
	{{"CONFIG", "SET", "timeout", "10", "timeout", "20"}, {"CONFIG", "SET", "save", "1 2 3"}, {"CONFIG", "REWRITE"}},
	{{"BGREWRITEAOF"}, {"SAVE"}, {"BGSAVE", "SCHEDULE"}},
	{{"MULTI"}, {"SET", "a", "1"}, {"INCR", "s"}, {"EXEC"}},
	{{"MULTI"}, {"SET", "a"}, {"EXEC"}, {"DISCARD"}, {"WATCH", "s"}, {"UNWATCH"}, {"MULTI"}, {"MULTI"}},
	{{"EVAL", "return redis.call('get', KEYS[1])", "1", "s"}, {"EVAL", "return 1", "-1"}, {"EVAL", "redis.call('set','a','1') error('x')", "0"}},
	{{"SCRIPT", "LOAD", "return 1"}, {"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}, {"SCRIPT", "EXISTS", "x"}, {"SCRIPT", "FLUSH"}},
	{{"CL.THROTTLE", "user", "15", "30", "60"}, {"CL.THROTTLE", "user", "15", "30", "60", "-1"}, {"CL.THROTTLE", "s", "0", "0", "0"}},
	{{"NOSUCHCOMMAND", "a"}, {"get"}, {"GeT", "s"}, {""}, {"\x00\xff"}},
}

func FuzzCommands(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add(encodeScript(seed...))
	}
	// Every command of the table, bare and with a key and a value.
	for _, c := range commands.Default.All() {
		name := c.Name
		f.Add(encodeScript([]string{name}, []string{name, "s"}, []string{name, "n", "1"}, []string{name, "t", "s", "x"}))
		for _, sub := range c.Subcommands {
			parts := strings.SplitN(sub.Name, "|", 2)
			f.Add(encodeScript([]string{parts[0], parts[1]}, []string{parts[0], parts[1], "s"}))
		}
	}
	f.Fuzz(fuzzCommands)
}

// TestWriteFuzzCorpus rewrites the committed seed corpus from fuzzSeeds and
// the protocol cases when DURASTORE_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("DURASTORE_WRITE_CORPUS") != "1" {
		t.Skip("set DURASTORE_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(target string, i int, in []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(in)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%03d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, seed := range fuzzSeeds {
		write("FuzzCommands", i, encodeScript(seed...))
	}
	for i, in := range protocolSeeds {
		write("FuzzReqScanner", i, []byte(in))
	}
}

// protocolSeeds are request streams of every kind the framer knows.
var protocolSeeds = []string{
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
	"*1\r\n$4\r\nPINGxx*1\rx$4\rxPINGxx",
	"*0\r\n*-10\r\n*1\r\n$4\r\nPING\r\n",
	"PING\r\n\r\n\n  \r\nPING\rPING\n",
	"SET \"k\\x41\\n\" 'a\\'b' \"\"\n",
	"PING \"a\r\n",
	"ECHO \"a\"b\n",
	"*+1\r\n*01\r\n*-0\r\n",
	"*3000000000\r\n",
	"*1\r\n$04\r\nPING\r\n",
	"*1\r\n$-1\r\n",
	"*1\r\nx4\r\nPING\r\n",
	"*1\r\n\r\n",
	"*2\r\n$4\r\nECHO\r\n$536870913\r\n",
	"*1\r\n$4\r\nPING\r\n$3\r\n",
	"ECHO a\x00b\n",
	"*1\x00\r\n$4\r\nPING\r\n",
	"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
	"*11\r\n$1\r\na\r\n",
}

// lockedBuffer is a goroutine-safe log sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A panic inside a command answers that client with an error, is logged
// with its stack, releases every lock it held and leaves the server
// serving that client and everyone else.
func TestPanicInCommandIsContained(t *testing.T) {
	logs := &lockedBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
	defer slog.SetDefault(old)

	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.Port = 0
	cfg.HTTPPort = 0
	s, err := New(cfg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	boom := func(c *commands.Ctx) {
		if c.Tx != nil {
			// Hold the namespace's write lock and change a key first:
			// the panic must roll this back and release the lock.
			if err := c.Tx.Set(c.S.DB, "half", engine.Value{Data: "written"}); err != nil {
				panic(err)
			}
		}
		panic("boom in " + c.Cmd.Name)
	}
	s.env.Table = commands.NewTable(commands.Default.All(), []*commands.Command{
		{Name: "panicwrite", Arity: 1, Flags: commands.Write, Handler: boom},
		{Name: "panicread", Arity: 1, Flags: commands.ReadOnly, Handler: boom},
		{Name: "panicnotx", Arity: 1, Flags: commands.NoTx, Handler: boom},
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	addr := s.Addrs()[0].String()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	do := func(c net.Conn, r *bufio.Reader, want string, cmds ...string) {
		t.Helper()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte(strings.Join(cmds, "\r\n") + "\r\n")); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(want))
		if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
			t.Fatalf("%q: got %q (%v), want %q", cmds, got, err, want)
		}
	}
	const internal = "-ERR internal error while running the command\r\n"
	a, ar := dial()
	b, br := dial()
	do(b, br, ":1\r\n:2\r\n", "INCR z", "INCR z")
	for _, name := range []string{"PANICWRITE", "PANICREAD", "PANICNOTX"} {
		do(a, ar, internal, name)
		// The same client goes on; the write lock was released.
		do(a, ar, "+OK\r\n$-1\r\n", "SET k v", "GET half")
		do(b, br, "+PONG\r\n$1\r\nv\r\n", "PING", "GET k")
	}
	// In a pipeline, the panic fails the commands that shared its
	// transaction (which ones depends on batching): each command's
	// reply says whether it happened, and the data agrees.
	readLine := func(r *bufio.Reader) string {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line[0] == '$' && line != "$-1\r\n" {
			v, _ := r.ReadString('\n')
			line += v
		}
		return line
	}
	a.Write([]byte("SET x 1\r\nPANICWRITE\r\nSET y 2\r\nINCR z\r\n"))
	var replies []string
	for i := 0; i < 4; i++ {
		replies = append(replies, readLine(ar))
	}
	if replies[1] != internal {
		t.Errorf("PANICWRITE replied %q", replies[1])
	}
	for i, c := range []struct{ reply, ok, key, want string }{
		{replies[0], "+OK\r\n", "x", "$1\r\n1\r\n"},
		{replies[2], "+OK\r\n", "y", "$1\r\n2\r\n"},
		{replies[3], ":3\r\n", "z", "$1\r\n3\r\n"},
	} {
		b.Write([]byte("GET " + c.key + "\r\n"))
		got := readLine(br)
		switch {
		case c.reply == c.ok && got == c.want:
		case c.reply == internal && (got == "$-1\r\n" || c.key == "z" && got == "$1\r\n2\r\n"):
		default:
			t.Errorf("command %d replied %q but GET %s finds %q", i, c.reply, c.key, got)
		}
	}
	t.Logf("pipeline around a panic: %q", replies)
	log := logs.String()
	for _, want := range []string{"panic in command handler", "boom in panicwrite", "boom in panicnotx", "goroutine ", "fuzz_test.go"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
