package engine

import (
	"os"
	"sync"
	"sync/atomic"
)

// Namespace is one named keyspace: its keys (kv.go), its append-only file,
// and the index of its keys that carry an expiry.
type Namespace struct {
	name  string
	file  string // file name inside the data directory
	path  string // full path, "" when in memory
	store *Store
	db    *kvDB

	// exp orders the volatile keys by expiry. It is changed only inside a
	// writable transaction of this namespace, whose lock guards it.
	exp expIndex
	// volatile mirrors exp.len() for readers that hold no lock.
	volatile atomic.Int64
	// acct is the namespace's memory estimate (memory.go).
	acct nsMemory

	sync            groupSync
	lastRewriteSize atomic.Int64
	rewriteMu       sync.Mutex
}

// Name is the namespace's name.
func (ns *Namespace) Name() string { return ns.name }

// Len is the number of keys, counting expired ones not yet removed, as
// Redis's DBSIZE does.
func (ns *Namespace) Len() int {
	n := 0
	ns.db.view(func() { n = ns.db.d.n })
	return n
}

func (ns *Namespace) fileSize() int64 {
	if ns.path == "" {
		return 0
	}
	fi, err := os.Stat(ns.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func (ns *Namespace) close() error {
	err := ns.db.close()
	ns.sync.close()
	return err
}

// rewrite compacts the file (kvDB.shrink), which copies the live data to a
// new file without holding writers off for long and swaps it in. The new file
// and the directory are then fsynced and our fsync handle moves to it.
func (ns *Namespace) rewrite() error {
	if ns.path == "" {
		return nil
	}
	ns.rewriteMu.Lock()
	defer ns.rewriteMu.Unlock()
	err := ns.db.shrink(func() error { return ns.sync.reopen(ns.path) })
	if err != nil && err != errShrinkInProgress {
		return err
	}
	ns.lastRewriteSize.Store(ns.fileSize())
	return nil
}

// groupSync implements appendfsync always with group commit: a writer whose
// data has reached the file waits until an fsync that started after its
// write has finished. One waiter runs the fsync for everybody queued behind
// it, so fifty concurrent writers pay for a handful of fsyncs, not fifty.
type groupSync struct {
	always atomic.Bool   // CONFIG SET appendfsync changes it at run time
	count  *atomic.Int64 // the store's fsync counter, nil in tests

	// commits counts commits that wrote to the file; flushed is its value
	// at the start of the last everysec fsync (Store.everysec).
	commits atomic.Uint64
	flushed uint64

	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	written uint64 // writes known to be in the file
	synced  uint64 // writes known to be on disk
	running bool
	err     error
}

func (g *groupSync) open(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.f = f
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	g.mu.Unlock()
	return nil
}

// reopen moves the handle to the file now at path (after a rewrite, which
// fsynced it).
func (g *groupSync) reopen(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	g.mu.Lock()
	old := g.f
	g.f = f
	g.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (g *groupSync) close() {
	g.mu.Lock()
	if g.f != nil {
		g.f.Sync()
		g.f.Close()
		g.f = nil
	}
	g.mu.Unlock()
}

// wait returns once the writes made so far are on disk.
func (g *groupSync) wait() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.f == nil {
		return nil
	}
	g.written++
	mine := g.written
	for g.synced < mine {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		target := g.written
		f := g.f
		g.mu.Unlock()
		err := f.Sync()
		g.mu.Lock()
		g.running = false
		if err != nil && f != g.f {
			// A rewrite swapped the file (and fsynced the new one)
			// while we synced the old handle: go round again.
			err = nil
			g.cond.Broadcast()
			continue
		}
		g.err = err
		if err == nil {
			g.synced = target
			if g.count != nil {
				g.count.Add(1)
			}
		}
		g.cond.Broadcast()
		if err != nil {
			return err
		}
	}
	return nil
}

// syncIfWritten fsyncs the file if commits wrote to it since the last
// call. It runs on the everysec goroutine, holding no database lock, so
// readers and writers go on while the disk works (an fsync under the
// database's lock would stall both for as long as it takes).
func (g *groupSync) syncIfWritten() error {
	n := g.commits.Load()
	if n == g.flushed {
		return nil
	}
	if err := g.syncNow(); err != nil {
		return err
	}
	g.flushed = n
	return nil
}

// syncNow fsyncs the file regardless of policy.
func (g *groupSync) syncNow() error {
	g.mu.Lock()
	f := g.f
	g.mu.Unlock()
	if f == nil {
		return nil
	}
	return f.Sync()
}
