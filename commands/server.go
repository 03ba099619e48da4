package commands

// Server commands: https://redis.io/commands/?group=server
var serverCommands = []*Command{
	{Name: "dbsize", Arity: 1, Flags: ReadOnly | Fast, Categories: []string{"keyspace", "read", "fast"},
		Group: "server", Since: "1.0.0", Summary: "Returns the number of keys in the database.", Handler: cmdDBSize},
	{Name: "flushdb", Arity: -1, Flags: Write, Categories: []string{"keyspace", "write", "slow", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Removes all keys from the current database.", Handler: cmdFlushDB},
	{Name: "flushall", Arity: -1, Flags: Write | Exclusive, Categories: []string{"keyspace", "write", "slow", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Removes all keys from all databases.", Handler: cmdFlushAll},
}

// DBSIZE
// https://redis.io/commands/dbsize/
func cmdDBSize(c *Ctx) {
	n, err := c.Tx.Len(c.S.DB)
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.Int(int64(n))
}

// parseFlushMode accepts FLUSHDB/FLUSHALL's optional ASYNC or SYNC.
func parseFlushMode(c *Ctx) bool {
	if len(c.Args) > 2 || (len(c.Args) == 2 && !c.Is(1, "async") && !c.Is(1, "sync")) {
		c.Error(ErrSyntax)
		return false
	}
	return true
}

// FLUSHDB [ASYNC | SYNC]
// https://redis.io/commands/flushdb/
func cmdFlushDB(c *Ctx) {
	if !parseFlushMode(c) {
		return
	}
	if err := c.Tx.Flush(c.S.DB); err != nil {
		c.Error(WriteErrorReply(err))
		return
	}
	c.W.OK()
}

// FLUSHALL [ASYNC | SYNC]
// https://redis.io/commands/flushall/
func cmdFlushAll(c *Ctx) {
	if !parseFlushMode(c) {
		return
	}
	for _, name := range c.Env.Store.Names() {
		if err := c.Tx.Flush(name); err != nil {
			c.Error(WriteErrorReply(err))
			return
		}
	}
	c.W.OK()
}
