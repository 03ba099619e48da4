package engine

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// dict is a namespace's key index: an open-addressing hash table with
// linear probing, after the measurements in kv.go. Each entry is one
// allocation holding the key followed by the stored value; a slot points
// at it and carries the two lengths. A parallel byte per slot (its tag)
// says whether the slot is used and holds 7 bits of the key's hash, so a
// probe compares bytes that sit together and touches an entry only when
// the tag matches.
//
// Deletion shifts the following entries of the run back (no tombstones),
// so a run never holds a hole and a lookup stops at the first free slot.
//
// The table doubles when it is 4/5 full and halves when it drops below
// 1/16, rehashing in one step. SCAN's cursor (scan) walks home buckets in
// Redis's reverse-binary order, which survives both.
type dict struct {
	slots []dslot
	tags  []uint8
	mask  uint64
	n     int
	seed  maphash.Seed
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
	tagUsed     = 0x80
)

func newDict(seed maphash.Seed) *dict {
	d := &dict{seed: seed}
	d.alloc(dictMinSize)
	return d
}

func (d *dict) alloc(size int) {
	d.slots = make([]dslot, size)
	d.tags = make([]uint8, size)
	d.mask = uint64(size - 1)
}

func (d *dict) hash(key string) uint64 { return maphash.String(d.seed, key) }

func tagOf(h uint64) uint8 { return uint8(h>>57) | tagUsed }

// find returns the slot index of key, or -1.
func (d *dict) find(key string) int {
	h := d.hash(key)
	tag := tagOf(h)
	for i := h & d.mask; ; i = (i + 1) & d.mask {
		t := d.tags[i]
		if t == 0 {
			return -1
		}
		if t == tag && d.slots[i].key() == key {
			return int(i)
		}
	}
}

func (d *dict) get(key string) (dslot, bool) {
	if i := d.find(key); i >= 0 {
		return d.slots[i], true
	}
	return dslot{}, false
}

// put stores s, returning the entry it replaced.
func (d *dict) put(s dslot) (dslot, bool) {
	key := s.key()
	h := d.hash(key)
	tag := tagOf(h)
	for i := h & d.mask; ; i = (i + 1) & d.mask {
		t := d.tags[i]
		if t == 0 {
			if uint64(d.n+1)*5 > (d.mask+1)*4 {
				d.resize(int(d.mask+1) * 2)
				d.insertNew(s, h)
			} else {
				d.tags[i], d.slots[i] = tag, s
			}
			d.n++
			return dslot{}, false
		}
		if t == tag && d.slots[i].key() == key {
			prev := d.slots[i]
			d.slots[i] = s
			return prev, true
		}
	}
}

// insertNew places an entry known to be absent, without counting it.
func (d *dict) insertNew(s dslot, h uint64) {
	i := h & d.mask
	for d.tags[i] != 0 {
		i = (i + 1) & d.mask
	}
	d.tags[i], d.slots[i] = tagOf(h), s
}

// del removes key, returning its entry.
func (d *dict) del(key string) (dslot, bool) {
	i := d.find(key)
	if i < 0 {
		return dslot{}, false
	}
	prev := d.slots[i]
	d.removeAt(uint64(i))
	d.n--
	if d.n*16 < int(d.mask+1) && d.mask+1 > dictMinSize {
		d.resize(max(dictMinSize, int(d.mask+1)/2))
	}
	return prev, true
}

// removeAt empties slot i and shifts back the entries after it that may
// move closer to their home bucket.
func (d *dict) removeAt(i uint64) {
	j := i
	for {
		j = (j + 1) & d.mask
		if d.tags[j] == 0 {
			break
		}
		home := d.hash(d.slots[j].key()) & d.mask
		// Move j to i unless its home lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			d.tags[i], d.slots[i] = d.tags[j], d.slots[j]
			i = j
		}
	}
	d.tags[i], d.slots[i] = 0, dslot{}
}

func (d *dict) resize(size int) {
	for size > dictMinSize && d.n*5 > size*4 {
		size *= 2
	}
	old, oldTags := d.slots, d.tags
	d.alloc(size)
	for i, t := range oldTags {
		if t != 0 {
			d.insertNew(old[i], d.hash(old[i].key()))
		}
	}
}

// clear empties the table.
func (d *dict) clear() {
	d.alloc(dictMinSize)
	d.n = 0
}

// each calls fn for every entry until it returns false. fn must not change
// the table.
func (d *dict) each(fn func(s dslot) bool) bool {
	for i, t := range d.tags {
		if t != 0 && !fn(d.slots[i]) {
			return false
		}
	}
	return true
}

// scan visits the entries whose home bucket is the one cursor names and
// returns the next cursor, 0 when the walk is over. It is Redis's
// dictScan for one table: the cursor's bits are incremented from the top,
// so a table that doubled or halved between calls still has every bucket
// of the old size covered exactly by the buckets of the new one, and an
// entry present for the whole walk is visited at least once.
func (d *dict) scan(cursor uint64, fn func(s dslot)) uint64 {
	m := d.mask
	b := cursor & m
	// The entries homed at b lie in the run that starts at b.
	for i := b; d.tags[i] != 0; i = (i + 1) & m {
		if d.hash(d.slots[i].key())&m == b {
			fn(d.slots[i])
		}
		if (i+1)&m == b {
			break
		}
	}
	cursor |= ^m
	cursor = bits.Reverse64(cursor)
	cursor++
	return bits.Reverse64(cursor)
}

// random returns an entry drawn uniformly at random, false when the table
// is empty. It draws slots until one is used: the table is at least 1/16
// full, so that takes a few draws; a long run of bad luck falls back to the
// first used slot after the last draw.
func (d *dict) random() (dslot, bool) {
	if d.n == 0 {
		return dslot{}, false
	}
	i := rand.Uint64() & d.mask
	for try := 0; try < 64 && d.tags[i] == 0; try++ {
		i = rand.Uint64() & d.mask
	}
	for d.tags[i] == 0 {
		i = (i + 1) & d.mask
	}
	return d.slots[i], true
}

// bytes is the table's own memory: the slots and their tags.
func (d *dict) bytes() int64 {
	return int64(d.mask+1) * int64(unsafe.Sizeof(dslot{})+1)
}
