package engine

import "time"

// Active expiry, after Redis's activeExpireCycle: a key is removed on
// access once it has expired (see Tx.Get), and a background cycle removes
// expired keys nobody reads. The cycle works in small batches, each its own
// short write transaction, so a client waits at most for one batch however
// many keys expire at once; and it stops after a time budget per tick so
// it never takes more than a quarter of the time.
const (
	expireBatch       = 64
	expireBudgetShare = 4 // at most 1/4 of each tick
)

func (s *Store) activeExpireCycle() {
	tick := time.Second / time.Duration(s.hz.Load())
	budget := tick / expireBudgetShare
	end := time.Now().Add(tick - tick/8) // done before the next tick
	s.Stats.ExpireCycles.Add(1)
	var worked, slice time.Duration
	for _, ns := range s.all() {
		for worked < budget {
			t0 := time.Now()
			if t0.After(end) {
				return
			}
			n, more := s.expireBatch(ns)
			if n > 0 {
				s.Stats.ExpiredKeys.Add(int64(n))
			}
			if !more {
				break
			}
			// After each millisecond of work, rest three times as
			// long: the cycle's quarter of the time is spread over
			// the tick in short slices, rather than spent in one
			// burst during which the clients' threads would have the
			// processors to share with it. (A millisecond: shorter
			// sleeps last a millisecond anyway.)
			d := time.Since(t0)
			worked += d
			if slice += d; slice >= time.Millisecond {
				time.Sleep(slice * (expireBudgetShare - 1))
				slice = 0
			}
		}
		if worked >= budget {
			return
		}
	}
}

func (s *Store) expireBatch(ns *Namespace) (int, bool) {
	if ns.volatile.Load() == 0 {
		return 0, false
	}
	s.world.RLock()
	defer s.world.RUnlock()
	now := time.Now().UnixMilli()
	removed := 0
	more := false
	var freed int64
	var due []expItem
	kv, err := ns.db.begin(true)
	if err != nil {
		return 0, false
	}
	ns.exp.scan(func(it expItem) bool {
		if it.at >= now {
			return false
		}
		if len(due) == expireBatch {
			more = true
			return false
		}
		due = append(due, it)
		return true
	})
	ns.exp.dropFirst(len(due))
	for _, it := range due {
		raw, ok := kv.Get(it.key)
		if !ok {
			continue // index entry was stale: no such key
		}
		if decodeExpire(raw) != it.at {
			continue // stale too: the key lives on with another expiry
		}
		kv.Delete(it.key)
		removed++
		freed += rawCost(it.key, raw)
	}
	s.addMemory(ns, -freed)
	// Under the namespace's lock: Tx.Set changes exp concurrently.
	ns.volatile.Store(int64(ns.exp.len()))
	err = kv.Commit(func() {
		// The deletions were rolled back; their index entries and
		// accounting go back before the lock is released.
		for _, it := range due {
			ns.exp.add(it.at, it.key)
		}
		ns.volatile.Store(int64(ns.exp.len()))
		s.addMemory(ns, freed)
	})
	if err != nil {
		return 0, false
	}
	if removed > 0 && len(s.touchSubs) > 0 {
		t := make([]Touched, 0, len(due))
		for _, it := range due {
			t = append(t, Touched{Namespace: ns.name, Key: it.key})
		}
		s.notifyTouched(t, false)
	}
	return removed, more
}
