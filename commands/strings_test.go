package commands

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"durastore/engine"
)

// strHarness runs commands against an in-memory store, as the server does,
// and looks at the store directly. (Names start with "str" so they do not
// collide with other families' test helpers.)
type strHarness struct {
	t   *testing.T
	env *Env
	s   *Session
}

func newStrHarness(t *testing.T) *strHarness {
	t.Helper()
	store, err := engine.Open(engine.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &strHarness{t: t, env: &Env{Store: store, Table: Default}, s: NewSession(1, "test", "test")}
}

// do runs one command and returns its raw reply.
func (h *strHarness) do(args ...string) string {
	h.t.Helper()
	w := &Writer{RESP: h.s.RESP}
	cmd := make([][]byte, len(args))
	for i, a := range args {
		cmd[i] = []byte(a)
	}
	h.env.Run(h.s, w, [][][]byte{cmd})
	return string(w.B)
}

func (h *strHarness) expect(want string, args ...string) {
	h.t.Helper()
	if got := h.do(args...); got != want {
		h.t.Errorf("%q = %q, want %q", args, got, want)
	}
}

// put stores a value directly, of any type.
func (h *strHarness) put(key string, v engine.Value) {
	h.t.Helper()
	err := h.env.Store.Update(func(tx *engine.Tx) error { return tx.Set(h.s.DB, key, v) })
	if err != nil {
		h.t.Fatal(err)
	}
}

// get reads a value directly.
func (h *strHarness) get(key string) (engine.Value, bool) {
	h.t.Helper()
	var v engine.Value
	var found bool
	err := h.env.Store.View(func(tx *engine.Tx) error {
		var err error
		v, found, err = tx.Get(h.s.DB, key)
		v.Data = strings.Clone(v.Data)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return v, found
}

func (h *strHarness) stats() (hits, misses int64) {
	return h.env.Stats.KeyspaceHits.Load(), h.env.Stats.KeyspaceMiss.Load()
}

// The rows match Redis 7.0's COMMAND INFO for each command.
func TestStringCommandRows(t *testing.T) {
	type row struct {
		arity             int
		flags             []string
		first, last, step int
		cats              []string
	}
	w, r, dFast := []string{"write", "string", "fast"}, []string{"read", "string", "fast"}, []string{"write", "denyoom", "fast"}
	want := map[string]row{
		"get":         {2, []string{"readonly", "fast"}, 1, 1, 1, r},
		"set":         {-3, []string{"write", "denyoom"}, 1, 1, 1, []string{"write", "string", "slow"}},
		"setnx":       {3, dFast, 1, 1, 1, w},
		"setex":       {4, []string{"write", "denyoom"}, 1, 1, 1, []string{"write", "string", "slow"}},
		"psetex":      {4, []string{"write", "denyoom"}, 1, 1, 1, []string{"write", "string", "slow"}},
		"getset":      {3, dFast, 1, 1, 1, w},
		"getdel":      {2, []string{"write", "fast"}, 1, 1, 1, w},
		"getex":       {-2, []string{"write", "fast"}, 1, 1, 1, w},
		"mget":        {-2, []string{"readonly", "fast"}, 1, -1, 1, r},
		"mset":        {-3, []string{"write", "denyoom"}, 1, -1, 2, []string{"write", "string", "slow"}},
		"msetnx":      {-3, []string{"write", "denyoom"}, 1, -1, 2, []string{"write", "string", "slow"}},
		"incr":        {2, dFast, 1, 1, 1, w},
		"incrby":      {3, dFast, 1, 1, 1, w},
		"decr":        {2, dFast, 1, 1, 1, w},
		"decrby":      {3, dFast, 1, 1, 1, w},
		"incrbyfloat": {3, dFast, 1, 1, 1, w},
		"append":      {3, dFast, 1, 1, 1, w},
		"strlen":      {2, []string{"readonly", "fast"}, 1, 1, 1, r},
		"getrange":    {4, []string{"readonly"}, 1, 1, 1, []string{"read", "string", "slow"}},
		"substr":      {4, []string{"readonly"}, 1, 1, 1, []string{"read", "string", "slow"}},
		"setrange":    {4, []string{"write", "denyoom"}, 1, 1, 1, []string{"write", "string", "slow"}},
		"lcs":         {-3, []string{"readonly"}, 1, 2, 1, []string{"read", "string", "slow"}},
	}
	for name, wr := range want {
		c := Default.Lookup([]byte(name))
		if c == nil {
			t.Errorf("%s: not in the table", name)
			continue
		}
		got := row{c.Arity, c.Flags.Names(), c.FirstKey, c.LastKey, c.Step, c.Categories}
		if !reflect.DeepEqual(got, wr) {
			t.Errorf("%s: row %+v, want %+v", name, got, wr)
		}
		if c.Group != "string" || c.Since == "" || c.Summary == "" || c.Handler == nil {
			t.Errorf("%s: incomplete row %+v", name, c)
		}
	}
	if n := len(stringCommands); n != len(want) {
		t.Errorf("stringCommands has %d rows, want %d", n, len(want))
	}
}

// Every command refuses a key of another type with Redis's error, and
// changes nothing.
func TestStringWrongType(t *testing.T) {
	h := newStrHarness(t)
	hash := engine.Value{Type: engine.TypeHash, Data: "opaque", ExpireAt: math.MaxInt64 / 2}
	h.put("h", hash)
	h.put("s", engine.Value{Type: engine.TypeString, Data: "str"})
	const wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	const lcsErr = "-ERR The specified keys must contain string values\r\n"
	cases := []struct {
		want string
		args []string
	}{
		{wt, []string{"GET", "h"}},
		{wt, []string{"GETSET", "h", "v"}},
		{wt, []string{"GETDEL", "h"}},
		{wt, []string{"GETEX", "h"}},
		{wt, []string{"GETEX", "h", "EX", "abc"}}, // the type is checked before the expiry
		{wt, []string{"GETEX", "h", "PERSIST"}},
		{"-ERR syntax error\r\n", []string{"GETEX", "h", "FOO"}},
		{wt, []string{"SET", "h", "v", "GET"}},
		{":0\r\n", []string{"SETNX", "h", "v"}},
		{":0\r\n", []string{"MSETNX", "new", "v", "h", "v"}},
		{"*3\r\n$3\r\nstr\r\n$-1\r\n$-1\r\n", []string{"MGET", "s", "h", "nosuch"}},
		{wt, []string{"INCR", "h"}},
		{wt, []string{"DECR", "h"}},
		{wt, []string{"INCRBY", "h", "2"}},
		{"-ERR value is not an integer or out of range\r\n", []string{"INCRBY", "h", "x"}},
		{wt, []string{"DECRBY", "h", "2"}},
		{wt, []string{"INCRBYFLOAT", "h", "1"}},
		{wt, []string{"INCRBYFLOAT", "h", "x"}},
		{wt, []string{"APPEND", "h", "x"}},
		{wt, []string{"STRLEN", "h"}},
		{wt, []string{"GETRANGE", "h", "0", "-1"}},
		{wt, []string{"SUBSTR", "h", "0", "-1"}},
		{wt, []string{"SETRANGE", "h", "0", "x"}},
		{wt, []string{"SETRANGE", "h", "0", ""}},
		{"-ERR offset is out of range\r\n", []string{"SETRANGE", "h", "-1", "x"}},
		{lcsErr, []string{"LCS", "h", "s"}},
		{lcsErr, []string{"LCS", "s", "h", "LEN"}},
		{lcsErr, []string{"LCS", "h", "h", "BADOPTION"}},
	}
	for _, c := range cases {
		h.expect(c.want, c.args...)
	}
	if v, _ := h.get("h"); v != hash {
		t.Errorf("the hash changed: %+v", v)
	}
	if _, found := h.get("new"); found {
		t.Errorf("MSETNX set a key although another existed")
	}
	// SET, SETEX, PSETEX and MSET replace a value of any type.
	for _, args := range [][]string{{"SET", "h", "v"}, {"SETEX", "h", "100", "v"}, {"PSETEX", "h", "100000", "v"}, {"MSET", "h", "v"}} {
		h.put("h", hash)
		h.expect("+OK\r\n", args...)
		if v, _ := h.get("h"); v.Type != engine.TypeString || v.Data != "v" {
			t.Errorf("%q left %+v", args, v)
		}
	}
}

// Commands that change a string in place keep its TTL (Redis overwrites
// the value and leaves the expire); those that set a new value drop it.
func TestStringTTLInterplay(t *testing.T) {
	h := newStrHarness(t)
	const at = int64(4102444800123) // far in the future, exact to the ms
	keep := []struct {
		init string
		args []string
		data string
	}{
		{"10", []string{"INCR", "k"}, "11"},
		{"10", []string{"DECR", "k"}, "9"},
		{"10", []string{"INCRBY", "k", "5"}, "15"},
		{"10", []string{"DECRBY", "k", "5"}, "5"},
		{"10", []string{"INCRBYFLOAT", "k", "0.5"}, "10.5"},
		{"ab", []string{"APPEND", "k", "cd"}, "abcd"},
		{"ab", []string{"SETRANGE", "k", "1", "XY"}, "aXY"},
		{"ab", []string{"SETRANGE", "k", "1", ""}, "ab"},
		{"ab", []string{"SETNX", "k", "x"}, "ab"},
		{"ab", []string{"MSETNX", "k", "x"}, "ab"},
		{"ab", []string{"GETEX", "k"}, "ab"},
		{"ab", []string{"GETEX", "k", "EX", "0"}, "ab"},
		{"ab", []string{"SET", "k", "x", "KEEPTTL"}, "x"},
		{"ab", []string{"INCR", "k"}, "ab"},
		{"ab", []string{"SETRANGE", "k", "-1", "x"}, "ab"},
	}
	for _, c := range keep {
		h.put("k", engine.Value{Type: engine.TypeString, Data: c.init, ExpireAt: at})
		h.do(c.args...)
		v, found := h.get("k")
		if !found || v.ExpireAt != at || v.Data != c.data {
			t.Errorf("%q on %q: %+v (found %v), want %q expiring at %d", c.args, c.init, v, found, c.data, at)
		}
	}
	drop := [][]string{
		{"SET", "k", "x"},
		{"GETSET", "k", "x"},
		{"MSET", "k", "x"},
		{"GETEX", "k", "PERSIST"},
	}
	for _, args := range drop {
		h.put("k", engine.Value{Type: engine.TypeString, Data: "v", ExpireAt: at})
		h.do(args...)
		if v, found := h.get("k"); !found || v.ExpireAt != 0 {
			t.Errorf("%q: %+v (found %v), want no TTL", args, v, found)
		}
	}
	// GETEX, SETEX and PSETEX set exact absolute or relative expiries.
	h.put("k", engine.Value{Type: engine.TypeString, Data: "v"})
	h.expect("$1\r\nv\r\n", "GETEX", "k", "PXAT", "4102444800999")
	if v, _ := h.get("k"); v.ExpireAt != 4102444800999 {
		t.Errorf("GETEX PXAT set %d", v.ExpireAt)
	}
	h.expect("$1\r\nv\r\n", "GETEX", "k", "EXAT", "4102444801")
	if v, _ := h.get("k"); v.ExpireAt != 4102444801000 {
		t.Errorf("GETEX EXAT set %d", v.ExpireAt)
	}
	for _, c := range []struct {
		args []string
		ms   int64
	}{
		{[]string{"GETEX", "k", "EX", "100"}, 100000},
		{[]string{"GETEX", "k", "PX", "1234"}, 1234},
		{[]string{"SETEX", "k", "7", "v"}, 7000},
		{[]string{"PSETEX", "k", "777", "v"}, 777},
	} {
		h.do(c.args...)
		// The expiry is the transaction's clock plus the duration: it lies
		// between the times read around the command.
		v, _ := h.get("k")
		if left := v.ExpireAt - time.Now().UnixMilli(); left > c.ms || left < c.ms-60000 {
			t.Errorf("%q: expires in %d ms, want about %d", c.args, left, c.ms)
		}
	}
	// An absolute time already past deletes the key once it is read.
	h.expect("$1\r\nv\r\n", "GETEX", "k", "PXAT", "1")
	if _, found := h.get("k"); found {
		t.Errorf("GETEX PXAT 1 left the key")
	}
}

// Reads count keyspace hits and misses as Redis's lookupKeyRead does
// (checked against redis-server 7.0's INFO stats); write lookups do not.
func TestStringKeyspaceHits(t *testing.T) {
	h := newStrHarness(t)
	h.put("l", engine.Value{Type: engine.TypeList, Data: "x"})
	h.put("s", engine.Value{Type: engine.TypeString, Data: "1"})
	steps := []struct {
		args         []string
		hits, misses int64
	}{
		{[]string{"GET", "l"}, 1, 0}, // a key of another type is a hit
		{[]string{"GET", "nosuch"}, 1, 1},
		{[]string{"GETRANGE", "s", "x", "1"}, 1, 1}, // bad arguments: no lookup
		{[]string{"GETRANGE", "s", "0", "1"}, 2, 1},
		{[]string{"GETRANGE", "nosuch", "0", "1"}, 2, 2},
		{[]string{"LCS", "s", "nosuch"}, 3, 3},
		{[]string{"LCS", "s", "l"}, 5, 3},
		{[]string{"SET", "s", "2", "GET"}, 6, 3},
		{[]string{"SET", "nosuch2", "2", "GET"}, 6, 4},
		{[]string{"INCR", "s"}, 6, 4},
		{[]string{"MSETNX", "s", "1"}, 6, 4},
		{[]string{"SETRANGE", "s", "0", "1"}, 6, 4},
		{[]string{"APPEND", "s", "1"}, 6, 4},
		{[]string{"GETEX", "s"}, 7, 4},
		{[]string{"GETEX", "nosuch", "EX", "0"}, 7, 5},
		{[]string{"GETEX", "s", "FOO"}, 7, 5},
		{[]string{"GETDEL", "nosuch"}, 7, 6},
		{[]string{"GETSET", "l", "x"}, 8, 6},
		{[]string{"MGET", "s", "l", "nosuch"}, 10, 7},
		{[]string{"STRLEN", "s"}, 11, 7},
		{[]string{"STRLEN", "nosuch"}, 11, 8},
		{[]string{"SETNX", "s", "1"}, 11, 8},
		{[]string{"INCRBYFLOAT", "s", "1"}, 11, 8},
		{[]string{"SETEX", "s", "10", "1"}, 11, 8},
	}
	for _, st := range steps {
		h.do(st.args...)
		if hits, misses := h.stats(); hits != st.hits || misses != st.misses {
			t.Fatalf("after %q: hits %d misses %d, want %d %d", st.args, hits, misses, st.hits, st.misses)
		}
	}
}

// RESP3 replies, as redis-server 7.0 sends them after HELLO 3.
func TestStringRESP3Replies(t *testing.T) {
	h := newStrHarness(t)
	h.s.RESP = 3
	h.put("l", engine.Value{Type: engine.TypeList, Data: "x"})
	h.expect("+OK\r\n", "MSET", "a", "ohmytext", "b", "mynewtext")
	h.expect("*3\r\n$8\r\nohmytext\r\n_\r\n_\r\n", "MGET", "a", "nosuch", "l")
	h.expect("%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n",
		"LCS", "a", "b", "IDX", "WITHMATCHLEN")
	h.expect("%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:6\r\n", "LCS", "a", "b", "IDX", "MINMATCHLEN", "10")
	h.expect("_\r\n", "GETEX", "nosuch")
	h.expect("_\r\n", "GETDEL", "nosuch")
	h.expect("_\r\n", "GETSET", "nosuch", "x")
	h.expect("$3\r\n1.5\r\n", "INCRBYFLOAT", "f", "1.5")
}

// The size limit is checked before anything is allocated, without
// overflowing.
func TestStringSizeLimit(t *testing.T) {
	h := newStrHarness(t)
	c := &Ctx{Env: h.env, W: &Writer{}}
	for _, tc := range []struct {
		size, add int64
		ok        bool
	}{
		{0, 0, true},
		{maxStringLen, 0, true},
		{0, maxStringLen, true},
		{maxStringLen - 1, 1, true},
		{maxStringLen, 1, false},
		{1, maxStringLen, false},
		{math.MaxInt64, 1, false},
		{math.MaxInt64, math.MaxInt64, false},
		{1, math.MaxInt64, false},
	} {
		c.W.B = c.W.B[:0]
		if got := checkStringLength(c, tc.size, tc.add); got != tc.ok {
			t.Errorf("checkStringLength(%d, %d) = %v", tc.size, tc.add, got)
		}
		if !tc.ok && string(c.W.B) != "-"+errStringTooLong+"\r\n" {
			t.Errorf("checkStringLength(%d, %d) replied %q", tc.size, tc.add, c.W.B)
		}
	}
	const tooLong = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
	h.expect(tooLong, "SETRANGE", "k", "536870912", "x")
	h.expect(tooLong, "SETRANGE", "k", "9223372036854775807", "x")
	h.expect(":0\r\n", "SETRANGE", "k", "9223372036854775807", "")
	if _, found := h.get("k"); found {
		t.Errorf("a refused SETRANGE created the key")
	}
}
