package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkExp compares the index with a model set and checks its chunks:
// non-empty, within bounds, sorted within and across.
func checkExp(t *testing.T, x *expIndex, model map[expItem]bool) {
	t.Helper()
	if x.len() != len(model) {
		t.Fatalf("len %d, model %d", x.len(), len(model))
	}
	var all []expItem
	for i, c := range x.chunks {
		if len(c) == 0 || len(c) > expChunkMax || cap(c) != expChunkMax {
			t.Fatalf("chunk %d: len %d cap %d", i, len(c), cap(c))
		}
		all = append(all, c...)
	}
	if !slices.IsSortedFunc(all, expCmp) {
		t.Fatal("items out of order")
	}
	if len(all) != len(model) {
		t.Fatalf("%d items in chunks, model %d", len(all), len(model))
	}
	for _, it := range all {
		if !model[it] {
			t.Fatalf("%v not in the model", it)
		}
	}
	if f, ok := x.first(); ok != (len(all) > 0) || (ok && f != all[0]) {
		t.Fatalf("first %v %v", f, ok)
	}
}

func TestExpIndexModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var x expIndex
	model := map[expItem]bool{}
	for round := 0; round < 30; round++ {
		space := 1 + rng.IntN(5000)
		delBias := rng.IntN(100)
		inOrder := rng.IntN(3) == 0
		for i := 0; i < rng.IntN(6000); i++ {
			it := expItem{int64(rng.IntN(space)), fmt.Sprint("k", rng.IntN(3))}
			if inOrder {
				it.at = int64(round*10000 + i)
			}
			if rng.IntN(100) < delBias {
				x.remove(it.at, it.key)
				delete(model, it)
			} else {
				x.add(it.at, it.key)
				model[it] = true
			}
		}
		checkExp(t, &x, model)
	}
	// Taking everything from the front, as the expiry cycle does, a few
	// at a time and some one by one.
	for i := 0; ; i++ {
		var taken []expItem
		x.scan(func(it expItem) bool {
			taken = append(taken, it)
			return len(taken) < 1+rng.IntN(300)
		})
		if len(taken) == 0 {
			break
		}
		if i%3 == 0 {
			taken = taken[:1]
			x.remove(taken[0].at, taken[0].key)
		} else {
			x.dropFirst(len(taken))
		}
		for _, it := range taken {
			delete(model, it)
		}
		checkExp(t, &x, model)
	}
}

// TestExpIndexInOrderIsPacked: keys given expiries in time order fill
// their chunks, and load packs any order.
func TestExpIndexInOrderIsPacked(t *testing.T) {
	var x expIndex
	var items []expItem
	for i := 0; i < 10*expChunkMax; i++ {
		x.add(int64(i), "k")
		items = append(items, expItem{int64(i), "k"})
	}
	if len(x.chunks) != 10 {
		t.Errorf("%d in-order items in %d chunks, want 10", x.len(), len(x.chunks))
	}
	rand.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	var y expIndex
	y.load(append(items, items[0])) // a duplicate is dropped
	model := map[expItem]bool{}
	for _, it := range items {
		model[it] = true
	}
	checkExp(t, &y, model)
	if len(y.chunks) != 10 {
		t.Errorf("load made %d chunks, want 10", len(y.chunks))
	}
}

// TestExpIndexRandomCoversAll: sampling reaches every item.
func TestExpIndexRandomCoversAll(t *testing.T) {
	var x expIndex
	for i := 0; i < 300; i++ {
		x.add(int64(rand.IntN(1000)), fmt.Sprint(i))
	}
	seen := map[expItem]bool{}
	for i := 0; i < 30000; i++ {
		it, _ := x.random()
		seen[it] = true
	}
	if len(seen) != x.len() {
		t.Errorf("sampling reached %d of %d items", len(seen), x.len())
	}
}
