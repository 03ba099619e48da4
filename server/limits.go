package server

// Limits on what a client may send, enforced in front of redcon.
//
// redcon's reader buffers whatever a client sends until a command is
// complete: a client announcing "$999999999" and streaming bytes, or an
// array header of a billion elements, would grow our memory until the
// process dies. redcon also answers malformed requests with its own texts
// and parses inline commands differently from Redis.
//
// So every accepted connection is wrapped in a limitConn whose Read runs
// the bytes through reqScanner, an incremental framer that follows Redis
// 7.0's processInlineBuffer and processMultibulkBuffer (src/networking.c)
// byte for byte:
//
//   - an array count must be a strict integer ≤ INT_MAX (at most 10 before
//     AUTH when a password is set); counts ≤ 0 are ignored as in Redis;
//   - a bulk length must be a strict integer within proto-max-bulk-len (at
//     most 16384 before AUTH);
//   - a header line (count or bulk length) or an inline request longer than
//     64 KB without its terminator is refused;
//   - a command whose bytes (plus per-argument bookkeeping) pass
//     client-query-buffer-limit closes the connection, with no reply, as
//     Redis does.
//
// On a violation the commands received before it still run, then the
// client gets Redis's "-ERR Protocol error: ..." reply and is closed.
// What reaches redcon is always canonical RESP: inline commands are
// rewritten as arrays with Redis's quoting rules (sdssplitargs), ignored
// empty arrays are dropped and the two bytes after each bulk, which Redis
// skips unchecked, are passed as CRLF. redcon therefore never sees a request
// it would reject, and holds at most one command of bounded size.
//
// Writes get a deadline when the idle timeout is set, so a client that
// stops reading its replies is closed after `timeout` seconds as Redis's
// clientsCron would, instead of pinning its goroutine forever. Without a
// timeout such a client costs one blocked goroutine and the replies of one
// read batch: redcon reads no more of its requests until the socket takes
// the replies.

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/tidwall/redcon"

	"durastore/commands"
)

const (
	// protoInlineMaxSize is Redis's PROTO_INLINE_MAX_SIZE: the longest
	// inline request or header line accepted without its terminator.
	protoInlineMaxSize = 64 * 1024
	// Before AUTH, Redis accepts at most 10 arguments of 16 KB each.
	unauthMaxArgs  = 10
	unauthMaxBulk  = 16384
	maxMultibulk   = 1<<31 - 1 // INT_MAX
	argOverhead    = 32        // redcon's bookkeeping per argument, counted against the query buffer
	maxHeaderDigit = 24        // longer numbers cannot be valid (string2ll fails first)
)

// errLimitClosed is what Read returns to redcon once the connection has
// been refused; redcon then closes it.
var errLimitClosed = errors.New("connection closed by a client limit")

type reqState uint8

const (
	rsStart     reqState = iota // between commands
	rsCount                     // after '*': the count up to '\r'
	rsCountLF                   // the byte after the count's '\r'
	rsBulkLen                   // a "$<len>" line up to '\r'
	rsBulkLenLF                 // the byte after the bulk length's '\r'
	rsBulk                      // bulk payload
	rsBulkEnd                   // the two bytes after the payload
	rsInline                    // an inline request up to '\n'
)

// reqLimits are the limits in force while one chunk is scanned.
type reqLimits struct {
	maxBulk  int64
	maxQuery int64
	// authed is false when a password is set and the client has not
	// authenticated: Redis then allows only small requests.
	authed bool
}

// reqError is a refused request: reply is sent before closing ("" for
// none), reason goes to the log.
type reqError struct {
	reply  string
	reason string
}

// reqScanner frames a client's byte stream into commands, enforcing the
// limits, and emits canonical RESP. Its memory is a few words plus, for an
// inline request, the line itself (at most 64 KB).
type reqScanner struct {
	state    reqState
	lineLen  int  // bytes of the current header or inline line, marker included
	first    byte // first byte of a bulk-length line (should be '$')
	nul      bool // a NUL in the line hides its terminator from Redis's strchr
	text     [maxHeaderDigit]byte
	textLen  int   // bytes of text; > len(text) means too long
	count    int64 // the current command's number of arguments
	args     int64 // arguments still expected in the current command
	bulk     int64 // payload bytes still expected
	end      int   // terminator bytes still to skip after a payload
	cmdBytes int64 // the current command's size, for client-query-buffer-limit
	inline   []byte
	// boundary is set by feed: the length of out at the end of the last
	// command completed (or ignored) during the call, 0 if none was.
	boundary int
}

func protoError(msg string) *reqError {
	return &reqError{reply: "-ERR Protocol error: " + msg + "\r\n", reason: msg}
}

// feed scans in, appending what redcon should see to out. On a violation
// it returns the error; out then holds everything before the offending
// command's end, so the complete commands before it still run.
func (s *reqScanner) feed(in, out []byte, lim reqLimits) ([]byte, *reqError) {
	s.boundary = 0
	for i := 0; i < len(in); {
		b := in[i]
		switch s.state {
		case rsStart:
			s.boundary = len(out)
			s.cmdBytes, s.count = 0, 0
			s.resetLine()
			if b == '*' {
				s.state = rsCount
				s.lineLen = 1
				s.cmdBytes = 1
				i++
			} else {
				s.state = rsInline
				s.inline = s.inline[:0]
			}
			continue

		case rsCount, rsBulkLen:
			// Scan the header line for its '\r'. A bulk length
			// line's first byte is its marker, '$' if valid.
			j := i
			for j < len(in) && in[j] != '\r' && in[j] != 0 {
				j++
			}
			seg := in[i:]
			if s.nul || j < len(in) && in[j] == 0 {
				// A NUL hides the line's end from Redis's strchr:
				// only the line's length matters from now on.
				s.nul = true
				s.lineLen += len(seg)
				s.cmdBytes += int64(len(seg))
				i = len(in)
				if s.lineLen > protoInlineMaxSize {
					return out, s.tooBig()
				}
				continue
			}
			seg = in[i:j]
			text := seg
			if s.state == rsBulkLen && s.lineLen == 0 && len(seg) > 0 {
				s.first = seg[0]
				text = seg[1:]
			}
			if s.textLen+len(text) <= len(s.text) {
				copy(s.text[s.textLen:], text)
			}
			s.textLen += len(text)
			s.lineLen += len(seg)
			s.cmdBytes += int64(len(seg))
			i += len(seg)
			if s.lineLen > protoInlineMaxSize {
				return out, s.tooBig()
			}
			if i < len(in) { // at the '\r'
				if s.state == rsBulkLen && s.lineLen == 0 {
					s.first = '\r'
				}
				s.lineLen++
				s.cmdBytes++
				i++
				if s.state == rsCount {
					s.state = rsCountLF
				} else {
					s.state = rsBulkLenLF
				}
			}
			if s.cmdBytes > lim.maxQuery {
				return out, queryBufferError()
			}

		case rsCountLF:
			// Redis skips the byte after '\r' without looking at it.
			i++
			s.cmdBytes++
			n, ok := string2ll(s.textBytes())
			if !ok || n > maxMultibulk {
				return out, protoError("invalid multibulk length")
			}
			if n > unauthMaxArgs && !lim.authed {
				return out, protoError("unauthenticated multibulk length")
			}
			if n <= 0 {
				s.state = rsStart // an empty request: ignored
				s.boundary = len(out)
				continue
			}
			out = append(out, '*')
			out = append(out, s.textBytes()...)
			out = append(out, '\r', '\n')
			s.count, s.args = n, n
			s.state = rsBulkLen
			s.resetLine()

		case rsBulkLenLF:
			i++
			s.cmdBytes++
			if s.first != '$' {
				c := s.first
				if c == '\r' || c == '\n' {
					c = ' ' // addReplyErrorFormat maps newlines to spaces
				}
				return out, protoError("expected '$', got '" + string([]byte{c}) + "'")
			}
			n, ok := string2ll(s.textBytes())
			if !ok || n < 0 || n > lim.maxBulk {
				return out, protoError("invalid bulk length")
			}
			if n > unauthMaxBulk && !lim.authed {
				return out, protoError("unauthenticated bulk length")
			}
			s.cmdBytes += argOverhead
			if s.cmdBytes+n > lim.maxQuery {
				// The command cannot fit: refuse it now rather than
				// after buffering the limit's worth of bytes.
				return out, queryBufferError()
			}
			out = append(out, '$')
			out = append(out, s.textBytes()...)
			out = append(out, '\r', '\n')
			s.bulk = n
			s.state = rsBulk
			if n == 0 {
				s.state, s.end = rsBulkEnd, 2
			}

		case rsBulk:
			k := int64(len(in) - i)
			if k > s.bulk {
				k = s.bulk
			}
			out = append(out, in[i:i+int(k)]...)
			i += int(k)
			s.bulk -= k
			s.cmdBytes += k
			if s.bulk == 0 {
				s.state, s.end = rsBulkEnd, 2
			}

		case rsBulkEnd:
			// Redis skips the two bytes after a payload unchecked.
			k := min(s.end, len(in)-i)
			i += k
			s.cmdBytes += int64(k)
			s.end -= k
			if s.end > 0 {
				continue
			}
			out = append(out, '\r', '\n')
			s.args--
			if s.args == 0 {
				s.state = rsStart
				s.boundary = len(out)
			} else {
				s.state = rsBulkLen
				s.resetLine()
			}

		case rsInline:
			j := i
			for j < len(in) {
				c := in[j]
				if c == '\n' && !s.nul {
					break
				}
				if c == 0 {
					s.nul = true
				}
				if !s.nul {
					s.inline = append(s.inline, c)
				}
				s.lineLen++
				j++
				if s.lineLen > protoInlineMaxSize {
					return out, protoError("too big inline request")
				}
			}
			s.cmdBytes += int64(j - i)
			i = j
			if i == len(in) {
				continue
			}
			i++ // the '\n'
			line := s.inline
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			args, err := cfgSplitArgs(string(line))
			if err != nil {
				return out, protoError("unbalanced quotes in request")
			}
			if len(args) > 0 {
				out = strconv.AppendInt(append(out, '*'), int64(len(args)), 10)
				out = append(out, '\r', '\n')
				for _, a := range args {
					out = strconv.AppendInt(append(out, '$'), int64(len(a)), 10)
					out = append(out, '\r', '\n')
					out = append(out, a...)
					out = append(out, '\r', '\n')
				}
			}
			if cap(s.inline) > 4096 {
				s.inline = nil
			}
			s.state = rsStart
			s.boundary = len(out)
		}
	}
	return out, nil
}

// tooBig is the error for a header line that does not end.
func (s *reqScanner) tooBig() *reqError {
	if s.state == rsCount {
		return protoError("too big mbulk count string")
	}
	return protoError("too big bulk count string")
}

func (s *reqScanner) resetLine() {
	s.lineLen, s.textLen, s.nul, s.first = 0, 0, false, 0
}

// textBytes is the header line's text after its marker; a text too long
// to be a number comes back as a non-number.
func (s *reqScanner) textBytes() []byte {
	if s.textLen > len(s.text) {
		return []byte{'x'}
	}
	return s.text[:s.textLen]
}

func queryBufferError() *reqError {
	return &reqError{reason: "max query buffer length reached"}
}

// string2ll parses a strict decimal integer like Redis's string2ll: an
// optional '-', no '+', no leading zeros, no spaces, within int64.
func string2ll(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// limitListener wraps every accepted connection in a limitConn.
type limitListener struct {
	net.Listener
	srv *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &limitConn{Conn: c, srv: l.srv}, nil
}

// limitConn is a client connection seen through reqScanner.
type limitConn struct {
	net.Conn
	srv *Server
	// client is set by accept once the connection is admitted; nil before.
	client *client

	sc   reqScanner
	pend []byte // scanned bytes being handed to redcon
	off  int
	// held is the scanned start of an incomplete command not yet handed
	// over, sent how much of that command was.
	held []byte
	sent int
	fail *reqError
	rerr error

	writeDeadline bool // a write deadline is set
}

// minRelease is how much of an incomplete command is held back at least.
const minRelease = 64 << 10

// Read hands redcon the scanned form of what the client sent. On a
// violation it first hands over what came before it, then sends the
// error reply and fails, which makes redcon close the connection.
//
// redcon parses its whole buffer again after every read until a command is
// complete, and each parse loops over the announced number of arguments
// even when their bytes have not arrived: "*2000000000" alone would cost a
// second of CPU per read. So the start of an incomplete command is held
// back and handed over in pieces at least as large as what was already
// handed over, the first at least as large as the announced count: redcon
// then parses a command a logarithmic number of times, each parse costing
// no more than the bytes it has, and we hold at most as much as it does
// (all of it bounded by client-query-buffer-limit).
func (c *limitConn) Read(p []byte) (int, error) {
	for {
		if c.off < len(c.pend) {
			n := copy(p, c.pend[c.off:])
			c.off += n
			if c.off == len(c.pend) {
				c.off = 0
				c.pend = c.pend[:0]
				if cap(c.pend) > minRelease {
					c.pend = nil
				}
			}
			return n, nil
		}
		if c.fail != nil {
			c.refuse()
			return 0, errLimitClosed
		}
		if c.rerr != nil {
			return 0, c.rerr
		}
		n, err := c.Conn.Read(p)
		if err != nil {
			c.rerr = err
		}
		if n == 0 {
			continue
		}
		c.held, c.fail = c.sc.feed(p[:n], c.held, c.limits())
		b := c.sc.boundary
		if b > 0 {
			c.sent = 0
		}
		if c.fail != nil {
			// The complete commands before the violation still run;
			// the incomplete one is dropped.
			c.held = c.held[:b]
		} else if tail := len(c.held) - b; int64(tail) >= max(minRelease, int64(c.sent), c.sc.count) {
			c.sent += tail
			b = len(c.held)
		}
		switch {
		case b == len(c.held):
			c.pend, c.held = c.held, c.pend[:0]
		case b > 0:
			c.pend = append(c.pend[:0], c.held[:b]...)
			c.held = c.held[:copy(c.held, c.held[b:])]
		}
		if len(c.held) == 0 && cap(c.held) > minRelease {
			c.held = nil
		}
	}
}

// limits reads the limits in force now (CONFIG SET may change them).
func (c *limitConn) limits() reqLimits {
	s := c.srv
	s.cfgMu.RLock()
	lim := reqLimits{
		maxBulk:  s.cfg.ProtoMaxBulkLen,
		maxQuery: s.cfg.ClientQueryBufferLimit,
		authed:   s.cfg.RequirePass == "",
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
	if f.reply != "" {
		c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		c.Conn.Write([]byte(f.reply))
		c.srv.log.Debug("protocol error from client", "addr", addr, "err", f.reason)
	} else {
		c.srv.log.Warn("closing client that reached max query buffer length", "addr", addr)
	}
	c.fail = &reqError{} // reply once
}

// Write gives each write the idle timeout as a deadline, so a client that
// never reads its replies is dropped like an idle one.
func (c *limitConn) Write(b []byte) (int, error) {
	if len(b) == 0 {
		// redcon flushes its (always empty) buffer from the client's
		// goroutine while pushes may be written from another (see
		// outbox in server.go): leave the deadline state alone.
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

// Output: a pipeline's replies are built in memory before they are written,
// so a pipeline of GETs on a large value would hold all of its replies at
// once. runBounded runs the pipeline in groups and writes out what the
// replies have gathered whenever they pass replyFlushSize: a client then
// holds at most about one group's replies in our memory, and a client that
// does not read blocks in that write and is not read from meanwhile.
const (
	replyFlushSize = 1 << 20
	// replyGroupReads is how many commands that may answer with data run
	// between two checks of the reply size. Writes (whose replies are small
	// and which gain from sharing one transaction and one fsync) do not
	// count.
	replyGroupReads = 16
)

// runBounded runs cl.cmds, appending replies to cl.w. It is called with
// s.gate held shared and releases it while writing to the socket. It
// returns false when the connection is broken or the server is closing.
func (s *Server) runBounded(cl *client, conn redcon.Conn) bool {
	cmds := cl.cmds
	for len(cmds) > 0 {
		n, reads := 0, 0
		for n < len(cmds) && reads < replyGroupReads {
			if c := s.env.Table.Lookup(cmds[n][0]); c == nil || c.Flags&commands.Write == 0 {
				reads++
			}
			n++
		}
		s.env.Run(cl.sess, &cl.w, cmds[:n])
		cmds = cmds[n:]
		if len(cmds) == 0 || len(cl.w.B) < replyFlushSize || cl.sess.Closing {
			continue
		}
		s.gate.RUnlock()
		err := cl.writeReplies(cl.w.B) // in turn with pushes, see outbox in server.go
		s.gate.RLock()
		cl.w.B = cl.w.B[:0]
		if err != nil || s.closing.Load() {
			return false
		}
	}
	return true
}
