// Command expiryload measures what a mass expiry does to other clients:
// it loads -keys keys that all expire inside one future wall-clock second
// T, then runs -clients connections sending GETs of other (non-expiring)
// keys one at a time from T - lead to T + 1s + after, and reports their
// latency before, during and after that second, and how long the server
// took to remove the expired keys.
//
//	expiryload -addr 127.0.0.1:6379 [-keys 1000000] [-clients 50] [-value 32]
//	           [-lead 3s] [-after 2s] [-live 100000] [-wait 60s] [-flush]
//
// Steps:
//
//  1. SET live:%010d (-live keys, no TTL), pipelined; the load rate sets
//     the estimate for step 2.
//  2. Choose T, a whole wall-clock second far enough ahead that loading
//     the expiring keys ends before T - lead (-slack times the estimated
//     load time, plus one second); SET exp:%010d ... PXAT t, with t drawn
//     uniformly (seeded) from the milliseconds of [T, T+1s), pipelined.
//     DBSIZE must then show every key.
//  3. From T - lead to T + 1s + after, each client GETs random live: keys,
//     one request in flight (like redis-benchmark -P 1), recording each
//     request's start and latency; a request belongs to the window its
//     start falls in. Meanwhile one more connection polls DBSIZE every
//     10 ms until the expiring keys are all gone (or -wait after the load
//     ends).
//
// Output (stdout), one line each, key=value pairs; times in seconds are
// relative to T, latencies in milliseconds:
//
//	load live_keys=... exp_keys=... live_load_s=... exp_load_s=... exp_keys_per_s=... t_unix_ms=... get_start_s=...
//	window=before start_s=... end_s=... requests=... rps=... p50_ms=... p99_ms=... max_ms=... misses=...
//	window=during ...
//	window=after ...
//	expiry remaining=... left_at_1s=... gone_s=... polls=...
//
// remaining is DBSIZE minus the live keys at the end (0 when the server
// removed every expiring key); left_at_1s the same at the first poll at or
// after T + 1s; gone_s when a poll first saw none left (-1 if never, within
// -wait). Both servers count expired keys not yet removed in DBSIZE.
//
// The client is a raw RESP client that allocates nothing per request, runs
// with the garbage collector off (up to a 1 GiB heap) and, by default, on
// one OS thread (-procs 1, like redis-benchmark's single thread), so that
// its own pauses stay out of the latencies and it leaves the other cores
// to the server. Every network operation has a deadline (-timeout).
// scripts/bench.sh --expiry runs it against redis-server and durastore.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"
)

type config struct {
	addr        string
	keys        int
	live        int
	clients     int
	value       int
	lead, after time.Duration
	wait        time.Duration
	timeout     time.Duration
	slack       float64
	batch       int
	seed        uint64
	flush       bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:6379", "server address")
	flag.IntVar(&cfg.keys, "keys", 1_000_000, "keys expiring within the same second")
	flag.IntVar(&cfg.live, "live", 100_000, "non-expiring keys the GET load reads")
	flag.IntVar(&cfg.clients, "clients", 50, "GET connections, one request in flight each")
	flag.IntVar(&cfg.value, "value", 32, "value size in bytes")
	flag.DurationVar(&cfg.lead, "lead", 3*time.Second, "GET load before the expiry second (the 'before' window)")
	flag.DurationVar(&cfg.after, "after", 2*time.Second, "GET load after the expiry second (the 'after' window)")
	flag.DurationVar(&cfg.wait, "wait", 60*time.Second, "how long after the GET load to keep polling DBSIZE for the expired keys to go")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "deadline of every network operation")
	flag.Float64Var(&cfg.slack, "slack", 2, "T is chosen this many times the estimated load time ahead (plus lead and 1s)")
	flag.IntVar(&cfg.batch, "batch", 10_000, "commands per pipelined batch while loading")
	flag.Uint64Var(&cfg.seed, "seed", 1, "random seed (expiry times and GET keys)")
	flag.BoolVar(&cfg.flush, "flush", false, "FLUSHALL first (otherwise the server must be empty)")
	procs := flag.Int("procs", 1, "GOMAXPROCS of this client")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "expiryload: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	// No collections during a run (samples are a few tens of MB at most);
	// the limit makes the collector come back only if that goes wrong.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(1 << 30)
	if err := run(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "expiryload:", err)
		os.Exit(1)
	}
}

func (cfg config) check() error {
	switch {
	case cfg.keys < 1 || cfg.live < 1 || cfg.clients < 1 || cfg.value < 0 || cfg.batch < 1:
		return errors.New("need -keys, -live, -clients, -batch >= 1 and -value >= 0")
	case cfg.lead < time.Second:
		return errors.New("need -lead >= 1s")
	case cfg.after < 0 || cfg.wait < 0 || cfg.timeout <= 0 || cfg.slack < 1:
		return errors.New("need -after, -wait >= 0, -timeout > 0 and -slack >= 1")
	case cfg.live > 1e10 || cfg.keys > 1e10:
		return errors.New("-keys and -live must fit in 10 digits")
	}
	return nil
}

func run(cfg config, out io.Writer) error {
	if err := cfg.check(); err != nil {
		return err
	}
	ctl, err := dial(cfg.addr, cfg.timeout)
	if err != nil {
		return err
	}
	defer ctl.close()
	if cfg.flush {
		if _, err := ctl.do("FLUSHALL"); err != nil {
			return fmt.Errorf("FLUSHALL: %w", err)
		}
	}
	if n, err := ctl.dbsize(); err != nil {
		return err
	} else if n != 0 {
		return fmt.Errorf("the server holds %d keys; start from an empty one or pass -flush", n)
	}
	value := make([]byte, cfg.value)
	for i := range value {
		value[i] = 'v'
	}

	// 1. The keys the GET load reads.
	t0 := time.Now()
	if err := load(cfg.addr, cfg.timeout, cfg.live, cfg.batch, func(w *bufio.Writer, i int) {
		writeCommand(w, []byte("SET"), keyName("live:", i), value)
	}); err != nil {
		return fmt.Errorf("loading live keys: %w", err)
	}
	liveTook := time.Since(t0)

	// 2. The expiring keys, all within [T, T+1s).
	perKey := liveTook / time.Duration(cfg.live)
	estimate := time.Duration(float64(perKey) * float64(cfg.keys) * cfg.slack)
	T := time.Now().Add(estimate + cfg.lead + time.Second).Truncate(time.Second).Add(time.Second)
	tms := T.UnixMilli()
	fmt.Fprintf(os.Stderr, "expiryload: %d live keys in %.2fs; expiry second T = %s (in %.1fs)\n",
		cfg.live, liveTook.Seconds(), T.Format("15:04:05"), time.Until(T).Seconds())
	r := rand.New(rand.NewPCG(cfg.seed, 0xe4))
	px := []byte("PXAT")
	var at []byte
	t1 := time.Now()
	if err := load(cfg.addr, cfg.timeout, cfg.keys, cfg.batch, func(w *bufio.Writer, i int) {
		at = strconv.AppendInt(at[:0], tms+r.Int64N(1000), 10)
		writeCommand(w, []byte("SET"), keyName("exp:", i), value, px, at)
	}); err != nil {
		return fmt.Errorf("loading expiring keys: %w", err)
	}
	expTook := time.Since(t1)
	if n, err := ctl.dbsize(); err != nil {
		return err
	} else if n != int64(cfg.live+cfg.keys) {
		return fmt.Errorf("after loading, DBSIZE is %d, expected %d live + %d expiring keys", n, cfg.live, cfg.keys)
	}
	left := time.Until(T)
	if left < cfg.lead/2 {
		return fmt.Errorf("loading %d expiring keys took %.1fs, leaving only %.1fs before T (need at least -lead/2 = %.1fs); raise -slack",
			cfg.keys, expTook.Seconds(), left.Seconds(), (cfg.lead / 2).Seconds())
	}
	if left > cfg.lead {
		time.Sleep(left - cfg.lead)
	}

	// 3. The GET load and the DBSIZE poller.
	base := time.Now()
	tOff := T.Sub(base) // wall clock: T has no monotonic reading
	startRel := -tOff   // the GET load's start, relative to T
	end := tOff + time.Second + cfg.after
	pollDone := make(chan pollResult, 1)
	go func() { pollDone <- poll(cfg.addr, cfg.timeout, int64(cfg.live), base, tOff, end+cfg.wait) }()
	results := make([]clientResult, cfg.clients)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = getLoad(cfg.addr, cfg.timeout, cfg.live, base, tOff, end, rand.New(rand.NewPCG(cfg.seed, uint64(i)+1)))
		}()
	}
	wg.Wait()
	var all []sample
	var misses [3]int
	for _, res := range results {
		if res.err != nil {
			return fmt.Errorf("GET load: %w", res.err)
		}
		all = append(all, res.samples...)
		for _, m := range res.misses {
			if w := windowOf(m, cfg.after); w >= 0 {
				misses[w]++
			}
		}
	}
	pr := <-pollDone
	if pr.err != nil {
		return fmt.Errorf("polling DBSIZE: %w", pr.err)
	}

	fmt.Fprintf(out, "load live_keys=%d exp_keys=%d live_load_s=%.3f exp_load_s=%.3f exp_keys_per_s=%.0f t_unix_ms=%d get_start_s=%.3f\n",
		cfg.live, cfg.keys, liveTook.Seconds(), expTook.Seconds(), float64(cfg.keys)/expTook.Seconds(), tms, startRel.Seconds())
	for w, st := range summarize(all, startRel, cfg.after) {
		fmt.Fprintf(out, "window=%s start_s=%.3f end_s=%.3f requests=%d rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f misses=%d\n",
			windowNames[w], st.from.Seconds(), st.to.Seconds(), st.n, st.rps, ms(st.p50), ms(st.p99), ms(st.max), misses[w])
	}
	gone := -1.0
	if pr.gone >= 0 {
		gone = pr.gone.Seconds()
	}
	fmt.Fprintf(out, "expiry remaining=%d left_at_1s=%d gone_s=%.3f polls=%d\n", pr.remaining, pr.leftAt1s, gone, pr.polls)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ---------------------------------------------------------------- windows

const (
	before = iota
	during
	after
)

var windowNames = [3]string{"before", "during", "after"}

// windowOf is the window a request that started at rel (relative to T)
// belongs to: before is [.., T), during [T, T+1s), after [T+1s, T+1s+after);
// -1 past the end.
func windowOf(rel, afterLen time.Duration) int {
	switch {
	case rel < 0:
		return before
	case rel < time.Second:
		return during
	case rel < time.Second+afterLen:
		return after
	}
	return -1
}

// sample is one request: its start relative to T and its latency.
type sample struct {
	start, lat time.Duration
}

type windowStats struct {
	from, to      time.Duration // relative to T
	n             int
	rps           float64
	p50, p99, max time.Duration
}

// summarize splits samples into the three windows (before starting at
// startRel) and computes each window's rate and latency percentiles.
func summarize(samples []sample, startRel, afterLen time.Duration) [3]windowStats {
	var lats [3][]time.Duration
	for _, s := range samples {
		if w := windowOf(s.start, afterLen); w >= 0 {
			lats[w] = append(lats[w], s.lat)
		}
	}
	bounds := [3][2]time.Duration{{startRel, 0}, {0, time.Second}, {time.Second, time.Second + afterLen}}
	var st [3]windowStats
	for w := range st {
		l := lats[w]
		slices.Sort(l)
		st[w] = windowStats{from: bounds[w][0], to: bounds[w][1], n: len(l),
			p50: percentile(l, 50), p99: percentile(l, 99)}
		if len(l) > 0 {
			st[w].max = l[len(l)-1]
		}
		if d := st[w].to - st[w].from; d > 0 {
			st[w].rps = float64(len(l)) / d.Seconds()
		}
	}
	return st
}

// percentile is the nearest-rank p-th percentile of sorted: the smallest
// value at least p% of the values are less than or equal to; 0 if empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The epsilon keeps float error from bumping an exact rank (99.9% of
	// 1000 is 999, not 999.0000000000001 rounded up to 1000).
	rank := int(math.Ceil(p*float64(len(sorted))/100 - 1e-9))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// ---------------------------------------------------------------- load

// load sends n commands built by gen on one connection, in pipelined
// batches, reading the replies from a second goroutine so neither side's
// buffers fill up; any error reply fails it.
func load(addr string, timeout time.Duration, n, batch int, gen func(w *bufio.Writer, i int)) error {
	c, err := dial(addr, timeout)
	if err != nil {
		return err
	}
	defer c.close()
	readErr := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			c.extendRead()
			kind, _, err := c.readReply()
			if err == nil && kind == '-' {
				err = fmt.Errorf("reply %d is an error: %s", i, c.errText)
			}
			if err != nil {
				readErr <- err
				return
			}
		}
		readErr <- nil
	}()
	for i := 0; i < n; i++ {
		gen(c.w, i)
		if (i+1)%batch == 0 || i == n-1 {
			select {
			case err := <-readErr: // an error reply or a broken connection
				if err == nil {
					err = errors.New("more replies than commands")
				}
				return err
			default:
			}
			c.extendWrite()
			if err := c.w.Flush(); err != nil {
				c.close() // unblocks the reader
				if rerr := <-readErr; rerr != nil {
					return rerr
				}
				return err
			}
		}
	}
	return <-readErr
}

// keyName is prefix followed by i in 10 digits, as %010d.
func keyName(prefix string, i int) []byte {
	b := make([]byte, len(prefix)+10)
	copy(b, prefix)
	putDigits(b[len(prefix):], i)
	return b
}

// putDigits writes i into b as len(b) decimal digits, zero-padded.
func putDigits(b []byte, i int) {
	for j := len(b) - 1; j >= 0; j-- {
		b[j] = byte('0' + i%10)
		i /= 10
	}
}

func writeCommand(w *bufio.Writer, args ...[]byte) {
	w.WriteByte('*')
	w.WriteString(strconv.Itoa(len(args)))
	w.WriteString("\r\n")
	for _, a := range args {
		w.WriteByte('$')
		w.WriteString(strconv.Itoa(len(a)))
		w.WriteString("\r\n")
		w.Write(a)
		w.WriteString("\r\n")
	}
}

// ---------------------------------------------------------------- GET load

type clientResult struct {
	samples []sample
	misses  []time.Duration // starts of GETs that found no value
	err     error
}

// getLoad sends GETs of random live: keys, one at a time, until end (an
// offset from base). Times are recorded relative to T (tOff after base).
func getLoad(addr string, timeout time.Duration, live int, base time.Time, tOff, end time.Duration, r *rand.Rand) clientResult {
	var res clientResult
	c, err := dial(addr, timeout)
	if err != nil {
		res.err = err
		return res
	}
	defer c.close()
	res.samples = make([]sample, 0, 1<<14)
	const prefix = "*2\r\n$3\r\nGET\r\n$15\r\nlive:"
	cmd := []byte(prefix + "0000000000\r\n")
	digits := cmd[len(prefix) : len(prefix)+10]
	for {
		start := time.Since(base)
		if start >= end {
			return res
		}
		putDigits(digits, r.IntN(live))
		c.extend()
		if _, err := c.c.Write(cmd); err != nil {
			res.err = err
			return res
		}
		kind, null, err := c.readReply()
		lat := time.Since(base) - start
		if err == nil && kind != '$' {
			err = fmt.Errorf("unexpected reply to GET: %q %s", kind, c.errText)
		}
		if err != nil {
			res.err = err
			return res
		}
		res.samples = append(res.samples, sample{start: start - tOff, lat: lat})
		if null {
			res.misses = append(res.misses, start-tOff)
		}
	}
}

// ---------------------------------------------------------------- DBSIZE poller

type pollResult struct {
	remaining int64         // expiring keys left at the last poll
	leftAt1s  int64         // at the first poll at or after T+1s; -1 if none
	gone      time.Duration // relative to T; -1 if they never all went
	polls     int
	err       error
}

// poll asks DBSIZE every 10 ms until only the live keys are left or until
// stop (an offset from base).
func poll(addr string, timeout time.Duration, live int64, base time.Time, tOff, stop time.Duration) pollResult {
	res := pollResult{leftAt1s: -1, gone: -1}
	c, err := dial(addr, timeout)
	if err != nil {
		res.err = err
		return res
	}
	defer c.close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := c.dbsize()
		if err != nil {
			res.err = err
			return res
		}
		now := time.Since(base) - tOff
		res.polls++
		res.remaining = n - live
		if res.leftAt1s < 0 && now >= time.Second {
			res.leftAt1s = res.remaining
		}
		if res.remaining <= 0 && now >= 0 {
			res.gone = now
			if res.leftAt1s < 0 {
				res.leftAt1s = 0
			}
			return res
		}
		if now+tOff >= stop {
			return res
		}
		<-tick.C
	}
}

// ---------------------------------------------------------------- RESP

// parseLen parses a bulk length: decimal digits, or -1.
func parseLen(b []byte) (int, bool) {
	if len(b) == 2 && b[0] == '-' && b[1] == '1' {
		return -1, true
	}
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int(d-'0')
	}
	return n, true
}

// conn is a minimal RESP client that allocates nothing per reply.
type conn struct {
	c        net.Conn
	r        *bufio.Reader
	w        *bufio.Writer
	timeout  time.Duration
	rdl, wdl time.Time // the current read and write deadlines
	errText  string    // the last error reply
}

func dial(addr string, timeout time.Duration) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10), timeout: timeout}, nil
}

func (c *conn) close() { c.c.Close() }

// extend moves the connection's deadline to timeout from now when less
// than 90% of it is left, so that it costs a call into the runtime only
// now and then: every operation gets between 0.9 and 1 times the timeout.
// extendRead and extendWrite do the same for one direction, for a reader
// and a writer in two goroutines.
func (c *conn) extend() {
	now := time.Now()
	if c.rdl.Sub(now) < c.timeout*9/10 || c.wdl.Sub(now) < c.timeout*9/10 {
		c.rdl, c.wdl = now.Add(c.timeout), now.Add(c.timeout)
		c.c.SetDeadline(c.rdl)
	}
}

func (c *conn) extendRead() {
	if now := time.Now(); c.rdl.Sub(now) < c.timeout*9/10 {
		c.rdl = now.Add(c.timeout)
		c.c.SetReadDeadline(c.rdl)
	}
}

func (c *conn) extendWrite() {
	if now := time.Now(); c.wdl.Sub(now) < c.timeout*9/10 {
		c.wdl = now.Add(c.timeout)
		c.c.SetWriteDeadline(c.wdl)
	}
}

// do sends one command and returns its integer or string reply as text.
func (c *conn) do(args ...string) (string, error) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	c.extend()
	writeCommand(c.w, b...)
	if err := c.w.Flush(); err != nil {
		return "", err
	}
	line, err := c.readLine()
	if err != nil {
		return "", err
	}
	switch line[0] {
	case '+', ':':
		return string(line[1:]), nil
	case '-':
		return "", errors.New(string(line[1:]))
	}
	return "", fmt.Errorf("unexpected reply %q to %s", line, args[0])
}

func (c *conn) dbsize() (int64, error) {
	s, err := c.do("DBSIZE")
	if err != nil {
		return 0, fmt.Errorf("DBSIZE: %w", err)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("DBSIZE: bad reply %q", s)
	}
	return n, nil
}

// readLine reads one reply line without its CRLF (valid until the next read).
func (c *conn) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("malformed reply line %q", line)
	}
	return line[:len(line)-2], nil
}

// readReply reads one simple, error, integer or bulk reply and returns its
// kind; null is set for a null bulk. An error reply's text is kept in
// errText.
func (c *conn) readReply() (kind byte, null bool, err error) {
	line, err := c.readLine()
	if err != nil {
		return 0, false, err
	}
	kind = line[0]
	switch kind {
	case '+', ':':
		return kind, false, nil
	case '-':
		c.errText = string(line[1:])
		return kind, false, nil
	case '$':
		n, ok := parseLen(line[1:])
		if !ok {
			return 0, false, fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return kind, true, nil
		}
		if _, err := c.r.Discard(n + 2); err != nil {
			return 0, false, err
		}
		return kind, false, nil
	}
	return 0, false, fmt.Errorf("unexpected reply %q", line)
}
