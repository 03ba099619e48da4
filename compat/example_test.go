package compat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"durastore/compat"
	"durastore/server"
)

// addr is the server the examples talk to: a durastore started in this
// process by TestMain (in an application, your server's address, such as
// "localhost:6379").
var addr string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "compat-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg := server.DefaultConfig()
	cfg.AppendOnly = false
	cfg.Dir = dir
	cfg.Port = 0
	cfg.HTTPPort = 0
	cfg.Bind = []string{"127.0.0.1"}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		err = srv.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting durastore:", err)
		os.Exit(1)
	}
	addr = srv.Addrs()[0].String()
	code := m.Run()
	srv.Shutdown()
	os.RemoveAll(dir)
	os.Exit(code)
}

func ExampleNewClient() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	if err := c.Set(ctx, "greeting", []byte("hello"), 0); err != nil {
		panic(err)
	}
	v, err := c.Get(ctx, "greeting")
	fmt.Println(string(v), err)

	_, err = c.Get(ctx, "nothing")
	fmt.Println(errors.Is(err, compat.ErrNotFound))

	deleted, _ := c.Delete(ctx, "greeting")
	fmt.Println(deleted)
	// Output:
	// hello <nil>
	// true
	// true
}

func ExampleClient_Set() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	// The key expires in 10 minutes.
	c.Set(ctx, "otp:ada", []byte("492817"), 10*time.Minute)

	rdb, _ := c.Redis() // the go-redis client underneath, for anything else
	ttl := rdb.PTTL(ctx, "otp:ada").Val()
	fmt.Println(ttl > 9*time.Minute && ttl <= 10*time.Minute)
	// Output: true
}

func ExampleClient_SetMany() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr}, compat.Namespace("9"))
	defer c.Close()

	c.SetMany(ctx, []compat.Entry{
		{Key: "a", Value: []byte("1")},
		{Key: "b", Value: []byte("2"), TTL: time.Hour},
	})
	values, _ := c.GetMany(ctx, []string{"a", "b", "missing"})
	fmt.Println(len(values), string(values["a"]), string(values["b"]))

	n, _ := c.DeleteMany(ctx, []string{"a", "b", "missing"})
	fmt.Println(n)
	// Output:
	// 2 1 2
	// 2
}

func ExampleClient_List() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr}, compat.Namespace("10"))
	defer c.Close()

	for _, k := range []string{"user:1", "user:2", "order:1", "user*odd"} {
		c.Set(ctx, k, []byte("x"), 0)
	}
	keys, _ := c.List(ctx, "user:")
	fmt.Println(keys)
	// Glob characters in the prefix are matched literally.
	keys, _ = c.List(ctx, "user*")
	fmt.Println(keys)
	// Output:
	// [user:1 user:2]
	// [user*odd]
}

func ExampleClient_Clear() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	c.Set(ctx, "tmp", []byte("x"), 0, compat.Namespace("11"))
	c.Clear(ctx, compat.Namespace("11"))
	keys, _ := c.List(ctx, "", compat.Namespace("11"))
	fmt.Println(len(keys))
	// Output: 0
}

func ExampleNamespace() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	// Numbered namespaces are Redis's databases; names are durastore's.
	c.Set(ctx, "k", []byte("in database 3"), 0, compat.Namespace("3"))
	c.Set(ctx, "k", []byte("in sessions"), 0, compat.Namespace("sessions"))

	v, _ := c.Get(ctx, "k", compat.Namespace("3"))
	fmt.Println(string(v))
	v, _ = c.Get(ctx, "k", compat.Namespace("sessions"))
	fmt.Println(string(v))
	// Output:
	// in database 3
	// in sessions
}

func ExampleSetJSON() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	type Profile struct {
		Name  string   `json:"name"`
		Langs []string `json:"langs"`
	}
	compat.SetJSON(ctx, c, "profile:ada", Profile{Name: "Ada", Langs: []string{"en", "fr"}}, 0)

	p, err := compat.GetJSON[Profile](ctx, c, "profile:ada")
	fmt.Printf("%+v %v\n", p, err)

	raw, _ := c.Get(ctx, "profile:ada") // stored as JSON text, as the HTTP API stores it
	fmt.Println(string(raw))
	// Output:
	// {Name:Ada Langs:[en fr]} <nil>
	// {"name":"Ada","langs":["en","fr"]}
}

func ExampleClient_SetSession() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	c.SetSession(ctx, "sid-123", []byte(`{"user":"ada"}`), 30*time.Minute)
	data, _ := c.GetSession(ctx, "sid-123")
	fmt.Println(string(data))

	// Sliding expiry: another 30 minutes from now.
	fmt.Println(c.TouchSession(ctx, "sid-123", 30*time.Minute))

	c.DeleteSession(ctx, "sid-123")
	_, err := c.GetSession(ctx, "sid-123")
	fmt.Println(errors.Is(err, compat.ErrNotFound))
	// Output:
	// {"user":"ada"}
	// <nil>
	// true
}

func ExampleClient_SetBucket() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	refill := time.UnixMilli(1700000000000)
	c.SetBucket(ctx, "api:ada", compat.Bucket{Tokens: 9.5, LastRefill: refill}, time.Hour)

	b, _ := c.GetBucket(ctx, "api:ada")
	fmt.Println(b.Tokens, b.LastRefill.Equal(refill))
	// Output: 9.5 true
}

func ExampleRateLimiter_CheckLimit() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	// compat.Limit{} is DefaultLimit, 30 a minute; this one refills slowly
	// so the output is the same however fast the machine is.
	limiter := compat.NewRateLimiter(c, compat.Limit{Rate: 30, Period: time.Hour})
	for i := 0; i < 30; i++ {
		limiter.CheckLimit(ctx, "client-42")
	}
	res, err := limiter.CheckLimit(ctx, "client-42")
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Allowed, res.Remaining, res.RetryAfter > 0)

	res, _ = limiter.CheckLimit(ctx, "client-43")
	fmt.Println(res.Allowed, res.Remaining, res.Limit)
	// Output:
	// false 0 true
	// true 29 30
}

func ExampleLoginService() {
	ctx := context.Background()
	c := compat.NewClient(&redis.Options{Addr: addr})
	defer c.Close()

	auth, err := compat.NewLoginService(c, compat.LoginConfig{
		SessionNamespace: "sessions", // a named namespace (durastore); "1" on Redis
		SessionTTL:       24 * time.Hour,
	})
	if err != nil {
		panic(err)
	}
	if err := auth.Register(ctx, "ada", "correct horse battery"); err != nil {
		panic(err)
	}

	_, err = auth.Login(ctx, "ada", "wrong", "203.0.113.9")
	fmt.Println(err)
	_, err = auth.Login(ctx, "nobody", "wrong", "203.0.113.9")
	fmt.Println(err)

	sess, err := auth.Login(ctx, "ada", "correct horse battery", "203.0.113.9")
	if err != nil {
		panic(err)
	}
	fmt.Println(len(sess.ID), sess.ExpiresAt.Sub(sess.CreatedAt))

	who, err := auth.ValidateSession(ctx, sess.ID)
	fmt.Println(who.Username, err)

	auth.Logout(ctx, sess.ID)
	_, err = auth.ValidateSession(ctx, sess.ID)
	fmt.Println(err)
	// Output:
	// compat: invalid username or password
	// compat: invalid username or password
	// 43 24h0m0s
	// ada <nil>
	// compat: invalid or expired session
}
