package commands

// Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH.
//
// While a client is in MULTI, dispatch (holdCommand, called from Run)
// queues its commands instead of running them; a command that fails its
// checks while queuing (unknown, wrong arity, not allowed in MULTI) marks
// the transaction so EXEC answers EXECABORT. EXEC runs the queue in one
// exclusive engine transaction: no other client's command runs in the
// middle, whatever namespaces the queue touches, and its writes reach the
// disk as one commit.
//
// WATCH registers keys in a registry fed by the store's touch hook, which
// reports every key a commit changed (and a namespace emptied or swapped
// as key ""), before the committing transaction lets anyone else run. EXEC
// checks the flags inside its exclusive transaction, so it sees every
// change committed before it.

import (
	"strings"
	"sync"
	"sync/atomic"

	"durastore/engine"
)

var multiCommands = []*Command{
	{Name: "multi", Arity: 1, Flags: NoScript | Loading | Stale | Fast | AllowBusy | NoTx,
		Categories: []string{"fast", "transaction"}, Group: "transactions", Since: "1.2.0",
		Summary: "Mark the start of a transaction block", Handler: cmdMulti},
	{Name: "exec", Arity: 1, Flags: NoScript | Loading | Stale | SkipSlowlog | NoTx,
		Categories: []string{"slow", "transaction"}, Group: "transactions", Since: "1.2.0",
		Summary: "Execute all commands issued after MULTI", Handler: cmdExec},
	{Name: "discard", Arity: 1, Flags: NoScript | Loading | Stale | Fast | AllowBusy | NoTx,
		Categories: []string{"fast", "transaction"}, Group: "transactions", Since: "2.0.0",
		Summary: "Discard all commands issued after MULTI", Handler: cmdDiscard},
	{Name: "watch", Arity: -2, Flags: NoScript | Loading | Stale | Fast | AllowBusy | NoTx,
		FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"fast", "transaction"}, Group: "transactions", Since: "2.2.0",
		Summary: "Watch the given keys to determine execution of the MULTI/EXEC block", Handler: cmdWatch},
	{Name: "unwatch", Arity: 1, Flags: NoScript | Loading | Stale | Fast | AllowBusy | NoTx,
		Categories: []string{"fast", "transaction"}, Group: "transactions", Since: "2.2.0",
		Summary: "Forget about all watched keys", Handler: cmdUnwatch},
}

// Redis's transaction errors, to the byte.
const (
	errMultiNested   = "ERR MULTI calls can not be nested"
	errExecNoMulti   = "ERR EXEC without MULTI"
	errDiscardNo     = "ERR DISCARD without MULTI"
	errWatchInMulti  = "ERR WATCH inside MULTI is not allowed"
	errExecAbort     = "EXECABORT Transaction discarded because of previous errors."
	errNotInMulti    = "ERR Command not allowed inside a transaction"
	maxQueuedCommand = 1 << 20
)

// MultiState is a client's transaction being queued.
type MultiState struct {
	cmds [][][]byte
	// aborted is set when a command failed its checks while queuing.
	aborted bool
}

// holdCommand is dispatch's hook for what happens before a command runs:
// it answers BUSY while a script runs past the busy threshold, and queues
// commands while the client is in MULTI. ok is false when check already
// replied with an error. It reports whether the command was dealt with.
func (e *Env) holdCommand(s *Session, w *Writer, cmd *Command, ok bool, args [][]byte, start int) bool {
	m := s.Multi
	if !ok {
		if m != nil {
			m.aborted = true
		}
		if eqFold(string(args[0]), "exec") {
			// A rejected EXEC ends the transaction, saying why (Redis's
			// execCommandAbort), even outside MULTI.
			msg := strings.TrimSuffix(strings.TrimPrefix(string(w.B[start:]), "-"), "\r\n")
			w.B = w.B[:start]
			e.execAbort(s, w, strings.TrimPrefix(msg, "ERR "))
		}
		return false
	}
	if run := e.scripts.cur.Load(); run != nil {
		if cmd.Name == "shutdown" {
			// The server waits for running commands before it stops:
			// stop the script (its own transaction rolls back).
			run.kill()
		}
		if msg := e.busyReply(cmd, args); msg != "" {
			e.Stats.RejectedCalls.Add(1)
			e.Stats.ErrorReplies.Add(1)
			if cmd.Name == "exec" {
				e.execAbort(s, w, msg)
				return true
			}
			w.Error(msg)
			if m != nil {
				m.aborted = true
			}
			return true
		}
	}
	if m == nil {
		return false
	}
	switch cmd.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return false
	}
	flags := cmd.Flags
	if len(cmd.Subcommands) > 0 {
		if msg := subcommandError(cmd, args); msg != "" {
			e.Stats.RejectedCalls.Add(1)
			e.Stats.ErrorReplies.Add(1)
			w.Error(msg)
			m.aborted = true
			return true
		}
		if len(args) >= 2 {
			flags = cmd.Subcommand(args[1]).Flags
		}
	}
	if flags&NoMulti != 0 {
		e.Stats.RejectedCalls.Add(1)
		e.Stats.ErrorReplies.Add(1)
		w.Error(errNotInMulti)
		m.aborted = true
		return true
	}
	// Like Redis, an aborted transaction stops keeping what it queues.
	if !m.aborted && len(m.cmds) < maxQueuedCommand {
		m.cmds = append(m.cmds, copyArgs(args))
	}
	w.Simple("QUEUED")
	return true
}

// execAbort ends the transaction because EXEC itself was rejected.
func (e *Env) execAbort(s *Session, w *Writer, why string) {
	s.Multi = nil
	e.unwatchAll(s)
	w.Error("EXECABORT Transaction discarded because of: " + why)
}

// copyArgs copies a command's arguments out of the request buffer, which
// the server reuses for the next read.
func copyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return out
}

// MULTI
// https://redis.io/commands/multi/
func cmdMulti(c *Ctx) {
	if c.S.Multi != nil {
		c.Error(errMultiNested)
		return
	}
	c.S.Multi = &MultiState{}
	c.W.OK()
}

// DISCARD
// https://redis.io/commands/discard/
func cmdDiscard(c *Ctx) {
	if c.S.Multi == nil {
		c.Error(errDiscardNo)
		return
	}
	c.S.Multi = nil
	c.Env.unwatchAll(c.S)
	c.W.OK()
}

// EXEC
// https://redis.io/commands/exec/
func cmdExec(c *Ctx) {
	s := c.S
	m := s.Multi
	if m == nil {
		c.Error(errExecNoMulti)
		return
	}
	s.Multi = nil
	if m.aborted {
		c.Env.unwatchAll(s)
		c.Error(errExecAbort)
		return
	}
	e := c.Env
	w := c.W
	start := len(w.B)
	run := func(tx *engine.Tx) error {
		if e.watchDirty(s, tx) {
			w.NullArray()
			return engine.ErrRollback
		}
		w.Array(len(m.cmds))
		for _, args := range m.cmds {
			cmd := e.Table.Lookup(args[0])
			e.call(&Ctx{Env: e, S: s, Args: args, W: w, Cmd: cmd, Tx: tx})
		}
		return nil
	}
	var err error
	if c.Tx != nil && c.Tx.Exclusive() {
		err = run(c.Tx)
		if err == engine.ErrRollback {
			err = nil
		}
	} else {
		err = e.Store.Exclusive(run)
	}
	e.unwatchAll(s)
	if err != nil {
		w.B = w.B[:start]
		c.Error(WriteErrorReply(err))
	}
}

// WATCH key [key ...]
// https://redis.io/commands/watch/
func cmdWatch(c *Ctx) {
	s := c.S
	if s.Multi != nil {
		c.Error(errWatchInMulti)
		return
	}
	ws := s.watch
	if ws == nil {
		ws = &watchSet{}
		s.watch = ws
	}
	ns := s.DB
	var fresh []*watchedKey
	for i := 1; i < len(c.Args); i++ {
		key := c.Str(i)
		if ws.has(ns, key) {
			continue
		}
		wk := &watchedKey{ns: ns, key: string(c.Args[i])}
		ws.keys = append(ws.keys, wk)
		fresh = append(fresh, wk)
	}
	if len(fresh) == 0 {
		c.W.OK()
		return
	}
	// Register first, then read each key's state in a write transaction
	// of its namespace (which removes a key found expired, as Redis's
	// lookup does, so its later removal is no change): a write committed
	// after the read is then surely reported to us.
	c.Env.watches.add(ws, fresh)
	err := c.Env.Store.Update(func(tx *engine.Tx) error {
		for _, wk := range fresh {
			v, found, err := tx.Get(wk.ns, wk.key)
			if err != nil {
				return err
			}
			wk.existed = found
			if found {
				wk.expireAt = v.ExpireAt
			}
		}
		return nil
	})
	if err != nil {
		// The state is unknown: make the next EXEC fail rather than run
		// on a guess.
		ws.dirty.Store(true)
	}
	c.W.OK()
}

// UNWATCH
// https://redis.io/commands/unwatch/
func cmdUnwatch(c *Ctx) {
	c.Env.unwatchAll(c.S)
	c.W.OK()
}

// SessionClosed releases what a closed connection held: its queued
// transaction and its WATCHed keys. The server calls it when a connection
// ends.
func (e *Env) SessionClosed(s *Session) {
	s.Multi = nil
	e.unwatchAll(s)
}

// PrepareStore connects the environment to its store's change hook, which
// WATCH relies on. Call it once, before the store is used.
func (e *Env) PrepareStore() {
	e.Store.OnTouch(e.watches.touched)
}

// ---------------------------------------------------------------------------
// The WATCH registry.

// watchedKey is one WATCHed key and what it was when WATCH ran.
type watchedKey struct {
	ns, key string
	// existed reports whether the key was live at WATCH time; expireAt
	// is its expiry then (0 for none). A key live then and expired by
	// EXEC time fails EXEC, as in Redis 7.
	existed  bool
	expireAt int64
}

// watchSet is one client's WATCHed keys. dirty is set by the touch hook
// from other goroutines; flushed (guarded by the registry's lock) names
// the namespaces emptied or swapped since WATCH.
type watchSet struct {
	keys    []*watchedKey
	dirty   atomic.Bool
	flushed map[string]bool
}

func (ws *watchSet) has(ns, key string) bool {
	for _, wk := range ws.keys {
		if wk.ns == ns && wk.key == key {
			return true
		}
	}
	return false
}

type watchKey struct{ ns, key string }

// watchRegistry maps watched keys to the sets watching them. Its zero
// value is ready to use.
type watchRegistry struct {
	mu     sync.Mutex
	n      atomic.Int64 // registered keys: the touch hook's fast path
	keys   map[watchKey]map[*watchSet]struct{}
	spaces map[string]map[*watchSet]int // namespace -> sets watching a key in it
}

func (r *watchRegistry) add(ws *watchSet, keys []*watchedKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = map[watchKey]map[*watchSet]struct{}{}
		r.spaces = map[string]map[*watchSet]int{}
	}
	for _, wk := range keys {
		k := watchKey{wk.ns, wk.key}
		set := r.keys[k]
		if set == nil {
			set = map[*watchSet]struct{}{}
			r.keys[k] = set
		}
		set[ws] = struct{}{}
		sp := r.spaces[wk.ns]
		if sp == nil {
			sp = map[*watchSet]int{}
			r.spaces[wk.ns] = sp
		}
		sp[ws]++
		r.n.Add(1)
	}
}

func (r *watchRegistry) remove(ws *watchSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, wk := range ws.keys {
		k := watchKey{wk.ns, wk.key}
		if set := r.keys[k]; set != nil {
			if _, ok := set[ws]; ok {
				delete(set, ws)
				r.n.Add(-1)
				if len(set) == 0 {
					delete(r.keys, k)
				}
			}
		}
		if sp := r.spaces[wk.ns]; sp != nil {
			if sp[ws]--; sp[ws] <= 0 {
				delete(sp, ws)
			}
			if len(sp) == 0 {
				delete(r.spaces, wk.ns)
			}
		}
	}
}

// touched is the store's touch hook: it marks the watchers of every
// changed key dirty, and notes emptied or swapped namespaces.
func (r *watchRegistry) touched(keys []engine.Touched) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range keys {
		if t.Key == "" {
			for ws := range r.spaces[t.Namespace] {
				if ws.flushed == nil {
					ws.flushed = map[string]bool{}
				}
				ws.flushed[t.Namespace] = true
			}
			continue
		}
		for ws := range r.keys[watchKey{t.Namespace, t.Key}] {
			ws.dirty.Store(true)
		}
	}
}

// flushedSince reports whether namespace ns was emptied or swapped since
// ws began watching.
func (r *watchRegistry) flushedSince(ws *watchSet, ns string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ws.flushed[ns]
}

// unwatchAll forgets a client's WATCHed keys.
func (e *Env) unwatchAll(s *Session) {
	ws := s.watch
	if ws == nil {
		return
	}
	s.watch = nil
	e.watches.remove(ws)
}

// watchDirty reports, inside EXEC's exclusive transaction, whether a
// WATCHed key changed: touched by a commit, expired since WATCH, or in a
// namespace emptied or swapped while it existed (before or after), as
// Redis's touchAllWatchedKeysInDb decides.
func (e *Env) watchDirty(s *Session, tx *engine.Tx) bool {
	ws := s.watch
	if ws == nil {
		return false
	}
	if ws.dirty.Load() {
		return true
	}
	for _, wk := range ws.keys {
		if wk.existed && wk.expireAt != 0 && tx.Now() > wk.expireAt {
			return true
		}
		if e.watches.flushedSince(ws, wk.ns) {
			if wk.existed {
				return true
			}
			if ok, _ := tx.Exists(wk.ns, wk.key); ok {
				return true
			}
		}
	}
	return false
}
