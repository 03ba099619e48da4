package commands

// Client-side caching: CLIENT TRACKING, CACHING, TRACKINGINFO and
// GETREDIR, and the invalidation messages, after Redis 7.0's tracking.c.
//
// A client with tracking on has the keys of the read-only commands it runs
// remembered in a table from key to client IDs (in OPTIN mode only after
// CLIENT CACHING YES, in OPTOUT mode unless CLIENT CACHING NO). The store's
// touch hook (trackTouched) reports every key a commit changed, a key
// expired or a namespace flushed; each client remembered for a changed key
// gets an "invalidate" message and the key leaves the table. BCAST clients
// are not remembered per key: every key changed under one of their prefixes
// is sent to them, grouped per commit and per prefix. A flush sends a null,
// meaning "everything", to every tracking client. As in Redis, keys are
// tracked by name whatever the namespace they were read in.
//
// Messages are RESP3 pushes on the client's own connection, or go to the
// client named by REDIRECT: as a push if it speaks RESP3, as a message on
// the __redis__:invalidate channel if it speaks RESP2 and is subscribed to
// something. They are delivered through the connection's Pusher, which the
// server implements with a bounded queue per connection, so the client
// making the change never waits for the one being told.
//
// This file also holds what dispatch does around every command (beforeCall,
// afterCall, refused): per-command statistics, the keys tracking remembers,
// CLIENT CACHING's one-command lifetime and CLIENT REPLY.

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"durastore/engine"
)

// Pusher delivers out-of-band messages (invalidations, pub/sub messages)
// to a connection. Push may be called from any goroutine, must return
// quickly and must not keep b.
type Pusher interface {
	Push(b []byte)
}

// sessionExt is a connection's tracking, pub/sub and reply state. Fields
// other goroutines read are atomic; the rest belong to the connection's
// goroutine.
type sessionExt struct {
	pusher Pusher

	// trk holds the trk* flags; redirect the REDIRECT client ID (0 for
	// none). The invalidation hook reads both from other goroutines.
	trk      atomic.Uint32
	redirect atomic.Int64
	prefixes []string // BCAST prefixes, in the order given

	// Pub/sub subscriptions, in the order made (pubsub.go). The counts
	// are read by CLIENT LIST and by the invalidation hook.
	channels, patterns, shards []string
	nsub, npsub, nssub         atomic.Int32

	// CLIENT REPLY: replyOff suppresses every reply; skipNext the reply of
	// the command after CLIENT REPLY SKIP, skipThis the current one's.
	replyOff, skipNext, skipThis bool
	// pushReply marks the reply of the running command as pub/sub
	// confirmations, which CLIENT REPLY does not suppress.
	pushReply bool
	// depth counts nested calls: 0 between commands, 1 while a command
	// the client sent runs, more inside EXEC or a script.
	depth int
	// monitor is set by MONITOR (CLIENT LIST's O flag).
	monitor atomic.Bool
}

// Tracking flags (sessionExt.trk).
const (
	trkOn uint32 = 1 << iota
	trkBcast
	trkOptin
	trkOptout
	trkCaching // CLIENT CACHING given for the next command
	trkNoloop
	trkBrokenRedir
)

func (x *sessionExt) has(f uint32) bool { return x.trk.Load()&f != 0 }

func (x *sessionExt) setFlag(f uint32, on bool) {
	for {
		old := x.trk.Load()
		v := old &^ f
		if on {
			v |= f
		}
		if x.trk.CompareAndSwap(old, v) {
			return
		}
	}
}

// subscribed reports whether the connection is in pub/sub mode: subscribed
// to any channel, pattern or shard channel.
func (x *sessionExt) subscribed() bool {
	return x.nsub.Load()+x.npsub.Load()+x.nssub.Load() > 0
}

// push sends b to the connection, if it has a pusher.
func (x *sessionExt) push(b []byte) {
	if p := x.pusher; p != nil {
		p.Push(b)
	}
}

// resp reads a session's protocol version, which its own goroutine changes
// under mu (HELLO, RESET).
func (s *Session) resp() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.RESP
}

// envExt is the server-wide state of this file and of pubsub.go.
type envExt struct {
	sessions sessionRegistry
	track    trackingTable
	pubsub   pubsubRegistry
	stats    commandStats
	pause    pauseState
	slowlog  slowLog
	monitors monitorList
}

// ---------------------------------------------------------------------------
// Connections

// sessionRegistry finds open connections by ID, for REDIRECT.
type sessionRegistry struct {
	mu   sync.RWMutex
	byID map[int64]*Session
}

func (r *sessionRegistry) get(id int64) *Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byID[id]
}

// SessionOpened registers a new connection and how to push messages to it.
// The server calls it before the connection's first command.
func (e *Env) SessionOpened(s *Session, p Pusher) {
	s.ext.pusher = p
	r := &e.ext.sessions
	r.mu.Lock()
	if r.byID == nil {
		r.byID = map[int64]*Session{}
	}
	r.byID[s.ID] = s
	r.mu.Unlock()
}

// SessionGone releases what tracking and pub/sub hold for a closed
// connection. The server calls it from the connection's goroutine.
func (e *Env) SessionGone(s *Session) {
	e.disableTracking(s)
	e.unsubscribeAll(s)
	e.stopMonitor(s)
	r := &e.ext.sessions
	r.mu.Lock()
	delete(r.byID, s.ID)
	r.mu.Unlock()
}

// PrepareTracking connects client tracking to the store's change hook.
// Call it once, before the store is used.
func (e *Env) PrepareTracking() {
	e.Store.OnTouchAll(e.trackTouched)
}

// ---------------------------------------------------------------------------
// The tracking table

// trackingTable is Redis's TrackingTable and PrefixTable.
type trackingTable struct {
	// clients counts connections with tracking on (INFO's
	// tracking_clients); with inUse, the touch hook's fast path: inUse
	// is set while keys or prefixes hold anything.
	clients atomic.Int64
	inUse   atomic.Bool

	mu       sync.Mutex
	keys     map[string]map[int64]struct{} // key -> IDs of clients that may cache it
	items    int64                         // IDs in keys, for INFO
	prefixes map[string]*bcastPrefix
}

// bcastPrefix is one BCAST prefix: its clients, and the keys under it
// changed by the commit being reported, with the client that last changed
// each (for NOLOOP).
type bcastPrefix struct {
	clients map[*Session]struct{}
	changed map[string]int64
}

// trackingStats reports INFO's tracking_total_keys, _items and _prefixes.
func (t *trackingTable) trackingStats() (keys, items, prefixes int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys), int(t.items), len(t.prefixes)
}

// remember records that s may cache keys.
func (t *trackingTable) remember(s *Session, keys []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		t.keys = map[string]map[int64]struct{}{}
	}
	t.inUse.Store(true)
	for _, k := range keys {
		ids := t.keys[k]
		if ids == nil {
			ids = map[int64]struct{}{}
			t.keys[strings.Clone(k)] = ids
		}
		if _, ok := ids[s.ID]; !ok {
			ids[s.ID] = struct{}{}
			t.items++
		}
	}
}

// enableTracking turns tracking on for s, as Redis's enableTracking.
func (e *Env) enableTracking(s *Session, redirect int64, flags uint32, prefixes []string) {
	t := &e.ext.track
	x := &s.ext
	if !x.has(trkOn) {
		t.clients.Add(1)
	}
	keep := x.trk.Load() & trkCaching
	x.redirect.Store(redirect)
	x.trk.Store(trkOn | keep | flags&(trkBcast|trkOptin|trkOptout|trkNoloop))
	if flags&trkBcast == 0 {
		return
	}
	if len(prefixes) == 0 {
		prefixes = []string{""}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.prefixes == nil {
		t.prefixes = map[string]*bcastPrefix{}
	}
	t.inUse.Store(true)
	for _, p := range prefixes {
		bp := t.prefixes[p]
		if bp == nil {
			bp = &bcastPrefix{clients: map[*Session]struct{}{}, changed: map[string]int64{}}
			t.prefixes[p] = bp
		}
		if _, ok := bp.clients[s]; !ok {
			bp.clients[s] = struct{}{}
			x.prefixes = append(x.prefixes, p)
		}
	}
}

// disableTracking turns tracking off for s. Its IDs stay in the key table
// and are skipped when found, as in Redis.
func (e *Env) disableTracking(s *Session) {
	x := &s.ext
	if !x.has(trkOn) {
		return
	}
	t := &e.ext.track
	if x.has(trkBcast) {
		t.mu.Lock()
		for _, p := range x.prefixes {
			if bp := t.prefixes[p]; bp != nil {
				delete(bp.clients, s)
				if len(bp.clients) == 0 {
					delete(t.prefixes, p)
				}
			}
		}
		t.mu.Unlock()
		x.prefixes = nil
	}
	x.trk.Store(0)
	x.redirect.Store(0)
	t.clients.Add(-1)
}

// trackTouched is the store's touch hook: it sends the invalidation
// messages for the keys a commit changed. It runs while the committing
// transaction holds the store, so it only queues messages.
func (e *Env) trackTouched(touched []engine.Touched) {
	t := &e.ext.track
	if t.clients.Load() == 0 && !t.inUse.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	defer func() { t.inUse.Store(len(t.keys) > 0 || len(t.prefixes) > 0) }()
	for _, x := range touched {
		if x.Key == "" {
			e.invalidateAll()
			continue
		}
		for p, bp := range t.prefixes {
			if strings.HasPrefix(x.Key, p) {
				if _, ok := bp.changed[x.Key]; !ok {
					bp.changed[strings.Clone(x.Key)] = x.Client
				} else {
					bp.changed[x.Key] = x.Client
				}
			}
		}
		ids := t.keys[x.Key]
		if ids == nil {
			continue
		}
		for id := range ids {
			target := e.ext.sessions.get(id)
			if target == nil {
				continue
			}
			f := target.ext.trk.Load()
			if f&trkOn == 0 || f&trkBcast != 0 || (f&trkNoloop != 0 && id == x.Client) {
				continue
			}
			e.sendTracking(target, x.Key, nil)
		}
		t.items -= int64(len(ids))
		delete(t.keys, x.Key)
	}
	e.broadcastChanged()
}

// invalidateAll sends every tracking client the null that means "all
// keys" and empties the key table, after a flush. t.mu is held.
func (e *Env) invalidateAll() {
	t := &e.ext.track
	r := &e.ext.sessions
	r.mu.RLock()
	var targets []*Session
	for _, s := range r.byID {
		if s.ext.has(trkOn) {
			targets = append(targets, s)
		}
	}
	r.mu.RUnlock()
	sort.Slice(targets, func(i, j int) bool { return targets[i].ID < targets[j].ID })
	for _, s := range targets {
		null := []byte("$-1\r\n")
		if s.resp() == 3 {
			null = []byte("_\r\n")
		}
		e.sendTracking(s, "", null)
	}
	t.keys = nil
	t.items = 0
}

// broadcastChanged sends each BCAST prefix's changed keys, sorted, to its
// clients (without a NOLOOP client's own changes), as Redis's
// trackingBroadcastInvalidationMessages. t.mu is held.
func (e *Env) broadcastChanged() {
	t := &e.ext.track
	if len(t.prefixes) == 0 {
		return
	}
	names := make([]string, 0, len(t.prefixes))
	for p, bp := range t.prefixes {
		if len(bp.changed) > 0 {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		bp := t.prefixes[p]
		keys := make([]string, 0, len(bp.changed))
		for k := range bp.changed {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		all := keysProto(keys, nil, 0)
		clients := make([]*Session, 0, len(bp.clients))
		for s := range bp.clients {
			clients = append(clients, s)
		}
		sort.Slice(clients, func(i, j int) bool { return clients[i].ID < clients[j].ID })
		for _, s := range clients {
			if s.ext.has(trkNoloop) {
				if own := keysProto(keys, bp.changed, s.ID); own != nil {
					e.sendTracking(s, "", own)
				}
				continue
			}
			e.sendTracking(s, "", all)
		}
		clear(bp.changed)
	}
}

// keysProto encodes keys as a RESP array, leaving out the keys last
// changed by client skip when changed is given; nil if none is left.
func keysProto(keys []string, changed map[string]int64, skip int64) []byte {
	n := 0
	for _, k := range keys {
		if changed == nil || changed[k] != skip {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	b := make([]byte, 0, 16+n*16)
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '\r', '\n')
	for _, k := range keys {
		if changed == nil || changed[k] != skip {
			b = appendBulk(b, k)
		}
	}
	return b
}

func appendBulk(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// sendTracking sends one invalidation message for client c: about key, or
// with proto as the already encoded payload (an array of keys, or a null).
// As Redis's sendTrackingMessage, it follows REDIRECT, reports a redirect
// to a client that is gone, and sends nothing to a RESP2 client that has
// nowhere to receive it.
func (e *Env) sendTracking(c *Session, key string, proto []byte) {
	target, redirected := c, false
	if id := c.ext.redirect.Load(); id != 0 {
		target = e.ext.sessions.get(id)
		if target == nil {
			c.ext.setFlag(trkBrokenRedir, true)
			if c.resp() == 3 {
				b := []byte(">2\r\n$21\r\ntracking-redir-broken\r\n:")
				b = strconv.AppendInt(b, id, 10)
				c.ext.push(append(b, '\r', '\n'))
			}
			return
		}
		redirected = true
	}
	var b []byte
	switch {
	case target.resp() == 3:
		b = append(b, ">2\r\n$10\r\ninvalidate\r\n"...)
	case redirected && target.ext.subscribed():
		b = append(b, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"...)
	default:
		return
	}
	if proto != nil {
		b = append(b, proto...)
	} else {
		b = append(b, "*1\r\n"...)
		b = appendBulk(b, key)
	}
	target.ext.push(b)
}

// ---------------------------------------------------------------------------
// Around every command

// callState is what beforeCall notes for afterCall.
type callState struct {
	start time.Time
	mark  int // where the command's reply starts in the writer
}

// beforeCall runs before a command's handler.
func (e *Env) beforeCall(c *Ctx, start time.Time) callState {
	if c.Tx != nil {
		c.Tx.SetClient(c.S.ID)
	}
	// Scripts (flagged skip_monitor) are shown before the commands they
	// run, the others once they have run (afterCall).
	if e.ext.monitors.n.Load() > 0 && c.Cmd.Flags&SkipMonitor != 0 && c.Cmd.Flags&Admin == 0 {
		e.feedMonitors(c)
	}
	c.S.ext.depth++
	return callState{start: start, mark: len(c.W.B)}
}

// afterCall runs after a command's handler (c.Cmd is then the subcommand
// that ran): it counts the call for INFO commandstats and errorstats,
// remembers the keys a tracking client read, ends CLIENT CACHING's effect
// and applies CLIENT REPLY.
func (e *Env) afterCall(c *Ctx, st callState) {
	x := &c.S.ext
	x.depth--
	d := time.Since(st.start)
	c.next = st.start.Add(d)
	reply := c.W.B[st.mark:]
	if len(c.Cmd.Subcommands) > 0 && len(c.Args) > 1 && len(reply) > 0 && reply[0] == '-' {
		// dispatchSubcommand refused an unknown subcommand or a wrong
		// argument count: Redis rejects those before running anything.
		e.ext.stats.rejected(e.Table, c.Cmd.Subcommand(c.Args[1]), reply)
	} else {
		e.ext.stats.called(c.Cmd, d, reply, c.Env)
		e.ext.slowlog.note(c, st.start, d)
	}
	if e.ext.monitors.n.Load() > 0 && c.Cmd.Flags&(Admin|SkipMonitor) == 0 {
		e.feedMonitors(c)
	}
	if f := x.trk.Load(); f&trkOn != 0 {
		if f&trkBcast == 0 && c.Cmd.Flags&ReadOnly != 0 && c.Cmd.Flags&PubSub == 0 {
			optin, optout, caching := f&trkOptin != 0, f&trkOptout != 0, f&trkCaching != 0
			if !(optin && !caching) && !(optout && caching) {
				if keys := commandKeys(c.Cmd, c.Args); len(keys) > 0 {
					e.ext.track.remember(c.S, keys)
				}
			}
		}
		// CLIENT CACHING lasts one command, or a whole transaction;
		// CLIENT's own subcommands keep it, as in Redis.
		if f&trkCaching != 0 && x.depth == 0 && c.S.Multi == nil && !strings.HasPrefix(c.Cmd.Name, "client|") {
			x.setFlag(trkCaching, false)
		}
	}
	if x.depth == 0 {
		x.endReply(c.W, st.mark)
	}
}

// refused is dispatch's hook for a command that did not run: rejected by
// its checks, or queued by MULTI. mark is where its reply starts.
func (e *Env) refused(s *Session, w *Writer, args [][]byte, mark int) {
	if len(w.B) > mark && w.B[mark] == '-' {
		cmd := e.Table.Lookup(args[0])
		if cmd != nil && len(cmd.Subcommands) > 0 && len(args) > 1 {
			if sub := cmd.Subcommand(args[1]); sub != nil {
				cmd = sub
			}
		}
		e.ext.stats.rejected(e.Table, cmd, w.B[mark:])
	}
	s.ext.endReply(w, mark)
}

// endReply applies CLIENT REPLY OFF and SKIP to the reply of the command
// that just ended, written from mark on.
func (x *sessionExt) endReply(w *Writer, mark int) {
	suppress := (x.replyOff || x.skipThis) && !x.pushReply
	x.skipThis = x.skipNext
	x.skipNext = false
	x.pushReply = false
	if suppress && len(w.B) > mark {
		w.B = w.B[:mark]
	}
}

// commandKeys returns the key arguments of a command, found by its key
// specs as Redis's getKeysFromCommand does.
func commandKeys(cmd *Command, args [][]byte) []string {
	if cmd.FirstKey <= 0 && lookupMeta(cmd.Name) == nil {
		return nil
	}
	refs, _ := keysFromSpecs(cmd, commandKeySpecs(cmd), args)
	keys := make([]string, 0, len(refs))
	for _, r := range refs {
		if r.pos > 0 && r.pos < len(args) {
			keys = append(keys, bytesString(args[r.pos]))
		}
	}
	return keys
}

// ---------------------------------------------------------------------------
// CLIENT TRACKING, CACHING, TRACKINGINFO, GETREDIR

// CLIENT TRACKING ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX
// prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
// https://redis.io/commands/client-tracking/
func cmdClientTracking(c *Ctx) {
	var redirect int64
	var flags uint32
	var prefixes []string
	for j := 3; j < len(c.Args); j++ {
		more := j+1 < len(c.Args)
		switch {
		case c.Is(j, "redirect") && more:
			j++
			if redirect != 0 {
				c.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := c.Int(j)
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			// The client must exist now, even if it may be gone later.
			if c.Env.ext.sessions.get(id) == nil {
				c.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			redirect = id
		case c.Is(j, "bcast"):
			flags |= trkBcast
		case c.Is(j, "optin"):
			flags |= trkOptin
		case c.Is(j, "optout"):
			flags |= trkOptout
		case c.Is(j, "noloop"):
			flags |= trkNoloop
		case c.Is(j, "prefix") && more:
			j++
			prefixes = append(prefixes, string(c.Args[j]))
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	x := &c.S.ext
	switch {
	case c.Is(2, "on"):
		// The checks of Redis 7.0's clientCommand, in its order.
		cur := x.trk.Load()
		bcast := flags&trkBcast != 0
		switch {
		case !bcast && len(prefixes) > 0:
			c.Error("ERR PREFIX option requires BCAST mode to be enabled")
		case cur&trkOn != 0 && (cur&trkBcast != 0) != bcast:
			c.Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, " +
				"and then re-enabling it with a different mode.")
		case bcast && flags&(trkOptin|trkOptout) != 0:
			c.Error("ERR OPTIN and OPTOUT are not compatible with BCAST")
		case flags&trkOptin != 0 && flags&trkOptout != 0:
			c.Error("ERR You can't specify both OPTIN mode and OPTOUT mode")
		case flags&trkOptin != 0 && cur&trkOptout != 0, flags&trkOptout != 0 && cur&trkOptin != 0:
			c.Error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, " +
				"and then re-enabling it with a different mode.")
		default:
			if bcast {
				if msg := prefixCollision(x.prefixes, prefixes); msg != "" {
					c.Error(msg)
					return
				}
			}
			c.Env.enableTracking(c.S, redirect, flags, prefixes)
			c.W.OK()
		}
	case c.Is(2, "off"):
		c.Env.disableTracking(c.S)
		c.W.OK()
	default:
		c.Error(ErrSyntax)
	}
}

// prefixCollision returns Redis's error when a new BCAST prefix overlaps
// one the client has or another new one, "" when none does.
func prefixCollision(have, add []string) string {
	overlap := func(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }
	for i, p := range add {
		for _, h := range have {
			if overlap(h, p) {
				return sanitize("ERR Prefix '" + p + "' overlaps with an existing prefix '" + h +
					"'. Prefixes for a single client must not overlap.")
			}
		}
		for _, q := range add[i+1:] {
			if overlap(p, q) {
				return sanitize("ERR Prefix '" + p + "' overlaps with another provided prefix '" + q +
					"'. Prefixes for a single client must not overlap.")
			}
		}
	}
	return ""
}

// CLIENT CACHING YES|NO
// https://redis.io/commands/client-caching/
func cmdClientCaching(c *Ctx) {
	x := &c.S.ext
	f := x.trk.Load()
	if f&trkOn == 0 {
		c.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case c.Is(2, "yes"):
		if f&trkOptin == 0 {
			c.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case c.Is(2, "no"):
		if f&trkOptout == 0 {
			c.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		c.Error(ErrSyntax)
		return
	}
	x.setFlag(trkCaching, true)
	c.W.OK()
}

// CLIENT GETREDIR
// https://redis.io/commands/client-getredir/
func cmdClientGetRedir(c *Ctx) {
	if !c.S.ext.has(trkOn) {
		c.W.Int(-1)
		return
	}
	c.W.Int(c.S.ext.redirect.Load())
}

// CLIENT TRACKINGINFO
// https://redis.io/commands/client-trackinginfo/
func cmdClientTrackingInfo(c *Ctx) {
	x := &c.S.ext
	f := x.trk.Load()
	flags := []string{"off"}
	if f&trkOn != 0 {
		flags[0] = "on"
	}
	if f&trkBcast != 0 {
		flags = append(flags, "bcast")
	}
	if f&trkOptin != 0 {
		flags = append(flags, "optin")
		if f&trkCaching != 0 {
			flags = append(flags, "caching-yes")
		}
	}
	if f&trkOptout != 0 {
		flags = append(flags, "optout")
		if f&trkCaching != 0 {
			flags = append(flags, "caching-no")
		}
	}
	if f&trkNoloop != 0 {
		flags = append(flags, "noloop")
	}
	if f&trkBrokenRedir != 0 {
		flags = append(flags, "broken_redirect")
	}
	c.W.Map(3)
	c.W.BulkString("flags")
	c.W.Set(len(flags))
	for _, fl := range flags {
		c.W.BulkString(fl)
	}
	c.W.BulkString("redirect")
	if f&trkOn != 0 {
		c.W.Int(x.redirect.Load())
	} else {
		c.W.Int(-1)
	}
	c.W.BulkString("prefixes")
	prefixes := slices.Clone(x.prefixes)
	sort.Strings(prefixes)
	c.W.Array(len(prefixes))
	for _, p := range prefixes {
		c.W.BulkString(p)
	}
}
