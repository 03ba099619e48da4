package engine

// Memory accounting and the maxmemory settings.
//
// runtime.ReadMemStats stops the world, far too costly to ask before every
// command, so the store keeps its own figure, the one INFO reports as
// used_memory and eviction compares with maxmemory:
//
//	used = data + baseline
//
// data is the sum over all keys of an estimate of what each costs: the
// allocation holding its key and stored value (rounded up to Go's size
// class), its slot in the hash table with its meta word (dict.go), and for
// a key with an expiry its entry in our expiry index (constants measured
// by TestMemoryEstimate). Every change of a key adjusts it at commit: Set,
// Delete, Flush, expiry and eviction.
//
// baseline is everything else the heap holds live: connections' buffers,
// namespaces, scripts, and whatever the per-key estimate misses (it is
// negative when the estimate runs high). It is measured after each garbage
// collection (afterGC) from the live heap the collector found
// (runtime/metrics, which does not stop the world) less data;
// between collections it stays put, so used_memory follows the data at
// once and the rest at the next cycle. A rise must last three collections
// to count, so a pipeline's buffers caught by one collection do not evict
// keys.
//
// When maxmemory is set the Go runtime's soft memory limit is set a margin
// above it (GoMemoryLimit), so the collector works harder as the heap nears
// the limit and the resident size stays within that margin.

import (
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

// Policy is a maxmemory-policy.
type Policy int32

// The maxmemory policies, as Redis's.
const (
	NoEviction Policy = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileRandom
	VolatileTTL
)

var policyNames = [...]string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
	"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}

// ParsePolicy reads a maxmemory-policy name.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if strings.EqualFold(s, n) {
			return Policy(i), nil
		}
	}
	return NoEviction, errors.New("unknown maxmemory policy " + s)
}

func (p Policy) String() string {
	if p < 0 || int(p) >= len(policyNames) {
		return "noeviction"
	}
	return policyNames[p]
}

// LFU reports whether the policy tracks access frequency (else, access
// time), as Redis's MAXMEMORY_FLAG_LFU.
func (p Policy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// LRU reports whether the policy evicts by access time.
func (p Policy) LRU() bool { return p == AllKeysLRU || p == VolatileLRU }

// AllKeys reports whether any key may be evicted, not only volatile ones.
func (p Policy) AllKeys() bool { return p == AllKeysLRU || p == AllKeysLFU || p == AllKeysRandom }

// MemoryConfig is the store's memory management, changeable at run time.
type MemoryConfig struct {
	// MaxMemory is maxmemory in bytes, 0 for no limit.
	MaxMemory int64
	Policy    Policy
	// Samples is maxmemory-samples, keys sampled per namespace for each
	// eviction (5 when 0).
	Samples int
	// LFULogFactor and LFUDecayTime are lfu-log-factor and
	// lfu-decay-time (minutes), where Redis allows 0; negative means
	// Redis's default (10, 1). A store opened with a zero MemoryConfig
	// gets the defaults.
	LFULogFactor int
	LFUDecayTime int
	// Tenacity is maxmemory-eviction-tenacity (0..100): how long one
	// command's eviction may take before the rest is left to the
	// background; negative means Redis's default, 10.
	Tenacity int
	// GoMemoryLimit sets the Go runtime's soft memory limit from
	// MaxMemory (see GoMemoryLimit). The server sets it; tests that open
	// several stores in one process leave it off.
	GoMemoryLimit bool
}

// Per-key costs beyond the key and value bytes, measured on amd64 by
// TestMemoryEstimate: the key's slot in the hash table (16 bytes and a
// 4-byte meta word, with the table between 2/5 and 4/5 full: 25 to 50
// bytes a key, 26.3 measured at 100,000 keys); and an expiry index entry
// (time and key, 24 bytes) in its chunk (expindex.go), which keys given
// expiries in time order fill (25 bytes an entry measured) and others
// about two thirds (36). The constants sit between, and the baseline
// measured at each collection absorbs the difference.
const (
	keyOverhead      = 26
	volatileOverhead = 30
)

// maxSamples bounds maxmemory-samples as used: Redis accepts up to
// INT_MAX, but sampling thousands of keys per eviction only costs time.
const maxSamples = 1024

// sizeClasses are the Go allocator's size classes up to 32 KiB
// (internal/runtime/gc.SizeClassToSize).
var sizeClasses = [...]uint16{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208,
	224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
	1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912,
	8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576,
	27264, 28672, 32768}

// allocSize is what an allocation of n bytes occupies.
func allocSize(n int) int64 {
	if n > 32768 {
		return (int64(n) + 8191) &^ 8191
	}
	lo, hi := 0, len(sizeClasses)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if int(sizeClasses[mid]) >= n {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return int64(sizeClasses[lo])
}

// entryCost estimates the memory of one key whose stored form (header,
// expiry, payload) is rawLen bytes.
func entryCost(keyLen, rawLen int, volatile bool) int64 {
	c := allocSize(keyLen+rawLen) + keyOverhead
	if volatile {
		c += volatileOverhead
	}
	return c
}

// rawCost is entryCost of a stored form.
func rawCost(key, raw string) int64 {
	return entryCost(len(key), len(raw), decodeExpire(raw) != 0)
}

// nsMemory is a namespace's share of the accounting. bytes changes only
// under the namespace's write lock (at commit, in expiry and eviction), so
// a transaction holding that lock may read it.
type nsMemory struct {
	bytes atomic.Int64
}

// memState is the store's memory accounting and eviction state.
type memState struct {
	data     atomic.Int64 // sum of the keys' entryCost
	dataHigh atomic.Int64 // highest data since the last afterGC
	// recent holds the last baselines measured (afterGC only).
	recent   [baselineWindow]int64
	nrecent  int
	baseline atomic.Int64 // live heap beyond data at the last GC
	peak     atomic.Int64
	startup  int64 // used memory once the store was open
	startMs  int64 // when the store opened, for keys never accessed

	maxmemory atomic.Int64
	policy    atomic.Int32
	samples   atomic.Int32
	logFactor atomic.Int32
	decayTime atomic.Int32
	tenacity  atomic.Int32
	goLimit   atomic.Bool

	gcCycles atomic.Uint64 // collections that measured the baseline
	closed   atomic.Bool
	dataOnly atomic.Bool // tests: used memory is the keys' estimate alone

	kick    chan struct{} // wakes the background evictor
	evictMu sync.Mutex    // one evictor at a time; guards pool and nextNS
	pool    evictionPool
	nextNS  int

	cfgMu sync.Mutex // serialises SetMemoryConfig; taken before evictMu
}

// goLimitOrig is the runtime's memory limit before any store changed it
// (GOMEMLIMIT or none), restored when maxmemory is removed.
var goLimitOrig = debug.SetMemoryLimit(-1)

func (s *Store) initMemory() {
	m := &s.mem
	m.kick = make(chan struct{}, 1)
	m.startMs = time.Now().UnixMilli()
	mc := s.cfg.Memory
	if mc == (MemoryConfig{}) {
		mc.LFULogFactor, mc.LFUDecayTime, mc.Tenacity = -1, -1, -1
	}
	s.applyMemoryConfig(mc)
	m.baseline.Store(int64(readMetric("/memory/classes/heap/objects:bytes")))
	s.watchGC()
}

// startMemory records the startup figure and starts the background
// evictor; the namespaces are loaded by then.
func (s *Store) startMemory() {
	s.mem.startup = s.UsedMemory()
	s.bgWG.Add(1)
	go s.evictLoop()
}

func (s *Store) accessMode() accessMode {
	return accessMode{
		lfu:       Policy(s.mem.policy.Load()).LFU(),
		logFactor: int64(s.mem.logFactor.Load()),
		decayTime: int64(s.mem.decayTime.Load()),
	}
}

// watchGC arranges for afterGC to run after every garbage collection: a
// cleanup on an unreachable object runs once the collector has found it
// so, and each run arms the next.
// The cleanup holds the store weakly, so a store dropped without Close
// is not kept alive by it.
func (s *Store) watchGC() {
	type sentinel struct{ _ [64]byte }
	runtime.AddCleanup(new(sentinel), func(wp weak.Pointer[Store]) {
		s := wp.Value()
		if s == nil || s.mem.closed.Load() {
			return
		}
		s.afterGC()
		s.watchGC()
	}, weak.Make(s))
}

// baselineWindow is how many collections a rise of the baseline must last
// to count: a pipeline's buffers live during one collection are not the
// server's memory, and counting them would evict keys for them.
const baselineWindow = 3

// afterGC re-measures the baseline from the live heap of the collection
// that just finished, as the lowest of the last baselineWindow measures.
// The live heap counts what was reachable when the
// cycle began, so keys deleted during the cycle (eviction deletes many)
// are still in it: the data figure it is compared with is the highest
// since the previous collection, not the current one, or every collection
// during eviction would inflate the baseline by what was just evicted and
// drive more eviction.
//
// The baseline may be negative: then the per-key estimate was too high,
// and used memory is corrected down to the live heap the same way.
func (s *Store) afterGC() {
	if s.mem.dataOnly.Load() {
		return
	}
	m := &s.mem
	live := int64(readMetric("/gc/heap/live:bytes"))
	ref := max(m.dataHigh.Swap(0), m.data.Load())
	m.recent[m.nrecent%baselineWindow] = live - ref
	m.nrecent++
	base := m.recent[0]
	for _, b := range m.recent[:min(m.nrecent, baselineWindow)] {
		base = min(base, b)
	}
	m.baseline.Store(base)
	s.mem.gcCycles.Add(1)
	s.UsedMemory() // keeps the peak
}

func readMetric(name string) uint64 {
	sample := []metrics.Sample{{Name: name}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// UsedMemory is used_memory: the estimated data plus the rest of the live
// heap at the last collection. It is a few atomic loads.
func (s *Store) UsedMemory() int64 {
	used := s.mem.data.Load()
	if !s.mem.dataOnly.Load() {
		used = max(used+s.mem.baseline.Load(), 0)
	}
	for {
		p := s.mem.peak.Load()
		if used <= p || s.mem.peak.CompareAndSwap(p, used) {
			return used
		}
	}
}

// MaxMemory is the maxmemory in force, 0 for none.
func (s *Store) MaxMemory() int64 { return s.mem.maxmemory.Load() }

// Policy is the maxmemory-policy in force.
func (s *Store) Policy() Policy { return Policy(s.mem.policy.Load()) }

// OverMaxMemory reports whether a maxmemory is set and used memory is
// above it.
func (s *Store) OverMaxMemory() bool {
	max := s.mem.maxmemory.Load()
	return max > 0 && s.UsedMemory() > max
}

// GoMemoryLimit is the Go runtime soft memory limit durastore sets for a
// maxmemory: maxmemory plus a margin of a quarter of it and 32 MiB, for the
// garbage between collections, goroutine stacks and the runtime's own
// structures. The stated bound of the resident size is this plus 16 MiB
// (the heap passes a soft limit while a collection runs, and the binary's
// pages are not the runtime's): maxmemory × 1.25 + 48 MiB, which
// TestEvictionFillBounded checks.
func GoMemoryLimit(maxmemory int64) int64 {
	if maxmemory <= 0 {
		return math.MaxInt64
	}
	m := maxmemory + maxmemory/4 + 32<<20
	if m < maxmemory { // overflow
		return math.MaxInt64
	}
	return m
}

// SetMemoryConfig changes maxmemory and the policy at once; if used memory
// is above the new limit the background evictor starts at once, as after
// Redis's CONFIG SET maxmemory.
func (s *Store) SetMemoryConfig(mc MemoryConfig) {
	s.mem.cfgMu.Lock()
	defer s.mem.cfgMu.Unlock()
	if mc.Policy != s.Policy() {
		// The pool's scores and keys were chosen for the old policy.
		s.mem.evictMu.Lock()
		s.mem.pool.reset()
		s.mem.evictMu.Unlock()
	}
	s.applyMemoryConfig(mc)
	s.kickEvictor()
}

func (s *Store) applyMemoryConfig(mc MemoryConfig) {
	m := &s.mem
	if mc.MaxMemory < 0 {
		mc.MaxMemory = 0
	}
	if mc.Samples <= 0 {
		mc.Samples = 5
	}
	if mc.Samples > maxSamples {
		mc.Samples = maxSamples
	}
	if mc.LFULogFactor < 0 {
		mc.LFULogFactor = 10
	}
	if mc.LFUDecayTime < 0 {
		mc.LFUDecayTime = 1
	}
	if mc.Tenacity < 0 {
		mc.Tenacity = 10
	}
	m.maxmemory.Store(mc.MaxMemory)
	m.policy.Store(int32(mc.Policy))
	m.samples.Store(int32(mc.Samples))
	m.logFactor.Store(int32(min(mc.LFULogFactor, math.MaxInt32)))
	m.decayTime.Store(int32(min(mc.LFUDecayTime, math.MaxInt32)))
	m.tenacity.Store(int32(min(mc.Tenacity, 100)))
	if mc.GoMemoryLimit {
		if mc.MaxMemory > 0 {
			debug.SetMemoryLimit(GoMemoryLimit(mc.MaxMemory))
		} else {
			debug.SetMemoryLimit(goLimitOrig)
		}
		m.goLimit.Store(true)
	} else if m.goLimit.Load() {
		debug.SetMemoryLimit(goLimitOrig)
		m.goLimit.Store(false)
	}
}

// MemoryConfig returns the memory settings in force.
func (s *Store) MemoryConfig() MemoryConfig {
	m := &s.mem
	return MemoryConfig{
		MaxMemory:     m.maxmemory.Load(),
		Policy:        Policy(m.policy.Load()),
		Samples:       int(m.samples.Load()),
		LFULogFactor:  int(m.logFactor.Load()),
		LFUDecayTime:  int(m.decayTime.Load()),
		Tenacity:      int(m.tenacity.Load()),
		GoMemoryLimit: m.goLimit.Load(),
	}
}

// MemoryStats is what INFO memory and MEMORY STATS report of the store.
type MemoryStats struct {
	Used, Peak, Startup int64
	// Data is the keys' estimated cost.
	Data int64
	// Keys and Volatile count keys and keys with an expiry, per namespace
	// in Spaces.
	Spaces []NamespaceMemory
	// Evicted counts evicted keys since start.
	Evicted int64
}

// NamespaceMemory is one namespace's part of MemoryStats.
type NamespaceMemory struct {
	Name           string
	Keys, Volatile int64
	Bytes          int64
}

// MemoryStats gathers the store's memory figures.
func (s *Store) MemoryStats() MemoryStats {
	st := MemoryStats{
		Used:    s.UsedMemory(),
		Startup: s.mem.startup,
		Data:    s.mem.data.Load(),
		Evicted: s.Stats.EvictedKeys.Load(),
	}
	st.Peak = s.mem.peak.Load()
	for _, name := range s.Names() {
		ns := s.lookup(name)
		if ns == nil {
			continue
		}
		n := ns.Len()
		if n == 0 {
			continue
		}
		st.Spaces = append(st.Spaces, NamespaceMemory{Name: name, Keys: int64(n),
			Volatile: ns.volatile.Load(), Bytes: ns.acct.bytes.Load()})
	}
	return st
}

// KeyOverhead is the estimated per-key cost beyond the key and value
// bytes (MEMORY STATS reports it as the keyspace's overhead).
func KeyOverhead(volatile bool) int64 {
	if volatile {
		return keyOverhead + volatileOverhead
	}
	return keyOverhead
}

// ResetPeak sets the peak to the current figure (CONFIG RESETSTAT,
// MEMORY PURGE).
func (s *Store) ResetPeak() { s.mem.peak.Store(s.UsedMemory()) }

// addMemory applies a change of a namespace's estimate. The namespace's
// write lock must be held.
func (s *Store) addMemory(ns *Namespace, delta int64) {
	if delta == 0 {
		return
	}
	if delta < 0 {
		// Keep the high-water mark afterGC compares the live heap with.
		cur := s.mem.data.Load()
		for {
			h := s.mem.dataHigh.Load()
			if cur <= h || s.mem.dataHigh.CompareAndSwap(h, cur) {
				break
			}
		}
	}
	ns.acct.bytes.Add(delta)
	s.mem.data.Add(delta)
}

// SetNoTouch makes the transaction's reads leave the keys' access time and
// frequency alone (CLIENT NO-TOUCH), or touch them again.
func (tx *Tx) SetNoTouch(on bool) { tx.noTouch = on }

// Peek is Get without recording an access, as Redis's lookups with
// LOOKUP_NOTOUCH (OBJECT, MEMORY USAGE, EXISTS).
func (tx *Tx) Peek(ns, key string) (Value, bool, error) {
	saved := tx.noTouch
	tx.noTouch = true
	v, ok, err := tx.Get(ns, key)
	tx.noTouch = saved
	return v, ok, err
}

// KeyAccess is what is known of a key's accesses: its idle time in
// milliseconds (meaningful under a non-LFU policy) and its LFU counter
// (under an LFU policy), as OBJECT IDLETIME and OBJECT FREQ report them.
// It does not check that the key is live; a missing key reads as created
// now.
func (tx *Tx) KeyAccess(ns, key string) (idleMs int64, freq int, err error) {
	p, err := tx.part(ns, false)
	if p == nil {
		return 0, 0, err
	}
	now := time.Now().UnixMilli()
	mode := tx.s.accessMode()
	start := now
	var m uint32
	if _, mp, ok := p.kv.GetMeta(key); ok {
		m, start = atomic.LoadUint32(mp), tx.s.mem.startMs
	}
	bits := lookupAccess(m, start, mode)
	if mode.lfu {
		return 0, int(lfuDecr(bits, now, mode)), nil
	}
	return lruIdle(bits, now), 0, nil
}

// MemoryUsage is the estimated memory of a key, as MEMORY USAGE reports
// it: the figure eviction counts. As Redis's, it looks the key up without
// checking its expiry: an expired key not yet removed still has a size.
func (tx *Tx) MemoryUsage(ns, key string) (int64, bool, error) {
	p, err := tx.part(ns, false)
	if p == nil {
		return 0, false, err
	}
	raw, ok := p.kv.Get(key)
	if !ok {
		return 0, false, nil
	}
	return rawCost(key, raw), true, nil
}
