package engine

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fillKeys writes n keys prefix0..prefix(n-1) with 100-byte values; ttl > 0
// gives each key an expiry ttl ms (plus i ms) ahead.
func fillKeys(t *testing.T, s *Store, ns, prefix string, n int, ttl int64) []string {
	t.Helper()
	keys := make([]string, n)
	val := strings.Repeat("v", 100)
	now := time.Now().UnixMilli()
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	err := s.Update(func(tx *Tx) error {
		for i, k := range keys {
			v := Value{Data: val}
			if ttl > 0 {
				v.ExpireAt = now + ttl + int64(i)
			}
			if err := tx.Set(ns, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// present counts which of keys still exist.
func present(s *Store, ns string, keys []string) int {
	n := 0
	s.View(func(tx *Tx) error {
		for _, k := range keys {
			if ok, _ := tx.Exists(ns, k); ok {
				n++
			}
		}
		return nil
	})
	return n
}

// limit sets maxmemory to a fraction of the data and the policy.
func limit(s *Store, pol Policy, fraction float64) int64 {
	max := int64(float64(s.mem.data.Load()) * fraction)
	s.SetMemoryConfig(MemoryConfig{MaxMemory: max, Policy: pol})
	return max
}

// evictAll runs eviction until it stops, as many clients' calls would.
func evictAll(t *testing.T, s *Store) EvictResult {
	t.Helper()
	for i := 0; i < 100_000; i++ {
		if r := s.Evict(); r != EvictRunning {
			return r
		}
	}
	t.Fatal("eviction never finished")
	return EvictFail
}

// age marks keys as last accessed ago ms in the past (LRU) or, with
// create, as created then (LFU counters decay from LFU_INIT_VAL).
func age(s *Store, ns string, keys []string, ago int64, create bool) {
	n := s.lookup(ns)
	now := time.Now().UnixMilli()
	for _, k := range keys {
		s.touchKey(n, k, now-ago, create)
	}
}

func TestEvictNoEviction(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	keys := fillKeys(t, s, "0", "k", 500, 0)
	limit(s, NoEviction, 0.5)
	if r := s.Evict(); r != EvictFail {
		t.Errorf("noeviction over the limit: %v, want EvictFail", r)
	}
	if n := present(s, "0", keys); n != 500 {
		t.Errorf("%d keys left, want all 500", n)
	}
	limit(s, NoEviction, 2)
	if r := s.Evict(); r != EvictOK {
		t.Errorf("under the limit: %v", r)
	}
	s.SetMemoryConfig(MemoryConfig{})
	if r := s.Evict(); r != EvictOK || s.OverMaxMemory() {
		t.Errorf("no maxmemory: %v", r)
	}
}

func TestEvictAllKeysLRU(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	cold := fillKeys(t, s, "0", "cold", 1000, 0)
	hot := fillKeys(t, s, "0", "hot", 1000, 0)
	age(s, "0", cold, 3600_000, false)
	max := limit(s, AllKeysLRU, 0.6)
	if r := evictAll(t, s); r != EvictOK {
		t.Fatalf("evict: %v", r)
	}
	if used := s.UsedMemory(); used > max {
		t.Errorf("used %d over maxmemory %d", used, max)
	}
	if n := present(s, "0", hot); n < 950 {
		t.Errorf("only %d of 1000 recently used keys kept", n)
	}
	if n := present(s, "0", cold); n > 300 {
		t.Errorf("%d of 1000 idle keys kept, want about 200", n)
	}
	if got := s.Stats.EvictedKeys.Load(); got < 700 || got > 900 {
		t.Errorf("evicted_keys %d, want about 800", got)
	}
}

func TestEvictAllKeysLFU(t *testing.T) {
	s := memStore(t, MemoryConfig{Policy: AllKeysLFU})
	rare := fillKeys(t, s, "0", "rare", 1000, 0)
	often := fillKeys(t, s, "0", "often", 1000, 0)
	age(s, "0", rare, 10*60_000, true) // created 10 minutes ago: decayed to 0
	for i := 0; i < 20; i++ {
		s.View(func(tx *Tx) error {
			for _, k := range often {
				tx.Get("0", k)
			}
			return nil
		})
	}
	limit(s, AllKeysLFU, 0.6)
	if r := evictAll(t, s); r != EvictOK {
		t.Fatalf("evict: %v", r)
	}
	if n := present(s, "0", often); n < 950 {
		t.Errorf("only %d of 1000 frequently used keys kept", n)
	}
	if n := present(s, "0", rare); n > 300 {
		t.Errorf("%d of 1000 rarely used keys kept", n)
	}
}

func TestEvictAllKeysRandom(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	a := fillKeys(t, s, "0", "a", 1000, 0)
	b := fillKeys(t, s, "0", "b", 1000, 1000_000)
	max := limit(s, AllKeysRandom, 0.5)
	if r := evictAll(t, s); r != EvictOK {
		t.Fatalf("evict: %v", r)
	}
	na, nb := present(s, "0", a), present(s, "0", b)
	if s.UsedMemory() > max || na == 1000 || nb == 1000 || na == 0 || nb == 0 {
		t.Errorf("random eviction left %d and %d of 1000 (used %d, max %d)", na, nb, s.UsedMemory(), max)
	}
}

// testVolatile checks a volatile policy evicts only keys with an expiry,
// and fails once none is left.
func testVolatile(t *testing.T, pol Policy, prep func(s *Store, vol []string)) *Store {
	s := memStore(t, MemoryConfig{Policy: pol})
	persistent := fillKeys(t, s, "0", "p", 1000, 0)
	vol := fillKeys(t, s, "0", "v", 1000, 3600_000)
	if prep != nil {
		prep(s, vol)
	}
	// Evicting volatile keys can bring memory under 80%.
	limit(s, pol, 0.8)
	if r := evictAll(t, s); r != EvictOK {
		t.Fatalf("%v: %v", pol, r)
	}
	if n := present(s, "0", persistent); n != 1000 {
		t.Errorf("%v evicted %d keys without expiry", pol, 1000-n)
	}
	if n := present(s, "0", vol); n == 1000 || n < 500 {
		t.Errorf("%v left %d of 1000 volatile keys", pol, n)
	}
	// Under 40% only the volatile keys may go, and that is not enough.
	limit(s, pol, 0.4)
	if r := evictAll(t, s); r != EvictFail {
		t.Errorf("%v with no volatile key left: %v, want EvictFail", pol, r)
	}
	if n := present(s, "0", persistent); n != 1000 {
		t.Errorf("%v evicted %d keys without expiry", pol, 1000-n)
	}
	if n := present(s, "0", vol); n != 0 {
		t.Errorf("%v left %d volatile keys while over the limit", pol, n)
	}
	return s
}

func TestEvictVolatileLRU(t *testing.T) {
	testVolatile(t, VolatileLRU, func(s *Store, vol []string) { age(s, "0", vol[:500], 3600_000, false) })
}

func TestEvictVolatileLFU(t *testing.T) {
	testVolatile(t, VolatileLFU, func(s *Store, vol []string) { age(s, "0", vol[:500], 600_000, true) })
}

func TestEvictVolatileRandom(t *testing.T) { testVolatile(t, VolatileRandom, nil) }

func TestEvictVolatileTTL(t *testing.T) {
	s := testVolatile(t, VolatileTTL, nil)
	// The soonest expiry goes first, exactly.
	s.SetMemoryConfig(MemoryConfig{})
	vol := fillKeys(t, s, "0", "t", 100, 3600_000) // t0 expires first
	max := s.mem.data.Load() - 30*entryCost(3, 101+8, true)
	s.SetMemoryConfig(MemoryConfig{MaxMemory: max, Policy: VolatileTTL})
	if r := evictAll(t, s); r != EvictOK {
		t.Fatalf("evict: %v", r)
	}
	for i, k := range vol {
		if gone := present(s, "0", []string{k}) == 0; gone != (i < 30) {
			t.Errorf("key %s (expiring %dth): gone %v", k, i, gone)
		}
	}
}

// TestEvictAcrossNamespaces: candidates are drawn from every namespace.
func TestEvictAcrossNamespaces(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	cold := fillKeys(t, s, "0", "k", 500, 0)
	hot := fillKeys(t, s, "sessions", "k", 500, 0)
	age(s, "0", cold, 3600_000, false)
	limit(s, AllKeysLRU, 0.7)
	if r := evictAll(t, s); r != EvictOK {
		t.Fatalf("evict: %v", r)
	}
	if n := present(s, "sessions", hot); n < 480 {
		t.Errorf("%d of 500 recent keys of the other namespace kept", n)
	}
	if n := present(s, "0", cold); n > 300 {
		t.Errorf("%d of 500 idle keys kept", n)
	}
	sumCosts(t, s)
}

// TestEvictNotifies: evicted keys reach the touch hook (WATCH, client
// tracking).
func TestEvictNotifies(t *testing.T) {
	s, err := Open(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mem.dataOnly.Store(true)
	var mu sync.Mutex
	seen := map[string]bool{}
	s.OnTouch(func(ts []Touched) {
		mu.Lock()
		for _, x := range ts {
			seen[x.Namespace+"/"+x.Key] = true
		}
		mu.Unlock()
	})
	keys := fillKeys(t, s, "0", "k", 100, 0)
	mu.Lock()
	clear(seen)
	mu.Unlock()
	limit(s, AllKeysRandom, 0.5)
	evictAll(t, s)
	mu.Lock()
	defer mu.Unlock()
	gone := 0
	for _, k := range keys {
		if present(s, "0", []string{k}) == 0 {
			gone++
			if !seen["0/"+k] {
				t.Errorf("evicted key %s not reported", k)
			}
		}
	}
	if gone == 0 || int64(gone) != s.Stats.EvictedKeys.Load() || len(seen) != gone {
		t.Errorf("%d keys gone, %d reported, evicted_keys %d", gone, len(seen), s.Stats.EvictedKeys.Load())
	}
}

// TestEvictBackground: lowering maxmemory starts eviction at once, with no
// command asking for it.
func TestEvictBackground(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	fillKeys(t, s, "0", "k", 2000, 0)
	max := limit(s, AllKeysLRU, 0.5)
	deadline := time.Now().Add(20 * time.Second)
	for s.UsedMemory() > max && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if used := s.UsedMemory(); used > max {
		t.Errorf("used %d still over maxmemory %d", used, max)
	}
}

// TestEvictConcurrent runs writers, readers and eviction together (for
// the race detector) and checks the accounting matches the keys after.
func TestEvictConcurrent(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	fillKeys(t, s, "0", "k", 2000, 0)
	limit(s, AllKeysLRU, 0.5)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			val := strings.Repeat("x", 100)
			for i := 0; !stop.Load(); i++ {
				ns := []string{"0", "1"}[i%2]
				key := fmt.Sprintf("g%d-%d", g, i%3000)
				s.Update(func(tx *Tx) error {
					if i%5 == 0 {
						_, err := tx.Delete(ns, key)
						return err
					}
					return tx.Set(ns, key, Value{Data: val, ExpireAt: int64(i%3) * (time.Now().UnixMilli() + 60_000)})
				})
				s.View(func(tx *Tx) error { tx.Get(ns, key); return nil })
				if r := s.Evict(); r == EvictFail {
					t.Error("EvictFail with keys to evict")
					return
				}
			}
		}(g)
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	evictAll(t, s)
	sumCosts(t, s)
	if s.OverMaxMemory() {
		t.Errorf("used %d over maxmemory %d", s.UsedMemory(), s.MaxMemory())
	}
}

// TestSampleKeysUniform: sampling draws every key about equally often,
// however the keys are spread over the key space.
func TestSampleKeysUniform(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	keys := fillKeys(t, s, "0", "k:", 1000, 0) // k:0 .. k:999, unpadded
	ns := s.lookup("0")
	counts := map[string]int{}
	ns.db.view(func() {
		for i := 0; i < 200_000; i++ {
			e, ok := ns.db.d.random()
			if !ok {
				t.Fatal("no key drawn")
			}
			counts[e.key()]++
		}
	})
	for _, k := range keys {
		if c := counts[k]; c < 100 || c > 300 {
			t.Errorf("key %s drawn %d times in 200000, want about 200", k, c)
		}
	}
}

func TestEvictionPool(t *testing.T) {
	var p evictionPool
	ns := &Namespace{}
	for i := 0; i < 40; i++ {
		p.insert(uint64(i*7%40), ns, fmt.Sprint("k", i*7%40))
	}
	p.insert(39, ns, "k39") // already there: no duplicate
	if len(p.e) != evictPoolSize {
		t.Fatalf("pool holds %d", len(p.e))
	}
	for want := 39; want >= 24; want-- {
		e, ok := p.pop()
		if !ok || e.score != uint64(want) || e.key != fmt.Sprint("k", want) {
			t.Fatalf("pop %v %v, want score %d", e, ok, want)
		}
	}
	if _, ok := p.pop(); ok {
		t.Error("pool not empty")
	}
}
