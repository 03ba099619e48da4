package server

// Limits on what a client may send, enforced while a connection is read
// (conn.go).
//
// A reader that buffers whatever a client sends until a command is
// complete lets a client announcing "$999999999" and streaming bytes, or an
// array header of a billion elements, grow our memory until the process
// dies. So every connection's bytes go through reqScanner, an incremental
// framer that follows Redis 7.0's processInlineBuffer and
// processMultibulkBuffer (src/networking.c) byte for byte:
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
// What the scanner emits is always canonical RESP: inline commands are
// rewritten as arrays with Redis's quoting rules (sdssplitargs), ignored
// empty arrays are dropped and the two bytes after each bulk, which Redis
// skips unchecked, are passed as CRLF. The connection loop then cuts the
// arguments out of those bytes without validating them again. Nothing is
// allocated from an announced count or length: memory grows only with the
// bytes that arrive, and the query buffer limit bounds them.
//
// Writes get a deadline when the idle timeout is set, so a client that
// stops reading its replies is closed after `timeout` seconds as Redis's
// clientsCron would, instead of pinning its goroutine forever. Without a
// timeout such a client costs one blocked goroutine and the replies of one
// read batch: its requests are not read until the socket takes the
// replies.

import (
	"errors"
	"strconv"

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
	argOverhead    = 32        // bookkeeping per argument (its slice header and more), counted against the query buffer
	maxHeaderDigit = 24        // longer numbers cannot be valid (string2ll fails first)
)

// errLimitClosed is what readBatch returns once the connection has been
// refused by a limit (conn.go).
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
	// doneCmds and doneArgs count the commands completed (and their
	// arguments) since the caller last reset them, so that the caller can
	// size a batch's argument array without parsing it twice.
	doneCmds, doneArgs int
}

func protoError(msg string) *reqError {
	return &reqError{reply: "-ERR Protocol error: " + msg + "\r\n", reason: msg}
}

// feed scans in, appending the canonical form of what it lets through to
// out. On a violation
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
				s.doneCmds++
				s.doneArgs += int(s.count)
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
				s.doneCmds++
				s.doneArgs += len(args)
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
func (s *Server) runBounded(cl *client) bool {
	cmds := cl.cmds
	for len(cmds) > 0 {
		n, reads := 0, 0
		for n < len(cmds) && reads < replyGroupReads {
			if c := s.env.Table.Lookup(cmds[n][0]); c == nil || c.Flags&commands.Write == 0 {
				reads++
			}
			n++
		}
		start := len(cl.w.B)
		s.env.Run(cl.sess, &cl.w, cmds[:n])
		cmds = cmds[n:]
		if cl.sess.Ticket.Deferred() {
			// Its file write was deferred (Session.DeferWrites): it is
			// settled before anything else runs, or by the caller.
			cl.deferStart, cl.deferN = start, n
			if len(cmds) > 0 {
				s.store.FlushPending()
				cl.settle()
			}
		}
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

// settle finishes a Run whose file write was deferred, once
// Store.FlushPending has returned: if the write failed, the changes were
// undone, and each of its replies becomes the error, as when a commit
// fails.
func (cl *client) settle() {
	t := &cl.sess.Ticket
	if !t.Deferred() {
		return
	}
	if err := t.Result(); err != nil {
		cl.w.B = cl.w.B[:cl.deferStart]
		msg := commands.WriteErrorReply(err)
		for range cl.deferN {
			cl.w.Error(msg)
		}
		cl.env.Stats.ErrorReplies.Add(int64(cl.deferN))
	}
	t.Reset()
}
