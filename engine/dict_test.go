package engine

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
	"time"
)

func dictBlock(k, v string) dslot {
	return blockSlot([]byte(k+v), len(k))
}

// checkDict verifies the dict against a map model: same entries, every
// entry of either table reachable from its home bucket without crossing a
// free slot, and the counts right.
func checkDict(t *testing.T, d *dict, model map[string]string) {
	t.Helper()
	if d.n != len(model) {
		t.Fatalf("n = %d, model has %d", d.n, len(model))
	}
	used := 0
	check := func(tb *table, name string) int {
		n := 0
		for i, m := range tb.meta {
			tag := uint8(m)
			if tag&tagUsed == 0 {
				if tag != 0 && (tag != tagMoved || tb != d.old) {
					t.Fatalf("%s slot %d: tag %x", name, i, tag)
				}
				continue
			}
			n++
			s := tb.slots[i]
			if want, ok := model[s.key()]; !ok || want != s.val() {
				t.Fatalf("%s slot %d holds %q=%q, model %q (%v)", name, i, s.key(), s.val(), want, ok)
			}
			h := d.hash(s.key())
			if tag != tagOf(h) {
				t.Fatalf("%s slot %d: tag %x, want %x", name, i, tag, tagOf(h))
			}
			for j := h & tb.mask; j != uint64(i); j = (j + 1) & tb.mask {
				if tb.meta[j] == 0 {
					t.Fatalf("key %q at %s %d unreachable from its home %d: slot %d free", s.key(), name, i, h&tb.mask, j)
				}
			}
		}
		return n
	}
	used += check(&d.table, "new")
	if d.old != nil {
		n := check(d.old, "old")
		if n != d.oldN {
			t.Fatalf("old table holds %d, oldN = %d", n, d.oldN)
		}
		used += n
	}
	if used != d.n {
		t.Fatalf("%d slots used, n = %d", used, d.n)
	}
	for k, v := range model {
		s, ok := d.get(k)
		if !ok || s.val() != v {
			t.Fatalf("get %q = %q %v, want %q", k, s.val(), ok, v)
		}
	}
}

// TestDictModel runs random puts and deletes, over a key space small
// enough for many collisions and large enough to grow and shrink the
// table, against a map.
func TestDictModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	d := newDict(maphash.MakeSeed())
	model := map[string]string{}
	rehashing := 0
	for round := 0; round < 40; round++ {
		space := 1 + rng.IntN(3000)
		ops := rng.IntN(4000)
		delBias := rng.IntN(100)
		for i := 0; i < ops; i++ {
			k := fmt.Sprint("k", rng.IntN(space))
			if rng.IntN(100) < delBias {
				_, had := model[k]
				prev, ok := d.del(k)
				if ok != had || (ok && prev.val() != model[k]) {
					t.Fatalf("del %q: %q %v, model %q %v", k, prev.val(), ok, model[k], had)
				}
				delete(model, k)
			} else {
				v := fmt.Sprint("v", rng.IntN(1000))
				old, had := model[k]
				prev, ok := d.put(dictBlock(k, v))
				if ok != had || (ok && prev.val() != old) {
					t.Fatalf("put %q: replaced %q %v, model %q %v", k, prev.val(), ok, old, had)
				}
				model[k] = v
			}
			if d.old != nil && i%50 == 0 {
				checkDict(t, d, model)
				rehashing++
			}
		}
		checkDict(t, d, model)
		if lf := float64(d.n-d.oldN) / float64(d.mask+1); lf > 0.8 {
			t.Fatalf("load factor %.3f with %d keys in %d slots", lf, d.n-d.oldN, d.mask+1)
		}
		d.rehashFor(time.Second)
		checkDict(t, d, model)
		if lf := float64(d.n) / float64(d.mask+1); d.mask+1 > dictMinSize && (lf > 0.8 || lf < 1.0/32) {
			t.Fatalf("after the rehash: load factor %.3f with %d keys in %d slots", lf, d.n, d.mask+1)
		}
	}
	if rehashing == 0 {
		t.Error("no round ended in the middle of a rehash: the test does not cover it")
	}
	d.clear()
	checkDict(t, d, map[string]string{})
}

// TestDictEmptyKeyAndValue: the empty key and empty values are entries
// like any other.
func TestDictEmptyKeyAndValue(t *testing.T) {
	d := newDict(maphash.MakeSeed())
	d.put(dictBlock("", "x"))
	d.put(dictBlock("k", ""))
	if s, ok := d.get(""); !ok || s.val() != "x" {
		t.Errorf("empty key: %q %v", s.val(), ok)
	}
	if s, ok := d.get("k"); !ok || s.val() != "" {
		t.Errorf("empty value: %q %v", s.val(), ok)
	}
	if _, ok := d.del(""); !ok || d.n != 1 {
		t.Errorf("del empty key: %v, n %d", ok, d.n)
	}
}

// Index benchmarks at 100,000 keys, random access: what a command pays to
// find or store its key.
func benchDict(b *testing.B) (*dict, []string) {
	d := newDict(maphash.MakeSeed())
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%012d", i)
		d.put(dictBlock(keys[i], "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"))
	}
	return d, keys
}

func BenchmarkDictGet(b *testing.B) {
	d, keys := benchDict(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := d.get(keys[rand.IntN(len(keys))]); !ok {
			b.Fatal("missing key")
		}
	}
}

// BenchmarkDictGet16 looks up 16 random keys at a time, as a pipeline of
// GETs does, with and without prefetching them first.
func BenchmarkDictGet16(b *testing.B) {
	d, keys := benchDict(b)
	for _, pre := range []bool{false, true} {
		b.Run(fmt.Sprint("prefetch=", pre), func(b *testing.B) {
			batch := make([]string, 16)
			var sink uint64
			for i := 0; i < b.N; i += 16 {
				for j := range batch {
					batch[j] = keys[rand.IntN(len(keys))]
				}
				if pre {
					sink += d.prefetch(batch)
				}
				for _, k := range batch {
					if _, ok := d.get(k); !ok {
						b.Fatal("missing key")
					}
				}
			}
			_ = sink
		})
	}
}

// TestDictPrefetch: prefetch changes nothing, whatever it is given: keys
// present and absent, the empty key and value, more keys than it takes,
// during a rehash.
func TestDictPrefetch(t *testing.T) {
	d := newDict(maphash.MakeSeed())
	model := map[string]string{"": ""}
	d.put(dictBlock("", ""))
	var keys []string
	for i := 0; i < 3000; i++ {
		k := fmt.Sprint("k", i)
		d.put(dictBlock(k, "v"))
		model[k] = "v"
		keys = append(keys, k, fmt.Sprint("absent", i))
		if i%500 == 0 {
			d.prefetch(keys)
			checkDict(t, d, model)
		}
	}
	for i := 0; i < 2900; i++ { // shrink
		k := fmt.Sprint("k", i)
		d.del(k)
		delete(model, k)
		if d.old != nil && i%100 == 0 {
			d.prefetch(append([]string{""}, keys[len(keys)-200:]...))
			checkDict(t, d, model)
		}
	}
	if d.prefetch(nil) != 0 {
		t.Error("prefetch of no keys read something")
	}
}

func BenchmarkDictPut(b *testing.B) {
	d, keys := benchDict(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.put(dictBlock(keys[rand.IntN(len(keys))], "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"))
	}
}

// TestDictScanDuringRehash: a walk with the dict growing and shrinking
// between calls, in the middle of rehashes, returns every key present
// throughout.
func TestDictScanDuringRehash(t *testing.T) {
	d := newDict(maphash.MakeSeed())
	for i := 0; i < 1000; i++ {
		d.put(dictBlock(fmt.Sprint("stay", i), "v"))
	}
	seen := map[string]bool{}
	cursor, step, during := uint64(0), 0, 0
	for {
		if d.old != nil {
			during++
		}
		cursor = d.scan(cursor, func(s dslot) { seen[s.key()] = true })
		if cursor == 0 {
			break
		}
		step++
		for j := 0; j < 40; j++ {
			if step < 60 {
				d.put(dictBlock(fmt.Sprint("tmp", step, "-", j), "v"))
			} else {
				d.del(fmt.Sprint("tmp", step-60, "-", j))
			}
		}
	}
	for i := 0; i < 1000; i++ {
		if !seen[fmt.Sprint("stay", i)] {
			t.Fatalf("stay%d never returned", i)
		}
	}
	if during == 0 {
		t.Error("no scan step ran during a rehash: the test does not cover it")
	}
}

// TestDictRebuildWhenInsertsOutrunTheMove: if the new table fills before
// the old one is moved (it cannot at rehashStep's pace, so the state is
// made by hand), everything goes into one table at once.
func TestDictRebuildWhenInsertsOutrunTheMove(t *testing.T) {
	d := newDict(maphash.MakeSeed())
	model := map[string]string{}
	for i := 0; i < 2000; i++ {
		k := fmt.Sprint("k", i)
		d.put(dictBlock(k, "v"))
		model[k] = "v"
	}
	d.rehashFor(time.Second)
	d.startRehash(dictMinSize) // a new table far too small
	for i := 0; i < 50; i++ {
		k := fmt.Sprint("n", i)
		d.put(dictBlock(k, "w"))
		model[k] = "w"
		checkDict(t, d, model)
	}
	if d.mask+1 < 2*uint64(len(model)) {
		t.Errorf("%d entries in %d slots after the rebuild", len(model), d.mask+1)
	}
}
