package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testLimits = reqLimits{maxBulk: 512 << 20, maxQuery: 1 << 30, authed: true}

// scanAll feeds in to a fresh scanner in chunks of size step (0: at once)
// and returns the output and the reply of a violation ("" if none).
func scanAll(in []byte, step int, lim reqLimits) (string, string, bool) {
	var s reqScanner
	var out []byte
	if step <= 0 {
		step = len(in) + 1
	}
	for i := 0; i < len(in); i += step {
		j := min(i+step, len(in))
		var e *reqError
		out, e = s.feed(in[i:j], out, lim)
		if e != nil {
			return string(out), e.reply, true
		}
	}
	return string(out), "", false
}

// The scanner's verdicts match what redis-server 7.0 answers to the same
// bytes (each case was checked against the real server), and the bytes it
// lets through are canonical RESP.
func TestReqScannerMatchesRedis(t *testing.T) {
	cases := []struct {
		in, out, reply string
	}{
		{"*1\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING\r\n", ""},
		{"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", ""},
		// Redis skips the byte after a header's '\r' and the two bytes
		// after a payload without looking at them.
		{"*1\r\n$4\r\nPINGxx", "*1\r\n$4\r\nPING\r\n", ""},
		{"*1\rx$4\rxPINGxx", "*1\r\n$4\r\nPING\r\n", ""},
		// Empty and negative arrays are ignored.
		{"*0\r\n*-10\r\n*1\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING\r\n", ""},
		// Inline commands, with sdssplitargs quoting.
		{"PING\r\n", "*1\r\n$4\r\nPING\r\n", ""},
		{"\r\n\n  \r\nPING\n", "*1\r\n$4\r\nPING\r\n", ""},
		{"PING\rPING\n", "*2\r\n$4\r\nPING\r\n$4\r\nPING\r\n", ""},
		{"ECHO\ta\n", "*2\r\n$4\r\nECHO\r\n$1\r\na\r\n", ""},
		{"ECHO 'a\\'b'\n", "*2\r\n$4\r\nECHO\r\n$3\r\na'b\r\n", ""},
		{"SET \"k\\x41\\n\" \"\"\n", "*3\r\n$3\r\nSET\r\n$3\r\nkA\n\r\n$0\r\n\r\n", ""},
		{"PING \"a\r\n", "", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{"ECHO \"a\"b\n", "", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		// Strict integers.
		{"*+1\r\n", "", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*01\r\n", "", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*-0\r\n", "", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1 \r\n", "", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*a\r\n", "", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*\r\n", "", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\n\r\n", "", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*3000000000\r\n", "", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*99999999999999999999999\r\n", "", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n$04\r\n", "*1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n$-1\r\n", "*1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n$-0\r\n", "*1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n$4a\r\n", "*1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*2\r\n$4\r\nECHO\r\n$536870913\r\n", "*2\r\n$4\r\nECHO\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\nx4\r\nPING\r\n", "*1\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n"},
		{"*1\r\n\r\n", "*1\r\n", "-ERR Protocol error: expected '$', got ' '\r\n"},
		// The commands before a violation still go through.
		{"*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n", "*1\r\n$4\r\nPING\r\n*1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n$4\r\nPING\r\n$3\r\n", "*1\r\n$4\r\nPING\r\n*1\r\n$2\r\n$3\r\n", ""},
		// Incomplete input waits.
		{"*2000000000\r\n", "*2000000000\r\n", ""},
		{"*1\n", "", ""},
		{"*2\r\n$4\r\nECHO\r\n$536870912\r\n", "*2\r\n$4\r\nECHO\r\n$536870912\r\n", ""},
		// A NUL hides the line's end from Redis's strchr: it waits.
		{"ECHO a\x00b\n", "", ""},
		{"*1\x00\r\n$4\r\nPING\r\n", "", ""},
	}
	for _, tc := range cases {
		for _, step := range []int{0, 1, 3} {
			out, reply, _ := scanAll([]byte(tc.in), step, testLimits)
			if out != tc.out || reply != tc.reply {
				t.Errorf("%q (chunks of %d): got %q + %q, want %q + %q", tc.in, step, out, reply, tc.out, tc.reply)
			}
		}
	}
}

// Redis limits a client that has not authenticated to 10 arguments of
// 16 KB.
func TestReqScannerUnauthenticated(t *testing.T) {
	lim := testLimits
	lim.authed = false
	for _, tc := range []struct{ in, reply string }{
		{"*10\r\n", ""},
		{"*11\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n"},
		{"*2\r\n$4\r\nAUTH\r\n$16384\r\n", ""},
		{"*2\r\n$4\r\nAUTH\r\n$16385\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n"},
		{"*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
	} {
		if _, reply, _ := scanAll([]byte(tc.in), 0, lim); reply != tc.reply {
			t.Errorf("%q: reply %q, want %q", tc.in, reply, tc.reply)
		}
	}
}

// Lines without their terminator are refused past 64 KB, whatever the
// chunking.
func TestReqScannerLongLines(t *testing.T) {
	for _, tc := range []struct {
		prefix, fill, reply string
	}{
		{"PING ", "a", "-ERR Protocol error: too big inline request\r\n"},
		{"*1", "1", "-ERR Protocol error: too big mbulk count string\r\n"},
		{"*1\r\n$1", "1", "-ERR Protocol error: too big bulk count string\r\n"},
		{"ECHO \x00", "\n", "-ERR Protocol error: too big inline request\r\n"},
	} {
		in := []byte(tc.prefix + strings.Repeat(tc.fill, protoInlineMaxSize))
		for _, step := range []int{0, 1000, 4096} {
			_, reply, _ := scanAll(in, step, testLimits)
			if reply != tc.reply {
				t.Errorf("%q + %d×%q (chunks of %d): reply %q, want %q", tc.prefix, protoInlineMaxSize, tc.fill, step, reply, tc.reply)
			}
		}
	}
	// Just under the limit is accepted.
	in := "ECHO " + strings.Repeat("a", 60000) + "\n"
	out, reply, _ := scanAll([]byte(in), 0, testLimits)
	if reply != "" || !strings.HasSuffix(out, "$60000\r\n"+strings.Repeat("a", 60000)+"\r\n") {
		t.Errorf("60000-byte inline request refused: %q", reply)
	}
}

// proto-max-bulk-len and client-query-buffer-limit apply as configured.
func TestReqScannerConfiguredLimits(t *testing.T) {
	lim := reqLimits{maxBulk: 1000, maxQuery: 5000, authed: true}
	if _, reply, _ := scanAll([]byte("*2\r\n$4\r\nECHO\r\n$1000\r\n"), 0, lim); reply != "" {
		t.Errorf("bulk at the limit refused: %q", reply)
	}
	if _, reply, _ := scanAll([]byte("*2\r\n$4\r\nECHO\r\n$1001\r\n"), 0, lim); reply != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Errorf("bulk over the limit: %q", reply)
	}
	// Ten 900-byte arguments pass proto-max-bulk-len but not the query
	// buffer: the connection closes with no reply, as in Redis.
	var b bytes.Buffer
	b.WriteString("*10\r\n")
	for i := 0; i < 10; i++ {
		b.WriteString("$900\r\n" + strings.Repeat("x", 900) + "\r\n")
	}
	_, reply, failed := scanAll(b.Bytes(), 100, lim)
	if !failed || reply != "" {
		t.Errorf("query buffer limit: failed=%v reply %q", failed, reply)
	}
	// An endless array of tiny arguments is cut off too.
	var s reqScanner
	_, e := s.feed([]byte("*2000000000\r\n"), nil, lim)
	for i := 0; e == nil && i < 10000; i++ {
		_, e = s.feed([]byte("$1\r\nx\r\n"), nil, lim)
	}
	if e == nil || e.reply != "" {
		t.Errorf("endless array not cut off: %+v", e)
	}
	// A stream of small complete commands is never cut off.
	s = reqScanner{}
	for i := 0; i < 10000; i++ {
		if _, e := s.feed([]byte("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"), nil, lim); e != nil {
			t.Fatalf("pipelined GETs cut off after %d: %+v", i, e)
		}
	}
}

func TestString2ll(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1": 1, "-1": -1, "10": 10, "9223372036854775807": 1<<63 - 1,
		"-9223372036854775808": -1 << 63,
	} {
		if got, ok := string2ll([]byte(in)); !ok || got != want {
			t.Errorf("string2ll(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "-", "+1", "01", "-0", "00", " 1", "1 ", "9223372036854775808",
		"-9223372036854775809", "18446744073709551616", "1a", "0x1"} {
		if _, ok := string2ll([]byte(in)); ok {
			t.Errorf("string2ll(%q) accepted", in)
		}
	}
}

// checkScanned is the property every input must keep: chunking does not
// change the scanner's verdict or output, and the connection loop's
// batches, however the bytes arrive, hold exactly the complete commands of
// the scanner's output.
func checkScanned(t *testing.T, in []byte) {
	lim := reqLimits{maxBulk: 1 << 20, maxQuery: 4 << 20, authed: true}
	out, reply, failed := scanAll(in, 0, lim)
	for _, step := range []int{1, 2, 7} {
		o, r, f := scanAll(in, step, lim)
		if o != out || r != reply || f != failed {
			t.Fatalf("chunks of %d: %q %q %v, at once: %q %q %v", step, o, r, f, out, reply, failed)
		}
	}
	want, _ := decodeCanonical([]byte(out))
	for _, step := range []int{1, 7, 4096} {
		lc, sc := newTestLimitConn(bytes.NewReader(in), func(c *Config) {
			c.ProtoMaxBulkLen, c.ClientQueryBufferLimit = lim.maxBulk, lim.maxQuery
		})
		sc.step = step
		got, err := readAllBatches(lc)
		if !errors.Is(err, io.EOF) && !errors.Is(err, errLimitClosed) {
			t.Fatalf("reads of %d: error %v", step, err)
		}
		if errors.Is(err, errLimitClosed) != failed {
			t.Fatalf("reads of %d: %v, scanner failed=%v", step, err, failed)
		}
		if failed {
			lc.refuse()
			if sc.written.String() != reply {
				t.Fatalf("reads of %d: replied %q, want %q", step, sc.written.String(), reply)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("reads of %d: %d commands, want %d in %q", step, len(got), len(want), out)
		}
		for i := range want {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("command %d: %q vs %q", i, got[i], want[i])
			}
			for j := range want[i] {
				if !bytes.Equal(got[i][j], want[i][j]) {
					t.Fatalf("command %d arg %d: %q vs %q", i, j, got[i][j], want[i][j])
				}
			}
		}
	}
}

// readAllBatches runs the connection loop's reading until it fails,
// keeping every batch's commands (which must stay valid).
func readAllBatches(lc *limitConn) ([][][]byte, error) {
	var got [][][]byte
	for {
		cmds, size, err := lc.readBatch(nil)
		if n := len(cmds); n > 0 {
			if s := canonicalSize(cmds); s != size {
				panic(fmt.Sprintf("batch of %d commands: size %d, want %d", n, size, s))
			}
		}
		got = append(got, cmds...)
		if err != nil {
			return got, err
		}
	}
}

// canonicalSize is the size of cmds in canonical RESP.
func canonicalSize(cmds [][][]byte) int {
	n := 0
	for _, args := range cmds {
		n += len("*\r\n") + len(strconv.Itoa(len(args)))
		for _, a := range args {
			n += len("$\r\n\r\n") + len(strconv.Itoa(len(a))) + len(a)
		}
	}
	return n
}

// decodeCanonical decodes complete canonical RESP arrays of bulk strings.
func decodeCanonical(b []byte) (cmds [][][]byte, rest []byte) {
	for len(b) > 0 {
		r := b
		n, ok := canonicalLine(&r, '*')
		if !ok {
			return cmds, b
		}
		var cmd [][]byte
		for j := int64(0); j < n; j++ {
			l, ok := canonicalLine(&r, '$')
			if !ok || int64(len(r)) < l+2 {
				return cmds, b
			}
			cmd = append(cmd, r[:l])
			r = r[l+2:]
		}
		cmds = append(cmds, cmd)
		b = r
	}
	return cmds, nil
}

func canonicalLine(b *[]byte, marker byte) (int64, bool) {
	i := bytes.Index(*b, []byte("\r\n"))
	if i < 1 || (*b)[0] != marker {
		return 0, false
	}
	n, ok := string2ll((*b)[1:i])
	*b = (*b)[i+2:]
	return n, ok
}

// FuzzReqScanner throws arbitrary bytes at the request framer: it must not
// panic, chunking must not change its verdict, and the connection loop must
// run exactly the commands it lets through. Seeds are in testdata/fuzz/FuzzReqScanner.
func FuzzReqScanner(f *testing.F) {
	for _, s := range protocolSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkScanned(t, in)
	})
}

// scriptConn is a net.Conn whose reads come from r in pieces of at most
// step bytes (4096 if 0) and whose writes are recorded.
type scriptConn struct {
	net.Conn
	r       io.Reader
	step    int
	reads   int // reads that returned data
	written bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error) {
	step := c.step
	if step == 0 {
		step = 4096
	}
	if len(p) > step {
		p = p[:step]
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.reads++
	}
	return n, err
}
func (c *scriptConn) Write(p []byte) (int, error)      { return c.written.Write(p) }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) Close() error                     { return nil }

func newTestLimitConn(in io.Reader, mod func(*Config)) (*limitConn, *scriptConn) {
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	sc := &scriptConn{r: in}
	srv := &Server{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &limitConn{Conn: sc, srv: srv}, sc
}

// A command of many small arguments arriving over many reads is scanned
// once, as it arrives, and runs with all of its arguments in the batch of
// the read that completes it, with what else that read completed.
func TestReadBatchLargeCommand(t *testing.T) {
	const n = 200000
	var b bytes.Buffer
	b.WriteString("*" + strconv.Itoa(n) + "\r\n")
	for i := 0; i < n; i++ {
		b.WriteString("$1\r\nx\r\n")
	}
	b.WriteString("PING\r\n")
	lc, sc := newTestLimitConn(bytes.NewReader(b.Bytes()), nil)
	cmds, size, err := lc.readBatch(nil)
	if err != nil || len(cmds) != 2 || len(cmds[0]) != n || size != canonicalSize(cmds) {
		t.Fatalf("big command: %d commands, size %d, %v", len(cmds), size, err)
	}
	for _, a := range cmds[0] {
		if string(a) != "x" {
			t.Fatalf("argument %q", a)
		}
	}
	if len(cmds[1]) != 1 || string(cmds[1][0]) != "PING" {
		t.Fatalf("next command: %q", cmds[1])
	}
	t.Logf("%d-byte command read in %d reads", b.Len(), sc.reads)
}

// A 64 MB argument is held once while it arrives and once more at most
// when its batch is cut (the scratch buffer is handed over, not copied),
// and nothing is allocated from the announced length.
func TestReadBatchLargeBulkMemory(t *testing.T) {
	const size = 64 << 20
	head := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + strconv.Itoa(size) + "\r\n"
	r := io.MultiReader(strings.NewReader(head), io.LimitReader(&repeatReader{chunk: []byte("abcdefgh")}, size),
		strings.NewReader("\r\nPING\r\n"))
	lc, sc := newTestLimitConn(r, nil)
	sc.step = 1 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cmds, _, err := lc.readBatch(nil)
	runtime.ReadMemStats(&after)
	if err != nil || len(cmds) != 2 || len(cmds[0]) != 3 || len(cmds[0][2]) != size {
		t.Fatalf("got %d commands, %v", len(cmds), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*size {
		t.Errorf("a %d-byte argument allocated %d bytes", size, alloc)
	}
	// A huge announced length alone allocates nothing of its size.
	lc, _ = newTestLimitConn(strings.NewReader("*1\r\n$536870912\r\nxyz"), nil)
	runtime.ReadMemStats(&before)
	if _, _, err := lc.readBatch(nil); !errors.Is(err, io.EOF) {
		t.Fatalf("incomplete bulk: %v", err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("an announced 512 MB bulk allocated %d bytes", alloc)
	}
	// Nor does a huge announced count.
	lc, _ = newTestLimitConn(strings.NewReader("*2000000000\r\n$1\r\nx\r\n$1\r\ny\r\n"), nil)
	runtime.ReadMemStats(&before)
	if _, _, err := lc.readBatch(nil); !errors.Is(err, io.EOF) {
		t.Fatalf("incomplete array: %v", err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("an announced count of 2000000000 allocated %d bytes", alloc)
	}
}

// Everything whole that one read delivers is one batch; a batch's arguments
// are not overwritten by later reads and cannot be appended over their
// neighbours.
func TestReadBatchKeepsArgs(t *testing.T) {
	in := "*2\r\n$3\r\nGET\r\n$1\r\na\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nbc\r\n*1\r\n$4\r\nPI" +
		"NG\r\n*2\r\n$3\r\nGET\r\n$1\r\nz\r\n"
	lc, sc := newTestLimitConn(strings.NewReader(in), nil)
	sc.step = strings.Index(in, "$4\r\nPING") + len("$4\r\nPI")
	first, _, err := lc.readBatch(nil)
	if err != nil || fmt.Sprintf("%q", first) != `[["GET" "a"] ["PING"] ["ECHO" "bc"]]` {
		t.Fatalf("first batch %q %v", first, err)
	}
	for _, args := range first {
		if cap(args) != len(args) {
			t.Fatalf("args %q have room to grow over the next command's", args)
		}
		for _, a := range args {
			if cap(a) != len(a) {
				t.Fatalf("argument %q has room to grow over the bytes after it", a)
			}
		}
	}
	second, _, err := lc.readBatch(nil)
	if err != nil || fmt.Sprintf("%q", second) != `[["PING"] ["GET" "z"]]` {
		t.Fatalf("second batch %q %v", second, err)
	}
	if fmt.Sprintf("%q", first) != `[["GET" "a"] ["PING"] ["ECHO" "bc"]]` {
		t.Fatalf("first batch overwritten: %q", first)
	}
}

// A batch costs at most two allocations, whatever its number of commands.
func TestReadBatchAllocations(t *testing.T) {
	data := pipelinedSets(16)
	lc, _ := newTestLimitConn(&repeatReader{chunk: data}, nil)
	var cmds [][][]byte
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		cmds, _, err = lc.readBatch(cmds[:0])
		if err != nil || len(cmds) != 16 {
			t.Fatalf("%d commands, %v", len(cmds), err)
		}
	})
	if allocs > 2 {
		t.Errorf("%v allocations per batch of 16 commands", allocs)
	}
}

// An array announcing two billion arguments runs nothing: the query buffer
// limit closes the connection first, without a reply.
func TestReadBatchEndlessArray(t *testing.T) {
	chunk := bytes.Repeat([]byte("$1\r\nx\r\n"), 1000)
	r := io.MultiReader(strings.NewReader("PING\r\n*2000000000\r\n"), &repeatReader{chunk: chunk})
	lc, sc := newTestLimitConn(r, func(c *Config) { c.ClientQueryBufferLimit = 1 << 20 })
	got, err := readAllBatches(lc)
	if !errors.Is(err, errLimitClosed) || fmt.Sprintf("%q", got) != `[["PING"]]` {
		t.Fatalf("got %q, then %v", got, err)
	}
	lc.refuse()
	if sc.written.Len() != 0 {
		t.Fatalf("wrote %q", sc.written.String())
	}
}

// A protocol error is answered after the commands before it ran.
func TestReadBatchProtocolError(t *testing.T) {
	lc, sc := newTestLimitConn(strings.NewReader("*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n"), nil)
	cmds, _, err := lc.readBatch(nil)
	if !errors.Is(err, errLimitClosed) || fmt.Sprintf("%q", cmds) != `[["PING"]]` || sc.written.Len() != 0 {
		t.Fatalf("first read: %q %v, wrote %q", cmds, err, sc.written.String())
	}
	lc.refuse()
	if got := sc.written.String(); got != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Fatalf("reply %q", got)
	}
}

// repeatReader repeats chunk forever.
type repeatReader struct {
	chunk []byte
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.chunk[r.off:])
	r.off = (r.off + n) % len(r.chunk)
	return n, nil
}

// pipelinedSets is n SET commands as a client pipelines them.
func pipelinedSets(n int) []byte {
	var in bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "*3\r\n$3\r\nSET\r\n$10\r\nkey:%06d\r\n$32\r\n%032d\r\n", i, i)
	}
	return in.Bytes()
}

// BenchmarkReadBatch measures the read path per batch of 16 pipelined SETs
// (what redis-benchmark -P 16 sends): read, scan, cut into arguments.
func BenchmarkReadBatch(b *testing.B) {
	data := pipelinedSets(16)
	lc, _ := newTestLimitConn(&repeatReader{chunk: data}, nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var cmds [][][]byte
	for b.Loop() {
		var err error
		cmds, _, err = lc.readBatch(cmds[:0])
		if err != nil || len(cmds) != 16 {
			b.Fatalf("%d commands, %v", len(cmds), err)
		}
	}
}
