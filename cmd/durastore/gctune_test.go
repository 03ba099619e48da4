package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{1 << 20, 400},         // 16 MB of room is 1600%: capped
		{8 << 20, 200},         // 16 MB of room
		{80 << 20, 20},         // a fifth
		{1 << 30, 20},          // a fifth
		{16 << 20 * 5 / 2, 40}, // 16 MB of room over 40 MB
	} {
		if got := gcPercentFor(c.live, false); got != c.want {
			t.Errorf("gcPercentFor(%d) = %d, want %d", c.live, got, c.want)
		}
		if got, want := gcPercentFor(c.live, true), min(c.want, gcLimitedMax); got != want {
			t.Errorf("gcPercentFor(%d) with a memory limit = %d, want %d", c.live, got, want)
		}
	}
}

// TestTuneGC: after a collection the GC percent is the one the live heap
// calls for.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tuneGC()
	keep := make([][]byte, 0, 100)
	for i := 0; i < 100; i++ {
		keep = append(keep, make([]byte, 1<<20)) // 100 MB live
	}
	for i := 0; i < 50; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		if p := gcPercent(); p == gcPercentFor(liveHeap(), memoryLimited()) && p < 100 {
			runtime.KeepAlive(keep)
			return
		}
	}
	t.Errorf("GC percent %d after collections, want %d", gcPercent(), gcPercentFor(liveHeap(), memoryLimited()))
}

func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
