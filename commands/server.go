package commands

import (
	"strconv"
	"strings"
	"time"
)

// Server commands: https://redis.io/commands/?group=server. COMMAND's rows
// live in introspect.go.
var serverCommands = append([]*Command{
	{Name: "dbsize", Arity: 1, Flags: ReadOnly | Fast, Categories: []string{"keyspace", "read", "fast"},
		Group: "server", Since: "1.0.0", Summary: "Return the number of keys in the selected database", Handler: cmdDBSize},
	{Name: "flushdb", Arity: -1, Flags: Write, Categories: []string{"keyspace", "write", "slow", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Remove all keys from the current database", Handler: cmdFlushDB},
	{Name: "flushall", Arity: -1, Flags: Write | Exclusive, Categories: []string{"keyspace", "write", "slow", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Remove all keys from all databases", Handler: cmdFlushAll},
	{Name: "info", Arity: -1, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Get information and statistics about the server", Handler: cmdInfo},
	{Name: "time", Arity: 1, Flags: Loading | Stale | Fast | NoTx, Categories: []string{"fast"},
		Group: "server", Since: "2.6.0", Summary: "Return the current server time", Handler: cmdTime},
	{Name: "lastsave", Arity: 1, Flags: Loading | Stale | Fast | NoTx, Categories: []string{"admin", "fast", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Get the UNIX time stamp of the last successful save to disk", Handler: cmdLastSave},
	{Name: "bgrewriteaof", Arity: 1, Flags: Admin | NoScript | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Asynchronously rewrite the append-only file", Handler: cmdBgRewriteAOF},
	{Name: "save", Arity: 1, Flags: Admin | NoScript | NoMulti | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Synchronously save the dataset to disk", Handler: cmdSave},
	{Name: "bgsave", Arity: -1, Flags: Admin | NoScript | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Asynchronously save the dataset to disk", Handler: cmdBgSave},
	{Name: "shutdown", Arity: -1, Flags: Admin | NoScript | Loading | Stale | NoMulti | AllowBusy | NoTx,
		Categories: []string{"admin", "slow", "dangerous"}, Group: "server", Since: "1.0.0",
		Summary: "Synchronously save the dataset to disk and then shut down the server", Handler: cmdShutdown},
	{Name: "config", Arity: -2, Flags: NoTx, Categories: []string{"slow"},
		Group: "server", Since: "2.0.0", Summary: "A container for server configuration commands", Handler: dispatchSubcommand,
		Subcommands: []*Command{
			{Name: "config|get", Arity: -3, Flags: configFlags, Categories: configCats,
				Group: "server", Since: "2.0.0", Summary: "Get the values of configuration parameters", Handler: cmdConfigGet},
			{Name: "config|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"slow"},
				Group: "server", Since: "5.0.0", Summary: "Show helpful text about the different subcommands", Handler: cmdConfigHelp},
			{Name: "config|resetstat", Arity: 2, Flags: configFlags, Categories: configCats,
				Group: "server", Since: "2.0.0", Summary: "Reset the stats returned by INFO", Handler: cmdConfigResetStat},
			{Name: "config|rewrite", Arity: 2, Flags: configFlags, Categories: configCats,
				Group: "server", Since: "2.8.0", Summary: "Rewrite the configuration file with the in memory configuration", Handler: cmdConfigRewrite},
			{Name: "config|set", Arity: -4, Flags: configFlags, Categories: configCats,
				Group: "server", Since: "2.0.0", Summary: "Set configuration parameters to the given values", Handler: cmdConfigSet},
		}},
}, commandCommands...)

const configFlags = Admin | NoScript | Loading | Stale | NoTx

var configCats = []string{"admin", "slow", "dangerous"}

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

// TIME
// https://redis.io/commands/time/
func cmdTime(c *Ctx) {
	now := time.Now()
	c.W.Array(2)
	c.W.BulkString(strconv.FormatInt(now.Unix(), 10))
	c.W.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// LASTSAVE
// https://redis.io/commands/lastsave/
func cmdLastSave(c *Ctx) { c.W.Int(hostInfo(c.Env).LastSave.Unix()) }

// BGREWRITEAOF
// https://redis.io/commands/bgrewriteaof/
func cmdBgRewriteAOF(c *Ctx) {
	if !c.Env.Store.Rewrite() {
		c.Error("ERR Background append only file rewriting already in progress")
		return
	}
	c.W.Simple("Background append only file rewriting started")
}

// syncAll makes everything written so far durable, which is what saving
// means for an append-only store, and records the time for LASTSAVE.
func syncAll(c *Ctx) bool {
	if err := c.Env.Store.Sync(); err != nil {
		c.Error("ERR " + err.Error())
		return false
	}
	if c.Env.Host != nil {
		c.Env.Host.Saved(time.Now())
	}
	return true
}

// SAVE
// https://redis.io/commands/save/
func cmdSave(c *Ctx) {
	if syncAll(c) {
		c.W.OK()
	}
}

// BGSAVE [SCHEDULE]
// https://redis.io/commands/bgsave/
//
// The fsync is quick, so it is done before the reply.
func cmdBgSave(c *Ctx) {
	if len(c.Args) > 2 || (len(c.Args) == 2 && !c.Is(1, "schedule")) {
		c.Error(ErrSyntax)
		return
	}
	if syncAll(c) {
		c.W.Simple("Background saving started")
	}
}

// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
// https://redis.io/commands/shutdown/
//
// The store is synced and closed whatever the options say: every write is
// already in the append-only files. Like Redis, a successful SHUTDOWN does
// not reply; the connection closes.
func cmdShutdown(c *Ctx) {
	save, noSave, abort, other := false, false, false, false
	for i := 1; i < len(c.Args); i++ {
		switch {
		case c.Is(i, "nosave"):
			noSave = true
		case c.Is(i, "save"):
			save = true
		case c.Is(i, "now"), c.Is(i, "force"):
			other = true
		case c.Is(i, "abort"):
			abort = true
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if (abort && (save || noSave || other)) || (save && noSave) {
		c.Error(ErrSyntax)
		return
	}
	if abort {
		c.Error("ERR No shutdown in progress.")
		return
	}
	if c.Env.Host == nil {
		c.Error("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	c.Env.Host.RequestShutdown()
	c.S.Closing = true
}

// CONFIG GET parameter [parameter ...]
// https://redis.io/commands/config-get/
func cmdConfigGet(c *Ctx) {
	// As Redis 7.0: a name without glob characters is echoed as given, and
	// a parameter is listed once however many arguments name it.
	seen := map[string]bool{}
	var pairs [][2]string
	for i := 2; i < len(c.Args); i++ {
		arg := string(c.Args[i])
		literal := !strings.ContainsAny(arg, "[*?")
		for _, kv := range c.Env.Host.ConfigGet(arg) {
			if literal {
				kv[0] = arg
			}
			if key := strings.ToLower(kv[0]); !seen[key] {
				seen[key] = true
				pairs = append(pairs, kv)
			}
		}
	}
	c.W.Map(len(pairs))
	for _, kv := range pairs {
		c.W.BulkString(kv[0])
		c.W.BulkString(kv[1])
	}
}

// CONFIG SET parameter value [parameter value ...]
// https://redis.io/commands/config-set/
func cmdConfigSet(c *Ctx) {
	if len(c.Args)%2 != 0 {
		c.Error(ErrSyntax)
		return
	}
	pairs := make([][2]string, 0, (len(c.Args)-2)/2)
	for i := 2; i+1 < len(c.Args); i += 2 {
		pairs = append(pairs, [2]string{string(c.Args[i]), string(c.Args[i+1])})
	}
	if err := c.Env.Host.ConfigSet(pairs); err != nil {
		c.Error(err.Error())
		return
	}
	c.W.OK()
}

// CONFIG RESETSTAT
// https://redis.io/commands/config-resetstat/
func cmdConfigResetStat(c *Ctx) {
	st := &c.Env.Stats
	st.Commands.Store(0)
	st.KeyspaceHits.Store(0)
	st.KeyspaceMiss.Store(0)
	st.ErrorReplies.Store(0)
	st.RejectedCalls.Store(0)
	c.Env.Store.Stats.ExpiredKeys.Store(0)
	c.Env.Host.ResetStats()
	c.W.OK()
}

// CONFIG REWRITE
// https://redis.io/commands/config-rewrite/
func cmdConfigRewrite(c *Ctx) {
	if err := c.Env.Host.ConfigRewrite(); err != nil {
		c.Error(err.Error())
		return
	}
	c.W.OK()
}

// CONFIG HELP
func cmdConfigHelp(c *Ctx) {
	replyHelp(c, []string{
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	})
}
