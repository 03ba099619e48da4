package engine

import (
	"math/rand/v2"
	"slices"
)

// expIndex orders a namespace's volatile keys by expiry time, then key: the
// active expiry cycle takes the due ones from its front, volatile-ttl
// eviction its first, and the volatile-* policies sample it.
//
// It is a sorted list cut into chunks of at most expChunkMax items, each
// chunk's array allocated whole. A B-tree (tidwall/btree, used before)
// splits a full node in two halves that keep sharing one array, so keys
// given an expiry in time order, the common case, left its nodes half full
// and cost 52 bytes an entry for 24 bytes of data. Here an item past the
// end of the last, full chunk starts a new chunk instead, so such keys fill
// their chunks completely; inserts elsewhere split a chunk in two, and a
// chunk that deletes leave under a quarter full is merged into a neighbour
// when they fit in one.
type expIndex struct {
	chunks [][]expItem
	n      int
}

// expItem is one volatile key in the expiry index.
type expItem struct {
	at  int64
	key string
}

const expChunkMax = 128

func expLess(a, b expItem) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.key < b.key
}

func expCmp(a, b expItem) int {
	switch {
	case expLess(a, b):
		return -1
	case expLess(b, a):
		return 1
	}
	return 0
}

func newChunk() []expItem { return make([]expItem, 0, expChunkMax) }

// init empties the index without touching the chunks a copy of it may
// still hold (Tx.Flush keeps one for rollback).
func (x *expIndex) init() { *x = expIndex{} }

func (x *expIndex) len() int { return x.n }

// chunkFor is the index of the chunk where it belongs: the first whose last
// item is not below it, or the last chunk.
func (x *expIndex) chunkFor(it expItem) int {
	i, _ := slices.BinarySearchFunc(x.chunks, it, func(c []expItem, t expItem) int {
		return expCmp(c[len(c)-1], t)
	})
	return min(i, len(x.chunks)-1)
}

func (x *expIndex) add(at int64, key string) {
	it := expItem{at, key}
	if len(x.chunks) == 0 {
		x.chunks = append(x.chunks, append(newChunk(), it))
		x.n++
		return
	}
	ci := x.chunkFor(it)
	c := x.chunks[ci]
	pos, found := slices.BinarySearchFunc(c, it, expCmp)
	if found {
		return
	}
	if len(c) == expChunkMax {
		if pos == len(c) && ci == len(x.chunks)-1 {
			// Past the end: a new chunk, leaving this one full.
			x.chunks = append(x.chunks, append(newChunk(), it))
			x.n++
			return
		}
		half := append(newChunk(), c[expChunkMax/2:]...)
		clear(c[expChunkMax/2:])
		c = c[:expChunkMax/2]
		x.chunks[ci] = c
		x.chunks = slices.Insert(x.chunks, ci+1, half)
		if pos > len(c) {
			ci, c, pos = ci+1, half, pos-len(c)
		}
	}
	x.chunks[ci] = slices.Insert(c, pos, it)
	x.n++
}

func (x *expIndex) remove(at int64, key string) {
	if len(x.chunks) == 0 {
		return
	}
	it := expItem{at, key}
	ci := x.chunkFor(it)
	c := x.chunks[ci]
	pos, found := slices.BinarySearchFunc(c, it, expCmp)
	if !found {
		return
	}
	c = slices.Delete(c, pos, pos+1)
	x.chunks[ci] = c
	x.n--
	switch {
	case len(c) == 0:
		x.chunks = slices.Delete(x.chunks, ci, ci+1)
	case len(c) < expChunkMax/4:
		if ci+1 < len(x.chunks) && len(c)+len(x.chunks[ci+1]) <= expChunkMax {
			x.merge(ci)
		} else if ci > 0 && len(c)+len(x.chunks[ci-1]) <= expChunkMax {
			x.merge(ci - 1)
		}
	}
}

// merge moves chunk i+1 into chunk i.
func (x *expIndex) merge(i int) {
	x.chunks[i] = append(x.chunks[i], x.chunks[i+1]...)
	x.chunks = slices.Delete(x.chunks, i+1, i+2)
}

// dropFirst removes the first n items: what the expiry cycle took. Whole
// chunks go at once and the first remaining one moves down once, instead
// of once per item.
func (x *expIndex) dropFirst(n int) {
	n = min(n, x.n)
	x.n -= n
	k := 0
	for k < len(x.chunks) && n >= len(x.chunks[k]) {
		n -= len(x.chunks[k])
		k++
	}
	x.chunks = slices.Delete(x.chunks, 0, k)
	if n > 0 {
		x.chunks[0] = slices.Delete(x.chunks[0], 0, n)
	}
}

// first is the item that expires soonest.
func (x *expIndex) first() (expItem, bool) {
	if x.n == 0 {
		return expItem{}, false
	}
	return x.chunks[0][0], true
}

// random draws an item: a random chunk, then a random item of it (items of
// sparse chunks come up a little more often).
func (x *expIndex) random() (expItem, bool) {
	if x.n == 0 {
		return expItem{}, false
	}
	c := x.chunks[rand.IntN(len(x.chunks))]
	return c[rand.IntN(len(c))], true
}

// scan calls fn for the items in order until it returns false. fn must not
// change the index.
func (x *expIndex) scan(fn func(expItem) bool) {
	for _, c := range x.chunks {
		for _, it := range c {
			if !fn(it) {
				return
			}
		}
	}
}

// load replaces the index with items, in any order, packed into full
// chunks.
func (x *expIndex) load(items []expItem) {
	slices.SortFunc(items, expCmp)
	items = slices.CompactFunc(items, func(a, b expItem) bool { return a == b })
	x.init()
	for len(items) > 0 {
		n := min(len(items), expChunkMax)
		x.chunks = append(x.chunks, append(newChunk(), items[:n]...))
		items = items[n:]
	}
	x.n = 0
	for _, c := range x.chunks {
		x.n += len(c)
	}
}
