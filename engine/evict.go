package engine

// Eviction, after Redis's evict.c. Before a command that may grow memory
// runs (dispatch calls Evict outside any transaction), and in the
// background while memory stays above maxmemory, keys are removed by the
// policy until used memory is under the limit:
//
//   - allkeys-lru, allkeys-lfu, volatile-lru, volatile-lfu: each round
//     samples maxmemory-samples keys of every namespace (every key, or the
//     keys with an expiry) into a pool of the 16 best candidates kept across
//     rounds, and evicts the best: the longest idle, or the least
//     frequently used, by the access bits each key carries (access.go).
//   - allkeys-random, volatile-random: a random key, namespaces in turn.
//   - volatile-ttl: the key that expires soonest, which the expiry index
//     knows exactly (Redis samples for it).
//
// Each eviction is its own short write transaction of one namespace, so a
// client waits at most for one key however much must go; and a call does
// at most evictBudget of work before it lets the command run and leaves the
// rest to the background evictor, as Redis's eviction time limit does.

import (
	"math"
	"sync/atomic"
	"time"
)

// EvictResult is what Evict achieved, as Redis's performEvictions.
type EvictResult int

const (
	// EvictOK: memory is under maxmemory (or there is none).
	EvictOK EvictResult = iota
	// EvictRunning: memory is still over, eviction goes on in the
	// background; commands may run.
	EvictRunning
	// EvictFail: memory is over and nothing can be evicted (noeviction,
	// or no key the policy may take): commands that grow memory must be
	// refused.
	EvictFail
)

const (
	evictPoolSize = 16
	// evictSlice is how long the background evictor works before letting
	// others take the eviction lock.
	evictSlice = 2 * time.Millisecond
	// evictTick is how often the background evictor checks memory.
	evictTick = 100 * time.Millisecond
)

type poolEntry struct {
	score uint64 // higher is a better candidate
	ns    *Namespace
	key   string
}

// evictionPool holds the best candidates seen, in ascending score order.
type evictionPool struct {
	e []poolEntry
}

func (p *evictionPool) insert(score uint64, ns *Namespace, key string) {
	for i := range p.e {
		if p.e[i].ns == ns && p.e[i].key == key {
			p.e[i].score = score
			p.sortOne(i)
			return
		}
	}
	if len(p.e) == evictPoolSize {
		if score <= p.e[0].score {
			return
		}
		copy(p.e, p.e[1:])
		p.e = p.e[:len(p.e)-1]
	}
	// Keys are copied: a key string may share its allocation with its
	// value, which the pool must not keep alive.
	p.e = append(p.e, poolEntry{score, ns, string([]byte(key))})
	p.sortOne(len(p.e) - 1)
}

// sortOne moves entry i to its place.
func (p *evictionPool) sortOne(i int) {
	for i > 0 && p.e[i-1].score > p.e[i].score {
		p.e[i-1], p.e[i] = p.e[i], p.e[i-1]
		i--
	}
	for i+1 < len(p.e) && p.e[i+1].score < p.e[i].score {
		p.e[i+1], p.e[i] = p.e[i], p.e[i+1]
		i++
	}
}

func (p *evictionPool) pop() (poolEntry, bool) {
	if len(p.e) == 0 {
		return poolEntry{}, false
	}
	best := p.e[len(p.e)-1]
	p.e = p.e[:len(p.e)-1]
	return best, true
}

func (p *evictionPool) reset() { p.e = p.e[:0] }

// evictBudget is how long one command's eviction may take, from
// maxmemory-eviction-tenacity as Redis's evictionTimeLimitUs: 50 µs a step
// up to 10 (500 µs, the default), then 15% more a step, unlimited at 100.
func (s *Store) evictBudget() time.Duration {
	t := int(s.mem.tenacity.Load())
	switch {
	case t <= 10:
		return time.Duration(50*t) * time.Microsecond
	case t < 100:
		return time.Duration(500*math.Pow(1.15, float64(t-10))) * time.Microsecond
	}
	return time.Duration(math.MaxInt64)
}

// Evict frees memory if used memory is above maxmemory, for at most
// evictBudget, and reports whether the limit is kept, being worked on, or
// cannot be kept. It must be called outside any transaction.
func (s *Store) Evict() EvictResult {
	max := s.mem.maxmemory.Load()
	if max == 0 || s.UsedMemory() <= max {
		return EvictOK
	}
	if s.Policy() == NoEviction {
		return EvictFail
	}
	r := s.evictFor(s.evictBudget())
	if r == EvictRunning {
		s.kickEvictor()
	}
	return r
}

func (s *Store) kickEvictor() {
	select {
	case s.mem.kick <- struct{}{}:
	default:
	}
}

// evictFor evicts until memory is under the limit, nothing is left to
// evict, or budget has passed. As Redis's performEvictions it fixes at the
// start how much to free, so that a baseline re-measured meanwhile does
// not make one call evict without end.
func (s *Store) evictFor(budget time.Duration) EvictResult {
	s.mem.evictMu.Lock()
	defer s.mem.evictMu.Unlock()
	start := time.Now()
	spaces := s.all()
	max := s.mem.maxmemory.Load()
	tofree := s.UsedMemory() - max
	var freed int64
	for tries := 1; ; tries++ {
		if max == 0 || freed >= tofree || s.UsedMemory() <= max {
			return EvictOK
		}
		pol := s.Policy()
		if pol == NoEviction {
			return EvictFail
		}
		ns, key, ok := s.pickVictim(spaces, pol)
		if !ok {
			return EvictFail
		}
		freed += s.evictKey(ns, key, pol)
		if tries%16 == 0 && time.Since(start) > budget {
			return EvictRunning
		}
	}
}

// evictLoop is the background evictor: it evicts while memory is over the
// limit, woken by Evict, by SetMemoryConfig and every evictTick.
func (s *Store) evictLoop() {
	defer s.bgWG.Done()
	t := time.NewTicker(evictTick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.mem.kick:
		}
		for s.OverMaxMemory() && s.Policy() != NoEviction {
			if s.evictFor(evictSlice) != EvictRunning {
				break
			}
			select {
			case <-s.stop:
				return
			default:
			}
		}
	}
}

// pickVictim chooses the next key to evict, by policy, across namespaces.
func (s *Store) pickVictim(spaces []*Namespace, pol Policy) (*Namespace, string, bool) {
	switch pol {
	case AllKeysRandom, VolatileRandom:
		for range spaces {
			s.mem.nextNS++
			ns := spaces[s.mem.nextNS%len(spaces)]
			if key, ok := s.randomKey(ns, pol.AllKeys()); ok {
				return ns, key, true
			}
		}
		return nil, "", false
	case VolatileTTL:
		var best *Namespace
		var bestKey string
		var bestAt int64
		for _, ns := range spaces {
			if ns.volatile.Load() == 0 {
				continue
			}
			ns.db.view(func() {
				if it, ok := ns.exp.first(); ok && (best == nil || it.at < bestAt) {
					best, bestKey, bestAt = ns, it.key, it.at
				}
			})
		}
		return best, bestKey, best != nil
	}
	pool := &s.mem.pool
	for {
		some := false
		for _, ns := range spaces {
			if s.sampleInto(ns, pol) {
				some = true
			}
		}
		if e, ok := pool.pop(); ok {
			return e.ns, e.key, true
		}
		if !some {
			return nil, "", false
		}
	}
}

// sampleInto adds maxmemory-samples keys of ns to the pool; it reports
// whether ns had any key the policy may evict.
func (s *Store) sampleInto(ns *Namespace, pol Policy) bool {
	n := int(s.mem.samples.Load())
	now := time.Now().UnixMilli()
	mode := s.accessMode()
	pool := &s.mem.pool
	score := func(m *uint32) uint64 {
		bits := lookupAccess(atomic.LoadUint32(m), s.mem.startMs, mode)
		if mode.lfu {
			return uint64(255 - lfuDecr(bits, now, mode))
		}
		return uint64(lruIdle(bits, now))
	}
	found := false
	ns.db.view(func() {
		if pol.AllKeys() {
			for i := 0; i < n; i++ {
				e, m, ok := ns.db.d.randomMeta()
				if !ok {
					return
				}
				found = true
				pool.insert(score(m), ns, e.key())
			}
			return
		}
		l := ns.exp.len()
		found = l > 0
		for i := 0; i < n && l > 0; i++ {
			if it, ok := ns.exp.random(); ok {
				if _, m, ok := ns.db.d.getMeta(it.key); ok {
					pool.insert(score(m), ns, it.key)
				}
			}
		}
	})
	return found
}

// randomKey draws a random key of ns, or of its volatile keys.
func (s *Store) randomKey(ns *Namespace, all bool) (string, bool) {
	var key string
	found := false
	ns.db.view(func() {
		if all {
			if e, ok := ns.db.d.random(); ok {
				key, found = string([]byte(e.key())), true
			}
			return
		}
		if l := ns.exp.len(); l > 0 {
			if it, ok := ns.exp.random(); ok {
				key, found = it.key, true
			}
		}
	})
	return key, found
}

// evictKey removes one key in its own write transaction, unless it is
// gone or (under a volatile policy) has lost its expiry since it was
// sampled. It returns the memory freed, 0 if it removed nothing.
func (s *Store) evictKey(ns *Namespace, key string, pol Policy) int64 {
	s.world.RLock()
	defer s.world.RUnlock()
	var freed, at int64
	removed := false
	kv, err := ns.db.begin(true)
	if err != nil {
		return 0
	}
	if raw, ok := kv.Get(key); ok {
		at = decodeExpire(raw)
		if pol.AllKeys() || at != 0 {
			kv.Delete(key)
			if at != 0 {
				ns.exp.remove(at, key)
			}
			freed = rawCost(key, raw)
			s.addMemory(ns, -freed)
			ns.volatile.Store(int64(ns.exp.len()))
			removed = true
		}
	}
	err = kv.Commit(func() {
		if removed {
			// The deletion was rolled back: the index and the
			// accounting go back before the lock is released.
			if at != 0 {
				ns.exp.add(at, key)
			}
			s.addMemory(ns, freed)
			ns.volatile.Store(int64(ns.exp.len()))
		}
	})
	if err != nil {
		return 0
	}
	if !removed {
		return 0
	}
	s.Stats.EvictedKeys.Add(1)
	if len(s.touchSubs) > 0 {
		s.notifyTouched([]Touched{{Namespace: ns.name, Key: key}}, false)
	}
	return freed
}
