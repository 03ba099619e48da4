package engine

// Access information for LRU and LFU eviction, OBJECT IDLETIME and OBJECT
// FREQ.
//
// Redis keeps 24 bits per object: under an LRU policy the last access in
// seconds (its LRU clock), under an LFU policy a 16-bit "last decrement
// time" in minutes and an 8-bit logarithmic access counter. We keep exactly
// those 24 bits, with Redis's arithmetic, in the upper bits of the key's
// meta word in the dict (dict.go), beside its tag: the lookup that finds a
// key has just read them, so recording an access costs no other memory
// access. Updates are plain atomic loads and stores: two clients touching
// the same key at once may lose one update, as approximate as Redis's own
// sampling.
//
// A key loaded from disk has none recorded (0) and counts as created when
// the store opened.

import (
	"math/rand/v2"
	"sync/atomic"
)

const (
	lruClockMax = 1<<24 - 1 // Redis's LRU_CLOCK_MAX
	lfuInitVal  = 5         // Redis's LFU_INIT_VAL: a new key's counter
	lfuTimeMask = 0xffff    // LFU decrement time: minutes, 16 bits
)

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

// accessBits is the 24 bits of a meta word m, 0 when none were recorded.
func accessBits(m uint32) uint32 { return m >> 8 }

// touch records an access at now (ms) in the meta word m of a key that is
// in the dict. create says the key was just created, which under LFU
// starts its counter at LFU_INIT_VAL as Redis's createObject does.
func touch(m *uint32, now int64, mode accessMode, create bool) {
	v := atomic.LoadUint32(m)
	var bits uint32
	switch {
	case !mode.lfu:
		bits = lruClock(now)
	case create:
		bits = lfuMinutes(now)<<8 | lfuInitVal
	default:
		counter := uint32(lfuInitVal)
		if cur := accessBits(v); cur != 0 {
			counter = lfuDecr(cur, now, mode)
		}
		bits = lfuMinutes(now)<<8 | lfuLogIncr(counter, mode)
	}
	if bits == 0 { // 0 means never recorded: be a second or minute behind
		if mode.lfu {
			bits = lfuTimeMask << 8
		} else {
			bits = lruClockMax
		}
	}
	if nv := bits<<8 | v&0xff; nv != v {
		atomic.StoreUint32(m, nv)
	}
}

// lookupAccess returns the 24 bits recorded in meta word m, or for a key
// with none (loaded from disk and not accessed since) those of a key
// created when the store opened, at start.
func lookupAccess(m uint32, start int64, mode accessMode) uint32 {
	if bits := accessBits(m); bits != 0 {
		return bits
	}
	if mode.lfu {
		return lfuMinutes(start)<<8 | lfuInitVal
	}
	return lruClock(start)
}
