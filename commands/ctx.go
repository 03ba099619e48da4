package commands

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"durastore/engine"
)

// Session is one client connection's state. The server keeps it in the
// connection's context; only that connection's goroutine changes it,
// except for the fields behind mu, which CLIENT LIST reads from others.
type Session struct {
	ID      int64
	DB      string // current namespace
	DBIndex int    // numeric index of DB, -1 for a named namespace
	RESP    int
	Authed  bool
	Closing bool // QUIT or a kill: close after the reply
	// DeferWrites: the server writes this client's replies only after
	// Store.FlushPending and a look at Ticket, so a Run whose commands
	// make one transaction may defer its file write (engine.Tx.DeferWrite)
	// with Ticket. Set by whoever runs its commands.
	DeferWrites bool
	Ticket      engine.WriteTicket
	Created     time.Time
	Addr        string
	LocalAddr   string

	mu      sync.Mutex
	name    string
	libName string
	libVer  string
	// lastCmd points to the Name of the last command's table row (set
	// on every command, so an atomic store rather than mu).
	lastCmd atomic.Pointer[string]
	// LastActive is the Unix nanosecond time of the last command.
	LastActive atomic.Int64
	// NoEvict and NoTouch are set by CLIENT NO-EVICT and CLIENT NO-TOUCH.
	NoEvict, NoTouch atomic.Bool

	// Multi holds the commands queued since MULTI, nil outside a
	// transaction; watch is the set of WATCHed keys (multi.go).
	Multi *MultiState
	watch *watchSet

	// ext is the state of client tracking, pub/sub and CLIENT REPLY
	// (tracking.go).
	ext sessionExt
}

// NewSession returns the state of a new connection.
func NewSession(id int64, addr, laddr string) *Session {
	s := &Session{ID: id, DB: "0", RESP: 2, Created: time.Now(), Addr: addr, LocalAddr: laddr}
	s.LastActive.Store(s.Created.UnixNano())
	return s
}

// Name returns the client name set by CLIENT SETNAME or HELLO.
func (s *Session) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

// SetName sets the client name.
func (s *Session) SetName(n string) {
	s.mu.Lock()
	s.name = n
	s.mu.Unlock()
}

// Lib returns the library name and version from CLIENT SETINFO.
func (s *Session) Lib() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.libName, s.libVer
}

// LastCommand returns the name of the last command run.
func (s *Session) LastCommand() string {
	if p := s.lastCmd.Load(); p != nil {
		return *p
	}
	return ""
}

// noteCommand records the command about to run (name is its table row's
// Name) at Unix nanosecond time now.
func (s *Session) noteCommand(name *string, now int64) {
	s.lastCmd.Store(name)
	s.LastActive.Store(now)
}

// Select makes name the current namespace. It holds mu because CLIENT
// LIST reads DB from other connections.
func (s *Session) Select(name string, index int) {
	s.mu.Lock()
	s.DB = name
	s.DBIndex = index
	s.mu.Unlock()
}

// Env is what every command runs against.
type Env struct {
	Store *engine.Store
	Host  Host
	Table *Table
	Stats Stats

	// watches maps WATCHed keys to their watchers (multi.go); scripts is
	// the Lua scripting state (scripting.go). Both work from zero values.
	watches watchRegistry
	scripts scriptEnv

	// ext holds client tracking, pub/sub, CLIENT PAUSE and the per-command
	// statistics (tracking.go). It works from its zero value.
	ext envExt
}

// Stats are counters kept by dispatch and handlers, reported by INFO.
type Stats struct {
	Commands      atomic.Int64
	KeyspaceHits  atomic.Int64
	KeyspaceMiss  atomic.Int64
	ErrorReplies  atomic.Int64
	RejectedCalls atomic.Int64
}

// Ctx is one command's call: its arguments, its session, its transaction
// and where its reply goes.
type Ctx struct {
	Env  *Env
	S    *Session
	Args [][]byte
	Tx   *engine.Tx
	W    *Writer
	Cmd  *Command
	// next is when the next command run on this Ctx starts: the end of
	// the previous one, so that a batch reads the clock once a command.
	// Zero means read the clock.
	next time.Time
}

// Str returns argument i as a string that shares the request's memory: for
// looking things up, not for keeping.
func (c *Ctx) Str(i int) string {
	b := c.Args[i]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Lower returns argument i in lower case.
func (c *Ctx) Lower(i int) string { return strings.ToLower(string(c.Args[i])) }

// Is reports whether argument i equals word, ignoring case.
func (c *Ctx) Is(i int, word string) bool {
	return strings.EqualFold(c.Str(i), word)
}

// Int parses argument i as a Redis integer.
func (c *Ctx) Int(i int) (int64, bool) { return ParseInt(c.Args[i]) }

// Error replies with an error.
func (c *Ctx) Error(msg string) {
	c.Env.Stats.ErrorReplies.Add(1)
	c.W.Error(msg)
}

// Redis's common error replies, to the byte.
const (
	ErrWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNotInt     = "ERR value is not an integer or out of range"
	ErrNotFloat   = "ERR value is not a valid float"
	ErrSyntax     = "ERR syntax error"
	ErrNoSuchKey  = "ERR no such key"
	ErrOverflow   = "ERR increment or decrement would overflow"
	ErrDBIndex    = "ERR DB index is out of range"
	ErrInvalidExp = "ERR invalid expire time in '%s' command"
)

// ArityError is Redis's reply for a wrong argument count.
func ArityError(name string) string {
	return "ERR wrong number of arguments for '" + strings.ToLower(name) + "' command"
}

// UnknownCommand is Redis's reply for a command it does not know, which
// quotes the first arguments (src/server.c processCommand).
func UnknownCommand(args [][]byte) string {
	var a strings.Builder
	for i := 1; i < len(args) && a.Len() < 128; i++ {
		arg := args[i]
		if max := 128 - a.Len(); len(arg) > max {
			arg = arg[:max]
		}
		a.WriteByte('\'')
		a.Write(arg)
		a.WriteString("' ")
	}
	name := args[0]
	if len(name) > 128 {
		name = name[:128]
	}
	return sanitize("ERR unknown command '" + string(name) + "', with args beginning with: " + a.String())
}

// sanitize replaces the newlines an error reply may not carry, as Redis's
// rejectCommand does.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// itoa is strconv.Itoa for int64.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
