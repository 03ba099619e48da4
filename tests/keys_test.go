package tests

// End-to-end tests of the generic key commands (commands/keys.go): DEL,
// UNLINK, EXISTS, TOUCH, TYPE, RENAME, RENAMENX, COPY, MOVE, SWAPDB, KEYS,
// SCAN, RANDOMKEY, the EXPIRE family, TTL/PTTL/EXPIRETIME/PEXPIRETIME and
// PERSIST. Replies are compared with redis-server byte for byte; where a
// reply depends on the clock, times are absolute (PEXPIREAT in the year
// 2100, checked with PEXPIRETIME) or compared as ranges.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// farMs is 2100-01-01T00:00:00Z in Unix milliseconds: an expiry that no
// test outlives, so replies that involve it do not depend on the clock.
const farMs = int64(4102444800000)

func far(deltaMs int64) string { return strconv.FormatInt(farMs+deltaMs, 10) }

// intBetween accepts two integer replies that both lie in [lo, hi].
func intBetween(lo, hi int64) func(r, d string) bool {
	return func(r, d string) bool {
		for _, raw := range []string{r, d} {
			n, ok := parseReply(raw).(int64)
			if !ok || n < lo || n > hi {
				return false
			}
		}
		return true
	}
}

func TestKeysDelUnlinkExistsTouch(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SET a 1
		SET b 2
		SET c 3
		EXISTS a
		EXISTS nokey
		EXISTS a a b nokey
		TOUCH a a b nokey
		TOUCH nokey
		DEL a nokey a
		EXISTS a
		UNLINK b c c nokey
		EXISTS a b c
		DEL nokey
		UNLINK nokey
		SET gone x PXAT 1
		EXISTS gone
		DEL gone
		DEL
		UNLINK
		EXISTS
		TOUCH
	`)
}

func TestKeysType(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SET s x
		TYPE s
		TYPE nokey
		SET gone x PXAT 1
		TYPE gone
		TYPE
		TYPE s s
	`)
}

func TestKeysRename(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SET a 1
		RENAME a b
		EXISTS a
		GET b
		RENAME nokey b
		RENAME nokey nokey
		RENAMENX nokey x
		RENAME b b
		GET b
		SET c 3
		RENAMENX b c
		RENAMENX b b
		GET c
		RENAMENX b d
		EXISTS b
		RENAME d c
		GET c
		SET gone x PXAT 1
		RENAME gone z
		RENAMENX gone z
		EXISTS z
		RENAME
		RENAME a
		RENAME a b c
		RENAMENX a
		RENAMENX a b c
	`)
	// The time to live moves with the value, and replaces the target's.
	x.Script(t, `
		SET t1 v
		PEXPIREAT t1 `+far(123)+`
		RENAME t1 t2
		PEXPIRETIME t2
		SET t3 v
		PEXPIREAT t3 `+far(999)+`
		RENAME t2 t3
		PEXPIRETIME t3
		SET t4 v
		RENAMENX t3 t4
		PEXPIRETIME t3
		RENAMENX t3 t5
		PEXPIRETIME t5
		SET plain v
		RENAME plain t5
		PEXPIRETIME t5
		TTL t5
	`)
}

func TestKeysCopy(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SET a 1
		COPY a b
		GET b
		COPY a b
		SET a 2
		COPY a b REPLACE
		GET b
		COPY a b replace REPLACE
		COPY nokey b
		COPY nokey nokey
		COPY a a
		COPY a a DB 0
		COPY a a DB 1
		COPY a a DB 1
		COPY a a db 1 replace
		SELECT 1
		GET a
		COPY a a DB 1
		COPY a a DB 0
		SELECT 0
		COPY a c DB 1 DB 2
		SELECT 2
		GET c
		SELECT 1
		EXISTS c
		SELECT 0
		EXISTS c
		COPY a b DB 16
		COPY a b DB -1
		COPY a b DB 1.5
		COPY a b DB ""
		COPY a b DB 007
		COPY a b DB 99999999999
		COPY a b DB -99999999999
		COPY a b DB
		COPY a b foo
		COPY a b REPLACE foo
		COPY a b DB 1.5 REPLACE foo
		COPY a b foo DB 1.5
		COPY a a DB 16
		COPY
		COPY a
	`)
	// The copy keeps the source's time to live, here and in another DB;
	// REPLACE drops the target's.
	x.Script(t, `
		SET src v
		PEXPIREAT src `+far(321)+`
		COPY src dst
		PEXPIRETIME dst
		PEXPIRETIME src
		COPY src dst DB 3
		SELECT 3
		PEXPIRETIME dst
		GET dst
		SELECT 0
		SET plain v
		COPY plain dst REPLACE
		PEXPIRETIME dst
		SET gone x PXAT 1
		COPY gone g2
		EXISTS g2
	`)
}

func TestKeysMove(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SET a 1
		MOVE a 1
		EXISTS a
		SELECT 1
		GET a
		MOVE a 1
		MOVE nokey 1
		MOVE nokey 0
		SET a 2
		SELECT 0
		SET a 3
		MOVE a 1
		GET a
		SELECT 1
		GET a
		SELECT 0
		MOVE a 16
		MOVE a -1
		MOVE a 1.5
		MOVE a ""
		MOVE a 99999999999
		MOVE a -99999999999
		MOVE nokey 16
		SET gone x PXAT 1
		MOVE gone 2
		MOVE
		MOVE a
		MOVE a 1 2
	`)
	x.Script(t, `
		SET t v
		PEXPIREAT t `+far(77)+`
		MOVE t 2
		EXISTS t
		SELECT 2
		PEXPIRETIME t
		GET t
	`)
}

func TestKeysSwapDB(t *testing.T) {
	x := newDiff(t, nil, nil)
	other := newDiffConns(x.Redis.Dial(t), x.Dura.Dial(t))
	other.Do(t, "SELECT", "1")
	x.Script(t, `
		SET a zero
		PEXPIREAT a `+far(5)+`
		SELECT 1
		SET b one
		SWAPDB 0 1
		GET a
		GET b
		PEXPIRETIME a
		SELECT 0
		GET a
		GET b
		SWAPDB 0 0
		GET b
		SWAPDB 3 4
		SWAPDB 1.5 1
		SWAPDB 1 1.5
		SWAPDB "" 0
		SWAPDB 0 ""
		SWAPDB 99999999999 0
		SWAPDB 0 99999999999
		SWAPDB -1 0
		SWAPDB 0 -1
		SWAPDB 0 16
		SWAPDB 16 1.5
		SWAPDB -1 1.5
		SWAPDB 1.5 1.5
		SWAPDB
		SWAPDB 0
		SWAPDB 0 1 2
	`)
	// A client that had selected DB 1 now sees what was DB 0.
	other.Script(t, `
		GET a
		GET b
		DBSIZE
	`)
}

func TestKeysExpireErrors(t *testing.T) {
	x := newDiff(t, nil, nil)
	for _, cmd := range []string{"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"} {
		x.Script(t, strings.ReplaceAll(`
			SET k v
			CMD k 100000 NX XX
			CMD k 100000 XX NX
			CMD k 100000 NX GT
			CMD k 100000 NX LT
			CMD k 100000 GT LT
			CMD k 100000 lt gt
			CMD k 100000 XX GT LT
			CMD k 100000 NX GT LT
			CMD k 100000 foo
			CMD k 100000 nx FOO
			CMD k 100000 GT foo LT
			CMD k abc
			CMD k ""
			CMD k 1.5
			CMD k 007
			CMD k abc NX XX
			CMD k abc foo
			CMD k 99999999999999999999
			CMD k 9223372036854775807
			CMD k 9223372036854775
			CMD k 9223372036854776
			CMD k -9223372036854775808
			CMD nokey 100000
			CMD nokey -1
			CMD nokey 100000 NX XX
			CMD k
			CMD
			EXISTS k
		`, "CMD", cmd))
		x.Do(t, "DEL", "k")
	}
	x.Do(t, "SET", "k", "v")
	x.Do(t, "EXPIRE", "k", "10", "a\r\nb")
	x.Do(t, "PEXPIRE", "k", "10", "XX", "")
	// PEXPIREAT accepts the largest time there is.
	x.Script(t, `
		SET k v
		PEXPIREAT k 9223372036854775807
		PEXPIRETIME k
		EXPIRETIME k
		EXPIREAT k 9223372036854775
		PEXPIRETIME k
		EXPIRETIME k
	`)
	x.DoMatch(t, intBetween(9223372036854775-farMs, 9223372036854776), "TTL", "k")
}

// TestKeysExpireMatrix runs every NX/XX/GT/LT condition against a missing
// key, a key without expiry and a key with one, with new times before, at
// and after the current one, and in the past (which deletes the key).
func TestKeysExpireMatrix(t *testing.T) {
	x := newDiff(t, nil, nil)
	states := map[string][]string{
		"missing":    nil,
		"persistent": {"SET k v"},
		"volatile":   {"SET k v", "PEXPIREAT k " + far(0)},
	}
	conds := []string{"", "NX", "XX", "GT", "LT", "XX GT", "XX LT", "GT XX", "lt xx", "nx nx", "gt gt"}
	times := []string{far(-1000), far(0), far(1000), "1", "0", "-5"}
	for _, state := range []string{"missing", "persistent", "volatile"} {
		for _, cond := range conds {
			for _, when := range times {
				x.Do(t, "DEL", "k")
				for _, line := range states[state] {
					x.Do(t, strings.Fields(line)...)
				}
				args := append([]string{"PEXPIREAT", "k", when}, strings.Fields(cond)...)
				x.Do(t, args...)
				x.Do(t, "PEXPIRETIME", "k")
				x.Do(t, "EXISTS", "k")
			}
		}
	}
	// Seconds, absolute: EXPIREAT's time is the same instant in seconds.
	x.Script(t, `
		SET k v
		EXPIREAT k 4102444800 NX
		PEXPIRETIME k
		EXPIREAT k 4102444801 GT
		PEXPIRETIME k
		EXPIREAT k 4102444802 LT
		PEXPIRETIME k
		EXPIREAT k 4102444700 LT
		PEXPIRETIME k
		EXPIREAT k 1 XX
		EXISTS k
	`)
	// Relative times against a far expiry: the outcome does not depend on
	// the clock, only the resulting TTL does.
	x.Script(t, `
		SET k v
		PEXPIREAT k `+far(0)+`
		EXPIRE k 1000 GT
		PEXPIRE k 1000000 GT
		EXPIRE k 1000 NX
		PEXPIRETIME k
		EXPIRE k 1000 LT
	`)
	x.DoMatch(t, intBetween(990, 1000), "TTL", "k")
	x.DoMatch(t, intBetween(990_000, 1_000_000), "PTTL", "k")
	x.Script(t, `
		PEXPIRE k 5000000 XX
		EXPIRE k -1 GT
		EXPIRE k -1 LT
		EXISTS k
		SET p v
		PEXPIRE p 0
		EXISTS p
		SET p v
		EXPIRE p 100 LT
		TTL p
	`)
}

func TestKeysTTL(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		TTL nokey
		PTTL nokey
		EXPIRETIME nokey
		PEXPIRETIME nokey
		SET k v
		TTL k
		PTTL k
		EXPIRETIME k
		PEXPIRETIME k
		SET k v PXAT `+far(499)+`
		EXPIRETIME k
		PEXPIRETIME k
		SET k v PXAT `+far(500)+`
		EXPIRETIME k
		SET k v
		TTL k
		PEXPIRETIME k
		SET gone v PXAT 1
		TTL gone
		PTTL gone
		EXPIRETIME gone
		PEXPIRETIME gone
		TTL
		TTL a b
		PTTL
		EXPIRETIME
		PEXPIRETIME a b
	`)
	x.Do(t, "SET", "k", "v", "EX", "100")
	x.DoMatch(t, intBetween(90, 100), "TTL", "k")
	x.DoMatch(t, intBetween(90_000, 100_000), "PTTL", "k")
	x.Do(t, "EXPIRE", "k", "500")
	x.DoMatch(t, intBetween(490, 500), "TTL", "k")
}

func TestKeysPersist(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		PERSIST nokey
		SET k v
		PERSIST k
		PEXPIREAT k `+far(0)+`
		PERSIST k
		TTL k
		PEXPIRETIME k
		PERSIST k
		GET k
		SET gone v PXAT 1
		PERSIST gone
		PERSIST
		PERSIST a b
	`)
}

func TestKeysKeys(t *testing.T) {
	x := newDiff(t, nil, nil)
	for _, k := range []string{"", "a", "ab", "abc", "b", "a*b", "a?c", "hello", "hallo", "hxllo",
		"hllo", "foo:1", "foo:2", "foo:bar:3", "foo:", `\`, "x\x00y", "*", "[", "Hello", "é"} {
		x.Do(t, "SET", k, "v")
	}
	x.Do(t, "SET", "foo:gone", "v", "PXAT", "1")
	for _, p := range []string{"*", "**", "a*", "*b*", "a?c", "h[ae]llo", "h[^e]llo", "h[a-b]llo",
		"h*llo", "foo:*", "foo:?", "foo*", "", "nomatch*", `\*`, `a\*b`, "[", `\`, `x?y`, "x\x00y",
		"?", "[a-z]", "H*", "h*", "*:*:*", "é", "\xc3?"} {
		x.DoUnordered(t, "KEYS", p)
	}
	x.Script(t, `
		KEYS
		KEYS a b
		FLUSHALL
		KEYS *
	`)
}

// scanAll iterates SCAN to the end on c and returns how often each key
// came back and how many calls it took.
func scanAll(t testing.TB, c *RawConn, opts ...string) (map[string]int, int) {
	t.Helper()
	seen := map[string]int{}
	cursor := "0"
	for calls := 1; ; calls++ {
		raw := c.Do(append([]string{"SCAN", cursor}, opts...)...)
		v, ok := parseReply(raw).([]any)
		if !ok || len(v) != 2 {
			t.Fatalf("SCAN %s %v: reply %q", cursor, opts, raw)
		}
		cursor, ok = v[0].(string)
		if !ok {
			t.Fatalf("SCAN cursor is not a bulk string: %q", raw)
		}
		if _, err := strconv.ParseUint(cursor, 10, 64); err != nil {
			t.Fatalf("SCAN cursor %q is not an unsigned 64-bit integer", cursor)
		}
		keys, ok := v[1].([]any)
		if !ok {
			t.Fatalf("SCAN keys are not an array: %q", raw)
		}
		for _, k := range keys {
			seen[k.(string)]++
		}
		if cursor == "0" {
			return seen, calls
		}
		if calls > 1_000_000 {
			t.Fatalf("SCAN %v does not terminate", opts)
		}
	}
}

func keySet(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestKeysScanErrors(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Do(t, "SET", "only", "v")
	x.Script(t, `
		SCAN x
		SCAN " 1"
		SCAN "1 "
		SCAN "\t0"
		SCAN -
		SCAN +
		SCAN 1x
		SCAN 0x10
		SCAN 1.0
		SCAN 18446744073709551616
		SCAN -18446744073709551616
		SCAN 99999999999999999999999
		SCAN x COUNT 0
		SCAN 0 COUNT 0
		SCAN 0 COUNT -1
		SCAN 0 COUNT x
		SCAN 0 COUNT 1.5
		SCAN 0 COUNT 99999999999999999999
		SCAN 0 COUNT
		SCAN 0 MATCH
		SCAN 0 TYPE
		SCAN 0 FOO
		SCAN 0 FOO bar
		SCAN 0 COUNT 10 FOO
		SCAN 0 MATCH * COUNT
		SCAN 0 COUNT 0 MATCH
		SCAN
	`)
	// Cursors Redis reads as 0, and the whole (one-key) database fits in
	// one call: the replies are the same on both.
	x.Script(t, `
		SCAN 0
		SCAN ""
		SCAN +0
		SCAN -0
		SCAN 000
		SCAN "0\x00junk"
		SCAN 0 count 5 match o* type string
		SCAN 0 MATCH x*
		SCAN 0 TYPE hash
		SCAN 0 TYPE STRING
		SCAN 0 COUNT 9223372036854775807
	`)
	// Other well-formed cursors are accepted (durastore restarts from the
	// first key on a cursor it never handed out).
	isArray := func(r, d string) bool { return strings.HasPrefix(r, "*2\r\n") && strings.HasPrefix(d, "*2\r\n") }
	x.DoMatch(t, isArray, "SCAN", "0", "COUNT", "1")
	for _, c := range []string{"18446744073709551615", "-1", "-18446744073709551615", "+17", "0017"} {
		x.DoMatch(t, isArray, "SCAN", c)
	}
}

func TestKeysScanIteration(t *testing.T) {
	x := newDiff(t, nil, nil)
	for i := 0; i < 300; i++ {
		x.Do(t, "SET", fmt.Sprintf("user:%d", i), "v")
	}
	for i := 0; i < 150; i++ {
		x.Do(t, "SET", fmt.Sprintf("session:%x", i*7919), "v")
	}
	for _, k := range []string{"", "a", "ab", "*", "[", `\`, "x\x00y", "user", "user:", "é"} {
		x.Do(t, "SET", k, "v")
	}
	for i := 0; i < 20; i++ {
		x.Do(t, "SET", fmt.Sprintf("user:gone:%d", i), "v", "PXAT", "1")
	}
	for _, opts := range [][]string{
		nil,
		{"COUNT", "1"},
		{"COUNT", "7"},
		{"COUNT", "1000"},
		{"MATCH", "*"},
		{"MATCH", "user:*"},
		{"MATCH", "user:1?"},
		{"MATCH", "*1*"},
		{"MATCH", "session:*", "COUNT", "3"},
		{"MATCH", "nomatch*"},
		{"MATCH", ""},
		{"MATCH", "user"},
		{"MATCH", `\*`},
		{"MATCH", "[a-b]*"},
		{"MATCH", "user:gone:*"},
		{"TYPE", "string"},
		{"TYPE", "STRING"},
		{"TYPE", "hash"},
		{"TYPE", "none"},
		{"MATCH", "user:*", "COUNT", "5", "TYPE", "string"},
		{"COUNT", "2", "COUNT", "50", "MATCH", "x*", "MATCH", "user:2*"}, // the last of each wins
	} {
		rseen, _ := scanAll(t, x.R, opts...)
		dseen, _ := scanAll(t, x.D, opts...)
		rk, dk := keySet(rseen), keySet(dseen)
		if fmt.Sprintf("%q", rk) != fmt.Sprintf("%q", dk) {
			t.Errorf("SCAN %q: redis returned %d keys, durastore %d\n  redis: %q\n  dura:  %q", opts, len(rk), len(dk), rk, dk)
		}
		for k, n := range dseen {
			if n != 1 {
				t.Errorf("SCAN %q: durastore returned %q %d times on a quiet database", opts, k, n)
			}
		}
	}
	// The full iteration agrees with KEYS.
	x.DoUnordered(t, "KEYS", "*")
}

// TestKeysScanCount checks that COUNT is about the number of keys examined
// per call, not returned, as in Redis: MATCH and TYPE filter the keys a
// call examined, so a pattern that matches nothing takes the same calls,
// and the same cursors, as no pattern at all.
func TestKeysScanCount(t *testing.T) {
	d := startDurastore(t)
	c := d.Dial(t)
	for i := 0; i < 100; i++ {
		c.Do("SET", fmt.Sprintf("a:%03d", i), "v")
		if i < 23 {
			c.Do("SET", fmt.Sprintf("b:%03d", i), "v")
		}
	}
	_, base := scanAll(t, c, "COUNT", "5")
	if base < 123/10 || base > 123 {
		t.Errorf("SCAN COUNT 5 over 123 keys took %d calls", base)
	}
	if _, def := scanAll(t, c); def >= base {
		t.Errorf("SCAN with the default COUNT 10 took %d calls, COUNT 5 %d", def, base)
	}
	cases := []struct {
		opts []string
		keys int
	}{
		{[]string{"COUNT", "5"}, 123},
		{[]string{"COUNT", "5", "MATCH", "*nomatch*"}, 0},
		{[]string{"COUNT", "5", "MATCH", "*:01?"}, 20},
		{[]string{"COUNT", "5", "MATCH", "b:*"}, 23},
		{[]string{"COUNT", "5", "MATCH", "a:0[0-4]?"}, 50},
		{[]string{"COUNT", "5", "MATCH", "a:010"}, 1},
		{[]string{"COUNT", "5", "MATCH", "c:*"}, 0},
		{[]string{"COUNT", "5", "TYPE", "hash"}, 0},
	}
	for _, tc := range cases {
		seen, calls := scanAll(t, c, tc.opts...)
		if len(seen) != tc.keys || calls != base {
			t.Errorf("SCAN %q: %d keys in %d calls, want %d in %d", tc.opts, len(seen), calls, tc.keys, base)
		}
	}
	if seen, calls := scanAll(t, c, "COUNT", "1000"); len(seen) != 123 || calls != 1 {
		t.Errorf("SCAN COUNT 1000: %d keys in %d calls, want 123 in 1", len(seen), calls)
	}
	// The same call twice gives the same cursor.
	first := c.Do("SCAN", "0", "COUNT", "3")
	if again := c.Do("SCAN", "0", "COUNT", "3"); again != first {
		t.Errorf("SCAN 0 COUNT 3 twice: %q then %q", first, again)
	}
	cur := parseReply(first).([]any)[0].(string)
	if again, next := c.Do("SCAN", cur, "COUNT", "3"), c.Do("SCAN", cur, "COUNT", "3"); again != next {
		t.Errorf("resuming twice from %s: %q then %q", cur, again, next)
	}
	// Any cursor is a position: a made-up one is answered, not refused.
	got, ok := parseReply(c.Do("SCAN", "12345", "COUNT", "3")).([]any)
	if !ok || len(got) != 2 {
		t.Errorf("made-up cursor: %q", got)
	}
}

// TestKeysScanConcurrentWrites checks SCAN's guarantee: a key present for
// the whole iteration is returned, while other clients add and delete
// keys that sort before, between and after the stable ones.
func TestKeysScanConcurrentWrites(t *testing.T) {
	d := startDurastore(t)
	setup := d.Dial(t)
	const stableN = 2000
	stable := map[string]bool{}
	for i := 0; i < stableN; i++ {
		k := fmt.Sprintf("k:%05d", i*10)
		stable[k] = true
		setup.Send("SET", k, "v")
	}
	for i := 0; i < stableN; i++ {
		if r := setup.ReadReply(); r != "+OK\r\n" {
			t.Fatalf("SET: %q", r)
		}
	}

	var stop atomic.Bool
	var ops atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		c := d.Dial(t)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			var mine []string
			for !stop.Load() {
				// A churn key is never a stable one: its number is not a
				// multiple of 10, or it has a suffix, or a prefix that
				// sorts before or after them all.
				var k string
				switch rng.IntN(4) {
				case 0:
					k = fmt.Sprintf("k:%05d", rng.IntN(stableN*10-1)/10*10+1+rng.IntN(9))
				case 1:
					k = fmt.Sprintf("k:%05d:%d", rng.IntN(stableN)*10, w)
				case 2:
					k = fmt.Sprintf("a:%d", rng.IntN(1000))
				default:
					k = fmt.Sprintf("z:%d", rng.IntN(1000))
				}
				if raw, err := c.DoErr("SET", k, "x"); err != nil || raw != "+OK\r\n" {
					t.Errorf("SET %s: %q %v", k, raw, err)
					return
				}
				mine = append(mine, k)
				if len(mine) > 50 || rng.IntN(2) == 0 {
					i := rng.IntN(len(mine))
					if _, err := c.DoErr("DEL", mine[i]); err != nil {
						t.Errorf("DEL: %v", err)
						return
					}
					mine[i] = mine[len(mine)-1]
					mine = mine[:len(mine)-1]
				}
				ops.Add(2)
			}
		}(w)
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()

	scanner := d.Dial(t)
	for ops.Load() < 200 {
		scanner.Do("PING") // let the writers get going
	}
	for iter, opts := range [][]string{{"COUNT", "3"}, {"COUNT", "1"}, {"COUNT", "10", "MATCH", "k:*"}} {
		before := ops.Load()
		seen, _ := scanAll(t, scanner, opts...)
		for k := range stable {
			if seen[k] != 1 {
				t.Fatalf("iteration %d (SCAN %q): stable key %s returned %d times", iter, opts, k, seen[k])
			}
		}
		if ops.Load() == before {
			t.Errorf("iteration %d: no writes happened during the scan", iter)
		}
	}
}

// TestKeysScanGoRedis iterates with go-redis, which reads cursors as
// uint64: every cursor durastore hands out must parse.
func TestKeysScanGoRedis(t *testing.T) {
	d := startDurastore(t)
	rc := redis.NewClient(&redis.Options{Addr: d.Addr, Protocol: 2})
	defer rc.Close()
	ctx := context.Background()
	want := map[string]bool{}
	for i := 0; i < 500; i++ {
		k := fmt.Sprintf("key:%d", i)
		want[k] = true
		if err := rc.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	var cursor uint64
	for {
		keys, next, err := rc.Scan(ctx, cursor, "key:*", 17).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			got[k] = true
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	if len(got) != len(want) {
		t.Errorf("go-redis Scan returned %d keys, want %d", len(got), len(want))
	}
	n := 0
	it := rc.Scan(ctx, 0, "", 5).Iterator()
	for it.Next(ctx) {
		n++
	}
	if err := it.Err(); err != nil || n != 500 {
		t.Errorf("go-redis ScanIterator: %d keys, err %v", n, err)
	}
}

func TestKeysRandomKey(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		RANDOMKEY
		SET gone v PXAT 1
		RANDOMKEY
		SET only v
		RANDOMKEY
		RANDOMKEY x
	`)
	keys := map[string]bool{"only": true}
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("k%d", i)
		keys[k] = true
		x.Do(t, "SET", k, "v")
	}
	inSet := func(r, d string) bool {
		rk, rok := parseReply(r).(string)
		dk, dok := parseReply(d).(string)
		return rok && dok && keys[rk] && keys[dk]
	}
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		x.DoMatch(t, inSet, "RANDOMKEY")
		seen[parseReply(x.D.Do("RANDOMKEY")).(string)] = true
	}
	if len(seen) < 2 {
		t.Errorf("RANDOMKEY returned only %v in 200 calls", seen)
	}
}

// TestKeysPipeline mixes commands that take a multi-namespace transaction
// (MOVE, COPY, SWAPDB) with ordinary ones in one pipeline: replies must
// come in order and see each other's effects.
func TestKeysPipeline(t *testing.T) {
	x := newDiff(t, nil, nil)
	cmds := [][]string{
		{"SET", "a", "1"}, {"MOVE", "a", "1"}, {"EXISTS", "a"}, {"SET", "a", "2"},
		{"COPY", "a", "b", "DB", "1"}, {"GET", "b"}, {"SWAPDB", "0", "1"}, {"GET", "a"},
		{"GET", "b"}, {"EXPIRE", "b", "100"}, {"RENAME", "b", "c"}, {"TYPE", "c"},
		{"PERSIST", "c"}, {"TTL", "c"}, {"SELECT", "1"}, {"GET", "a"}, {"DBSIZE"},
	}
	var buf []byte
	for _, c := range cmds {
		buf = append(buf, encodeCommand(c...)...)
	}
	x.R.SendRaw(buf)
	x.D.SendRaw(buf)
	for _, c := range cmds {
		r, d := x.R.ReadReply(), x.D.ReadReply()
		if r != d {
			t.Errorf("pipelined %s: redis %q, durastore %q", fmtCmd(c), r, d)
		}
	}
}

// TestKeysNamespaces covers durastore's extension: where Redis takes a
// database index, MOVE, COPY ... DB and SWAPDB also take a namespace name.
func TestKeysNamespaces(t *testing.T) {
	d := startDurastore(t)
	c := d.Dial(t)
	other := d.Dial(t)
	expect := func(conn *RawConn, want string, args ...string) {
		t.Helper()
		if got := conn.Do(args...); got != want {
			t.Errorf("%s: got %q, want %q", fmtCmd(args), got, want)
		}
	}
	expect(c, "+OK\r\n", "SET", "a", "1")
	expect(c, ":1\r\n", "PEXPIREAT", "a", far(42))
	expect(c, ":1\r\n", "MOVE", "a", "sessions")
	expect(c, ":0\r\n", "EXISTS", "a")
	expect(c, ":0\r\n", "MOVE", "nokey", "sessions")
	expect(c, "+OK\r\n", "SELECT", "sessions")
	expect(c, "$1\r\n1\r\n", "GET", "a")
	expect(c, ":"+far(42)+"\r\n", "PEXPIRETIME", "a")
	expect(c, "-ERR source and destination objects are the same\r\n", "MOVE", "a", "sessions")
	expect(c, "-ERR source and destination objects are the same\r\n", "COPY", "a", "a")
	expect(c, "-ERR source and destination objects are the same\r\n", "COPY", "a", "a", "DB", "sessions")
	expect(c, ":1\r\n", "COPY", "a", "a", "DB", "0")
	expect(c, ":1\r\n", "COPY", "a", "b", "DB", "other-ns")
	expect(c, ":0\r\n", "COPY", "a", "b", "DB", "other-ns")
	expect(c, ":1\r\n", "COPY", "a", "b", "DB", "other-ns", "REPLACE")
	expect(c, ":0\r\n", "MOVE", "a", "0") // DB 0 has its copy
	expect(c, ":1\r\n", "DEL", "a")
	expect(c, "-ERR value is not an integer or out of range\r\n", "MOVE", "a", "bad.name")
	expect(c, "-ERR value is not an integer or out of range\r\n", "COPY", "a", "b", "DB", "bad.name")
	expect(c, "-ERR value is not an integer or out of range\r\n", "MOVE", "a", strings.Repeat("n", 65))
	expect(c, "-ERR DB index is out of range\r\n", "MOVE", "a", "16")

	// DB 0 holds the copy of a, other-ns holds b, sessions nothing.
	expect(c, "+OK\r\n", "SELECT", "0")
	expect(c, ":"+far(42)+"\r\n", "PEXPIRETIME", "a")
	expect(other, "+OK\r\n", "SELECT", "other-ns")
	expect(other, ":1\r\n", "DBSIZE")
	expect(c, "+OK\r\n", "SWAPDB", "0", "other-ns")
	expect(c, "$1\r\n1\r\n", "GET", "b")
	expect(c, ":0\r\n", "EXISTS", "a")
	expect(other, "$1\r\n1\r\n", "GET", "a")
	expect(other, ":0\r\n", "EXISTS", "b")
	expect(c, "+OK\r\n", "SWAPDB", "other-ns", "never-used")
	expect(other, ":0\r\n", "DBSIZE")
	expect(c, "+OK\r\n", "SWAPDB", "0", "0")
	expect(c, "-ERR invalid first DB index\r\n", "SWAPDB", "bad.name", "0")
	expect(c, "-ERR invalid second DB index\r\n", "SWAPDB", "0", "bad.name")
	expect(c, "-ERR DB index is out of range\r\n", "SWAPDB", "sessions", "16")

	// SCAN and KEYS see only the selected namespace.
	expect(c, "+OK\r\n", "SELECT", "never-used")
	expect(c, "*1\r\n$1\r\na\r\n", "KEYS", "*")
	if seen, _ := scanAll(t, c, "COUNT", "1"); fmt.Sprint(keySet(seen)) != "[a]" {
		t.Errorf("SCAN in never-used: %v", keySet(seen))
	}
	expect(c, "+OK\r\n", "SELECT", "sessions")
	expect(c, "*0\r\n", "KEYS", "*")
}

// TestKeysResp3 checks the reply types under HELLO 3: SCAN and KEYS stay
// arrays, TYPE a status, a missing RANDOMKEY a RESP3 null.
func TestKeysResp3(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.R.Do("HELLO", "3")
	x.D.Do("HELLO", "3")
	x.Script(t, `
		RANDOMKEY
		SCAN 0
		KEYS *
		SET only v
		SCAN 0
		SCAN 0 MATCH o* TYPE string
		KEYS *
		TYPE only
		TYPE nokey
		TTL only
		PEXPIREAT only `+far(1)+`
		PEXPIRETIME only
		COPY only other
		MOVE other 1
		SWAPDB 0 1
		SCAN x
		EXPIRE only 10 NX XX
	`)
}

// TestKeysKeyspaceStats checks which commands count keyspace hits and
// misses in INFO stats, as Redis does: reads (EXISTS, TOUCH, TYPE, the TTL
// family, COPY's source, SCAN's TYPE filter) count, writes do not.
func TestKeysKeyspaceStats(t *testing.T) {
	x := newDiff(t, nil, nil)
	stats := func(raw string) string {
		var out []string
		for _, line := range strings.Split(parseReply(raw).(string), "\r\n") {
			if strings.HasPrefix(line, "keyspace_hits:") || strings.HasPrefix(line, "keyspace_misses:") {
				out = append(out, line)
			}
		}
		return strings.Join(out, " ")
	}
	x.Do(t, "SET", "a", "1")
	x.Do(t, "CONFIG", "RESETSTAT")
	for _, cmd := range []string{
		"EXISTS a", "EXISTS z", "TOUCH a z a", "TYPE a", "TYPE z", "TTL a", "PTTL z",
		"EXPIRETIME a", "PEXPIRETIME z", "COPY a b", "COPY z b", "RENAME b c", "RENAMENX c d",
		"MOVE d 1", "EXPIRE a 100", "EXPIRE z 100", "PERSIST a", "PERSIST z",
		"SCAN 0 TYPE string", "SCAN 0 MATCH a", "KEYS *", "RANDOMKEY", "DEL a", "UNLINK z",
	} {
		x.Do(t, strings.Fields(cmd)...)
		r, d := stats(x.R.Do("INFO", "stats")), stats(x.D.Do("INFO", "stats"))
		if r != d || r == "" {
			t.Errorf("after %s: redis %q, durastore %q", cmd, r, d)
		}
	}
}
