package engine

import (
	"errors"
	"fmt"
	"sync"
)

// Write combining. A commit pays a lock and a write system call per
// transaction, and under appendfsync always an fsync. When many clients
// write to one namespace at once, UpdateShared lets them share one
// transaction: the first to arrive becomes the leader, runs its own
// function and those of everyone queued behind it inside one
// transaction, commits once (and fsyncs once), then wakes them. Nobody
// waits for a batch that started before it arrived and another after it:
// a leader hands the lead to the first waiter of the next batch.

// ErrRetry is returned by UpdateShared when the shared transaction was
// rolled back because of another participant: nothing of fn's work was
// kept, and the caller should run it again.
var ErrRetry = errors.New("shared transaction rolled back; retry")

type combineReq struct {
	fn    func(*Tx) error
	err   error
	panic any
	lead  bool
	done  chan struct{}
}

var reqPool = sync.Pool{New: func() any { return &combineReq{done: make(chan struct{}, 1)} }}

type combiner struct {
	mu      sync.Mutex
	busy    bool
	pending []*combineReq
}

func (s *Store) combinerFor(ns string) *combiner {
	if c, ok := s.combiners.Load(ns); ok {
		return c.(*combiner)
	}
	c, _ := s.combiners.LoadOrStore(ns, &combiner{})
	return c.(*combiner)
}

// UpdateShared runs fn in a writable transaction confined to namespace
// ns, which it may share with other callers' functions (see above). fn
// must not fail halfway: an error it returns is handed back to its caller
// but does not undo its writes, since they share a commit with others'. A
// panic in fn rolls back the whole shared transaction and is re-raised in
// fn's caller; the other participants get ErrRetry.
func (s *Store) UpdateShared(ns string, fn func(*Tx) error) error {
	c := s.combinerFor(ns)
	req := reqPool.Get().(*combineReq)
	req.fn, req.err, req.panic, req.lead = fn, nil, nil, false
	c.mu.Lock()
	if c.busy {
		c.pending = append(c.pending, req)
		c.mu.Unlock()
		<-req.done
		if !req.lead {
			return s.finish(req)
		}
	} else {
		c.busy = true
		c.mu.Unlock()
	}
	s.lead(c, req)
	return s.finish(req)
}

func (s *Store) finish(req *combineReq) error {
	err, p := req.err, req.panic
	req.fn = nil
	reqPool.Put(req)
	if p != nil {
		panic(p)
	}
	return err
}

// lead runs one shared transaction for req and everyone queued, wakes
// them, and passes the lead on if more are waiting.
func (s *Store) lead(c *combiner, req *combineReq) {
	c.mu.Lock()
	batch := make([]*combineReq, 0, 1+len(c.pending))
	batch = append(batch, req)
	batch = append(batch, c.pending...)
	clear(c.pending)
	c.pending = c.pending[:0]
	c.mu.Unlock()

	var panicked *combineReq
	waits, err := s.runNoSync(true, false, func(tx *Tx) error {
		for _, r := range batch {
			if !callShared(r, tx) {
				panicked = r
				return errSharedPanic
			}
		}
		return nil
	})
	// The batch is in the file: the next one may commit while this one
	// waits for its fsync (appendfsync always), so one fsync can cover
	// writes that arrived during the previous one.
	c.handOff()
	if err == nil {
		err = s.syncAll(waits)
	}
	for _, r := range batch {
		switch {
		case panicked == r:
			// its panic value is re-raised by finish
		case panicked != nil:
			r.err = ErrRetry
		case err != nil:
			r.err = err
		}
	}
	for _, r := range batch[1:] {
		r.done <- struct{}{}
	}
}

// handOff passes the lead to the first waiter, if any.
func (c *combiner) handOff() {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.busy = false
		c.mu.Unlock()
		return
	}
	next := c.pending[0]
	copy(c.pending, c.pending[1:])
	c.pending[len(c.pending)-1] = nil
	c.pending = c.pending[:len(c.pending)-1]
	c.mu.Unlock()
	next.lead = true
	next.done <- struct{}{}
}

var errSharedPanic = errors.New("panic in shared transaction")

func callShared(r *combineReq, tx *Tx) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			r.panic = fmt.Errorf("%v", p)
			if e, isErr := p.(error); isErr {
				r.panic = e
			}
			ok = false
		}
	}()
	r.err = r.fn(tx)
	return true
}
