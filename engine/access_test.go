package engine

import (
	"fmt"
	"hash/maphash"
	"testing"
	"time"
)

var lruMode = accessMode{logFactor: 10, decayTime: 1}
var lfuMode = accessMode{lfu: true, logFactor: 10, decayTime: 1}

// touchKey records an access to a key at now (ms), as a read or a write
// at that time would.
func (s *Store) touchKey(ns *Namespace, key string, now int64, create bool) {
	ns.db.view(func() {
		if _, m, ok := ns.db.d.getMeta(key); ok {
			touch(m, now, s.accessMode(), create)
		}
	})
}

// word is a meta word with a used slot's tag, as the dict holds.
func word() *uint32 {
	m := uint32(tagUsed | 0x2a)
	return &m
}

func TestAccessLRU(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	m := word()
	touch(m, now, lruMode, true)
	if *m&0xff != tagUsed|0x2a {
		t.Fatalf("touch changed the tag: %x", *m)
	}
	if got := lruIdle(lookupAccess(*m, now, lruMode), now+5_400); got != 5000 {
		t.Errorf("idle after 5.4 s: %d ms, want 5000 (seconds resolution)", got)
	}
	touch(m, now+5_400, lruMode, false)
	if got := lruIdle(lookupAccess(*m, now, lruMode), now+6_000); got != 1000 {
		t.Errorf("idle after a touch: %d ms", got)
	}
	// The 24-bit clock wraps as Redis's does.
	wrap := int64(lruClockMax+1) * 1000
	m = word()
	touch(m, wrap-2000, lruMode, true)
	if got := lruIdle(lookupAccess(*m, now, lruMode), wrap+3000); got != 4000 {
		t.Errorf("idle across the clock wrap: %d", got)
	}
	// At the wrap itself the clock reads 0, which stands for "never
	// recorded": LRU_CLOCK_MAX is kept instead, and a second later the
	// idle time is a second by Redis's wrap arithmetic.
	m = word()
	touch(m, wrap+500, lruMode, true)
	if got := lruIdle(lookupAccess(*m, 0, lruMode), wrap+1500); got != 1000 {
		t.Errorf("idle a second after the wrap: %d, want 1000", got)
	}
	// Nothing recorded: created when the store opened.
	if got := lookupAccess(uint32(tagUsed), now-7000, lruMode); lruIdle(got, now) != 7000 {
		t.Errorf("never touched: idle %d, want 7000", lruIdle(got, now))
	}
}

func TestAccessLFU(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	m := word()
	touch(m, now, lfuMode, true)
	if got := lfuDecr(lookupAccess(*m, now, lfuMode), now, lfuMode); got != lfuInitVal {
		t.Errorf("new key counter %d, want %d", got, lfuInitVal)
	}
	// At LFU_INIT_VAL the increment is certain, as in Redis.
	touch(m, now, lfuMode, false)
	if got := lfuDecr(lookupAccess(*m, now, lfuMode), now, lfuMode); got != lfuInitVal+1 {
		t.Errorf("after one access %d, want %d", got, lfuInitVal+1)
	}
	for i := 0; i < 10_000; i++ {
		touch(m, now, lfuMode, false)
	}
	hot := lfuDecr(lookupAccess(*m, now, lfuMode), now, lfuMode)
	// Redis's logarithmic counter at log factor 10: 1000 hits reach
	// about 18, 100k about 142.
	if hot < 30 || hot > 70 {
		t.Errorf("after 10k accesses counter %d, want about 50", hot)
	}
	// One period of decay per minute idle.
	later := now + 3*60_000
	if got := lfuDecr(lookupAccess(*m, now, lfuMode), later, lfuMode); got != hot-3 {
		t.Errorf("3 minutes later %d, want %d", got, hot-3)
	}
	// Overwriting keeps the counter and counts an access.
	touch(m, later, lfuMode, false)
	if got := lfuDecr(lookupAccess(*m, now, lfuMode), later, lfuMode); got < hot-3 {
		t.Errorf("after a write %d", got)
	}
	if *m&0xff != tagUsed|0x2a {
		t.Fatalf("touch changed the tag: %x", *m)
	}
	if lfuLogIncr(255, lfuMode) != 255 {
		t.Error("counter must saturate at 255")
	}
	noDecay := accessMode{lfu: true, logFactor: 10}
	if got := lfuDecr(lfuMinutes(now)<<8|9, now+3600_000, noDecay); got != 9 {
		t.Errorf("lfu-decay-time 0 decays: %d", got)
	}
	// Nothing recorded: a key created when the store opened.
	if got := lfuDecr(lookupAccess(uint32(tagUsed), now, lfuMode), now, lfuMode); got != lfuInitVal {
		t.Errorf("never touched: counter %d, want %d", got, lfuInitVal)
	}
}

// TestAccessKeptByTheDict: a key's access bits stay with it while the
// table grows, shrinks and moves its entries, and when its value is
// replaced; a new key starts with none.
func TestAccessKeptByTheDict(t *testing.T) {
	d := newDict(maphash.MakeSeed())
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	at := func(i int) int64 { return base + int64(i%5000)*1000 }
	check := func(when string, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			_, m, ok := d.getMeta(fmt.Sprint("k", i))
			if !ok {
				t.Fatalf("%s: k%d missing", when, i)
			}
			if got, want := accessBits(*m), lruClock(at(i)); got != want {
				t.Fatalf("%s: k%d has %d, want %d", when, i, got, want)
			}
		}
	}
	const n = 20_000
	for i := 0; i < n; i++ {
		_, _, m := d.putMeta(dictBlock(fmt.Sprint("k", i), "v"))
		if *m>>8 != 0 {
			t.Fatalf("new key k%d starts with access bits %x", i, *m)
		}
		touch(m, at(i), lruMode, true)
	}
	check("after growing", n)
	for i := 0; i < n; i++ { // replace every value
		d.put(dictBlock(fmt.Sprint("k", i), "w"))
	}
	check("after overwriting", n)
	for i := n / 20; i < n; i++ {
		d.del(fmt.Sprint("k", i))
	}
	for i := 0; i < 1000; i++ { // writes move the shrink along
		d.put(dictBlock("x", "y"))
	}
	if d.old != nil {
		d.rehashFor(time.Second)
	}
	check("after shrinking", n/20)
	d.rebuild(sizeFor(d.n) * 4)
	check("after a rebuild", n/20)
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
