package commands

// Generic key commands: https://redis.io/commands/?group=generic
var keyCommands = []*Command{
	{Name: "del", Arity: -2, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"keyspace", "write", "slow"}, Group: "generic", Since: "1.0.0",
		Summary: "Deletes one or more keys.", Handler: cmdDel},
	{Name: "exists", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"keyspace", "read", "fast"}, Group: "generic", Since: "1.0.0",
		Summary: "Determines whether one or more keys exist.", Handler: cmdExists},
}

// DEL key [key ...]
// https://redis.io/commands/del/
func cmdDel(c *Ctx) {
	var n int64
	for i := 1; i < len(c.Args); i++ {
		ok, err := c.Tx.Delete(c.S.DB, c.Str(i))
		if err != nil {
			c.Error(WriteErrorReply(err))
			return
		}
		if ok {
			n++
		}
	}
	c.W.Int(n)
}

// EXISTS key [key ...]
// https://redis.io/commands/exists/
func cmdExists(c *Ctx) {
	var n int64
	for i := 1; i < len(c.Args); i++ {
		ok, err := c.Tx.Exists(c.S.DB, c.Str(i))
		if err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		if ok {
			n++
		}
	}
	c.W.Int(n)
}
