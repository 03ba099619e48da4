package server

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/redcon"
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
// change the scanner's verdict or output, and through a limitConn redcon
// parses what it is handed without a protocol error into exactly the
// complete commands of the scanner's output.
func checkScanned(t *testing.T, in []byte) {
	lim := reqLimits{maxBulk: 1 << 20, maxQuery: 4 << 20, authed: true}
	out, reply, failed := scanAll(in, 0, lim)
	for _, step := range []int{1, 2, 7} {
		o, r, f := scanAll(in, step, lim)
		if o != out || r != reply || f != failed {
			t.Fatalf("chunks of %d: %q %q %v, at once: %q %q %v", step, o, r, f, out, reply, failed)
		}
	}
	lc, _ := newTestLimitConn(bytes.NewReader(in), func(c *Config) {
		c.ProtoMaxBulkLen, c.ClientQueryBufferLimit = lim.maxBulk, lim.maxQuery
	})
	rd := redcon.NewReader(lc)
	var got [][][]byte
	for {
		cmd, err := rd.ReadCommand()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errLimitClosed) {
				t.Fatalf("redcon rejects the scanner's output %q: %v", out, err)
			}
			break
		}
		got = append(got, cmd.Args)
	}
	want, _ := decodeCanonical([]byte(out))
	if len(got) != len(want) {
		t.Fatalf("redcon found %d commands, want %d in %q", len(got), len(want), out)
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
// panic, chunking must not change its verdict, and redcon must accept
// everything it lets through. Seeds are in testdata/fuzz/FuzzReqScanner.
func FuzzReqScanner(f *testing.F) {
	for _, s := range protocolSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkScanned(t, in)
	})
}

// scriptConn is a net.Conn whose reads come from r in pieces of at most
// 4096 bytes and whose writes are recorded.
type scriptConn struct {
	net.Conn
	r       io.Reader
	written bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(p) > 4096 {
		p = p[:4096]
	}
	return c.r.Read(p)
}
func (c *scriptConn) Write(p []byte) (int, error)      { return c.written.Write(p) }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) Close() error                     { return nil }

// countingReader counts the reads that return data.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.reads++
	}
	return n, err
}

func newTestLimitConn(in io.Reader, mod func(*Config)) (*limitConn, *scriptConn) {
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	sc := &scriptConn{r: in}
	srv := &Server{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &limitConn{Conn: sc, srv: srv}, sc
}

// redcon parses its buffer again after every read: a command of many small
// arguments must reach it in few pieces, not one per network read.
func TestLimitConnHandsOverLargeCommandsInFewPieces(t *testing.T) {
	const n = 200000
	var b bytes.Buffer
	b.WriteString("*" + strconv.Itoa(n) + "\r\n")
	for i := 0; i < n; i++ {
		b.WriteString("$1\r\nx\r\n")
	}
	b.WriteString("PING\r\n")
	lc, _ := newTestLimitConn(bytes.NewReader(b.Bytes()), nil)
	cr := &countingReader{r: lc}
	rd := redcon.NewReader(cr)
	cmd, err := rd.ReadCommand()
	if err != nil || len(cmd.Args) != n {
		t.Fatalf("big command: %d args, %v", len(cmd.Args), err)
	}
	t.Logf("%d-byte command handed over in %d reads", b.Len(), cr.reads)
	if cr.reads > 40 {
		t.Errorf("the %d-byte command reached redcon in %d reads", b.Len(), cr.reads)
	}
	cmd, err = rd.ReadCommand()
	if err != nil || len(cmd.Args) != 1 || string(cmd.Args[0]) != "PING" {
		t.Fatalf("next command: %q %v", cmd.Args, err)
	}
}

// An array announcing two billion arguments reaches redcon not at all: the
// query buffer limit closes the connection first, without a reply.
func TestLimitConnEndlessArray(t *testing.T) {
	chunk := bytes.Repeat([]byte("$1\r\nx\r\n"), 1000)
	r := io.MultiReader(strings.NewReader("PING\r\n*2000000000\r\n"), &repeatReader{chunk: chunk})
	lc, sc := newTestLimitConn(r, func(c *Config) { c.ClientQueryBufferLimit = 1 << 20 })
	var got []byte
	buf := make([]byte, 4096)
	var err error
	for {
		var n int
		n, err = lc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if !errors.Is(err, errLimitClosed) || string(got) != "*1\r\n$4\r\nPING\r\n" || sc.written.Len() != 0 {
		t.Fatalf("got %q, then %v; wrote %q", got, err, sc.written.String())
	}
}

// A protocol error is answered after the commands before it were handed
// over, and only once.
func TestLimitConnProtocolError(t *testing.T) {
	lc, sc := newTestLimitConn(strings.NewReader("*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n"), nil)
	buf := make([]byte, 4096)
	n, err := lc.Read(buf)
	if err != nil || string(buf[:n]) != "*1\r\n$4\r\nPING\r\n" || sc.written.Len() != 0 {
		t.Fatalf("first read: %q %v, wrote %q", buf[:n], err, sc.written.String())
	}
	for i := 0; i < 2; i++ {
		if n, err = lc.Read(buf); n != 0 || !errors.Is(err, errLimitClosed) {
			t.Fatalf("read after the error: %d %v", n, err)
		}
	}
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

// BenchmarkLimitConn measures the wrapper's cost per pipelined command.
func BenchmarkLimitConn(b *testing.B) {
	var in bytes.Buffer
	for i := 0; i < 1000; i++ {
		in.WriteString("*3\r\n$3\r\nSET\r\n$10\r\nkey:000001\r\n$16\r\nvalue-0000000001\r\n")
	}
	data := in.Bytes()
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		lc, _ := newTestLimitConn(bytes.NewReader(data), nil)
		for {
			if _, err := lc.Read(buf); err != nil {
				break
			}
		}
	}
}
