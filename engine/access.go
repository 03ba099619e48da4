package engine

// Access information for LRU and LFU eviction, OBJECT IDLETIME and OBJECT
// FREQ, kept without growing a single key.
//
// Redis keeps 24 bits per object: under an LRU policy the last access in
// seconds (its LRU clock), under an LFU policy a 16-bit "last decrement
// time" in minutes and an 8-bit logarithmic access counter. We keep exactly
// those 24 bits, with Redis's arithmetic, but in a fixed-size table of
// uint32 slots outside the keys: a key hashes to a bucket of eight slots
// (half a cache line), and the slot that holds it carries an 8-bit
// fingerprint of the key beside the 24 bits. A key's information lives in
// whichever slot of its bucket shows its fingerprint; when none does, it
// takes the slot holding the least valuable information (empty, older
// access, lower counter). So
// the table keeps the recently and frequently used keys exactly, and a key
// that lost its slot is older (colder) than what displaced it, which is the
// order eviction needs. A fingerprint can match another key's slot (about
// one lookup in 60 at the usual two slots per key): approximate, as
// Redis's sampling is. Updates are plain atomic loads and stores: two clients
// touching the same slot at once may lose one update, as approximate as
// Redis's own sampling.
//
// The table is sized from maxmemory (one slot per 64 bytes, about two per
// key) and its memory is part of used_memory.

import (
	"math/rand/v2"
	"sync/atomic"
)

const (
	lruClockMax  = 1<<24 - 1 // Redis's LRU_CLOCK_MAX
	lfuInitVal   = 5         // Redis's LFU_INIT_VAL: a new key's counter
	lfuTimeMask  = 0xffff    // LFU decrement time: minutes, 16 bits
	accessMinLog = 12
	accessMaxLog = 26
)

// accessTable is the fixed-size table of access slots, in buckets of
// accessBucket slots.
type accessTable struct {
	slots   []uint32
	buckets uint64
}

const accessBucket = 8

func newAccessTable(n int) *accessTable {
	n = max(n/accessBucket, 2) * accessBucket
	return &accessTable{slots: make([]uint32, n), buckets: uint64(n / accessBucket)}
}

// accessSlots is the table size for a maxmemory: a slot per 64 bytes, so
// about two per key (4 bytes of each 64, as the 24 bits inside each of
// Redis's objects cost it), 2^20 when there is no limit.
func accessSlots(maxmemory int64) int {
	if maxmemory <= 0 {
		return 1 << 20
	}
	return int(min(max(maxmemory/64, 1<<accessMinLog), 1<<accessMaxLog)) &^ (accessBucket - 1)
}

// bytes is the table's size in memory.
func (t *accessTable) bytes() int64 { return int64(len(t.slots)) * 4 }

// bucket is the slots a key may use and its fingerprint (1..255), from
// its hash: the low half picks the bucket by multiplication (so any number
// of buckets works, and a bucket maps to the same part of a resized
// table), the fingerprint comes from all the bits mixed. A bucket is 32
// bytes, half a cache line, so an access costs one cache miss.
func (t *accessTable) bucket(h uint64) ([]uint32, uint32) {
	i := ((h & 0xffffffff) * t.buckets >> 32) * accessBucket
	fp := uint32((h * 0x9e3779b97f4a7c15) >> 56)
	if fp == 0 {
		fp = 1
	}
	return t.slots[i : i+accessBucket : i+accessBucket], fp
}

// accessMode is how the 24 bits are read: as an LRU clock or as LFU data.
type accessMode struct {
	lfu       bool
	logFactor int64 // lfu-log-factor
	decayTime int64 // lfu-decay-time, minutes
}

// lruClock is Redis's LRU clock at Unix time now (ms): seconds, 24 bits.
func lruClock(now int64) uint32 { return uint32(now/1000) & lruClockMax }

// lfuMinutes is Redis's LFUGetTimeInMinutes.
func lfuMinutes(now int64) uint32 { return uint32(now/60000) & lfuTimeMask }

// lruIdle is Redis's estimateObjectIdleTime in milliseconds.
func lruIdle(lru uint32, now int64) int64 {
	clock := lruClock(now)
	if clock >= lru {
		return int64(clock-lru) * 1000
	}
	return int64(clock+(lruClockMax-lru)) * 1000
}

// lfuDecr is Redis's LFUDecrAndReturn: the counter less one per
// decay period since the last decrement time.
func lfuDecr(v uint32, now int64, m accessMode) uint32 {
	ldt := v >> 8 & lfuTimeMask
	counter := v & 255
	if m.decayTime == 0 {
		return counter
	}
	cur := lfuMinutes(now)
	var elapsed uint32
	if cur >= ldt {
		elapsed = cur - ldt
	} else {
		elapsed = lfuTimeMask - ldt + cur
	}
	periods := int64(elapsed) / m.decayTime
	if periods > int64(counter) {
		return 0
	}
	return counter - uint32(periods)
}

// lfuLogIncr is Redis's LFULogIncr: the higher the counter, the less
// likely an access increments it.
func lfuLogIncr(counter uint32, m accessMode) uint32 {
	if counter == 255 {
		return 255
	}
	base := float64(counter) - lfuInitVal
	if base < 0 {
		base = 0
	}
	if rand.Float64() < 1/(base*float64(m.logFactor)+1) {
		counter++
	}
	return counter
}

// touch records an access at now (ms). create says the key was just
// created, which under LFU starts its counter at LFU_INIT_VAL as Redis's
// createObject does.
func (t *accessTable) touch(h uint64, now int64, m accessMode, create bool) {
	c, fp := t.bucket(h)
	var p *uint32
	var cur uint32
	found := false
	for i := range c {
		if v := atomic.LoadUint32(&c[i]); v>>24 == fp {
			p, cur, found = &c[i], v, true
			break
		}
	}
	if !found { // the key takes its bucket's weakest slot
		for i := range c {
			if v := atomic.LoadUint32(&c[i]); p == nil || t.weaker(v, cur, now, m) {
				p, cur = &c[i], v
			}
		}
	}
	var bits uint32
	switch {
	case !m.lfu:
		bits = lruClock(now)
	case create:
		bits = lfuMinutes(now)<<8 | lfuInitVal
	default:
		counter := uint32(lfuInitVal)
		if found {
			counter = lfuDecr(cur, now, m)
		}
		bits = lfuMinutes(now)<<8 | lfuLogIncr(counter, m)
	}
	if v := fp<<24 | bits; v != cur {
		atomic.StoreUint32(p, v)
	}
}

// weaker reports whether slot value x holds less worth keeping than y: an
// empty slot first, then the older access (LRU) or the lower counter (LFU).
func (t *accessTable) weaker(x, y uint32, now int64, m accessMode) bool {
	if x == 0 || y == 0 {
		return x == 0 && y != 0
	}
	if m.lfu {
		return lfuDecr(x, now, m) < lfuDecr(y, now, m)
	}
	return lruIdle(x&lruClockMax, now) > lruIdle(y&lruClockMax, now)
}

// lookup returns the 24 bits recorded for a key. A key that holds none of
// its slots gets what is known of it: if one of its slots was never used,
// nothing was ever recorded for it (it was loaded from disk) and it counts
// as created when the store opened; otherwise it lost its slot to more
// recent or more frequent keys, which makes it older and colder than the
// keys the table holds, and it reads as untouched since the store opened
// (LRU) or as never accessed (LFU).
func (t *accessTable) lookup(h uint64, now, start int64, m accessMode) uint32 {
	c, fp := t.bucket(h)
	empty := false
	for i := range c {
		v := atomic.LoadUint32(&c[i])
		if v>>24 == fp {
			return v & lruClockMax
		}
		empty = empty || v == 0
	}
	switch {
	case !m.lfu:
		return lruClock(start)
	case empty:
		return lfuMinutes(start)<<8 | lfuInitVal
	}
	return lfuMinutes(now) << 8
}

// resized returns a table of n slots carrying over what t knows. A key's
// buckets in the new table are at the same relative place as in the old
// one, so a new bucket takes the entries of the old buckets that overlap
// its place (one or two when growing, several when shrinking), the
// strongest first when they do not all fit.
func (t *accessTable) resized(n int, now int64, m accessMode) *accessTable {
	nt := newAccessTable(n)
	var merged []uint32
	for j := uint64(0); j < nt.buckets; j++ {
		lo := j * t.buckets / nt.buckets
		hi := ((j+1)*t.buckets + nt.buckets - 1) / nt.buckets // rounded up
		merged = merged[:0]
		for i := lo * accessBucket; i < hi*accessBucket; i++ {
			if v := atomic.LoadUint32(&t.slots[i]); v != 0 {
				merged = append(merged, v)
			}
		}
		dst := nt.slots[j*accessBucket : (j+1)*accessBucket]
		for k := range dst {
			best := -1
			for i, v := range merged {
				if v != 0 && (best < 0 || t.weaker(merged[best], v, now, m)) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			dst[k] = merged[best]
			merged[best] = 0
		}
	}
	return nt
}
