package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTest(t testing.TB, dir string, fsync Fsync) *Store {
	t.Helper()
	s, err := Open(Config{Dir: dir, AppendOnly: true, Fsync: fsync, Databases: 16, MaxNamespaces: 32, Hz: 10})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEncodingRoundTrip(t *testing.T) {
	cases := []Value{
		{Type: TypeString, Data: ""},
		{Type: TypeString, Data: "hello"},
		{Type: TypeString, Data: "\x00\x80\xff\r\n", ExpireAt: 1},
		{Type: TypeHash, Data: "x", ExpireAt: 1<<62 + 12345},
	}
	for _, v := range cases {
		got := decode(string(appendEncoded(nil, v)))
		if got != v {
			t.Errorf("round trip of %+v gave %+v", v, got)
		}
		if n := encodedLen(v); n != len(appendEncoded(nil, v)) {
			t.Errorf("encodedLen(%+v) = %d, encoded %d bytes", v, n, len(appendEncoded(nil, v)))
		}
		if at := decodeExpire(string(appendEncoded(nil, v))); at != v.ExpireAt {
			t.Errorf("decodeExpire(%+v) = %d", v, at)
		}
	}
	if v := decode("\x80ab"); v != (Value{}) {
		t.Errorf("truncated expiry header decoded as %+v", v)
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"0", "sessions", "a-b_C9", strings.Repeat("x", 64)} {
		if !ValidName(ok) {
			t.Errorf("ValidName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "../etc", "a/b", "a b", "a.b", strings.Repeat("x", 65), "é", "a\x00"} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true", bad)
		}
	}
}

// An expiry set in milliseconds survives a restart to the millisecond,
// which buntdb's own TTL (whole seconds in its file) would not.
func TestExpiryExactAcrossRestart(t *testing.T) {
	for _, policy := range []Fsync{FsyncAlways, FsyncEverySec, FsyncNo} {
		dir := t.TempDir()
		s := openTest(t, dir, policy)
		at := time.Now().UnixMilli() + 1500 + 123
		err := s.Exclusive(func(tx *Tx) error {
			if err := tx.Set("0", "k", Value{Data: "v", ExpireAt: at}); err != nil {
				return err
			}
			return tx.Set("sessions", "p", Value{Data: "forever"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = openTest(t, dir, policy)
		s.View(func(tx *Tx) error {
			v, ok, _ := tx.Get("0", "k")
			if !ok || v.ExpireAt != at || v.Data != "v" {
				t.Errorf("policy %d: after restart got %+v %v, want expiry %d", policy, v, ok, at)
			}
			return nil
		})
		s.View(func(tx *Tx) error {
			v, ok, _ := tx.Get("sessions", "p")
			if !ok || v.Data != "forever" || v.ExpireAt != 0 {
				t.Errorf("policy %d: named namespace after restart got %+v %v", policy, v, ok)
			}
			return nil
		})
		s.Close()
	}
}

func TestLazyAndActiveExpiry(t *testing.T) {
	s := openTest(t, t.TempDir(), FsyncNo)
	defer s.Close()
	now := time.Now().UnixMilli()
	s.Update(func(tx *Tx) error {
		for i := 0; i < 1000; i++ {
			tx.Set("0", fmt.Sprintf("gone:%d", i), Value{Data: "x", ExpireAt: now - 1})
		}
		tx.Set("0", "stays", Value{Data: "x", ExpireAt: now + 3600_000})
		return nil
	})
	// Lazily invisible at once.
	s.View(func(tx *Tx) error {
		if _, ok, _ := tx.Get("0", "gone:1"); ok {
			t.Error("expired key visible")
		}
		return nil
	})
	// Removed by the active cycle, a batch at a time.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		s.View(func(tx *Tx) error { n, _ = tx.Len("0"); return nil })
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("active expiry left %d keys", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.Stats.ExpiredKeys.Load(); got != 1000 {
		t.Errorf("expired_keys = %d, want 1000", got)
	}
	if v := s.lookup("0").volatile.Load(); v != 1 {
		t.Errorf("volatile = %d, want 1", v)
	}
}

// One expire batch never removes more than expireBatch keys, so the time
// a client waits behind it does not grow with how many keys expire.
func TestExpireBatchBounded(t *testing.T) {
	s, err := Open(Config{AppendOnly: false, Hz: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UnixMilli()
	s.Update(func(tx *Tx) error {
		for i := 0; i < 10*expireBatch; i++ {
			tx.Set("0", fmt.Sprintf("k%d", i), Value{Data: "x", ExpireAt: now - 1})
		}
		return nil
	})
	ns := s.lookup("0")
	n, more := s.expireBatch(ns)
	if n != expireBatch || !more {
		t.Fatalf("first batch removed %d (more=%v), want %d and more", n, more, expireBatch)
	}
}

func TestExpiryIndexFollowsOverwrites(t *testing.T) {
	s := openTest(t, t.TempDir(), FsyncNo)
	defer s.Close()
	now := time.Now().UnixMilli()
	s.Update(func(tx *Tx) error {
		tx.Set("0", "k", Value{Data: "a", ExpireAt: now + 1000})
		tx.Set("0", "k", Value{Data: "b", ExpireAt: now + 2000})
		tx.Set("0", "k", Value{Data: "c"})
		tx.Set("0", "d", Value{Data: "a", ExpireAt: now + 1000})
		tx.Delete("0", "d")
		return nil
	})
	if n := s.lookup("0").exp.len(); n != 0 {
		t.Errorf("expiry index holds %d entries after overwrite and delete, want 0", n)
	}
}

func TestRollbackRestoresIndexAndData(t *testing.T) {
	s := openTest(t, t.TempDir(), FsyncNo)
	defer s.Close()
	now := time.Now().UnixMilli()
	s.Update(func(tx *Tx) error { return tx.Set("0", "k", Value{Data: "a", ExpireAt: now + 5000}) })
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		tx.Set("0", "k", Value{Data: "b"})
		tx.Set("0", "n", Value{Data: "b", ExpireAt: now + 9000})
		tx.Flush("0")
		return boom
	})
	if err != boom {
		t.Fatalf("err = %v", err)
	}
	s.View(func(tx *Tx) error {
		v, ok, _ := tx.Get("0", "k")
		if !ok || v.Data != "a" || v.ExpireAt != now+5000 {
			t.Errorf("after rollback k = %+v %v", v, ok)
		}
		if _, ok, _ := tx.Get("0", "n"); ok {
			t.Error("after rollback n exists")
		}
		return nil
	})
	if n := s.lookup("0").exp.len(); n != 1 {
		t.Errorf("expiry index has %d entries after rollback, want 1", n)
	}
}

func TestCrossNamespaceNeedsExclusive(t *testing.T) {
	s := openTest(t, t.TempDir(), FsyncNo)
	defer s.Close()
	err := s.Update(func(tx *Tx) error {
		if err := tx.Set("0", "a", Value{Data: "1"}); err != nil {
			return err
		}
		return tx.Set("1", "a", Value{Data: "1"})
	})
	if !errors.Is(err, ErrCrossNamespace) {
		t.Fatalf("err = %v, want ErrCrossNamespace", err)
	}
	err = s.Exclusive(func(tx *Tx) error {
		if err := tx.Set("0", "a", Value{Data: "1"}); err != nil {
			return err
		}
		return tx.Set("1", "a", Value{Data: "2"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSwapPersists(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, FsyncAlways)
	s.Update(func(tx *Tx) error { return tx.Set("0", "k", Value{Data: "zero"}) })
	s.Update(func(tx *Tx) error { return tx.Set("1", "k", Value{Data: "one"}) })
	if err := s.Exclusive(func(tx *Tx) error { return tx.Swap("0", "1") }); err != nil {
		t.Fatal(err)
	}
	check := func(st *Store, when string) {
		for ns, want := range map[string]string{"0": "one", "1": "zero"} {
			st.View(func(tx *Tx) error {
				v, _, _ := tx.Get(ns, "k")
				if v.Data != want {
					t.Errorf("%s: namespace %s holds %q, want %q", when, ns, v.Data, want)
				}
				return nil
			})
		}
	}
	check(s, "before restart")
	s.Close()
	s = openTest(t, dir, FsyncAlways)
	defer s.Close()
	check(s, "after restart")
}

func TestNamespaceCap(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), AppendOnly: true, Databases: 2, MaxNamespaces: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, name := range []string{"0", "1", "extra"} {
		if err := s.Update(func(tx *Tx) error { return tx.Set(name, "k", Value{Data: "v"}) }); err != nil {
			t.Fatalf("namespace %d (%s): %v", i, name, err)
		}
	}
	err = s.Update(func(tx *Tx) error { return tx.Set("onetoomany", "k", Value{Data: "v"}) })
	if !errors.Is(err, ErrTooManySpaces) {
		t.Fatalf("err = %v, want ErrTooManySpaces", err)
	}
	err = s.Update(func(tx *Tx) error { return tx.Set("../x", "k", Value{Data: "v"}) })
	if !errors.Is(err, ErrNamespaceName) {
		t.Fatalf("err = %v, want ErrNamespaceName", err)
	}
	entries, _ := os.ReadDir(s.cfg.Dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "x") {
			t.Errorf("file %s created for a rejected namespace", e.Name())
		}
	}
}

// Many writers under appendfsync always share fsyncs, and every write is
// in the file when its Update returns.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, FsyncAlways)
	var wg sync.WaitGroup
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				key := fmt.Sprintf("w%d:%d", w, i)
				if err := s.Update(func(tx *Tx) error { return tx.Set("0", key, Value{Data: key}) }); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	ns := s.lookup("0")
	ns.sync.mu.Lock()
	written, synced := ns.sync.written, ns.sync.synced
	ns.sync.mu.Unlock()
	if written != 1000 || synced != written {
		t.Errorf("written=%d synced=%d, want 1000 and equal", written, synced)
	}
	s.Close()
	s = openTest(t, dir, FsyncAlways)
	defer s.Close()
	s.View(func(tx *Tx) error {
		if n, _ := tx.Len("0"); n != 1000 {
			t.Errorf("after restart %d keys, want 1000", n)
		}
		return nil
	})
}

func TestRewriteCompactsAndKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, FsyncAlways)
	for i := 0; i < 200; i++ {
		s.Update(func(tx *Tx) error { return tx.Set("0", "k", Value{Data: fmt.Sprint(i)}) })
	}
	ns := s.lookup("0")
	before := ns.fileSize()
	if !s.Rewrite() {
		t.Fatal("rewrite refused")
	}
	for s.Stats.RewriteActive.Load() != 0 {
		time.Sleep(10 * time.Millisecond)
	}
	after := ns.fileSize()
	if after >= before/10 {
		t.Errorf("file %d bytes before rewrite, %d after", before, after)
	}
	// Writes after the rewrite land in the new file and are fsynced.
	if err := s.Update(func(tx *Tx) error { return tx.Set("0", "after", Value{Data: "x"}) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir, FsyncAlways)
	defer s.Close()
	s.View(func(tx *Tx) error {
		v, _, _ := tx.Get("0", "k")
		a, _, _ := tx.Get("0", "after")
		if v.Data != "199" || a.Data != "x" {
			t.Errorf("after rewrite and restart: k=%q after=%q", v.Data, a.Data)
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(dir, manifestName)); err != nil {
		t.Error(err)
	}
}

func TestRandomKey(t *testing.T) {
	s := openTest(t, t.TempDir(), FsyncNo)
	defer s.Close()
	s.View(func(tx *Tx) error {
		if _, ok, _ := tx.RandomKey("0"); ok {
			t.Error("random key from empty namespace")
		}
		return nil
	})
	s.Update(func(tx *Tx) error {
		for i := 0; i < 100; i++ {
			tx.Set("0", fmt.Sprintf("key:%03d", i), Value{Data: "x"})
		}
		return nil
	})
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		s.View(func(tx *Tx) error {
			k, ok, _ := tx.RandomKey("0")
			if !ok {
				t.Fatal("no key")
			}
			seen[k] = true
			return nil
		})
	}
	if len(seen) < 10 {
		t.Errorf("200 draws gave only %d distinct keys", len(seen))
	}
}

// An expiry index entry that no longer matches its key (another expiry, or
// no key at all) must not remove anything.
func TestExpireStaleIndexEntry(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, FsyncEverySec)
	now := time.Now().UnixMilli()
	later := now + 3600_000
	err := s.Update(func(tx *Tx) error {
		if err := tx.Set("0", "kept", Value{Data: "v1", ExpireAt: later}); err != nil {
			return err
		}
		if err := tx.Set("0", "plain", Value{Data: "v2"}); err != nil {
			return err
		}
		return tx.Set("0", "due", Value{Data: "v3", ExpireAt: now - 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	ns := s.lookup("0")
	ns.db.update(func() {
		ns.exp.add(now-5, "kept")  // stale: the key expires later
		ns.exp.add(now-5, "plain") // stale: the key has no expiry
		ns.exp.add(now-5, "gone")  // stale: no such key
		ns.volatile.Store(int64(ns.exp.len()))
	})
	// The background cycle may get there first; either way, the due
	// entries are all consumed and only "kept"'s real one stays.
	for i := 0; ; i++ {
		s.expireBatch(ns)
		if ns.volatile.Load() == 1 {
			break
		}
		if i == 500 {
			t.Fatalf("expiry index still holds %d entries", ns.volatile.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.View(func(tx *Tx) error {
		for key, want := range map[string]Value{"kept": {Data: "v1", ExpireAt: later}, "plain": {Data: "v2"}} {
			v, ok, err := tx.Get("0", key)
			if err != nil || !ok || v.Data != want.Data || v.ExpireAt != want.ExpireAt {
				t.Errorf("%s: got %+v %v %v, want %+v", key, v, ok, err, want)
			}
		}
		if _, ok, _ := tx.Get("0", "due"); ok {
			t.Error("due: still there")
		}
		return nil
	})
	s.Close()
	// The file agrees after a restart.
	s = openTest(t, dir, FsyncEverySec)
	defer s.Close()
	s.View(func(tx *Tx) error {
		if v, ok, _ := tx.Get("0", "kept"); !ok || v.ExpireAt != later {
			t.Errorf("kept after restart: %+v %v", v, ok)
		}
		if _, ok, _ := tx.Get("0", "plain"); !ok {
			t.Error("plain lost after restart")
		}
		return nil
	})
}

// A transaction that flushes, then sets a key with the expiry it had
// before, and rolls back must leave that key in the expiry index.
func TestFlushRollbackKeepsExpiryIndex(t *testing.T) {
	s := openMemStore(t)
	at := time.Now().UnixMilli() + 60_000
	if err := s.Update(func(tx *Tx) error { return tx.Set("0", "k", Value{Data: "a", ExpireAt: at}) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.Flush("0"); err != nil {
			return err
		}
		if err := tx.Set("0", "k", Value{Data: "b", ExpireAt: at}); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("update: %v", err)
	}
	ns := s.lookup("0")
	if n := ns.exp.len(); n != 1 || ns.volatile.Load() != 1 {
		t.Errorf("expiry index holds %d entries (volatile %d) after the rollback, want 1", n, ns.volatile.Load())
	}
	s.View(func(tx *Tx) error {
		if v, ok, _ := tx.Get("0", "k"); !ok || v.Data != "a" || v.ExpireAt != at {
			t.Errorf("k after the rollback: %+v %v", v, ok)
		}
		return nil
	})
}
