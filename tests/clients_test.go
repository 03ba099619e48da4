package tests

// CLIENT and real clients: the CLIENT subcommands against redis-server 7.0
// (SETINFO and NO-TOUCH as Redis 7.2), CLIENT LIST's format, CLIENT KILL,
// and go-redis v9 and redis-cli connecting unchanged.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestClientsDiff(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		CLIENT
		CLIENT FOO
		CLIENT HELP x
		CLIENT GETNAME
		CLIENT GETNAME x
		CLIENT SETNAME
		CLIENT SETNAME a b
		CLIENT SETNAME ""
		CLIENT GETNAME
		CLIENT SETNAME conn1
		CLIENT GETNAME
		CLIENT SETNAME "a b"
		CLIENT SETNAME "a\nb"
		CLIENT SETNAME "\xc3\xa9"
		CLIENT SETNAME "\x7f"
		CLIENT GETNAME
		CLIENT SETNAME ~!@#$%^&*()_+{}|:<>?
		CLIENT GETNAME
		CLIENT SETNAME ""
		CLIENT GETNAME
		CLIENT ID x
		CLIENT INFO x
		CLIENT NO-EVICT
		CLIENT NO-EVICT on
		CLIENT NO-EVICT OFF
		CLIENT NO-EVICT x
		CLIENT NO-EVICT on off
		CLIENT LIST TYPE foo
		CLIENT LIST TYPE pubsub
		CLIENT LIST TYPE master
		CLIENT LIST TYPE replica
		CLIENT LIST TYPE slave
		CLIENT LIST ID
		CLIENT LIST ID x
		CLIENT LIST ID 1 x
		CLIENT LIST ID 0
		CLIENT LIST ID -1 99999
		CLIENT LIST foo
		CLIENT LIST TYPE
		CLIENT LIST TYPE normal ID 1
		CLIENT LIST TYPE normal x
		CLIENT KILL
		CLIENT KILL 1.2.3.4:5
		CLIENT KILL id
		CLIENT KILL type
		CLIENT KILL ID x
		CLIENT KILL ID 0
		CLIENT KILL ID -5
		CLIENT KILL ID 99999
		CLIENT KILL ADDR 1.1.1.1:1
		CLIENT KILL LADDR 1.1.1.1:1
		CLIENT KILL ADDR 1.1.1.1:1 ID 5
		CLIENT KILL SKIPME maybe
		CLIENT KILL SKIPME yes
		CLIENT KILL TYPE normal SKIPME yes
		CLIENT KILL TYPE bogus
		CLIENT KILL USER default
		CLIENT KILL USER nouser
		CLIENT KILL FOO bar
		CLIENT KILL ID 5 TYPE
		CLIENT KILL MAXAGE 100
		CLIENT GETREDIR2
	`)
	x.DoMatch(t, func(r, d string) bool { return r[0] == ':' && d[0] == ':' }, "CLIENT", "ID")
}

// clientListFields are CLIENT LIST's fields, in Redis 7.2's order.
var clientListFields = strings.Fields(`id addr laddr fd name age idle flags db sub psub ssub multi
	qbuf qbuf-free argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp lib-name lib-ver`)

// clientFields splits a CLIENT LIST line into its fields, in order.
func clientFields(t *testing.T, line string) ([]string, map[string]string) {
	t.Helper()
	var keys []string
	vals := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(line, "\n"), " ") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("CLIENT LIST field %q has no '=' in %q", kv, line)
		}
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

func TestClientsListFormat(t *testing.T) {
	x := newDiff(t, nil, nil)
	// Every field Redis 7.0 prints is there, in the same order.
	rkeys, _ := clientFields(t, parseReply(x.R.Do("CLIENT", "INFO")).(string))
	dline := parseReply(x.D.Do("CLIENT", "INFO")).(string)
	if !strings.HasSuffix(dline, "\n") || strings.Count(dline, "\n") != 1 {
		t.Errorf("CLIENT INFO %q must be one line ending in a newline", dline)
	}
	dkeys, vals := clientFields(t, dline)
	if strings.Join(dkeys, " ") != strings.Join(clientListFields, " ") {
		t.Errorf("CLIENT INFO fields\n  %v\nwant\n  %v", dkeys, clientListFields)
	}
	if strings.Join(rkeys, " ")+" lib-name lib-ver" != strings.Join(dkeys, " ") {
		t.Errorf("fields differ from Redis 7.0's plus lib-name lib-ver:\n  redis %v\n  ours  %v", rkeys, dkeys)
	}
	local := x.D.conn.LocalAddr().String()
	id := strconv.FormatInt(parseReply(x.D.Do("CLIENT", "ID")).(int64), 10)
	want := map[string]string{"id": id, "addr": local, "laddr": x.D.Addr, "name": "", "flags": "N", "db": "0",
		"sub": "0", "psub": "0", "multi": "-1", "cmd": "client|info", "user": "default", "redir": "-1",
		"resp": "2", "lib-name": "", "lib-ver": "", "events": "r"}
	for k, v := range want {
		if vals[k] != v {
			t.Errorf("CLIENT INFO %s=%q, want %q", k, vals[k], v)
		}
	}
	for _, k := range []string{"fd", "age", "idle"} {
		if n, err := strconv.Atoi(vals[k]); err != nil || n < 0 {
			t.Errorf("CLIENT INFO %s=%q, want a number", k, vals[k])
		}
	}

	// The fields follow the connection's state.
	c := x.D
	c.Do("SELECT", "3")
	c.Do("CLIENT", "SETNAME", "worker-1")
	c.Do("CLIENT", "NO-EVICT", "on")
	c.Do("CLIENT", "NO-TOUCH", "on")
	c.Do("CLIENT", "SETINFO", "LIB-NAME", "mylib")
	c.Do("CLIENT", "SETINFO", "lib-ver", "1.2.3")
	c.Do("HELLO", "3")
	_, vals = clientFields(t, parseReply(c.Do("CLIENT", "LIST", "ID", id)).(string))
	want = map[string]string{"name": "worker-1", "db": "3", "flags": "eT", "resp": "3", "lib-name": "mylib",
		"lib-ver": "1.2.3", "cmd": "client|list"}
	for k, v := range want {
		if vals[k] != v {
			t.Errorf("after changes CLIENT LIST %s=%q, want %q", k, vals[k], v)
		}
	}
	c.Do("SELECT", "sessions")
	c.Do("CLIENT", "NO-EVICT", "off")
	c.Do("CLIENT", "NO-TOUCH", "off")
	c.Do("CLIENT", "SETINFO", "lib-name", "")
	_, vals = clientFields(t, parseReply(c.Do("CLIENT", "INFO")).(string))
	if vals["db"] != "sessions" || vals["flags"] != "N" || vals["lib-name"] != "" || vals["lib-ver"] != "1.2.3" {
		t.Errorf("CLIENT INFO db=%q flags=%q lib-name=%q lib-ver=%q", vals["db"], vals["flags"], vals["lib-name"], vals["lib-ver"])
	}
	// RESP3 sends the text as a verbatim string, as Redis 7 does.
	if raw := c.Do("CLIENT", "INFO"); !strings.HasPrefix(raw, "=") || !strings.Contains(raw, "\r\ntxt:id=") {
		t.Errorf("RESP3 CLIENT INFO = %q, want a verbatim string", raw)
	}
}

// TestClientsList checks CLIENT LIST across connections and its filters.
func TestClientsList(t *testing.T) {
	p := startDurastore(t)
	conns := []*RawConn{p.Dial(t), p.Dial(t), p.Dial(t)}
	var ids []string
	for i, c := range conns {
		c.Do("CLIENT", "SETNAME", fmt.Sprintf("c%d", i))
		ids = append(ids, strconv.FormatInt(parseReply(c.Do("CLIENT", "ID")).(int64), 10))
	}
	lines := func(raw string) []string {
		s := parseReply(raw).(string)
		if s == "" {
			return nil
		}
		if !strings.HasSuffix(s, "\n") {
			t.Errorf("CLIENT LIST %q does not end in a newline", s)
		}
		return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	}
	names := func(ls []string) string {
		var out []string
		for _, l := range ls {
			_, v := clientFields(t, l)
			out = append(out, v["name"])
		}
		return strings.Join(out, ",")
	}
	if got := names(lines(conns[0].Do("CLIENT", "LIST"))); got != "c0,c1,c2" {
		t.Errorf("CLIENT LIST names %q, want c0,c1,c2 in ID order", got)
	}
	if got := names(lines(conns[0].Do("CLIENT", "LIST", "TYPE", "NORMAL"))); got != "c0,c1,c2" {
		t.Errorf("CLIENT LIST TYPE NORMAL names %q", got)
	}
	if got := lines(conns[0].Do("CLIENT", "LIST", "TYPE", "pubsub")); len(got) != 0 {
		t.Errorf("CLIENT LIST TYPE pubsub = %q", got)
	}
	// IDs in the order given, repeats and unknown IDs as Redis.
	if got := names(lines(conns[0].Do("CLIENT", "LIST", "ID", ids[2], "99999", ids[0], ids[2]))); got != "c2,c0,c2" {
		t.Errorf("CLIENT LIST ID names %q, want c2,c0,c2", got)
	}
	conns[1].Close()
	// The closed connection leaves the list once the server noticed.
	for i := 0; ; i++ {
		got := names(lines(conns[0].Do("CLIENT", "LIST")))
		if got == "c0,c2" {
			break
		}
		if i > 500 {
			t.Fatalf("after closing c1 CLIENT LIST names %q", got)
		}
		conns[0].Do("PING")
	}
}

func TestClientsSetInfo(t *testing.T) {
	p := startDurastore(t)
	c := p.Dial(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "go-redis(,go1.26.0)"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-VER", "9.23.0"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-name", "a b"}, "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETINFO", "LIB-VER", "1\n2"}, "-ERR LIB-VER cannot contain spaces, newlines or special characters.\r\n"},
		{[]string{"CLIENT", "SETINFO", "foo", "x"}, "-ERR Unrecognized option 'foo'\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-name"}, "-ERR wrong number of arguments for 'client|setinfo' command\r\n"},
		{[]string{"CLIENT", "SETINFO", "lib-name", "x", "y"}, "-ERR wrong number of arguments for 'client|setinfo' command\r\n"},
		{[]string{"CLIENT", "NO-TOUCH", "on"}, "+OK\r\n"},
		{[]string{"CLIENT", "NO-TOUCH", "OFF"}, "+OK\r\n"},
		{[]string{"CLIENT", "NO-TOUCH", "maybe"}, "-ERR syntax error\r\n"},
		{[]string{"CLIENT", "NO-TOUCH"}, "-ERR wrong number of arguments for 'client|no-touch' command\r\n"},
	}
	for _, tc := range cases {
		if got := c.Do(tc.args...); got != tc.want {
			t.Errorf("%s = %q, want %q", fmtCmd(tc.args), got, tc.want)
		}
	}
	_, vals := clientFields(t, parseReply(c.Do("CLIENT", "INFO")).(string))
	if vals["lib-name"] != "go-redis(,go1.26.0)" || vals["lib-ver"] != "9.23.0" {
		t.Errorf("bad values changed the library info: %v", vals)
	}
	help := parseReply(c.Do("CLIENT", "HELP")).([]any)
	text := connFmt(help)
	for _, want := range []string{"SETINFO <option> <value>", "NO-TOUCH (ON|OFF)", "KILL <ip:port>", "Prints this help."} {
		if !strings.Contains(text, want) {
			t.Errorf("CLIENT HELP lacks %q", want)
		}
	}
	if help[0] != "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" {
		t.Errorf("CLIENT HELP starts %q", help[0])
	}
}

// clientsClosed reports whether the server closed c.
func clientsClosed(c *RawConn) bool {
	_, err := c.DoErr("PING")
	return err != nil
}

func TestClientsKill(t *testing.T) {
	p := startDurastore(t)
	me := p.Dial(t)
	id := func(c *RawConn) string { return strconv.FormatInt(parseReply(c.Do("CLIENT", "ID")).(int64), 10) }

	// By ID: the victim is gone from the list at once and its socket closes.
	v := p.Dial(t)
	vid := id(v)
	if got := me.Do("CLIENT", "KILL", "ID", vid); got != ":1\r\n" {
		t.Errorf("CLIENT KILL ID = %q", got)
	}
	if got := parseReply(me.Do("CLIENT", "LIST", "ID", vid)).(string); got != "" {
		t.Errorf("killed client still listed: %q", got)
	}
	if !clientsClosed(v) {
		t.Errorf("killed client still served")
	}
	if got := me.Do("CLIENT", "KILL", "ID", vid); got != ":0\r\n" {
		t.Errorf("second CLIENT KILL ID = %q", got)
	}

	// By ADDR, and the old form, which replies OK.
	v = p.Dial(t)
	v.Do("PING") // registered by the server
	if got := me.Do("CLIENT", "KILL", "ADDR", v.conn.LocalAddr().String()); got != ":1\r\n" {
		t.Errorf("CLIENT KILL ADDR = %q", got)
	}
	v = p.Dial(t)
	v.Do("PING")
	if got := me.Do("CLIENT", "KILL", v.conn.LocalAddr().String()); got != "+OK\r\n" {
		t.Errorf("CLIENT KILL addr:port = %q", got)
	}
	if !clientsClosed(v) {
		t.Errorf("client killed by addr:port still served")
	}

	// LADDR, TYPE and USER match every other connection; SKIPME spares me.
	others := []*RawConn{p.Dial(t), p.Dial(t)}
	for _, o := range others {
		o.Do("PING")
	}
	if got := me.Do("CLIENT", "KILL", "LADDR", p.Addr, "TYPE", "normal", "USER", "default"); got != ":2\r\n" {
		t.Errorf("CLIENT KILL LADDR TYPE USER = %q, want 2 (skipping me)", got)
	}
	for _, o := range others {
		if !clientsClosed(o) {
			t.Errorf("client not killed by LADDR")
		}
	}
	if got := me.Do("PING"); got != "+PONG\r\n" {
		t.Errorf("SKIPME yes killed the caller: %q", got)
	}

	// Killing myself: the reply comes, then the connection closes, and the
	// rest of the pipeline does not run.
	myID := id(me)
	me.SendRaw(append(encodeCommand("CLIENT", "KILL", "ID", myID, "SKIPME", "no"), encodeCommand("SET", "after", "kill")...))
	if got := me.ReadReply(); got != ":1\r\n" {
		t.Errorf("CLIENT KILL ID me SKIPME no = %q", got)
	}
	if _, err := me.ReadReplyErr(); err == nil {
		t.Errorf("connection still open after killing itself")
	}
	c := p.Dial(t)
	if got := c.Do("EXISTS", "after"); got != ":0\r\n" {
		t.Errorf("command after a self-kill ran: EXISTS = %q", got)
	}
	if got := c.Do("CLIENT", "KILL", c.conn.LocalAddr().String()); got != "+OK\r\n" {
		t.Errorf("old-form self kill = %q", got)
	}
	if _, err := c.ReadReplyErr(); err == nil {
		t.Errorf("old-form self kill left the connection open")
	}
}

// ---------------------------------------------------------------------------
// go-redis

func TestClientsGoRedisDefault(t *testing.T) {
	p := startDurastore(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr}) // RESP3, CLIENT SETINFO
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	info, err := rdb.ClientInfo(ctx).Result()
	if err != nil {
		t.Fatalf("CLIENT INFO through go-redis: %v", err)
	}
	if info.Resp != 3 || !strings.HasPrefix(info.LibName, "go-redis(") || info.LibVer != redis.Version() || info.DB != 0 {
		t.Errorf("go-redis connection: resp %d lib %q %q db %d", info.Resp, info.LibName, info.LibVer, info.DB)
	}
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Errorf("GET = %q, %v", v, err)
	}
	if _, err := rdb.Get(ctx, "missing").Result(); err != redis.Nil {
		t.Errorf("GET missing = %v, want redis.Nil", err)
	}
	cn := rdb.Conn()
	if ok, err := cn.ClientSetName(ctx, "gr").Result(); err != nil || !ok {
		t.Errorf("CLIENT SETNAME: %v %v", ok, err)
	}
	if n, err := cn.ClientGetName(ctx).Result(); err != nil || n != "gr" {
		t.Errorf("CLIENT GETNAME = %q, %v", n, err)
	}
	if id, err := cn.ClientID(ctx).Result(); err != nil || id <= 0 {
		t.Errorf("CLIENT ID = %d, %v", id, err)
	}
	cn.Close()
	if s, err := rdb.Info(ctx, "server").Result(); err != nil || !strings.Contains(s, "redis_version:7.0.15\r\n") {
		t.Errorf("INFO server: %v %q", err, s)
	}
	if m, err := rdb.ConfigGet(ctx, "maxmemory").Result(); err != nil || m["maxmemory"] != "0" {
		t.Errorf("CONFIG GET = %v, %v", m, err)
	}
	if tm, err := rdb.Time(ctx).Result(); err != nil || tm.IsZero() {
		t.Errorf("TIME = %v, %v", tm, err)
	}
	for _, proto := range []int{3, 2} {
		c := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: proto})
		cmds, err := c.Command(ctx).Result()
		if err != nil {
			t.Fatalf("COMMAND through go-redis RESP%d: %v", proto, err)
		}
		get := cmds["get"]
		if get == nil || get.Arity != 2 || get.FirstKeyPos != 1 || get.LastKeyPos != 1 || get.StepCount != 1 ||
			!strings.Contains(strings.Join(get.Flags, ","), "readonly") || !strings.Contains(strings.Join(get.ACLFlags, ","), "@read") {
			t.Errorf("RESP%d COMMAND get = %+v", proto, get)
		}
		if cmds["client"] == nil || len(cmds) < 30 {
			t.Errorf("RESP%d COMMAND has %d commands", proto, len(cmds))
		}
		keys, err := c.CommandGetKeys(ctx, "mset", "a", "1", "b", "2").Result()
		if err != nil || strings.Join(keys, ",") != "a,b" {
			t.Errorf("COMMAND GETKEYS = %v, %v", keys, err)
		}
		c.Close()
	}
}

// TestClientsGoRedisDB: Options.DB selects the database on every pooled
// connection.
func TestClientsGoRedisDB(t *testing.T) {
	p := startDurastore(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, DB: 3, PoolSize: 4})
	defer rdb.Close()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := rdb.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
				t.Errorf("SET: %v", err)
			}
		}(i)
	}
	wg.Wait()
	c := p.Dial(t)
	if got := c.Do("DBSIZE"); got != ":0\r\n" {
		t.Errorf("db 0 DBSIZE = %q", got)
	}
	c.Do("SELECT", "3")
	if got := c.Do("DBSIZE"); got != ":8\r\n" {
		t.Errorf("db 3 DBSIZE = %q", got)
	}
	if info, err := rdb.ClientInfo(ctx).Result(); err != nil || info.DB != 3 {
		t.Errorf("CLIENT INFO db = %v, %v", info, err)
	}
}

// TestClientsGoRedisPool runs 50 goroutines over a pool of 20.
func TestClientsGoRedisPool(t *testing.T) {
	p := startDurastore(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, PoolSize: 20})
	defer rdb.Close()
	const workers, each = 50, 100
	// No key exists yet, nor the namespace: the first INCRs race to
	// create both, and none may be lost.
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := rdb.Incr(ctx, "counter").Err(); err != nil {
					t.Errorf("INCR: %v", err)
					return
				}
				if err := rdb.Set(ctx, fmt.Sprintf("w%d", w), i, 0).Err(); err != nil {
					t.Errorf("SET: %v", err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if n, err := rdb.Get(ctx, "counter").Int(); err != nil || n != workers*each {
		t.Errorf("counter = %d, %v; want %d", n, err, workers*each)
	}
	if st := rdb.PoolStats(); st.TotalConns > 20 || st.TotalConns == 0 {
		t.Errorf("pool holds %d connections", st.TotalConns)
	}
	c := p.Dial(t)
	list := parseReply(c.Do("CLIENT", "LIST")).(string)
	if n := strings.Count(list, "lib-name=go-redis("); n == 0 || n > 20 {
		t.Errorf("%d go-redis connections in CLIENT LIST", n)
	}
}

// TestClientsGoRedisPipeline sends 100 commands in one pipeline, over RESP3
// and RESP2.
func TestClientsGoRedisPipeline(t *testing.T) {
	p := startDurastore(t)
	ctx := context.Background()
	for _, proto := range []int{3, 2} {
		rdb := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: proto})
		pre := fmt.Sprintf("p%d:", proto)
		var gets []*redis.StringCmd
		cmds, err := rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for i := 0; i < 50; i++ {
				pipe.Set(ctx, fmt.Sprintf("%s%d", pre, i), i, 0)
			}
			for i := 0; i < 49; i++ {
				gets = append(gets, pipe.Get(ctx, fmt.Sprintf("%s%d", pre, i)))
			}
			pipe.Get(ctx, pre+"missing")
			return nil
		})
		if len(cmds) != 100 {
			t.Errorf("RESP%d pipeline ran %d commands", proto, len(cmds))
		}
		if !errors.Is(err, redis.Nil) {
			t.Errorf("RESP%d pipeline error %v, want redis.Nil from the last GET", proto, err)
		}
		for i, g := range gets {
			if v, err := g.Result(); err != nil || v != strconv.Itoa(i) {
				t.Errorf("RESP%d GET %d = %q, %v", proto, i, v, err)
			}
		}
		rdb.Close()
	}
}

func TestClientsGoRedisPassword(t *testing.T) {
	p := startDurastore(t, "--requirepass", "s3cret")
	ctx := context.Background()
	for _, proto := range []int{3, 2} {
		rdb := redis.NewClient(&redis.Options{Addr: p.Addr, Password: "s3cret", Protocol: proto, DB: 2})
		if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Errorf("RESP%d with the password: %v", proto, err)
		}
		rdb.Close()
		bad := redis.NewClient(&redis.Options{Addr: p.Addr, Password: "wrong", Protocol: proto, MaxRetries: -1})
		if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Errorf("RESP%d with a wrong password: %v", proto, err)
		}
		bad.Close()
		none := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: proto, MaxRetries: -1})
		if err := none.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("RESP%d without a password: %v", proto, err)
		}
		none.Close()
	}
}

// ---------------------------------------------------------------------------
// redis-cli

func requireRedisCli(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-cli not installed (CI=true); install with apt-get install -y redis-tools")
		}
		t.Skip("redis-cli not installed")
	}
	return path
}

func TestClientsRedisCli(t *testing.T) {
	cli := requireRedisCli(t)
	p := startDurastore(t)
	port := strconv.Itoa(p.Port)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(cli, append([]string{"-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if got := run("ping"); got != "PONG\n" {
		t.Errorf("redis-cli ping = %q", got)
	}
	info := run("info", "server")
	if !strings.HasPrefix(info, "# Server\r\nredis_version:7.0.15\r\n") || !strings.Contains(info, "tcp_port:"+port+"\r\n") {
		t.Errorf("redis-cli info server = %q", info)
	}
	if got := run("set", "a", "b"); got != "OK\n" {
		t.Errorf("redis-cli set = %q", got)
	}
	if got := run("get", "a"); got != "b\n" {
		t.Errorf("redis-cli get = %q", got)
	}
	if got := run("-n", "3", "set", "x", "1"); got != "OK\n" {
		t.Errorf("redis-cli -n 3 set = %q", got)
	}
	if got := run("-n", "3", "dbsize"); got != "1\n" {
		t.Errorf("redis-cli -n 3 dbsize = %q", got)
	}
	if got := run("-3", "get", "missing"); got != "\n" && got != "(nil)\n" {
		t.Errorf("redis-cli -3 get missing = %q", got)
	}
	if got := run("client", "setname", "a b"); !strings.Contains(got, "Client names cannot contain spaces") {
		t.Errorf("redis-cli client setname = %q", got)
	}
	// Commands typed into redis-cli's prompt arrive the same way.
	cmd := exec.Command(cli, "-p", port)
	cmd.Stdin = strings.NewReader("ping\nset typed yes\nget typed\n")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "PONG\nOK\nyes\n" {
		t.Errorf("redis-cli with commands on stdin: %v %q", err, out)
	}
}

func TestClientsRedisCliAuth(t *testing.T) {
	cli := requireRedisCli(t)
	p := startDurastore(t, "--requirepass", "pw")
	port := strconv.Itoa(p.Port)
	out, _ := exec.Command(cli, "-p", port, "ping").CombinedOutput()
	if !strings.Contains(string(out), "NOAUTH Authentication required.") {
		t.Errorf("redis-cli ping without a password = %q", out)
	}
	out, err := exec.Command(cli, "-p", port, "-a", "pw", "--no-auth-warning", "ping").CombinedOutput()
	if err != nil || string(out) != "PONG\n" {
		t.Errorf("redis-cli -a pw ping = %q, %v", out, err)
	}
	out, _ = exec.Command(cli, "-p", port, "-a", "bad", "--no-auth-warning", "ping").CombinedOutput()
	if !regexp.MustCompile(`WRONGPASS|NOAUTH`).Match(out) {
		t.Errorf("redis-cli -a bad ping = %q", out)
	}
}

// TestClientsRawTelnet types commands by hand over a plain socket.
func TestClientsRawTelnet(t *testing.T) {
	p := startDurastore(t)
	raw := dialRaw(t, p.Addr)
	for _, tc := range []struct{ in, want string }{
		{"PING\r\n", "+PONG\r\n"},
		{"SET a b\r\n", "+OK\r\n"},
		{"GET a\r\n", "$1\r\nb\r\n"},
		{"CLIENT SETNAME typed\r\n", "+OK\r\n"},
		{"CLIENT GETNAME\r\n", "$5\r\ntyped\r\n"},
		{"INFO nosuchsection\r\n", "$0\r\n\r\n"},
	} {
		raw.SendRaw([]byte(tc.in))
		if got := raw.ReadReply(); got != tc.want {
			t.Errorf("%q -> %q, want %q", tc.in, got, tc.want)
		}
	}
}
