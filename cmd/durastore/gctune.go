package main

import (
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
const (
	gcMinRoom = 16 << 20
	gcShare   = 20
)

// gcPercentFor is the GOGC that gives a live heap of live bytes the room
// described above.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return 400
	}
	room := max(uint64(gcMinRoom), live*gcShare/100)
	return int(min(max((room*100+live-1)/live, 10), 400))
}

// tuneGC sets GOGC after every collection, from a cleanup that re-arms
// itself on a fresh object each time.
func tuneGC() {
	debug.SetGCPercent(gcPercentFor(liveHeap()))
	arm := func() {}
	last := 0
	arm = func() {
		runtime.AddCleanup(new([16]byte), func(struct{}) {
			if p := gcPercentFor(liveHeap()); p != last {
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
