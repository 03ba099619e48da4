package tests

// The compat client library against durastore and against a real
// redis-server: every test runs on both (named namespaces only where the
// server has them; against Redis they must fail with a clear error).

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"durastore/compat"
)

// compatServer is one server the compat tests run against.
type compatServer struct {
	name  string // "durastore" or "redis"
	proc  *Proc
	redis bool
}

func (s compatServer) client(t *testing.T, defaults ...compat.Option) *compat.Client {
	t.Helper()
	c := compat.NewClient(&redis.Options{Addr: s.proc.Addr}, defaults...)
	t.Cleanup(func() { c.Close() })
	return c
}

// raw is a plain go-redis client on database 0, to look behind compat.
func (s compatServer) raw(t *testing.T) *redis.Client {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: s.proc.Addr})
	t.Cleanup(func() { rc.Close() })
	return rc
}

// onBothServers runs fn against a fresh durastore and a fresh redis-server.
// Without redis-server installed the Redis half is skipped (failed with
// CI=true).
func onBothServers(t *testing.T, fn func(t *testing.T, s compatServer)) {
	t.Run("durastore", func(t *testing.T) {
		fn(t, compatServer{name: "durastore", proc: startDurastore(t)})
	})
	t.Run("redis", func(t *testing.T) {
		if redisServerPath() == "" && os.Getenv("CI") != "true" {
			t.Skip("redis-server not installed: compat against Redis not tested")
		}
		fn(t, compatServer{name: "redis", proc: startRedis(t), redis: true})
	})
}

// requireAtomicLimiter skips a rate-limiter test on a server that has
// neither CL.THROTTLE nor EVAL (durastore before they land).
func requireAtomicLimiter(t *testing.T, s compatServer) {
	t.Helper()
	rc := s.raw(t)
	for _, cmd := range []string{"cl.throttle", "evalsha"} {
		info, err := rc.Do(context.Background(), "COMMAND", "INFO", cmd).Slice()
		if err != nil {
			t.Fatal(err)
		}
		if len(info) == 1 && info[0] != nil {
			return
		}
	}
	if s.redis {
		t.Fatal("redis-server has no EVALSHA?")
	}
	t.Skipf("SKIPPING: %s has neither CL.THROTTLE nor EVALSHA yet, so CheckLimit cannot make an atomic decision there", s.name)
}

func TestCompatStorage(t *testing.T) {
	onBothServers(t, func(t *testing.T, s compatServer) {
		ctx := context.Background()
		c := s.client(t)
		rc := s.raw(t)

		if _, err := c.Get(ctx, "missing"); !errors.Is(err, compat.ErrNotFound) {
			t.Fatalf("Get missing: %v", err)
		}
		bin := []byte("bin\x00\xff\r\n")
		if err := c.Set(ctx, "k", bin, 0); err != nil {
			t.Fatal(err)
		}
		if v, err := c.Get(ctx, "k"); err != nil || string(v) != string(bin) {
			t.Fatalf("Get: %q %v", v, err)
		}
		if v := rc.Get(ctx, "k").Val(); v != string(bin) {
			t.Fatalf("GET over plain go-redis: %q", v)
		}

		// TTLs, millisecond precise; a Set without TTL drops it.
		if err := c.Set(ctx, "ttl", []byte("v"), 90*time.Second+500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if d := rc.PTTL(ctx, "ttl").Val(); d <= 90*time.Second || d > 90*time.Second+500*time.Millisecond {
			t.Fatalf("PTTL %v", d)
		}
		if err := c.Set(ctx, "ttl", []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		if d := rc.PTTL(ctx, "ttl").Val(); d != -1 {
			t.Fatalf("PTTL after Set without TTL: %v", d)
		}
		if err := c.Set(ctx, "ttl", []byte("v"), -time.Second); !errors.Is(err, compat.ErrInvalidTTL) {
			t.Fatalf("negative TTL: %v", err)
		}

		if ok, err := c.Delete(ctx, "k"); !ok || err != nil {
			t.Fatalf("Delete: %v %v", ok, err)
		}
		if ok, err := c.Delete(ctx, "k"); ok || err != nil {
			t.Fatalf("Delete again: %v %v", ok, err)
		}

		// Batches.
		if err := c.SetMany(ctx, []compat.Entry{{Key: "m1", Value: []byte("1")}, {Key: "m2", Value: []byte("2")}}); err != nil {
			t.Fatal(err)
		}
		if err := c.SetMany(ctx, []compat.Entry{
			{Key: "m3", Value: []byte("3"), TTL: time.Hour},
			{Key: "m4", Value: []byte("4")},
		}); err != nil {
			t.Fatal(err)
		}
		if d := rc.PTTL(ctx, "m3").Val(); d <= 0 || d > time.Hour {
			t.Fatalf("m3 PTTL %v", d)
		}
		if d := rc.PTTL(ctx, "m4").Val(); d != -1 {
			t.Fatalf("m4 PTTL %v", d)
		}
		got, err := c.GetMany(ctx, []string{"m1", "nope", "m3", "m4", "m2"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]byte{"m1": []byte("1"), "m2": []byte("2"), "m3": []byte("3"), "m4": []byte("4")}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("GetMany %q", got)
		}
		if got, err := c.GetMany(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("GetMany(nil): %v %v", got, err)
		}
		if err := c.SetMany(ctx, []compat.Entry{{Key: "x", TTL: -1}}); !errors.Is(err, compat.ErrInvalidTTL) {
			t.Fatalf("SetMany negative TTL: %v", err)
		}
		if n, err := c.DeleteMany(ctx, []string{"m1", "m2", "nope", "m1"}); n != 2 || err != nil {
			t.Fatalf("DeleteMany: %d %v", n, err)
		}
		if n, err := c.DeleteMany(ctx, nil); n != 0 || err != nil {
			t.Fatalf("DeleteMany(nil): %d %v", n, err)
		}

		// List by prefix, with glob characters in keys and prefixes.
		keys := []string{"user:1", "user:2", "user:10", "users", "use", "a*b:1", "a*b:2", "axb:1", "q?:1", "qx:1", "[x]:1", "x:1", `back\slash:1`, `backxslash:1`}
		for _, k := range keys {
			if err := c.Set(ctx, k, []byte("v"), 0); err != nil {
				t.Fatal(err)
			}
		}
		for prefix, want := range map[string][]string{
			"user:":       {"user:1", "user:10", "user:2"},
			"user":        {"user:1", "user:10", "user:2", "users"},
			"a*b:":        {"a*b:1", "a*b:2"},
			"q?":          {"q?:1"},
			"[x]":         {"[x]:1"},
			`back\slash`:  {`back\slash:1`},
			"nothing":     {},
			"user:1":      {"user:1", "user:10"},
			"user:1\x00x": {},
		} {
			got, err := c.List(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 && len(want) == 0 {
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("List(%q) = %q, want %q", prefix, got, want)
			}
		}
		// ListPage walks in steps and ends with cursor 0.
		seen := map[string]bool{}
		var cursor uint64
		for steps := 0; ; steps++ {
			if steps > 1000 {
				t.Fatal("ListPage never ends")
			}
			page, next, err := c.ListPage(ctx, "", cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range page {
				seen[k] = true
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		all, _ := c.List(ctx, "")
		if len(seen) != len(all) || len(all) != len(keys)+3 { // + ttl, m3, m4
			t.Fatalf("ListPage saw %d keys, List %d, want %d", len(seen), len(all), len(keys)+3)
		}

		// Clear empties only its namespace.
		if err := c.Set(ctx, "other", []byte("v"), 0, compat.Namespace("2")); err != nil {
			t.Fatal(err)
		}
		if err := c.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		if n := rc.DBSize(ctx).Val(); n != 0 {
			t.Fatalf("DBSIZE after Clear: %d", n)
		}
		if v, err := c.Get(ctx, "other", compat.Namespace("2")); err != nil || string(v) != "v" {
			t.Fatalf("Clear of 0 touched 2: %q %v", v, err)
		}
	})
}

func TestCompatNamespaces(t *testing.T) {
	onBothServers(t, func(t *testing.T, s compatServer) {
		ctx := context.Background()
		c := s.client(t)
		for _, ns := range []string{"0", "1", "7", "15"} {
			if err := c.Set(ctx, "k", []byte("in "+ns), 0, compat.Namespace(ns)); err != nil {
				t.Fatal(err)
			}
		}
		rc := s.raw(t)
		for _, ns := range []string{"0", "1", "7", "15"} {
			v, err := c.Get(ctx, "k", compat.Namespace(ns))
			if err != nil || string(v) != "in "+ns {
				t.Fatalf("namespace %s: %q %v", ns, v, err)
			}
			// The same keyspace SELECT reaches.
			conn := rc.Conn()
			if err := conn.Do(ctx, "SELECT", ns).Err(); err != nil {
				t.Fatal(err)
			}
			if got := conn.Get(ctx, "k").Val(); got != "in "+ns {
				t.Fatalf("SELECT %s; GET k = %q", ns, got)
			}
			conn.Close()
		}
		// "07" is database 7, as SELECT reads it.
		if v, _ := c.Get(ctx, "k", compat.Namespace("07")); string(v) != "in 7" {
			t.Fatalf("namespace 07: %q", v)
		}
		// A client's default namespace: opt.DB, or a Namespace option.
		c7 := compat.NewClient(&redis.Options{Addr: s.proc.Addr, DB: 7})
		defer c7.Close()
		if v, _ := c7.Get(ctx, "k"); string(v) != "in 7" {
			t.Fatalf("DB 7 client: %q", v)
		}
		c15 := s.client(t, compat.Namespace("15"))
		if v, _ := c15.Get(ctx, "k"); string(v) != "in 15" {
			t.Fatalf("Namespace(15) client: %q", v)
		}
		if v, _ := c15.Get(ctx, "k", compat.Namespace("1")); string(v) != "in 1" {
			t.Fatalf("per-call namespace over the client's default: %q", v)
		}

		for _, bad := range []string{"", "a b", "../x", "x.y", strings.Repeat("n", 65), "99999999999"} {
			if _, err := c.Get(ctx, "k", compat.Namespace(bad)); !errors.Is(err, compat.ErrInvalidNamespace) {
				t.Errorf("namespace %q: %v", bad, err)
			}
		}
		// Past the server's databases: the server's own error.
		if _, err := c.Get(ctx, "k", compat.Namespace("16")); err == nil || !strings.Contains(err.Error(), "DB index is out of range") {
			t.Errorf("namespace 16: %v", err)
		}

		// Named namespaces.
		err := c.Set(ctx, "k", []byte("named"), 0, compat.Namespace("sessions"))
		if s.redis {
			if !errors.Is(err, compat.ErrNamedNamespaceUnsupported) {
				t.Fatalf("named namespace on Redis: %v", err)
			}
			var nerr *compat.NamespaceError
			if !errors.As(err, &nerr) || nerr.Namespace != "sessions" || !strings.Contains(err.Error(), `namespace "sessions": the server does not support named namespaces`) {
				t.Fatalf("error %q", err)
			}
			_, err = c.List(ctx, "", compat.Namespace("sessions"))
			if !errors.Is(err, compat.ErrNamedNamespaceUnsupported) {
				t.Fatalf("List on a named namespace on Redis: %v", err)
			}
			// Numbered namespaces still work on the same client.
			if v, err := c.Get(ctx, "k", compat.Namespace("1")); err != nil || string(v) != "in 1" {
				t.Fatalf("after the named error: %q %v", v, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if v, err := c.Get(ctx, "k", compat.Namespace("sessions")); err != nil || string(v) != "named" {
			t.Fatalf("named get: %q %v", v, err)
		}
		conn := rc.Conn()
		defer conn.Close()
		conn.Do(ctx, "SELECT", "sessions")
		if got := conn.Get(ctx, "k").Val(); got != "named" {
			t.Fatalf("SELECT sessions; GET k = %q", got)
		}
		if v, _ := c.Get(ctx, "k"); string(v) != "in 0" {
			t.Fatalf("named write leaked into 0: %q", v)
		}
		// Many concurrent calls on a named namespace all land there.
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if err := c.Set(ctx, fmt.Sprintf("c%d", i), []byte("x"), 0, compat.Namespace("named-2")); err != nil {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		if keys, _ := c.List(ctx, "c", compat.Namespace("named-2")); len(keys) != 20 {
			t.Fatalf("named-2 holds %d keys", len(keys))
		}
		if err := c.Clear(ctx, compat.Namespace("named-2")); err != nil {
			t.Fatal(err)
		}
		if keys, _ := c.List(ctx, "", compat.Namespace("named-2")); len(keys) != 0 {
			t.Fatalf("named-2 after Clear: %v", keys)
		}
		if v, _ := c.Get(ctx, "k", compat.Namespace("sessions")); string(v) != "named" {
			t.Fatal("Clear of named-2 touched sessions")
		}
	})
}

type compatUser struct {
	Name  string            `json:"name"`
	Age   int               `json:"age"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

func TestCompatJSON(t *testing.T) {
	onBothServers(t, func(t *testing.T, s compatServer) {
		ctx := context.Background()
		c := s.client(t)
		u := compatUser{Name: "Ada", Age: 36, Tags: []string{"math", "engines"}, Attrs: map[string]string{"born": "1815"}}
		if err := compat.SetJSON(ctx, c, "user:ada", u, time.Hour, compat.Namespace("3")); err != nil {
			t.Fatal(err)
		}
		got, err := compat.GetJSON[compatUser](ctx, c, "user:ada", compat.Namespace("3"))
		if err != nil || !reflect.DeepEqual(got, u) {
			t.Fatalf("GetJSON: %+v %v", got, err)
		}
		raw, _ := c.Get(ctx, "user:ada", compat.Namespace("3"))
		if string(raw) != `{"name":"Ada","age":36,"tags":["math","engines"],"attrs":{"born":"1815"}}` {
			t.Fatalf("stored %s", raw)
		}
		if _, err := compat.GetJSON[compatUser](ctx, c, "nobody", compat.Namespace("3")); !errors.Is(err, compat.ErrNotFound) {
			t.Fatalf("GetJSON missing: %v", err)
		}
		c.Set(ctx, "notjson", []byte("plain text"), 0, compat.Namespace("3"))
		if _, err := compat.GetJSON[compatUser](ctx, c, "notjson", compat.Namespace("3")); err == nil || !strings.Contains(err.Error(), `decoding the JSON value of "notjson"`) {
			t.Fatalf("GetJSON of non-JSON: %v", err)
		}
		if err := compat.SetJSON(ctx, c, "n", 42, 0); err != nil {
			t.Fatal(err)
		}
		if n, err := compat.GetJSON[int](ctx, c, "n"); n != 42 || err != nil {
			t.Fatalf("GetJSON[int]: %d %v", n, err)
		}
		if err := compat.SetJSON(ctx, c, "bad", make(chan int), 0); err == nil {
			t.Fatal("SetJSON of a channel succeeded")
		}
		compat.SetJSON(ctx, c, "user:bob", compatUser{Name: "Bob"}, 0, compat.Namespace("3"))
		many, err := compat.GetManyJSON[compatUser](ctx, c, []string{"user:ada", "user:bob", "user:none"}, compat.Namespace("3"))
		if err != nil || len(many) != 2 || many["user:bob"].Name != "Bob" || many["user:ada"].Age != 36 {
			t.Fatalf("GetManyJSON: %+v %v", many, err)
		}
	})
}

func TestCompatSessions(t *testing.T) {
	onBothServers(t, func(t *testing.T, s compatServer) {
		ctx := context.Background()
		c := s.client(t)
		rc := s.raw(t)
		if err := c.SetSession(ctx, "abc", []byte(`{"user":"ada"}`), 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		if v, err := c.GetSession(ctx, "abc"); err != nil || string(v) != `{"user":"ada"}` {
			t.Fatalf("GetSession: %q %v", v, err)
		}
		if d := rc.PTTL(ctx, compat.SessionKeyPrefix+"abc").Val(); d <= 0 || d > 10*time.Minute {
			t.Fatalf("session PTTL %v", d)
		}
		if err := c.TouchSession(ctx, "abc", 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		if d := rc.PTTL(ctx, compat.SessionKeyPrefix+"abc").Val(); d <= time.Hour || d > 2*time.Hour {
			t.Fatalf("PTTL after touch %v", d)
		}
		if err := c.TouchSession(ctx, "nope", time.Hour); !errors.Is(err, compat.ErrNotFound) {
			t.Fatalf("touch missing: %v", err)
		}
		if err := c.SetSession(ctx, "x", []byte("v"), 0); !errors.Is(err, compat.ErrNoTTL) {
			t.Fatalf("session without TTL: %v", err)
		}
		if err := c.TouchSession(ctx, "abc", 0); !errors.Is(err, compat.ErrNoTTL) {
			t.Fatalf("touch without TTL: %v", err)
		}
		if ok, err := c.DeleteSession(ctx, "abc"); !ok || err != nil {
			t.Fatalf("DeleteSession: %v %v", ok, err)
		}
		if _, err := c.GetSession(ctx, "abc"); !errors.Is(err, compat.ErrNotFound) {
			t.Fatalf("GetSession after delete: %v", err)
		}
		if ok, _ := c.DeleteSession(ctx, "abc"); ok {
			t.Fatal("DeleteSession of a deleted session reported true")
		}
		// Namespace and prefix options.
		opts := []compat.Option{compat.Namespace("4"), compat.KeyPrefix("s/")}
		if err := c.SetSession(ctx, "id", []byte("v"), time.Minute, opts...); err != nil {
			t.Fatal(err)
		}
		conn := rc.Conn()
		defer conn.Close()
		conn.Do(ctx, "SELECT", "4")
		if v := conn.Get(ctx, "s/id").Val(); v != "v" {
			t.Fatalf("session under prefix s/ in namespace 4: %q", v)
		}
		if _, err := c.GetSession(ctx, "id"); !errors.Is(err, compat.ErrNotFound) {
			t.Fatalf("session visible without its options: %v", err)
		}
		if v, err := c.GetSession(ctx, "id", opts...); string(v) != "v" || err != nil {
			t.Fatalf("GetSession with options: %q %v", v, err)
		}
	})
}

func TestCompatBuckets(t *testing.T) {
	onBothServers(t, func(t *testing.T, s compatServer) {
		ctx := context.Background()
		c := s.client(t)
		if _, err := c.GetBucket(ctx, "api:ada"); !errors.Is(err, compat.ErrNotFound) {
			t.Fatalf("GetBucket missing: %v", err)
		}
		at := time.UnixMilli(1700000000123)
		if err := c.SetBucket(ctx, "api:ada", compat.Bucket{Tokens: 12.5, LastRefill: at}, time.Hour); err != nil {
			t.Fatal(err)
		}
		b, err := c.GetBucket(ctx, "api:ada")
		if err != nil || b.Tokens != 12.5 || !b.LastRefill.Equal(at) {
			t.Fatalf("GetBucket: %+v %v", b, err)
		}
		rc := s.raw(t)
		if v := rc.Get(ctx, compat.BucketKeyPrefix+"api:ada").Val(); v != `{"tokens":12.5,"lastRefillMs":1700000000123}` {
			t.Fatalf("stored bucket %s", v)
		}
		if d := rc.PTTL(ctx, compat.BucketKeyPrefix+"api:ada").Val(); d <= 0 || d > time.Hour {
			t.Fatalf("bucket PTTL %v", d)
		}
		rc.Set(ctx, compat.BucketKeyPrefix+"broken", "{", 0)
		if _, err := c.GetBucket(ctx, "broken"); err == nil || !strings.Contains(err.Error(), "malformed state") {
			t.Fatalf("broken bucket: %v", err)
		}
		if ok, err := c.DeleteBucket(ctx, "api:ada"); !ok || err != nil {
			t.Fatalf("DeleteBucket: %v %v", ok, err)
		}
		if _, err := c.GetBucket(ctx, "api:ada"); !errors.Is(err, compat.ErrNotFound) {
			t.Fatalf("GetBucket after delete: %v", err)
		}
	})
}

func TestCompatRateLimiter(t *testing.T) {
	onBothServers(t, func(t *testing.T, s compatServer) {
		requireAtomicLimiter(t, s)
		ctx := context.Background()
		c := s.client(t)

		// The default: 30 a minute.
		def := compat.NewRateLimiter(c, compat.Limit{})
		if def.Limit() != compat.DefaultLimit || compat.DefaultLimit.Rate != 30 || compat.DefaultLimit.Period != time.Minute {
			t.Fatalf("default limit %v", def.Limit())
		}
		res, err := def.CheckLimit(ctx, "first")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Allowed || res.Limit != 30 || res.Remaining != 29 || res.RetryAfter != 0 || res.ResetAfter <= 0 || res.ResetAfter > 2*time.Second {
			t.Fatalf("first request: %+v", res)
		}

		// The rest runs twice: with a period of whole seconds (CL.THROTTLE
		// where the server has it) and with one that CL.THROTTLE cannot
		// express (the Lua script everywhere).
		for _, period := range []time.Duration{time.Hour, time.Hour + time.Millisecond} {
			t.Run(period.String(), func(t *testing.T) {
				checkLimiter(t, c, period, s.redis)
			})
		}
	})
}

// checkLimiter checks a limiter of 30 per period (a long one, so the
// counts do not depend on how fast the machine is).
func checkLimiter(t *testing.T, c *compat.Client, period time.Duration, onRedis bool) {
	ctx := context.Background()
	// The Lua script is used wherever CL.THROTTLE cannot express the limit
	// (and on Redis, which has no CL.THROTTLE).
	wantBackend := "cl.throttle"
	if onRedis || period%time.Second != 0 {
		wantBackend = "script"
	}
	// Each run starts from empty namespaces.
	for _, ns := range []string{"0", "5"} {
		if err := c.Clear(ctx, compat.Namespace(ns)); err != nil {
			t.Fatal(err)
		}
	}
	// A limit whose tokens come back slowly (30 an hour), so the
	// counts below do not depend on how fast the machine is.
	lim := compat.NewRateLimiter(c, compat.Limit{Rate: 30, Period: period})
	for i := 0; i < 30; i++ {
		res, err := lim.CheckLimit(ctx, "seq")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Allowed || res.Remaining != 29-i {
			t.Fatalf("request %d: %+v", i+1, res)
		}
	}
	res, err := lim.CheckLimit(ctx, "seq")
	if err != nil {
		t.Fatal(err)
	}
	if res.Allowed || res.Remaining != 0 || res.RetryAfter <= 0 || res.RetryAfter > 2*time.Minute || res.ResetAfter <= 59*time.Minute || res.ResetAfter > time.Hour {
		t.Fatalf("31st request: %+v", res)
	}
	// Another id has its own budget; Reset restores one.
	if res, _ := lim.CheckLimit(ctx, "other"); !res.Allowed || res.Remaining != 29 {
		t.Fatalf("other id: %+v", res)
	}
	if err := lim.Reset(ctx, "seq"); err != nil {
		t.Fatal(err)
	}
	if res, _ := lim.CheckLimit(ctx, "seq"); !res.Allowed || res.Remaining != 29 {
		t.Fatalf("after Reset: %+v", res)
	}
	// CheckLimitN takes several at once, all or none.
	if res, _ := lim.CheckLimitN(ctx, "n", 25); !res.Allowed || res.Remaining != 5 {
		t.Fatalf("N=25: %+v", res)
	}
	if res, _ := lim.CheckLimitN(ctx, "n", 6); res.Allowed {
		t.Fatalf("N=6 with 5 left: %+v", res)
	}
	if res, _ := lim.CheckLimitN(ctx, "n", 5); !res.Allowed || res.Remaining != 0 {
		t.Fatalf("N=5 with 5 left: %+v", res)
	}
	if _, err := lim.CheckLimitN(ctx, "n", 0); err == nil {
		t.Fatal("N=0 accepted")
	}
	if _, err := compat.NewRateLimiter(c, compat.Limit{Rate: -1, Period: time.Second}).CheckLimit(ctx, "x"); err == nil {
		t.Fatal("a negative rate accepted")
	}
	// A burst below the rate.
	small := compat.NewRateLimiter(c, compat.Limit{Rate: 60, Period: period, Burst: 3}, compat.Namespace("5"))
	allowed := 0
	for i := 0; i < 10; i++ {
		if res, _ := small.CheckLimit(ctx, "b"); res.Allowed {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("burst 3 allowed %d", allowed)
	}
	// Its state lives in namespace 5, under the limiter's prefix.
	if keys, _ := c.List(ctx, compat.LimiterKeyPrefix, compat.Namespace("5")); !reflect.DeepEqual(keys, []string{compat.LimiterKeyPrefix + "b"}) {
		t.Fatalf("namespace 5 holds %v", keys)
	}

	// 100 goroutines, a limit of 30: exactly 30 are allowed.
	conc := compat.NewRateLimiter(c, compat.Limit{Rate: 30, Period: period})
	var mu sync.Mutex
	allowed = 0
	denied := 0
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := conc.CheckLimit(ctx, "shared")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if res.Allowed {
				allowed++
			} else {
				denied++
			}
		}()
	}
	wg.Wait()
	if allowed != 30 || denied != 70 {
		t.Fatalf("100 concurrent requests with a limit of 30: %d allowed, %d denied", allowed, denied)
	}
	if lim.Backend() != wantBackend || conc.Backend() != wantBackend {
		t.Fatalf("backend %q/%q, want %q", lim.Backend(), conc.Backend(), wantBackend)
	}
}

// quickArgon2 keeps the login tests fast; one test uses the defaults.
var quickArgon2 = compat.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestCompatLogin(t *testing.T) {
	onBothServers(t, func(t *testing.T, s compatServer) {
		ctx := context.Background()
		c := s.client(t)
		rc := s.raw(t)
		svc, err := compat.NewLoginService(c, compat.LoginConfig{Argon2: quickArgon2, SessionNamespace: "2"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Register(ctx, "ada", "correct horse"); err != nil {
			t.Fatal(err)
		}
		if err := svc.Register(ctx, "ada", "another password"); !errors.Is(err, compat.ErrUserExists) {
			t.Fatalf("second Register: %v", err)
		}
		if err := svc.Register(ctx, "bob", "short"); !errors.Is(err, compat.ErrWeakPassword) {
			t.Fatalf("short password: %v", err)
		}
		if err := svc.Register(ctx, "bob", strings.Repeat("p", 1025)); !errors.Is(err, compat.ErrLongPassword) {
			t.Fatalf("long password: %v", err)
		}
		for _, bad := range []string{"", "a\nb", "\xff", strings.Repeat("u", 257)} {
			if err := svc.Register(ctx, bad, "long enough"); !errors.Is(err, compat.ErrInvalidUser) {
				t.Fatalf("username %q: %v", bad, err)
			}
		}
		// The account holds an argon2id hash, never the password.
		rec := rc.Get(ctx, "login:user:ada").Val()
		if !strings.Contains(rec, `"hash":"$argon2id$v=19$m=1024,t=1,p=1$`) || strings.Contains(rec, "correct horse") {
			t.Fatalf("stored account %s", rec)
		}

		sess, err := svc.Login(ctx, "ada", "correct horse", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(sess.ID)
		if err != nil || len(raw) != 32 || sess.Username != "ada" {
			t.Fatalf("session %+v (%d bytes)", sess, len(raw))
		}
		if d := sess.ExpiresAt.Sub(sess.CreatedAt); d != 7*24*time.Hour {
			t.Fatalf("default session TTL %v", d)
		}
		// Sessions live in their namespace, under the id's SHA-256.
		conn := rc.Conn()
		defer conn.Close()
		conn.Do(ctx, "SELECT", "2")
		skeys := conn.Keys(ctx, "*").Val()
		if len(skeys) != 1 || !strings.HasPrefix(skeys[0], "login:session:") || len(skeys[0]) != len("login:session:")+64 || strings.Contains(skeys[0], sess.ID) {
			t.Fatalf("session keys %v", skeys)
		}
		if d := conn.PTTL(ctx, skeys[0]).Val(); d <= 6*24*time.Hour || d > 7*24*time.Hour {
			t.Fatalf("session PTTL %v", d)
		}
		got, err := svc.ValidateSession(ctx, sess.ID)
		if err != nil || got.Username != "ada" || got.ID != sess.ID || !got.ExpiresAt.Equal(sess.ExpiresAt.Truncate(time.Millisecond)) {
			t.Fatalf("ValidateSession: %+v %v", got, err)
		}
		sess2, err := svc.Login(ctx, "ada", "correct horse", "10.0.0.1")
		if err != nil || sess2.ID == sess.ID {
			t.Fatalf("second login: %+v %v", sess2, err)
		}
		if err := svc.Logout(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ValidateSession(ctx, sess.ID); !errors.Is(err, compat.ErrInvalidSession) {
			t.Fatalf("after Logout: %v", err)
		}
		if err := svc.Logout(ctx, sess.ID); err != nil {
			t.Fatalf("second Logout: %v", err)
		}
		if _, err := svc.ValidateSession(ctx, sess2.ID); err != nil {
			t.Fatalf("logging out one session ended the other: %v", err)
		}
		for _, bad := range []string{"", "x", sess2.ID + "A", strings.Repeat("A", 43), sess2.ID[:42] + "!", strings.ToUpper(sess2.ID)} {
			if bad == sess2.ID {
				continue
			}
			if _, err := svc.ValidateSession(ctx, bad); !errors.Is(err, compat.ErrInvalidSession) {
				t.Fatalf("ValidateSession(%q): %v", bad, err)
			}
		}

		// A wrong password and an unknown account fail alike.
		_, errWrong := svc.Login(ctx, "ada", "wrong horse!", "10.0.0.2")
		_, errUnknown := svc.Login(ctx, "nobody", "correct horse", "10.0.0.2")
		_, errEmpty := svc.Login(ctx, "", "", "10.0.0.2")
		for _, err := range []error{errWrong, errUnknown, errEmpty} {
			if err != compat.ErrInvalidCredentials {
				t.Fatalf("failed login: %v", err)
			}
		}
	})
}

func TestCompatLoginLimits(t *testing.T) {
	onBothServers(t, func(t *testing.T, s compatServer) {
		ctx := context.Background()
		c := s.client(t)
		svc, err := compat.NewLoginService(c, compat.LoginConfig{
			Argon2:       quickArgon2,
			AccountLimit: compat.Limit{Rate: 3, Period: time.Hour},
			AddressLimit: compat.Limit{Rate: 8, Period: time.Hour},
		})
		if err != nil {
			t.Fatal(err)
		}
		svc.Register(ctx, "ada", "correct horse")

		// Per account: 3 failures, then even the right password is refused.
		for i := 0; i < 3; i++ {
			if _, err := svc.Login(ctx, "ada", "wrong", fmt.Sprintf("a%d", i)); err != compat.ErrInvalidCredentials {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		_, err = svc.Login(ctx, "ada", "correct horse", "a9")
		var tm *compat.TooManyAttemptsError
		if !errors.Is(err, compat.ErrTooManyAttempts) || !errors.As(err, &tm) || tm.RetryAfter <= 0 || tm.RetryAfter > time.Hour {
			t.Fatalf("4th attempt: %v", err)
		}
		// An unknown account locks the same way: nothing tells them apart.
		for i := 0; i < 3; i++ {
			if _, err := svc.Login(ctx, "ghost", "wrong", fmt.Sprintf("g%d", i)); err != compat.ErrInvalidCredentials {
				t.Fatalf("ghost failure %d: %v", i, err)
			}
		}
		if _, err := svc.Login(ctx, "ghost", "wrong", "g9"); !errors.Is(err, compat.ErrTooManyAttempts) {
			t.Fatalf("ghost 4th attempt: %v", err)
		}

		// A success clears the account's failures.
		svc.Register(ctx, "bob", "bob's password")
		for i := 0; i < 2; i++ {
			svc.Login(ctx, "bob", "wrong", "b")
		}
		if _, err := svc.Login(ctx, "bob", "bob's password", "b"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if _, err := svc.Login(ctx, "bob", "wrong", "c"); err != compat.ErrInvalidCredentials {
				t.Fatalf("bob failure %d after a success: %v", i, err)
			}
		}

		// Per address: 8 attempts over any accounts, then refused; another
		// address is not affected.
		for i := 0; i < 8; i++ {
			if _, err := svc.Login(ctx, fmt.Sprintf("u%d", i), "pw", "192.0.2.7"); err != compat.ErrInvalidCredentials {
				t.Fatalf("address attempt %d: %v", i, err)
			}
		}
		if _, err := svc.Login(ctx, "u100", "pw", "192.0.2.7"); !errors.Is(err, compat.ErrTooManyAttempts) {
			t.Fatalf("9th attempt from one address: %v", err)
		}
		if _, err := svc.Login(ctx, "u100", "pw", "192.0.2.8"); err != compat.ErrInvalidCredentials {
			t.Fatalf("another address: %v", err)
		}

		// Concurrent guesses cannot overrun the account limit.
		svc.Register(ctx, "carol", "carol's password")
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[string]int{}
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := svc.Login(ctx, "carol", "guess", fmt.Sprintf("10.1.0.%d", i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == compat.ErrInvalidCredentials:
					counts["invalid"]++
				case errors.Is(err, compat.ErrTooManyAttempts):
					counts["limited"]++
				default:
					t.Errorf("concurrent guess: %v", err)
				}
			}(i)
		}
		wg.Wait()
		if counts["invalid"] != 3 || counts["limited"] != 17 {
			t.Fatalf("20 concurrent guesses with a limit of 3: %v", counts)
		}
	})
}

func TestCompatLoginNamedSessions(t *testing.T) {
	// Default argon2 costs, sessions in a named namespace (durastore) and
	// a short configured TTL with sliding renewal.
	ctx := context.Background()
	p := startDurastore(t)
	c := compat.NewClient(&redis.Options{Addr: p.Addr})
	defer c.Close()
	svc, err := compat.NewLoginService(c, compat.LoginConfig{SessionNamespace: "sessions", SessionTTL: time.Hour, SlidingSessions: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Register(ctx, "ada", "correct horse"); err != nil {
		t.Fatal(err)
	}
	sess, err := svc.Login(ctx, "ada", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	if d := sess.ExpiresAt.Sub(sess.CreatedAt); d != time.Hour {
		t.Fatalf("session TTL %v", d)
	}
	keys, err := c.List(ctx, "login:session:", compat.Namespace("sessions"))
	if err != nil || len(keys) != 1 {
		t.Fatalf("sessions namespace: %v %v", keys, err)
	}
	rc, _ := c.Redis(compat.Namespace("sessions"))
	rc.PExpire(ctx, keys[0], time.Minute)
	got, err := svc.ValidateSession(ctx, sess.ID)
	if err != nil || got.Username != "ada" {
		t.Fatalf("ValidateSession: %+v %v", got, err)
	}
	if d := rc.PTTL(ctx, keys[0]).Val(); d <= time.Minute || d > time.Hour {
		t.Fatalf("sliding session PTTL %v after validation", d)
	}
	if _, err := svc.Login(ctx, "ada", "wrong password", ""); err != compat.ErrInvalidCredentials {
		t.Fatalf("wrong password: %v", err)
	}

	// Against Redis a named session namespace is a clear error.
	if redisServerPath() == "" {
		return
	}
	r := startRedis(t)
	rcl := compat.NewClient(&redis.Options{Addr: r.Addr})
	defer rcl.Close()
	rsvc, err := compat.NewLoginService(rcl, compat.LoginConfig{SessionNamespace: "sessions", Argon2: quickArgon2})
	if err != nil {
		t.Fatal(err)
	}
	rsvc.Register(ctx, "ada", "correct horse")
	if _, err := rsvc.Login(ctx, "ada", "correct horse", ""); !errors.Is(err, compat.ErrNamedNamespaceUnsupported) {
		t.Fatalf("login with named sessions on Redis: %v", err)
	}
}
