package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var lruMode = accessMode{logFactor: 10, decayTime: 1}
var lfuMode = accessMode{lfu: true, logFactor: 10, decayTime: 1}

func TestAccessLRU(t *testing.T) {
	tb := newAccessTable(1 << 12)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	tb.touch(42, now, lruMode, true)
	if got := lruIdle(tb.lookup(42, now+5_400, now, lruMode), now+5_400); got != 5000 {
		t.Errorf("idle after 5.4 s: %d ms, want 5000 (seconds resolution)", got)
	}
	tb.touch(42, now+5_400, lruMode, false)
	if got := lruIdle(tb.lookup(42, now+6_000, now, lruMode), now+6_000); got != 1000 {
		t.Errorf("idle after a touch: %d ms", got)
	}
	// The 24-bit clock wraps as Redis's does.
	wrap := int64(lruClockMax+1) * 1000
	tb.touch(7, wrap-2000, lruMode, true)
	if got := lruIdle(tb.lookup(7, wrap+3000, now, lruMode), wrap+3000); got != 4000 {
		t.Errorf("idle across the clock wrap: %d", got)
	}
}

func TestAccessLFU(t *testing.T) {
	tb := newAccessTable(1 << 12)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	tb.touch(42, now, lfuMode, true)
	if got := lfuDecr(tb.lookup(42, now, now, lfuMode), now, lfuMode); got != lfuInitVal {
		t.Errorf("new key counter %d, want %d", got, lfuInitVal)
	}
	// At LFU_INIT_VAL the increment is certain, as in Redis.
	tb.touch(42, now, lfuMode, false)
	if got := lfuDecr(tb.lookup(42, now, now, lfuMode), now, lfuMode); got != lfuInitVal+1 {
		t.Errorf("after one access %d, want %d", got, lfuInitVal+1)
	}
	for i := 0; i < 10_000; i++ {
		tb.touch(42, now, lfuMode, false)
	}
	hot := lfuDecr(tb.lookup(42, now, now, lfuMode), now, lfuMode)
	// Redis's logarithmic counter at log factor 10: 1000 hits reach
	// about 18, 100k about 142.
	if hot < 30 || hot > 70 {
		t.Errorf("after 10k accesses counter %d, want about 50", hot)
	}
	// One period of decay per minute idle.
	later := now + 3*60_000
	if got := lfuDecr(tb.lookup(42, later, now, lfuMode), later, lfuMode); got != hot-3 {
		t.Errorf("3 minutes later %d, want %d", got, hot-3)
	}
	// Overwriting keeps the counter and counts an access.
	tb.touch(42, later, lfuMode, false)
	if got := lfuDecr(tb.lookup(42, later, now, lfuMode), later, lfuMode); got < hot-3 {
		t.Errorf("after a write %d", got)
	}
	if lfuLogIncr(255, lfuMode) != 255 {
		t.Error("counter must saturate at 255")
	}
	noDecay := accessMode{lfu: true, logFactor: 10}
	if got := lfuDecr(lfuMinutes(now)<<8|9, now+3600_000, noDecay); got != 9 {
		t.Errorf("lfu-decay-time 0 decays: %d", got)
	}
}

// TestAccessDisplacement: with a slot for every key most keys are known
// exactly; the keys that lose their slots are older than those that keep
// them, and read as untouched since the store opened, so the order of
// idle times holds.
func TestAccessDisplacement(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	s.mem.table.Store(newAccessTable(2048))
	ns, _ := s.create("0")
	base := s.mem.startMs
	const n = 1024
	for i := 0; i < n; i++ {
		s.touchKey(ns, fmt.Sprint("k", i), base+int64(i+1)*1000, true)
	}
	now := base + (n+1)*1000
	mode := s.accessMode()
	table := s.accessTable()
	idle := make([]int64, n)
	exact := 0
	for i := range idle {
		idle[i] = lruIdle(table.lookup(s.keyHash(ns, fmt.Sprint("k", i)), now, s.mem.startMs, mode), now)
		if idle[i] == int64(n-i)*1000 {
			exact++
		}
	}
	if exact < n*95/100 {
		t.Errorf("only %d keys of %d known exactly in %d slots", exact, n, n)
	}
	// Pairs far apart in time keep their order, nearly always.
	disorder, pairs := 0, 0
	for i := 0; i+100 < n; i += 7 {
		pairs++
		if idle[i] < idle[i+100] {
			disorder++
		}
	}
	if disorder > pairs/20 {
		t.Errorf("%d pairs 100 s apart read in the wrong order", disorder)
	}
	fresh := newAccessTable(64)
	if got := fresh.lookup(12345, now, base, mode); got != lruClock(base) {
		t.Errorf("never touched: %d, want the start clock %d", got, lruClock(base))
	}
}

func TestAccessResize(t *testing.T) {
	tb := newAccessTable(1 << 12)
	now := time.Now().UnixMilli()
	hashes := make([]uint64, 200)
	for i := range hashes {
		hashes[i] = rand.Uint64()
		tb.touch(hashes[i], now-int64(i)*10_000, lruMode, true)
	}
	exact := func(g *accessTable) int {
		n := 0
		for i, h := range hashes {
			if lruIdle(g.lookup(h, now, now-1e9, lruMode), now) == int64(i)*10_000 {
				n++
			}
		}
		return n
	}
	if got := exact(tb.resized(1<<14, now, lruMode)); got < 195 {
		t.Errorf("growing 4 times kept %d of 200 keys", got)
	}
	if got := exact(tb.resized(5000, now, lruMode)); got < 195 {
		t.Errorf("growing to 5000 slots kept %d of 200 keys", got)
	}
	// Shrinking by a ratio that is not a whole number keeps the keys too
	// when they still fit.
	for _, n := range []int{1000, 640, 2900} {
		if got := exact(tb.resized(n, now, lruMode)); got < 190 {
			t.Errorf("shrinking to %d slots kept %d of 200 keys", n, got)
		}
	}
}

func TestAccessSlots(t *testing.T) {
	cases := map[int64]int{0: 1 << 20, 1: 1 << 12, 100 << 20: 100 << 14, 100<<20 + 17: 100 << 14, 1 << 40: 1 << 26}
	for mm, want := range cases {
		if got := accessSlots(mm); got != want {
			t.Errorf("accessSlots(%d) = %d, want %d", mm, got, want)
		}
	}
}

// TestAccessThroughTx: reads and writes touch keys, NO-TOUCH reads and
// Peek do not.
func TestAccessThroughTx(t *testing.T) {
	s := memStore(t, MemoryConfig{})
	ns, _ := s.create("0")
	old := time.Now().UnixMilli() - 100_000
	s.Update(func(tx *Tx) error { return tx.Set("0", "k", Value{Data: "v"}) })
	idle := func() int64 {
		var ms int64
		s.View(func(tx *Tx) error { ms, _, _ = tx.KeyAccess("0", "k"); return nil })
		return ms
	}
	age := func() { s.touchKey(ns, "k", old, false) }
	age()
	s.View(func(tx *Tx) error { tx.Peek("0", "k"); return nil })
	if idle() < 99_000 {
		t.Error("Peek touched the key")
	}
	s.View(func(tx *Tx) error { tx.SetNoTouch(true); tx.Get("0", "k"); return nil })
	if idle() < 99_000 {
		t.Error("a NO-TOUCH read touched the key")
	}
	s.View(func(tx *Tx) error { tx.Get("0", "k"); return nil })
	if idle() > 2000 {
		t.Error("a read did not touch the key")
	}
	age()
	s.Update(func(tx *Tx) error { return tx.Set("0", "k", Value{Data: "w"}) })
	if idle() > 2000 {
		t.Error("a write did not touch the key")
	}
	// Under LFU a new key starts at 5 and a write counts as an access.
	s.SetMemoryConfig(MemoryConfig{Policy: AllKeysLFU})
	s.Update(func(tx *Tx) error { return tx.Set("0", "n", Value{Data: "v"}) })
	var freq int
	s.View(func(tx *Tx) error { _, freq, _ = tx.KeyAccess("0", "n"); return nil })
	if freq != lfuInitVal {
		t.Errorf("new key freq %d", freq)
	}
	s.Update(func(tx *Tx) error { return tx.Set("0", "n", Value{Data: "w"}) })
	s.View(func(tx *Tx) error { _, freq, _ = tx.KeyAccess("0", "n"); return nil })
	if freq != lfuInitVal+1 {
		t.Errorf("overwritten key freq %d", freq)
	}
}
