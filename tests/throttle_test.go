package tests

// CL.THROTTLE, the redis-cell rate limiter: its replies, its errors, the
// key it keeps (with a TTL, persisted), and exact decisions under
// concurrency.

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

func throttleReply(t *testing.T, raw string) [5]int64 {
	t.Helper()
	arr, ok := parseReply(raw).([]any)
	if !ok || len(arr) != 5 {
		t.Fatalf("CL.THROTTLE reply %q", raw)
	}
	var out [5]int64
	for i, v := range arr {
		out[i] = v.(int64)
	}
	return out
}

func TestThrottleDecisions(t *testing.T) {
	p := startDurastore(t)
	c := p.Dial(t)
	// max_burst 4 (limit 5), one per 60 seconds.
	want := [][5]int64{
		{0, 5, 4, -1, 60},
		{0, 5, 3, -1, 120},
		{0, 5, 2, -1, 180},
		{0, 5, 1, -1, 240},
		{0, 5, 0, -1, 300},
		{1, 5, 0, 60, 300},
		{1, 5, 0, 60, 300},
	}
	for i, w := range want {
		if got := throttleReply(t, c.Do("CL.THROTTLE", "user:1", "4", "1", "60")); got != w {
			t.Fatalf("call %d: %v, want %v", i+1, got, w)
		}
	}
	// Quantity 0 peeks; a quantity above the burst is refused with no
	// retry time; a fresh key takes a quantity at once.
	if got := throttleReply(t, c.Do("CL.THROTTLE", "user:1", "4", "1", "60", "0")); got != [5]int64{0, 5, 0, -1, 300} {
		t.Fatalf("peek: %v", got)
	}
	if got := throttleReply(t, c.Do("CL.THROTTLE", "user:2", "4", "1", "60", "6")); got != [5]int64{1, 5, 5, -1, 0} {
		t.Fatalf("quantity 6 on a fresh key: %v", got)
	}
	if got := throttleReply(t, c.Do("CL.THROTTLE", "user:2", "4", "1", "60", "3")); got != [5]int64{0, 5, 2, -1, 180} {
		t.Fatalf("quantity 3: %v", got)
	}
	if got := throttleReply(t, c.Do("cl.throttle", "user:2", "4", "1", "60", "3")); got != [5]int64{1, 5, 2, 60, 180} {
		t.Fatalf("quantity 3 again: %v", got)
	}
	// 30 per minute with a burst of 0: one every 2 seconds.
	if got := throttleReply(t, c.Do("CL.THROTTLE", "fast", "0", "30", "60")); got != [5]int64{0, 1, 0, -1, 2} {
		t.Fatalf("rate 30/60s: %v", got)
	}
	if got := throttleReply(t, c.Do("CL.THROTTLE", "fast", "0", "30", "60")); got != [5]int64{1, 1, 0, 2, 2} {
		t.Fatalf("rate 30/60s, second call: %v", got)
	}
	// The key is a string holding the TAT in nanoseconds, with a TTL.
	if ttl := parseReply(c.Do("PTTL", "user:1")).(int64); ttl <= 240000 || ttl > 300000 {
		t.Fatalf("PTTL user:1 = %d", ttl)
	}
	if _, err := strconv.ParseInt(parseReply(c.Do("GET", "user:1")).(string), 10, 64); err != nil {
		t.Fatalf("GET user:1: %v", err)
	}
	if r := c.Do("TYPE", "user:1"); r != "+string\r\n" {
		t.Fatalf("TYPE = %q", r)
	}
	// A refused call does not write: the TTL did not grow.
	before := parseReply(c.Do("PTTL", "user:1")).(int64)
	c.Do("CL.THROTTLE", "user:1", "4", "1", "60")
	if after := parseReply(c.Do("PTTL", "user:1")).(int64); after > before {
		t.Fatalf("refused call moved the TTL from %d to %d", before, after)
	}
}

func TestThrottleErrors(t *testing.T) {
	p := startDurastore(t)
	c := p.Dial(t)
	c.Do("SET", "str", "not a number")
	c.Do("SELECT", "0")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CL.THROTTLE"}, "-ERR wrong number of arguments for 'cl.throttle' command\r\n"},
		{[]string{"CL.THROTTLE", "k", "1", "2"}, "-ERR wrong number of arguments for 'cl.throttle' command\r\n"},
		{[]string{"CL.THROTTLE", "k", "1", "2", "3", "4", "5"}, "-Cell error: Usage: cl.throttle <key> <max_burst> <count per period> <period> [<quantity>]\r\n"},
		{[]string{"CL.THROTTLE", "k", "x", "2", "3"}, "-Cell error: Couldn't parse as integer: x\r\n"},
		{[]string{"CL.THROTTLE", "k", "1", "2", "3", "1.5"}, "-Cell error: Couldn't parse as integer: 1.5\r\n"},
		{[]string{"CL.THROTTLE", "k", "1", "0", "3"}, "-Cell error: Zero rates are not supported\r\n"},
		{[]string{"CL.THROTTLE", "k", "1", "2", "0"}, "-Cell error: Zero rates are not supported\r\n"},
		{[]string{"CL.THROTTLE", "k", "-1", "2", "3"}, "-Cell error: arguments must not be negative\r\n"},
		{[]string{"CL.THROTTLE", "str", "1", "2", "3"}, "-Cell error: invalid digit found in string\r\n"},
	} {
		if got := c.Do(tc.args...); got != tc.want {
			t.Errorf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
	// Bad input changes nothing.
	if r := c.Do("EXISTS", "k"); r != ":0\r\n" {
		t.Fatalf("EXISTS k after errors = %q", r)
	}
	// WRONGTYPE needs a key of another type; make one if hashes exist.
	if r := c.Do("HSET", "h", "f", "v"); r == ":1\r\n" {
		if got := c.Do("CL.THROTTLE", "h", "1", "2", "3"); got != "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" {
			t.Errorf("CL.THROTTLE on a hash = %q", got)
		}
	}
}

// TestThrottleConcurrent: 100 clients share one limiter of burst 49 (50
// at once) over an hour: exactly 50 calls pass.
func TestThrottleConcurrent(t *testing.T) {
	p := startDurastore(t)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		c := p.Dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 10; n++ {
				r := throttleReply(t, c.Do("CL.THROTTLE", "shared", "49", "50", "3600"))
				if r[0] == 0 {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 50 {
		t.Fatalf("allowed %d, want 50", got)
	}
}

// TestThrottlePersists: the limiter's state survives a restart.
func TestThrottlePersists(t *testing.T) {
	p := startDurastore(t, "--appendonly", "yes")
	c := p.Dial(t)
	for i := 0; i < 3; i++ {
		c.Do("CL.THROTTLE", "p", "2", "1", "3600")
	}
	p.Restart(t)
	c = p.Dial(t)
	if got := throttleReply(t, c.Do("CL.THROTTLE", "p", "2", "1", "3600")); got[0] != 1 || got[2] != 0 {
		t.Fatalf("after restart: %v, want limited", got)
	}
	if ttl := parseReply(c.Do("PTTL", "p")).(int64); ttl <= 0 {
		t.Fatalf("PTTL after restart = %d", ttl)
	}
}
