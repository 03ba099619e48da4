//go:build linux

package server

// The event loops: plain TCP connections are served by a few goroutines,
// one per loop, each waiting on its own epoll set, as Redis's event loop
// does, instead of by a goroutine per connection parked in Go's network
// poller. At one request per read (redis-benchmark -P 1) the per-request
// cost of the goroutine model is a read that finds nothing, a park, a
// wake-up through the scheduler and, on a box where the clients share the
// cores, a scheduling delay; a loop reads only what epoll reports ready
// and answers at once.
//
// A loop runs a batch inline only when nothing in it can wait
// (commands.Env.MayWait: no CLIENT PAUSE, no script running, only plain
// reads, writes and fast commands) and no push is being written to the
// client. Otherwise, and when a reply does not fit in the socket's buffer,
// the loop hands itself over: it takes the connection out of its epoll
// set, starts a new goroutine that goes on running the loop, and finishes
// the batch as that connection's own goroutine, free to wait; when the
// batch is done the connection goes back into the epoll set and the
// goroutine ends. So a slow or paused client never holds up the others.
//
// A connection's descriptor is closed only by whoever serves it: the loop,
// or the goroutine it was handed to. Others (CLIENT KILL, the idle
// timeout, shutdown) only shut the socket down, which the server then sees
// as the end of the stream.

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// errWouldBlock is a rawConn read that found nothing to read.
var errWouldBlock = errors.New("would block")

// rawConn is an accepted TCP socket served by a loop: a non-blocking
// descriptor out of Go's network poller. It is a net.Conn, so that the
// rest of the server treats it as any other connection.
type rawConn struct {
	fd           int
	laddr, raddr net.Addr
	lp           *netLoop
	lc           *limitConn

	// mu is held shared around every system call on fd and exclusively to
	// close it, so a write from another goroutine never reaches a
	// descriptor number already reused.
	mu       sync.RWMutex
	released bool

	// inLoop is set while the loop goroutine runs a batch of this
	// connection: a write that would block hands the loop over first.
	inLoop atomic.Bool
	// detached: the connection is out of the loop's epoll set, served by
	// a goroutine of its own (guarded by lp.mu).
	detached bool

	readDeadline  atomic.Int64 // Unix nanoseconds, 0 for none: the loop's idle check
	writeDeadline atomic.Int64
}

func (c *rawConn) Read(b []byte) (int, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.released {
		return 0, net.ErrClosed
	}
	for {
		n, err := unix.Read(c.fd, b)
		switch {
		case n > 0:
			return n, nil
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, errWouldBlock
		case err == nil:
			return 0, io.EOF
		}
		return 0, err
	}
}

// Write writes all of b. When the socket's buffer is full it waits for
// room, through Go's poller, up to the write deadline; on the loop's
// goroutine it hands the loop over before waiting.
func (c *rawConn) Write(b []byte) (int, error) {
	n, err := c.tryWrite(b)
	if err != errWouldBlock {
		return n, err
	}
	if c.inLoop.Load() {
		c.lp.handoff(c)
	}
	m, err := c.writeSlow(b[n:])
	return n + m, err
}

// tryWrite writes what of b fits in the socket's buffer now; the rest is
// errWouldBlock.
func (c *rawConn) tryWrite(b []byte) (int, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.released {
		return 0, net.ErrClosed
	}
	total := 0
	for len(b) > 0 {
		n, err := unix.Write(c.fd, b)
		if n > 0 {
			total += n
			b = b[n:]
			continue
		}
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return total, errWouldBlock
		case nil:
			err = io.ErrShortWrite
		}
		return total, err
	}
	return total, nil
}

// writeSlow writes b through a duplicate of the descriptor registered with
// Go's poller, which waits for room without holding a thread, up to the
// write deadline.
func (c *rawConn) writeSlow(b []byte) (int, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.released {
		return 0, net.ErrClosed
	}
	d, err := unix.FcntlInt(uintptr(c.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	f := os.NewFile(uintptr(d), "")
	defer f.Close()
	if dl := c.writeDeadline.Load(); dl != 0 {
		f.SetWriteDeadline(time.Unix(0, dl))
	}
	return f.Write(b)
}

// Close shuts the socket down; whoever serves the connection sees the end
// of the stream and releases the descriptor.
func (c *rawConn) Close() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.released {
		unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
	return nil
}

// release closes the descriptor, once.
func (c *rawConn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.released {
		c.released = true
		unix.Close(c.fd)
	}
}

func (c *rawConn) LocalAddr() net.Addr  { return c.laddr }
func (c *rawConn) RemoteAddr() net.Addr { return c.raddr }

func (c *rawConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *rawConn) SetReadDeadline(t time.Time) error {
	c.readDeadline.Store(unixNanoOrZero(t))
	return nil
}

func (c *rawConn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.Store(unixNanoOrZero(t))
	return nil
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// SyscallConn gives the descriptor, for CLIENT LIST.
func (c *rawConn) SyscallConn() (syscall.RawConn, error) { return rawFD(c.fd), nil }

// rawFD is a descriptor as a syscall.RawConn, for Control only.
type rawFD int

func (fd rawFD) Control(f func(uintptr)) error  { f(uintptr(fd)); return nil }
func (fd rawFD) Read(func(uintptr) bool) error  { return errors.ErrUnsupported }
func (fd rawFD) Write(func(uintptr) bool) error { return errors.ErrUnsupported }

// netLoop is one event loop: an epoll set and the connections in it.
type netLoop struct {
	s      *Server
	epfd   int
	wakefd int // an eventfd that stop makes readable
	events []unix.EpollEvent
	// held lists the clients whose replies wait for the end of the turn
	// (flushHeld).
	held []*limitConn
	// epf is the epoll set registered with Go's poller; ctl is its
	// syscall.RawConn, through which the loop waits.
	epf *os.File
	ctl syscall.RawConn

	mu      sync.Mutex
	conns   map[int]*limitConn // by descriptor: every connection the loop owns
	stopped bool
	done    chan struct{} // closed once the loop has stopped
}

// loopsEnabled: DURASTORE_NETLOOP=off serves every connection with a
// goroutine of its own instead, for comparison.
func loopsEnabled() bool { return os.Getenv("DURASTORE_NETLOOP") != "off" }

// startLoops starts io-threads loops (1 by default: as Redis, one loop
// serves every client; background work, the HTTP API and TLS clients run
// on the other processors).
func (s *Server) startLoops() error {
	if !loopsEnabled() {
		return nil
	}
	for range s.cfg.IOThreads {
		lp, err := newLoop(s)
		if err != nil {
			s.stopLoops()
			return err
		}
		s.loops = append(s.loops, lp)
		go lp.run()
	}
	s.loopsDone = make(chan struct{})
	go s.closeIdleLoopConns(s.loopsDone)
	return nil
}

// closeIdleLoopConns applies the idle timeout to the loops' connections
// once a second, as Redis's clientsCron does.
func (s *Server) closeIdleLoopConns(done chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			for _, lp := range s.loops {
				lp.closeIdle(now)
			}
		}
	}
}

func newLoop(s *Server) (*netLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, err
	}
	unix.SetNonblock(epfd, true) // so that os.NewFile gives it to the poller
	epf := os.NewFile(uintptr(epfd), "epoll")
	ctl, err := epf.SyscallConn()
	if err != nil {
		epf.Close()
		unix.Close(wakefd)
		return nil, err
	}
	return &netLoop{
		s: s, epfd: epfd, wakefd: wakefd, epf: epf, ctl: ctl,
		events: make([]unix.EpollEvent, 256),
		conns:  map[int]*limitConn{},
		done:   make(chan struct{}),
	}, nil
}

// stopLoops stops the loops and waits for them; they close the
// connections still in them.
func (s *Server) stopLoops() {
	for _, lp := range s.loops {
		lp.mu.Lock()
		if !lp.stopped {
			one := [8]byte{1}
			unix.Write(lp.wakefd, one[:])
		}
		lp.mu.Unlock()
	}
	for _, lp := range s.loops {
		<-lp.done
	}
	if s.loopsDone != nil {
		close(s.loopsDone)
	}
}

// loopConn gives an accepted TCP connection to a loop, round robin: it
// duplicates the descriptor out of Go's poller into a rawConn, which
// becomes lc.Conn. The caller closes the original once the connection is
// admitted, and adds it to the loop. It returns nil (and changes nothing)
// when there are no loops or the connection is not plain TCP.
func (s *Server) loopConn(lc *limitConn) *rawConn {
	if len(s.loops) == 0 {
		return nil
	}
	tc, ok := lc.Conn.(*net.TCPConn)
	if !ok {
		return nil
	}
	sc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	fd := -1
	sc.Control(func(d uintptr) {
		fd, err = unix.FcntlInt(d, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err != nil || fd < 0 {
		return nil
	}
	lp := s.loops[int(s.nextLoop.Add(1))%len(s.loops)]
	rc := &rawConn{fd: fd, laddr: tc.LocalAddr(), raddr: tc.RemoteAddr(), lp: lp, lc: lc}
	lc.Conn = rc
	return rc
}

// add puts an admitted connection into the loop's epoll set.
func (lp *netLoop) add(lc *limitConn) {
	rc := lc.Conn.(*rawConn)
	lc.prepareRead() // the idle timeout runs from now
	lp.mu.Lock()
	err := net.ErrClosed
	if !lp.stopped {
		lp.conns[rc.fd] = lc
		if err = lp.watch(rc); err != nil {
			delete(lp.conns, rc.fd)
		}
	}
	lp.mu.Unlock()
	if err != nil {
		rc.release()
		lp.s.forget(lc)
	}
}

// run is the loop: wait for ready connections, serve each. It returns
// when the loop stops or when it has been handed to another goroutine.
//
// The epoll set itself waits in Go's network poller (poll): a loop with
// nothing to do parks like any goroutine instead of holding a thread in
// epoll_wait, which would make the runtime hand its processor to another
// thread and back on every wait.
func (lp *netLoop) run() {
	for {
		n, err := lp.poll()
		if err != nil {
			lp.s.log.Error("event loop failed", "err", err)
			lp.stop()
			return
		}
		for i := 0; i < n; i++ {
			fd := int(lp.events[i].Fd)
			if fd == lp.wakefd {
				lp.flushHeld()
				lp.stop()
				return
			}
			lp.mu.Lock()
			lc := lp.conns[fd]
			lp.mu.Unlock()
			if lc != nil && !lp.serve(lc) {
				return
			}
		}
		lp.flushHeld()
	}
}

// flushHeld ends a turn: the file writes the turn's commits deferred, in
// one write per namespace, then the replies held for them go out. So a
// reply is sent only once what it acknowledges is in the file, as with a
// write per commit, for one write per turn; Redis writes its append-only
// buffer once per event-loop turn, before its replies, likewise.
func (lp *netLoop) flushHeld() {
	if len(lp.held) == 0 {
		return
	}
	// Where the write failed, the changes were undone and settle turns
	// their replies into the error. A turn that deferred nothing has
	// nothing to write: earlier turns flushed theirs, and other writers
	// write their own.
	for _, lc := range lp.held {
		if lc.client.sess.Ticket.Deferred() {
			lp.s.store.FlushPending()
			break
		}
	}
	held := lp.held
	lp.held = lp.held[:0]
	for _, lc := range held {
		lc.client.settle()
		lp.writeHeld(lc)
	}
	clear(held)
}

// writeHeld writes a client's held replies, and the pushes queued behind
// them. What does not fit in the socket's buffer is written by a goroutine
// of its own, the connection out of the epoll set meanwhile.
func (lp *netLoop) writeHeld(lc *limitConn) {
	cl := lc.client
	rc := lc.Conn.(*rawConn)
	o := &cl.out
	cl.held = false
	o.wmu.Lock()
	if b := o.takePending(false); len(b) > 0 {
		cl.w.B = append(cl.w.B, b...)
	}
	n, err := rc.tryWrite(cl.w.B)
	lp.s.env.NoteNetIO(0, int64(n))
	switch err {
	case nil:
	case errWouldBlock:
		rest := append([]byte(nil), cl.w.B[n:]...)
		lp.detach(rc)
		go func() {
			cl.write(rest) // closes the connection on failure
			o.wmu.Unlock()
			lp.attach(lc)
		}()
		cl.resetReplies()
		return
	default:
		rc.Close() // the loop sees the end of the stream and drops it
	}
	o.wmu.Unlock()
	cl.resetReplies()
}

// poll waits until connections are ready and fills lp.events with them.
func (lp *netLoop) poll() (int, error) {
	n, err := 0, error(nil)
	werr := lp.ctl.Read(func(uintptr) bool {
		n, err = unix.EpollWait(lp.epfd, lp.events, 0)
		return n != 0 || err != nil && err != unix.EINTR
	})
	if err == nil {
		err = werr
	}
	return n, err
}

// serve reads what a ready connection sent and runs the whole commands in
// it. It reports whether the calling goroutine still runs the loop.
func (lp *netLoop) serve(lc *limitConn) bool {
	rc := lc.Conn.(*rawConn)
	cl := lc.client
	cmds, size, err := lc.fill(cl.cmds[:0])
	cl.cmds = cmds
	open := true
	if len(cmds) > 0 {
		if lp.s.env.MayWait(cmds) || !cl.out.claim() {
			lp.handoff(rc)
		} else {
			rc.inLoop.Store(true)
			cl.sess.DeferWrites = true // replies held for the end of the turn (runBatch)
		}
		open = lp.s.runBatch(cl, size)
		rc.inLoop.Store(false)
		cl.sess.DeferWrites = false
		if cl.held {
			lp.held = append(lp.held, lc)
		}
		if cap(cl.cmds) > 4096 {
			cl.cmds = nil // after a very long pipeline
		}
	}
	if err == errWouldBlock {
		err = nil
	}
	if cl.held && err != nil {
		lp.flushHeld() // its replies before it goes
	}
	detached := rc.detached
	switch {
	case err != nil || !open:
		if lc.fail != nil {
			if !detached {
				lp.handoff(rc) // the refusal is written with a deadline
			}
			lc.refuse()
		}
		lp.drop(lc)
	case detached:
		lp.attach(lc)
	}
	return !detached && !rc.detached
}

// claim prepares a batch run on the loop: it marks the client busy, so
// that pushes wait for its replies, unless a goroutine is writing pushes
// to it now, in which case the batch must be free to wait for it.
func (o *outbox) claim() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.flushing {
		return false
	}
	o.busy = true
	return true
}

// handoff is called on the loop's goroutine while it serves rc: rc leaves
// the epoll set, a new goroutine takes the loop over, and the caller goes
// on as rc's own goroutine.
//
// The turn's held replies are written first: the new goroutine starts a
// turn of its own.
func (lp *netLoop) handoff(rc *rawConn) {
	rc.inLoop.Store(false)
	// Its replies are no longer held; what it deferred so far is
	// flushed before they go (runBatch).
	rc.lc.client.sess.DeferWrites = false
	lp.flushHeld()
	lp.detach(rc)
	go lp.run()
}

// watch puts rc's descriptor into the epoll set; lp.mu is held.
func (lp *netLoop) watch(rc *rawConn) error {
	return unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_ADD, rc.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(rc.fd)})
}

// detach takes a connection out of the epoll set, for a goroutine of its
// own to serve until attach.
func (lp *netLoop) detach(rc *rawConn) {
	lp.mu.Lock()
	rc.detached = true
	unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_DEL, rc.fd, nil)
	lp.mu.Unlock()
}

// attach puts a connection whose batch ran on its own goroutine back into
// the epoll set, or closes it if the loop has stopped meanwhile.
func (lp *netLoop) attach(lc *limitConn) {
	rc := lc.Conn.(*rawConn)
	lc.prepareRead() // the idle timeout runs from the end of the batch
	lp.mu.Lock()
	if !lp.stopped {
		rc.detached = false
		err := lp.watch(rc)
		lp.mu.Unlock()
		if err == nil {
			return
		}
		lp.s.log.Warn("event loop refused a connection", "err", err)
	} else {
		lp.mu.Unlock()
	}
	lp.drop(lc)
}

// drop closes a connection served by the caller and forgets it.
func (lp *netLoop) drop(lc *limitConn) {
	rc := lc.Conn.(*rawConn)
	lp.mu.Lock()
	delete(lp.conns, rc.fd)
	lp.mu.Unlock()
	rc.release() // closing the descriptor also takes it out of the epoll set
	lp.s.forget(lc)
}

// closeIdle shuts down the connections in the loop whose read deadline
// (the idle timeout, see prepareRead) has passed.
func (lp *netLoop) closeIdle(now time.Time) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	for _, lc := range lp.conns {
		rc := lc.Conn.(*rawConn)
		if dl := rc.readDeadline.Load(); !rc.detached && dl != 0 && now.UnixNano() > dl {
			rc.Close()
		}
	}
}

// stop ends the loop: the connections in its epoll set are closed here,
// those running on goroutines of their own close when they come back.
func (lp *netLoop) stop() {
	lp.mu.Lock()
	lp.stopped = true
	var left []*limitConn
	for fd, lc := range lp.conns {
		if !lc.Conn.(*rawConn).detached {
			left = append(left, lc)
			delete(lp.conns, fd)
		}
	}
	lp.epf.Close()
	unix.Close(lp.wakefd)
	lp.mu.Unlock()
	for _, lc := range left {
		lc.Conn.(*rawConn).release()
		lp.s.forget(lc)
	}
	close(lp.done)
}
