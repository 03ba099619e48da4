package engine

import (
	"hash/maphash"
	"strings"
	"sync"
)

// SCAN cursors.
//
// Redis's SCAN cursor is a position in a hash table, walked in reverse-bit
// order so that a key present for the whole iteration is returned at least
// once even while the table grows or shrinks. buntdb keeps a namespace's
// keys in a B-tree, so our natural position is a key: "resume at the first
// key >= K". Every key that exists for the whole iteration is then returned
// exactly once, keys added or removed meanwhile may or may not be, and no
// rehashing can ever make a key be skipped.
//
// A cursor is an unsigned 64-bit integer (clients such as go-redis parse it
// as one), which cannot hold a key. So each store keeps a CursorTable that
// maps a cursor to its (namespace, resume key):
//
//   - The cursor is a hash of the namespace and the resume key under a seed
//     chosen when the table is made, so the same call made twice gives the
//     same cursor, and a cursor says nothing about the keys to whoever
//     reads it. 0 is never used: it means "start" and, in a reply, "done".
//     If two positions hash to the same value, the later one takes the next
//     free value, so a cursor never resumes at another position.
//   - The table is bounded: at most cursorMaxEntries entries and about
//     cursorMaxBytes bytes (keys, namespace names and per-entry overhead).
//     When a new cursor would exceed either bound, the least recently used
//     entries are evicted (handing out or resuming from a cursor counts as
//     a use); the entry just made is always kept.
//   - A cursor the table does not know (evicted, handed out before a
//     restart, made up, or made in another namespace) restarts the
//     iteration from the first key rather than failing. Redis never
//     rejects a well-formed cursor either; restarting keeps the guarantee
//     (the keys present throughout are still all returned) at the cost of
//     returning some keys again, which SCAN's contract allows.
//
// The table is not persisted: cursors die with the process, like Redis's
// own (which do survive a restart but point into a different table).

// Bounds of a store's cursor table.
const (
	cursorMaxEntries = 1 << 16
	cursorMaxBytes   = 16 << 20
	// cursorEntryCost approximates an entry's memory besides its strings:
	// the struct and its slots in the two maps.
	cursorEntryCost = 160
)

// CursorTable maps SCAN cursors to the positions they resume at. It is safe
// for concurrent use.
type CursorTable struct {
	mu    sync.Mutex
	byID  map[uint64]*cursorEntry
	byPos map[cursorPos]*cursorEntry
	// lru is the sentinel of a circular list: lru.next is the most
	// recently used entry, lru.prev the least.
	lru   cursorEntry
	bytes int

	maxEntries, maxBytes int
	hash                 func(ns, key string) uint64
}

type cursorPos struct{ ns, key string }

type cursorEntry struct {
	id         uint64
	pos        cursorPos
	prev, next *cursorEntry
}

func (e *cursorEntry) cost() int { return cursorEntryCost + len(e.pos.ns) + len(e.pos.key) }

// NewCursorTable makes an empty table holding at most maxEntries cursors
// and about maxBytes bytes.
func NewCursorTable(maxEntries, maxBytes int) *CursorTable {
	seed := maphash.MakeSeed()
	t := &CursorTable{
		byID:       make(map[uint64]*cursorEntry),
		byPos:      make(map[cursorPos]*cursorEntry),
		maxEntries: maxEntries,
		maxBytes:   maxBytes,
		hash: func(ns, key string) uint64 {
			var h maphash.Hash
			h.SetSeed(seed)
			h.WriteString(ns)
			h.WriteByte(0) // namespace names never hold a NUL
			h.WriteString(key)
			return h.Sum64()
		},
	}
	t.lru.next, t.lru.prev = &t.lru, &t.lru
	return t
}

// Len is the number of cursors held.
func (t *CursorTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// Bytes is the table's approximate memory use.
func (t *CursorTable) Bytes() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bytes
}

// Register returns the cursor that resumes namespace ns at the first key
// >= key, making it if needed. The strings are copied.
func (t *CursorTable) Register(ns, key string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.byPos[cursorPos{ns, key}]; e != nil {
		t.touch(e)
		return e.id
	}
	id := t.hash(ns, key)
	for id == 0 || t.byID[id] != nil {
		id++
	}
	e := &cursorEntry{id: id, pos: cursorPos{strings.Clone(ns), strings.Clone(key)}}
	t.byID[id] = e
	t.byPos[e.pos] = e
	t.bytes += e.cost()
	t.pushFront(e)
	for len(t.byID) > t.maxEntries || t.bytes > t.maxBytes {
		old := t.lru.prev
		if old == e {
			break
		}
		t.remove(old)
	}
	return id
}

// Lookup returns the resume key of a cursor made for namespace ns; ok is
// false for a cursor the table does not know or made for another
// namespace.
func (t *CursorTable) Lookup(ns string, id uint64) (key string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byID[id]
	if e == nil || e.pos.ns != ns {
		return "", false
	}
	t.touch(e)
	return e.pos.key, true
}

func (t *CursorTable) pushFront(e *cursorEntry) {
	e.prev = &t.lru
	e.next = t.lru.next
	e.next.prev = e
	t.lru.next = e
}

func (t *CursorTable) unlink(e *cursorEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (t *CursorTable) touch(e *cursorEntry) {
	t.unlink(e)
	t.pushFront(e)
}

func (t *CursorTable) remove(e *cursorEntry) {
	t.unlink(e)
	delete(t.byID, e.id)
	delete(t.byPos, e.pos)
	t.bytes -= e.cost()
}

// Cursors is the store's SCAN cursor table, made on first use.
func (s *Store) Cursors() *CursorTable {
	s.cursorsOnce.Do(func() { s.cursors = NewCursorTable(cursorMaxEntries, cursorMaxBytes) })
	return s.cursors
}

// ScanCursor is one step of a cursor iteration over namespace ns, as SCAN
// does it. Cursor 0 starts at the first key; any other cursor resumes where
// the call that returned it stopped (an unknown cursor starts again from
// the first key, see above). It calls fn for up to count live keys in key
// order (count < 1 counts as 1) and returns the cursor to continue with, 0
// once the last key has been passed.
//
// With a prefix, only keys that start with it are visited, and the
// iteration ends after the last of them: a SCAN MATCH whose pattern starts
// with literal text need not walk the rest of the namespace. count then
// counts only keys with the prefix.
//
// fn must not write, and may keep key only for the transaction's life.
func (tx *Tx) ScanCursor(ns string, cursor uint64, count int, prefix string, fn func(key string, v Value)) (uint64, error) {
	if count < 1 {
		count = 1
	}
	table := tx.s.Cursors()
	from := ""
	if cursor != 0 {
		from, _ = table.Lookup(ns, cursor)
	}
	if from < prefix {
		from = prefix
	}
	n := 0
	resume, more := "", false
	err := tx.Scan(ns, from, func(key string, v Value) bool {
		if !strings.HasPrefix(key, prefix) {
			return false
		}
		if n == count {
			resume, more = key, true
			return false
		}
		n++
		fn(key, v)
		return true
	})
	if err != nil || !more {
		return 0, err
	}
	return table.Register(ns, resume), nil
}
