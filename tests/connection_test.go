package tests

// Connection and server introspection against redis-server 7.0: HELLO,
// AUTH and NOAUTH, RESP3, inline commands, INFO, COMMAND, CONFIG, TIME,
// LASTSAVE, SAVE, BGSAVE, BGREWRITEAOF and SHUTDOWN.

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// connIDField matches the id entry of a HELLO reply, which differs between
// servers (each numbers its own connections).
var connIDField = regexp.MustCompile(`\$2\r\nid\r\n:\d+\r\n`)

// connSameButID accepts replies that differ only in HELLO's id.
func connSameButID(r, d string) bool {
	return connIDField.ReplaceAllString(r, "") == connIDField.ReplaceAllString(d, "")
}

func TestConnHello(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.DoMatch(t, connSameButID, "HELLO")
	x.DoMatch(t, connSameButID, "HELLO", "2")
	x.DoMatch(t, connSameButID, "HELLO", "3")
	x.DoMatch(t, connSameButID, "HELLO", "2", "SETNAME", "conn-a")
	x.Do(t, "CLIENT", "GETNAME")
	x.DoMatch(t, connSameButID, "HELLO", "3", "AUTH", "default", "anything")
	x.Script(t, `
		HELLO 4
		HELLO 1
		HELLO -1
		HELLO 0
		HELLO x
		HELLO 99999999999999999999
		HELLO 3 foo
		HELLO 3 AUTH
		HELLO 3 AUTH default
		HELLO 3 SETNAME
		HELLO 3 SETNAME "a b"
		HELLO 3 SETNAME "a\nb"
		HELLO 3 AUTH foo bar
		HELLO 2 SETNAME x foo
		CLIENT GETNAME
	`)
	x.DoMatch(t, connSameButID, "HELLO", "2", "SETNAME", "")
	x.Do(t, "CLIENT", "GETNAME")
}

// TestConnHelloMapKeys checks the keys and fixed values of HELLO 3's map,
// which go-redis and rueidis read.
func TestConnHelloMapKeys(t *testing.T) {
	d := startDurastore(t)
	c := d.Dial(t)
	raw := c.Do("HELLO", "3")
	if !strings.HasPrefix(raw, "%7\r\n") {
		t.Fatalf("HELLO 3 is not a RESP3 map of 7: %q", raw)
	}
	kv := parseReply(raw).([]any)
	want := map[string]any{"server": "redis", "version": "7.0.15", "proto": int64(3),
		"mode": "standalone", "role": "master", "modules": []any{}}
	var keys []string
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		keys = append(keys, k)
		if w, ok := want[k]; ok && connFmt(kv[i+1]) != connFmt(w) {
			t.Errorf("HELLO %s = %v, want %v", k, kv[i+1], w)
		}
	}
	if strings.Join(keys, ",") != "server,version,proto,id,mode,role,modules" {
		t.Errorf("HELLO keys %v", keys)
	}
	id := parseReply(c.Do("CLIENT", "ID")).(int64)
	if kv[7] != id {
		t.Errorf("HELLO id %v, CLIENT ID %d", kv[7], id)
	}
}

// connFmt renders a parsed reply for comparisons.
func connFmt(v any) string {
	switch v := v.(type) {
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = connFmt(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return v
	case nil:
		return "nil"
	}
	return "?"
}

func TestConnAuthWithoutPassword(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		AUTH
		AUTH x
		AUTH default x
		AUTH foo x
		AUTH a b c
		PING
	`)
}

func TestConnAuthRequirePass(t *testing.T) {
	pass := []string{"--requirepass", "sekret"}
	x := newDiff(t, pass, pass)
	x.Script(t, `
		PING
		FOO
		FOO bar
		CLIENT FOO
		CLIENT SETNAME
		CLIENT
		GET
		GET a
		SET a b
		SELECT 1
		CLIENT GETNAME
		COMMAND COUNT
		INFO
		HELLO
		HELLO 3
		HELLO 3 SETNAME "a b" AUTH default wrong
		HELLO 3 AUTH default wrong SETNAME "a b"
		HELLO 3 AUTH default wrong SETNAME ok
		HELLO 3 AUTH nouser sekret
		CLIENT GETNAME
		HELLO 3 SETNAME early
		AUTH wrong
		AUTH default wrong
		AUTH Default sekret
		AUTH sekret
		CLIENT GETNAME
		PING
		AUTH wrong
		PING
		SET a b
		GET a
	`)
	// HELLO with AUTH authenticates and names the connection at once.
	x.Reconnect(t)
	x.Do(t, "GET", "a")
	x.DoMatch(t, connSameButID, "HELLO", "2", "AUTH", "default", "sekret", "SETNAME", "nm")
	x.Do(t, "CLIENT", "GETNAME")
	x.Do(t, "GET", "a")
	x.Reconnect(t)
	x.Do(t, "AUTH", "default", "sekret")
	x.Do(t, "GET", "a")
	// QUIT needs no password.
	x.Reconnect(t)
	x.Do(t, "QUIT")
}

// TestConnAuthConfigSet: a password set by CONFIG SET applies to new
// connections, existing ones stay authenticated, and clearing it lets
// unauthenticated connections in, as on Redis.
func TestConnAuthConfigSet(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Do(t, "CONFIG", "SET", "requirepass", "pw")
	x.Do(t, "PING")
	admin := x
	x2 := newDiffConns(dialRaw(t, x.R.Addr), dialRaw(t, x.D.Addr))
	x2.Do(t, "PING")
	admin.Do(t, "CONFIG", "SET", "requirepass", "")
	x2.Do(t, "PING")
	x2.Do(t, "AUTH", "x")
}

// TestConnRESP3 switches protocols and checks the encodings that change.
func TestConnRESP3(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.DoMatch(t, connSameButID, "HELLO", "3")
	x.Script(t, `
		GET missing
		SET k v
		GET k
		CONFIG GET maxmemory
		COMMAND INFO get nosuch
		COMMAND DOCS client|getname
		INFO cluster
		CLIENT GETNAME
	`)
	d := dialRaw(t, x.D.Addr)
	d.Do("HELLO", "3")
	if got := d.Do("GET", "missing"); got != "_\r\n" {
		t.Errorf("RESP3 GET of a missing key = %q, want _", got)
	}
	x.DoMatch(t, connSameButID, "HELLO", "2")
	x.Script(t, `
		GET missing
		CONFIG GET maxmemory
		COMMAND INFO get nosuch
		INFO cluster
	`)
}

// TestConnHelloPipelined: a pipeline that switches protocol gets the rest
// of its replies in the new one.
func TestConnHelloPipelined(t *testing.T) {
	x := newDiff(t, nil, nil)
	batch := string(encodeCommand("HELLO", "3")) + string(encodeCommand("GET", "nokey")) +
		string(encodeCommand("HELLO", "2")) + string(encodeCommand("GET", "nokey"))
	for _, c := range []*RawConn{x.R, x.D} {
		c.SendRaw([]byte(batch))
	}
	for i := 0; i < 4; i++ {
		r, d := x.R.ReadReply(), x.D.ReadReply()
		if !connSameButID(r, d) {
			t.Errorf("reply %d: redis %q, durastore %q", i, r, d)
		}
	}
}

// TestConnInline sends commands typed by hand, as with telnet.
func TestConnInline(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.DoRaw(t, []byte("PING\r\n"))
	x.DoRaw(t, []byte("SET a b\r\n"))
	x.DoRaw(t, []byte("GET a\r\n"))
	x.DoRaw(t, []byte("ECHO hello\n"))
	x.DoRaw(t, []byte("ping\r\n"))
	x.DoRaw(t, []byte("CLIENT GETNAME\r\n"))
}

func TestConnPingEchoQuitSelect(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		PING
		PING hello
		PING a b
		ECHO
		ECHO x
		ECHO x y
		SELECT
		SELECT 1
		SELECT 16
		SELECT -1
		SELECT 1 2
		QUIT
	`)
}

// ---------------------------------------------------------------------------
// INFO

// connInfoSections returns the "# Name" headers of an INFO reply.
func connInfoSections(raw string) []string {
	var out []string
	for _, l := range strings.Split(parseReply(raw).(string), "\r\n") {
		if strings.HasPrefix(l, "# ") {
			out = append(out, l[2:])
		}
	}
	return out
}

// connInfoFields returns the field names of one INFO section in order.
func connInfoFields(text, section string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(text, "\r\n") {
		switch {
		case strings.HasPrefix(l, "# "):
			in = strings.EqualFold(l[2:], section)
		case in && l != "":
			name, _, _ := strings.Cut(l, ":")
			out = append(out, name)
		}
	}
	return out
}

// connInfoValue returns one field of an INFO text.
func connInfoValue(text, field string) (string, bool) {
	for _, l := range strings.Split(text, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v, true
		}
	}
	return "", false
}

func TestConnInfoSections(t *testing.T) {
	x := newDiff(t, nil, nil)
	sameSections := func(r, d string) bool {
		return strings.Join(connInfoSections(r), ",") == strings.Join(connInfoSections(d), ",")
	}
	for _, args := range [][]string{
		{"INFO"}, {"INFO", "default"}, {"INFO", "all"}, {"INFO", "everything"}, {"INFO", "ALL", "foo"},
		{"INFO", "server", "clients"}, {"INFO", "Keyspace", "server"}, {"INFO", "cpu", "cpu"},
		{"INFO", "default", "commandstats"}, {"INFO", "memory"}, {"INFO", "persistence", "stats"},
		{"INFO", "replication"}, {"INFO", "errorstats"}, {"INFO", "module_list"},
	} {
		x.DoMatch(t, sameSections, args...)
	}
	x.Script(t, `
		INFO foo
		INFO foo bar
		INFO cluster
		INFO modules
		INFO keyspace
		INFO cluster keyspace
		INFO keyspace cluster
		INFO CLUSTER
	`)
}

// TestConnInfoFields checks that every field Redis 7.0 reports in the
// sections clients parse is present, in Redis's order.
func TestConnInfoFields(t *testing.T) {
	x := newDiff(t, nil, nil)
	r := parseReply(x.R.Do("INFO", "everything")).(string)
	d := parseReply(x.D.Do("INFO", "everything")).(string)
	// Fields that depend on how Redis is built or allocates memory.
	skip := map[string]bool{
		"used_memory_overhead": true, "used_memory_startup": true, "used_memory_dataset": true,
		"used_memory_dataset_perc": true, "used_memory_lua": true, "used_memory_vm_eval": true,
		"used_memory_lua_human": true, "used_memory_scripts_eval": true, "number_of_cached_scripts": true,
		"number_of_functions": true, "number_of_libraries": true, "used_memory_vm_functions": true,
		"used_memory_vm_total": true, "used_memory_vm_total_human": true, "used_memory_functions": true,
		"used_memory_scripts": true, "used_memory_scripts_human": true, "allocator_rss_ratio": true,
		"allocator_rss_bytes": true, "rss_overhead_ratio": true, "rss_overhead_bytes": true,
	}
	for _, sec := range []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster"} {
		theirs := connInfoFields(r, sec)
		ours := connInfoFields(d, sec)
		pos := map[string]int{}
		for i, f := range ours {
			pos[f] = i
		}
		last := -1
		for _, f := range theirs {
			if skip[f] {
				continue
			}
			i, ok := pos[f]
			if !ok {
				t.Errorf("INFO %s: field %s missing", sec, f)
				continue
			}
			if i < last {
				t.Errorf("INFO %s: field %s out of Redis's order", sec, f)
			}
			last = i
		}
	}
	for field, want := range map[string]string{
		"redis_version": "7.0.15", "redis_mode": "standalone", "loading": "0", "role": "master",
		"connected_slaves": "0", "blocked_clients": "0", "cluster_enabled": "0", "arch_bits": "64",
		"multiplexing_api": "epoll", "maxmemory_policy": "noeviction", "aof_last_bgrewrite_status": "ok",
	} {
		if got, _ := connInfoValue(d, field); got != want {
			t.Errorf("INFO %s = %q, want %q", field, got, want)
		}
	}
	if got, _ := connInfoValue(d, "tcp_port"); got != strconv.Itoa(x.Dura.Port) {
		t.Errorf("tcp_port %q, want %d", got, x.Dura.Port)
	}
	if got, _ := connInfoValue(d, "durastore_version"); got == "" {
		t.Errorf("no durastore_version")
	}
	if got, _ := connInfoValue(d, "run_id"); len(got) != 40 {
		t.Errorf("run_id %q is not 40 hex characters", got)
	}
	for _, f := range []string{"used_memory", "used_memory_rss", "process_id", "total_system_memory"} {
		v, _ := connInfoValue(d, f)
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
			t.Errorf("INFO %s = %q, want a positive number", f, v)
		}
	}
	for _, f := range []string{"used_cpu_sys", "used_cpu_user"} {
		v, _ := connInfoValue(d, f)
		if !regexp.MustCompile(`^\d+\.\d{6}$`).MatchString(v) {
			t.Errorf("INFO %s = %q, want seconds.micros", f, v)
		}
	}
}

// TestConnInfoCounters checks the stats and clients counters move.
func TestConnInfoCounters(t *testing.T) {
	d := startDurastore(t)
	c := d.Dial(t)
	info := func(sec string) string { return parseReply(c.Do("INFO", sec)).(string) }
	num := func(text, f string) int64 {
		v, _ := connInfoValue(text, f)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("INFO %s = %q", f, v)
		}
		return n
	}
	before := info("stats")
	c.Do("SET", "k", "v")
	c.Do("GET", "k")
	c.Do("GET", "nokey")
	c.Do("GET", "nokey")
	c.Do("NOSUCHCOMMAND")
	after := info("stats")
	if got := num(after, "keyspace_hits") - num(before, "keyspace_hits"); got != 1 {
		t.Errorf("keyspace_hits grew by %d, want 1", got)
	}
	if got := num(after, "keyspace_misses") - num(before, "keyspace_misses"); got != 2 {
		t.Errorf("keyspace_misses grew by %d, want 2", got)
	}
	if got := num(after, "total_error_replies") - num(before, "total_error_replies"); got != 1 {
		t.Errorf("total_error_replies grew by %d, want 1", got)
	}
	if got := num(after, "total_commands_processed") - num(before, "total_commands_processed"); got != 5 {
		t.Errorf("total_commands_processed grew by %d, want 5 (4 commands and INFO)", got)
	}
	conns := num(after, "total_connections_received")
	c2 := d.Dial(t)
	c2.Do("PING")
	if got := num(info("stats"), "total_connections_received"); got != conns+1 {
		t.Errorf("total_connections_received %d, want %d", got, conns+1)
	}
	if got := num(info("clients"), "connected_clients"); got != 2 {
		t.Errorf("connected_clients %d, want 2", got)
	}
	c2.Close()
	if c.Do("CONFIG", "RESETSTAT") != "+OK\r\n" {
		t.Fatal("CONFIG RESETSTAT failed")
	}
	reset := info("stats")
	for _, f := range []string{"keyspace_hits", "keyspace_misses", "total_error_replies", "total_connections_received"} {
		if num(reset, f) != 0 {
			t.Errorf("after RESETSTAT %s = %d", f, num(reset, f))
		}
	}
	if got := num(reset, "total_commands_processed"); got != 1 {
		t.Errorf("after RESETSTAT total_commands_processed = %d, want 1 (the INFO)", got)
	}
}

// TestConnInfoKeyspace writes in db0, db3 and a named namespace.
func TestConnInfoKeyspace(t *testing.T) {
	x := newDiff(t, nil, nil)
	noTTL := regexp.MustCompile(`avg_ttl=\d+`)
	sameButTTL := func(r, d string) bool {
		strip := func(s string) string { return noTTL.ReplaceAllString(parseReply(s).(string), "avg_ttl=?") }
		return strip(r) == strip(d)
	}
	x.Do(t, "INFO", "keyspace")
	x.Script(t, `
		SET a 1
		SET b 2
		SET c 3 EX 100
		SELECT 3
		SET x 1 PX 50000
	`)
	x.DoMatch(t, sameButTTL, "INFO", "keyspace")
	d := x.D
	d.Do("SELECT", "sessions")
	d.Do("SET", "s1", "v")
	d.Do("SET", "s2", "v")
	text := parseReply(d.Do("INFO", "keyspace")).(string)
	want := regexp.MustCompile(`^# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=\d+\r\ndb3:keys=1,expires=1,avg_ttl=\d+\r\nsessions:keys=2,expires=0,avg_ttl=0\r\n$`)
	if !want.MatchString(text) {
		t.Errorf("INFO keyspace = %q", text)
	}
	x.Do(t, "FLUSHALL")
	x.Do(t, "INFO", "keyspace")
}

// ---------------------------------------------------------------------------
// COMMAND

// connInfoCommands are rows durastore must report exactly as Redis 7.0.
var connInfoCommands = []string{
	"get", "set", "ping", "echo", "quit", "select", "hello", "auth", "dbsize", "flushdb", "flushall",
	"info", "time", "lastsave", "bgrewriteaof", "save", "bgsave", "shutdown",
	"client|id", "client|getname", "client|setname", "client|list", "client|info", "client|kill",
	"client|no-evict", "client|help", "config|get", "config|set", "config|resetstat", "config|rewrite",
	"config|help", "command|info", "command|docs", "command|count", "command|list", "command|getkeys",
	"command|getkeysandflags", "command|help",
}

func TestConnCommandInfo(t *testing.T) {
	x := newDiff(t, nil, nil)
	for _, resp := range []string{"2", "3"} {
		x.DoMatch(t, connSameButID, "HELLO", resp)
		for _, name := range connInfoCommands {
			x.Do(t, "COMMAND", "INFO", name)
			x.Do(t, "COMMAND", "DOCS", name)
		}
		x.Do(t, "COMMAND", "INFO", "GET", "nosuch", "client|nosuch", "get|x")
		x.Do(t, "COMMAND", "DOCS", "nosuch")
		x.Do(t, "COMMAND", "DOCS", "get", "nosuch", "CLIENT|ID")
	}
}

// TestConnCommandInfoAll compares COMMAND INFO of every command durastore
// has with Redis's, container commands aside (their subcommands differ).
func TestConnCommandInfoAll(t *testing.T) {
	x := newDiff(t, nil, nil)
	names := parseReply(x.D.Do("COMMAND", "LIST")).([]any)
	if len(names) < 20 {
		t.Fatalf("COMMAND LIST has %d names", len(names))
	}
	redisHas := map[string]bool{}
	for _, n := range parseReply(x.R.Do("COMMAND", "LIST")).([]any) {
		redisHas[n.(string)] = true
	}
	compared := 0
	defer func() {
		if compared < 30 {
			t.Errorf("compared only %d commands", compared)
		}
	}()
	// Containers (CLIENT, CONFIG, SCRIPT, ...) list their subcommands in
	// the order of a hash table that Redis seeds at random: they are
	// compared subcommand by subcommand instead.
	container := map[string]bool{}
	for _, n := range names {
		if i := strings.IndexByte(n.(string), '|'); i > 0 {
			container[n.(string)[:i]] = true
		}
	}
	for _, n := range names {
		name := n.(string)
		info := parseReply(x.D.Do("COMMAND", "INFO", name)).([]any)
		if len(info) == 1 {
			if entry, ok := info[0].([]any); ok && len(entry) >= 10 {
				if subs, ok := entry[9].([]any); ok && len(subs) > 0 {
					container[name] = true
				}
			}
		}
		switch {
		case container[name]:
			continue
		case !redisHas[name]:
			if name != "client|setinfo" && name != "client|no-touch" {
				t.Logf("%s: not a Redis 7.0 command", name)
			}
			continue
		}
		x.Do(t, "COMMAND", "INFO", name)
		compared++
	}
	// Whole COMMAND replies parse, and COUNT agrees with them.
	all := parseReply(x.D.Do("COMMAND")).([]any)
	count := parseReply(x.D.Do("COMMAND", "COUNT")).(int64)
	if int64(len(all)) != count {
		t.Errorf("COMMAND has %d entries, COMMAND COUNT says %d", len(all), count)
	}
	infos := parseReply(x.D.Do("COMMAND", "INFO")).([]any)
	if len(infos) != len(all) {
		t.Errorf("COMMAND INFO without names gives %d entries, COMMAND %d", len(infos), len(all))
	}
	docs := parseReply(x.D.Do("COMMAND", "DOCS")).([]any)
	if int64(len(docs)) != 2*count {
		t.Errorf("COMMAND DOCS has %d entries, want %d", len(docs)/2, count)
	}
}

func TestConnCommandSubcommands(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		COMMAND HELP
		COMMAND HELP x
		COMMAND FOO
		command foo
		COMMAND COUNT x
		COMMAND GETKEYS
		COMMAND GETKEYS get
		COMMAND GETKEYS nosuch x
		COMMAND GETKEYS ping x
		COMMAND GETKEYS get a b
		COMMAND GETKEYS get a
		COMMAND GETKEYS set a b
		COMMAND GETKEYS SET a b EX 10 GET
		COMMAND GETKEYS client id
		COMMAND GETKEYS client nosuch
		COMMAND GETKEYSANDFLAGS set a b
		COMMAND GETKEYSANDFLAGS set a b get
		COMMAND GETKEYSANDFLAGS get a
		COMMAND LIST filterby
		COMMAND LIST foo
		COMMAND LIST filterby foo x
		COMMAND LIST filterby module x
		COMMAND LIST filterby pattern x y
		COMMAND LIST filterby aclcat nosuchcat
		@unordered COMMAND LIST filterby pattern config*
		@unordered COMMAND LIST filterby pattern COMMAND|*
	`)
	// Durastore's CLIENT subcommands are a subset of Redis's plus the two
	// it takes from 7.2.
	redisClient := map[string]bool{"client|setinfo": true, "client|no-touch": true}
	for _, n := range parseReply(x.R.Do("COMMAND", "LIST", "FILTERBY", "PATTERN", "client*")).([]any) {
		redisClient[n.(string)] = true
	}
	ours := parseReply(x.D.Do("COMMAND", "LIST", "FILTERBY", "PATTERN", "client*")).([]any)
	if len(ours) < 10 {
		t.Errorf("CLIENT has %d subcommands listed", len(ours))
	}
	for _, n := range ours {
		if !redisClient[n.(string)] {
			t.Errorf("COMMAND LIST: %s is not a Redis command", n)
		}
	}
	// FILTERBY ACLCAT lists subcommands by their own categories.
	conn := map[string]bool{}
	for _, n := range parseReply(x.D.Do("COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection")).([]any) {
		conn[n.(string)] = true
	}
	for _, want := range []string{"ping", "hello", "auth", "client|id", "command|info"} {
		if !conn[want] {
			t.Errorf("FILTERBY ACLCAT connection lacks %s", want)
		}
	}
	if conn["client"] || conn["get"] {
		t.Errorf("FILTERBY ACLCAT connection lists client or get: %v", conn)
	}
}

// ---------------------------------------------------------------------------
// CONFIG and the server commands

func TestConnConfig(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		CONFIG
		CONFIG GET
		CONFIG GET maxmemory
		CONFIG GET MAXMEMORY
		CONFIG GET maxmemory MAXMEMORY
		CONFIG GET lua-time-limit
		@unordered CONFIG GET LUA-time-limit busy-reply-threshold
		CONFIG GET nosuch
		CONFIG GET timeout nosuch
		@unordered CONFIG GET maxmemory maxmemory-policy maxmemory
		CONFIG SET
		CONFIG SET maxmemory
		CONFIG SET maxmemory 1mb
		CONFIG GET maxmemory
		CONFIG SET maxmemory 0
		CONFIG SET nosuch 1
		CONFIG SET maxmemory x
		CONFIG SET maxmemory 1 maxmemory 2
		CONFIG SET timeout 0 maxmemory
		CONFIG SET timeout 10 maxmemory 2mb
		CONFIG GET timeout
		CONFIG SET timeout 0 maxmemory-policy bogus
		CONFIG GET timeout
		CONFIG SET maxmemory-policy ALLKEYS-LRU
		CONFIG GET maxmemory-policy
		CONFIG SET databases 4
		CONFIG RESETSTAT
		CONFIG RESETSTAT x
		CONFIG REWRITE
		CONFIG REWRITE x
		CONFIG FOO
		CONFIG HELP
		CONFIG HELP x
	`)
	// Durastore has fewer parameters than Redis; the naming rules are the
	// same: a literal name as given, a glob's matches by their names, each
	// parameter once.
	got := connFmt(parseReply(x.D.Do("CONFIG", "GET", "MAXMEMORY", "maxmemory*")))
	if got != "[MAXMEMORY 2097152 maxmemory-eviction-tenacity 10 maxmemory-policy allkeys-lru maxmemory-samples 5]" {
		t.Errorf("CONFIG GET MAXMEMORY maxmemory* = %s", got)
	}
	got = connFmt(parseReply(x.D.Do("CONFIG", "GET", "maxmem*", "MAXMEMORY")))
	if got != "[maxmemory 2097152 maxmemory-eviction-tenacity 10 maxmemory-policy allkeys-lru maxmemory-samples 5]" {
		t.Errorf("CONFIG GET maxmem* MAXMEMORY = %s", got)
	}
}

func TestConnConfigRewrite(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "durastore.conf")
	if err := os.WriteFile(conf, []byte("# my settings\nport 1\nmaxmemory 10mb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The config file must come first, so every flag is given here.
	p := startDurastore(t, conf, "--port", strconv.Itoa(freePort(t)), "--bind", "127.0.0.1",
		"--dir", filepath.Join(dir, "data"), "--http-port", "0")
	c := p.Dial(t)
	if got := c.Do("CONFIG", "SET", "maxmemory", "20mb", "timeout", "7"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", got)
	}
	if got := c.Do("CONFIG", "REWRITE"); got != "+OK\r\n" {
		t.Fatalf("CONFIG REWRITE: %q", got)
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"# my settings\n", "maxmemory 20mb\n", "timeout 7\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("rewritten config lacks %q:\n%s", want, text)
		}
	}
	info := parseReply(c.Do("INFO", "server")).(string)
	if got, _ := connInfoValue(info, "config_file"); got != conf {
		t.Errorf("config_file %q, want %q", got, conf)
	}
}

func TestConnServerCommands(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		TIME x
		LASTSAVE x
		BGREWRITEAOF x
		SAVE x
		SAVE
		BGSAVE x
		BGSAVE foo
		BGSAVE schedule x
		SHUTDOWN foo
		SHUTDOWN nosave save
		SHUTDOWN abort
		SHUTDOWN now abort
		SHUTDOWN now foo
		BGREWRITEAOF
		DBSIZE x
		FLUSHDB x
		FLUSHALL x
	`)
	x.DoMatch(t, func(r, d string) bool { return r == d || d == "+Background saving started\r\n" }, "BGSAVE")
	x.DoMatch(t, func(r, d string) bool { return r == d || d == "+Background saving started\r\n" }, "BGSAVE", "SCHEDULE")
	before := time.Now().Unix()
	tm := parseReply(x.D.Do("TIME")).([]any)
	sec, err1 := strconv.ParseInt(tm[0].(string), 10, 64)
	usec, err2 := strconv.ParseInt(tm[1].(string), 10, 64)
	if err1 != nil || err2 != nil || sec < before-1 || sec > time.Now().Unix()+1 || usec < 0 || usec > 999999 {
		t.Errorf("TIME = %v", tm)
	}
	last := parseReply(x.D.Do("LASTSAVE")).(int64)
	if last < before-1 || last > time.Now().Unix()+1 {
		t.Errorf("LASTSAVE %d after SAVE, want about %d", last, before)
	}
}

// TestConnShutdown stops durastore with SHUTDOWN: no reply, the
// connection closes, the process exits 0 and the data is there after a
// restart.
func TestConnShutdown(t *testing.T) {
	for _, args := range [][]string{{"SHUTDOWN"}, {"SHUTDOWN", "NOSAVE"}, {"shutdown", "save", "now", "force"}} {
		p := startDurastore(t, "--appendonly", "yes")
		c := p.Dial(t)
		c.Do("SET", "k", "v")
		raw, err := c.DoErr(args...)
		if err == nil {
			t.Errorf("%v replied %q; want the connection closed", args, raw)
		}
		if code, err := p.Wait(10 * time.Second); code != 0 || err != nil {
			t.Fatalf("%v: exit %d, %v", args, code, err)
		}
		p.Restart(t)
		if got := p.Dial(t).Do("GET", "k"); got != "$1\r\nv\r\n" {
			t.Errorf("after %v and a restart GET k = %q", args, got)
		}
	}
}
