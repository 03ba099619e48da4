package tests

// Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT against
// redis-server 7.0 (conversions, errors, the sandbox), plus atomicity
// under concurrency, BUSY and SCRIPT KILL, and go-redis/redis_rate giving
// the same decisions on both servers.

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

func TestScriptEvalDiff(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		# argument errors
		EVAL
		EVAL "return 1"
		EVAL "return 1" x
		EVAL "return 1" -1
		EVAL "return 1" 3 a
		EVAL "return 1" 99999999999999999999
		EVAL "return 1" 0 extra args
		# Lua -> Redis conversions
		EVAL "return 1" 0
		EVAL "return 3.99" 0
		EVAL "return -3.99" 0
		EVAL "return 'hello'" 0
		EVAL "return ''" 0
		EVAL "return true" 0
		EVAL "return false" 0
		EVAL "return nil" 0
		EVAL "return {1,2,3.7,'x',nil,5}" 0
		EVAL "return {1,{2,{3}},false,true}" 0
		EVAL "return {}" 0
		EVAL "return {ok='fine'}" 0
		EVAL "return {ok='a\\nb'}" 0
		EVAL "return {err='boom'}" 0
		EVAL "return {err='MY boom'}" 0
		EVAL "return {err=1}" 0
		EVAL "return {ok=1}" 0
		EVAL "return {double=1.5}" 0
		EVAL "return {double=0.1}" 0
		EVAL "return {big_number='123'}" 0
		EVAL "return {verbatim_string={format='txt', string='hi'}}" 0
		EVAL "return {map={a=1}}" 0
		EVAL "return {set={b=true}}" 0
		EVAL "return {1, {double=2.5}, {ok='x'}}" 0
		EVAL "return redis.error_reply('E1 x')" 0
		EVAL "return redis.error_reply('x')" 0
		EVAL "return redis.error_reply('-E1 xx')" 0
		EVAL "return redis.error_reply('-Exx')" 0
		EVAL "return redis.error_reply('')" 0
		EVAL "return redis.error_reply(1)" 0
		EVAL "return redis.status_reply('S')" 0
		EVAL "return redis.status_reply()" 0
		# KEYS and ARGV
		EVAL "return {KEYS[1], ARGV[1], #KEYS, #ARGV}" 2 k1 k2 a1
		EVAL "return #KEYS" 0
		EVAL "return ARGV" 0 a "b c" ""
		EVAL "local x = {} x[1]=1 table.insert(KEYS, 'z') return KEYS" 1 k
		# Redis -> Lua conversions
		SET s hello
		SET n 10
		EVAL "return redis.call('get', KEYS[1])" 1 s
		EVAL "return type(redis.call('get', 'nosuch'))" 0
		EVAL "return tostring(redis.call('get', 'nosuch'))" 0
		EVAL "return redis.call('incr', 'n') + 1" 0
		EVAL "return type(redis.call('incr', 'n'))" 0
		EVAL "return redis.call('set', 'x', 'y')" 0
		EVAL "return redis.call('set', 'x', 'y').ok" 0
		EVAL "return redis.call('mget', 's', 'nosuch', 'n')" 0
		EVAL "return type(redis.call('mget', 's', 'nosuch')[2])" 0
		EVAL "return redis.pcall('incr', 's')" 0
		EVAL "return redis.pcall('incr', 's').err" 0
		EVAL "return type(redis.pcall('incr', 's'))" 0
		EVAL "return redis.call('incr', 's')" 0
		EVAL "return redis.call('TIME')[1] > '0'" 0
		EVAL "return #redis.call('TIME')" 0
		EVAL "return redis.call('ping')" 0
		EVAL "return redis.call('echo', 'e')" 0
		# numbers as arguments use %.17g
		EVAL "return redis.call('set','f',3.14159)" 0
		GET f
		EVAL "return redis.call('set','f',0.1)" 0
		GET f
		EVAL "return redis.call('set','f',1e20)" 0
		GET f
		EVAL "return redis.call('set','f',-5)" 0
		GET f
		# redis.call / pcall errors
		EVAL "return redis.call('nosuch')" 0
		EVAL "return redis.call('get')" 0
		EVAL "return redis.call('set','a','b','c')" 0
		EVAL "return redis.pcall('set','a','b','c')" 0
		EVAL "return redis.call()" 0
		EVAL "return redis.pcall()" 0
		EVAL "return redis.call(1.5)" 0
		EVAL "return redis.call({})" 0
		EVAL "return redis.call('set','a',{})" 0
		EVAL "return redis.call('set','a',nil)" 0
		EVAL "return redis.call('set','a',true)" 0
		EVAL "return redis.call('multi')" 0
		EVAL "return redis.call('eval','return 1','0')" 0
		EVAL "return redis.call('client','nosuch')" 0
		EVAL "return redis.call('script','load','return 1')" 0
		EVAL "local t = redis.pcall('nosuch') return t.err" 0
		EVAL "local t = redis.pcall('incr','nosuch1','x') return t" 0
		EVAL "local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), type(e), e}" 0
		EVAL "\n\nreturn redis.call('nosuch')" 0
		EVAL "local function f() redis.call('nosuch') end\n\nf()" 0
		# Lua errors
		EVAL "return error('boom')" 0
		EVAL "error({err='MY boom'})" 0
		EVAL "error({err=5})" 0
		EVAL "error('x', 0)" 0
		EVAL "error()" 0
		EVAL "error(nil)" 0
		EVAL "error(12)" 0
		EVAL "local function f() error('deep') end\nf()" 0
		EVAL "local ok, e = pcall(function() error('x') end) return {tostring(ok), e}" 0
		EVAL "local ok, e = pcall(function() error({err='E y'}) end) return {tostring(ok), type(e), e}" 0
		EVAL "local ok, e = pcall(error) return {tostring(ok), type(e)}" 0
		EVAL "return 1 +" 0
		EVAL "return +" 0
		EVAL "x = = 1" 0
		EVAL "return 'abc" 0
		# the redis library
		EVAL "return redis.sha1hex('')" 0
		EVAL "return redis.sha1hex('abc')" 0
		EVAL "return redis.sha1hex()" 0
		EVAL "return redis.log(redis.LOG_WARNING, 'from a test')" 0
		EVAL "return redis.log(99, 'hi')" 0
		EVAL "return redis.log('x')" 0
		EVAL "return redis.log('x', 'y')" 0
		EVAL "return redis.replicate_commands()" 0
		EVAL "return redis.set_repl(redis.REPL_ALL)" 0
		EVAL "return redis.set_repl(99)" 0
		EVAL "return redis.set_repl()" 0
		EVAL "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}" 0
		EVAL "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}" 0
		EVAL "return redis.REDIS_VERSION" 0
		EVAL "return redis.REDIS_VERSION_NUM" 0
		EVAL "return redis.setresp(3)" 0
		EVAL "redis.setresp(4)" 0
		EVAL "redis.setresp()" 0
		EVAL "redis.setresp(3) return redis.call('get', 'nosuch')" 0
		EVAL "redis.setresp(3) return type(redis.call('get', 'nosuch'))" 0
		EVAL "return type(redis.breakpoint)" 0
		EVAL "return type(redis.acl_check_cmd)" 0
		# SELECT inside a script stays inside it
		EVAL "redis.call('select','1'); return redis.call('set','in1','v')" 0
		EXISTS in1
		SELECT 1
		GET in1
		SELECT 0
		# Lua 5.1 as Redis ships it
		EVAL "return _VERSION" 0
		EVAL "return tostring(0.1+0.2)" 0
		EVAL "return tostring(1e15)" 0
		EVAL "return tostring(1e100)" 0
		EVAL "return tostring(2^53)" 0
		EVAL "return tostring(1/0)" 0
		EVAL "return tostring(-1/0)" 0
		EVAL "return {tonumber('0x10'), tonumber('1e2'), tonumber(' 5 '), tonumber('5x')}" 0
		EVAL "return string.format('%d %s %5.2f', 3, 'x', 1.234)" 0
		EVAL "return string.rep('x', 3) .. ('y'):upper()" 0
		EVAL "return {string.byte('A'), string.char(66), string.len('abc'), string.sub('hello', 2, 3)}" 0
		EVAL "return {string.find('hello', 'l'), string.gsub('hello', 'l', 'L')}" 0
		EVAL "return table.concat({1, 2, 'x'}, ',')" 0
		EVAL "local t = {3, 1, 2} table.sort(t) return t" 0
		EVAL "return {math.floor(3.7), math.max(1, 5, 3), math.abs(-2), math.fmod(7, 3)}" 0
		EVAL "return select('#', 1, 2, 3)" 0
		EVAL "return {unpack({1, 2, 3})}" 0
		EVAL "local co = coroutine.create(function(a) coroutine.yield(a + 1) end) local ok, v = coroutine.resume(co, 1) return v" 0
		EVAL "return type(loadstring)" 0
		EVAL "return loadstring('return 40 + 2')()" 0
		EVAL "return type(_G)" 0
		EVAL "return type(getmetatable)" 0
		EVAL "return type(collectgarbage)" 0
		EVAL "return type(gcinfo)" 0
		# cjson, cmsgpack, bit, struct
		EVAL "return cjson.encode({1,2,{a=1}})" 0
		EVAL "return cjson.encode({a='x/y\\n'})" 0
		EVAL "return cjson.encode({b=true})" 0
		EVAL "return cjson.encode({c=cjson.null})" 0
		EVAL "return cjson.encode({1, cjson.null, 'a\\tb', '\\1'})" 0
		EVAL "return cjson.encode('\"q\"')" 0
		EVAL "return cjson.encode({})" 0
		EVAL "return cjson.encode(3.5)" 0
		EVAL "return cjson.decode('[1,2,{\"a\":1.5}]')[3].a * 2" 0
		EVAL "return cjson.decode('{\"k\":[1,\"two\",true,null]}').k[2]" 0
		EVAL "return cjson.decode('\"\\u00e9\"')" 0
		EVAL "return cjson.decode('[1,2')" 0
		EVAL "return cjson.encode(function() end)" 0
		EVAL "return cmsgpack.pack({1,2,3})" 0
		EVAL "return cmsgpack.pack('abc', 300, -5, true, 1.5)" 0
		EVAL "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3}))}" 0
		EVAL "return cmsgpack.unpack(cmsgpack.pack({a=7})).a" 0
		EVAL "return bit.band(0xff, 0x0f)" 0
		EVAL "return {bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4)}" 0
		EVAL "return {bit.tohex(255), bit.tohex(-1), bit.tohex(255, -4), bit.tobit(4294967297), bit.rol(1, 33), bit.bswap(0x12345678)}" 0
		EVAL "return struct.pack('>I2', 258)" 0
		EVAL "return struct.pack('<i4B', -2, 7)" 0
		EVAL "return {struct.unpack('>I2', struct.pack('>I2', 258))}" 0
		EVAL "return {struct.unpack('<hb', struct.pack('<hb', -300, -1))}" 0
		EVAL "return struct.size('>iIhd')" 0
		EVAL "return {struct.unpack('s', struct.pack('sB', 'ab', 9))}" 0
		FLUSHALL
	`)
}

func TestScriptSandboxDiff(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		EVAL "return x" 0
		EVAL "x = 1" 0
		EVAL "KEYS = 1" 0
		EVAL "redis = nil" 0
		EVAL "_G.x = 1" 0
		EVAL "return io" 0
		EVAL "return os.time()" 0
		EVAL "return require" 0
		EVAL "return dofile" 0
		EVAL "return loadfile" 0
		EVAL "return print" 0
		EVAL "return getfenv" 0
		EVAL "return setfenv" 0
		EVAL "return newproxy" 0
		EVAL "return module" 0
		EVAL "return debug" 0
		EVAL "return package" 0
		EVAL "string.upper = nil" 0
		EVAL "redis.call = nil" 0
		EVAL "math.x = 1" 0
		EVAL "cjson.encode = nil" 0
		EVAL "table.insert = nil" 0
		EVAL "return loadstring('return os')()" 0
		EVAL "return string.upper('still here')" 0
		EVAL "return redis.call('ping')" 0
	`)
}

// TestScriptSandboxEscapes tries ways out of the sandbox that Redis's
// replies do not all show; none may work, and none may leave anything for
// the next script.
func TestScriptSandboxEscapes(t *testing.T) {
	p := startDurastore(t)
	c := p.Dial(t)
	for _, script := range []string{
		"rawset(_G, 'x', 1)",
		"setmetatable(_G, nil)",
		"setmetatable(string, {})",
		"rawset(string, 'upper', 1)",
		"getmetatable('').__index.upper = nil",
		"getmetatable('').__index = nil",
		"local mt = getmetatable(_G) if mt then mt.__index = nil end error('x')",
		"return loadstring('x = 1')()",
		"return loadstring('return io.open')()",
		"return loadstring('return require')()",
		"local f = loadstring('os.exit(1)') return f()",
		"return coroutine.wrap(function() return io end)()",
		"return string.dump",
	} {
		r := c.Do("EVAL", script, "0")
		if !strings.HasPrefix(r, "-") && r != "$-1\r\n" {
			t.Errorf("EVAL %q = %q, want an error", script, r)
		}
	}
	// Nothing of the above stuck: globals, libraries and strings work.
	for script, want := range map[string]string{
		"return string.upper('a')":                        "$1\r\nA\r\n",
		"return ('b'):upper()":                            "$1\r\nB\r\n",
		"return type(rawget(_G, 'x'))":                    "$3\r\nnil\r\n",
		"return redis.call('ping')":                       "+PONG\r\n",
		"return tostring(pcall(function() return x end))": "$5\r\nfalse\r\n",
	} {
		if got := c.Do("EVAL", script, "0"); got != want {
			t.Errorf("EVAL %q = %q, want %q", script, got, want)
		}
	}
	if !p.Running() {
		t.Fatal("durastore exited")
	}
}

func TestScriptCacheDiff(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SCRIPT FLUSH
		EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
		EVALSHA fff 0
		EVALSHA_RO e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
		SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db x
		SCRIPT LOAD "return 1"
		SCRIPT LOAD "return +"
		SCRIPT LOAD "#!lua flags=foo\nreturn 1"
		SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db E0E1F9FABFC9D4800C877A703B823AC0578FF8DB x
		EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
		EVALSHA E0E1F9FABFC9D4800C877A703B823AC0578FF8DB 0
		EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db x
		EVAL "return ARGV[1]" 0 cached
		EVALSHA 6a7d3c3a6c3e5a7c6bb7b2e6c1a9a4b0e4b3a6c1 0
		SCRIPT EXISTS 5d28b77b0bcd7c9e3b74a6dd2f7a14a19d26e1f7
		SCRIPT FLUSH ASYNC
		SCRIPT FLUSH SYNC
		SCRIPT FLUSH x
		SCRIPT FLUSH sync x
		SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db
		EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
		SCRIPT
		SCRIPT FOO
		SCRIPT HELP
		SCRIPT HELP x
		SCRIPT LOAD
		SCRIPT EXISTS
		SCRIPT KILL
		SCRIPT KILL x
		SCRIPT DEBUG NO
		SCRIPT DEBUG maybe
		# EVAL_RO and no-writes scripts
		SET a 1
		EVAL_RO "return redis.call('get','a')" 0
		EVAL_RO "return redis.call('set','a','2')" 0
		EVAL_RO "return redis.pcall('set','a','2')" 0
		EVAL_RO "return redis.pcall('incr','a')" 0
		GET a
		EVAL "#!lua flags=no-writes\nreturn redis.call('set','a','2')" 0
		EVAL "#!lua flags=no-writes,allow-oom\nreturn redis.call('get','a')" 0
		EVAL "#!lua\nreturn 1" 0
		EVAL "#!lua flags=foo\nreturn 1" 0
		EVAL "#!foo\nreturn 1" 0
		EVAL "#!lua name=x\nreturn 1" 0
		SCRIPT LOAD "return redis.call('get', KEYS[1])"
		EVALSHA_RO 4e6d8fc8bb01276962cce5371fa795a7763657ae 1 a
		EVALSHA 4e6d8fc8bb01276962cce5371fa795a7763657ae 1 a
		FLUSHALL
	`)
	for _, name := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro", "script|load", "script|exists",
		"script|flush", "script|kill", "script|help", "script|debug", "multi", "exec", "discard", "watch", "unwatch"} {
		x.Do(t, "COMMAND", "INFO", name)
		x.Do(t, "COMMAND", "DOCS", name)
	}
	x.Do(t, "COMMAND", "GETKEYS", "EVAL", "return 1", "2", "k1", "k2", "a1")
	x.Do(t, "COMMAND", "GETKEYS", "WATCH", "a", "b")
}

// TestScriptRandomDiff: math.random is Redis's generator, same sequence
// from a fresh server.
func TestScriptRandomDiff(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Do(t, "EVAL", "return {math.random(1000), math.random(1000), math.random(5, 10)}", "0")
	x.Do(t, "EVAL", "math.randomseed(42) return {math.random(1000), math.random(1000)}", "0")
	x.Do(t, "EVAL", "return math.random(0)", "0")
	x.Do(t, "EVAL", "return math.random(5, 1)", "0")
}

func TestScriptRESP3Diff(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.DoMatch(t, func(r, d string) bool { return true }, "HELLO", "3")
	x.Script(t, `
		SET s v
		EVAL "return true" 0
		EVAL "return false" 0
		EVAL "return nil" 0
		EVAL "return {double=1.5}" 0
		EVAL "return {big_number='123456789012345678901234567890'}" 0
		EVAL "return {verbatim_string={format='txt', string='hi'}}" 0
		EVAL "return {map={a=1}}" 0
		EVAL "return {set={b=true}}" 0
		EVAL "redis.setresp(3) return true" 0
		EVAL "redis.setresp(3) return false" 0
		EVAL "redis.setresp(3) return redis.call('get', 'nosuch')" 0
		EVAL "redis.setresp(3) return redis.call('get', 's')" 0
		EVAL "redis.setresp(3) return redis.call('exists', 's')" 0
		EVAL "return redis.call('get', 'nosuch')" 0
	`)
}

// TestScriptAtomicLimiter: a Lua fixed-window limiter called by 100
// clients at once allows exactly its limit.
func TestScriptAtomicLimiter(t *testing.T) {
	p := startDurastore(t)
	const script = `
		local n = redis.call('INCR', KEYS[1])
		if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
		if n > tonumber(ARGV[1]) then return 0 end
		return 1`
	sha := parseReply(p.Dial(t).Do("SCRIPT", "LOAD", script)).(string)
	const clients, each, limit = 100, 10, 321
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		c := p.Dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < each; n++ {
				switch r := c.Do("EVALSHA", sha, "1", "lim", strconv.Itoa(limit), "60000"); r {
				case ":1\r\n":
					allowed.Add(1)
				case ":0\r\n":
				default:
					t.Errorf("EVALSHA = %q", r)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != limit {
		t.Fatalf("allowed %d, want %d", got, limit)
	}
	if got := p.Dial(t).Do("GET", "lim"); got != "$4\r\n1000\r\n" {
		t.Fatalf("GET lim = %q", got)
	}
}

// TestScriptBusyAndKill: a looping script makes other clients get BUSY
// once past busy-reply-threshold; SCRIPT KILL stops it; a killed script's
// writes are undone; the server serves again.
func TestScriptBusyAndKill(t *testing.T) {
	p := startDurastore(t, "--busy-reply-threshold", "100")
	for _, script := range []string{
		"local i = 0 while true do i = i + 1 end",
		"redis.call('set', 'written', '1') while true do end",
		"while true do pcall(function() while true do end end) end",
	} {
		runner := p.Dial(t)
		runner.Send("EVAL", script, "0")
		c := p.Dial(t)
		busy := false
		for i := 0; i < 500 && !busy; i++ {
			r := c.Do("PING")
			switch {
			case strings.HasPrefix(r, "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."):
				busy = true
			case r == "+PONG\r\n":
				time.Sleep(10 * time.Millisecond)
			default:
				t.Fatalf("PING = %q", r)
			}
		}
		if !busy {
			t.Fatalf("%q: never got BUSY", script)
		}
		// MULTI is allowed while busy; a queued command gets BUSY and
		// aborts the transaction.
		if r := c.Do("MULTI"); r != "+OK\r\n" {
			t.Fatalf("MULTI while busy = %q", r)
		}
		c.Do("GET", "x")
		if r := c.Do("EXEC"); !strings.HasPrefix(r, "-EXECABORT Transaction discarded because of: BUSY") {
			t.Fatalf("EXEC while busy = %q", r)
		}
		if r := c.Do("SCRIPT", "KILL"); r != "+OK\r\n" {
			t.Fatalf("SCRIPT KILL = %q", r)
		}
		r := runner.ReadReply()
		if !strings.HasPrefix(r, "-ERR Script killed by user with SCRIPT KILL... script: ") || !strings.HasSuffix(r, ", on @user_script:1.\r\n") {
			t.Fatalf("killed script replied %q", r)
		}
		if r := c.Do("PING"); r != "+PONG\r\n" {
			t.Fatalf("PING after kill = %q", r)
		}
		if r := c.Do("SCRIPT", "KILL"); r != "-NOTBUSY No scripts in execution right now.\r\n" {
			t.Fatalf("SCRIPT KILL with nothing running = %q", r)
		}
	}
	if r := p.Dial(t).Do("EXISTS", "written"); r != ":0\r\n" {
		t.Fatalf("a killed script's write survived: EXISTS = %q", r)
	}
}

// TestScriptRedisRate: go-redis/redis_rate's GCRA limiter (EVALSHA of its
// Lua script, falling back to EVAL) makes the same decisions against
// durastore as against redis-server, and exact ones under concurrency.
func TestScriptRedisRate(t *testing.T) {
	r := startRedis(t)
	d := startDurastore(t)
	ctx := context.Background()
	rr := redis.NewClient(&redis.Options{Addr: r.Addr})
	dr := redis.NewClient(&redis.Options{Addr: d.Addr})
	defer rr.Close()
	defer dr.Close()
	rl, dl := redis_rate.NewLimiter(rr), redis_rate.NewLimiter(dr)
	limit := redis_rate.PerMinute(10)
	for i := 0; i < 15; i++ {
		a, err := rl.Allow(ctx, "rate:a", limit)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dl.Allow(ctx, "rate:a", limit)
		if err != nil {
			t.Fatal(err)
		}
		if a.Allowed != b.Allowed || a.Remaining != b.Remaining || (a.RetryAfter < 0) != (b.RetryAfter < 0) {
			t.Fatalf("call %d: redis %+v, durastore %+v", i, a, b)
		}
	}
	for _, n := range []int{3, 20, 4} {
		a, err := rl.AllowN(ctx, "rate:n", limit, n)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dl.AllowN(ctx, "rate:n", limit, n)
		if err != nil {
			t.Fatal(err)
		}
		if a.Allowed != b.Allowed || a.Remaining != b.Remaining {
			t.Fatalf("AllowN(%d): redis %+v, durastore %+v", n, a, b)
		}
		a, err = rl.AllowAtMost(ctx, "rate:m", limit, n)
		if err != nil {
			t.Fatal(err)
		}
		b, err = dl.AllowAtMost(ctx, "rate:m", limit, n)
		if err != nil {
			t.Fatal(err)
		}
		if a.Allowed != b.Allowed || a.Remaining != b.Remaining {
			t.Fatalf("AllowAtMost(%d): redis %+v, durastore %+v", n, a, b)
		}
	}
	// The stored TAT carries a TTL on both.
	if ttl := dr.TTL(ctx, "rate:rate:a").Val(); ttl <= 0 {
		t.Fatalf("durastore TTL of the limiter key = %v", ttl)
	}

	// 100 clients, one limiter of 50 per hour: exactly 50 allowed.
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 5; n++ {
				res, err := dl.Allow(ctx, "rate:c", redis_rate.PerHour(50))
				if err != nil {
					t.Error(err)
					return
				}
				allowed.Add(int64(res.Allowed))
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 50 {
		t.Fatalf("allowed %d of 500 calls, want 50", got)
	}
}

// TestScriptLoopCannotHangShutdown: SHUTDOWN and SIGTERM stop the server
// while a script loops forever.
func TestScriptLoopCannotHangShutdown(t *testing.T) {
	for _, how := range []string{"SHUTDOWN", "SIGTERM"} {
		p := startDurastore(t, "--busy-reply-threshold", "50")
		runner := p.Dial(t)
		runner.Send("EVAL", "redis.call('set', 'k', 'v') while true do end", "0")
		waitBusy(t, p)
		if how == "SHUTDOWN" {
			p.Dial(t).Send("SHUTDOWN", "NOSAVE")
			if _, err := p.Wait(stopTimeout); err != nil {
				t.Fatalf("SHUTDOWN NOSAVE while a script loops: %v", err)
			}
			continue
		}
		if _, err := p.Stop(); err != nil {
			t.Fatalf("SIGTERM while a script loops: %v", err)
		}
	}
}

// waitBusy polls with PING until the server answers BUSY.
func waitBusy(t *testing.T, p *Proc) {
	t.Helper()
	c := p.Dial(t)
	defer c.Close()
	for i := 0; i < 500; i++ {
		r := c.Do("PING")
		if strings.HasPrefix(r, "-BUSY ") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("never got BUSY")
}
