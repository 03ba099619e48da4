package engine

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// benchStore opens an in-memory store for benchmarks.
func benchStore(b testing.TB) *Store {
	s, err := Open(Config{AppendOnly: false, Hz: 10})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// TestMemoryPerKey reports the live heap per key after loading keys the
// way the side-by-side benchmark does (key:%010d, 32-byte values). It
// asserts nothing about the figure, which is for the benchmark to judge;
// it checks the keys are all there. Run with -v to see the numbers.
func TestMemoryPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 200k keys")
	}
	const n = 200_000
	val := string(make([]byte, 32))
	for _, ttl := range []bool{false, true} {
		s := benchStore(t)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		exp := int64(0)
		if ttl {
			exp = time.Now().UnixMilli() + 3600_000
		}
		for i := 0; i < n; i += 100 {
			s.Update(func(tx *Tx) error {
				for j := i; j < i+100; j++ {
					tx.Set("0", fmt.Sprintf("key:%010d", j), Value{Data: val, ExpireAt: exp})
				}
				return nil
			})
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		var count int
		s.View(func(tx *Tx) error { count, _ = tx.Len("0"); return nil })
		if count != n {
			t.Fatalf("%d keys, want %d", count, n)
		}
		t.Logf("ttl=%v: live heap %.1f bytes/key", ttl, float64(after.HeapAlloc-before.HeapAlloc)/n)
		s.Close()
	}
}

func BenchmarkEngineSet(b *testing.B) {
	s := benchStore(b)
	defer s.Close()
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	val := string(make([]byte, 32))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Update(func(tx *Tx) error {
			return tx.Set("0", keys[i%len(keys)], Value{Data: val})
		})
	}
}

func BenchmarkEngineSetBatch16(b *testing.B) {
	s := benchStore(b)
	defer s.Close()
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	val := string(make([]byte, 32))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 16 {
		s.Update(func(tx *Tx) error {
			for j := 0; j < 16; j++ {
				tx.Set("0", keys[(i+j)%len(keys)], Value{Data: val})
			}
			return nil
		})
	}
}

func BenchmarkEngineGet(b *testing.B) {
	s := benchStore(b)
	defer s.Close()
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	val := string(make([]byte, 32))
	s.Update(func(tx *Tx) error {
		for _, k := range keys {
			tx.Set("0", k, Value{Data: val})
		}
		return nil
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.View(func(tx *Tx) error {
			_, _, err := tx.Get("0", keys[i%len(keys)])
			return err
		})
	}
}

func benchParallelSet(b *testing.B, fsync Fsync, dir string) {
	var s *Store
	var err error
	if dir == "" {
		s, err = Open(Config{AppendOnly: false})
	} else {
		s, err = Open(Config{Dir: dir, AppendOnly: true, Fsync: fsync})
	}
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	val := string(make([]byte, 32))
	b.ReportAllocs()
	b.SetParallelism(25) // 50 clients on 2 cores
	var n int64
	var mu sync.Mutex
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		n++
		id := n
		mu.Unlock()
		i := 0
		for pb.Next() {
			key := "key:" + strconv.Itoa(int(id)*1000000+i%100000)
			i++
			s.Update(func(tx *Tx) error { return tx.Set("0", key, Value{Data: val}) })
		}
	})
}

func BenchmarkParallelSetMemory(b *testing.B)   { benchParallelSet(b, FsyncNo, "") }
func BenchmarkParallelSetEverySec(b *testing.B) { benchParallelSet(b, FsyncEverySec, b.TempDir()) }
func BenchmarkParallelSetAlways(b *testing.B)   { benchParallelSet(b, FsyncAlways, b.TempDir()) }
