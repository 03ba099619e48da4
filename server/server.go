// Package server is durastore's network side: the RESP listeners (conn.go),
// per-connection state and limits, and the HTTP API. It hands every
// command to the commands package and never touches storage itself.
package server

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"durastore/commands"
	"durastore/engine"
)

// Version is durastore's version. redis_version in INFO reports the Redis
// version whose behaviour we follow, since clients check it.
const (
	Version      = "0.1.0"
	RedisVersion = "7.0.15"
)

// Server is a running durastore.
type Server struct {
	// cfgMu guards cfg, which CONFIG SET changes while clients run.
	cfgMu sync.RWMutex
	cfg   Config
	log   *slog.Logger
	// logLevel is the logger's level, which CONFIG SET loglevel changes
	// (nil when the logger was not built with one).
	logLevel *slog.LevelVar
	store    *engine.Store
	env      *commands.Env

	listeners []net.Listener // RESP, plain and TLS (conn.go)
	loops     []*netLoop     // the event loops serving plain TCP (loop.go)
	nextLoop  atomic.Uint32
	loopsDone chan struct{} // ends closeIdleLoopConns
	addrs     []net.Addr
	http      *httpAPI // the HTTP API (http.go), nil when http-port is 0

	mu      sync.Mutex
	clients map[int64]*client
	nextID  atomic.Int64
	started time.Time

	// For INFO, HELLO and LASTSAVE (see host.go).
	runID, replID string
	totalConns    atomic.Int64
	rejectedConns atomic.Int64
	lastSave      atomic.Int64 // Unix seconds

	// gate lets shutdown wait for commands in flight: every batch holds it
	// shared; shutdown takes it alone.
	gate     sync.RWMutex
	closing  atomic.Bool
	shutdown chan struct{}
	// stopSampler ends sampleStats.
	stopSampler chan struct{}
	once        sync.Once
	serveWG     sync.WaitGroup
}

// client is one connection.
type client struct {
	sess *commands.Session
	nc   net.Conn // the socket (a *limitConn, for write deadlines) replies go to
	fd   int      // the socket's descriptor, for CLIENT LIST
	w    commands.Writer
	cmds [][][]byte
	out  outbox
	log  *slog.Logger
	env  *commands.Env
	// held: an event loop holds the batch's replies, to write them at
	// the end of its turn (loop.go); it runs batches with
	// sess.DeferWrites set.
	held bool
	// deferStart and deferN locate the replies of the Run whose file
	// write was deferred (settle).
	deferStart, deferN int
}

// Writing to a client. Replies are written by the client's own goroutine
// straight to the socket; pushes (client
// tracking invalidations, pub/sub messages) come from other clients'
// goroutines at any time. outbox keeps both in order on the socket: wmu is
// held for every write, and pushes wait in pending, a bounded queue, until
// the client's goroutine writes them after its replies or, when it is
// idle, a short-lived flusher goroutine does. Whoever queues a push only
// appends to pending, so it never waits for a slow client.
type outbox struct {
	wmu sync.Mutex // held while writing to the socket

	mu       sync.Mutex // guards the fields below
	pending  []byte
	busy     bool // the client's goroutine runs commands and writes pending after its replies
	flushing bool // a flusher goroutine is running
	closed   bool
}

// maxPendingPushes bounds the pushes queued for one client, as Redis's
// client-output-buffer-limit for pub/sub clients (32 MB): a client that
// falls that far behind is disconnected.
const maxPendingPushes = 32 << 20

// Push queues b for the client (commands.Pusher).
func (cl *client) Push(b []byte) {
	o := &cl.out
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	if len(o.pending)+len(b) > maxPendingPushes {
		o.closed = true
		o.pending = nil
		o.mu.Unlock()
		cl.log.Warn("closing client that reached its output buffer limit", "id", cl.sess.ID, "addr", cl.sess.Addr)
		cl.nc.Close()
		return
	}
	o.pending = append(o.pending, b...)
	start := !o.busy && !o.flushing
	if start {
		o.flushing = true
	}
	o.mu.Unlock()
	if start {
		go cl.flushPushes()
	}
}

// flushPushes writes the queued pushes of an idle client.
func (cl *client) flushPushes() {
	o := &cl.out
	for {
		o.wmu.Lock()
		o.mu.Lock()
		b := o.pending
		o.pending = nil
		if len(b) == 0 || o.busy || o.closed {
			o.pending = b // the client's goroutine writes them
			o.flushing = false
			o.mu.Unlock()
			o.wmu.Unlock()
			return
		}
		o.mu.Unlock()
		cl.write(b)
		o.wmu.Unlock()
	}
}

// takePending returns the queued pushes, setting busy; o.mu is not held.
func (o *outbox) takePending(busy bool) []byte {
	o.mu.Lock()
	b := o.pending
	o.pending = nil
	o.busy = busy
	o.mu.Unlock()
	return b
}

// writeReplies writes replies gathered so far in the middle of a pipeline
// (runBounded), in turn with pushes.
func (cl *client) writeReplies(b []byte) error {
	cl.out.wmu.Lock()
	defer cl.out.wmu.Unlock()
	n, err := cl.nc.Write(b)
	cl.env.NoteNetIO(0, int64(n))
	return err
}

// write sends b to the socket; wmu is held. An error closes the
// connection, which the connection's goroutine then notices.
func (cl *client) write(b []byte) {
	if len(b) == 0 {
		return
	}
	n, err := cl.nc.Write(b)
	cl.env.NoteNetIO(0, int64(n))
	if err != nil {
		cl.nc.Close()
	}
}

// New opens the store and prepares the listeners; Start begins serving.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	fsync, err := engine.ParseFsync(cfg.AppendFsync)
	if err != nil {
		return nil, err
	}
	store, err := engine.Open(engine.Config{
		Dir:                   cfg.Dir,
		AppendOnly:            cfg.AppendOnly,
		Fsync:                 fsync,
		Databases:             cfg.Databases,
		MaxNamespaces:         cfg.MaxNamespaces,
		Hz:                    cfg.Hz,
		AutoRewritePercentage: cfg.AutoAOFRewritePercentage,
		AutoRewriteMinSize:    cfg.AutoAOFRewriteMinSize,
		RefuseTruncated:       !cfg.AOFLoadTruncated,
		RepairDamaged:         cfg.AOFLoadDamaged == "truncate",
		Logger:                log,
		Memory:                memoryConfig(cfg), // host.go
	})
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		store:    store,
		clients:  map[int64]*client{},
		started:  time.Now(),
		shutdown: make(chan struct{}),

		stopSampler: make(chan struct{}),
		runID:       randomHex40(),
		replID:      randomHex40(),
	}
	s.lastSave.Store(s.started.Unix())
	s.env = &commands.Env{Store: store, Host: s, Table: commands.Default}
	s.env.PrepareStore()
	s.env.PrepareTracking()
	// A percentage of 0 disables automatic rewrites, which engine.Open
	// would read as "default".
	store.SetAutoRewrite(cfg.AutoAOFRewritePercentage, cfg.AutoAOFRewriteMinSize)
	return s, nil
}

// Store is the server's engine.
func (s *Server) Store() *engine.Store { return s.store }

// Env is the command environment, shared with the HTTP API.
func (s *Server) Env() *commands.Env { return s.env }

// Addrs are the addresses the RESP listeners are bound to.
func (s *Server) Addrs() []net.Addr { return s.addrs }

// Start binds every configured address and serves in the background.
func (s *Server) Start() error {
	if err := s.startLoops(); err != nil { // loop.go
		return err
	}
	if err := s.startTLS(); err != nil { // tls.go
		s.closeListeners()
		return err
	}
	if err := s.startHTTP(); err != nil {
		return err
	}
	binds := s.cfg.Bind
	if len(binds) == 0 {
		binds = []string{""} // every interface
	}
	for _, host := range binds {
		addr := net.JoinHostPort(host, strconv.Itoa(s.cfg.Port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listening on %s: %w", addr, err)
		}
		s.addrs = append(s.addrs, ln.Addr())
		s.serveRESP(ln, addr) // conn.go
		s.log.Info("listening", "addr", ln.Addr().String())
	}
	go s.sampleStats()
	return nil
}

// sampleStats feeds INFO's instantaneous_* fields every 100 ms, as Redis's
// serverCron does.
func (s *Server) sampleStats() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stopSampler:
			return
		case now := <-t.C:
			s.env.SampleStats(now)
		}
	}
}

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		ln.Close()
	}
}

// Shutdown stops accepting, lets commands in flight finish, closes the
// connections, then syncs and closes the store.
func (s *Server) Shutdown() error {
	var err error
	s.once.Do(func() {
		s.closing.Store(true)
		s.closeListeners()
		s.stopHTTP()
		close(s.stopSampler)
		s.env.ReleasePause() // commands held by CLIENT PAUSE finish
		s.env.StopScripts()  // a running script would hold the gate forever
		s.gate.Lock()        // waits for batches in flight
		s.serveWG.Wait()
		err = s.store.Close()
		s.gate.Unlock()
		s.stopLoops() // after the gate: a loop may wait on it
		close(s.shutdown)
		s.log.Info("durastore stopped")
	})
	return err
}

// Done is closed once the server has shut down.
func (s *Server) Done() <-chan struct{} { return s.shutdown }

// accept admits a new connection or refuses it (maxclients, protected
// mode, shutting down), closing it then. It runs in the accept loop.
func (s *Server) accept(lc *limitConn) bool {
	if s.closing.Load() {
		lc.orig.Close()
		return false
	}
	s.mu.Lock()
	n := len(s.clients)
	s.mu.Unlock()
	s.cfgMu.RLock()
	maxClients, requirePass := s.cfg.MaxClients, s.cfg.RequirePass
	s.cfgMu.RUnlock()
	if maxClients > 0 && n >= maxClients {
		s.rejectedConns.Add(1)
		go refuseConn(lc.orig, "-ERR max number of clients reached\r\n")
		return false
	}
	if s.refuseProtected(lc.orig) { // protected mode, tls.go
		return false
	}
	id := s.nextID.Add(1)
	cl := &client{
		sess: commands.NewSession(id, lc.RemoteAddr().String(), lc.LocalAddr().String()),
		nc:   lc,
		fd:   connFD(lc),
		log:  s.log,
		env:  s.env,
	}
	cl.w.RESP = 2
	s.env.SessionOpened(cl.sess, cl)
	cl.sess.Authed = requirePass == ""
	s.totalConns.Add(1)
	lc.client = cl // the request limits depend on AUTH
	s.mu.Lock()
	s.clients[id] = cl
	s.mu.Unlock()
	return true
}

// refuseConn writes a refusal to a connection that was not admitted and
// closes it, in its own goroutine so that the accept loop does not wait.
func refuseConn(nc net.Conn, reply string) {
	nc.SetDeadline(time.Now().Add(time.Second)) // read too: a TLS write needs a handshake first
	nc.Write([]byte(reply))
	nc.Close()
}

// closed forgets a connection whose goroutine has finished.
func (s *Server) closed(cl *client) {
	s.mu.Lock()
	delete(s.clients, cl.sess.ID)
	s.mu.Unlock()
	s.env.SessionClosed(cl.sess)
	cl.out.mu.Lock()
	cl.out.closed = true
	cl.out.pending = nil
	cl.out.mu.Unlock()
	s.env.SessionGone(cl.sess) // tracking and pub/sub
}

// runBatch runs cl.cmds, the whole commands of one read (size bytes of
// RESP), as one batch. It reports whether the connection stays open.
func (s *Server) runBatch(cl *client, size int) bool {
	defer clear(cl.cmds)
	s.gate.RLock()
	if s.closing.Load() {
		s.gate.RUnlock()
		return false
	}
	s.env.NoteNetIO(int64(size), 0)
	// Replies go straight to the socket through the outbox. Pushes queued
	// before these commands go first; those queued while they run (such
	// as the invalidations their own writes cause) go after their
	// replies, as in Redis.
	o := &cl.out
	if b := o.takePending(true); len(b) > 0 {
		o.wmu.Lock()
		cl.write(b)
		o.wmu.Unlock()
	}
	cl.w.B = cl.w.B[:0]
	cl.w.RESP = cl.sess.RESP
	if !s.runBounded(cl) { // env.Run with output limits, see limits.go
		o.takePending(false)
		s.gate.RUnlock()
		if cl.sess.Ticket.Deferred() {
			s.store.FlushPending() // before the ticket is used again
			cl.sess.Ticket.Reset()
		}
		return false
	}
	s.gate.RUnlock()
	if cl.sess.DeferWrites && !cl.sess.Closing {
		// The event loop writes it at the end of its turn, after the
		// file writes its commits deferred (loop.go).
		cl.held = true
		return true
	}
	if cl.sess.Ticket.Deferred() {
		s.store.FlushPending() // the records before the replies
		cl.settle()
	}
	o.wmu.Lock()
	if b := o.takePending(false); len(b) > 0 {
		cl.w.B = append(cl.w.B, b...)
	}
	cl.write(cl.w.B)
	o.wmu.Unlock()
	cl.resetReplies()
	return !cl.sess.Closing
}

// resetReplies empties the reply buffer, letting go of a large one.
func (cl *client) resetReplies() {
	cl.w.B = cl.w.B[:0]
	if cap(cl.w.B) > 64<<10 {
		cl.w.B = nil
	}
}

// ConnectedClients counts open connections.
func (s *Server) ConnectedClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// InfoSection returns the server-owned part of INFO.
func (s *Server) InfoSection(name string) (string, bool) {
	return "", false
}
