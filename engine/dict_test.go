package engine

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

func dictBlock(k, v string) dslot {
	return blockSlot([]byte(k+v), len(k))
}

// checkDict verifies the table against a map model: same entries, every
// entry reachable from its home bucket without crossing a free slot, and
// the count right.
func checkDict(t *testing.T, d *dict, model map[string]string) {
	t.Helper()
	if d.n != len(model) {
		t.Fatalf("n = %d, model has %d", d.n, len(model))
	}
	used := 0
	for i, tag := range d.tags {
		if tag == 0 {
			continue
		}
		used++
		s := d.slots[i]
		if want, ok := model[s.key()]; !ok || want != s.val() {
			t.Fatalf("slot %d holds %q=%q, model %q (%v)", i, s.key(), s.val(), want, ok)
		}
		h := d.hash(s.key())
		if tag != tagOf(h) {
			t.Fatalf("slot %d: tag %x, want %x", i, tag, tagOf(h))
		}
		for j := h & d.mask; j != uint64(i); j = (j + 1) & d.mask {
			if d.tags[j] == 0 {
				t.Fatalf("key %q at %d unreachable from its home %d: slot %d free", s.key(), i, h&d.mask, j)
			}
		}
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
		}
		checkDict(t, d, model)
		if lf := float64(d.n) / float64(d.mask+1); d.mask+1 > dictMinSize && (lf > 0.8 || lf < 1.0/32) {
			t.Fatalf("load factor %.3f with %d keys in %d slots", lf, d.n, d.mask+1)
		}
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

func BenchmarkDictPut(b *testing.B) {
	d, keys := benchDict(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.put(dictBlock(keys[rand.IntN(len(keys))], "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"))
	}
}
