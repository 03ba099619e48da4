package tests

// End-to-end tests of MEMORY, OBJECT, TOUCH and CLIENT NO-TOUCH
// (commands/memory.go) and of the memory figures in INFO. Replies that are
// deterministic (encodings, errors, help texts, counters of new keys) are
// compared with redis-server byte for byte; sizes and times, which depend
// on how each server stores data, are checked against what they must be.

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMemoryObjectEncoding(t *testing.T) {
	x := newDiff(t, nil, nil)
	long44 := strings.Repeat("a", 44)
	long45 := strings.Repeat("a", 45)
	x.Script(t, `
		SET i 123
		OBJECT ENCODING i
		SET neg -5
		OBJECT ENCODING neg
		SET max 9223372036854775807
		OBJECT ENCODING max
		SET min -9223372036854775808
		OBJECT ENCODING min
		SET over 9223372036854775808
		OBJECT ENCODING over
		SET zeros 007
		OBJECT ENCODING zeros
		SET zero 0
		OBJECT ENCODING zero
		SET negzero -0
		OBJECT ENCODING negzero
		SET plus +1
		OBJECT ENCODING plus
		SET space " 1"
		OBJECT ENCODING space
		SET float 1.5
		OBJECT ENCODING float
		SET empty ""
		OBJECT ENCODING empty
		SET s hello
		OBJECT ENCODING s
		SET digits21 123456789012345678901
		OBJECT ENCODING digits21
		INCR counter
		OBJECT ENCODING counter
		INCRBYFLOAT f 1.5
		OBJECT ENCODING f
		SETEX ttl 100 42
		OBJECT ENCODING ttl
		OBJECT ENCODING nokey
		SET gone x PXAT 1
		OBJECT ENCODING gone
	`)
	x.Do(t, "SET", "l44", long44)
	x.Do(t, "OBJECT", "ENCODING", "l44")
	x.Do(t, "SET", "l45", long45)
	x.Do(t, "OBJECT", "ENCODING", "l45")
	x.Do(t, "HSET", "h", "f", "v")
	x.Do(t, "OBJECT", "ENCODING", "h")
}

func TestMemoryObjectRefcountAndErrors(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SET shared 123
		OBJECT REFCOUNT shared
		SET zero 0
		OBJECT REFCOUNT zero
		SET big 10000
		OBJECT REFCOUNT big
		SET last 9999
		OBJECT REFCOUNT last
		SET neg -1
		OBJECT REFCOUNT neg
		SET s abc
		OBJECT REFCOUNT s
		OBJECT REFCOUNT nokey
		OBJECT IDLETIME nokey
		OBJECT FREQ nokey
		OBJECT FREQ s
		OBJECT HELP
		object help
		OBJECT
		OBJECT ENCODING
		OBJECT ENCODING a b
		OBJECT REFCOUNT
		OBJECT FREQ a b
		OBJECT IDLETIME
		OBJECT HELP extra
		OBJECT foo
		OBJECT foo bar
	`)
	// Under an LRU policy with a maxmemory, integers are not shared.
	x.Script(t, `
		CONFIG SET maxmemory 1gb
		CONFIG SET maxmemory-policy allkeys-lru
		SET fresh 123
		OBJECT REFCOUNT fresh
		CONFIG SET maxmemory-policy allkeys-random
		SET other 77
		OBJECT REFCOUNT other
		CONFIG SET maxmemory 0
		CONFIG SET maxmemory-policy noeviction
	`)
	x.DoMatch(t, resp3Hello, "HELLO", "3")
	x.Script(t, `
		OBJECT ENCODING nokey
		OBJECT REFCOUNT nokey
		OBJECT HELP
	`)
	// OBJECT counts keyspace hits and misses; MEMORY USAGE does not.
	x.Do(t, "CONFIG", "RESETSTAT")
	x.Do(t, "OBJECT", "ENCODING", "s")
	x.Do(t, "OBJECT", "REFCOUNT", "nokey")
	x.DoMatch(t, bothInts, "MEMORY", "USAGE", "s")
	x.Do(t, "MEMORY", "USAGE", "nokey")
	for _, f := range []string{"keyspace_hits", "keyspace_misses"} {
		if r, d := infoInt(t, x.R, "stats", f), infoInt(t, x.D, "stats", f); r != 1 || d != r {
			t.Errorf("%s: redis %d, durastore %d", f, r, d)
		}
	}
}

// bothInts accepts two integer replies.
func bothInts(r, d string) bool { return strings.HasPrefix(r, ":") && strings.HasPrefix(d, ":") }

// TestMemoryObjectFreq: under an LFU policy a new key's counter is 5
// and its first access makes it 6, in both servers; idle time is refused.
func TestMemoryObjectFreq(t *testing.T) {
	args := []string{"--maxmemory-policy", "allkeys-lfu"}
	x := newDiff(t, args, args)
	x.Script(t, `
		SET k v
		OBJECT FREQ k
		GET k
		OBJECT FREQ k
		OBJECT FREQ k
		OBJECT IDLETIME k
		OBJECT IDLETIME nokey
		OBJECT FREQ nokey
		CONFIG SET maxmemory-policy volatile-lfu
		OBJECT FREQ k
		CONFIG SET maxmemory-policy volatile-lru
		OBJECT FREQ k
		CONFIG SET maxmemory-policy allkeys-lfu
	`)
}

// TestMemoryIdleTime: reads and TOUCH reset the idle time; EXISTS, OBJECT
// and MEMORY USAGE do not, as in Redis.
func TestMemoryIdleTime(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Do(t, "MSET", "a", "1", "b", "2", "c", "3", "d", "4")
	time.Sleep(2100 * time.Millisecond)
	atLeast2 := intBetween(2, 1000)
	for _, k := range []string{"a", "b", "c", "d"} {
		x.DoMatch(t, atLeast2, "OBJECT", "IDLETIME", k)
	}
	x.Do(t, "EXISTS", "a", "b")
	x.Do(t, "OBJECT", "ENCODING", "a")
	x.DoMatch(t, func(r, d string) bool { return strings.HasPrefix(r, ":") && strings.HasPrefix(d, ":") }, "MEMORY", "USAGE", "b")
	x.Do(t, "GET", "c")
	x.Do(t, "TOUCH", "d", "nokey")
	x.DoMatch(t, atLeast2, "OBJECT", "IDLETIME", "a")
	x.DoMatch(t, atLeast2, "OBJECT", "IDLETIME", "b")
	// Just read: idle less than the 2 seconds it was before.
	x.DoMatch(t, intBetween(0, 1), "OBJECT", "IDLETIME", "c")
	x.DoMatch(t, intBetween(0, 1), "OBJECT", "IDLETIME", "d")
}

// TestMemoryNoTouch: CLIENT NO-TOUCH (Redis 7.2) keeps a client's reads
// from changing access times, except TOUCH's.
func TestMemoryNoTouch(t *testing.T) {
	d := startDurastore(t)
	c := d.Dial(t)
	idle := func(k string) int64 {
		n, ok := parseReply(c.Do("OBJECT", "IDLETIME", k)).(int64)
		if !ok {
			t.Fatalf("OBJECT IDLETIME %s: %q", k, c.Do("OBJECT", "IDLETIME", k))
		}
		return n
	}
	c.Do("MSET", "a", "1", "b", "2", "c", "3")
	time.Sleep(2100 * time.Millisecond)
	if r := c.Do("CLIENT", "NO-TOUCH", "ON"); r != "+OK\r\n" {
		t.Fatalf("CLIENT NO-TOUCH ON: %q", r)
	}
	c.Do("GET", "a")
	c.Do("MGET", "a", "b")
	c.Do("TOUCH", "c")
	if n := idle("a"); n < 2 {
		t.Errorf("GET under NO-TOUCH reset the idle time: %d", n)
	}
	if n := idle("b"); n < 2 {
		t.Errorf("MGET under NO-TOUCH reset the idle time: %d", n)
	}
	if n := idle("c"); n > 1 {
		t.Errorf("TOUCH under NO-TOUCH left idle time %d", n)
	}
	c.Do("CLIENT", "NO-TOUCH", "OFF")
	c.Do("GET", "a")
	if n := idle("a"); n > 1 {
		t.Errorf("GET after NO-TOUCH OFF left idle time %d", n)
	}
	// Inside MULTI the client's mode holds too.
	c.Do("CLIENT", "NO-TOUCH", "ON")
	time.Sleep(2100 * time.Millisecond)
	c.Do("MULTI")
	c.Do("GET", "b")
	c.Do("EXEC")
	if n := idle("b"); n < 2 {
		t.Errorf("GET in EXEC under NO-TOUCH reset the idle time: %d", n)
	}
}

func TestMemoryHelpAndUsageErrors(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		MEMORY HELP
		memory help
		MEMORY
		MEMORY foo
		MEMORY HELP extra
		MEMORY USAGE
		MEMORY STATS extra
		MEMORY DOCTOR extra
		MEMORY PURGE extra
		MEMORY MALLOC-STATS extra
		SET k v
		MEMORY USAGE k SAMPLES
		MEMORY USAGE k SAMPLES x
		MEMORY USAGE k SAMPLES -1
		MEMORY USAGE k SAMPLES 99999999999999999999
		MEMORY USAGE k FOO
		MEMORY USAGE k FOO 1
		MEMORY USAGE k SAMPLES 1 FOO
		MEMORY USAGE nokey
		MEMORY USAGE nokey SAMPLES 0
		MEMORY USAGE nokey SAMPLES x
		MEMORY PURGE
		SET gone x PXAT 1
	`)
	// An expired key not yet removed still has a size, in both.
	x.DoMatch(t, bothInts, "MEMORY", "USAGE", "gone")
	x.DoMatch(t, resp3Hello, "HELLO", "3")
	x.Do(t, "MEMORY", "USAGE", "nokey")
	x.Do(t, "MEMORY", "HELP")
}

// TestMemoryUsage checks MEMORY USAGE counts the key and value and a
// per-key overhead, and that its sum is what used_memory follows.
func TestMemoryUsage(t *testing.T) {
	d := startDurastore(t, "--appendonly", "no")
	c := d.Dial(t)
	usage := func(k string) int64 {
		n, ok := parseReply(c.Do("MEMORY", "USAGE", k)).(int64)
		if !ok {
			t.Fatalf("MEMORY USAGE %s: not an integer", k)
		}
		return n
	}
	c.Do("SET", "small", "v")
	c.Do("SET", "big", strings.Repeat("x", 1000))
	c.Do("SET", strings.Repeat("k", 100), strings.Repeat("x", 1000))
	c.Do("SET", "ttl", strings.Repeat("x", 1000), "EX", "100")
	small, big, longKey, ttl := usage("small"), usage("big"), usage(strings.Repeat("k", 100)), usage("ttl")
	if small < 24 || small > 200 {
		t.Errorf("small key: %d bytes", small)
	}
	if big < 1000 || big > 1300 {
		t.Errorf("1000-byte value: %d bytes", big)
	}
	if longKey <= big || ttl <= big {
		t.Errorf("a longer key (%d) and an expiry (%d) must cost more than %d", longKey, ttl, big)
	}
	if n := usage("big"); n != big {
		t.Errorf("usage changed on its own: %d then %d", big, n)
	}
	if r := c.Do("MEMORY", "USAGE", "big", "SAMPLES", "0"); parseReply(r) != big {
		t.Errorf("SAMPLES 0: %q", r)
	}
}

// resp3Hello accepts the replies to HELLO 3 (server details differ).
func resp3Hello(r, d string) bool { return strings.HasPrefix(r, "%") && strings.HasPrefix(d, "%") }

// infoInt reads an integer field of INFO.
func infoInt(t *testing.T, c *RawConn, section, field string) int64 {
	t.Helper()
	text := parseReply(c.Do("INFO", section)).(string)
	v, ok := connInfoValue(text, field)
	if !ok {
		t.Fatalf("INFO %s has no %s", section, field)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("INFO %s = %q", field, v)
	}
	return n
}

// fillKeys writes n keys prefix:i with values of size bytes, pipelined.
func fillKeys(t *testing.T, c *RawConn, prefix string, n, size int, extra ...string) {
	t.Helper()
	val := strings.Repeat("v", size)
	const batch = 100
	for i := 0; i < n; i += batch {
		var b []byte
		m := min(batch, n-i)
		for j := 0; j < m; j++ {
			b = append(b, encodeCommand(append([]string{"SET", prefix + ":" + strconv.Itoa(i+j), val}, extra...)...)...)
		}
		c.SendRaw(b)
		for j := 0; j < m; j++ {
			if r := c.ReadReply(); r != "+OK\r\n" {
				t.Fatalf("SET %s:%d: %q", prefix, i+j, r)
			}
		}
	}
}

// TestMemoryUsedFollowsData: used_memory grows with the data and falls
// when it goes, at once, without waiting for a collection.
func TestMemoryUsedFollowsData(t *testing.T) {
	d := startDurastore(t, "--appendonly", "no")
	c := d.Dial(t)
	before := infoInt(t, c, "memory", "used_memory")
	fillKeys(t, c, "k", 20_000, 1000)
	full := infoInt(t, c, "memory", "used_memory")
	if full-before < 20_000*1000 || full-before > 20_000*1400 {
		t.Errorf("used_memory grew by %d for 20000 keys of 1000 bytes (from %d to %d)", full-before, before, full)
	}
	if n := infoInt(t, c, "memory", "used_memory_dataset"); n < 20_000*1000 {
		t.Errorf("used_memory_dataset %d", n)
	}
	if n := infoInt(t, c, "memory", "used_memory_peak"); n < full {
		t.Errorf("used_memory_peak %d below used_memory %d", n, full)
	}
	c.Do("DEL", "k:1", "k:2")
	if n := infoInt(t, c, "memory", "used_memory"); n >= full {
		t.Errorf("used_memory %d did not fall after DEL (was %d)", n, full)
	}
	c.Do("FLUSHALL")
	if after := infoInt(t, c, "memory", "used_memory"); after > full-19_000*1000 {
		t.Errorf("used_memory %d after FLUSHALL, was %d with the data", after, full)
	}
	rss := infoInt(t, c, "memory", "used_memory_rss")
	if rss < 1<<20 {
		t.Errorf("used_memory_rss %d", rss)
	}
}

// TestMemoryInfoFields: the fields the issue names, with their values.
func TestMemoryInfoFields(t *testing.T) {
	d := startDurastore(t, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru")
	c := d.Dial(t)
	text := parseReply(c.Do("INFO", "memory")).(string)
	for field, want := range map[string]string{
		"maxmemory": "104857600", "maxmemory_human": "100.00M", "maxmemory_policy": "allkeys-lru",
		"go_memory_limit": strconv.Itoa(100<<20 + 25<<20 + 32<<20),
	} {
		if got, _ := connInfoValue(text, field); got != want {
			t.Errorf("INFO %s = %q, want %q", field, got, want)
		}
	}
	for _, f := range []string{"used_memory", "used_memory_human", "used_memory_rss", "mem_fragmentation_ratio"} {
		if v, ok := connInfoValue(text, f); !ok || v == "" || v == "0" {
			t.Errorf("INFO %s = %q", f, v)
		}
	}
	c.Do("CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "volatile-ttl")
	text = parseReply(c.Do("INFO", "memory")).(string)
	if got, _ := connInfoValue(text, "maxmemory_policy"); got != "volatile-ttl" {
		t.Errorf("maxmemory_policy after CONFIG SET: %q", got)
	}
	if _, ok := connInfoValue(text, "go_memory_limit"); ok {
		t.Error("go_memory_limit reported without maxmemory")
	}
	c.Do("SET", "hit", "1")
	c.Do("GET", "hit")
	c.Do("GET", "miss")
	if infoInt(t, c, "stats", "keyspace_hits") != 1 || infoInt(t, c, "stats", "keyspace_misses") != 1 {
		t.Errorf("keyspace hits/misses: %q", parseReply(c.Do("INFO", "stats")))
	}
}

// TestMemoryStatsShape: MEMORY STATS has Redis 7.0's fields in Redis's
// order, in RESP2 and RESP3; the numbers are each server's own.
func TestMemoryStatsShape(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Do(t, "SET", "k", "v")
	x.Do(t, "SET", "e", "v", "EX", "100")
	keysOf := func(raw string) []string {
		v, ok := parseReply(raw).([]any)
		if !ok {
			if m, ok := parseReply(raw).(map[string]any); ok {
				_ = m
			}
		}
		var names []string
		for i := 0; i+1 < len(v); i += 2 {
			name, _ := v[i].(string)
			names = append(names, name)
			if inner, ok := v[i+1].([]any); ok {
				for j := 0; j+1 < len(inner); j += 2 {
					s, _ := inner[j].(string)
					names = append(names, name+"/"+s)
				}
			}
		}
		return names
	}
	sameKeys := func(r, d string) bool {
		rk, dk := keysOf(r), keysOf(d)
		return len(rk) > 25 && strings.Join(rk, ",") == strings.Join(dk, ",")
	}
	x.DoMatch(t, sameKeys, "MEMORY", "STATS")
	x.DoMatch(t, resp3Hello, "HELLO", "3")
	x.DoMatch(t, func(r, d string) bool {
		return strings.HasPrefix(r, "%") && strings.HasPrefix(d, strings.SplitN(r, "\r\n", 2)[0]+"\r\n") &&
			strings.Contains(d, "$4\r\ndb.0\r\n%3\r\n") && strings.Contains(d, "$18\r\ndataset.percentage\r\n,")
	}, "MEMORY", "STATS")
}

func TestMemoryDoctorAndMallocStats(t *testing.T) {
	x := newDiff(t, nil, nil)
	// An almost empty instance gets Redis's answer word for word.
	x.DoMatch(t, func(r, d string) bool {
		return strings.Contains(r, "Hi Sam, this instance is empty") && (r == d || strings.Contains(d, "Hi Sam, I can't find any memory issue"))
	}, "MEMORY", "DOCTOR")
	x.DoMatch(t, func(r, d string) bool { return strings.HasPrefix(r, "$") && strings.HasPrefix(d, "$") }, "MEMORY", "MALLOC-STATS")
	d := startDurastore(t, "--appendonly", "no")
	c := d.Dial(t)
	fillKeys(t, c, "k", 12_000, 1000)
	c.Do("CONFIG", "SET", "maxmemory", "10mb")
	r, _ := parseReply(c.Do("MEMORY", "DOCTOR")).(string)
	if !strings.Contains(r, "Maxmemory reached") || !strings.HasSuffix(r, "I'm here to keep you safe, Sam. I want to help you.\n") {
		t.Errorf("MEMORY DOCTOR over maxmemory under noeviction:\n%s", r)
	}
}

// TestMemoryConfig: the parameters as Redis 7.0 has them, and their errors.
func TestMemoryConfig(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		@unordered CONFIG GET maxmemory maxmemory-policy maxmemory-samples maxmemory-eviction-tenacity
		@unordered CONFIG GET lfu*
		CONFIG SET maxmemory-eviction-tenacity 101
		CONFIG SET maxmemory-eviction-tenacity 100
		CONFIG GET maxmemory-eviction-tenacity
		CONFIG SET maxmemory-eviction-tenacity 10
		CONFIG SET maxmemory-samples 0
		CONFIG SET maxmemory-samples 10
		CONFIG GET maxmemory-samples
		CONFIG SET lfu-log-factor -1
		CONFIG SET lfu-decay-time -1
		CONFIG SET lfu-log-factor 20
		CONFIG SET lfu-decay-time 0
		@unordered CONFIG GET lfu*
		CONFIG SET maxmemory 100mb
		CONFIG GET maxmemory
		CONFIG SET maxmemory 1gb
		CONFIG GET maxmemory
		CONFIG SET maxmemory 1.5gb
		CONFIG SET maxmemory -1
		CONFIG SET maxmemory-policy lru
		CONFIG SET maxmemory-policy ALLKEYS-LFU
		CONFIG GET maxmemory-policy
		CONFIG SET maxmemory 0
	`)
}
