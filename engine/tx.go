package engine

import (
	"errors"
	"sync"
	"time"
)

// Tx is a transaction over one namespace, or, when exclusive, over any
// number of them. Commands run inside one; a pipeline's commands can share
// one, so its writes cost one commit (one write to the file, one
// fsync under appendfsync always).
type Tx struct {
	s         *Store
	writable  bool
	exclusive bool
	now       int64
	parts     []txPart
	inline    [1]txPart // backing for parts in the common one-namespace case
	touched   []Touched
	lazy      bool  // touched holds keys removed on access because expired
	client    int64 // who the changes are made for (SetClient)
	expired   int64
	dirty     bool
	noTouch   bool   // CLIENT NO-TOUCH: reads leave the access bits alone
	sink      uint64 // what Prefetch read, kept so that its loads stay
	// ticket: the commit may be deferred (DeferWrite).
	ticket *WriteTicket
}

// DeferWrite lets the commit leave its records in memory, to reach the
// file when FlushPending next runs (or any other write to the file comes
// first), and t tell whether they did. The caller must run FlushPending
// and read t.Result before it acknowledges the changes; if the write
// failed, the changes were undone. The server's event loop does, once per
// turn for all its clients. Only a transaction on one namespace that
// leaves the expiry index alone is deferred; the others commit as usual
// (t.Deferred says which). Under appendfsync always FlushPending also
// waits for the records' fsync.
func (tx *Tx) DeferWrite(t *WriteTicket) { tx.ticket = t }

// Touched names a key a transaction changed, for WATCH and client tracking.
// Key "" means the whole namespace was emptied or swapped.
type Touched struct {
	Namespace string
	Key       string
	// Client is the ID given to Tx.SetClient by the command that made the
	// change, 0 for the server itself (active expiry).
	Client int64
	// Lazy marks a key removed because an access found it expired; only
	// subscribers registered with OnTouchAll are told of those.
	Lazy bool
}

// SetClient names the client whose command makes the next changes, so the
// keys it touches are reported with its ID (client tracking's NOLOOP).
func (tx *Tx) SetClient(id int64) { tx.client = id }

type txPart struct {
	ns   *Namespace
	kv   kvTx
	undo []expUndo
	// oldExp holds the expiry index replaced by the transaction's first
	// flush, for rollback; flushAt is len(undo) then: the undo entries
	// after it were made on the index that replaced it.
	oldExp  *expIndex
	flushAt int
	// mem is the change of the namespace's memory estimate, applied at
	// commit (memory.go).
	mem int64
}

type expUndo struct {
	added bool
	at    int64
	key   string
}

// Now is the transaction's clock in Unix milliseconds, fixed when it began
// so one command sees one time, as Redis does.
func (tx *Tx) Now() int64 { return tx.now }

// Writable reports whether the transaction may write.
func (tx *Tx) Writable() bool { return tx.writable }

// Store is the store the transaction belongs to.
func (tx *Tx) Store() *Store { return tx.s }

// Update runs fn in a writable transaction confined to one namespace and
// commits it. Under appendfsync always it returns only once the writes are
// on disk.
func (s *Store) Update(fn func(tx *Tx) error) error {
	return s.run(true, false, fn)
}

// View runs fn in a read-only transaction confined to one namespace.
func (s *Store) View(fn func(tx *Tx) error) error {
	return s.run(false, false, fn)
}

// Exclusive runs fn in a writable transaction that may touch any
// namespace, with every other client's transaction held off: what EXEC,
// scripts, MOVE, COPY ... DB, SWAPDB and FLUSHALL need.
func (s *Store) Exclusive(fn func(tx *Tx) error) error {
	return s.run(true, true, fn)
}

var txPool = sync.Pool{New: func() any { return new(Tx) }}

// ErrRollback makes a transaction function roll back without reporting an
// error to the caller of Update.
var ErrRollback = errors.New("rollback")

func (s *Store) run(writable, exclusive bool, fn func(tx *Tx) error) (err error) {
	if exclusive {
		s.world.Lock()
	} else {
		s.world.RLock()
	}
	tx := txPool.Get().(*Tx)
	touched := tx.touched // kept from the last use: no allocation per write
	*tx = Tx{s: s, writable: writable, exclusive: exclusive, now: time.Now().UnixMilli()}
	tx.parts = tx.inline[:0]
	tx.touched = touched
	defer func() {
		if r := recover(); r != nil {
			tx.rollback()
			s.unlockWorld(exclusive)
			panic(r)
		}
		touched := tx.touched
		clear(touched) // let go of the keys
		*tx = Tx{}
		if cap(touched) <= 256 {
			tx.touched = touched[:0]
		}
		txPool.Put(tx)
	}()
	err = fn(tx)
	if err != nil {
		tx.rollback()
		s.unlockWorld(exclusive)
		if err == ErrRollback {
			err = nil
		}
		return err
	}
	waits, cerr := tx.commit()
	// Report the changed keys before other transactions may run: WATCH
	// checks its flags inside EXEC's exclusive transaction, which must see
	// every change committed before it.
	if cerr == nil && len(tx.touched) > 0 {
		s.notifyTouched(tx.touched, tx.lazy)
	}
	s.unlockWorld(exclusive)
	if tx.expired > 0 {
		s.Stats.ExpiredKeys.Add(tx.expired)
	}
	if cerr != nil {
		s.noteWriteError(cerr)
		return cerr
	}
	for _, ns := range waits {
		if err := ns.sync.wait(); err != nil {
			s.noteWriteError(err)
			return err
		}
	}
	return nil
}

func (s *Store) unlockWorld(exclusive bool) {
	if exclusive {
		s.world.Unlock()
	} else {
		s.world.RUnlock()
	}
}

// OnTouch adds a function told, after each commit, which keys changed
// (including keys removed by active expiry). Every function added is
// called, in order. They must be added before the store is used. They run
// while the committing transaction still holds the store's shared lock, so
// they must be quick, must not begin a transaction, and must copy a key
// they keep.
func (s *Store) OnTouch(fn func([]Touched)) {
	s.touchSubs = append(s.touchSubs, touchSub{fn: fn})
}

// OnTouchAll is OnTouch for a function also told of keys removed because
// an access found them expired (Touched.Lazy): client tracking invalidates
// them, while WATCH, which checks expiry itself, must not see them.
func (s *Store) OnTouchAll(fn func([]Touched)) {
	s.touchSubs = append(s.touchSubs, touchSub{fn: fn, lazy: true})
}

type touchSub struct {
	fn   func([]Touched)
	lazy bool
}

// notifyTouched tells every subscriber; lazy says t holds Lazy entries,
// which are filtered out for the subscribers that did not ask for them.
func (s *Store) notifyTouched(t []Touched, lazy bool) {
	var plain []Touched
	for _, sub := range s.touchSubs {
		if !lazy || sub.lazy {
			sub.fn(t)
			continue
		}
		if plain == nil {
			plain = make([]Touched, 0, len(t))
			for _, x := range t {
				if !x.Lazy {
					plain = append(plain, x)
				}
			}
		}
		if len(plain) > 0 {
			sub.fn(plain)
		}
	}
}

// WriteError is the last error a write to disk returned, "" if the last
// write succeeded.
func (s *Store) WriteError() string {
	p := s.Stats.LastWriteErr.Load()
	if p == nil {
		return ""
	}
	return *p
}

func (s *Store) noteWriteError(err error) {
	msg := err.Error()
	s.Stats.LastWriteErr.Store(&msg)
	s.log.Error("write to append-only file failed", "err", err)
}

// commit commits every part; it returns the namespaces whose writes must
// reach the disk before the caller replies.
func (tx *Tx) commit() ([]*Namespace, error) {
	var waits []*Namespace
	var first error
	for i := range tx.parts {
		p := &tx.parts[i]
		if !tx.writable {
			p.kv.Rollback()
			continue
		}
		if first != nil {
			p.undoExp() // while the namespace is still locked
			p.kv.Rollback()
			continue
		}
		// Read the index size while the namespace is still locked.
		p.ns.volatile.Store(int64(p.ns.exp.len()))
		tx.s.addMemory(p.ns, p.mem)
		if tx.ticket != nil && len(tx.parts) == 1 && len(p.undo) == 0 && p.oldExp == nil {
			// Deferred (DeferWrite): undoing it, should its write fail,
			// needs only the data's own undo entries and mem.
			p.kv.commitDeferred(tx.ticket, p.mem)
			if tx.dirty {
				p.ns.sync.commits.Add(1)
			}
			continue
		}
		if err := p.kv.Commit(func() {
			// The data was rolled back; the index goes back too,
			// before the namespace's lock is released.
			p.undoExp()
			p.ns.volatile.Store(int64(p.ns.exp.len()))
			tx.s.addMemory(p.ns, -p.mem)
		}); err != nil {
			first = err
			continue
		}
		if tx.dirty {
			p.ns.sync.commits.Add(1)
		}
		if p.ns.sync.always.Load() && p.ns.path != "" && tx.dirty {
			waits = append(waits, p.ns)
		}
	}
	if first == nil && tx.dirty && tx.s.WriteError() != "" {
		tx.s.Stats.LastWriteErr.Store(nil)
	}
	return waits, first
}

func (tx *Tx) rollback() {
	for i := range tx.parts {
		p := &tx.parts[i]
		if tx.writable {
			p.undoExp() // while the namespace is still locked
		}
		p.kv.Rollback()
	}
	clear(tx.touched)
	tx.touched = tx.touched[:0]
	tx.lazy = false
}

func (p *txPart) undoExp() {
	undo := p.undo
	if p.oldExp != nil {
		// What came after the flush was done to the index the flush
		// put in place, which goes away.
		p.ns.exp = *p.oldExp
		p.oldExp = nil
		undo = undo[:p.flushAt]
	}
	for i := len(undo) - 1; i >= 0; i-- {
		u := undo[i]
		if u.added {
			p.ns.exp.remove(u.at, u.key)
		} else {
			p.ns.exp.add(u.at, u.key)
		}
	}
	p.undo = nil
}

// part returns the open transaction of a namespace, beginning it on
// first use. With create false a namespace that does not exist yields nil.
func (tx *Tx) part(name string, create bool) (*txPart, error) {
	for i := range tx.parts {
		if tx.parts[i].ns.name == name {
			return &tx.parts[i], nil
		}
	}
	var ns *Namespace
	var err error
	switch {
	case create:
		ns, err = tx.s.create(name)
		if err != nil {
			return nil, err
		}
	case tx.writable:
		// A writable transaction reads a missing namespace under that
		// namespace's lock too, or two INCRs on a namespace's first key
		// would both read "missing". So it creates the namespace; if the
		// cap or the name forbids that, the namespace reads as empty and
		// any write to it fails.
		if ns, err = tx.s.create(name); err != nil {
			return nil, nil
		}
	default:
		if ns = tx.s.lookup(name); ns == nil {
			return nil, nil
		}
	}
	if len(tx.parts) > 0 && !tx.exclusive {
		return nil, ErrCrossNamespace
	}
	kv, err := ns.db.begin(tx.writable)
	if err != nil {
		return nil, err
	}
	tx.parts = append(tx.parts, txPart{ns: ns, kv: kv})
	return &tx.parts[len(tx.parts)-1], nil
}

// alive reports whether a value has not expired at the transaction's time.
// As in Redis, a key is gone once the clock is past its expiry.
func (tx *Tx) alive(v Value) bool {
	return v.ExpireAt == 0 || tx.now <= v.ExpireAt
}

// Get returns a key's value. An expired key is reported missing and, in a
// writable transaction, removed.
func (tx *Tx) Get(ns, key string) (Value, bool, error) {
	p, err := tx.part(ns, false)
	if p == nil {
		return Value{}, false, err
	}
	raw, m, ok := p.kv.GetMeta(key)
	if !ok {
		return Value{}, false, nil
	}
	v := decode(raw)
	if !tx.alive(v) {
		if tx.writable {
			tx.remove(p, key)
			tx.expired++
			tx.touchLazy(ns, key)
		}
		return Value{}, false, nil
	}
	if !tx.noTouch {
		touch(m, tx.now, tx.s.accessMode(), false)
	}
	return v, true, nil
}

// Prefetch tells the transaction that keys of namespace ns are about to
// be read or written: it brings into the cache the memory their lookups
// will touch, all keys at once, so that a batch of commands waits for
// those cache misses together instead of one after another. It changes
// nothing and may be skipped; a namespace that does not exist is left so.
func (tx *Tx) Prefetch(ns string, keys []string) {
	if len(keys) < 2 {
		return
	}
	p, _ := tx.part(ns, false)
	if p == nil {
		return
	}
	tx.sink += p.kv.db.d.prefetch(keys)
}

// Exists reports whether a live key exists.
func (tx *Tx) Exists(ns, key string) (bool, error) {
	_, ok, err := tx.Get(ns, key)
	return ok, err
}

// Set stores a value, replacing any previous one and its expiry.
func (tx *Tx) Set(ns, key string, v Value) error {
	if !tx.writable {
		return errKVNotWritable
	}
	p, err := tx.part(ns, true)
	if err != nil {
		return err
	}
	// One allocation holds both the key and the encoded value: the key
	// given may point into the client's request buffer, and one block
	// instead of two saves a size-class round-up per key.
	buf := make([]byte, 0, len(key)+encodedLen(v))
	buf = append(buf, key...)
	buf = appendEncoded(buf, v)
	key = unsafeString(buf[:len(key)])
	prev, replaced, m := p.kv.SetBlock(buf, len(key))
	p.mem += entryCost(len(key), len(buf)-len(key), v.ExpireAt != 0)
	// Writing a live key is an access to it; otherwise the key is new.
	touch(m, tx.now, tx.s.accessMode(), !replaced || !tx.alive(Value{ExpireAt: decodeExpire(prev)}))
	if replaced {
		p.mem -= rawCost(key, prev)
		if at := decodeExpire(prev); at != 0 {
			p.ns.exp.remove(at, key)
			p.undo = append(p.undo, expUndo{false, at, key})
		}
	}
	if v.ExpireAt != 0 {
		p.ns.exp.add(v.ExpireAt, key)
		p.undo = append(p.undo, expUndo{true, v.ExpireAt, key})
	}
	tx.dirty = true
	tx.touch(ns, key)
	return nil
}

// Delete removes a key; it reports whether a live key was removed.
func (tx *Tx) Delete(ns, key string) (bool, error) {
	if !tx.writable {
		return false, errKVNotWritable
	}
	p, err := tx.part(ns, false)
	if p == nil {
		return false, err
	}
	raw, ok := tx.remove(p, key)
	if !ok {
		return false, nil
	}
	if !tx.alive(decode(raw)) {
		tx.expired++
		tx.touchLazy(ns, key)
		return false, nil
	}
	tx.touch(ns, key)
	return true, nil
}

// remove deletes a key, live or expired, and returns its stored value.
func (tx *Tx) remove(p *txPart, key string) (string, bool) {
	prev, ok := p.kv.Delete(key)
	if !ok {
		return "", false
	}
	p.mem -= rawCost(key, prev)
	if at := decodeExpire(prev); at != 0 {
		p.ns.exp.remove(at, key)
		p.undo = append(p.undo, expUndo{false, at, key})
	}
	tx.dirty = true
	return prev, true
}

func (tx *Tx) touch(ns, key string) {
	if len(tx.s.touchSubs) > 0 {
		tx.touched = append(tx.touched, Touched{Namespace: ns, Key: key, Client: tx.client})
	}
}

// touchLazy reports a key removed because it was found expired.
func (tx *Tx) touchLazy(ns, key string) {
	if len(tx.s.touchSubs) > 0 {
		tx.touched = append(tx.touched, Touched{Namespace: ns, Key: key, Lazy: true})
		tx.lazy = true
	}
}

// Len is the namespace's key count, as DBSIZE.
func (tx *Tx) Len(ns string) (int, error) {
	p, err := tx.part(ns, false)
	if p == nil {
		return 0, err
	}
	return p.kv.Len(), nil
}

// Flush removes every key of a namespace.
func (tx *Tx) Flush(ns string) error {
	if !tx.writable {
		return errKVNotWritable
	}
	p, err := tx.part(ns, false)
	if p == nil {
		return err
	}
	if p.kv.Len() == 0 {
		return nil
	}
	p.kv.DeleteAll()
	// Everything committed goes, and whatever this transaction added.
	p.mem = -p.ns.acct.bytes.Load()
	if p.oldExp == nil {
		old := p.ns.exp
		p.oldExp = &old
		p.flushAt = len(p.undo)
	}
	p.ns.exp.init()
	tx.dirty = true
	tx.touch(ns, "")
	return nil
}

// Scan calls fn for the live keys of a namespace, in no particular order,
// until fn returns false. fn must not write.
func (tx *Tx) Scan(ns string, fn func(key string, v Value) bool) error {
	p, err := tx.part(ns, false)
	if p == nil {
		return err
	}
	p.ns.db.d.each(func(s dslot) bool {
		v := decode(s.val())
		if !tx.alive(v) {
			return true
		}
		return fn(s.key(), v)
	})
	return nil
}

// RandomKey returns a live key chosen at random, "" and false when the
// namespace is empty. A few draws step over expired keys.
func (tx *Tx) RandomKey(ns string) (string, bool, error) {
	p, err := tx.part(ns, false)
	if p == nil {
		return "", false, err
	}
	d := p.ns.db.d
	for try := 0; try < 100; try++ {
		s, ok := d.random()
		if !ok {
			return "", false, nil
		}
		if tx.alive(decode(s.val())) {
			return s.key(), true, nil
		}
	}
	// Mostly expired: take the first live key.
	var found string
	var ok bool
	d.each(func(s dslot) bool {
		if tx.alive(decode(s.val())) {
			found, ok = s.key(), true
			return false
		}
		return true
	})
	return found, ok, nil
}

// Exclusive reports whether this transaction may touch several namespaces.
func (tx *Tx) Exclusive() bool { return tx.exclusive }

// Swap exchanges the contents of two namespaces, as SWAPDB. It needs an
// exclusive transaction that has not touched either namespace.
func (tx *Tx) Swap(a, b string) error {
	if !tx.exclusive {
		return ErrCrossNamespace
	}
	for _, p := range tx.parts {
		if p.ns.name == a || p.ns.name == b {
			return errors.New("swap of a namespace in use by the transaction")
		}
	}
	if a == b {
		return nil
	}
	s := tx.s
	if !ValidName(a) || !ValidName(b) {
		return ErrNamespaceName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	na, nb := s.spaces[a], s.spaces[b]
	if na == nil && nb == nil {
		return nil
	}
	delete(s.spaces, a)
	delete(s.spaces, b)
	if na != nil {
		na.name = b
		s.spaces[b] = na
	}
	if nb != nil {
		nb.name = a
		s.spaces[a] = nb
	}
	if s.cfg.AppendOnly {
		if err := s.writeManifest(); err != nil {
			// put things back as they were
			delete(s.spaces, a)
			delete(s.spaces, b)
			if na != nil {
				na.name = a
				s.spaces[a] = na
			}
			if nb != nil {
				nb.name = b
				s.spaces[b] = nb
			}
			return err
		}
	}
	tx.touch(a, "")
	tx.touch(b, "")
	return nil
}

// Keyspace is Store.Keyspace as seen from inside the transaction (INFO
// inside EXEC or a script): a namespace the transaction has open is
// counted through it, since asking the store would wait for this very
// transaction's lock.
func (tx *Tx) Keyspace() []NamespaceInfo {
	var out []NamespaceInfo
	for _, name := range tx.s.Names() {
		ns := tx.s.lookup(name)
		if ns == nil {
			continue
		}
		n := -1
		for i := range tx.parts {
			if tx.parts[i].ns == ns {
				n = tx.parts[i].kv.Len()
			}
		}
		if n < 0 {
			n = ns.Len()
		}
		if n == 0 {
			continue
		}
		out = append(out, NamespaceInfo{Name: name, Keys: n, Expires: int(ns.volatile.Load())})
	}
	return out
}
