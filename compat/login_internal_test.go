package compat

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"durastore/server"
)

func startTestServer(t *testing.T) string {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.AppendOnly = false
	cfg.Dir = t.TempDir()
	cfg.Port = 0
	cfg.HTTPPort = 0
	cfg.Bind = []string{"127.0.0.1"}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addrs()[0].String()
	t.Cleanup(func() {
		// Shut down only once the listener is serving (a PING answered).
		rc := redis.NewClient(&redis.Options{Addr: addr})
		rc.Ping(context.Background())
		rc.Close()
		srv.Shutdown()
	})
	return addr
}

// Every failed login does exactly one argon2id computation with the
// service's own parameters, whatever made it fail, so an unknown account
// takes as long as a wrong password (the timing is not measured: machines
// are noisy; the work done is counted instead).
func TestLoginFailuresCostOneHash(t *testing.T) {
	ctx := context.Background()
	c := NewClient(&redis.Options{Addr: startTestServer(t)})
	defer c.Close()
	params := Argon2Params{Time: 1, MemoryKiB: 2048, Threads: 1, KeyLen: 32, SaltLen: 16}
	svc, err := NewLoginService(c, LoginConfig{Argon2: params})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Register(ctx, "ada", "correct horse"); err != nil {
		t.Fatal(err)
	}

	var calls atomic.Int32
	var hashes []string
	passwordCheck = func(pw []byte, hash string) bool {
		calls.Add(1)
		hashes = append(hashes, hash)
		return verifyPassword(pw, hash)
	}
	defer func() { passwordCheck = verifyPassword }()

	for _, tc := range []struct{ name, user, pw string }{
		{"wrong password", "ada", "wrong horse"},
		{"unknown account", "bob", "correct horse"},
		{"empty name", "", "x"},
		{"malformed name", "a\x00b", "x"},
		{"password longer than allowed", "ada", strings.Repeat("p", 2000)},
	} {
		calls.Store(0)
		hashes = nil
		_, err := svc.Login(ctx, tc.user, tc.pw, "")
		if err != ErrInvalidCredentials {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if calls.Load() != 1 {
			t.Fatalf("%s: %d argon2id computations, want 1", tc.name, calls.Load())
		}
		// The hash checked against has the service's parameters, the
		// dummy one included.
		if !strings.HasPrefix(hashes[0], "$argon2id$v=19$m=2048,t=1,p=1$") {
			t.Fatalf("%s: checked against %s", tc.name, hashes[0])
		}
		svc.c.Delete(ctx, svc.cfg.KeyPrefix+loginAccountPart+sessionDigest(tc.user), Namespace("0"))
	}
	calls.Store(0)
	if _, err := svc.Login(ctx, "ada", "correct horse", ""); err != nil || calls.Load() != 1 {
		t.Fatalf("good login: %v, %d computations", err, calls.Load())
	}
}

func TestArgon2Encoding(t *testing.T) {
	p := Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 2, KeyLen: 32, SaltLen: 16}
	h, err := hashPassword([]byte("pw"), p)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPassword([]byte("pw"), p)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if !verifyPassword([]byte("pw"), h) || verifyPassword([]byte("pW"), h) || verifyPassword([]byte(""), h) {
		t.Fatal("verify")
	}
	parts := strings.Split(h, "$")
	for _, bad := range []string{
		"", "plain", strings.Replace(h, "argon2id", "argon2i", 1), strings.Replace(h, "v=19", "v=16", 1),
		strings.Join(append(parts[:3:3], "m=x,t=1,p=2", parts[4], parts[5]), "$"),
		strings.Join(append(parts[:3:3], "m=1024,t=0,p=2", parts[4], parts[5]), "$"),
		strings.Join(append(parts[:3:3], "m=99999999,t=1,p=2", parts[4], parts[5]), "$"),
		strings.Join(append(parts[:5:5], "!!"), "$"),
		strings.Join(append(parts[:5:5], "AAAA"), "$"),
		h + "$",
	} {
		if verifyPassword([]byte("pw"), bad) {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, err := NewLoginService(NewClient(&redis.Options{}), LoginConfig{Argon2: Argon2Params{Time: 1}}); err == nil {
		t.Fatal("invalid argon2 parameters accepted")
	}
	if _, err := NewLoginService(NewClient(&redis.Options{}), LoginConfig{SessionNamespace: "a b"}); err == nil {
		t.Fatal("invalid namespace accepted")
	}
}

func TestEscapeGlobAndNamespaces(t *testing.T) {
	for in, want := range map[string]string{
		"":         "",
		"user:":    "user:",
		"a*b?c":    `a\*b\?c`,
		`[x]\`:     `\[x\]\\`,
		"ünïcode*": `ünïcode\*`,
	} {
		if got := EscapeGlob(in); got != want {
			t.Errorf("EscapeGlob(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]struct {
		name string
		db   int
		ok   bool
	}{
		"0": {"0", 0, true}, "15": {"15", 15, true}, "007": {"7", 7, true},
		"sessions": {"sessions", -1, true}, "a-b_C": {"a-b_C", -1, true},
		"": {}, "a b": {}, "x/y": {}, "-1": {}, "+1": {}, "-": {"-", -1, true}, "99999999999": {},
		strings.Repeat("n", 64): {strings.Repeat("n", 64), -1, true}, strings.Repeat("n", 65): {},
	} {
		name, db, err := ParseNamespace(in)
		if (err == nil) != want.ok || (err == nil && (name != want.name || db != want.db)) {
			t.Errorf("ParseNamespace(%q) = %q %d %v, want %+v", in, name, db, err, want)
		}
	}
}
