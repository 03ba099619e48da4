// Package commands holds durastore's command table and one handler per
// command, a file per family. A handler parses its arguments, works on the
// engine through the transaction it is given, and writes its reply; it
// never touches a socket.
package commands

import (
	"sort"
	"strings"
)

// Flags are a command's properties, as COMMAND reports them, plus a few of
// our own that choose how dispatch runs it.
type Flags uint32

// Command flags. The first group mirrors Redis's; the second is internal.
const (
	Write Flags = 1 << iota
	ReadOnly
	DenyOOM
	Admin
	PubSub
	NoScript
	Loading
	Stale
	SkipMonitor
	SkipSlowlog
	Fast
	NoAuth
	MayReplicate
	NoMulti
	AllowBusy

	// Exclusive commands may touch several namespaces and run with every
	// other client held off (MOVE, COPY ... DB, SWAPDB, FLUSHALL).
	Exclusive
	// NoTx commands need no transaction (PING, SELECT, INFO...).
	NoTx
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{Write, "write"}, {ReadOnly, "readonly"}, {DenyOOM, "denyoom"}, {Admin, "admin"},
	{PubSub, "pubsub"}, {NoScript, "noscript"}, {Loading, "loading"}, {Stale, "stale"},
	{SkipMonitor, "skip_monitor"}, {SkipSlowlog, "skip_slowlog"}, {Fast, "fast"},
	{NoAuth, "no_auth"}, {MayReplicate, "may_replicate"}, {NoMulti, "no_multi"},
	{AllowBusy, "allow_busy"},
}

// Names lists the Redis flag names of f, in Redis's order.
func (f Flags) Names() []string {
	var out []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

// Command is one row of the table: what COMMAND reports and what dispatch
// needs.
type Command struct {
	Name string
	// Arity is the number of arguments including the name; negative means
	// at least -Arity.
	Arity    int
	Flags    Flags
	FirstKey int
	LastKey  int
	Step     int
	// ACL categories without the leading '@'.
	Categories []string
	Group      string
	Since      string
	Summary    string
	Handler    func(c *Ctx)
	// Subcommands of a container command (CLIENT, CONFIG, ...).
	Subcommands []*Command
}

// Table is the command table: every command the server knows.
type Table struct {
	byName map[string]*Command
	list   []*Command
}

// NewTable builds a table from rows; it panics on a duplicate name, which
// is a programming error caught by the tests.
func NewTable(rows ...[]*Command) *Table {
	t := &Table{byName: map[string]*Command{}}
	for _, group := range rows {
		for _, c := range group {
			name := strings.ToLower(c.Name)
			if _, dup := t.byName[name]; dup {
				panic("duplicate command " + name)
			}
			t.byName[name] = c
			t.list = append(t.list, c)
		}
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].Name < t.list[j].Name })
	return t
}

// Lookup finds a command by name, in any case, without allocating for
// names up to 32 bytes.
func (t *Table) Lookup(name []byte) *Command {
	if len(name) <= 32 {
		var buf [32]byte
		for i, c := range name {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		return t.byName[string(buf[:len(name)])]
	}
	return t.byName[strings.ToLower(string(name))]
}

// All lists the commands in name order.
func (t *Table) All() []*Command { return t.list }

// Default is the table of every command durastore implements.
var Default = NewTable(
	stringCommands,
	keyCommands,
	connectionCommands,
	serverCommands,
	multiCommands,     // multi.go
	scriptingCommands, // scripting.go
	throttleCommands,  // throttle.go
	hashCommands,      // hashes.go
	memoryCommands,    // memory.go
)

// Subcommand finds a subcommand of c by name.
func (c *Command) Subcommand(name []byte) *Command {
	for _, s := range c.Subcommands {
		if strings.EqualFold(s.Name[strings.IndexByte(s.Name, '|')+1:], string(name)) {
			return s
		}
	}
	return nil
}

// arityOK checks an argument count against an arity.
func arityOK(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}
