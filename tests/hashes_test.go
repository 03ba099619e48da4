package tests

// Differential tests of the hash commands (commands/hashes.go) against
// redis-server 7.0: every command and its errors, listpack order (insertion
// order, updates and deletes in place) compared byte for byte, big hashes
// (hashtable order) compared unordered, TTLs kept, empty hashes deleted,
// RESP3, pipelines, random replies checked for shape, and go-redis.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestHashesArity(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		HSET
		HSET h
		HSET h f
		HSET h f v f2
		HSET h f v f2 v2 f3
		HMSET h f
		HMSET h f v f2
		HSETNX h f
		HSETNX h f v extra
		HGET h
		HGET h f extra
		HMGET h
		HGETALL
		HGETALL h extra
		HKEYS
		HKEYS h extra
		HVALS
		HVALS h extra
		HDEL h
		HEXISTS h
		HEXISTS h f extra
		HLEN
		HLEN h extra
		HSTRLEN h
		HSTRLEN h f extra
		HINCRBY h f
		HINCRBY h f 1 extra
		HINCRBYFLOAT h f
		HINCRBYFLOAT h f 1 extra
		HRANDFIELD
		HSCAN h
		# nothing above wrote anything
		EXISTS h
	`)
}

// Small hashes are listpacks in Redis: every reply, in order, must match.
func TestHashesListpackOrder(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		HSET h z 1 a 2 m 3
		HGETALL h
		# an update stays in place, a duplicate in one call counts once
		HSET h a 20 n 4 n 5 z 10
		HGETALL h
		HKEYS h
		HVALS h
		# a delete in the middle closes the gap; a re-added field goes last
		HDEL h a
		HGETALL h
		HSET h a again
		HGETALL h
		HMSET h m 30 b 6
		HGETALL h
		HSETNX h b 7
		HSETNX h c 8
		HGETALL h
		HINCRBY h z 5
		HINCRBY h new 5
		HINCRBYFLOAT h m 0.5
		HINCRBYFLOAT h newf 0.5
		HGETALL h
		HLEN h
		HMGET h z nosuch a z c
		HGET h n
		HGET h nosuch
		HEXISTS h n
		HEXISTS h nosuch
		HSTRLEN h a
		HSTRLEN h m
		HSTRLEN h nosuch
		TYPE h
		# empty fields and values are fields and values
		HSET e "" "" x ""
		HGETALL e
		HGET e ""
		HSTRLEN e ""
		HEXISTS e ""
		HLEN e
	`)
}

// Missing keys reply as Redis does for each command.
func TestHashesMissingKey(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		HGET nosuch f
		HMGET nosuch a b
		HGETALL nosuch
		HKEYS nosuch
		HVALS nosuch
		HLEN nosuch
		HEXISTS nosuch f
		HSTRLEN nosuch f
		HDEL nosuch f
		HRANDFIELD nosuch
		HRANDFIELD nosuch 5
		HRANDFIELD nosuch -5 WITHVALUES
		HRANDFIELD nosuch 0
		HSCAN nosuch 0
		# options are not even parsed for a missing key
		HSCAN nosuch 0 COUNT 0
		HSCAN nosuch 0 BADOPT
		HSCAN nosuch abc
		EXISTS nosuch
	`)
}

// A hash left empty is deleted, whatever empties it.
func TestHashesEmptyDeleted(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		HSET h a 1 b 2
		HDEL h a nosuch
		EXISTS h
		HDEL h b a
		EXISTS h
		TYPE h
		HGETALL h
		HLEN h
		# deleting from a missing key creates nothing
		HDEL h a
		EXISTS h
		HSET h a 1
		HDEL h a a a
		EXISTS h
		DBSIZE
		# failed writes do not leave an empty hash behind
		HINCRBY n f abc
		HINCRBYFLOAT n f abc
		HINCRBYFLOAT n f inf
		HSET n f
		EXISTS n
		DBSIZE
	`)
}

func TestHashesIncr(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		HINCRBY h i 1
		HINCRBY h i -11
		HINCRBY h i 9223372036854775807
		HINCRBY h i 9223372036854775807
		HGET h i
		HSET h max 9223372036854775807 min -9223372036854775808
		HINCRBY h max 1
		HINCRBY h max 0
		HINCRBY h max -1
		HINCRBY h min -1
		HINCRBY h min 1
		HINCRBY h i abc
		HINCRBY h i 1.5
		HINCRBY h i ""
		HINCRBY h i 9223372036854775808
		HINCRBY h i " 1"
		HSET h s abc lead 007 sp " 5" fl 1.5 e ""
		HINCRBY h s 1
		HINCRBY h lead 1
		HINCRBY h sp 1
		HINCRBY h fl 1
		HINCRBY h e 1
		HINCRBY h neg -5
		HGETALL h

		HINCRBYFLOAT f a 1.5
		HINCRBYFLOAT f a -0.1
		HINCRBYFLOAT f a 1e3
		HINCRBYFLOAT f a 2.5e-3
		HINCRBYFLOAT f b 3
		HINCRBYFLOAT f b 0
		HINCRBYFLOAT f c -0
		HINCRBYFLOAT f d 0.1
		HINCRBYFLOAT f d 0.2
		HINCRBYFLOAT f a abc
		HINCRBYFLOAT f a ""
		HINCRBYFLOAT f a inf
		HINCRBYFLOAT f a -inf
		HINCRBYFLOAT f a nan
		HINCRBYFLOAT f a 1e400
		HINCRBYFLOAT f a " 1"
		HSET f s abc in inf big 1e308 int 10 sp " 1"
		HINCRBYFLOAT f s 1
		HINCRBYFLOAT f in 1
		HINCRBYFLOAT f big 1e308
		HINCRBYFLOAT f sp 1
		HINCRBYFLOAT f int 0.5
		HINCRBYFLOAT f int 5.0e3
		HINCRBY f int 1
		# 1e400 and 2e308 are longer than 64 bytes: a hashtable now
		@unordered HGETALL f
	`)
	// A result longer than hash-max-listpack-value makes the hash a
	// hashtable: its order is then Redis's own.
	x.Do(t, "HSET", "g", "x", "1.5", "y", "2")
	x.Do(t, "HINCRBYFLOAT", "g", "x", "1e300")
	x.DoUnordered(t, "HGETALL", "g")
	x.Do(t, "HLEN", "g")
}

// Hash commands on a string reply WRONGTYPE (after their own argument
// checks, in Redis's order); string commands on a hash are checked by
// TestStringsWrongType.
func TestHashesWrongType(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SET s v
		HSET s f v
		HSET s f
		HMSET s f v
		HSETNX s f v
		HGET s f
		HMGET s f g
		HGETALL s
		HKEYS s
		HVALS s
		HDEL s f
		HEXISTS s f
		HLEN s
		HSTRLEN s f
		HINCRBY s f 1
		HINCRBY s f abc
		HINCRBYFLOAT s f 1
		HINCRBYFLOAT s f abc
		HINCRBYFLOAT s f inf
		HRANDFIELD s
		HRANDFIELD s 0
		HRANDFIELD s -3 WITHVALUES
		HRANDFIELD s 1 BAD
		HRANDFIELD s abc
		HSCAN s 0
		HSCAN s 0 COUNT 0
		HSCAN s abc
		GET s
		TYPE s
		HSET h f v
		GET h
		SET h x GET
		INCR h
		APPEND h x
		STRLEN h
		MGET h s
		LCS h s
		TYPE h
		SET h str
		TYPE h
		GET h
	`)
}

// Every change keeps the key's TTL; a hash emptied and made again has none.
func TestHashesTTL(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		HSET h a 1 b 2
		PEXPIREAT h 4102444800123
		HSET h c 3
		PEXPIRETIME h
		HMSET h a 10
		PEXPIRETIME h
		HSETNX h d 4
		PEXPIRETIME h
		HSETNX h d 5
		PEXPIRETIME h
		HINCRBY h a 1
		PEXPIRETIME h
		HINCRBYFLOAT h b 1.5
		PEXPIRETIME h
		HDEL h a
		PEXPIRETIME h
		HDEL h nosuch
		PEXPIRETIME h
		HGETALL h
		HDEL h b c d
		EXISTS h
		HSET h a 1
		PEXPIRETIME h
		TTL h
		EXPIRE h 100
		TTL h
		HSET h x y
		TTL h
		PERSIST h
		TTL h
		# a big hash keeps its TTL too
		PEXPIREAT h 4102444800123
		HSET h long 01234567890123456789012345678901234567890123456789012345678901234567890123456789
		PEXPIRETIME h
	`)
	// An expired hash is gone, for every command.
	x.Do(t, "HSET", "gone", "a", "1")
	x.Do(t, "PEXPIREAT", "gone", "1000")
	x.Do(t, "EXISTS", "gone")
	x.Do(t, "HGET", "gone", "a")
	x.Do(t, "HLEN", "gone")
	x.Do(t, "HSET", "gone", "b", "2")
	x.Do(t, "HGETALL", "gone")
	x.Do(t, "TTL", "gone")
}

// bigField is the i-th field name of a test hash.
func bigField(i int) string { return "field:" + strconv.Itoa(i) }

// Past hash-max-listpack-entries (512) or hash-max-listpack-value (64)
// Redis keeps a hashtable, whose order is its own: replies are compared
// unordered.
func TestHashesBig(t *testing.T) {
	x := newDiff(t, nil, nil)
	objEnc := strDuraKnows(t, x, "OBJECT", "ENCODING", "nosuch")
	enc := func(key string) {
		t.Helper()
		if objEnc {
			x.Do(t, "OBJECT", "ENCODING", key)
		}
	}

	// 512 fields (hash-max-listpack-entries): still a listpack, exact;
	// 513: a hashtable.
	args := []string{"HSET", "h"}
	for i := 0; i < 512; i++ {
		args = append(args, bigField(i), strconv.Itoa(i*7))
	}
	x.Do(t, args...)
	enc("h")
	x.Do(t, "HGETALL", "h")
	x.Do(t, "HSCAN", "h", "0")
	x.Do(t, "HRANDFIELD", "h", "600", "WITHVALUES")
	x.Do(t, "HSET", "h", "one-more", "x")
	enc("h")
	x.Do(t, "HLEN", "h")
	x.DoUnordered(t, "HGETALL", "h")
	x.DoUnordered(t, "HKEYS", "h")
	x.DoUnordered(t, "HVALS", "h")
	x.DoUnordered(t, "HRANDFIELD", "h", "513")
	x.DoUnordered(t, "HRANDFIELD", "h", "1000", "WITHVALUES")
	// Shrinking does not make it a listpack again.
	x.Do(t, "HDEL", "h", bigField(0), bigField(1), bigField(2))
	enc("h")
	x.Do(t, "HLEN", "h")
	x.DoUnordered(t, "HGETALL", "h")

	// A value or a field longer than 64 bytes.
	long := strings.Repeat("v", 65)
	x.Do(t, "HSET", "v", "a", "1", "b", strings.Repeat("v", 64))
	enc("v")
	x.Do(t, "HGETALL", "v")
	x.Do(t, "HSET", "v", "c", long)
	enc("v")
	x.DoUnordered(t, "HGETALL", "v")
	x.Do(t, "HSET", "v", "c", "short")
	enc("v")
	x.Do(t, "HSET", "f", strings.Repeat("f", 65), "1", "a", "2")
	enc("f")
	x.DoUnordered(t, "HGETALL", "f")
	x.Do(t, "HINCRBY", "i", strings.Repeat("f", 65), "1")
	enc("i")
	// HSETNX on an existing field converts nothing.
	x.Do(t, "HSET", "n", "a", "1")
	x.Do(t, "HSETNX", "n", "a", long)
	enc("n")
	x.Do(t, "HSETNX", "n", "b", long)
	enc("n")
	x.DoUnordered(t, "HGETALL", "n")

	// A big hash built in steps, then read every way.
	for i := 0; i < 1000; i += 100 {
		args := []string{"HSET", "b"}
		for j := i; j < i+100; j++ {
			args = append(args, bigField(j), strings.Repeat("x", j%80))
		}
		x.Do(t, args...)
	}
	x.Do(t, "HLEN", "b")
	x.DoUnordered(t, "HGETALL", "b")
	x.DoUnordered(t, "HKEYS", "b")
	x.DoUnordered(t, "HVALS", "b")
	x.Do(t, "HGET", "b", bigField(999))
	x.Do(t, "HSTRLEN", "b", bigField(79))
	x.Do(t, "HEXISTS", "b", bigField(1000))
	mget := []string{"HMGET", "b"}
	for i := 0; i < 1100; i += 37 {
		mget = append(mget, bigField(i))
	}
	x.Do(t, mget...)
	del := []string{"HDEL", "b"}
	for i := 0; i < 1000; i += 3 {
		del = append(del, bigField(i))
	}
	x.Do(t, del...)
	x.Do(t, "HLEN", "b")
	x.DoUnordered(t, "HGETALL", "b")
	x.Do(t, "HINCRBY", "b", bigField(1), "5")
	x.Do(t, "HGET", "b", bigField(1))

	// HSCAN: Redis walks a hashtable in steps; we answer at once with
	// cursor 0. A full iteration returns the same pairs.
	for _, opts := range [][]string{nil, {"COUNT", "7"}, {"MATCH", "field:1*"}, {"MATCH", "*9", "COUNT", "1000"}} {
		want := hscanAll(t, x.R, "b", opts)
		got := hscanAll(t, x.D, "b", opts)
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("HSCAN b %v: redis %d pairs, durastore %d pairs", opts, len(want), len(got))
		}
		if len(want) == 0 {
			t.Errorf("HSCAN b %v: no pairs at all", opts)
		}
		r := x.D.Do(append([]string{"HSCAN", "b", "0"}, opts...)...)
		if reply, ok := parseReply(r).([]any); !ok || len(reply) != 2 || reply[0] != "0" {
			t.Errorf("durastore HSCAN b %v did not finish in one call: %q", opts, r)
		}
	}
}

// hscanAll iterates HSCAN to the end and returns the "field=value" pairs,
// sorted, failing on a duplicate field.
func hscanAll(t *testing.T, c *RawConn, key string, opts []string) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	cursor := "0"
	for {
		r := c.Do(append([]string{"HSCAN", key, cursor}, opts...)...)
		reply, ok := parseReply(r).([]any)
		if !ok || len(reply) != 2 {
			t.Fatalf("HSCAN %s %s: %q", key, cursor, r)
		}
		elems := reply[1].([]any)
		for i := 0; i+1 < len(elems); i += 2 {
			f := elems[i].(string)
			if seen[f] {
				t.Errorf("HSCAN %s: field %q returned twice", key, f)
			}
			seen[f] = true
			out = append(out, f+"="+elems[i+1].(string))
		}
		cursor = reply[0].(string)
		if cursor == "0" {
			break
		}
	}
	sort.Strings(out)
	return out
}

func TestHashesScan(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		HSET h a 1 b 2 c 3 ab 4 "x y" 5 "\x00" 6 A 7
		HSCAN h 0
		HSCAN h 17
		HSCAN h 0 COUNT 1
		HSCAN h 0 count 1000
		HSCAN h 0 MATCH a*
		HSCAN h 0 MATCH *
		HSCAN h 0 MATCH "x *"
		HSCAN h 0 MATCH [ab]
		HSCAN h 0 match a* COUNT 2 MATCH b*
		HSCAN h 0 MATCH nothing
		HSCAN h 0 MATCH "\x00"
		HSCAN h 0 COUNT 0
		HSCAN h 0 COUNT -1
		HSCAN h 0 COUNT abc
		HSCAN h 0 COUNT
		HSCAN h 0 MATCH
		HSCAN h 0 TYPE hash
		HSCAN h 0 NOVALUES
		HSCAN h 0 BADOPT x
		HSCAN h abc
		HSCAN h -1
		HSCAN h 18446744073709551616
		HSCAN h ""
	`)
}

// hrandReply parses an HRANDFIELD reply into fields and, WITHVALUES,
// values: a flat array in RESP2, an array of pairs in RESP3.
func hrandReply(raw string, withValues bool) (fields, values []string, ok bool) {
	elems, isArr := parseReply(raw).([]any)
	if !isArr {
		return nil, nil, false
	}
	switch {
	case !withValues:
		for _, e := range elems {
			s, ok := e.(string)
			if !ok {
				return nil, nil, false
			}
			fields = append(fields, s)
		}
	case strings.HasPrefix(raw, "*") && len(elems) > 0 && isPairs(elems):
		for _, e := range elems {
			p := e.([]any)
			fields, values = append(fields, p[0].(string)), append(values, p[1].(string))
		}
	default:
		if len(elems)%2 != 0 {
			return nil, nil, false
		}
		for i := 0; i < len(elems); i += 2 {
			f, ok1 := elems[i].(string)
			v, ok2 := elems[i+1].(string)
			if !ok1 || !ok2 {
				return nil, nil, false
			}
			fields, values = append(fields, f), append(values, v)
		}
	}
	return fields, values, true
}

func isPairs(elems []any) bool {
	for _, e := range elems {
		p, ok := e.([]any)
		if !ok || len(p) != 2 {
			return false
		}
		if _, ok := p[0].(string); !ok {
			return false
		}
		if _, ok := p[1].(string); !ok {
			return false
		}
	}
	return true
}

// hrandCheck returns a DoMatch check for a random HRANDFIELD reply: both
// servers reply with the same shape and length, fields of hash, distinct
// when unique, values matching their fields.
func hrandCheck(t *testing.T, hash map[string]string, want int, unique, withValues, resp3 bool) func(r, d string) bool {
	return func(r, d string) bool {
		for _, raw := range []string{r, d} {
			fields, values, ok := hrandReply(raw, withValues)
			if !ok || len(fields) != want {
				t.Logf("bad HRANDFIELD reply (want %d fields): %q", want, raw)
				return false
			}
			if withValues && resp3 != strings.HasPrefix(raw, fmt.Sprintf("*%d\r\n*2\r\n", want)) {
				t.Logf("HRANDFIELD WITHVALUES shape (resp3 %v): %q", resp3, raw)
				return false
			}
			seen := map[string]bool{}
			for i, f := range fields {
				v, in := hash[f]
				if !in || (unique && seen[f]) || (withValues && values[i] != v) {
					t.Logf("HRANDFIELD field %q (in hash %v, repeated %v): %q", f, in, seen[f], raw)
					return false
				}
				seen[f] = true
			}
		}
		return true
	}
}

func TestHashesRandField(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			x := newDiff(t, nil, nil)
			if proto == 3 {
				x.R.Do("HELLO", "3")
				x.D.Do("HELLO", "3")
			}
			hash := map[string]string{}
			args := []string{"HSET", "h"}
			for i := 0; i < 10; i++ {
				f, v := "f"+strconv.Itoa(i), "v"+strconv.Itoa(i)
				hash[f] = v
				args = append(args, f, v)
			}
			x.Do(t, args...)
			resp3 := proto == 3
			one := func(r, d string) bool {
				rf, _ := parseReply(r).(string)
				df, _ := parseReply(d).(string)
				_, rin := hash[rf]
				_, din := hash[df]
				return rin && din
			}
			for i := 0; i < 20; i++ {
				x.DoMatch(t, one, "HRANDFIELD", "h")
				x.DoMatch(t, hrandCheck(t, hash, 1, true, false, resp3), "HRANDFIELD", "h", "1")
				x.DoMatch(t, hrandCheck(t, hash, 3, true, false, resp3), "HRANDFIELD", "h", "3")
				x.DoMatch(t, hrandCheck(t, hash, 9, true, true, resp3), "HRANDFIELD", "h", "9", "WITHVALUES")
				x.DoMatch(t, hrandCheck(t, hash, 7, true, true, resp3), "HRANDFIELD", "h", "7", "withvalues")
				x.DoMatch(t, hrandCheck(t, hash, 25, false, false, resp3), "HRANDFIELD", "h", "-25")
				x.DoMatch(t, hrandCheck(t, hash, 5, false, true, resp3), "HRANDFIELD", "h", "-5", "WITHVALUES")
				x.DoMatch(t, hrandCheck(t, hash, 1, false, true, resp3), "HRANDFIELD", "h", "-1", "WITHVALUES")
			}
			// A count at least the size returns the whole (listpack) hash
			// in order: exact.
			x.Script(t, `
				HRANDFIELD h 10
				HRANDFIELD h 11 WITHVALUES
				HRANDFIELD h 9223372036854775807
				HRANDFIELD h 4611686018427387903 WITHVALUES
				HRANDFIELD h 0
				HRANDFIELD h 0 WITHVALUES
				HRANDFIELD h -0
				HRANDFIELD h abc
				HRANDFIELD h 1.5
				HRANDFIELD h ""
				HRANDFIELD h 1 WITHVALUE
				HRANDFIELD h 1 WITHVALUES x
				HRANDFIELD h abc WITHVALUES
				HRANDFIELD h -9223372036854775808
				HRANDFIELD h 9223372036854775808
				HRANDFIELD h 4611686018427387904 WITHVALUES
				HRANDFIELD h -4611686018427387904 WITHVALUES
				HRANDFIELD h -4611686018427387903 WITHVALUES x
				HSET one f v
				HRANDFIELD one
				HRANDFIELD one -3
				HRANDFIELD one -3 WITHVALUES
				HRANDFIELD one 1 WITHVALUES
			`)
			// Over the whole run, every field comes up.
			seen := map[string]bool{}
			for i := 0; i < 200 && len(seen) < len(hash); i++ {
				fields, _, ok := hrandReply(x.D.Do("HRANDFIELD", "h", "-5"), false)
				if !ok {
					t.Fatal("bad HRANDFIELD reply")
				}
				for _, f := range fields {
					seen[f] = true
				}
			}
			if len(seen) != len(hash) {
				t.Errorf("HRANDFIELD -5 x200 saw %d of %d fields", len(seen), len(hash))
			}
		})
	}
}

// A negative count asks for that many fields, repeats allowed: Redis would
// build any size of reply; durastore refuses one that would not fit in
// memory instead of dying.
func TestHashesRandFieldHugeCount(t *testing.T) {
	p := startDurastore(t)
	c := p.Dial(t)
	c.Do("HSET", "h", "a", "1")
	for _, args := range [][]string{
		{"HRANDFIELD", "h", "-9223372036854775807"},
		{"HRANDFIELD", "h", "-4611686018427387903", "WITHVALUES"},
	} {
		if r := c.Do(args...); !strings.HasPrefix(r, "-ERR ") {
			t.Errorf("%v = %q, want an error", args, r)
		}
	}
	fields, _, ok := hrandReply(c.Do("HRANDFIELD", "h", "-100000"), false)
	if !ok || len(fields) != 100000 || fields[0] != "a" || fields[99999] != "a" {
		t.Errorf("HRANDFIELD h -100000: %d fields, ok %v", len(fields), ok)
	}
	if r := c.Do("PING"); r != "+PONG\r\n" {
		t.Errorf("PING after HRANDFIELD = %q", r)
	}
}

// RESP3: HGETALL is a map, nulls are _, HRANDFIELD WITHVALUES pairs are
// arrays of 2; the rest stays as in RESP2.
func TestHashesRESP3(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.R.Do("HELLO", "3")
	x.D.Do("HELLO", "3")
	x.Script(t, `
		HGETALL nosuch
		HKEYS nosuch
		HGET nosuch f
		HMGET nosuch a b
		HRANDFIELD nosuch
		HRANDFIELD nosuch 3 WITHVALUES
		HSCAN nosuch 0
		HSET h b 1 a 2 c 3
		HGETALL h
		HKEYS h
		HVALS h
		HGET h a
		HGET h nosuch
		HMGET h a nosuch c
		HEXISTS h a
		HEXISTS h nosuch
		HLEN h
		HSTRLEN h a
		HINCRBY h a 5
		HINCRBYFLOAT h a 0.5
		HINCRBYFLOAT h a abc
		HRANDFIELD h 3
		HRANDFIELD h 3 WITHVALUES
		HRANDFIELD h 10 WITHVALUES
		HSCAN h 0
		HSCAN h 0 MATCH a
		HSETNX h a 1
		HMSET h d 4
		HDEL h a b c d
		HGETALL h
		SET s v
		HGETALL s
	`)
	x.Do(t, "HSET", "big", "long", strings.Repeat("x", 100), "a", "1", "b", "2")
	x.DoUnordered(t, "HGETALL", "big")
	x.DoUnordered(t, "HRANDFIELD", "big", "5", "WITHVALUES")
}

// A pipeline sent in one write gets the same replies, in order, errors in
// the middle included; batches span many commands on the same hash.
func TestHashesPipeline(t *testing.T) {
	x := newDiff(t, nil, nil)
	cmds := [][]string{
		{"HSET", "p", "a", "1", "b", "2"},
		{"HINCRBY", "p", "a", "1"},
		{"HINCRBY", "p", "a", "x"},
		{"HSET", "p", "c"},
		{"HMSET", "p", "c", "3", "d"},
		{"HMSET", "p", "c", "3", "d", "4"},
		{"HGETALL", "p"},
		{"HDEL", "p", "b"},
		{"HSETNX", "p", "b", "5"},
		{"HMGET", "p", "a", "b", "zz"},
		{"NOSUCHCOMMAND", "x"},
		{"HINCRBYFLOAT", "p", "f", "0.25"},
		{"HSTRLEN", "p", "f"},
		{"SET", "s", "v"},
		{"HGET", "s", "a"},
		{"HLEN", "p"},
		{"HKEYS", "p"},
		{"HVALS", "p"},
		{"HSCAN", "p", "0", "MATCH", "[ab]"},
		{"HDEL", "p", "a", "b", "c", "d", "f"},
		{"EXISTS", "p"},
		{"HEXISTS", "p", "a"},
	}
	var buf bytes.Buffer
	const rounds = 50
	for i := 0; i < rounds; i++ {
		for _, c := range cmds {
			buf.Write(encodeCommand(c...))
		}
	}
	x.R.SendRaw(buf.Bytes())
	x.D.SendRaw(buf.Bytes())
	for i := 0; i < rounds; i++ {
		for _, c := range cmds {
			r, d := x.R.ReadReply(), x.D.ReadReply()
			if r != d {
				t.Fatalf("round %d: %v", i, x.mismatch(c, r, d, errors.New("replies differ")))
			}
		}
	}
}

// Field names and values are binary safe.
func TestHashesBinarySafe(t *testing.T) {
	x := newDiff(t, nil, nil)
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	vals := []string{"\x00", "a\x00b", "\r\n", "$3\r\nfoo\r\n", "*1\r\n", string(all[:60]), string(all), string(all[100:200])}
	for _, v := range vals {
		// Pairs longer than 64 bytes make a hashtable: they go apart.
		k := "bin\x00key\r\n0"
		if len(v) > 64 {
			k = "bin\x00key\r\n1"
		}
		x.Do(t, "HSET", k, v, v+"!")
		x.Do(t, "HGET", k, v)
		x.Do(t, "HSTRLEN", k, v)
		x.Do(t, "HEXISTS", k, v)
	}
	x.Do(t, "HGETALL", "bin\x00key\r\n0")
	x.DoUnordered(t, "HGETALL", "bin\x00key\r\n1")
	x.Do(t, "HSCAN", "bin\x00key\r\n0", "0", "MATCH", "\x00")
}

// A random mix of hash commands over a few small hashes (listpacks, so
// every reply is exact), with a fixed seed.
func TestHashesRandomized(t *testing.T) {
	x := newDiff(t, nil, nil)
	rng := rand.New(rand.NewPCG(7, 8))
	keys := []string{"h1", "h2", "h3"}
	key := func() string { return keys[rng.IntN(len(keys))] }
	field := func() string { return []string{"a", "b", "c", "d", "e", "f", "", "x\x00y", "10", "-1"}[rng.IntN(10)] }
	num := func() string {
		switch rng.IntN(5) {
		case 0:
			return strconv.Itoa(rng.IntN(2000) - 1000)
		case 1:
			return strconv.FormatInt(rng.Int64(), 10)
		case 2:
			return "-" + strconv.FormatInt(rng.Int64(), 10)
		case 3:
			return []string{"0", "-1", "abc", "", "1.5", "007", "1e3", "-0.25"}[rng.IntN(8)]
		}
		return strconv.Itoa(rng.IntN(100))
	}
	val := func() string {
		if rng.IntN(3) == 0 {
			return num()
		}
		return strRandString(rng, "ab1\x00\r\n", rng.IntN(12))
	}
	for i := 0; i < 3000; i++ {
		var args []string
		switch rng.IntN(16) {
		case 0, 1:
			args = []string{"HSET", key(), field(), val()}
			if rng.IntN(2) == 0 {
				args = append(args, field(), val())
			}
		case 2:
			args = []string{"HMSET", key(), field(), val()}
		case 3:
			args = []string{"HSETNX", key(), field(), val()}
		case 4:
			args = []string{"HDEL", key(), field(), field()}
		case 5:
			args = []string{"HGET", key(), field()}
		case 6:
			args = []string{"HMGET", key(), field(), field(), field()}
		case 7:
			args = []string{"HGETALL", key()}
		case 8:
			args = []string{[]string{"HKEYS", "HVALS", "HLEN"}[rng.IntN(3)], key()}
		case 9:
			args = []string{"HINCRBY", key(), field(), num()}
		case 10:
			args = []string{"HINCRBYFLOAT", key(), field(), num()}
		case 11:
			args = []string{"HSTRLEN", key(), field()}
		case 12:
			args = []string{"HEXISTS", key(), field()}
		case 13:
			args = []string{"HSCAN", key(), "0", "MATCH", []string{"*", "a*", "?", "[a-c]", "1*"}[rng.IntN(5)]}
		case 14:
			args = []string{"HRANDFIELD", key(), "20", "WITHVALUES"}
		case 15:
			args = []string{"EXISTS", key()}
		}
		if _, _, err := x.Try(args...); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

// Reads count keyspace hits and misses as Redis's lookupKeyRead does;
// writes count none.
func TestHashesKeyspaceStats(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Do(t, "CONFIG", "RESETSTAT")
	x.Script(t, `
		HSET h a 1
		HGET h a
		HGET nosuch a
		HMGET h a b
		HGETALL nosuch
		HKEYS h
		HLEN h
		HEXISTS nosuch a
		HSTRLEN h a
		HRANDFIELD h
		HRANDFIELD nosuch 2
		HSCAN h 0
		HINCRBY h n 1
		HDEL h n
		HSETNX h a 2
	`)
	stat := func(c *RawConn, name string) string {
		info, _ := parseReply(c.Do("INFO", "stats")).(string)
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				return v
			}
		}
		return "?"
	}
	for _, name := range []string{"keyspace_hits", "keyspace_misses"} {
		if r, d := stat(x.R, name), stat(x.D, name); r != d {
			t.Errorf("%s: redis %s, durastore %s", name, r, d)
		}
	}
}

// go-redis drives the hash commands against durastore over RESP3 (its
// default) and RESP2.
func TestHashesGoRedis(t *testing.T) {
	p := startDurastore(t)
	for _, proto := range []int{3, 2} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ctx := context.Background()
			rdb := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: proto, DB: proto})
			defer rdb.Close()
			key := fmt.Sprintf("session:%d", proto)

			if n, err := rdb.HSet(ctx, key, "user", "ann", "visits", 1, "cart", "\x00{}\r\n").Result(); err != nil || n != 3 {
				t.Fatalf("HSet = %d, %v", n, err)
			}
			if n, err := rdb.HSet(ctx, key, map[string]any{"user": "bob", "lang": "fr"}).Result(); err != nil || n != 1 {
				t.Errorf("HSet map = %d, %v", n, err)
			}
			all, err := rdb.HGetAll(ctx, key).Result()
			want := map[string]string{"user": "bob", "visits": "1", "cart": "\x00{}\r\n", "lang": "fr"}
			if err != nil || fmt.Sprint(all) != fmt.Sprint(want) {
				t.Errorf("HGetAll = %v, %v", all, err)
			}
			if n, err := rdb.HIncrBy(ctx, key, "visits", 41).Result(); err != nil || n != 42 {
				t.Errorf("HIncrBy = %d, %v", n, err)
			}
			if _, err := rdb.HIncrBy(ctx, key, "user", 1).Result(); err == nil || err.Error() != "ERR hash value is not an integer" {
				t.Errorf("HIncrBy on a word = %v", err)
			}
			if f, err := rdb.HIncrByFloat(ctx, key, "score", 2.5).Result(); err != nil || f != 2.5 {
				t.Errorf("HIncrByFloat = %v, %v", f, err)
			}
			if v, err := rdb.HGet(ctx, key, "visits").Result(); err != nil || v != "42" {
				t.Errorf("HGet = %q, %v", v, err)
			}
			if _, err := rdb.HGet(ctx, key, "nosuch").Result(); err != redis.Nil {
				t.Errorf("HGet missing = %v, want redis.Nil", err)
			}
			vals, err := rdb.HMGet(ctx, key, "user", "nosuch", "lang").Result()
			if err != nil || len(vals) != 3 || vals[0] != "bob" || vals[1] != nil || vals[2] != "fr" {
				t.Errorf("HMGet = %#v, %v", vals, err)
			}
			if keys, err := rdb.HKeys(ctx, key).Result(); err != nil || strings.Join(keys, ",") != "user,visits,cart,lang,score" {
				t.Errorf("HKeys = %v, %v", keys, err)
			}
			if ok, err := rdb.HSetNX(ctx, key, "user", "eve").Result(); err != nil || ok {
				t.Errorf("HSetNX existing = %v, %v", ok, err)
			}
			if ok, err := rdb.HExists(ctx, key, "score").Result(); err != nil || !ok {
				t.Errorf("HExists = %v, %v", ok, err)
			}
			if n, err := rdb.HLen(ctx, key).Result(); err != nil || n != 5 {
				t.Errorf("HLen = %d, %v", n, err)
			}
			fv, err := rdb.HRandFieldWithValues(ctx, key, 2).Result()
			if err != nil || len(fv) != 2 || fv[0].Key == fv[1].Key {
				t.Errorf("HRandFieldWithValues = %v, %v", fv, err)
			}
			for _, kv := range fv {
				if v, err := rdb.HGet(ctx, key, kv.Key).Result(); err != nil || v != kv.Value {
					t.Errorf("HRandFieldWithValues pair %q=%q, HGet %q %v", kv.Key, kv.Value, v, err)
				}
			}
			scanned, cursor, err := rdb.HScan(ctx, key, 0, "*s*", 10).Result()
			if err != nil || cursor != 0 || strings.Join(scanned, ",") != "user,bob,visits,42,score,2.5" {
				t.Errorf("HScan = %q %d, %v", scanned, cursor, err)
			}
			if n, err := rdb.HDel(ctx, key, "user", "visits", "cart", "lang", "score").Result(); err != nil || n != 5 {
				t.Errorf("HDel = %d, %v", n, err)
			}
			if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
				t.Errorf("Exists after emptying = %d, %v", n, err)
			}

			pipe := rdb.Pipeline()
			hset := pipe.HSet(ctx, key, "a", "1")
			incr := pipe.HIncrBy(ctx, key, "a", 2)
			get := pipe.HGetAll(ctx, key)
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatalf("pipeline: %v", err)
			}
			if hset.Val() != 1 || incr.Val() != 3 || get.Val()["a"] != "3" {
				t.Errorf("pipeline replies: %d %d %v", hset.Val(), incr.Val(), get.Val())
			}
		})
	}
}

// A hash survives a restart with its order, its TTL and its encoding.
func TestHashesPersist(t *testing.T) {
	p := startDurastore(t, "--appendonly", "yes")
	c := p.Dial(t)
	c.Do("HSET", "h", "z", "1", "a", "2", "m", "3")
	c.Do("HDEL", "h", "a")
	c.Do("HSET", "h", "a", "4")
	c.Do("PEXPIREAT", "h", "4102444800123")
	before := c.Do("HGETALL", "h")
	p.Restart(t)
	c = p.Dial(t)
	if after := c.Do("HGETALL", "h"); after != before {
		t.Errorf("HGETALL after restart %q, before %q", after, before)
	}
	if r := c.Do("PEXPIRETIME", "h"); r != ":4102444800123\r\n" {
		t.Errorf("PEXPIRETIME after restart %q", r)
	}
}
