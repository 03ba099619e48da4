// Package server is durastore's network side: the RESP listener on redcon,
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

	"github.com/tidwall/redcon"

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
	store *engine.Store
	env   *commands.Env

	listeners []*redcon.Server
	addrs     []net.Addr

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
	once     sync.Once
	serveWG  sync.WaitGroup
}

// client is one connection.
type client struct {
	sess *commands.Session
	conn redcon.Conn
	fd   int // the socket's descriptor, for CLIENT LIST
	w    commands.Writer
	cmds [][][]byte
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
		Logger:                log,
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
		runID:    randomHex40(),
		replID:   randomHex40(),
	}
	s.lastSave.Store(s.started.Unix())
	s.env = &commands.Env{Store: store, Host: s, Table: commands.Default}
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
		rs := redcon.NewServerNetwork("tcp", addr, s.handle, s.accept, s.closed)
		if s.cfg.Timeout > 0 {
			rs.SetIdleClose(time.Duration(s.cfg.Timeout) * time.Second)
		}
		rs.AcceptError = func(err error) { s.log.Warn("accept failed", "err", err) }
		s.listeners = append(s.listeners, rs)
		s.addrs = append(s.addrs, ln.Addr())
		s.serveWG.Add(1)
		go func() {
			defer s.serveWG.Done()
			if err := rs.Serve(ln); err != nil && !s.closing.Load() {
				s.log.Error("listener stopped", "addr", addr, "err", err)
			}
		}()
		s.log.Info("listening", "addr", ln.Addr().String())
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, rs := range s.listeners {
		rs.Close()
	}
}

// Shutdown stops accepting, lets commands in flight finish, closes the
// connections, then syncs and closes the store.
func (s *Server) Shutdown() error {
	var err error
	s.once.Do(func() {
		s.closing.Store(true)
		s.closeListeners()
		s.gate.Lock() // waits for batches in flight
		s.serveWG.Wait()
		err = s.store.Close()
		s.gate.Unlock()
		close(s.shutdown)
		s.log.Info("durastore stopped")
	})
	return err
}

// Done is closed once the server has shut down.
func (s *Server) Done() <-chan struct{} { return s.shutdown }

func (s *Server) accept(conn redcon.Conn) bool {
	if s.closing.Load() {
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
		nc := conn.(interface{ NetConn() net.Conn }).NetConn()
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write([]byte("-ERR max number of clients reached\r\n"))
		return false
	}
	id := s.nextID.Add(1)
	laddr := ""
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		laddr = nc.NetConn().LocalAddr().String()
	}
	cl := &client{sess: commands.NewSession(id, conn.RemoteAddr(), laddr), conn: conn, fd: connFD(conn)}
	cl.w.RESP = 2
	cl.sess.Authed = requirePass == ""
	s.totalConns.Add(1)
	conn.SetContext(cl)
	s.mu.Lock()
	s.clients[id] = cl
	s.mu.Unlock()
	return true
}

func (s *Server) closed(conn redcon.Conn, err error) {
	cl, ok := conn.Context().(*client)
	if !ok {
		return
	}
	s.mu.Lock()
	delete(s.clients, cl.sess.ID)
	s.mu.Unlock()
}

// handle receives the first command of what redcon read from a client and
// takes the rest of that read too, so the whole pipeline runs as one batch.
func (s *Server) handle(conn redcon.Conn, cmd redcon.Command) {
	cl, ok := conn.Context().(*client)
	if !ok {
		conn.Close()
		return
	}
	cl.cmds = append(cl.cmds[:0], cmd.Args)
	for _, c := range conn.ReadPipeline() {
		cl.cmds = append(cl.cmds, c.Args)
	}
	s.gate.RLock()
	if s.closing.Load() {
		s.gate.RUnlock()
		conn.Close()
		return
	}
	cl.w.B = cl.w.B[:0]
	cl.w.RESP = cl.sess.RESP
	s.env.Run(cl.sess, &cl.w, cl.cmds)
	s.gate.RUnlock()
	conn.WriteRaw(cl.w.B)
	if cap(cl.w.B) > 64<<10 {
		cl.w.B = nil
	}
	clear(cl.cmds)
	if cl.sess.Closing {
		conn.Close()
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
