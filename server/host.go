package server

// The server's side of commands.Host: what INFO, HELLO, AUTH, CLIENT,
// CONFIG, LASTSAVE and SHUTDOWN ask of the server.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"durastore/commands"
	"durastore/engine"
)

var _ commands.Host = (*Server)(nil)

// randomHex40 returns 40 random hex characters, like Redis's run_id.
func randomHex40() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// connFD returns the descriptor of a connection's socket, -1 if unknown.
func connFD(nc net.Conn) int {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	raw.Control(func(d uintptr) { fd = int(d) })
	return fd
}

// ServerInfo describes the server for INFO and HELLO.
func (s *Server) ServerInfo() commands.ServerInfo {
	exe, _ := os.Executable()
	s.cfgMu.RLock()
	port, file := s.cfg.Port, s.cfg.ConfigFile
	s.cfgMu.RUnlock()
	if len(s.addrs) > 0 {
		if ta, ok := s.addrs[0].(*net.TCPAddr); ok {
			port = ta.Port
		}
	}
	return commands.ServerInfo{
		Version:             Version,
		RedisVersion:        RedisVersion,
		RunID:               s.runID,
		ReplID:              s.replID,
		Port:                port,
		Executable:          exe,
		ConfigFile:          file,
		Started:             s.started,
		LastSave:            time.Unix(s.lastSave.Load(), 0),
		TotalConnections:    s.totalConns.Load(),
		RejectedConnections: s.rejectedConns.Load(),
	}
}

// RequirePass is the configured password.
func (s *Server) RequirePass() string {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	return s.cfg.RequirePass
}

// Clients lists the open connections by ID.
func (s *Server) Clients() []commands.ClientInfo {
	s.mu.Lock()
	out := make([]commands.ClientInfo, 0, len(s.clients))
	for _, cl := range s.clients {
		out = append(out, commands.ClientInfo{Session: cl.sess, FD: cl.fd})
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Session.ID < out[j].Session.ID })
	return out
}

// KillClient closes another client's connection. The client leaves the
// list at once, as in Redis; its goroutine notices the closed socket and
// finishes.
func (s *Server) KillClient(id int64) bool {
	s.mu.Lock()
	cl, ok := s.clients[id]
	if ok {
		delete(s.clients, id)
	}
	s.mu.Unlock()
	if !ok {
		return false
	}
	cl.nc.Close()
	return true
}

// ConfigGet implements CONFIG GET's matching.
func (s *Server) ConfigGet(pattern string) [][2]string {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	return s.cfg.Match(pattern)
}

// ConfigValue returns one parameter's value.
func (s *Server) ConfigValue(name string) string {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	v, _ := s.cfg.Get(name)
	return v
}

// ConfigSet implements CONFIG SET and applies what changed at once: the
// engine's fsync policy, hz and automatic rewrite thresholds, and the log
// level, and the idle timeout to connections waiting for a request;
// maxclients, requirepass, the idle timeout and the request limits are
// read where they are used (connections read the timeout and the limits
// before every read).
func (s *Server) ConfigSet(pairs [][2]string) error {
	s.cfgMu.Lock()
	before := s.cfg
	err := s.cfg.SetRuntime(pairs)
	after := s.cfg
	if after.Timeout != before.Timeout {
		// Connections set the timeout as their read deadline before
		// every read (under cfgMu, so none keeps the old one); those
		// waiting in one now get the new one.
		var dl time.Time
		if after.Timeout > 0 {
			dl = time.Now().Add(time.Duration(after.Timeout) * time.Second)
		}
		s.mu.Lock()
		for _, cl := range s.clients {
			cl.nc.SetReadDeadline(dl)
		}
		s.mu.Unlock()
	}
	s.cfgMu.Unlock()
	if err != nil {
		return err
	}
	if after.AppendFsync != before.AppendFsync {
		if f, err := engine.ParseFsync(after.AppendFsync); err == nil {
			if err := s.store.SetFsync(f); err != nil {
				return fmt.Errorf("ERR CONFIG SET failed (possibly related to argument 'appendfsync') - %v", err)
			}
		}
	}
	if after.Hz != before.Hz {
		s.store.SetHz(after.Hz)
	}
	if after.AutoAOFRewritePercentage != before.AutoAOFRewritePercentage ||
		after.AutoAOFRewriteMinSize != before.AutoAOFRewriteMinSize {
		s.store.SetAutoRewrite(after.AutoAOFRewritePercentage, after.AutoAOFRewriteMinSize)
	}
	if mc := memoryConfig(after); mc != memoryConfig(before) {
		s.store.SetMemoryConfig(mc)
	}
	if after.LogLevel != before.LogLevel && s.logLevel != nil {
		s.logLevel.Set(SlogLevel(after.LogLevel))
	}
	return nil
}

// memoryConfig is the engine's memory management from the configuration:
// maxmemory and its policy, and the Go runtime's memory limit set from it.
func memoryConfig(cfg Config) engine.MemoryConfig {
	pol, _ := engine.ParsePolicy(cfg.MaxMemoryPolicy) // validated by the config table
	return engine.MemoryConfig{
		MaxMemory:     cfg.MaxMemory,
		Policy:        pol,
		Samples:       cfg.MaxMemorySamples,
		LFULogFactor:  cfg.LFULogFactor,
		LFUDecayTime:  cfg.LFUDecayTime,
		Tenacity:      cfg.MaxMemoryTenacity,
		GoMemoryLimit: true,
	}
}

// SetLogLevel gives the server the level of its logger, which CONFIG SET
// loglevel then changes.
func (s *Server) SetLogLevel(v *slog.LevelVar) { s.logLevel = v }

// SlogLevel maps a Redis loglevel to a slog level.
func SlogLevel(name string) slog.Level {
	switch strings.ToLower(name) {
	case "debug":
		return slog.LevelDebug
	case "verbose":
		return slog.LevelDebug + 2
	case "warning":
		return slog.LevelWarn
	case "nothing":
		return slog.LevelError + 100
	}
	return slog.LevelInfo // notice
}

// ConfigRewrite implements CONFIG REWRITE.
func (s *Server) ConfigRewrite() error {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	return s.cfg.Rewrite()
}

// ResetStats zeroes the server's counters (CONFIG RESETSTAT; the
// command counters are the environment's).
func (s *Server) ResetStats() {
	s.totalConns.Store(0)
	s.rejectedConns.Store(0)
}

// Saved records a completed save for LASTSAVE.
func (s *Server) Saved(t time.Time) { s.lastSave.Store(t.Unix()) }

// RequestShutdown (SHUTDOWN) stops the server once the running batch, which
// holds the gate Shutdown waits for, is done; Done is closed then.
func (s *Server) RequestShutdown() { go s.Shutdown() }
