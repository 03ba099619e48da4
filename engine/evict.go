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
//     frequently used, by the access table (access.go).
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
	"math/rand/v2"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/tidwall/btree"
	"github.com/tidwall/buntdb"
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
			ns.db.View(func(*buntdb.Tx) error {
				if it, ok := ns.exp.tr.Min(); ok && (best == nil || it.at < bestAt) {
					best, bestKey, bestAt = ns, it.key, it.at
				}
				return nil
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
	table := s.accessTable()
	pool := &s.mem.pool
	score := func(key string) uint64 {
		bits := table.lookup(s.keyHash(ns, key), now, s.mem.startMs, mode)
		if mode.lfu {
			return uint64(255 - lfuDecr(bits, now, mode))
		}
		return uint64(lruIdle(bits, now))
	}
	found := false
	ns.db.View(func(btx *buntdb.Tx) error {
		if pol.AllKeys() {
			found = sampleKeys(ns, btx, n, func(key string) { pool.insert(score(key), ns, key) })
			return nil
		}
		l := ns.exp.len()
		found = l > 0
		for i := 0; i < n && l > 0; i++ {
			if it, ok := ns.exp.tr.GetAt(rand.IntN(l)); ok {
				pool.insert(score(it.key), ns, it.key)
			}
		}
		return nil
	})
	return found
}

// randomKey draws a random key of ns, or of its volatile keys.
func (s *Store) randomKey(ns *Namespace, all bool) (string, bool) {
	var key string
	found := false
	ns.db.View(func(btx *buntdb.Tx) error {
		if all {
			sampleKeys(ns, btx, 1, func(k string) { key, found = string([]byte(k)), true })
			return nil
		}
		if l := ns.exp.len(); l > 0 {
			if it, ok := ns.exp.tr.GetAt(rand.IntN(l)); ok {
				key, found = it.key, true
			}
		}
		return nil
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
	err := ns.db.Update(func(btx *buntdb.Tx) error {
		raw, err := btx.Get(key)
		if err != nil {
			return nil
		}
		at = decodeExpire(raw)
		if !pol.AllKeys() && at == 0 {
			return nil
		}
		if _, err := btx.Delete(key); err != nil {
			return nil
		}
		if at != 0 {
			ns.exp.remove(at, key)
		}
		freed = rawCost(key, raw)
		s.addMemory(ns, -freed)
		ns.volatile.Store(int64(ns.exp.len()))
		removed = true
		return nil
	})
	if err != nil {
		if removed {
			// The deletion was rolled back: put the index and the
			// accounting back, under the namespace's lock again.
			ns.db.Update(func(*buntdb.Tx) error {
				if at != 0 {
					ns.exp.add(at, key)
				}
				s.addMemory(ns, freed)
				ns.volatile.Store(int64(ns.exp.len()))
				return nil
			})
		}
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

// Sampling buntdb's keys. buntdb offers no access by position, and a
// random pivot string followed by a seek favours keys after wide gaps (with
// keys "k:1" .. "k:99999" a pivot "k:5" lands on "k:5" a tenth of the
// time), which would ruin the LRU approximation. So we reach buntdb's key
// tree, a tidwall/btree that counts its items, and draw uniform positions
// with GetAt. The tree and its items are private to buntdb: their layout is
// checked with reflection once, and if it ever differs (another buntdb
// version) sampling falls back to random pivots.
var (
	buntOnce       sync.Once
	buntKeysOffset uintptr
	buntItemType   reflect.Type // *buntdb.dbItem; nil if the layout is unknown
)

// buntItem mirrors the start of buntdb's dbItem.
type buntItem struct {
	key, val string
}

// checkBuntLayout finds buntdb's key tree in its DB struct and checks, on
// a small database, that its items are what buntItem says.
func checkBuntLayout() {
	f, ok := reflect.TypeOf(buntdb.DB{}).FieldByName("keys")
	if !ok || f.Type != reflect.TypeOf((*btree.BTree)(nil)) {
		return
	}
	buntKeysOffset = f.Offset
	db, err := buntdb.Open(":memory:")
	if err != nil {
		return
	}
	defer db.Close()
	db.Update(func(tx *buntdb.Tx) error {
		_, _, err := tx.Set("k", "v", nil)
		return err
	})
	db.View(func(*buntdb.Tx) error {
		item := (*(**btree.BTree)(unsafe.Add(unsafe.Pointer(db), buntKeysOffset))).GetAt(0)
		t := reflect.TypeOf(item)
		if t == nil || !isBuntItem(t) {
			return nil
		}
		p := (*[2]unsafe.Pointer)(unsafe.Pointer(&item))[1]
		if it := (*buntItem)(p); it.key == "k" && it.val == "v" {
			buntItemType = t
		}
		return nil
	})
}

// buntTree returns a database's key tree, nil if buntdb's layout is not
// the one we know. The database's lock must be held.
func buntTree(db *buntdb.DB) *btree.BTree {
	buntOnce.Do(checkBuntLayout)
	if buntItemType == nil {
		return nil
	}
	return *(**btree.BTree)(unsafe.Add(unsafe.Pointer(db), buntKeysOffset))
}

// itemKey returns the key of an item of buntdb's key tree.
func itemKey(item any) (string, bool) {
	if reflect.TypeOf(item) != buntItemType {
		return "", false
	}
	p := (*[2]unsafe.Pointer)(unsafe.Pointer(&item))[1]
	return (*buntItem)(p).key, true
}

// isBuntItem checks t is *buntdb.dbItem starting with key and val strings.
func isBuntItem(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return false
	}
	e := t.Elem()
	if e.Name() != "dbItem" || e.PkgPath() != "github.com/tidwall/buntdb" || e.NumField() < 2 {
		return false
	}
	k, v := e.Field(0), e.Field(1)
	return k.Name == "key" && k.Type.Kind() == reflect.String && k.Offset == 0 &&
		v.Name == "val" && v.Type.Kind() == reflect.String && v.Offset == unsafe.Sizeof("")
}

// sampleKeys calls fn with n keys of ns drawn at random (with repetition);
// it reports whether ns has keys. btx must be a transaction of ns.
func sampleKeys(ns *Namespace, btx *buntdb.Tx, n int, fn func(key string)) bool {
	l, _ := btx.Len()
	if l == 0 {
		return false
	}
	if tr := buntTree(ns.db); tr != nil {
		ok := true
		for i := 0; i < n && ok; i++ {
			var key string
			if key, ok = itemKey(tr.GetAt(rand.IntN(l))); ok {
				fn(key)
			}
		}
		if ok {
			return true
		}
	}
	// Fallback: random pivots between the first and the last key.
	var lo, hi string
	btx.Ascend("", func(k, _ string) bool { lo = k; return false })
	btx.Descend("", func(k, _ string) bool { hi = k; return false })
	for i := 0; i < n; i++ {
		btx.AscendGreaterOrEqual("", randomBetween(lo, hi), func(k, _ string) bool {
			fn(k)
			return false
		})
	}
	return true
}
