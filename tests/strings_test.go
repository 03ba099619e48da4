package tests

// Differential tests of the string commands (commands/strings.go) against
// redis-server 7.0: every command, its errors, TTL interplay, binary-safe
// and large values, pipelines, RESP3, and a go-redis client.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// strDuraKnows reports whether durastore knows a command, by sending it
// with harmless arguments. Some string tests lean on commands of other
// families (TTL, RPUSH, HELLO...): they are skipped, saying so, until
// those exist.
func strDuraKnows(t *testing.T, x *Diff, args ...string) bool {
	t.Helper()
	r := x.D.Do(args...)
	return !strings.HasPrefix(r, "-ERR unknown command")
}

func strNeed(t *testing.T, x *Diff, args ...string) {
	t.Helper()
	if !strDuraKnows(t, x, args...) {
		t.Skipf("durastore does not implement %s yet", strings.ToUpper(args[0]))
	}
}

// strWrongType makes key a non-string on both servers with whichever
// collection command durastore implements, or skips the test.
func strWrongType(t *testing.T, x *Diff, key string) {
	t.Helper()
	for _, args := range [][]string{
		{"RPUSH", key, "a"}, {"SADD", key, "a"}, {"HSET", key, "f", "v"}, {"ZADD", key, "1", "a"},
	} {
		if strDuraKnows(t, x, args...) {
			x.R.Do(args...)
			x.Do(t, "GET", key)
			return
		}
	}
	t.Fatal("durastore knows none of RPUSH, SADD, HSET, ZADD: no non-string type to test with")
}

func TestStringsArity(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SETNX
		SETNX k
		SETNX k v extra
		SETEX k 10
		SETEX k 10 v extra
		PSETEX k 10
		PSETEX k 10 v extra
		GETSET k
		GETSET k v extra
		GETDEL
		GETDEL k extra
		GETEX
		MGET
		MSET
		MSET k
		MSET k v k2
		MSET k v k2 v2 k3
		MSETNX
		MSETNX k
		MSETNX k v k2
		INCR
		INCR k extra
		INCRBY k
		INCRBY k 1 extra
		DECR
		DECR k extra
		DECRBY k
		DECRBY k 1 extra
		INCRBYFLOAT k
		INCRBYFLOAT k 1 extra
		APPEND k
		APPEND k v extra
		STRLEN
		STRLEN k extra
		GETRANGE k 0
		GETRANGE k 0 1 extra
		SUBSTR k 0
		SUBSTR k 0 1 extra
		SETRANGE k 0
		SETRANGE k 0 v extra
		LCS
		LCS a
		# nothing of the above wrote anything
		EXISTS k k2 k3 a
	`)
}

func TestStringsSetFamily(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SETNX k v1
		SETNX k v2
		GET k
		SETNX K v3
		GET K
		SETNX empty ""
		GET empty
		STRLEN empty

		SETEX ex 100 v
		GET ex
		SETEX ex 0 v
		SETEX ex -1 v
		SETEX ex abc v
		SETEX ex 1.5 v
		SETEX ex " 10" v
		SETEX ex 010 v
		SETEX ex 9223372036854775807 v
		SETEX ex 9223372036854775 v
		SETEX ex 9223372036854776 v
		SETEX ex 9223372036854775808 v
		SETEX newkey 0 v
		EXISTS newkey
		GET ex

		PSETEX px 100000 v
		GET px
		PSETEX px 0 v
		PSETEX px -5 v
		PSETEX px x v
		PSETEX px 9223372036854775807 v
		PSETEX px 9223372036854775806 v
		GET px

		GETSET gs a
		GETSET gs b
		GET gs
		GETSET gs ""
		GET gs
		GETSET k 12
		INCR k

		GETDEL k
		GETDEL k
		EXISTS k
		GETDEL nosuch
		SET n 42
		GETDEL n
		GET n
	`)
}

func TestStringsGetEx(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SET k v
		GETEX k
		GETEX nosuch
		GETEX k EX 100
		GETEX k PX 100000
		GETEX k EXAT 4102444800
		GETEX k PXAT 4102444800000
		GETEX k PERSIST
		GETEX k persist
		GETEX k ex 100 ex 200
		GETEX k Px 5000 pX 6000

		# syntax errors, always checked first
		GETEX k EX
		GETEX k PX
		GETEX k EXAT
		GETEX k PXAT
		GETEX k EX 10 PX 10
		GETEX k PX 10 EX 10
		GETEX k EX 10 EXAT 10
		GETEX k PXAT 10 EX 10
		GETEX k EX 10 PERSIST
		GETEX k PERSIST EX 10
		GETEX k PERSIST PERSIST
		GETEX k KEEPTTL
		GETEX k NX
		GETEX k XX
		GETEX k GET
		GETEX k FOO
		GETEX nosuch FOO
		GETEX nosuch EX

		# expiry values are only validated once the key is found
		GETEX k EX 0
		GETEX k EX -1
		GETEX k EX abc
		GETEX k PX 0
		GETEX k EXAT 0
		GETEX k PXAT -1
		GETEX k EX 9223372036854775807
		GETEX k EX 9223372036854776
		GETEX k PX 9223372036854775807
		GETEX nosuch EX 0
		GETEX nosuch EX abc
		GETEX nosuch PXAT -1
		GET k

		# an absolute time in the past deletes the key after replying
		GETEX k EXAT 1
		EXISTS k
		SET k2 v2
		GETEX k2 PXAT 1000
		EXISTS k2
		GET k2
	`)
}

func TestStringsMultiKey(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		MSET a 1 b 2 c 3
		MGET a b c nosuch a
		MSET a 10 a 11
		GET a
		MSET x
		MSET x 1 y
		MSET x 1 y 2 z
		MGET x y z

		MSETNX a 1 new 2
		EXISTS new
		MSETNX n1 1 n2 2
		MGET n1 n2
		MSETNX n3 1 n3 2
		GET n3
		MSETNX n4 1 n5
		EXISTS n4 n5
		MSETNX n1 x
		GET n1

		MGET nosuch1 nosuch2
		MSET "" empty
		MGET ""
	`)
}

func TestStringsIncrDecr(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		INCR n
		INCR n
		DECR n
		DECR n
		DECR n
		INCRBY n 100
		INCRBY n -200
		DECRBY n 50
		DECRBY n -50
		GET n
		INCRBY n 0
		INCRBY n abc
		INCRBY n 1.5
		INCRBY n " 1"
		INCRBY n 01
		INCRBY n +1
		INCRBY n 9223372036854775808
		INCRBY n ""
		DECRBY n abc
		DECRBY n -9223372036854775808
		DECRBY n 9223372036854775807

		SET s abc
		INCR s
		SET s " 1"
		INCR s
		SET s "1 "
		INCR s
		SET s 007
		INCR s
		SET s -0
		INCR s
		SET s +5
		INCR s
		SET s ""
		INCR s
		SET s 1.0
		INCR s
		SET s 123456789012345678901
		INCR s
		SET s "1\x00"
		INCR s
		GET s

		SET max 9223372036854775807
		INCR max
		INCRBY max 1
		DECR max
		INCR max
		GET max
		SET min -9223372036854775808
		DECR min
		DECRBY min 1
		INCRBY min -1
		INCR min
		INCRBY min 9223372036854775807
		INCRBY min 9223372036854775807
		GET min
		SET z -1
		INCRBY z -9223372036854775808
		DECRBY z 9223372036854775807
		DECRBY z 1
	`)
}

func TestStringsIncrByFloat(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		INCRBYFLOAT f 10.5
		INCRBYFLOAT f 0.1
		INCRBYFLOAT f -5
		INCRBYFLOAT f 5.0e3
		INCRBYFLOAT f 2.0e2
		GET f
		INCRBYFLOAT g 0.1
		INCRBYFLOAT g 0.2
		INCRBYFLOAT h 1000
		INCRBYFLOAT h 0.1
		INCRBYFLOAT i 1e300
		INCRBYFLOAT j -1.5
		INCRBYFLOAT j 1.5
		INCRBYFLOAT k 3
		INCRBYFLOAT l 1e-20
		INCRBYFLOAT m 0x10
		INCRBYFLOAT m " 1"
		INCRBYFLOAT m "1 "
		INCRBYFLOAT m abc
		INCRBYFLOAT m ""
		INCRBYFLOAT m nan
		INCRBYFLOAT m inf
		INCRBYFLOAT m -inf
		INCRBYFLOAT m 1e5000
		EXISTS m
		SET big 1e4932
		INCRBYFLOAT big 1e4932
		SET s abc
		INCRBYFLOAT s 1
		SET s inf
		INCRBYFLOAT s 1
		SET s "1.5 "
		INCRBYFLOAT s 1
		SET s 17
		INCRBYFLOAT s 0.25
		INCRBYFLOAT s abc
		GET s
		SET s 1.5
		INCRBYFLOAT s 1.5e1
	`)
}

func TestStringsAppendStrlen(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		APPEND a hello
		APPEND a " world"
		GET a
		STRLEN a
		APPEND a ""
		STRLEN a
		APPEND e ""
		EXISTS e
		GET e
		STRLEN nosuch
		SET n 10
		APPEND n 5
		INCR n
		STRLEN n
		APPEND bin "\x00\r\n\xff"
		STRLEN bin
		GET bin
	`)
}

func TestStringsRanges(t *testing.T) {
	x := newDiff(t, nil, nil)
	var script strings.Builder
	script.WriteString("SET s \"This is a string\"\nSET e \"\"\nSET n 12345\n")
	idx := []string{"0", "1", "3", "-1", "-2", "-3", "-16", "-17", "-100", "15", "16", "100",
		"9223372036854775807", "-9223372036854775808"}
	for _, key := range []string{"s", "e", "n", "nosuch"} {
		for _, a := range idx {
			for _, b := range idx {
				fmt.Fprintf(&script, "GETRANGE %s %s %s\n", key, a, b)
			}
		}
	}
	x.Script(t, script.String())
	x.Script(t, `
		SUBSTR s 0 3
		SUBSTR s -3 -1
		SUBSTR nosuch 0 -1
		GETRANGE s a 1
		GETRANGE s 0 b
		GETRANGE nosuch a b
		GETRANGE s 9223372036854775808 1
		SUBSTR s 0 1.5

		SETRANGE r 0 hello
		SETRANGE r 3 LLOOO
		GET r
		SETRANGE r 10 X
		GET r
		STRLEN r
		SETRANGE r 1 ""
		SETRANGE r 100 ""
		GET r
		SETRANGE missing 0 ""
		SETRANGE missing 5 ""
		EXISTS missing
		SETRANGE pad 3 abc
		GET pad
		SETRANGE r -1 x
		SETRANGE r -1 ""
		SETRANGE missing -1 x
		SETRANGE r abc x
		SETRANGE r 1.5 x
		SETRANGE r 9223372036854775808 x
		SETRANGE r 536870912 x
		SETRANGE r 536870911 xy
		SETRANGE missing 536870912 x
		SETRANGE missing 9223372036854775807 x
		SETRANGE missing 536870912 ""
		EXISTS missing
		GET r
		SET num 12345
		SETRANGE num 2 X
		GET num
		INCR num
	`)
}

func TestStringsLCS(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		MSET a ohmytext b mynewtext
		LCS a b
		LCS a b LEN
		LCS a b len
		LCS a b IDX
		LCS a b idx WITHMATCHLEN
		LCS a b IDX MINMATCHLEN 4
		LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN
		LCS a b IDX MINMATCHLEN -5 WITHMATCHLEN
		LCS a b MINMATCHLEN 4
		LCS a b WITHMATCHLEN
		LCS a b LEN WITHMATCHLEN
		LCS a b LEN IDX
		LCS a b IDX LEN
		LCS a b IDX MINMATCHLEN
		LCS a b IDX MINMATCHLEN x
		LCS a b IDX MINMATCHLEN 1.5
		LCS a b FOO
		LCS a b IDX FOO LEN
		LCS a nosuch
		LCS nosuch a IDX
		LCS nosuch1 nosuch2
		LCS nosuch1 nosuch2 LEN
		LCS nosuch1 nosuch2 IDX WITHMATCHLEN
		LCS a a IDX WITHMATCHLEN
		LCS b a IDX WITHMATCHLEN
		MSET x "\x00\r\nab\x00c" y "ab\r\n\x00c"
		LCS x y
		LCS x y IDX WITHMATCHLEN
		MSET p ABCBDAB q BDCABA
		LCS p q
		LCS p q IDX
		LCS q p IDX WITHMATCHLEN MINMATCHLEN 2
		MSET n1 12345 n2 2345
		LCS n1 n2 IDX
	`)
	// The transient table (alen+1)*(blen+1)*4 bytes may not exceed
	// proto-max-bulk-len: Redis refuses rather than allocate it.
	long := strings.Repeat("abc", 10000)
	x.Do(t, "MSET", "l1", long, "l2", long)
	x.Do(t, "LCS", "l1", "l2")
	x.Do(t, "LCS", "l1", "l2", "LEN")
	x.Do(t, "LCS", "l1", "a", "IDX")
	x.Do(t, "LCS", "a", "l1", "IDX", "MINMATCHLEN", "3")
	// Random strings over a small alphabet give many scattered matches.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 40; i++ {
		a, b := strRandString(rng, "abc", 1+rng.IntN(40)), strRandString(rng, "abcd", rng.IntN(40))
		x.Do(t, "MSET", "ra", a, "rb", b)
		x.Do(t, "LCS", "ra", "rb")
		x.Do(t, "LCS", "ra", "rb", "LEN")
		x.Do(t, "LCS", "ra", "rb", "IDX", "WITHMATCHLEN")
		x.Do(t, "LCS", "rb", "ra", "IDX", "MINMATCHLEN", strconv.Itoa(rng.IntN(4)))
	}
}

func strRandString(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func TestStringsWrongType(t *testing.T) {
	x := newDiff(t, nil, nil)
	strWrongType(t, x, "w")
	x.Script(t, `
		SET s str
		GET w
		SETNX w v
		GETSET w v
		GETDEL w
		GETEX w
		GETEX w EX 10
		GETEX w EX abc
		GETEX w PERSIST
		GETEX w BADOPT
		MGET s w nosuch
		MSETNX w v new v
		EXISTS new
		INCR w
		DECR w
		INCRBY w 5
		INCRBY w abc
		DECRBY w 5
		DECRBY w -9223372036854775808
		INCRBYFLOAT w 1.5
		INCRBYFLOAT w abc
		APPEND w x
		STRLEN w
		GETRANGE w 0 -1
		GETRANGE w a b
		SUBSTR w 0 -1
		SETRANGE w 0 x
		SETRANGE w 0 ""
		SETRANGE w -1 x
		SETRANGE w 536870912 x
		LCS w s
		LCS s w
		LCS s w LEN
		LCS s w BADOPT
		LCS w nosuch IDX LEN
		SET w v GET
		# these replace the value whatever its type
		MSET w v
		GET w
	`)
	strWrongType(t, x, "w2")
	x.Do(t, "SETEX", "w2", "100", "v")
	x.Do(t, "GET", "w2")
	strWrongType(t, x, "w3")
	x.Do(t, "PSETEX", "w3", "100000", "v")
	x.Do(t, "GET", "w3")
}

// TTL interplay: commands that modify a string in place keep its TTL;
// commands that set a new value drop it.
func TestStringsTTL(t *testing.T) {
	x := newDiff(t, nil, nil)
	strNeed(t, x, "TTL", "nosuch")
	strNeed(t, x, "PTTL", "nosuch")
	x.Script(t, `
		SET n 10 EX 100
		INCR n
		TTL n
		INCRBY n 5
		DECR n
		DECRBY n 2
		TTL n
		INCRBYFLOAT n 1.5
		TTL n
		APPEND n x
		TTL n
		SETRANGE n 0 y
		TTL n
		SETRANGE n 0 ""
		TTL n
		GET n

		SET k v EX 100
		GETSET k v2
		TTL k
		SET k v EX 100
		SET k v3
		TTL k
		SET k v EX 100
		MSET k v4
		TTL k
		SET k v EX 100
		MSETNX k v5
		TTL k
		SETNX k v6
		TTL k
		SET k v EX 100
		SETEX k 200 v7
		TTL k
		SET k v EX 100 KEEPTTL
		SET k v KEEPTTL
		TTL k
		SETEX k 300 v
		PSETEX k 400000 v
		TTL k

		SET g v EX 100
		GETEX g
		TTL g
		GETEX g EX 500
		TTL g
		GETEX g PERSIST
		TTL g
		GETEX g PERSIST
		TTL g
		GETEX g EX 0
		TTL g
		GETEX g PX 700000
		TTL g
		GETDEL g
		TTL g

		APPEND fresh x
		TTL fresh
		INCR fresh2
		TTL fresh2
		SETRANGE fresh3 2 x
		TTL fresh3
	`)
	near := func(want int64) func(r, d string) bool {
		return func(r, d string) bool {
			rv, rok := parseReply(r).(int64)
			dv, dok := parseReply(d).(int64)
			return rok && dok && rv <= want && dv <= want && rv > want-5000 && dv > want-5000
		}
	}
	x.Do(t, "PSETEX", "p", "100000", "v")
	x.DoMatch(t, near(100000), "PTTL", "p")
	x.Do(t, "INCRBYFLOAT", "p", "1") // not a float: nothing changes
	x.Do(t, "SET", "p", "1")
	x.Do(t, "PSETEX", "p", "100000", "1")
	x.Do(t, "INCRBYFLOAT", "p", "1")
	x.DoMatch(t, near(100000), "PTTL", "p")
	x.Do(t, "GETEX", "p", "PX", "200000")
	x.DoMatch(t, near(200000), "PTTL", "p")
	if strDuraKnows(t, x, "PEXPIRETIME", "nosuch") {
		// Absolute expiries are exact on both sides.
		x.Script(t, `
			SET a v
			GETEX a EXAT 4102444800
			PEXPIRETIME a
			GETEX a PXAT 4102444800123
			PEXPIRETIME a
			APPEND a x
			PEXPIRETIME a
			SETRANGE a 0 z
			PEXPIRETIME a
			SET c 5 PXAT 4102444800123
			INCR c
			PEXPIRETIME c
		`)
	}
}

// Values are binary safe: NUL bytes, CR LF and every byte value survive
// every command.
func TestStringsBinarySafe(t *testing.T) {
	x := newDiff(t, nil, nil)
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	vals := []string{"\x00", "a\x00b", "\r\n", "line1\r\nline2\r\n", "$3\r\nfoo\r\n", "*1\r\n", string(all)}
	for i, v := range vals {
		k := "bin\x00key\r\n" + strconv.Itoa(i)
		x.Do(t, "SET", k, v)
		x.Do(t, "GET", k)
		x.Do(t, "STRLEN", k)
		x.Do(t, "APPEND", k, v)
		x.Do(t, "GETRANGE", k, "1", "-2")
		x.Do(t, "SETRANGE", k, "2", "\r\n\x00")
		x.Do(t, "GETSET", k, v+"\x00")
		x.Do(t, "MGET", k, "nosuch", k)
		x.Do(t, "GETEX", k)
		x.Do(t, "SETNX", k, "x")
		x.Do(t, "MSETNX", k+"\x00", v)
		x.Do(t, "GETDEL", k+"\x00")
		x.Do(t, "LCS", k, k)
		x.Do(t, "LCS", k, k, "IDX", "WITHMATCHLEN")
	}
	x.Do(t, "MSET", "\x00", "\r\n", "\r\n", "\x00")
	x.Do(t, "MGET", "\x00", "\r\n")
	x.Do(t, "SETEX", "e\x00", "100", "\x00\r\n")
	x.Do(t, "GET", "e\x00")
	x.Do(t, "PSETEX", "e\r\n", "100000", "\r\n\x00")
	x.Do(t, "GET", "e\r\n")
}

// Large values (1 MB and more) through every command.
func TestStringsLargeValues(t *testing.T) {
	x := newDiff(t, nil, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rng.IntN(256))
	}
	v := string(big)
	x.Do(t, "SET", "big", v)
	x.Do(t, "GET", "big")
	x.Do(t, "STRLEN", "big")
	x.Do(t, "APPEND", "big", v)
	x.Do(t, "STRLEN", "big")
	x.Do(t, "GETRANGE", "big", "1048570", "1048600")
	x.Do(t, "GETRANGE", "big", "-10", "-1")
	x.Do(t, "SETRANGE", "big", "3000000", "tail")
	x.Do(t, "STRLEN", "big")
	x.Do(t, "GETRANGE", "big", "2097150", "2097160")
	x.Do(t, "GETRANGE", "big", "0", "-1")
	x.Do(t, "GETSET", "big", v[:1000])
	x.Do(t, "MSET", "b1", v, "b2", v[1:])
	x.Do(t, "MGET", "b1", "b2", "big")
	x.Do(t, "GETEX", "b1", "EX", "100")
	x.Do(t, "SETEX", "b3", "100", v)
	x.Do(t, "GETDEL", "b3")
	x.Do(t, "LCS", "b1", "b2", "LEN") // table too large: refused alike
	x.Do(t, "SETRANGE", "b4", "1048576", "x")
	x.Do(t, "GETRANGE", "b4", "1048570", "-1")
	x.Do(t, "INCR", "b1")
	x.Do(t, "INCRBYFLOAT", "b1", "1")
}

// A pipeline sent in one write gets the same replies, in order, as from
// Redis, with errors in the middle not disturbing the commands around
// them.
func TestStringsPipeline(t *testing.T) {
	x := newDiff(t, nil, nil)
	cmds := [][]string{
		{"SET", "p", "1"},
		{"INCR", "p"},
		{"INCRBY", "p", "x"},
		{"MSET", "a"},
		{"MSET", "a", "1", "b"},
		{"MSET", "a", "1", "b", "2"},
		{"MGET", "a", "b", "p", "nosuch"},
		{"GETDEL", "a"},
		{"GETEX", "b", "FOO"},
		{"APPEND", "b", "\r\n\x00"},
		{"STRLEN", "b"},
		{"NOSUCHCOMMAND", "x"},
		{"SETRANGE", "b", "-1", "x"},
		{"SETRANGE", "b", "5", "xyz"},
		{"GET", "b"},
		{"INCR"},
		{"INCRBYFLOAT", "f", "1.25"},
		{"LCS", "b", "f", "IDX"},
		{"MSETNX", "a", "1", "b", "2"},
		{"MSETNX", "a", "1", "c", "2"},
		{"GETSET", "c", "3"},
		{"SETNX", "c", "4"},
		{"GETRANGE", "c", "0", "-1"},
		{"DECRBY", "p", "-9223372036854775808"},
		{"SETEX", "s", "0", "v"},
		{"PSETEX", "s", "100000", "v"},
		{"GET", "s"},
	}
	// Many rounds of the same commands in one write: batches span them.
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
	x.Do(t, "MGET", "a", "b", "c", "p", "f", "s")
}

// A random mix of string commands over a few keys, with a fixed seed:
// both servers must agree on every reply.
func TestStringsRandomized(t *testing.T) {
	x := newDiff(t, nil, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	keys := []string{"k1", "k2", "k3"}
	key := func() string { return keys[rng.IntN(len(keys))] }
	num := func() string {
		switch rng.IntN(6) {
		case 0:
			return strconv.Itoa(rng.IntN(2000) - 1000)
		case 1:
			return strconv.FormatInt(rng.Int64(), 10)
		case 2:
			return "-" + strconv.FormatInt(rng.Int64(), 10)
		case 3:
			return strconv.Itoa(rng.IntN(20) - 10)
		case 4:
			return []string{"0", "-1", "abc", "", "1.5", "007"}[rng.IntN(6)]
		}
		return strconv.Itoa(rng.IntN(100))
	}
	flt := func() string {
		return []string{"1.5", "-0.1", "0.1", "1e3", "2.5e-3", "100", "-7", "3.14159", "x", "1e400"}[rng.IntN(10)]
	}
	str := func() string { return strRandString(rng, "ab1\x00\r\n", rng.IntN(12)) }
	for i := 0; i < 3000; i++ {
		var args []string
		switch rng.IntN(17) {
		case 0:
			args = []string{"SET", key(), []string{num(), str(), flt()}[rng.IntN(3)]}
		case 1:
			args = []string{"INCR", key()}
		case 2:
			args = []string{"INCRBY", key(), num()}
		case 3:
			args = []string{"DECRBY", key(), num()}
		case 4:
			args = []string{"INCRBYFLOAT", key(), flt()}
		case 5:
			args = []string{"APPEND", key(), str()}
		case 6:
			args = []string{"GETRANGE", key(), num(), num()}
		case 7:
			args = []string{"SETRANGE", key(), strconv.Itoa(rng.IntN(20) - 2), str()}
		case 8:
			args = []string{"STRLEN", key()}
		case 9:
			args = []string{"MGET", key(), key(), key()}
		case 10:
			args = []string{"MSETNX", key(), str(), key(), str()}
		case 11:
			args = []string{"GETDEL", key()}
		case 12:
			args = []string{"GETSET", key(), str()}
		case 13:
			args = []string{"LCS", key(), key(), []string{"LEN", "IDX", "WITHMATCHLEN", "MINMATCHLEN"}[rng.IntN(4)], "1"}
		case 14:
			args = []string{"SETNX", key(), str()}
		case 15:
			args = []string{"DECR", key()}
		case 16:
			args = []string{"GET", key()}
		}
		if _, _, err := x.Try(args...); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

// RESP3 changes null and map replies (GET, MGET, GETEX, LCS IDX).
func TestStringsRESP3(t *testing.T) {
	x := newDiff(t, nil, nil)
	strNeed(t, x, "HELLO", "3")
	x.R.Do("HELLO", "3")
	x.Script(t, `
		GET nosuch
		GETSET nosuch v
		GETDEL nosuch2
		GETEX nosuch2 PERSIST
		MGET nosuch nosuch v
		SET v x
		MSET a ohmytext b mynewtext
		LCS a b IDX WITHMATCHLEN
		LCS a b IDX MINMATCHLEN 10
		LCS a b LEN
		INCRBYFLOAT f 1.5
		SET k v NX GET
	`)
}

// go-redis, the most used Go client, drives the string commands against
// durastore and gets what it expects, over RESP3 (its default) and RESP2.
func TestStringsGoRedis(t *testing.T) {
	p := startDurastore(t)
	for _, proto := range []int{3, 2} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ctx := context.Background()
			rdb := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: proto, DB: proto})
			defer rdb.Close()
			pre := fmt.Sprintf("gr%d:", proto)

			if n, err := rdb.Incr(ctx, pre+"n").Result(); err != nil || n != 1 {
				t.Fatalf("Incr = %d, %v", n, err)
			}
			if n, err := rdb.IncrBy(ctx, pre+"n", 41).Result(); err != nil || n != 42 {
				t.Errorf("IncrBy = %d, %v", n, err)
			}
			if n, err := rdb.Decr(ctx, pre+"n").Result(); err != nil || n != 41 {
				t.Errorf("Decr = %d, %v", n, err)
			}
			if f, err := rdb.IncrByFloat(ctx, pre+"n", 0.5).Result(); err != nil || f != 41.5 {
				t.Errorf("IncrByFloat = %v, %v", f, err)
			}
			if f, err := rdb.IncrByFloat(ctx, pre+"f", 10.5).Result(); err != nil || f != 10.5 {
				t.Errorf("IncrByFloat new key = %v, %v", f, err)
			}
			if _, err := rdb.Incr(ctx, pre+"n").Result(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
				t.Errorf("Incr on a float = %v, want ERR value is not an integer", err)
			}
			if err := rdb.MSet(ctx, pre+"a", "1", pre+"b", "two", pre+"c", "\x00\r\n").Err(); err != nil {
				t.Fatalf("MSet: %v", err)
			}
			vals, err := rdb.MGet(ctx, pre+"a", pre+"nosuch", pre+"b", pre+"c").Result()
			if err != nil || len(vals) != 4 || vals[0] != "1" || vals[1] != nil || vals[2] != "two" || vals[3] != "\x00\r\n" {
				t.Errorf("MGet = %#v, %v", vals, err)
			}
			if ok, err := rdb.MSetNX(ctx, pre+"a", "x", pre+"z", "y").Result(); err != nil || ok {
				t.Errorf("MSetNX over an existing key = %v, %v", ok, err)
			}
			if v, err := rdb.GetEx(ctx, pre+"b", 100*time.Second).Result(); err != nil || v != "two" {
				t.Errorf("GetEx EX = %q, %v", v, err)
			}
			if v, err := rdb.GetEx(ctx, pre+"b", 1500*time.Millisecond).Result(); err != nil || v != "two" {
				t.Errorf("GetEx PX = %q, %v", v, err)
			}
			if v, err := rdb.GetEx(ctx, pre+"b", 0).Result(); err != nil || v != "two" {
				t.Errorf("GetEx PERSIST = %q, %v", v, err)
			}
			if _, err := rdb.GetEx(ctx, pre+"nosuch", time.Second).Result(); err != redis.Nil {
				t.Errorf("GetEx on a missing key = %v, want redis.Nil", err)
			}
			if v, err := rdb.GetDel(ctx, pre+"a").Result(); err != nil || v != "1" {
				t.Errorf("GetDel = %q, %v", v, err)
			}
			if _, err := rdb.Get(ctx, pre+"a").Result(); err != redis.Nil {
				t.Errorf("Get after GetDel = %v, want redis.Nil", err)
			}

			// SetArgs: NX, XX, GET, TTL, KEEPTTL, ExpireAt.
			if s, err := rdb.SetArgs(ctx, pre+"s", "v1", redis.SetArgs{Mode: "NX", TTL: time.Minute}).Result(); err != nil || s != "OK" {
				t.Errorf("SetArgs NX = %q, %v", s, err)
			}
			if _, err := rdb.SetArgs(ctx, pre+"s", "v2", redis.SetArgs{Mode: "NX"}).Result(); err != redis.Nil {
				t.Errorf("SetArgs NX on an existing key = %v, want redis.Nil", err)
			}
			if s, err := rdb.SetArgs(ctx, pre+"s", "v3", redis.SetArgs{Mode: "XX", Get: true, KeepTTL: true}).Result(); err != nil || s != "v1" {
				t.Errorf("SetArgs XX GET KEEPTTL = %q, %v", s, err)
			}
			if s, err := rdb.SetArgs(ctx, pre+"s", "v4", redis.SetArgs{ExpireAt: time.Now().Add(time.Hour), Get: true}).Result(); err != nil || s != "v3" {
				t.Errorf("SetArgs EXAT GET = %q, %v", s, err)
			}
			if _, err := rdb.SetArgs(ctx, pre+"new", "v", redis.SetArgs{Mode: "XX"}).Result(); err != redis.Nil {
				t.Errorf("SetArgs XX on a missing key = %v, want redis.Nil", err)
			}
			if v, err := rdb.Get(ctx, pre+"s").Result(); err != nil || v != "v4" {
				t.Errorf("Get = %q, %v", v, err)
			}

			// A pipeline of them.
			pipe := rdb.Pipeline()
			incr := pipe.Incr(ctx, pre+"pn")
			incrf := pipe.IncrByFloat(ctx, pre+"pn", 1.5)
			app := pipe.Append(ctx, pre+"pa", "abc")
			rng := pipe.GetRange(ctx, pre+"pa", 1, -1)
			setr := pipe.SetRange(ctx, pre+"pa", 5, "z")
			strl := pipe.StrLen(ctx, pre+"pa")
			setnx := pipe.SetNX(ctx, pre+"pa", "x", 0)
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatalf("pipeline: %v", err)
			}
			if incr.Val() != 1 || incrf.Val() != 2.5 || app.Val() != 3 || rng.Val() != "bc" ||
				setr.Val() != 6 || strl.Val() != 6 || setnx.Val() {
				t.Errorf("pipeline replies: %d %v %d %q %d %d %v", incr.Val(), incrf.Val(), app.Val(),
					rng.Val(), setr.Val(), strl.Val(), setnx.Val())
			}
			if lcs, err := rdb.LCS(ctx, &redis.LCSQuery{Key1: pre + "pa", Key2: pre + "b"}).Result(); err != nil || lcs.MatchString != "" {
				t.Errorf("LCS = %+v, %v", lcs, err)
			}
		})
	}
}
