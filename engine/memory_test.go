package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// memStore opens an in-memory store whose used memory is exactly the
// keys' estimate, so tests know what eviction will do.
func memStore(t testing.TB, mc MemoryConfig) *Store {
	t.Helper()
	s, err := Open(Config{Memory: mc})
	if err != nil {
		t.Fatal(err)
	}
	s.mem.dataOnly.Store(true)
	t.Cleanup(func() { s.Close() })
	return s
}

// sumCosts recomputes the estimate of every key from scratch.
func sumCosts(t *testing.T, s *Store) int64 {
	t.Helper()
	var total int64
	for _, ns := range s.all() {
		var n int64
		s.View(func(tx *Tx) error {
			p, _ := tx.part(ns.name, false)
			if p == nil {
				return nil
			}
			p.ns.db.d.each(func(e dslot) bool {
				n += rawCost(e.key(), e.val())
				return true
			})
			return nil
		})
		if got := ns.acct.bytes.Load(); got != n {
			t.Errorf("namespace %s: accounted %d, keys cost %d", ns.name, got, n)
		}
		total += n
	}
	if got := s.mem.data.Load(); got != total {
		t.Errorf("store accounts %d, keys cost %d", got, total)
	}
	return total
}

// settleHeap collects until the garbage of earlier tests is gone.
func settleHeap() {
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAllocSize(t *testing.T) {
	cases := map[int]int64{0: 8, 1: 8, 8: 8, 9: 16, 47: 48, 48: 48, 49: 64, 1025: 1152, 32768: 32768, 32769: 40960}
	for n, want := range cases {
		if got := allocSize(n); got != want {
			t.Errorf("allocSize(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestMemoryEstimate checks the per-key estimate against the live heap a
// store really uses, for keys written in order and at random, with and
// without expiry.
func TestMemoryEstimate(t *testing.T) {
	if testing.Short() {
		t.Skip("loads keys")
	}
	cases := []struct {
		klen, vlen   int
		ttl, shuffle bool
	}{
		{14, 32, false, false}, {14, 32, true, false}, {14, 32, false, true}, {14, 32, true, true},
		{20, 10, false, true}, {40, 200, true, false}, {50, 1000, false, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("k%d_v%d_ttl%v_shuffle%v", c.klen, c.vlen, c.ttl, c.shuffle), func(t *testing.T) {
			const n = 100_000
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("%0*d", c.klen, i)
			}
			if c.shuffle {
				rand.Shuffle(n, func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			}
			val := string(make([]byte, c.vlen))
			exp := int64(0)
			if c.ttl {
				exp = time.Now().UnixMilli() + 3600_000
			}
			s := memStore(t, MemoryConfig{})
			settleHeap()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := 0; i < n; i += 100 {
				s.Update(func(tx *Tx) error {
					for _, k := range keys[i : i+100] {
						tx.Set("0", k, Value{Data: val, ExpireAt: exp})
					}
					return nil
				})
			}
			settleHeap()
			runtime.ReadMemStats(&after)
			real := float64(after.HeapAlloc) - float64(before.HeapAlloc)
			est := float64(s.mem.data.Load())
			if d := (est - real) / real; d > 0.12 || d < -0.12 {
				t.Errorf("estimate %.1f bytes/key, live heap %.1f bytes/key (%+.0f%%)", est/n, real/n, d*100)
			} else {
				t.Logf("estimate %.1f bytes/key, live heap %.1f bytes/key", est/n, real/n)
			}
			runtime.KeepAlive(keys)
		})
	}
}

// TestMemoryAccounting follows the estimate through every kind of change.
func TestMemoryAccounting(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	now := time.Now().UnixMilli()
	s.Update(func(tx *Tx) error {
		for i := 0; i < 100; i++ {
			tx.Set("0", fmt.Sprint("k", i), Value{Data: "value"})
		}
		tx.Set("0", "v", Value{Data: "x", ExpireAt: now + 60_000})
		tx.Set("0", "soon", Value{Data: "x", ExpireAt: now + 30})
		return nil
	})
	one := entryCost(2, 6, false)
	if got := sumCosts(t, s); got < 100*one {
		t.Fatalf("estimate %d, want at least %d", got, 100*one)
	}
	// Overwrites, a longer value, an expiry added, deletes.
	s.Update(func(tx *Tx) error {
		tx.Set("0", "k1", Value{Data: string(make([]byte, 500))})
		tx.Set("0", "k2", Value{Data: "value", ExpireAt: now + 60_000})
		tx.Delete("0", "k3")
		tx.Delete("0", "missing")
		return nil
	})
	sumCosts(t, s)
	// A rolled-back transaction changes nothing.
	before := s.mem.data.Load()
	s.Update(func(tx *Tx) error {
		tx.Set("0", "k4", Value{Data: string(make([]byte, 5000))})
		tx.Set("0", "new", Value{Data: "x"})
		tx.Delete("0", "k5")
		return ErrRollback
	})
	if got := s.mem.data.Load(); got != before {
		t.Errorf("rollback changed the estimate: %d, was %d", got, before)
	}
	// A second namespace, then a flush of the first with writes after it
	// in the same transaction.
	s.Update(func(tx *Tx) error { return tx.Set("1", "other", Value{Data: "abc"}) })
	s.Exclusive(func(tx *Tx) error {
		tx.Set("0", "before-flush", Value{Data: "x"})
		tx.Flush("0")
		tx.Set("0", "after-flush", Value{Data: "y"})
		return nil
	})
	if got, want := sumCosts(t, s), entryCost(11, 2, false)+entryCost(5, 4, false); got != want {
		t.Errorf("after flush: %d, want %d", got, want)
	}
	// Expiry: on access and by the active cycle.
	s.Update(func(tx *Tx) error {
		tx.Set("0", "lazy", Value{Data: "x", ExpireAt: now - 1})
		tx.Set("0", "active", Value{Data: "x", ExpireAt: time.Now().UnixMilli() + 1})
		return nil
	})
	s.Update(func(tx *Tx) error { tx.Get("0", "lazy"); return nil })
	time.Sleep(5 * time.Millisecond)
	for i := 0; i < 100 && s.lookup("0").volatile.Load() > 0; i++ {
		s.activeExpireCycle()
		time.Sleep(time.Millisecond)
	}
	if got, want := sumCosts(t, s), entryCost(11, 2, false)+entryCost(5, 4, false); got != want {
		t.Errorf("after expiry: %d, want %d", got, want)
	}
	s.Exclusive(func(tx *Tx) error { tx.Flush("0"); return tx.Flush("1") })
	if got := sumCosts(t, s); got != 0 {
		t.Errorf("empty store accounts %d", got)
	}
}

// TestMemoryAccountingReload: keys loaded from the files are counted.
func TestMemoryAccountingReload(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, AppendOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Update(func(tx *Tx) error {
		for i := 0; i < 50; i++ {
			tx.Set("0", fmt.Sprint("key", i), Value{Data: "some value", ExpireAt: int64(i%2) * (time.Now().UnixMilli() + 60_000)})
		}
		return nil
	})
	want := s.mem.data.Load()
	s.Close()
	s, err = Open(Config{Dir: dir, AppendOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := sumCosts(t, s); got != want || want == 0 {
		t.Errorf("reloaded estimate %d, before %d", got, want)
	}
}

// TestUsedMemoryFollowsHeap: after a collection the baseline makes used
// memory the live heap, and it moves with the data at once.
func TestUsedMemoryFollowsHeap(t *testing.T) {
	s, err := Open(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	val := string(make([]byte, 1000))
	s.Update(func(tx *Tx) error {
		for i := 0; i < 10_000; i++ {
			tx.Set("0", fmt.Sprint("k", i), Value{Data: val})
		}
		return nil
	})
	cycles := s.mem.gcCycles.Load()
	for i := 0; i < 200 && s.mem.gcCycles.Load() == cycles; i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if s.mem.gcCycles.Load() == cycles {
		t.Fatal("no collection seen")
	}
	live := int64(readMetric("/gc/heap/live:bytes"))
	used := s.UsedMemory()
	if used < 10_000*1000 || used > live*11/10 || used < live*9/10 {
		t.Errorf("used %d, live heap %d, data %d", used, live, s.mem.data.Load())
	}
	s.Exclusive(func(tx *Tx) error { return tx.Flush("0") })
	if after := s.UsedMemory(); after > used-10_000*1000 {
		t.Errorf("used %d after flushing 10 MB, was %d", after, used)
	}
	if s.mem.peak.Load() < used {
		t.Errorf("peak %d below a used figure seen, %d", s.mem.peak.Load(), used)
	}
}

func TestGoMemoryLimit(t *testing.T) {
	if GoMemoryLimit(0) <= 1<<60 {
		t.Error("no maxmemory must mean no limit")
	}
	if got := GoMemoryLimit(100 << 20); got != 100<<20+25<<20+32<<20 {
		t.Errorf("limit for 100 MB: %d", got)
	}
}

func TestParsePolicy(t *testing.T) {
	for i, n := range policyNames {
		p, err := ParsePolicy(n)
		if err != nil || int(p) != i || p.String() != n {
			t.Errorf("%s: %v %v", n, p, err)
		}
	}
	if _, err := ParsePolicy("lru"); err == nil {
		t.Error("lru accepted")
	}
	if !AllKeysLFU.LFU() || !VolatileLFU.LFU() || AllKeysLRU.LFU() || !AllKeysRandom.AllKeys() || VolatileTTL.AllKeys() {
		t.Error("policy flags")
	}
}
