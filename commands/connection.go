package commands

import (
	"strconv"

	"durastore/engine"
)

// Connection commands: https://redis.io/commands/?group=connection
var connectionCommands = []*Command{
	{Name: "ping", Arity: -1, Flags: Fast | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "1.0.0", Summary: "Returns the server's liveliness response.", Handler: cmdPing},
	{Name: "echo", Arity: 2, Flags: Fast | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "1.0.0", Summary: "Returns the given string.", Handler: cmdEcho},
	{Name: "quit", Arity: -1, Flags: NoAuth | Fast | NoTx | AllowBusy, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "1.0.0", Summary: "Closes the connection.", Handler: cmdQuit},
	{Name: "select", Arity: 2, Flags: Loading | Stale | Fast | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "1.0.0", Summary: "Changes the selected database.", Handler: cmdSelect},
}

// PING [message]
// https://redis.io/commands/ping/
func cmdPing(c *Ctx) {
	switch len(c.Args) {
	case 1:
		c.W.Simple("PONG")
	case 2:
		c.W.Bulk(c.Args[1])
	default:
		c.Error(ArityError("ping"))
	}
}

// ECHO message
// https://redis.io/commands/echo/
func cmdEcho(c *Ctx) { c.W.Bulk(c.Args[1]) }

// QUIT
// https://redis.io/commands/quit/
func cmdQuit(c *Ctx) {
	c.W.OK()
	c.S.Closing = true
}

// SELECT index | name
// https://redis.io/commands/select/
//
// A number selects a numbered database as on Redis; a name of letters,
// digits, '_' and '-' selects (and on first write creates) a named
// namespace, durastore's extension.
func cmdSelect(c *Ctx) {
	name, index, errMsg := ResolveNamespace(c.Env.Store, c.Str(1))
	if errMsg != "" {
		c.Error(errMsg)
		return
	}
	c.S.Select(name, index)
	c.W.OK()
}

// ResolveNamespace maps a SELECT argument to a namespace name and its
// database index (-1 for a named namespace), or returns Redis's error.
func ResolveNamespace(st *engine.Store, arg string) (string, int, string) {
	if looksNumeric(arg) {
		n, ok := ParseInt([]byte(arg))
		if !ok || n < math32Min || n > math32Max {
			return "", 0, ErrNotInt
		}
		if n < 0 || n >= int64(st.Databases()) {
			return "", 0, ErrDBIndex
		}
		return strconv.FormatInt(n, 10), int(n), ""
	}
	if !engine.ValidName(arg) {
		return "", 0, ErrNotInt
	}
	return arg, -1, ""
}

const (
	math32Min = -1 << 31
	math32Max = 1<<31 - 1
)

// looksNumeric reports whether s is made of digits with an optional sign,
// so it is read as a database index rather than a namespace name.
func looksNumeric(s string) bool {
	if s == "" {
		return true
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i = 1
	}
	if i == len(s) {
		return true
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
