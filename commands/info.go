package commands

import (
	"math/bits"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// INFO [section [section ...]]
// https://redis.io/commands/info/
//
// The text is Redis 7.0's: "# Section\r\n" headers, "field:value\r\n"
// lines, sections separated by an empty line. Fields Redis has and we do
// not track are reported as Redis reports them when idle (0, ok, -1), so
// tools that parse INFO find every field they expect.
func cmdInfo(c *Ctx) {
	want, all := infoSelection(c.Args[1:])
	var b strings.Builder
	n := 0
	for _, sec := range infoSections {
		if !all && !want[sec.name] && !(sec.alias != "" && want[sec.alias]) {
			continue
		}
		if n > 0 {
			b.WriteString("\r\n")
		}
		n++
		b.WriteString("# ")
		b.WriteString(sec.title)
		b.WriteString("\r\n")
		sec.fn(c, &b)
		if c.Env.Host != nil {
			if extra, ok := c.Env.Host.InfoSection(sec.name); ok {
				b.WriteString(extra)
			}
		}
	}
	c.W.Verbatim(b.String())
}

// infoSection is one INFO section, in Redis's order.
type infoSection struct {
	name, alias, title string
	byDefault          bool
	fn                 func(c *Ctx, b *strings.Builder)
}

var infoSections = []infoSection{
	{name: "server", title: "Server", byDefault: true, fn: infoServer},
	{name: "clients", title: "Clients", byDefault: true, fn: infoClients},
	{name: "memory", title: "Memory", byDefault: true, fn: infoMemory},
	{name: "persistence", title: "Persistence", byDefault: true, fn: infoPersistence},
	{name: "stats", title: "Stats", byDefault: true, fn: infoStats},
	{name: "replication", title: "Replication", byDefault: true, fn: infoReplication},
	{name: "cpu", title: "CPU", byDefault: true, fn: infoCPU},
	{name: "modules", alias: "module_list", title: "Modules", byDefault: true, fn: func(*Ctx, *strings.Builder) {}},
	{name: "commandstats", title: "Commandstats", fn: infoCommandStats},
	{name: "errorstats", title: "Errorstats", byDefault: true, fn: infoErrorStats},
	{name: "latencystats", title: "Latencystats", fn: func(*Ctx, *strings.Builder) {}},
	{name: "cluster", title: "Cluster", byDefault: true, fn: func(_ *Ctx, b *strings.Builder) {
		b.WriteString("cluster_enabled:0\r\n")
	}},
	{name: "keyspace", title: "Keyspace", byDefault: true, fn: infoKeyspace},
}

// infoSelection reads INFO's arguments as Redis 7.0's genInfoSectionDict:
// none or "default" mean the default sections, "all" and "everything" every
// section, anything else a section name in any case; unknown names add
// nothing.
func infoSelection(args [][]byte) (map[string]bool, bool) {
	want := map[string]bool{}
	addDefaults := func() {
		for _, s := range infoSections {
			if s.byDefault {
				want[s.name] = true
			}
		}
	}
	if len(args) == 0 {
		addDefaults()
		return want, false
	}
	all := false
	for _, a := range args {
		switch name := strings.ToLower(string(a)); name {
		case "default":
			addDefaults()
		case "all", "everything":
			all = true
		default:
			want[name] = true
		}
	}
	return want, all
}

// infoLine writes "field:value\r\n".
func infoLine(b *strings.Builder, field, value string) {
	b.WriteString(field)
	b.WriteByte(':')
	b.WriteString(value)
	b.WriteString("\r\n")
}

func infoInt(b *strings.Builder, field string, v int64) { infoLine(b, field, strconv.FormatInt(v, 10)) }

func configValue(c *Ctx, name string) string {
	if c.Env.Host == nil {
		return ""
	}
	return c.Env.Host.ConfigValue(name)
}

func configInt(c *Ctx, name string) int64 {
	n, _ := strconv.ParseInt(configValue(c, name), 10, 64)
	return n
}

func infoServer(c *Ctx, b *strings.Builder) {
	si := hostInfo(c.Env)
	now := time.Now()
	uptime := int64(now.Sub(si.Started) / time.Second)
	infoLine(b, "redis_version", si.RedisVersion)
	infoLine(b, "redis_git_sha1", "00000000")
	infoLine(b, "redis_git_dirty", "0")
	infoLine(b, "redis_build_id", "0")
	infoLine(b, "redis_mode", "standalone")
	infoLine(b, "os", osName())
	infoInt(b, "arch_bits", strconv.IntSize)
	infoLine(b, "monotonic_clock", "POSIX clock_gettime")
	infoLine(b, "multiplexing_api", multiplexingAPI())
	infoLine(b, "atomicvar_api", "c11-builtin")
	infoLine(b, "gcc_version", "0.0.0")
	infoInt(b, "process_id", int64(os.Getpid()))
	infoLine(b, "process_supervised", "no")
	infoLine(b, "run_id", si.RunID)
	infoInt(b, "tcp_port", int64(si.Port))
	infoInt(b, "server_time_usec", now.UnixMicro())
	infoInt(b, "uptime_in_seconds", uptime)
	infoInt(b, "uptime_in_days", uptime/86400)
	infoLine(b, "hz", configValue(c, "hz"))
	infoLine(b, "configured_hz", configValue(c, "hz"))
	infoInt(b, "lru_clock", now.Unix()&(1<<24-1))
	infoLine(b, "executable", si.Executable)
	infoLine(b, "config_file", si.ConfigFile)
	infoLine(b, "io_threads_active", "0")
	infoLine(b, "durastore_version", si.Version)
}

// osName is what uname reports, as Redis's "os" field: "Linux 6.1.0 x86_64".
func osName() string {
	sys, rel := runtime.GOOS, ""
	if b, err := os.ReadFile("/proc/sys/kernel/ostype"); err == nil {
		sys = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		rel = strings.TrimSpace(string(b))
	}
	machine := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686"}[runtime.GOARCH]
	if machine == "" {
		machine = runtime.GOARCH
	}
	return strings.Join(strings.Fields(sys+" "+rel+" "+machine), " ")
}

// multiplexingAPI names the poller Go's network runtime uses.
func multiplexingAPI() string {
	switch runtime.GOOS {
	case "linux":
		return "epoll"
	case "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
		return "kqueue"
	case "windows":
		return "iocp"
	}
	return "poll"
}

func infoClients(c *Ctx, b *strings.Builder) {
	n := 0
	if c.Env.Host != nil {
		n = c.Env.Host.ConnectedClients()
	}
	infoInt(b, "connected_clients", int64(n))
	infoLine(b, "cluster_connections", "0")
	infoLine(b, "maxclients", configValue(c, "maxclients"))
	infoLine(b, "client_recent_max_input_buffer", "0")
	infoLine(b, "client_recent_max_output_buffer", "0")
	infoLine(b, "blocked_clients", "0")
	infoInt(b, "tracking_clients", c.Env.ext.track.clients.Load())
	infoLine(b, "clients_in_timeout_table", "0")
}

// bytesToHuman formats a byte count as Redis's bytesToHuman: 1023B,
// 1.00K, 2.50M ...
func bytesToHuman(n uint64) string {
	units := []string{"K", "M", "G", "T", "P"}
	if n < 1024 {
		return strconv.FormatUint(n, 10) + "B"
	}
	d := float64(n) / 1024
	for _, u := range units {
		if d < 1024 || u == "P" {
			return strconv.FormatFloat(d, 'f', 2, 64) + u
		}
		d /= 1024
	}
	return ""
}

// rssBytes is the resident set size from /proc/self/statm, 0 if unknown.
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// systemMemory is MemTotal from /proc/meminfo, 0 if unknown.
func systemMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func ratio(a, b uint64) string {
	if b == 0 {
		return "0.00"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 2, 64)
}

// infoMemory reports the engine's figures (memory.go): used_memory is the
// one eviction compares with maxmemory.
func infoMemory(c *Ctx, b *strings.Builder) { memoryInfo(c, b) }

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

func infoPersistence(c *Ctx, b *strings.Builder) {
	si := hostInfo(c.Env)
	st := &c.Env.Store.Stats
	aof := configValue(c, "appendonly") == "yes"
	infoLine(b, "loading", "0")
	infoLine(b, "async_loading", "0")
	infoLine(b, "current_cow_peak", "0")
	infoLine(b, "current_cow_size", "0")
	infoLine(b, "current_cow_size_age", "0")
	infoLine(b, "current_fork_perc", "0.00")
	infoLine(b, "current_save_keys_processed", "0")
	infoLine(b, "current_save_keys_total", "0")
	infoLine(b, "rdb_changes_since_last_save", "0")
	infoLine(b, "rdb_bgsave_in_progress", "0")
	infoInt(b, "rdb_last_save_time", si.LastSave.Unix())
	infoLine(b, "rdb_last_bgsave_status", "ok")
	infoLine(b, "rdb_last_bgsave_time_sec", "-1")
	infoLine(b, "rdb_current_bgsave_time_sec", "-1")
	infoLine(b, "rdb_saves", "0")
	infoLine(b, "rdb_last_cow_size", "0")
	infoLine(b, "rdb_last_load_keys_expired", "0")
	infoLine(b, "rdb_last_load_keys_loaded", "0")
	infoInt(b, "aof_enabled", int64(btoi(aof)))
	infoInt(b, "aof_rewrite_in_progress", int64(st.RewriteActive.Load()))
	infoLine(b, "aof_rewrite_scheduled", "0")
	infoLine(b, "aof_last_rewrite_time_sec", "-1")
	infoLine(b, "aof_current_rewrite_time_sec", "-1")
	infoLine(b, "aof_last_bgrewrite_status", okErr(st.LastRewriteOK.Load()))
	infoInt(b, "aof_rewrites", st.RewritesDone.Load())
	infoLine(b, "aof_rewrites_consecutive_failures", "0")
	infoLine(b, "aof_last_write_status", okErr(st.LastWriteErr.Load() == nil))
	infoLine(b, "aof_last_cow_size", "0")
	infoLine(b, "module_fork_in_progress", "0")
	infoLine(b, "module_fork_last_cow_size", "0")
	// Not a Redis field: the fsyncs appendfsync always has made.
	infoInt(b, "aof_fsyncs", st.Fsyncs.Load())
}

func infoStats(c *Ctx, b *strings.Builder) {
	si := hostInfo(c.Env)
	st := &c.Env.Stats
	zero := func(fields ...string) {
		for _, f := range fields {
			infoLine(b, f, "0")
		}
	}
	infoInt(b, "total_connections_received", si.TotalConnections)
	infoInt(b, "total_commands_processed", st.Commands.Load())
	cs := &c.Env.ext.stats
	ops, in, out := cs.rates()
	infoInt(b, "instantaneous_ops_per_sec", int64(ops))
	infoInt(b, "total_net_input_bytes", cs.netIn.Load())
	infoInt(b, "total_net_output_bytes", cs.netOut.Load())
	zero("total_net_repl_input_bytes", "total_net_repl_output_bytes")
	infoLine(b, "instantaneous_input_kbps", strconv.FormatFloat(in/1024, 'f', 2, 64))
	infoLine(b, "instantaneous_output_kbps", strconv.FormatFloat(out/1024, 'f', 2, 64))
	infoLine(b, "instantaneous_input_repl_kbps", "0.00")
	infoLine(b, "instantaneous_output_repl_kbps", "0.00")
	infoInt(b, "rejected_connections", si.RejectedConnections)
	zero("sync_full", "sync_partial_ok", "sync_partial_err")
	infoInt(b, "expired_keys", c.Env.Store.Stats.ExpiredKeys.Load())
	infoLine(b, "expired_stale_perc", "0.00")
	zero("expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds")
	infoInt(b, "evicted_keys", c.Env.Store.Stats.EvictedKeys.Load())
	zero("evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time")
	infoInt(b, "keyspace_hits", st.KeyspaceHits.Load())
	infoInt(b, "keyspace_misses", st.KeyspaceMiss.Load())
	ps := &c.Env.ext.pubsub
	infoInt(b, "pubsub_channels", int64(ps.count(kindChannel)))
	infoInt(b, "pubsub_patterns", int64(ps.count(kindPattern)))
	infoInt(b, "pubsubshard_channels", int64(ps.count(kindShard)))
	zero("latest_fork_usec", "total_forks", "migrate_cached_sockets", "slave_expires_tracked_keys",
		"active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses",
		"total_active_defrag_time", "current_active_defrag_time")
	keys, items, prefixes := c.Env.ext.track.trackingStats()
	infoInt(b, "tracking_total_keys", int64(keys))
	infoInt(b, "tracking_total_items", int64(items))
	infoInt(b, "tracking_total_prefixes", int64(prefixes))
	zero("unexpected_error_replies")
	infoInt(b, "total_error_replies", st.ErrorReplies.Load())
	// Not a Redis field: the calls refused before running (unknown
	// command, wrong arity, NOAUTH), which Redis counts per command.
	infoInt(b, "rejected_calls", st.RejectedCalls.Load())
	zero("dump_payload_sanitizations", "total_reads_processed", "total_writes_processed",
		"io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks",
		"reply_buffer_expands")
}

func infoReplication(c *Ctx, b *strings.Builder) {
	si := hostInfo(c.Env)
	infoLine(b, "role", "master")
	infoLine(b, "connected_slaves", "0")
	infoLine(b, "master_failover_state", "no-failover")
	infoLine(b, "master_replid", si.ReplID)
	infoLine(b, "master_replid2", strings.Repeat("0", 40))
	infoLine(b, "master_repl_offset", "0")
	infoLine(b, "second_repl_offset", "-1")
	infoLine(b, "repl_backlog_active", "0")
	infoLine(b, "repl_backlog_size", "1048576")
	infoLine(b, "repl_backlog_first_byte_offset", "0")
	infoLine(b, "repl_backlog_histlen", "0")
}

// cpuTime formats a rusage time as Redis does: seconds.microseconds.
func cpuTime(tv syscall.Timeval) string {
	us := strconv.FormatInt(int64(tv.Usec), 10)
	return strconv.FormatInt(int64(tv.Sec), 10) + "." + strings.Repeat("0", max(0, 6-len(us))) + us
}

// infoCPU reports getrusage. Go runs commands on many threads, so the
// main-thread figures are the process's.
func infoCPU(_ *Ctx, b *strings.Builder) {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	infoLine(b, "used_cpu_sys", cpuTime(self.Stime))
	infoLine(b, "used_cpu_user", cpuTime(self.Utime))
	infoLine(b, "used_cpu_sys_children", cpuTime(children.Stime))
	infoLine(b, "used_cpu_user_children", cpuTime(children.Utime))
	infoLine(b, "used_cpu_sys_main_thread", cpuTime(self.Stime))
	infoLine(b, "used_cpu_user_main_thread", cpuTime(self.Utime))
}

// infoKeyspace lists the namespaces that hold keys: numbered ones as
// Redis's dbN, named ones under their own names.
func infoKeyspace(c *Ctx, b *strings.Builder) {
	spaces := c.Env.Store.Keyspace
	if c.Tx != nil { // inside EXEC or a script: see through its transaction
		spaces = c.Tx.Keyspace
	}
	for _, ns := range spaces() {
		name := ns.Name
		if looksNumeric(name) {
			name = "db" + name
		}
		b.WriteString(name)
		b.WriteString(":keys=")
		b.WriteString(strconv.Itoa(ns.Keys))
		b.WriteString(",expires=")
		b.WriteString(strconv.Itoa(ns.Expires))
		b.WriteString(",avg_ttl=")
		b.WriteString(strconv.FormatInt(ns.AvgTTL, 10))
		b.WriteString("\r\n")
	}
}

// ---------------------------------------------------------------------------
// INFO commandstats, errorstats and the instantaneous metrics

// cmdStat is one command's counters, as Redis's per-command stats.
type cmdStat struct {
	calls, nsec, rejected, failed atomic.Int64
	// hist counts calls by duration: hist[i] those under 2^i µs (the
	// last bucket takes the rest), for LATENCY HISTOGRAM.
	hist [40]atomic.Int64
}

// maxErrorCodes caps errorstats as Redis's ERROR_STATS_NUMBER does.
const maxErrorCodes = 128

// commandStats holds INFO's per-command and per-error counters and the
// samples behind the instantaneous_* fields.
type commandStats struct {
	once  sync.Once
	byCmd map[*Command]*cmdStat // every row, built once; then read-only

	errMu sync.Mutex
	errs  map[string]int64

	// Bytes read from and written to clients, counted by the server.
	netIn, netOut atomic.Int64

	sampleMu sync.Mutex
	samples  [3]metricSamples // ops, input bytes, output bytes
}

func (cs *commandStats) stat(t *Table, cmd *Command) *cmdStat {
	cs.once.Do(func() {
		cs.byCmd = map[*Command]*cmdStat{}
		for _, c := range t.All() {
			cs.byCmd[c] = &cmdStat{}
			for _, sub := range c.Subcommands {
				cs.byCmd[sub] = &cmdStat{}
			}
		}
	})
	return cs.byCmd[cmd]
}

// called counts a command that ran: its time, and a failure when its
// reply is an error.
func (cs *commandStats) called(cmd *Command, d time.Duration, reply []byte, e *Env) {
	st := cs.stat(e.Table, cmd)
	if st == nil {
		return
	}
	st.calls.Add(1)
	st.nsec.Add(int64(d))
	st.hist[min(bits.Len64(uint64(d.Microseconds())), len(st.hist)-1)].Add(1)
	if len(reply) > 0 && reply[0] == '-' {
		st.failed.Add(1)
		cs.countError(reply)
	}
}

// rejected counts a command refused before running (cmd nil for an
// unknown command), with its error reply.
func (cs *commandStats) rejected(t *Table, cmd *Command, reply []byte) {
	if cmd != nil {
		if st := cs.stat(t, cmd); st != nil {
			st.rejected.Add(1)
		}
	}
	cs.countError(reply)
}

// countError counts an error reply under its code, the word after '-'.
func (cs *commandStats) countError(reply []byte) {
	end := 1
	for end < len(reply) && reply[end] != ' ' && reply[end] != '\r' {
		end++
	}
	code := reply[1:end]
	cs.errMu.Lock()
	defer cs.errMu.Unlock()
	if cs.errs == nil {
		cs.errs = map[string]int64{}
	}
	if _, ok := cs.errs[string(code)]; !ok && len(cs.errs) >= maxErrorCodes {
		return
	}
	cs.errs[string(code)]++
}

func (cs *commandStats) reset() {
	for _, st := range cs.byCmd {
		st.calls.Store(0)
		st.nsec.Store(0)
		st.rejected.Store(0)
		st.failed.Store(0)
		for i := range st.hist {
			st.hist[i].Store(0)
		}
	}
	cs.errMu.Lock()
	cs.errs = nil
	cs.errMu.Unlock()
	cs.netIn.Store(0)
	cs.netOut.Store(0)
	cs.sampleMu.Lock()
	cs.samples = [3]metricSamples{}
	cs.sampleMu.Unlock()
}

// ResetStats zeroes every counter INFO reports (CONFIG RESETSTAT).
func (e *Env) ResetStats() {
	st := &e.Stats
	st.Commands.Store(0)
	st.KeyspaceHits.Store(0)
	st.KeyspaceMiss.Store(0)
	st.ErrorReplies.Store(0)
	st.RejectedCalls.Store(0)
	e.Store.Stats.ExpiredKeys.Store(0)
	e.Store.Stats.EvictedKeys.Store(0)
	e.Store.ResetPeak()
	e.ext.stats.stat(e.Table, nil)
	e.ext.stats.reset()
}

// NoteNetIO counts bytes read from and written to clients.
func (e *Env) NoteNetIO(in, out int64) {
	if in != 0 {
		e.ext.stats.netIn.Add(in)
	}
	if out != 0 {
		e.ext.stats.netOut.Add(out)
	}
}

// metricSamples is Redis's instantaneous metric: the last 16 rates,
// sampled every 100 ms, averaged.
type metricSamples struct {
	lastTime  time.Time
	lastValue int64
	rates     [16]float64
	n, idx    int
}

func (m *metricSamples) add(now time.Time, value int64) {
	if !m.lastTime.IsZero() {
		if ms := now.Sub(m.lastTime).Milliseconds(); ms > 0 {
			m.rates[m.idx] = float64(value-m.lastValue) * 1000 / float64(ms)
			m.idx = (m.idx + 1) % len(m.rates)
			m.n = min(m.n+1, len(m.rates))
		}
	}
	m.lastTime, m.lastValue = now, value
}

func (m *metricSamples) rate() float64 {
	if m.n == 0 {
		return 0
	}
	sum := 0.0
	for i := 0; i < m.n; i++ {
		sum += m.rates[i]
	}
	return sum / float64(m.n)
}

// SampleStats records a sample of the counters behind INFO's
// instantaneous_* fields. The server calls it every 100 ms, as Redis's
// serverCron does.
func (e *Env) SampleStats(now time.Time) {
	cs := &e.ext.stats
	cs.sampleMu.Lock()
	cs.samples[0].add(now, e.Stats.Commands.Load())
	cs.samples[1].add(now, cs.netIn.Load())
	cs.samples[2].add(now, cs.netOut.Load())
	cs.sampleMu.Unlock()
}

func (cs *commandStats) rates() (ops, in, out float64) {
	cs.sampleMu.Lock()
	defer cs.sampleMu.Unlock()
	return cs.samples[0].rate(), cs.samples[1].rate(), cs.samples[2].rate()
}

func infoCommandStats(c *Ctx, b *strings.Builder) {
	cs := &c.Env.ext.stats
	cs.stat(c.Env.Table, nil)
	line := func(cmd *Command) {
		st := cs.byCmd[cmd]
		if st == nil {
			return
		}
		calls, usec := st.calls.Load(), st.nsec.Load()/1000
		rejected, failed := st.rejected.Load(), st.failed.Load()
		if calls == 0 && rejected == 0 && failed == 0 {
			return
		}
		perCall := 0.0
		if calls > 0 {
			perCall = float64(st.nsec.Load()) / 1000 / float64(calls)
		}
		b.WriteString("cmdstat_")
		b.WriteString(cmd.Name)
		b.WriteString(":calls=")
		b.WriteString(strconv.FormatInt(calls, 10))
		b.WriteString(",usec=")
		b.WriteString(strconv.FormatInt(usec, 10))
		b.WriteString(",usec_per_call=")
		b.WriteString(strconv.FormatFloat(perCall, 'f', 2, 64))
		b.WriteString(",rejected_calls=")
		b.WriteString(strconv.FormatInt(rejected, 10))
		b.WriteString(",failed_calls=")
		b.WriteString(strconv.FormatInt(failed, 10))
		b.WriteString("\r\n")
	}
	for _, cmd := range c.Env.Table.All() {
		line(cmd)
		for _, sub := range cmd.Subcommands {
			line(sub)
		}
	}
}

func infoErrorStats(c *Ctx, b *strings.Builder) {
	cs := &c.Env.ext.stats
	cs.errMu.Lock()
	codes := make([]string, 0, len(cs.errs))
	for code := range cs.errs {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		b.WriteString("errorstat_")
		b.WriteString(code)
		b.WriteString(":count=")
		b.WriteString(strconv.FormatInt(cs.errs[code], 10))
		b.WriteString("\r\n")
	}
	cs.errMu.Unlock()
}
