package commands

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
}, slices.Concat(commandCommands, pubsubCommands, clusterCommands, diagnosticCommands)...)

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
	c.Env.ResetStats()
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

// ---------------------------------------------------------------------------
// Cluster commands: durastore is a standalone server, so they answer as
// Redis 7.0 does with cluster-enabled no.

const errClusterDisabled = "ERR This instance has cluster support disabled"

var clusterCommands = []*Command{
	{Name: "cluster", Arity: -2, Flags: NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "3.0.0", Summary: "A container for cluster commands", Handler: dispatchSubcommand,
		Subcommands: clusterSubcommands},
	{Name: "readonly", Arity: 1, Flags: Loading | Stale | Fast | NoTx, Categories: []string{"fast", "connection"},
		Group: "cluster", Since: "3.0.0", Summary: "Enables read queries for a connection to a cluster replica node", Handler: cmdClusterDisabled},
	{Name: "readwrite", Arity: 1, Flags: Loading | Stale | Fast | NoTx, Categories: []string{"fast", "connection"},
		Group: "cluster", Since: "3.0.0", Summary: "Disables read queries for a connection to a cluster replica node", Handler: cmdClusterDisabled},
	{Name: "asking", Arity: 1, Flags: Fast | NoTx, Categories: []string{"fast", "connection"},
		Group: "cluster", Since: "3.0.0", Summary: "Sent by cluster clients after an -ASK redirect", Handler: cmdClusterDisabled},
}

var clusterSubcommands = []*Command{
	{Name: "cluster|addslots", Arity: -3, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Assign new hash slots to receiving node", Handler: cmdClusterDisabled},
	{Name: "cluster|addslotsrange", Arity: -4, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "7.0.0", Summary: "Assign new hash slots to receiving node", Handler: cmdClusterDisabled},
	{Name: "cluster|bumpepoch", Arity: 2, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Advance the cluster config epoch", Handler: cmdClusterDisabled},
	{Name: "cluster|count-failure-reports", Arity: 3, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Return the number of failure reports active for a given node", Handler: cmdClusterDisabled},
	{Name: "cluster|countkeysinslot", Arity: 3, Flags: Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "3.0.0", Summary: "Return the number of local keys in the specified hash slot", Handler: cmdClusterDisabled},
	{Name: "cluster|delslots", Arity: -3, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Set hash slots as unbound in receiving node", Handler: cmdClusterDisabled},
	{Name: "cluster|delslotsrange", Arity: -4, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "7.0.0", Summary: "Set hash slots as unbound in receiving node", Handler: cmdClusterDisabled},
	{Name: "cluster|failover", Arity: -2, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Forces a replica to perform a manual failover of its master.", Handler: cmdClusterDisabled},
	{Name: "cluster|flushslots", Arity: 2, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Delete a node's own slots information", Handler: cmdClusterDisabled},
	{Name: "cluster|forget", Arity: 3, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Remove a node from the nodes table", Handler: cmdClusterDisabled},
	{Name: "cluster|getkeysinslot", Arity: 4, Flags: Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "3.0.0", Summary: "Return local key names in the specified hash slot", Handler: cmdClusterDisabled},
	{Name: "cluster|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "5.0.0", Summary: "Show helpful text about the different subcommands", Handler: cmdClusterDisabled},
	{Name: "cluster|info", Arity: 2, Flags: Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "3.0.0", Summary: "Provides info about Redis Cluster node state", Handler: cmdClusterDisabled},
	{Name: "cluster|keyslot", Arity: 3, Flags: Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "3.0.0", Summary: "Returns the hash slot of the specified key", Handler: cmdClusterDisabled},
	{Name: "cluster|links", Arity: 2, Flags: Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "7.0.0", Summary: "Returns a list of all TCP links to and from peer nodes in cluster", Handler: cmdClusterDisabled},
	{Name: "cluster|meet", Arity: -4, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Force a node cluster to handshake with another node", Handler: cmdClusterDisabled},
	{Name: "cluster|myid", Arity: 2, Flags: Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "3.0.0", Summary: "Return the node id", Handler: cmdClusterDisabled},
	{Name: "cluster|nodes", Arity: 2, Flags: Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "3.0.0", Summary: "Get Cluster config for the node", Handler: cmdClusterDisabled},
	{Name: "cluster|replicas", Arity: 3, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "5.0.0", Summary: "List replica nodes of the specified master node", Handler: cmdClusterDisabled},
	{Name: "cluster|replicate", Arity: 3, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Reconfigure a node as a replica of the specified master node", Handler: cmdClusterDisabled},
	{Name: "cluster|reset", Arity: -2, Flags: Admin | NoScript | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Reset a Redis Cluster node", Handler: cmdClusterDisabled},
	{Name: "cluster|saveconfig", Arity: 2, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Forces the node to save cluster state on disk", Handler: cmdClusterDisabled},
	{Name: "cluster|set-config-epoch", Arity: 3, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Set the configuration epoch in a new node", Handler: cmdClusterDisabled},
	{Name: "cluster|setslot", Arity: -4, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "Bind a hash slot to a specific node", Handler: cmdClusterDisabled},
	{Name: "cluster|shards", Arity: 2, Flags: Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "7.0.0", Summary: "Get array of cluster slots to node mappings", Handler: cmdClusterDisabled},
	{Name: "cluster|slaves", Arity: 3, Flags: Admin | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "cluster", Since: "3.0.0", Summary: "List replica nodes of the specified master node", Handler: cmdClusterDisabled},
	{Name: "cluster|slots", Arity: 2, Flags: Stale | NoTx, Categories: []string{"slow"},
		Group: "cluster", Since: "3.0.0", Summary: "Get array of Cluster slot to node mappings", Handler: cmdClusterDisabled},
}

// cmdClusterDisabled answers every CLUSTER subcommand, READONLY, READWRITE
// and ASKING.
func cmdClusterDisabled(c *Ctx) { c.Error(errClusterDisabled) }

// ---------------------------------------------------------------------------
// WAIT, SLOWLOG and LATENCY

var diagnosticCommands = []*Command{
	{Name: "monitor", Arity: 1, Flags: Admin | NoScript | Loading | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
		Group: "server", Since: "1.0.0", Summary: "Listen for all requests received by the server in real time", Handler: cmdMonitor},
	{Name: "wait", Arity: 3, Flags: NoScript | NoTx, Categories: []string{"slow", "connection"},
		Group: "generic", Since: "3.0.0", Summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection", Handler: cmdWait},
	{Name: "slowlog", Arity: -2, Flags: NoTx, Categories: []string{"slow"},
		Group: "server", Since: "2.2.12", Summary: "A container for slow log commands", Handler: dispatchSubcommand,
		Subcommands: []*Command{
			{Name: "slowlog|get", Arity: -2, Flags: Admin | Loading | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
				Group: "server", Since: "2.2.12", Summary: "Get the slow log's entries", Handler: cmdSlowlogGet},
			{Name: "slowlog|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"slow"},
				Group: "server", Since: "6.2.0", Summary: "Show helpful text about the different subcommands", Handler: cmdSlowlogHelp},
			{Name: "slowlog|len", Arity: 2, Flags: Admin | Loading | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
				Group: "server", Since: "2.2.12", Summary: "Get the slow log's length", Handler: cmdSlowlogLen},
			{Name: "slowlog|reset", Arity: 2, Flags: Admin | Loading | Stale | NoTx, Categories: []string{"admin", "slow", "dangerous"},
				Group: "server", Since: "2.2.12", Summary: "Clear all entries from the slow log", Handler: cmdSlowlogReset},
		}},
	{Name: "latency", Arity: -2, Flags: NoTx, Categories: []string{"slow"},
		Group: "server", Since: "2.8.13", Summary: "A container for latency diagnostics commands", Handler: dispatchSubcommand,
		Subcommands: []*Command{
			{Name: "latency|doctor", Arity: 2, Flags: latencyFlags, Categories: latencyCats,
				Group: "server", Since: "2.8.13", Summary: "Return a human readable latency analysis report.", Handler: cmdLatencyDoctor},
			{Name: "latency|graph", Arity: 3, Flags: latencyFlags, Categories: latencyCats,
				Group: "server", Since: "2.8.13", Summary: "Return a latency graph for the event.", Handler: cmdLatencyGraph},
			{Name: "latency|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"slow"},
				Group: "server", Since: "2.8.13", Summary: "Show helpful text about the different subcommands.", Handler: cmdLatencyHelp},
			{Name: "latency|histogram", Arity: -2, Flags: latencyFlags, Categories: latencyCats,
				Group: "server", Since: "7.0.0", Summary: "Return the cumulative distribution of latencies of a subset of commands or all.", Handler: cmdLatencyHistogram},
			{Name: "latency|history", Arity: 3, Flags: latencyFlags, Categories: latencyCats,
				Group: "server", Since: "2.8.13", Summary: "Return timestamp-latency samples for the event.", Handler: cmdLatencyHistory},
			{Name: "latency|latest", Arity: 2, Flags: latencyFlags, Categories: latencyCats,
				Group: "server", Since: "2.8.13", Summary: "Return the latest latency samples for all events.", Handler: cmdLatencyLatest},
			{Name: "latency|reset", Arity: -2, Flags: latencyFlags, Categories: latencyCats,
				Group: "server", Since: "2.8.13", Summary: "Reset latency data for one or more events.", Handler: cmdLatencyReset},
		}},
}

const latencyFlags = Admin | NoScript | Loading | Stale | NoTx

var latencyCats = []string{"admin", "slow", "dangerous"}

// WAIT numreplicas timeout
// https://redis.io/commands/wait/
//
// There are no replicas: every write is acknowledged by none of them, so
// the answer is 0, given at once (Redis would wait for the timeout).
func cmdWait(c *Ctx) {
	if _, ok := c.Int(1); !ok {
		c.Error(ErrNotInt)
		return
	}
	ms, ok := c.Int(2)
	if !ok {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.Error("ERR timeout is negative")
		return
	}
	c.W.Int(0)
}

// The slow log, as Redis's slowlog.c: commands that took at least
// slowlog-log-slower-than microseconds (10000 unless configured; negative
// disables it), the newest slowlog-max-len (128) of them.
const (
	slowlogMaxArgc   = 32
	slowlogMaxString = 128
)

type slowEntry struct {
	id, time, usec int64
	args           []string
	addr, name     string
}

type slowLog struct {
	threshold atomic.Int64 // microseconds
	maxLen    atomic.Int64
	refresh   atomic.Int64 // Unix nanoseconds of the next read of the configuration

	mu      sync.Mutex
	entries []slowEntry // oldest first
	nextID  int64
}

// note logs the command that just ran if it was slow enough.
func (l *slowLog) note(c *Ctx, start time.Time, d time.Duration) {
	if now := start.UnixNano(); now >= l.refresh.Load() {
		l.refresh.Store(now + int64(time.Second))
		l.threshold.Store(configIntOr(c, "slowlog-log-slower-than", 10000))
		l.maxLen.Store(configIntOr(c, "slowlog-max-len", 128))
	}
	th := l.threshold.Load()
	if th < 0 || d.Microseconds() < th || c.Cmd.Flags&SkipSlowlog != 0 {
		return
	}
	n := min(len(c.Args), slowlogMaxArgc)
	args := make([]string, n)
	for i := range n {
		a := c.Args[i]
		switch {
		case i == slowlogMaxArgc-1 && len(c.Args) > slowlogMaxArgc:
			args[i] = "... (" + strconv.Itoa(len(c.Args)-slowlogMaxArgc+1) + " more arguments)"
		case len(a) > slowlogMaxString:
			args[i] = string(a[:slowlogMaxString]) + "... (" + strconv.Itoa(len(a)-slowlogMaxString) + " more bytes)"
		default:
			args[i] = string(a)
		}
	}
	e := slowEntry{time: start.Unix(), usec: d.Microseconds(), args: args, addr: c.S.Addr, name: c.S.Name()}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	if max := l.maxLen.Load(); int64(len(l.entries)) > max {
		l.entries = slices.Delete(l.entries, 0, len(l.entries)-int(max))
	}
}

// configIntOr reads an integer parameter, or def when the server has no
// such parameter.
func configIntOr(c *Ctx, name string, def int64) int64 {
	v := configValue(c, name)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	return def
}

// SLOWLOG GET [count]
func cmdSlowlogGet(c *Ctx) {
	count := int64(10)
	if len(c.Args) > 3 {
		c.Error(sanitize("ERR unknown subcommand or wrong number of arguments for '" + truncate128(c.Args[1]) + "'. Try SLOWLOG HELP."))
		return
	}
	if len(c.Args) == 3 {
		n, ok := c.Int(2)
		if !ok || n < -1 {
			c.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	l := &c.Env.ext.slowlog
	l.mu.Lock()
	entries := slices.Clone(l.entries)
	l.mu.Unlock()
	slices.Reverse(entries)
	if count >= 0 && int64(len(entries)) > count {
		entries = entries[:count]
	}
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Array(6)
		c.W.Int(e.id)
		c.W.Int(e.time)
		c.W.Int(e.usec)
		c.W.StringArray(e.args)
		c.W.BulkString(e.addr)
		c.W.BulkString(e.name)
	}
}

// SLOWLOG LEN
func cmdSlowlogLen(c *Ctx) {
	l := &c.Env.ext.slowlog
	l.mu.Lock()
	n := len(l.entries)
	l.mu.Unlock()
	c.W.Int(int64(n))
}

// SLOWLOG RESET
func cmdSlowlogReset(c *Ctx) {
	l := &c.Env.ext.slowlog
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
	c.W.OK()
}

// SLOWLOG HELP
func cmdSlowlogHelp(c *Ctx) {
	replyHelp(c, []string{
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	})
}

// LATENCY: latency monitoring (latency-monitor-threshold) is not
// implemented, so there are no latency events, as on a Redis where it is
// disabled; HISTOGRAM reports the per-command latencies dispatch measures.

// LATENCY DOCTOR
func cmdLatencyDoctor(c *Ctx) {
	c.W.Verbatim("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. " +
		"You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. " +
		"If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
}

// LATENCY LATEST
func cmdLatencyLatest(c *Ctx) { c.W.Array(0) }

// LATENCY HISTORY event
func cmdLatencyHistory(c *Ctx) { c.W.Array(0) }

// LATENCY RESET [event ...]
func cmdLatencyReset(c *Ctx) { c.W.Int(0) }

// LATENCY GRAPH event
func cmdLatencyGraph(c *Ctx) {
	c.Error(sanitize("ERR No samples available for event '" + string(c.Args[2]) + "'"))
}

// LATENCY HISTOGRAM [command ...]: for each command called, its calls and
// the cumulative count of calls per power-of-two bucket of microseconds.
func cmdLatencyHistogram(c *Ctx) {
	cs := &c.Env.ext.stats
	cs.stat(c.Env.Table, nil)
	var cmds []*Command
	add := func(cmd *Command) {
		if st := cs.byCmd[cmd]; st != nil && st.calls.Load() > 0 && !slices.Contains(cmds, cmd) {
			cmds = append(cmds, cmd)
		}
	}
	all := func(cmd *Command) {
		add(cmd)
		for _, sub := range cmd.Subcommands {
			add(sub)
		}
	}
	if len(c.Args) == 2 {
		for _, cmd := range c.Env.Table.All() {
			all(cmd)
		}
	} else {
		for j := 2; j < len(c.Args); j++ {
			if cmd := c.Env.Table.lookupFullName(strings.ToLower(c.Str(j))); cmd != nil {
				if strings.Contains(cmd.Name, "|") {
					add(cmd)
				} else {
					all(cmd)
				}
			}
		}
	}
	c.W.Map(len(cmds))
	for _, cmd := range cmds {
		st := cs.byCmd[cmd]
		c.W.BulkString(cmd.Name)
		c.W.Map(2)
		c.W.BulkString("calls")
		c.W.Int(st.calls.Load())
		c.W.BulkString("histogram_usec")
		type bucket struct{ le, n int64 }
		var buckets []bucket
		var cum int64
		for i := range st.hist {
			if n := st.hist[i].Load(); n > 0 {
				cum += n
				buckets = append(buckets, bucket{int64(1) << i, cum})
			}
		}
		c.W.Map(len(buckets))
		for _, b := range buckets {
			c.W.Int(b.le)
			c.W.Int(b.n)
		}
	}
}

// LATENCY HELP
func cmdLatencyHelp(c *Ctx) {
	replyHelp(c, []string{
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	})
}

// ---------------------------------------------------------------------------
// MONITOR

// monitorList is the connections in MONITOR mode. n is dispatch's fast
// path: with no monitor attached a command costs one atomic load.
type monitorList struct {
	n        atomic.Int32
	mu       sync.Mutex
	sessions []*Session
}

// MONITOR
// https://redis.io/commands/monitor/
//
// Every later command of every client, once run, is sent to this
// connection as Redis's "+<time> [<db> <addr>] "arg" ..." line, except
// admin commands and those flagged skip_monitor.
func cmdMonitor(c *Ctx) {
	if c.S.ext.depth > 1 {
		c.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	l := &c.Env.ext.monitors
	l.mu.Lock()
	if !slices.Contains(l.sessions, c.S) {
		l.sessions = append(l.sessions, c.S)
		l.n.Add(1)
		c.S.ext.monitor.Store(true)
	}
	l.mu.Unlock()
	c.W.OK()
}

// stopMonitor takes s out of MONITOR mode (RESET, a closed connection).
func (e *Env) stopMonitor(s *Session) {
	if !s.ext.monitor.Load() {
		return
	}
	l := &e.ext.monitors
	l.mu.Lock()
	if i := slices.Index(l.sessions, s); i >= 0 {
		l.sessions = slices.Delete(l.sessions, i, i+1)
		l.n.Add(-1)
	}
	l.mu.Unlock()
	s.ext.monitor.Store(false)
}

// feedMonitors sends the command that just ran to the monitors.
func (e *Env) feedMonitors(c *Ctx) {
	now := time.Now()
	b := make([]byte, 0, 64)
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := strconv.Itoa(now.Nanosecond() / 1000)
	b = append(b, "000000"[len(us):]...)
	b = append(b, us...)
	b = append(b, " ["...)
	if c.S.DBIndex >= 0 {
		b = strconv.AppendInt(b, int64(c.S.DBIndex), 10)
	} else {
		b = append(b, c.S.DB...)
	}
	b = append(b, ' ')
	b = append(b, c.S.Addr...)
	b = append(b, ']')
	redactFrom, redactTo := len(c.Args), 0
	switch c.Cmd.Name {
	case "auth":
		redactFrom, redactTo = 1, len(c.Args)
	case "hello":
		for i := 2; i+2 < len(c.Args); i++ {
			if c.Is(i, "auth") {
				redactFrom, redactTo = i+1, i+3
				break
			}
		}
	}
	for i, a := range c.Args {
		b = append(b, ' ')
		if i >= redactFrom && i < redactTo {
			b = append(b, `"(redacted)"`...)
			continue
		}
		b = appendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	l := &e.ext.monitors
	l.mu.Lock()
	targets := slices.Clone(l.sessions)
	l.mu.Unlock()
	for _, s := range targets {
		s.ext.push(b)
	}
}

// appendRepr quotes b as Redis's sdscatrepr.
func appendRepr(b, s []byte) []byte {
	b = append(b, '"')
	for _, ch := range s {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', "0123456789abcdef"[ch>>4], "0123456789abcdef"[ch&15])
			}
		}
	}
	return append(b, '"')
}
