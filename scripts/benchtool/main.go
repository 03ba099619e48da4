// Command benchtool is the helper behind scripts/bench.sh, the side-by-side
// benchmark of durastore against redis-server. It does the parts that are
// slow or fiddly in shell:
//
//	benchtool freeport [-n N]                 print N free TCP ports on 127.0.0.1
//	benchtool resp -n N [-keyfmt F] [-size B] [-ttl S] [-fill C]
//	                                          write N SET commands as RESP to stdout
//	benchtool probe -port P -tests set,get,incr,mset
//	                                          print the tests whose commands the server accepts
//	benchtool wait -port P [-dbsize N] [-since UNIXNANO] [-timeout D]
//	                                          poll until PING answers (and DBSIZE == N);
//	                                          print the seconds elapsed since -since
//	benchtool report -bench F [-memory F] [-restart F]
//	                                          print the result tables (medians, ratios)
//
// Run it as `go run ./scripts/benchtool ...`; bench.sh builds it once.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool freeport|resp|probe|wait|report [flags]")
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "freeport":
		err = cmdFreePort(args, os.Stdout)
	case "resp":
		err = cmdResp(args, os.Stdout)
	case "probe":
		err = cmdProbe(args, os.Stdout)
	case "wait":
		err = cmdWait(args, os.Stdout)
	case "report":
		err = cmdReport(args, os.Stdout)
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// cmdFreePort prints n distinct ports that were free a moment ago: it holds
// all n listeners open until every port is chosen, so they differ.
func cmdFreePort(args []string, out io.Writer) error {
	fs := newFlagSet("freeport")
	n := fs.Int("n", 1, "how many ports")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < *n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l)
		port := l.Addr().(*net.TCPAddr).Port
		if port == 6379 { // never hand out Redis's default port
			i--
			continue
		}
		fmt.Fprintln(out, port)
	}
	return nil
}

// cmdResp writes n SET commands in RESP: SET <keyfmt % i> <value> [EX ttl].
// The value is size bytes: "value-" followed by the zero-padded index, or the
// fill character repeated (as redis-benchmark's -d writes) when -fill is set.
func cmdResp(args []string, out io.Writer) error {
	fs := newFlagSet("resp")
	n := fs.Int("n", 0, "number of keys")
	keyfmt := fs.String("keyfmt", "key:%010d", "key format, one integer verb")
	size := fs.Int("size", 32, "value size in bytes")
	ttl := fs.Int("ttl", 0, "EX seconds (0: no TTL)")
	fill := fs.String("fill", "", "fill character for values (default: value-<index>)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 0 || *size < 0 || *ttl < 0 || len(*fill) > 1 {
		return errors.New("bad arguments")
	}
	w := bufio.NewWriterSize(out, 1<<20)
	writeResp(w, *n, *keyfmt, *size, *ttl, *fill)
	return w.Flush()
}

func writeResp(w *bufio.Writer, n int, keyfmt string, size, ttl int, fill string) {
	ttlStr := strconv.Itoa(ttl)
	val := make([]byte, size)
	if fill != "" {
		for i := range val {
			val[i] = fill[0]
		}
	}
	var key []byte
	for i := 0; i < n; i++ {
		key = fmt.Appendf(key[:0], keyfmt, i)
		if fill == "" {
			fillValue(val, i)
		}
		if ttl > 0 {
			w.WriteString("*5\r\n$3\r\nSET\r\n")
		} else {
			w.WriteString("*3\r\n$3\r\nSET\r\n")
		}
		writeBulk(w, key)
		writeBulk(w, val)
		if ttl > 0 {
			w.WriteString("$2\r\nEX\r\n")
			writeBulk(w, []byte(ttlStr))
		}
	}
}

// fillValue writes "value-000...i" into val (truncated or padded to its length).
func fillValue(val []byte, i int) {
	const prefix = "value-"
	for j := range val {
		val[j] = '0'
	}
	copy(val, prefix)
	for j := len(val) - 1; j >= len(prefix) && i > 0; j-- {
		val[j] = byte('0' + i%10)
		i /= 10
	}
}

func writeBulk(w *bufio.Writer, b []byte) {
	w.WriteByte('$')
	w.WriteString(strconv.Itoa(len(b)))
	w.WriteString("\r\n")
	w.Write(b)
	w.WriteString("\r\n")
}

// conn is a minimal RESP client: enough for PING, DBSIZE and probes.
type conn struct {
	c net.Conn
	r *bufio.Reader
}

func dial(port int, timeout time.Duration) (*conn, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), timeout)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, r: bufio.NewReader(c)}, nil
}

// reply is one RESP reply: kind is its first byte ('+', '-', ':', '$', '*');
// str holds the simple string, error, integer or bulk; arrays are skipped.
type reply struct {
	kind byte
	str  string
}

func (c *conn) do(timeout time.Duration, args ...string) (reply, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		return reply{}, err
	}
	return readReply(c.r)
}

func readReply(r *bufio.Reader) (reply, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return reply{}, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return reply{}, errors.New("empty reply line")
	}
	rep := reply{kind: line[0], str: line[1:]}
	switch rep.kind {
	case '+', '-', ':', '_', ',', '#':
		return rep, nil
	case '$':
		n, err := strconv.Atoi(rep.str)
		if err != nil {
			return reply{}, fmt.Errorf("bad bulk length %q", rep.str)
		}
		if n < 0 {
			return reply{kind: '_'}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return reply{}, err
		}
		rep.str = string(buf[:n])
		return rep, nil
	case '*', '%', '~':
		n, err := strconv.Atoi(rep.str)
		if err != nil {
			return reply{}, fmt.Errorf("bad aggregate length %q", rep.str)
		}
		if rep.kind == '%' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if _, err := readReply(r); err != nil {
				return reply{}, err
			}
		}
		return rep, nil
	}
	return reply{}, fmt.Errorf("unexpected reply %q", line)
}

// probeCommands are the commands redis-benchmark sends for each test, as it
// builds them in redis-benchmark.c, on keys of their own.
var probeCommands = map[string][][]string{
	"ping_inline": {{"PING"}},
	"ping_mbulk":  {{"PING"}},
	"ping":        {{"PING"}},
	"set":         {{"SET", "benchtool:probe:s", "xxx"}},
	"get":         {{"GET", "benchtool:probe:s"}},
	"incr":        {{"INCR", "benchtool:probe:i"}},
	"mset": {{"MSET", "benchtool:probe:m1", "xxx", "benchtool:probe:m2", "xxx"},
		{"DEL", "benchtool:probe:m1", "benchtool:probe:m2"}},
	"lpush": {{"LPUSH", "benchtool:probe:l", "xxx"}},
	"rpush": {{"RPUSH", "benchtool:probe:l", "xxx"}},
	"lpop":  {{"LPOP", "benchtool:probe:l"}},
	"rpop":  {{"RPOP", "benchtool:probe:l"}},
	"sadd":  {{"SADD", "benchtool:probe:z", "xxx"}},
	"hset":  {{"HSET", "benchtool:probe:h", "f", "xxx"}},
	"spop":  {{"SPOP", "benchtool:probe:z"}},
	"zadd":  {{"ZADD", "benchtool:probe:q", "1", "xxx"}},
}

// cmdProbe sends each test's command once and prints the comma-separated
// tests that did not get an error reply; it lists the others on stderr.
func cmdProbe(args []string, out io.Writer) error {
	fs := newFlagSet("probe")
	port := fs.Int("port", 0, "server port")
	tests := fs.String("tests", "", "comma-separated redis-benchmark tests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := dial(*port, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.c.Close()
	var ok []string
	for _, t := range strings.Split(*tests, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		cmds, known := probeCommands[t]
		if !known {
			return fmt.Errorf("unknown test %q", t)
		}
		good := true
		for _, cmd := range cmds {
			rep, err := c.do(5*time.Second, cmd...)
			if err != nil {
				return err
			}
			if rep.kind == '-' {
				fmt.Fprintf(os.Stderr, "test %s: %s replied -%s\n", t, cmd[0], rep.str)
				good = false
				break
			}
		}
		if good {
			ok = append(ok, t)
		}
	}
	c.do(5*time.Second, "DEL", "benchtool:probe:s", "benchtool:probe:i", "benchtool:probe:l",
		"benchtool:probe:z", "benchtool:probe:h", "benchtool:probe:q")
	fmt.Fprintln(out, strings.Join(ok, ","))
	return nil
}

// cmdWait polls the server until it answers PING with PONG and, when -dbsize
// is given, DBSIZE with that number. It prints the seconds since -since (a
// Unix time in nanoseconds, taken just before the server was launched) or
// since it started polling.
func cmdWait(args []string, out io.Writer) error {
	fs := newFlagSet("wait")
	port := fs.Int("port", 0, "server port")
	dbsize := fs.Int64("dbsize", -1, "wait until DBSIZE equals this (-1: do not check)")
	since := fs.Int64("since", 0, "start time, Unix nanoseconds (0: now)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	pid := fs.Int("pid", 0, "fail early if this process exits")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	if *since > 0 {
		start = time.Unix(0, *since)
	}
	deadline := time.Now().Add(*timeout)
	const pause = time.Millisecond
	var c *conn
	last := "no connection"
	for time.Now().Before(deadline) {
		if *pid > 0 {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", *pid)); err != nil {
				return fmt.Errorf("process %d exited (last: %s)", *pid, last)
			}
		}
		if c == nil {
			var err error
			c, err = dial(*port, time.Second)
			if err != nil {
				last = err.Error()
				time.Sleep(pause)
				continue
			}
		}
		rep, err := c.do(5*time.Second, "PING")
		if err != nil {
			last = err.Error()
			c.c.Close()
			c = nil
			time.Sleep(pause)
			continue
		}
		if rep.kind != '+' || rep.str != "PONG" {
			last = "PING: " + string(rep.kind) + rep.str // e.g. -LOADING
			time.Sleep(pause)
			continue
		}
		if *dbsize >= 0 {
			rep, err = c.do(5*time.Second, "DBSIZE")
			if err != nil {
				last = err.Error()
				c.c.Close()
				c = nil
				time.Sleep(pause)
				continue
			}
			if rep.kind != ':' || rep.str != strconv.FormatInt(*dbsize, 10) {
				last = "DBSIZE: " + string(rep.kind) + rep.str
				time.Sleep(pause)
				continue
			}
		}
		elapsed := time.Since(start)
		c.c.Close()
		fmt.Fprintf(out, "%.3f\n", elapsed.Seconds())
		return nil
	}
	if c != nil {
		c.c.Close()
	}
	return fmt.Errorf("port %d not ready after %v (last: %s)", *port, *timeout, last)
}
