package commands

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"durastore/engine"
)

// maxBatch bounds how many pipelined commands share one transaction, so a
// huge pipeline does not hold a namespace's lock for long.
const maxBatch = 256

// Run executes a client's pipelined commands in order and appends their
// replies to w. Consecutive single-namespace data commands share one engine
// transaction: one lock, one write to the file and, under appendfsync
// always, one fsync for the lot.
func (e *Env) Run(s *Session, w *Writer, cmds [][][]byte) {
	for i := 0; i < len(cmds); {
		if s.Closing {
			return
		}
		start := len(w.B)
		cmd, ok := e.check(s, w, cmds[i])
		if ok && e.refuseOOM(s, w, cmd, cmds[i]) { // maxmemory (memory.go)
			ok = false
		}
		if ok {
			ok = e.admit(s, w, cmd, cmds[i]) // pub/sub mode, CLIENT PAUSE (connection.go)
		}
		// MULTI queueing and BUSY while a script runs (multi.go).
		if e.holdCommand(s, w, cmd, ok, cmds[i], start) {
			e.refused(s, w, cmds[i], start) // statistics, CLIENT REPLY (tracking.go)
			i++
			continue
		}
		if !ok {
			e.refused(s, w, cmds[i], start)
			i++
			continue
		}
		if !batchable(cmd) || e.paused() {
			e.runOne(s, w, cmd, cmds[i])
			i++
			continue
		}
		j := i + 1
		write := cmd.Flags&Write != 0
		for j < len(cmds) && j-i < maxBatch {
			next := e.Table.Lookup(cmds[j][0])
			if next == nil || !batchable(next) || !arityOK(next.Arity, len(cmds[j])) || !e.mayBatchDenyOOM(next) {
				break
			}
			write = write || next.Flags&Write != 0
			j++
		}
		// A write is deferred only when this transaction is the whole
		// of Run: the server then replaces Run's replies if it fails.
		e.runBatch(s, w, cmds[i:j], write, write && s.DeferWrites && i == 0 && j == len(cmds))
		i = j
	}
}

func batchable(c *Command) bool {
	return c.Flags&(Write|ReadOnly) != 0 && c.Flags&(Exclusive|NoTx) == 0
}

// check finds the command, validates its arity and that the client may run
// it before authenticating, replying with Redis's error if any fails.
func (e *Env) check(s *Session, w *Writer, args [][]byte) (*Command, bool) {
	cmd := e.Table.Lookup(args[0])
	if cmd == nil {
		e.Stats.RejectedCalls.Add(1)
		e.Stats.ErrorReplies.Add(1)
		w.Error(UnknownCommand(args))
		return nil, false
	}
	if !arityOK(cmd.Arity, len(args)) {
		e.Stats.RejectedCalls.Add(1)
		e.Stats.ErrorReplies.Add(1)
		w.Error(ArityError(cmd.Name))
		return nil, false
	}
	if e.AuthRequired(s, cmd) {
		// Redis reports a bad subcommand before asking for a password.
		msg := subcommandError(cmd, args)
		if msg == "" {
			msg = ErrNoAuth
		}
		e.Stats.RejectedCalls.Add(1)
		e.Stats.ErrorReplies.Add(1)
		w.Error(msg)
		return nil, false
	}
	return cmd, true
}

// runOne runs a command that is not batched, in the transaction its flags
// ask for.
func (e *Env) runOne(s *Session, w *Writer, cmd *Command, args [][]byte) {
	switch {
	case cmd.Flags&NoTx != 0 || cmd.Flags&(Write|ReadOnly) == 0:
		start := len(w.B)
		defer e.recoverPanic(w, start, 1, cmd)
		e.call(&Ctx{Env: e, S: s, Args: args, W: w, Cmd: cmd})
	default:
		e.runBatch(s, w, [][][]byte{args}, cmd.Flags&Write != 0, false)
	}
}

func (e *Env) call(c *Ctx) {
	e.Stats.Commands.Add(1)
	// The command's start stamps the client's last activity and starts
	// its timing (afterCall). In a batch it is the previous command's
	// end, which afterCall read: one clock reading per command.
	start := c.next
	if start.IsZero() {
		start = time.Now()
	}
	c.S.noteCommand(&c.Cmd.Name, start.UnixNano())
	if c.Tx != nil {
		c.Tx.SetNoTouch(c.S.NoTouch.Load()) // CLIENT NO-TOUCH (memory.go)
	}
	st := e.beforeCall(c, start)
	defer e.afterCall(c, st) // statistics, tracking, CLIENT REPLY (tracking.go)
	c.Cmd.Handler(c)
}

// runBatch runs commands in one transaction. If the commit fails (the
// disk refused the write) every reply of the batch becomes that error,
// since none of its writes happened. With deferOK the commit may leave its
// file write for later (Session.Ticket).
func (e *Env) runBatch(s *Session, w *Writer, cmds [][][]byte, write, deferOK bool) {
	start := len(w.B)
	defer e.recoverPanic(w, start, len(cmds), nil)
	b := batchPool.Get().(*batch)
	b.e, b.s, b.w, b.cmds, b.deferOK = e, s, w, cmds, deferOK
	defer b.release()
	fn := b.fn
	var err error
	switch {
	case len(cmds) == 1 && e.Table.Lookup(cmds[0][0]).Flags&Exclusive != 0:
		err = e.Store.Exclusive(fn)
	case write:
		// Each batch commits on its own: under appendfsync always,
		// batches that commit together share their fsync (the engine's
		// group commit). Sharing one transaction between clients' batches
		// as well saved nothing measurable and made a one-at-a-time
		// writer wait for others' commands: its p99 under redis-benchmark
		// -P 1 was 3 to 6 times Redis's, 1.7 times without.
		err = e.Store.Update(fn)
	default:
		err = e.Store.View(fn)
	}
	if err != nil {
		w.B = w.B[:start]
		msg := WriteErrorReply(err)
		for range cmds {
			e.Stats.ErrorReplies.Add(1)
			w.Error(msg)
		}
	}
}

// batch is runBatch's transaction function with what it works on, pooled
// so that running a batch allocates nothing: one Ctx serves all of its
// commands, and fn is bound to run once, when the batch is made.
type batch struct {
	e    *Env
	s    *Session
	w    *Writer
	cmds [][][]byte
	c    Ctx
	fn   func(*engine.Tx) error
	// deferOK: the commit may be deferred (runBatch).
	deferOK bool
	// rows are the commands' table rows, looked up once for prefetch
	// and run.
	rows [maxBatch]*Command
}

var batchPool = sync.Pool{New: func() any {
	b := &batch{}
	b.fn = b.run
	return b
}}

func (b *batch) run(tx *engine.Tx) error {
	c := &b.c
	*c = Ctx{Env: b.e, S: b.s, W: b.w, Tx: tx}
	if b.deferOK {
		tx.DeferWrite(&b.s.Ticket)
	}
	rows := b.rows[:len(b.cmds)]
	for i, args := range b.cmds {
		rows[i] = b.e.Table.Lookup(args[0])
	}
	b.prefetch(tx)
	for i, args := range b.cmds {
		c.Args, c.Cmd = args, rows[i]
		b.e.call(c)
	}
	return nil
}

// prefetch hands the engine the keys the batch's commands name (their
// table rows' first, last and step), so that it fetches their memory all
// at once (Tx.Prefetch), in groups of 64, up to prefetchKeys keys: enough
// for a pipeline of MSETs, whose memory then still fits in the cache when
// the commands run.
func (b *batch) prefetch(tx *engine.Tx) {
	var keys [64]string
	n, total := 0, 0
	for i, args := range b.cmds {
		c := b.rows[i]
		if c == nil || c.FirstKey <= 0 || c.Step <= 0 {
			continue
		}
		last := c.LastKey
		if last < 0 {
			last += len(args)
		}
		for k := c.FirstKey; k <= last && k < len(args); k += c.Step {
			if n == len(keys) {
				tx.Prefetch(b.s.DB, keys[:n])
				if total += n; total >= prefetchKeys {
					return
				}
				n = 0
			}
			keys[n] = bytesString(args[k])
			n++
		}
	}
	tx.Prefetch(b.s.DB, keys[:n])
}

// prefetchKeys is how many keys of a batch prefetch takes at most.
const prefetchKeys = 512

func (b *batch) release() {
	clear(b.rows[:len(b.cmds)])
	b.e, b.s, b.w, b.cmds, b.deferOK = nil, nil, nil, nil, false
	b.c = Ctx{}
	batchPool.Put(b)
}

// WriteErrorReply is the reply to a write the disk refused, in the words
// Redis uses when its append-only file cannot be written.
func WriteErrorReply(err error) string {
	if errors.Is(err, engine.ErrTooManySpaces) || errors.Is(err, engine.ErrNamespaceName) {
		return "ERR " + err.Error()
	}
	return "MISCONF Errors writing to the AOF file: " + err.Error()
}

// recoverPanic turns a panic inside a handler into an error reply for the
// commands that were running, logs it with its stack, and lets the server
// go on serving.
func (e *Env) recoverPanic(w *Writer, start, n int, cmd *Command) {
	r := recover()
	if r == nil {
		return
	}
	name := "batch"
	if cmd != nil {
		name = cmd.Name
	}
	slog.Error("panic in command handler", "command", name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	w.B = w.B[:start]
	for i := 0; i < n; i++ {
		e.Stats.ErrorReplies.Add(1)
		w.Error("ERR internal error while running the command")
	}
}

// MayWait reports whether running cmds could wait on something other than
// a namespace's lock held for one command: a CLIENT PAUSE, a running
// script, or a command that is neither a plain read or write nor fast
// (EXEC, EVAL, CLIENT PAUSE, FLUSHALL...). The server runs batches for
// which it is false on its event loop, where waiting would hold up every
// other client of the loop; the others get a goroutine. (Under appendfsync
// always a write run on the loop defers its commit, and the loop waits for
// one fsync per turn, as Redis's does.)
func (e *Env) MayWait(cmds [][][]byte) bool {
	if e.paused() || e.scripts.cur.Load() != nil {
		return true
	}
	for _, args := range cmds {
		c := e.Table.Lookup(args[0])
		switch {
		case c == nil:
		case batchable(c):
		case c.Flags&Fast == 0 || len(c.Subcommands) > 0:
			return true
		}
	}
	return false
}
