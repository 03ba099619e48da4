package tests

// rueidis with its default options: RESP3 and client-side caching on
// (CLIENT TRACKING ON OPTIN, then CLIENT CACHING YES, MULTI, PTTL, GET, EXEC
// for each cached read). It refuses to connect to a server without them.

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

func rueidisClient(t *testing.T, addr string, opt rueidis.ClientOption) rueidis.Client {
	t.Helper()
	opt.InitAddress = []string{addr}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("rueidis.NewClient with default options: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestRueidisDefaultCaching: a cached read is served from the client's
// cache until another client writes the key, which invalidates it.
func TestRueidisDefaultCaching(t *testing.T) {
	d := startDurastore(t)
	ctx := context.Background()
	c := rueidisClient(t, d.Addr, rueidis.ClientOption{})
	other := rueidisClient(t, d.Addr, rueidis.ClientOption{DisableCache: true})

	if err := c.Do(ctx, c.B().Set().Key("k").Value("v1").Build()).Error(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	get := func() (string, bool) {
		t.Helper()
		res := c.DoCache(ctx, c.B().Get().Key("k").Cache(), time.Minute)
		v, err := res.ToString()
		if err != nil {
			t.Fatalf("DoCache GET: %v", err)
		}
		return v, res.IsCacheHit()
	}
	if v, _ := get(); v != "v1" {
		t.Fatalf("first cached GET = %q", v)
	}
	// Served from the cache now (rueidis fills it once EXEC answers).
	waitFor(t, "a cache hit", func() bool {
		v, hit := get()
		if v != "v1" {
			t.Fatalf("cached GET = %q", v)
		}
		return hit
	})
	// Another client writes: the push invalidates the cached value.
	if err := other.Do(ctx, other.B().Set().Key("k").Value("v2").Build()).Error(); err != nil {
		t.Fatalf("other SET: %v", err)
	}
	waitFor(t, "the invalidation of k", func() bool {
		v, _ := get()
		return v == "v2"
	})
	// A key with a TTL is cached with it, and a DEL invalidates too.
	other.Do(ctx, other.B().Set().Key("t").Value("x").Ex(time.Hour).Build())
	res := c.DoCache(ctx, c.B().Get().Key("t").Cache(), time.Minute)
	if v, _ := res.ToString(); v != "x" {
		t.Fatalf("GET t = %q", v)
	}
	other.Do(ctx, other.B().Del().Key("t").Build())
	waitFor(t, "the invalidation of t", func() bool {
		return rueidis.IsRedisNil(c.DoCache(ctx, c.B().Get().Key("t").Cache(), time.Minute).Error())
	})
	// A flush invalidates everything.
	if v, _ := get(); v != "v2" {
		t.Fatalf("GET k = %q", v)
	}
	other.Do(ctx, other.B().Flushall().Build())
	waitFor(t, "the invalidation by FLUSHALL", func() bool {
		return rueidis.IsRedisNil(c.DoCache(ctx, c.B().Get().Key("k").Cache(), time.Minute).Error())
	})
	// Ordinary commands and pipelines work alongside.
	cmds := rueidis.Commands{c.B().Incr().Key("n").Build(), c.B().Incr().Key("n").Build()}
	for i, r := range c.DoMulti(ctx, cmds...) {
		if n, err := r.AsInt64(); err != nil || n != int64(i+1) {
			t.Errorf("pipelined INCR %d = %d, %v", i, n, err)
		}
	}
}

// TestRueidisBroadcast: rueidis with BCAST tracking on a prefix.
func TestRueidisBroadcast(t *testing.T) {
	d := startDurastore(t)
	ctx := context.Background()
	c := rueidisClient(t, d.Addr, rueidis.ClientOption{ClientTrackingOptions: []string{"PREFIX", "user:", "BCAST"}})
	other := d.Dial(t)
	other.Do("SET", "user:1", "a")
	get := func() string {
		v, err := c.DoCache(ctx, c.B().Get().Key("user:1").Cache(), time.Minute).ToString()
		if err != nil {
			t.Fatalf("DoCache: %v", err)
		}
		return v
	}
	if v := get(); v != "a" {
		t.Fatalf("GET user:1 = %q", v)
	}
	other.Do("SET", "user:1", "b")
	waitFor(t, "the broadcast invalidation of user:1", func() bool { return get() == "b" })
}

// TestRueidisPubSub: rueidis's Receive on a dedicated connection.
func TestRueidisPubSub(t *testing.T) {
	d := startDurastore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := rueidisClient(t, d.Addr, rueidis.ClientOption{})
	got := make(chan string, 10)
	go c.Receive(ctx, c.B().Subscribe().Channel("ch").Build(), func(m rueidis.PubSubMessage) {
		got <- m.Channel + ":" + m.Message
	})
	pub := d.Dial(t)
	waitFor(t, "the subscription", func() bool { return pub.Do("PUBLISH", "ch", "hello") == ":1\r\n" })
	select {
	case m := <-got:
		if m != "ch:hello" {
			t.Errorf("message %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message received")
	}
}
