package tests

// MULTI, EXEC, DISCARD, WATCH and UNWATCH: differential tests against
// redis-server 7.0, and concurrency tests showing EXEC is atomic and WATCH
// catches every conflicting write.

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMultiDiff(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		# nesting, EXEC/DISCARD without MULTI, WATCH inside MULTI
		EXEC
		DISCARD
		MULTI
		MULTI
		WATCH x
		SET a 1
		EXEC
		GET a
		# queuing errors abort the transaction
		MULTI
		SET a
		GET a
		EXEC
		MULTI
		NOSUCHCOMMAND x
		EXEC
		MULTI
		SAVE
		EXEC
		MULTI
		CLIENT NOSUCH
		EXEC
		MULTI
		SCRIPT KILL x
		EXEC
		GET a
		# runtime errors are returned in place, the rest applies
		MULTI
		SET s str
		INCR s
		INCRBYFLOAT s 1.5
		APPEND s x
		GET s
		EXEC
		# DISCARD drops the queue
		MULTI
		SET d 1
		DISCARD
		EXISTS d
		# empty transaction
		MULTI
		EXEC
		# MULTI in the middle of arguments: arity errors of the control commands
		MULTI x
		EXEC x
		DISCARD x
		WATCH
		UNWATCH x
		# commands that run in MULTI: TIME-free, deterministic ones
		MULTI
		PING
		ECHO hi
		SET n 10
		INCRBY n 5
		DECR n
		GETSET n 1
		DBSIZE
		EXISTS n nosuch
		TYPE n
		EXEC
		# SELECT inside MULTI; the selection stays after EXEC
		MULTI
		SELECT 2
		SET in2 x
		SELECT 3
		SET in3 y
		EXEC
		GET in3
		SELECT 2
		GET in2
		SELECT 0
		# EVAL inside MULTI
		MULTI
		EVAL "return redis.call('incr', KEYS[1])" 1 ev
		EVAL "return redis.call('incr', KEYS[1])" 1 ev
		EXEC
		# INFO sees the transaction's own writes
		MULTI
		SET ik 1
		INFO keyspace
		EXEC
		EVAL "redis.call('set', 'ik2', 1) return redis.call('info', 'keyspace')" 0
		FLUSHALL
	`)
}

func TestMultiWatchDiff(t *testing.T) {
	x := newDiff(t, nil, nil)
	// A second connection on each side for "another client".
	r2, d2 := x.Redis.Dial(t), x.Dura.Dial(t)
	other := func(args ...string) {
		t.Helper()
		if r, d := r2.Do(args...), d2.Do(args...); r != d {
			t.Errorf("other client %v: redis %q, durastore %q", args, r, d)
		}
	}
	x.Script(t, `
		SET w 1
		WATCH w
		GET w
		MULTI
		SET w 2
		EXEC
		GET w
	`)
	// Another client's write aborts.
	x.Do(t, "WATCH", "w")
	other("SET", "w", "10")
	x.Do(t, "MULTI")
	x.Do(t, "SET", "w", "3")
	x.Do(t, "EXEC")
	x.Do(t, "GET", "w")
	// Writing the same value still counts as a change.
	x.Do(t, "WATCH", "w")
	other("SET", "w", "10")
	x.Do(t, "MULTI")
	x.Do(t, "PING")
	x.Do(t, "EXEC")
	// UNWATCH forgets; DISCARD unwatches.
	x.Do(t, "WATCH", "w")
	other("SET", "w", "11")
	x.Do(t, "UNWATCH")
	x.Do(t, "MULTI")
	x.Do(t, "PING")
	x.Do(t, "EXEC")
	x.Do(t, "WATCH", "w")
	x.Do(t, "MULTI")
	x.Do(t, "DISCARD")
	other("SET", "w", "12")
	x.Do(t, "MULTI")
	x.Do(t, "PING")
	x.Do(t, "EXEC")
	// A key in another database is another key.
	x.Do(t, "WATCH", "w")
	other("SELECT", "1")
	other("SET", "w", "x")
	x.Do(t, "MULTI")
	x.Do(t, "PING")
	x.Do(t, "EXEC")
	other("SELECT", "0")
	// DEL, EXPIRE, RENAME (both names), MOVE, FLUSHDB and FLUSHALL of a
	// watched key abort; a flush of a database without the key does not.
	for _, tc := range [][]string{
		{"DEL", "w"}, {"EXPIRE", "w", "100"}, {"PERSIST", "w"}, {"RENAME", "w", "w2"}, {"RENAME", "src", "w"},
		{"MOVE", "w", "1"}, {"FLUSHDB"}, {"FLUSHALL"}, {"APPEND", "w", "x"}, {"INCR", "w"},
	} {
		other("FLUSHALL")
		other("SET", "w", "1")
		other("SET", "src", "s")
		other("EXPIRE", "w", "1000")
		x.Do(t, "WATCH", "w")
		other(tc...)
		x.Do(t, "MULTI")
		x.Do(t, "GET", "w")
		x.Do(t, "EXEC")
	}
	// No-ops that do not change the key do not abort.
	for _, tc := range [][]string{
		{"DEL", "nosuch"}, {"GET", "w"}, {"EXPIRE", "nosuch", "10"}, {"SET", "other", "1"},
	} {
		other("SET", "w", "1")
		x.Do(t, "WATCH", "w")
		other(tc...)
		x.Do(t, "MULTI")
		x.Do(t, "GET", "w")
		x.Do(t, "EXEC")
	}
	// FLUSHDB while the watched key does not exist: no change.
	x.Do(t, "WATCH", "absent")
	other("FLUSHDB")
	x.Do(t, "MULTI")
	x.Do(t, "PING")
	x.Do(t, "EXEC")
	// SWAPDB: the key exists in the database swapped in.
	other("FLUSHALL")
	other("SELECT", "1")
	other("SET", "sw", "1")
	other("SELECT", "0")
	x.Do(t, "WATCH", "sw")
	other("SWAPDB", "0", "1")
	x.Do(t, "MULTI")
	x.Do(t, "GET", "sw")
	x.Do(t, "EXEC")
	// SWAPDB of databases without the key: no change.
	x.Do(t, "WATCH", "nowhere")
	other("SWAPDB", "0", "5")
	x.Do(t, "MULTI")
	x.Do(t, "PING")
	x.Do(t, "EXEC")
	// RESP3: an aborted EXEC is a null.
	x.DoMatch(t, func(r, d string) bool { return true }, "HELLO", "3")
	x.Do(t, "WATCH", "w")
	other("SET", "w", "resp3")
	x.Do(t, "MULTI")
	x.Do(t, "PING")
	x.Do(t, "EXEC")
}

// TestMultiWatchExpiry: a watched key that expires before EXEC aborts it;
// one already expired when watched does not.
func TestMultiWatchExpiry(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Do(t, "SET", "e", "1", "PX", "100")
	x.Do(t, "WATCH", "e")
	x.Do(t, "MULTI")
	x.Do(t, "PING")
	waitGone(t, x, "e")
	x.Do(t, "EXEC")

	x.Do(t, "SET", "e2", "1", "PX", "50")
	waitGone(t, x, "e2")
	x.Do(t, "WATCH", "e2")
	x.Do(t, "MULTI")
	x.Do(t, "PING")
	x.Do(t, "EXEC")
}

// waitGone sleeps until key has expired on both servers (checked from
// other connections with PTTL, which does not delete it).
func waitGone(t *testing.T, x *Diff, key string) {
	t.Helper()
	rc, dc := x.Redis.Dial(t), x.Dura.Dial(t)
	defer rc.Close()
	defer dc.Close()
	for i := 0; i < 200; i++ {
		r, d := rc.Do("PTTL", key), dc.Do("PTTL", key)
		if r == ":-2\r\n" && d == ":-2\r\n" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not expire", key)
}

// TestMultiWatchConcurrentIncrements: 50 clients each make 100 optimistic
// increments (WATCH, GET, MULTI, SET, EXEC, retried on a null EXEC). Not
// one increment may be lost.
func TestMultiWatchConcurrentIncrements(t *testing.T) {
	p := startDurastore(t)
	const clients, each = 50, 100
	var wg sync.WaitGroup
	var retries atomic.Int64
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		c := p.Dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < each; {
				c.Send("WATCH", "counter")
				c.Send("GET", "counter")
				if r := c.ReadReply(); r != "+OK\r\n" {
					errs <- fmt.Errorf("WATCH: %q", r)
					return
				}
				v := 0
				if got, ok := parseReply(c.ReadReply()).(string); ok {
					v, _ = strconv.Atoi(got)
				}
				c.Send("MULTI")
				c.Send("SET", "counter", strconv.Itoa(v+1))
				c.Send("EXEC")
				c.ReadReply()
				c.ReadReply()
				switch r := c.ReadReply(); r {
				case "*1\r\n+OK\r\n":
					n++
				case "*-1\r\n":
					retries.Add(1)
				default:
					errs <- fmt.Errorf("EXEC: %q", r)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := p.Dial(t)
	if got := c.Do("GET", "counter"); got != "$4\r\n5000\r\n" {
		t.Fatalf("counter = %q, want 5000", got)
	}
	t.Logf("%d retries", retries.Load())
}

// TestMultiAtomicAcrossNamespaces: writers increment a key in two
// databases in one transaction; readers reading both in one transaction
// must never see them differ.
func TestMultiAtomicAcrossNamespaces(t *testing.T) {
	p := startDurastore(t)
	const writers, rounds, readers = 8, 200, 4
	var wg sync.WaitGroup
	var done atomic.Bool
	var bad atomic.Int64
	var firstBad atomic.Value
	for i := 0; i < writers; i++ {
		c := p.Dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < rounds; n++ {
				c.Send("MULTI")
				c.Send("SELECT", "1")
				c.Send("INCR", "a")
				c.Send("SELECT", "sessions")
				c.Send("INCR", "a")
				c.Send("SELECT", "0")
				c.Send("EXEC")
				for k := 0; k < 6; k++ {
					c.ReadReply()
				}
				c.ReadReply()
			}
		}()
	}
	var rwg sync.WaitGroup
	for i := 0; i < readers; i++ {
		c := p.Dial(t)
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for !done.Load() {
				c.Send("MULTI")
				c.Send("SELECT", "1")
				c.Send("GET", "a")
				c.Send("SELECT", "sessions")
				c.Send("GET", "a")
				c.Send("SELECT", "0")
				c.Send("EXEC")
				for k := 0; k < 6; k++ {
					c.ReadReply()
				}
				r := parseReply(c.ReadReply()).([]any)
				if r[1] != r[3] {
					bad.Add(1)
					firstBad.CompareAndSwap(nil, fmt.Sprint(r))
				}
			}
		}()
	}
	wg.Wait()
	done.Store(true)
	rwg.Wait()
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d reads saw the two databases differ, e.g. %v", n, firstBad.Load())
	}
	c := p.Dial(t)
	c.Do("SELECT", "1")
	want := "$4\r\n1600\r\n"
	if got := c.Do("GET", "a"); got != want {
		t.Fatalf("db 1 a = %q, want %q", got, want)
	}
	c.Do("SELECT", "sessions")
	if got := c.Do("GET", "a"); got != want {
		t.Fatalf("sessions a = %q, want %q", got, want)
	}
}

// TestMultiFixedWindowLimiter: the classic fixed-window limiter, INCR and
// PEXPIRE NX in MULTI, called by 100 clients, allows exactly its limit.
func TestMultiFixedWindowLimiter(t *testing.T) {
	p := startDurastore(t)
	const clients, each, limit = 100, 10, 250
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		c := p.Dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < each; n++ {
				c.Send("MULTI")
				c.Send("INCR", "window:1")
				c.Send("PEXPIRE", "window:1", "60000", "NX")
				c.Send("EXEC")
				c.ReadReply()
				c.ReadReply()
				c.ReadReply()
				r := parseReply(c.ReadReply()).([]any)
				if r[0].(int64) <= limit {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != limit {
		t.Fatalf("allowed %d requests, want %d", got, limit)
	}
	c := p.Dial(t)
	if got := c.Do("GET", "window:1"); got != "$4\r\n1000\r\n" {
		t.Fatalf("window count = %q", got)
	}
	if ttl := parseReply(c.Do("PTTL", "window:1")).(int64); ttl <= 0 || ttl > 60000 {
		t.Fatalf("window PTTL = %d", ttl)
	}
}

// TestMultiDisconnectForgetsWatch: a client that watches keys and goes
// away leaves nothing behind that could affect later clients.
func TestMultiDisconnectForgetsWatch(t *testing.T) {
	p := startDurastore(t)
	for i := 0; i < 20; i++ {
		c := p.Dial(t)
		c.Do("WATCH", "k"+strconv.Itoa(i))
		c.Do("MULTI")
		c.Do("SET", "k", "v")
		c.Close()
	}
	c := p.Dial(t)
	c.Do("WATCH", "k1")
	c.Do("SET", "k1", "mine")
	c.Do("MULTI")
	c.Do("PING")
	if got := c.Do("EXEC"); got != "*-1\r\n" {
		t.Fatalf("EXEC after own write to a watched key = %q", got)
	}
	if got := c.Do("EXISTS", "k"); got != ":0\r\n" {
		t.Fatalf("a disconnected client's queued SET ran: EXISTS k = %q", got)
	}
}
