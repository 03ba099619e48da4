package server

// Serving RESP: an accept loop per listener (plain and TLS). Plain TCP
// connections go to the event loops (loop.go); TLS connections, and every
// connection when the loops are off (DURASTORE_NETLOOP=off, or not Linux),
// get a goroutine each (serveConn).
//
// Either way the connection reads into a reused read buffer and runs the
// bytes through reqScanner (limits.go), which enforces Redis's request
// limits and emits canonical RESP into a scratch buffer. Whatever is whole
// after one read runs as one batch: its canonical bytes are copied into one
// exactly sized []byte, and the arguments of all its commands are cut out
// of that copy into one [][]byte backing array, so a batch costs two
// allocations whatever the number of its commands. The arguments stay
// valid after the batch (MULTI queues, the slowlog, scripts and CLIENT
// SETNAME may keep them): only the read buffer and the scratch buffer are
// reused, never a batch's bytes.
//
// Replies are written by whoever runs the batch through the client's outbox
// (server.go), with runBounded (limits.go) bounding what a pipeline's
// replies hold.

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

const (
	// A connection's read buffer starts at minReadBuf and doubles, up to
	// maxReadBuf, whenever a read fills it: an idle client costs little, a
	// pipelining or bulk-loading one reads much at a time.
	minReadBuf = 4 << 10
	maxReadBuf = 64 << 10
	// bigBatch: a batch at least this large that fills at least half of
	// the scratch buffer takes the scratch buffer over instead of being
	// copied, so a large request costs its size once, not twice.
	bigBatch = 64 << 10
	// maxIdleScratch is the largest scratch buffer kept between batches.
	maxIdleScratch = 64 << 10
)

// respListener is one RESP listener and the connections it accepted,
// which it closes when it stops.
type respListener struct {
	ln   net.Listener
	addr string

	mu    sync.Mutex
	conns map[*limitConn]struct{} // nil once the listener has stopped
}

// serveRESP serves RESP on ln in the background.
func (s *Server) serveRESP(ln net.Listener, addr string) {
	rl := &respListener{ln: ln, addr: addr, conns: map[*limitConn]struct{}{}}
	s.listeners = append(s.listeners, ln)
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		s.acceptLoop(rl)
	}()
}

// acceptLoop accepts connections until the listener is closed, then closes
// the connections it accepted.
func (s *Server) acceptLoop(rl *respListener) {
	defer func() {
		rl.ln.Close()
		rl.mu.Lock()
		for lc := range rl.conns {
			lc.Conn.Close()
		}
		rl.conns = nil
		rl.mu.Unlock()
	}()
	var delay time.Duration
	for {
		nc, err := rl.ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept failed", "err", err)
			// Back off as net/http does, so that running out of file
			// descriptors does not spin.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		lc := &limitConn{Conn: nc, orig: nc, srv: s, rl: rl}
		rc := s.loopConn(lc) // a loop's connection on a duplicate descriptor (loop.go), or nil
		if !s.accept(lc) {
			if rc != nil {
				rc.release()
			}
			continue
		}
		rl.mu.Lock()
		rl.conns[lc] = struct{}{}
		rl.mu.Unlock()
		if rc != nil {
			nc.Close()
			rc.lp.add(lc)
		} else {
			go s.serveConn(lc)
		}
	}
}

// serveConn runs one connection on a goroutine of its own until it
// closes.
func (s *Server) serveConn(lc *limitConn) {
	cl := lc.client
	for {
		cmds, size, err := lc.readBatch(cl.cmds[:0])
		cl.cmds = cmds
		if len(cmds) > 0 && !s.runBatch(cl, size) {
			break
		}
		if cap(cl.cmds) > 4096 {
			cl.cmds = nil // after a very long pipeline
		}
		if err != nil {
			if lc.fail != nil {
				lc.refuse()
			}
			break
		}
	}
	lc.Conn.Close()
	s.forget(lc)
}

// forget drops a closed connection from its listener and the server.
func (s *Server) forget(lc *limitConn) {
	rl := lc.rl
	rl.mu.Lock()
	delete(rl.conns, lc)
	rl.mu.Unlock()
	s.closed(lc.client)
}

// limitConn is a client's socket (a *tls.Conn on a TLS listener) with the
// state of reading it: the request scanner and its buffers. Writes go
// through it too, for their deadlines.
type limitConn struct {
	net.Conn
	// orig is the accepted connection: Conn itself, or the net.Conn a
	// loop's connection was duplicated from, which refusals at accept
	// time use.
	orig net.Conn
	srv  *Server
	rl   *respListener
	// client is set by accept once the connection is admitted.
	client *client

	sc      reqScanner
	rbuf    []byte // the read buffer, reused
	scratch []byte // scanned bytes not yet cut into a batch: the start of an incomplete command
	fail    *reqError

	readDeadline  bool // a read deadline is set (only the connection's goroutine reads)
	writeDeadline bool // a write deadline is set (guarded by the outbox's wmu)
}

// readBatch reads until at least one command is whole, then appends the
// whole commands of that read to cmds and returns them with their size in
// canonical RESP. An error comes with the commands before it, which still
// run; a refused request gives errLimitClosed, with c.fail set.
func (c *limitConn) readBatch(cmds [][][]byte) ([][][]byte, int, error) {
	for {
		cmds, b, err := c.fill(cmds)
		if b > 0 || err != nil {
			return cmds, b, err
		}
	}
}

// fill reads once and appends the commands that read completed to cmds,
// returning them with their size in canonical RESP (0 when none is whole
// yet), as readBatch.
func (c *limitConn) fill(cmds [][][]byte) ([][][]byte, int, error) {
	if len(c.rbuf) == 0 {
		c.rbuf = make([]byte, minReadBuf)
	}
	lim := c.prepareRead()
	n, err := c.Conn.Read(c.rbuf)
	if n > 0 {
		c.scratch = c.growScratch(n)
		c.scratch, c.fail = c.sc.feed(c.rbuf[:n], c.scratch, lim)
		if n == len(c.rbuf) && n < maxReadBuf {
			c.rbuf = make([]byte, 2*n)
		}
		b := c.sc.boundary
		if c.fail != nil {
			// The whole commands before the violation still run;
			// the incomplete one is dropped.
			c.scratch = c.scratch[:b]
			err = errLimitClosed
		}
		if b > 0 {
			cmds = c.cut(b, cmds)
			return cmds, b, err
		}
	}
	return cmds, 0, err
}

// growScratch makes room in the scratch buffer for the canonical form of n
// more bytes (at most n, unless they hold inline commands, for which
// append's growth is left to do). It grows by doubling, so that a large
// request is copied a few times rather than once per 25% of growth as
// append would; while a payload arrives, to no more than what the command
// still announces plus a few reads' worth, so that the buffer ends about
// the size of the request. Either way it grows to at most three times the
// bytes already held: an announced length alone allocates nothing.
func (c *limitConn) growScratch(n int) []byte {
	b := c.scratch
	need := len(b) + n
	if need <= cap(b) {
		return b
	}
	size := max(need, 2*cap(b), 4096)
	if c.sc.state == rsBulk {
		if want := len(b) + int(c.sc.bulk) + 2 + 4*maxReadBuf; want >= need && want <= size+size/2 {
			size = want
		}
	}
	nb := make([]byte, len(b), size)
	copy(nb, b)
	return nb
}

// cut takes the first b scanned bytes, which hold whole commands only, as
// a batch: it appends their commands to cmds.
func (c *limitConn) cut(b int, cmds [][][]byte) [][][]byte {
	ncmds, nargs := c.sc.doneCmds, c.sc.doneArgs
	c.sc.doneCmds, c.sc.doneArgs = 0, 0
	var batch []byte
	if tail := c.scratch[b:]; b >= bigBatch && 2*b >= cap(c.scratch) {
		batch = c.scratch[:b:b]
		c.scratch = nil
		if len(tail) > 0 {
			c.scratch = append(make([]byte, 0, max(2*len(tail), 4096)), tail...)
		}
	} else {
		batch = make([]byte, b)
		copy(batch, c.scratch)
		c.scratch = c.scratch[:copy(c.scratch, tail)]
		if len(c.scratch) == 0 && cap(c.scratch) > maxIdleScratch {
			c.scratch = nil
		}
	}
	if ncmds == 0 {
		return cmds
	}
	// The bytes are canonical: "*<n>\r\n" then n times "$<len>\r\n<data>\r\n".
	args := make([][]byte, nargs)
	p, a := 0, 0
	for range ncmds {
		var n int
		n, p = canonicalInt(batch, p+1)
		start := a
		for range n {
			var l int
			l, p = canonicalInt(batch, p+1)
			args[a] = batch[p : p+l : p+l]
			a++
			p += l + 2
		}
		cmds = append(cmds, args[start:a:a])
	}
	return cmds
}

// canonicalInt reads the digits at b[i:] up to "\r\n" and returns their
// value and the index after the "\r\n".
func canonicalInt(b []byte, i int) (int, int) {
	n := 0
	for ; b[i] != '\r'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	return n, i + 2
}

// prepareRead sets the idle timeout in force now as the read deadline and
// returns the request limits in force (CONFIG SET may change both; it sets
// the deadline of connections waiting in a read itself, under cfgMu).
func (c *limitConn) prepareRead() reqLimits {
	s := c.srv
	s.cfgMu.RLock()
	lim := reqLimits{
		maxBulk:  s.cfg.ProtoMaxBulkLen,
		maxQuery: s.cfg.ClientQueryBufferLimit,
		authed:   s.cfg.RequirePass == "",
	}
	if timeout := s.cfg.Timeout; timeout > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(time.Duration(timeout) * time.Second))
		c.readDeadline = true
	} else if c.readDeadline {
		c.Conn.SetReadDeadline(time.Time{})
		c.readDeadline = false
	}
	s.cfgMu.RUnlock()
	if !lim.authed && c.client != nil && c.client.sess.Authed {
		lim.authed = true
	}
	return lim
}

// refuse sends the violation's reply, if any, and logs it.
func (c *limitConn) refuse() {
	f := c.fail
	addr := c.Conn.RemoteAddr().String()
	if f.reply == "" {
		c.srv.log.Warn("closing client that reached max query buffer length", "addr", addr)
		return
	}
	// The deadline first: it also ends a push being written meanwhile.
	c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	if cl := c.client; cl != nil {
		cl.out.mu.Lock()
		cl.out.closed = true // no more pushes
		cl.out.pending = nil
		cl.out.mu.Unlock()
		cl.out.wmu.Lock()
		defer cl.out.wmu.Unlock()
	}
	c.Conn.Write([]byte(f.reply))
	c.srv.log.Debug("protocol error from client", "addr", addr, "err", f.reason)
}

// Write gives each write the idle timeout as a deadline, so a client that
// never reads its replies is dropped like an idle one.
func (c *limitConn) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	s := c.srv
	s.cfgMu.RLock()
	timeout := s.cfg.Timeout
	s.cfgMu.RUnlock()
	if timeout <= 0 {
		if c.writeDeadline {
			c.Conn.SetWriteDeadline(time.Time{})
			c.writeDeadline = false
		}
		return c.Conn.Write(b)
	}
	// The deadline is renewed for every 64 KB, so a slow client that
	// keeps reading is not cut off in the middle of a large reply: as in
	// Redis, only a client that takes nothing for `timeout` is idle.
	c.writeDeadline = true
	total := 0
	for len(b) > 0 {
		k := min(len(b), 64<<10)
		c.Conn.SetWriteDeadline(time.Now().Add(time.Duration(timeout) * time.Second))
		n, err := c.Conn.Write(b[:k])
		total += n
		if err != nil {
			return total, err
		}
		b = b[k:]
	}
	return total, nil
}

// SyscallConn exposes the socket's descriptor (for CLIENT LIST's fd).
func (c *limitConn) SyscallConn() (syscall.RawConn, error) {
	nc := c.Conn
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if sc, ok := nc.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("not a socket")
}
