package commands

// Memory management and key introspection: MEMORY, OBJECT, TOUCH, and the
// maxmemory check dispatch makes before a command runs.
//
// The figures come from the engine's accounting (engine/memory.go): MEMORY
// USAGE reports the estimate of one key that eviction counts, used_memory
// the sum of those plus the rest of the live heap at the last collection.
// Access times and frequencies come from the access bits the engine keeps
// for each key (engine/access.go), read the way Redis reads its objects'
// LRU field.

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"

	"durastore/engine"
)

var memoryCommands = []*Command{
	{Name: "memory", Arity: -2, Flags: NoTx, Categories: []string{"slow"},
		Group: "server", Since: "4.0.0", Summary: "A container for memory diagnostics commands",
		Handler: dispatchSubcommand, Subcommands: []*Command{
			{Name: "memory|doctor", Arity: 2, Flags: NoTx, Categories: []string{"slow"},
				Group: "server", Since: "4.0.0", Summary: "Outputs memory problems report", Handler: cmdMemoryDoctor},
			{Name: "memory|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"slow"},
				Group: "server", Since: "4.0.0", Summary: "Show helpful text about the different subcommands", Handler: cmdMemoryHelp},
			{Name: "memory|malloc-stats", Arity: 2, Flags: NoTx, Categories: []string{"slow"},
				Group: "server", Since: "4.0.0", Summary: "Show allocator internal stats", Handler: cmdMemoryMallocStats},
			{Name: "memory|purge", Arity: 2, Flags: NoTx, Categories: []string{"slow"},
				Group: "server", Since: "4.0.0", Summary: "Ask the allocator to release memory", Handler: cmdMemoryPurge},
			{Name: "memory|stats", Arity: 2, Flags: NoTx, Categories: []string{"slow"},
				Group: "server", Since: "4.0.0", Summary: "Show memory usage details", Handler: cmdMemoryStats},
			{Name: "memory|usage", Arity: -3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1,
				Categories: []string{"read", "slow"}, Group: "server", Since: "4.0.0",
				Summary: "Estimate the memory usage of a key", Handler: cmdMemoryUsage},
		}},
	{Name: "object", Arity: -2, Flags: NoTx, Categories: []string{"slow"},
		Group: "generic", Since: "2.2.3", Summary: "A container for object introspection commands",
		Handler: dispatchSubcommand, Subcommands: []*Command{
			{Name: "object|encoding", Arity: 3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1,
				Categories: []string{"keyspace", "read", "slow"}, Group: "generic", Since: "2.2.3",
				Summary: "Inspect the internal encoding of a Redis object", Handler: cmdObjectEncoding},
			{Name: "object|freq", Arity: 3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1,
				Categories: []string{"keyspace", "read", "slow"}, Group: "generic", Since: "4.0.0",
				Summary: "Get the logarithmic access frequency counter of a Redis object", Handler: cmdObjectFreq},
			{Name: "object|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"keyspace", "slow"},
				Group: "generic", Since: "6.2.0", Summary: "Show helpful text about the different subcommands", Handler: cmdObjectHelp},
			{Name: "object|idletime", Arity: 3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1,
				Categories: []string{"keyspace", "read", "slow"}, Group: "generic", Since: "2.2.3",
				Summary: "Get the time since a Redis object was last accessed", Handler: cmdObjectIdleTime},
			{Name: "object|refcount", Arity: 3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1,
				Categories: []string{"keyspace", "read", "slow"}, Group: "generic", Since: "2.2.3",
				Summary: "Get the number of references to the value of the key", Handler: cmdObjectRefCount},
		}},
}

// Redis's replies of this family, to the byte.
const (
	errOOM       = "OOM command not allowed when used memory > 'maxmemory'."
	errNoLFU     = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	errLFUIdle   = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	sharedRefcnt = math.MaxInt32 // OBJ_SHARED_REFCOUNT
	sharedInts   = 10000         // OBJ_SHARED_INTEGERS
)

// ---------------------------------------------------------------------------
// The maxmemory check.

// refuseOOM is dispatch's memory check before a command, as the maxmemory
// part of Redis's processCommand: when maxmemory is set it evicts keys if
// used memory is over it (engine.Store.Evict, outside any transaction),
// and if nothing more can be evicted it refuses, with Redis's OOM error,
// the commands that may grow memory: those flagged denyoom, an EXEC whose
// queue holds one, and inside MULTI anything but EXEC, DISCARD, QUIT and
// RESET. Reads and deletes go on. It reports whether it refused.
func (e *Env) refuseOOM(s *Session, w *Writer, cmd *Command, args [][]byte) bool {
	st := e.Store
	if st.MaxMemory() == 0 || e.scripts.cur.Load() != nil {
		return false // no limit; or a script is busy, as Redis skips then
	}
	deny := cmd.Flags&DenyOOM != 0
	if m := s.Multi; m != nil {
		switch cmd.Name {
		case "exec":
			deny = queuedDenyOOM(e.Table, m.cmds)
		case "discard", "quit", "reset":
		default:
			deny = true
		}
	}
	if st.Evict() != engine.EvictFail || !deny {
		return false
	}
	e.Stats.RejectedCalls.Add(1)
	e.Stats.ErrorReplies.Add(1)
	w.Error(errOOM)
	return true
}

// queuedDenyOOM reports whether a MULTI queue holds a denyoom command.
func queuedDenyOOM(t *Table, queue [][][]byte) bool {
	for _, args := range queue {
		cmd := t.Lookup(args[0])
		if cmd == nil {
			continue
		}
		if len(cmd.Subcommands) > 0 && len(args) > 1 {
			if sub := cmd.Subcommand(args[1]); sub != nil {
				cmd = sub
			}
		}
		if cmd.Flags&DenyOOM != 0 {
			return true
		}
	}
	return false
}

// mayBatchDenyOOM reports whether a denyoom command may join a batch
// already formed: not while memory is over the limit, so that it gets its
// own check (and refusal) before it runs.
func (e *Env) mayBatchDenyOOM(cmd *Command) bool {
	return cmd.Flags&DenyOOM == 0 || !e.Store.OverMaxMemory()
}

// ---------------------------------------------------------------------------
// TOUCH

// TOUCH key [key ...]
// https://redis.io/commands/touch/
//
// Counts the named keys that exist and records an access to each, even
// for a client in CLIENT NO-TOUCH mode, as Redis 7.2 does.
func cmdTouch(c *Ctx) {
	c.Tx.SetNoTouch(false)
	cmdExists(c)
}

// ---------------------------------------------------------------------------
// OBJECT

// withTx runs fn in the command's transaction, or in a read-only one of
// its own: MEMORY and OBJECT are containers that dispatch runs without a
// transaction, while inside EXEC or a script they are given one.
func withTx(c *Ctx, fn func(tx *engine.Tx)) {
	if c.Tx != nil {
		fn(c.Tx)
		return
	}
	err := c.Env.Store.View(func(tx *engine.Tx) error {
		c.Tx = tx
		fn(tx)
		return nil
	})
	c.Tx = nil
	if err != nil {
		c.Error("ERR " + err.Error())
	}
}

// objectLookup finds the key of an OBJECT call without recording an
// access, as Redis's objectCommandLookup (which counts a keyspace hit or
// miss); it replies null when the key does not exist.
func objectLookup(c *Ctx, fn func(v engine.Value)) {
	withTx(c, func(tx *engine.Tx) {
		v, found, err := tx.Peek(c.S.DB, c.Str(2))
		if err == nil {
			countHit(c, found)
		}
		switch {
		case err != nil:
			c.Error("ERR " + err.Error())
		case !found:
			c.W.Null()
		default:
			fn(v)
		}
	})
}

// OBJECT ENCODING key
// https://redis.io/commands/object-encoding/
func cmdObjectEncoding(c *Ctx) {
	objectLookup(c, func(v engine.Value) { c.W.BulkString(valueEncoding(v)) })
}

// valueEncoding is the encoding Redis 7.0 would give a value. A string is
// "int" when it is an integer Redis's string2l accepts, "embstr" up to 44
// bytes, else "raw" (Redis's tryObjectEncoding on SET); strings grown by
// APPEND or SETRANGE, which Redis always makes raw, are judged by their
// content too.
func valueEncoding(v engine.Value) string {
	switch v.Type {
	case engine.TypeString:
		if _, ok := stringInt(v.Data); ok {
			return "int"
		}
		if len(v.Data) <= 44 {
			return "embstr"
		}
		return "raw"
	case engine.TypeHash:
		return HashEncoding(v.Data)
	case engine.TypeList:
		return "quicklist"
	case engine.TypeSet:
		return "hashtable"
	case engine.TypeZSet:
		return "skiplist"
	}
	return "unknown"
}

// stringInt parses a string value as Redis's tryObjectEncoding does.
func stringInt(s string) (int64, bool) {
	if len(s) > 20 {
		return 0, false
	}
	return ParseInt([]byte(s))
}

// OBJECT REFCOUNT key
// https://redis.io/commands/object-refcount/
//
// Values are never shared here, but Redis shares the integers 0 to 9999
// (unless an LRU or LFU maxmemory policy needs per-key access data) and
// reports them with its shared reference count; we answer the same.
func cmdObjectRefCount(c *Ctx) {
	objectLookup(c, func(v engine.Value) {
		if v.Type == engine.TypeString {
			n, ok := stringInt(v.Data)
			pol := c.Env.Store.Policy()
			shared := c.Env.Store.MaxMemory() == 0 || !(pol.LRU() || pol.LFU())
			if ok && n >= 0 && n < sharedInts && shared {
				c.W.Int(sharedRefcnt)
				return
			}
		}
		c.W.Int(1)
	})
}

// OBJECT IDLETIME key
// https://redis.io/commands/object-idletime/
func cmdObjectIdleTime(c *Ctx) {
	objectLookup(c, func(engine.Value) {
		if c.Env.Store.Policy().LFU() {
			c.Error(errLFUIdle)
			return
		}
		ms, _, err := c.Tx.KeyAccess(c.S.DB, c.Str(2))
		if err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		c.W.Int(ms / 1000)
	})
}

// OBJECT FREQ key
// https://redis.io/commands/object-freq/
func cmdObjectFreq(c *Ctx) {
	objectLookup(c, func(engine.Value) {
		if !c.Env.Store.Policy().LFU() {
			c.Error(errNoLFU)
			return
		}
		_, freq, err := c.Tx.KeyAccess(c.S.DB, c.Str(2))
		if err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		c.W.Int(int64(freq))
	})
}

// OBJECT HELP
// https://redis.io/commands/object-help/
func cmdObjectHelp(c *Ctx) {
	replyHelp(c, []string{
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
	})
}

// ---------------------------------------------------------------------------
// MEMORY

// MEMORY HELP
// https://redis.io/commands/memory-help/
func cmdMemoryHelp(c *Ctx) {
	replyHelp(c, []string{
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	})
}

// MEMORY USAGE key [SAMPLES count]
// https://redis.io/commands/memory-usage/
//
// The figure is the engine's estimate for the key, the one eviction and
// used_memory count: its key and stored value, its hash table slot, and
// its expiry index entry. Values are stored whole, so SAMPLES is
// checked and needs no sampling.
func cmdMemoryUsage(c *Ctx) {
	for j := 3; j < len(c.Args); j++ {
		if !c.Is(j, "samples") || j+1 >= len(c.Args) {
			c.Error(ErrSyntax)
			return
		}
		n, ok := c.Int(j + 1)
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		if n < 0 {
			c.Error(ErrSyntax)
			return
		}
		j++
	}
	withTx(c, func(tx *engine.Tx) {
		n, found, err := tx.MemoryUsage(c.S.DB, c.Str(2))
		switch {
		case err != nil:
			c.Error("ERR " + err.Error())
		case !found:
			c.W.Null()
		default:
			c.W.Int(n)
		}
	})
}

// runtimeMemory is what the Go runtime reports of its memory, for the
// allocator_* and rss figures of INFO and MEMORY STATS. runtime/metrics
// does not stop the world, unlike runtime.ReadMemStats.
type runtimeMemory struct {
	allocated uint64 // heap objects, live or not yet collected
	active    uint64 // heap spans in use
	resident  uint64 // everything the runtime holds from the system, less what it released
	rss       uint64 // the process's resident set size
}

func readRuntimeMemory() runtimeMemory {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	u := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return runtimeMemory{
		allocated: u(0),
		active:    u(0) + u(1),
		resident:  u(2) - min(u(3), u(2)),
		rss:       rssBytes(),
	}
}

// ratio32 is a ratio as Redis computes and prints it: a float.
func ratio32(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(float32(float64(a) / float64(b)))
}

// memoryOverview is Redis's getMemoryOverheadData over our figures.
type memoryOverview struct {
	st                    engine.MemoryStats
	rt                    runtimeMemory
	overheadTotal         int64
	dataset               int64
	keys                  int64
	datasetPerc, peakPerc float64
	bytesPerKey           int64
}

func overview(e *Env) memoryOverview {
	o := memoryOverview{st: e.Store.MemoryStats(), rt: readRuntimeMemory()}
	o.overheadTotal = o.st.Startup
	for _, ns := range o.st.Spaces {
		o.keys += ns.Keys
		o.overheadTotal += ns.Keys*engine.KeyOverhead(false) + ns.Volatile*(engine.KeyOverhead(true)-engine.KeyOverhead(false))
	}
	o.dataset = max(o.st.Used-o.overheadTotal, 0)
	net := max(o.st.Used-o.st.Startup, 1)
	o.datasetPerc = float64(float32(float64(o.dataset) * 100 / float64(net)))
	o.peakPerc = float64(float32(float64(o.st.Used) * 100 / float64(max(o.st.Peak, 1))))
	if o.keys > 0 {
		o.bytesPerKey = net / o.keys
	}
	return o
}

// MEMORY STATS
// https://redis.io/commands/memory-stats/
//
// Redis 7.0's fields in its order. The keyspace overhead of a namespace
// is its keys' estimated cost beyond their key and value bytes; a named
// namespace appears as db.<name>.
func cmdMemoryStats(c *Ctx) {
	o := overview(c.Env)
	rt := o.rt
	used := uint64(max(o.st.Used, 1))
	w := c.W
	w.Map(27 + len(o.st.Spaces))
	num := func(k string, v int64) { w.BulkString(k); w.Int(v) }
	dbl := func(k string, v float64) { w.BulkString(k); w.Double(v) }
	num("peak.allocated", o.st.Peak)
	num("total.allocated", o.st.Used)
	num("startup.allocated", o.st.Startup)
	for _, k := range []string{"replication.backlog", "clients.slaves", "clients.normal", "cluster.links", "aof.buffer", "lua.caches", "functions.caches"} {
		num(k, 0)
	}
	for _, ns := range o.st.Spaces {
		w.BulkString("db." + ns.Name)
		w.Map(3)
		num("overhead.hashtable.main", ns.Keys*engine.KeyOverhead(false))
		num("overhead.hashtable.expires", ns.Volatile*(engine.KeyOverhead(true)-engine.KeyOverhead(false)))
		num("overhead.hashtable.slot-to-keys", 0)
	}
	num("overhead.total", o.overheadTotal)
	num("keys.count", o.keys)
	num("keys.bytes-per-key", o.bytesPerKey)
	num("dataset.bytes", o.dataset)
	dbl("dataset.percentage", o.datasetPerc)
	dbl("peak.percentage", o.peakPerc)
	num("allocator.allocated", int64(rt.allocated))
	num("allocator.active", int64(rt.active))
	num("allocator.resident", int64(rt.resident))
	dbl("allocator-fragmentation.ratio", ratio32(rt.active, rt.allocated))
	num("allocator-fragmentation.bytes", int64(rt.active)-int64(rt.allocated))
	dbl("allocator-rss.ratio", ratio32(rt.resident, rt.active))
	num("allocator-rss.bytes", int64(rt.resident)-int64(rt.active))
	dbl("rss-overhead.ratio", ratio32(rt.rss, rt.resident))
	num("rss-overhead.bytes", int64(rt.rss)-int64(rt.resident))
	dbl("fragmentation", ratio32(rt.rss, used))
	num("fragmentation.bytes", int64(rt.rss)-int64(used))
}

// MEMORY DOCTOR
// https://redis.io/commands/memory-doctor/
//
// A short version of Redis's report: the empty-instance answer under 5 MB,
// else the peak and fragmentation checks, and whether maxmemory leaves
// room, which is what matters for a cache.
func cmdMemoryDoctor(c *Ctx) {
	o := overview(c.Env)
	used, peak, rss := o.st.Used, o.st.Peak, int64(o.rt.rss)
	if used < 5<<20 {
		c.W.Verbatim("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
		return
	}
	var issues []string
	if float64(peak)/float64(used) > 1.5 {
		issues = append(issues, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
	}
	if float64(rss)/float64(used) > 1.4 && rss-used > 10<<20 {
		issues = append(issues, fmt.Sprintf(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the process is much larger than the sum of the logical allocations it performed). This is usually due to a large peak memory (check if there is a peak memory entry above in the report), or to garbage the Go collector has not reclaimed yet: it runs when the heap has grown by GOGC percent, and near maxmemory the soft memory limit (%s) makes it run sooner. MEMORY PURGE collects now and returns free memory to the system. Note: The currently used allocator is \"go-%s\".\n\n",
			bytesToHuman(uint64(engine.GoMemoryLimit(c.Env.Store.MaxMemory()))), runtime.Version()))
	}
	if max := c.Env.Store.MaxMemory(); max > 0 && used > max && c.Env.Store.Policy() == engine.NoEviction {
		issues = append(issues, " * Maxmemory reached: used memory is above maxmemory and the policy is noeviction, so commands that may grow memory are refused with OOM errors. Raise maxmemory, delete keys, or choose an eviction policy (CONFIG SET maxmemory-policy allkeys-lru for a cache).\n\n")
	}
	if len(issues) == 0 {
		c.W.Verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n")
		return
	}
	c.W.Verbatim("Sam, I detected a few issues in this Redis instance memory implants:\n\n" + strings.Join(issues, "") + "I'm here to keep you safe, Sam. I want to help you.\n")
}

// MEMORY MALLOC-STATS
// https://redis.io/commands/memory-malloc-stats/
//
// Redis prints jemalloc's statistics; we print the Go runtime's memory
// classes and collector counters.
func cmdMemoryMallocStats(c *Ctx) {
	var b strings.Builder
	b.WriteString("___ Begin Go runtime memory statistics ___\n")
	fmt.Fprintf(&b, "Version: %q\n", runtime.Version())
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") || strings.HasPrefix(d.Name, "/gc/heap/") ||
			d.Name == "/gc/cycles/total:gc-cycles" || d.Name == "/gc/gomemlimit:bytes" || d.Name == "/gc/gogc:percent" {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			fmt.Fprintf(&b, "%s: %d\n", s.Name, s.Value.Uint64())
		}
	}
	b.WriteString("--- End Go runtime memory statistics ---\n")
	c.W.Verbatim(b.String())
}

// MEMORY PURGE
// https://redis.io/commands/memory-purge/
//
// Collects garbage and returns free memory to the system.
func cmdMemoryPurge(c *Ctx) {
	debug.FreeOSMemory()
	c.W.OK()
}

// memoryInfo writes INFO's memory section from the engine's figures.
func memoryInfo(c *Ctx, b *strings.Builder) {
	o := overview(c.Env)
	rt := o.rt
	used, peak := uint64(o.st.Used), uint64(o.st.Peak)
	sys := systemMemory()
	maxmem := uint64(c.Env.Store.MaxMemory())
	u := func(field string, v uint64) { infoLine(b, field, strconv.FormatUint(v, 10)) }
	i := func(field string, v int64) { infoLine(b, field, strconv.FormatInt(v, 10)) }
	f := func(field string, v float64) { infoLine(b, field, strconv.FormatFloat(v, 'f', 2, 64)) }
	u("used_memory", used)
	infoLine(b, "used_memory_human", bytesToHuman(used))
	u("used_memory_rss", rt.rss)
	infoLine(b, "used_memory_rss_human", bytesToHuman(rt.rss))
	u("used_memory_peak", peak)
	infoLine(b, "used_memory_peak_human", bytesToHuman(peak))
	infoLine(b, "used_memory_peak_perc", strconv.FormatFloat(o.peakPerc, 'f', 2, 64)+"%")
	i("used_memory_overhead", o.overheadTotal)
	i("used_memory_startup", o.st.Startup)
	i("used_memory_dataset", o.dataset)
	infoLine(b, "used_memory_dataset_perc", strconv.FormatFloat(o.datasetPerc, 'f', 2, 64)+"%")
	u("allocator_allocated", rt.allocated)
	u("allocator_active", rt.active)
	u("allocator_resident", rt.resident)
	u("total_system_memory", sys)
	infoLine(b, "total_system_memory_human", bytesToHuman(sys))
	for _, z := range []string{"used_memory_lua", "used_memory_vm_eval"} {
		infoLine(b, z, "0")
	}
	infoLine(b, "used_memory_lua_human", "0B")
	for _, z := range []string{"used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions",
		"number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total"} {
		infoLine(b, z, "0")
	}
	infoLine(b, "used_memory_vm_total_human", "0B")
	infoLine(b, "used_memory_functions", "0")
	infoLine(b, "used_memory_scripts", "0")
	infoLine(b, "used_memory_scripts_human", "0B")
	u("maxmemory", maxmem)
	infoLine(b, "maxmemory_human", bytesToHuman(maxmem))
	infoLine(b, "maxmemory_policy", c.Env.Store.Policy().String())
	f("allocator_frag_ratio", ratio32(rt.active, rt.allocated))
	i("allocator_frag_bytes", int64(rt.active)-int64(rt.allocated))
	f("allocator_rss_ratio", ratio32(rt.resident, rt.active))
	i("allocator_rss_bytes", int64(rt.resident)-int64(rt.active))
	f("rss_overhead_ratio", ratio32(rt.rss, rt.resident))
	i("rss_overhead_bytes", int64(rt.rss)-int64(rt.resident))
	f("mem_fragmentation_ratio", ratio32(rt.rss, max(used, 1)))
	i("mem_fragmentation_bytes", int64(rt.rss)-int64(used))
	for _, z := range []string{"mem_not_counted_for_evict", "mem_replication_backlog", "mem_total_replication_buffers",
		"mem_clients_slaves", "mem_clients_normal", "mem_cluster_links", "mem_aof_buffer"} {
		infoLine(b, z, "0")
	}
	infoLine(b, "mem_allocator", "go-"+runtime.Version())
	infoLine(b, "active_defrag_running", "0")
	infoLine(b, "lazyfree_pending_objects", "0")
	infoLine(b, "lazyfreed_objects", "0")
	// durastore's own: the Go runtime's soft memory limit set from
	// maxmemory, the bound the resident size is kept under.
	if maxmem > 0 {
		i("go_memory_limit", engine.GoMemoryLimit(int64(maxmem)))
	}
}
