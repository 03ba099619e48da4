package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// GC pacing. The heap of a store is mostly live data, and Go's GOGC sets
// the room it may grow into between collections as a share of the live
// heap: the default 100 doubles a large store's resident memory, while a
// small share makes a small store collect very often (with 100,000 keys
// GOGC=25 cost redis-benchmark -P 16 about 15% of its throughput against
// GOGC=40). So after each collection the share is set again from the live
// heap: the larger of gcMinRoom and gcShare percent of it, between 10% and
// 400%. A store of a million 32-byte values then grows by a fifth between
// collections, and one of a few megabytes collects about as often as with
// a 16 MB heap.
//
// With maxmemory set (the engine then sets a Go memory limit), the share
// is at most gcLimitedMax percent: used_memory counts the heap beyond the
// keys as measured at the last collection, and collections rare enough to
// leave that figure from a burst long gone made eviction remove hundreds
// of keys too many (tests/eviction_test.go's allkeys-lru scenario failed
// 2 runs in 6 that way; at GOGC=40 it passed 6 of 6).
const (
	gcMinRoom    = 16 << 20
	gcShare      = 20
	gcLimitedMax = 40
)

// gcPercentFor is the GOGC that gives a live heap of live bytes the room
// described above; limited says a memory limit is set.
func gcPercentFor(live uint64, limited bool) int {
	hi := uint64(400)
	if limited {
		hi = gcLimitedMax
	}
	if live == 0 {
		return int(hi)
	}
	room := max(uint64(gcMinRoom), live*gcShare/100)
	return int(min(max((room*100+live-1)/live, 10), hi))
}

// memoryLimited reports whether the Go runtime has a memory limit.
func memoryLimited() bool { return debug.SetMemoryLimit(-1) != math.MaxInt64 }

// tuneGC sets GOGC after every collection, from a cleanup that re-arms
// itself on a fresh object each time.
func tuneGC() {
	debug.SetGCPercent(gcPercentFor(liveHeap(), memoryLimited()))
	arm := func() {}
	last := 0
	arm = func() {
		runtime.AddCleanup(new([16]byte), func(struct{}) {
			if p := gcPercentFor(liveHeap(), memoryLimited()); p != last {
				debug.SetGCPercent(p)
				last = p
			}
			arm()
		}, struct{}{})
	}
	arm()
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
