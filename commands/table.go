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
	// quick finds a command without hashing its whole name: the
	// commands whose lowercase names give each quickIndex.
	quick [quickSize][]*Command
}

const quickSize = 1024

// quickIndex mixes a name's length with three of its bytes, each with
// the bit set that makes an ASCII letter lowercase. Names that differ
// only in case get the same index; Lookup compares the name in full.
func quickIndex(name []byte) int {
	n := len(name)
	return (n*131 + int(name[0]|0x20)*31 + int(name[n/2]|0x20)*7 + int(name[n-1]|0x20)) & (quickSize - 1)
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
			if name != "" {
				i := quickIndex([]byte(name))
				t.quick[i] = append(t.quick[i], c)
			}
		}
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].Name < t.list[j].Name })
	return t
}

// Lookup finds a command by name, in any case, without allocating. It runs
// for every command a client sends, so it neither hashes the name nor
// lowercases it: the quick index narrows the table to a command or two
// (TestLookupQuick), then one comparison decides.
func (t *Table) Lookup(name []byte) *Command {
	if len(name) == 0 {
		return t.byName[""]
	}
	for _, c := range t.quick[quickIndex(name)] {
		if eqFold(bytesString(name), c.Name) {
			return c
		}
	}
	return nil
}

// lookupMap is Lookup through the name map, which TestLookupQuick checks
// Lookup against.
func (t *Table) lookupMap(name []byte) *Command {
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
