package engine

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"sync/atomic"
	"time"
	"unsafe"
)

// dict is a namespace's key index: an open-addressing hash table with
// linear probing, after the measurements in kv.go. Each entry is one
// allocation holding the key followed by the stored value; a slot points
// at it and carries the two lengths. A parallel word per slot (its meta)
// holds in its low byte the slot's tag, which says whether the slot is
// used and holds 7 bits of the key's hash, so a probe compares words that
// sit together and touches an entry only when the tag matches. The other
// 24 bits are the key's access information for eviction (access.go),
// Redis's robj->lru: a lookup finds them in the word it has just read,
// where a table of their own cost a second hash and a cache miss per
// command.
//
// Readers holding the namespace's read lock update the access bits of
// the keys they read (atomically: several may read one key), so under that
// lock a meta word is read atomically too; the tag byte itself changes
// only under the write lock.
//
// Deletion shifts the following entries of the run back (no tombstones),
// so a run never holds a hole and a lookup stops at the first free slot.
//
// The table doubles when it is 4/5 full and shrinks when it drops below
// 1/16. Like Redis's dict it rehashes incrementally, so no single command
// pays for moving a large table (a million keys took 140 ms in one step):
// the new table takes every insert, each write moves a few slots of the
// old one, and lookups try the new table, then the old. A slot moved out
// of the old table is marked moved (a tombstone) rather than emptied, so
// the old table's runs stay whole for the lookups that still probe it.
// SCAN's cursor (scan) walks home buckets in Redis's reverse-binary order
// over both tables, which survives any resize.
type dict struct {
	table
	// old is the table being moved out, nil when no rehash is running;
	// moved is how many of its slots have been moved, oldN how many
	// entries it still holds.
	old   *table
	moved uint64
	oldN  int
	n     int // entries in both tables
	seed  maphash.Seed
}

type table struct {
	slots []dslot
	meta  []uint32 // tag | access bits << 8
	mask  uint64
}

// dslot points at an entry: klen bytes of key, then vlen bytes of value.
type dslot struct {
	p    *byte
	klen uint32
	vlen uint32
}

func (s dslot) key() string { return unsafe.String(s.p, int(s.klen)) }

func (s dslot) val() string {
	if s.vlen == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(s.p), s.klen)), int(s.vlen))
}

const (
	dictMinSize = 8
	tagUsed     = 0x80 // set in the tag of a used slot
	tagMoved    = 0x01 // an old table's slot whose entry was moved
	// rehashStep is how many old slots each write moves: enough to finish
	// before the new table needs to grow in turn (it starts at most 2/5
	// full and takes one insert per write).
	rehashStep = 16
)

func newDict(seed maphash.Seed) *dict {
	d := &dict{seed: seed}
	d.table = newTable(dictMinSize)
	return d
}

func newTable(size int) table {
	return table{slots: make([]dslot, size), meta: make([]uint32, size), mask: uint64(size - 1)}
}

// tag is slot i's tag. Under the read lock others may be storing the
// word's access bits, so it is read atomically.
func (t *table) tag(i uint64) uint8 { return uint8(atomic.LoadUint32(&t.meta[i])) }

func (d *dict) hash(key string) uint64 { return maphash.String(d.seed, key) }

func tagOf(h uint64) uint8 { return uint8(h>>57) | tagUsed }

// find returns the slot index of key in t, or -1. Moved slots never match.
func (t *table) find(key string, h uint64) int {
	tag := tagOf(h)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		g := t.tag(i)
		if g == 0 {
			return -1
		}
		if g == tag && t.slots[i].key() == key {
			return int(i)
		}
	}
}

// insertNew places an entry known to be absent from t, with access bits
// acc (24 bits), and returns its meta word.
func (t *table) insertNew(s dslot, h uint64, acc uint32) *uint32 {
	i := h & t.mask
	for t.meta[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.meta[i], t.slots[i] = acc<<8|uint32(tagOf(h)), s
	return &t.meta[i]
}

func (d *dict) get(key string) (dslot, bool) {
	s, _, ok := d.getMeta(key)
	return s, ok
}

// getMeta is get that also returns the entry's meta word, whose access
// bits (access.go) the caller may read and update.
func (d *dict) getMeta(key string) (dslot, *uint32, bool) {
	h := d.hash(key)
	if i := d.find(key, h); i >= 0 {
		return d.slots[i], &d.meta[i], true
	}
	if d.old != nil {
		if i := d.old.find(key, h); i >= 0 {
			return d.old.slots[i], &d.old.meta[i], true
		}
	}
	return dslot{}, nil, false
}

// prefetchMax is how many keys prefetch takes at once.
const prefetchMax = 64

// prefetch reads, for each key, the meta word and slot of its home bucket,
// then the entry of the first slot from there whose tag is the key's: the
// memory a lookup of the key reads first. The reads of the first pass do
// not depend on each other, nor do those of the second, so the processor
// overlaps their cache misses; the lookups that follow then find the
// memory in the cache. The old table of a rehash is left out. It returns a
// sum of what it read, for the caller to keep, so that no read is
// optimised away. Keys past prefetchMax are ignored.
func (d *dict) prefetch(keys []string) uint64 {
	var hs [prefetchMax]uint64
	keys = keys[:min(len(keys), prefetchMax)]
	var sink uint64
	for i, k := range keys {
		h := d.hash(k)
		hs[i] = h
		j := h & d.mask
		sink += uint64(d.tag(j)) + uint64(d.slots[j].klen)
	}
	for i := range keys {
		h := hs[i]
		tag := tagOf(h)
		for j, n := h&d.mask, 0; n < 4; j, n = (j+1)&d.mask, n+1 {
			g := d.tag(j)
			if g == 0 {
				break
			}
			if s := d.slots[j]; g == tag && s.klen|s.vlen != 0 {
				sink += uint64(*s.p)
				break
			}
		}
	}
	return sink
}

// put stores s, returning the entry it replaced.
func (d *dict) put(s dslot) (dslot, bool) {
	prev, replaced, _ := d.putMeta(s)
	return prev, replaced
}

// putMeta is put that also returns the new entry's meta word. An entry
// that replaces another keeps its access bits, as Redis's dbSetValue
// keeps the old object's.
func (d *dict) putMeta(s dslot) (dslot, bool, *uint32) {
	d.rehashSome()
	key := s.key()
	h := d.hash(key)
	if i := d.find(key, h); i >= 0 {
		prev := d.slots[i]
		d.slots[i] = s
		return prev, true, &d.meta[i]
	}
	var prev dslot
	var acc uint32
	replaced := false
	if d.old != nil {
		if i := d.old.find(key, h); i >= 0 {
			prev, replaced, acc = d.old.slots[i], true, d.old.meta[i]>>8
			d.old.meta[i], d.old.slots[i] = tagMoved, dslot{}
			d.oldN--
			d.n--
		}
	}
	if d.old == nil && uint64(d.n+1)*5 > (d.mask+1)*4 {
		d.startRehash(int(d.mask+1) * 2)
	} else if d.old != nil && uint64(d.n+1-d.oldN)*5 > (d.mask+1)*4 {
		// Inserts outran the move (a shrink's small table filling up):
		// rebuild both into one table in one step.
		d.rebuild(sizeFor(d.n+1) * 2)
	}
	d.n++
	return prev, replaced, d.insertNew(s, h, acc)
}

// del removes key, returning its entry.
func (d *dict) del(key string) (dslot, bool) {
	d.rehashSome()
	h := d.hash(key)
	var prev dslot
	if i := d.find(key, h); i >= 0 {
		prev = d.slots[i]
		d.removeAt(uint64(i))
	} else if d.old == nil {
		return dslot{}, false
	} else if i := d.old.find(key, h); i >= 0 {
		prev = d.old.slots[i]
		d.old.meta[i], d.old.slots[i] = tagMoved, dslot{}
		d.oldN--
	} else {
		return dslot{}, false
	}
	d.n--
	if d.old == nil && d.n*16 < int(d.mask+1) && d.mask+1 > dictMinSize {
		d.startRehash(sizeFor(d.n))
	}
	return prev, true
}

// sizeFor is the table size for n entries after a shrink: a power of two
// at most half full, at least dictMinSize.
func sizeFor(n int) int {
	size := dictMinSize
	for size < 2*n {
		size *= 2
	}
	return size
}

// removeAt empties slot i of the current table and shifts back the entries
// after it that may move closer to their home bucket.
func (d *dict) removeAt(i uint64) {
	j := i
	for {
		j = (j + 1) & d.mask
		if d.meta[j] == 0 {
			break
		}
		home := d.hash(d.slots[j].key()) & d.mask
		// Move j to i unless its home lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			d.meta[i], d.slots[i] = d.meta[j], d.slots[j]
			i = j
		}
	}
	d.meta[i], d.slots[i] = 0, dslot{}
}

// startRehash makes a new current table of size; the old one's entries
// move over a few at a time.
func (d *dict) startRehash(size int) {
	old := d.table
	d.old, d.moved, d.oldN = &old, 0, d.n
	d.table = newTable(size)
}

// rehashSome moves the entries of the next rehashStep slots of the old
// table, or skips up to 16 times as many free ones.
func (d *dict) rehashSome() {
	if d.old == nil {
		return
	}
	o := d.old
	size := o.mask + 1
	i, budget := d.moved, rehashStep*16
	for ; i < size && budget > 0; i++ {
		budget--
		if o.meta[i]&tagUsed != 0 {
			if uint64(d.n-d.oldN+1)*5 > (d.mask+1)*4 {
				// The new table is filling up (a shrink's small table
				// taking inserts): finish in one step.
				d.moved = i
				d.rebuild(sizeFor(d.n) * 2)
				return
			}
			s := o.slots[i]
			d.insertNew(s, d.hash(s.key()), o.meta[i]>>8)
			o.meta[i], o.slots[i] = tagMoved, dslot{}
			d.oldN--
			budget -= 15
		}
	}
	d.moved = i
	if d.moved == size || d.oldN == 0 {
		d.old = nil
	}
}

// rehashFor moves the old table's entries for about budget, as Redis's
// cron does for a table nobody writes to. The caller holds the write lock.
func (d *dict) rehashFor(budget time.Duration) {
	deadline := time.Now().Add(budget)
	for d.old != nil {
		for k := 0; k < 64 && d.old != nil; k++ {
			d.rehashSome()
		}
		if time.Now().After(deadline) {
			return
		}
	}
}

// rebuild puts every entry of both tables into one new table of size.
func (d *dict) rebuild(size int) {
	t := newTable(size)
	for _, from := range []*table{d.old, &d.table} {
		if from == nil {
			continue
		}
		for i, m := range from.meta {
			if m&tagUsed != 0 {
				s := from.slots[i]
				t.insertNew(s, d.hash(s.key()), m>>8)
			}
		}
	}
	d.table, d.old, d.oldN = t, nil, 0
}

// clear empties the dict.
func (d *dict) clear() {
	d.table = newTable(dictMinSize)
	d.old, d.n, d.oldN = nil, 0, 0
}

// each calls fn for every entry until it returns false. fn must not change
// the dict.
func (d *dict) each(fn func(s dslot) bool) bool {
	if o := d.old; o != nil {
		for i := range o.meta {
			if o.tag(uint64(i))&tagUsed != 0 && !fn(o.slots[i]) {
				return false
			}
		}
	}
	for i := range d.meta {
		if d.tag(uint64(i)) != 0 && !fn(d.slots[i]) {
			return false
		}
	}
	return true
}

// visitHome calls fn for the entries of t whose home bucket is b: they lie
// in the run that starts at b.
func (d *dict) visitHome(t *table, b uint64, fn func(s dslot)) {
	for i := b; t.tag(i) != 0; i = (i + 1) & t.mask {
		if t.tag(i)&tagUsed != 0 && d.hash(t.slots[i].key())&t.mask == b {
			fn(t.slots[i])
		}
		if (i+1)&t.mask == b {
			break
		}
	}
}

// scan visits the entries whose home bucket is the one cursor names and
// returns the next cursor, 0 when the walk is over. It is Redis's dictScan:
// the cursor's bits are incremented from the top, so a table that doubled
// or halved between calls still has every bucket of the old size covered
// exactly by the buckets of the new one, and an entry present for the
// whole walk is visited at least once. While a rehash runs, the bucket of
// the smaller table is visited with all the buckets of the larger one that
// expand it.
func (d *dict) scan(cursor uint64, fn func(s dslot)) uint64 {
	if d.old == nil {
		d.visitHome(&d.table, cursor&d.mask, fn)
		return nextCursor(cursor, d.mask)
	}
	small, large := d.old, &d.table
	if small.mask > large.mask {
		small, large = large, small
	}
	m0, m1 := small.mask, large.mask
	d.visitHome(small, cursor&m0, fn)
	for {
		d.visitHome(large, cursor&m1, fn)
		cursor = nextCursor(cursor, m1)
		if cursor&(m0^m1) == 0 {
			return cursor
		}
	}
}

func nextCursor(cursor, mask uint64) uint64 {
	cursor |= ^mask
	cursor = bits.Reverse64(cursor)
	cursor++
	return bits.Reverse64(cursor)
}

// random returns an entry drawn uniformly at random, false when the dict is
// empty. It picks a table in proportion to its entries, then draws slots
// until one is used: a table is at least 1/16 full (an old one being
// emptied is picked in proportion to what it still holds), so that takes
// a few draws; a long run of bad luck falls back to the first used slot
// after the last draw.
func (d *dict) random() (dslot, bool) {
	s, _, ok := d.randomMeta()
	return s, ok
}

// randomMeta is random that also returns the entry's meta word.
func (d *dict) randomMeta() (dslot, *uint32, bool) {
	if d.n == 0 {
		return dslot{}, nil, false
	}
	t := &d.table
	if d.old != nil && rand.IntN(d.n) < d.oldN {
		t = d.old
	}
	i := rand.Uint64() & t.mask
	for try := 0; try < 64 && t.tag(i)&tagUsed == 0; try++ {
		i = rand.Uint64() & t.mask
	}
	for t.tag(i)&tagUsed == 0 {
		i = (i + 1) & t.mask
	}
	return t.slots[i], &t.meta[i], true
}
