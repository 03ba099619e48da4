package tests

// Limits on clients (issue 7, part 4): each test tries to break one limit
// and checks both the reply a client sees and that the server's memory
// stays bounded.

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procMemKB reads a process's VmRSS and VmHWM (peak RSS) in kB.
func procMemKB(t *testing.T, pid int) (rss, peak int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("cannot read /proc/%d/status: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			peak = v
		}
	}
	return rss, peak
}

// readUntilEOF reads everything the server sends until it closes the
// connection; it fails if the server keeps it open for 10 s.
func readUntilEOF(t *testing.T, conn net.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(replyTimeout))
	b, err := io.ReadAll(conn)
	if err != nil && !isReset(err) {
		t.Fatalf("waiting for the server to close the connection: %v (read %q)", err, truncate(b))
	}
	return string(b)
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe"))
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// quiet reports whether the server sends nothing and keeps the connection
// open for a moment (a request still waiting for its end).
func quiet(conn net.Conn) (string, bool) {
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var buf [512]byte
	n, err := conn.Read(buf[:])
	var ne net.Error
	return string(buf[:n]), n == 0 && errors.As(err, &ne) && ne.Timeout()
}

// Malformed and oversized requests get Redis's exact protocol errors and
// the connection is closed after them; the commands before the bad part
// still run.
func TestProtocolErrorsMatchRedis(t *testing.T) {
	requireRedis(t)
	r := startRedis(t)
	d := startDurastore(t)
	closing := []string{
		"*3000000000\r\n",
		"*+1\r\n$4\r\nPING\r\n",
		"*01\r\n$4\r\nPING\r\n",
		"*-0\r\nPING\r\n",
		"*a\r\n",
		"*1 \r\n$4\r\nPING\r\n",
		"*1\n\r\n$4\r\nPING\r\n",
		"*1\r\n$04\r\nPING\r\n",
		"*1\r\n$-1\r\n",
		"*1\r\n$4a\r\nPING\r\n",
		"*1\r\nx4\r\nPING\r\n",
		"*1\r\n\r\n",
		"*2\r\n$4\r\nECHO\r\n$536870913\r\n",
		"*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n",
		"SET a b\r\nPING \"a\r\nPING\r\n",
		"ECHO \"a\"b\n",
		"PING " + strings.Repeat("a", 70000),
		"*1" + strings.Repeat("1", 70000),
		"*1\r\n$1" + strings.Repeat("1", 70000),
		"ECHO a\x00" + strings.Repeat("b", 70000) + "\n",
	}
	for _, in := range closing {
		rc, err := net.Dial("tcp", r.Addr)
		if err != nil {
			t.Fatal(err)
		}
		dc, err := net.Dial("tcp", d.Addr)
		if err != nil {
			t.Fatal(err)
		}
		rc.Write([]byte(in))
		dc.Write([]byte(in))
		want, got := readUntilEOF(t, rc), readUntilEOF(t, dc)
		rc.Close()
		dc.Close()
		if got != want {
			t.Errorf("%q:\n redis     %q\n durastore %q", truncate([]byte(in)), want, got)
		}
	}

	// Requests Redis accepts, including its lax framing, give the same
	// replies and leave the connection open.
	x := newDiffProcs(t, r, d)
	for _, in := range []string{
		"*0\r\n*-10\r\n*1\r\n$4\r\nPING\r\n",
		"*1\r\n$4\r\nPINGxx",
		"*1\rx$4\rxPINGxx",
		"\r\n\n  \r\nPING\n",
		"PING\rPING\n",
		"ECHO\ta\n",
		"ECHO 'a\\'b'\n",
		"ECHO \"k\\x41\\n\"\r\n",
		"ECHO " + strings.Repeat("a", 60000) + "\n",
		"SET a b c d\r\n",
		"*1\r\n$0\r\n\r\n",
	} {
		x.DoRaw(t, []byte(in))
	}
	// Requests still waiting for their end get no reply on either.
	for _, in := range []string{"*2000000000\r\n", "*1\n", "*2\r\n$4\r\nECHO\r\n$536870912\r\n", "ECHO a\x00b\n"} {
		for _, p := range []*Proc{r, d} {
			c, err := net.Dial("tcp", p.Addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte(in))
			if got, ok := quiet(c); !ok {
				t.Errorf("%s: %q: expected no reply yet, got %q", p.Name, in, got)
			}
			c.Close()
		}
	}
}

// Before AUTH, Redis allows at most 10 arguments of 16 KB each.
func TestUnauthenticatedRequestLimits(t *testing.T) {
	requireRedis(t)
	r := startRedis(t, "--requirepass", "pw")
	d := startDurastore(t, "--requirepass", "pw")
	for _, in := range []string{"*11\r\n", "*2\r\n$4\r\nAUTH\r\n$16385\r\n"} {
		var replies [2]string
		for i, p := range []*Proc{r, d} {
			c, err := net.Dial("tcp", p.Addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte(in))
			replies[i] = readUntilEOF(t, c)
			c.Close()
		}
		if replies[0] != replies[1] {
			t.Errorf("%q: redis %q, durastore %q", in, replies[0], replies[1])
		}
	}
	// Once authenticated, the same requests are fine.
	c := d.Dial(t)
	expectReply(t, c, "+OK\r\n", "AUTH", "pw")
	big := strings.Repeat("v", 20000)
	expectReply(t, c, "$20000\r\n"+big+"\r\n", "ECHO", big)
	args := []string{"MSET"}
	for i := 0; i < 6; i++ {
		args = append(args, fmt.Sprintf("k%d", i), "v")
	}
	expectReply(t, c, "+OK\r\n", args...)
}

// proto-max-bulk-len caps one argument, as configured and as changed by
// CONFIG SET.
func TestProtoMaxBulkLen(t *testing.T) {
	d := startDurastore(t, "--proto-max-bulk-len", "1mb")
	c := d.Dial(t)
	v := strings.Repeat("x", 1<<20)
	expectReply(t, c, "+OK\r\n", "SET", "k", v)
	expectReply(t, c, ":1048576\r\n", "STRLEN", "k")

	over := d.Dial(t)
	over.SendRaw([]byte(fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", 1<<20+1)))
	if got := readUntilEOF(t, over.conn); got != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Fatalf("bulk over the limit: %q", got)
	}
	expectReply(t, c, "+OK\r\n", "CONFIG", "SET", "proto-max-bulk-len", "2mb")
	expectReply(t, c, "+OK\r\n", "SET", "k", v+"y")
	expectReply(t, c, ":1048577\r\n", "STRLEN", "k")
}

// streamUntilClosed writes chunk repeatedly until the server closes the
// connection or max bytes have gone; it returns how many bytes went.
func streamUntilClosed(t *testing.T, conn net.Conn, head, chunk []byte, max int64) (int64, error) {
	t.Helper()
	conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
	if _, err := conn.Write(head); err != nil {
		return 0, err
	}
	sent := int64(len(head))
	for sent < max {
		n, err := conn.Write(chunk)
		sent += int64(n)
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// A client streaming an endless bulk, an endless array or an endless
// inline line is cut off once it passes the limits, and the server's
// memory stays bounded by them rather than by what the client sends.
func TestEndlessRequestsAreCutOff(t *testing.T) {
	const limit = 8 << 20
	d := startDurastore(t, "--client-query-buffer-limit", "8mb", "--proto-max-bulk-len", "4mb")
	pid := d.Pid()
	_, base := procMemKB(t, pid)
	chunk := bytes.Repeat([]byte("$1\r\nx\r\n"), 8192)
	cases := []struct {
		name  string
		head  []byte
		chunk []byte
		reply string
	}{
		// An array header announcing two billion arguments, then tiny
		// arguments forever: the query buffer limit closes it silently.
		{"endless array", []byte("*2000000000\r\n"), chunk, ""},
		// An array of 4 MB arguments: each is allowed, their sum is not.
		{"endless large arguments", []byte("*1000\r\n"), append([]byte("$4194304\r\n"), bytes.Repeat([]byte("y"), 4194304+2)...), ""},
		// A bulk longer than proto-max-bulk-len is refused at its header.
		{"endless bulk", []byte("*2\r\n$4\r\nECHO\r\n$999999999999\r\n"), bytes.Repeat([]byte("z"), 65536), "-ERR Protocol error: invalid bulk length\r\n"},
		// An inline request without an end stops at 64 KB.
		{"endless inline", []byte("SET k "), bytes.Repeat([]byte("w"), 65536), "-ERR Protocol error: too big inline request\r\n"},
	}
	for _, tc := range cases {
		conn, err := net.Dial("tcp", d.Addr)
		if err != nil {
			t.Fatal(err)
		}
		// Read what the server answers concurrently, so its reply
		// does not wait for our writes.
		got := make(chan string, 1)
		go func() {
			conn.SetReadDeadline(time.Now().Add(60 * time.Second))
			b, _ := io.ReadAll(conn)
			got <- string(b)
		}()
		const max = 1 << 30
		sent, werr := streamUntilClosed(t, conn, tc.head, tc.chunk, max)
		if werr == nil {
			t.Errorf("%s: the server accepted %d bytes without closing the connection", tc.name, sent)
		}
		reply := <-got
		conn.Close()
		if reply != tc.reply {
			t.Errorf("%s: reply %q, want %q", tc.name, truncate([]byte(reply)), tc.reply)
		}
		// What the kernel buffers aside, the server stopped reading
		// soon after the limit.
		if sent > 8*limit+64<<20 {
			t.Errorf("%s: %d bytes went through before the server closed the connection", tc.name, sent)
		}
		t.Logf("%s: closed after %d bytes sent", tc.name, sent)
	}
	// The server still serves.
	c := d.Dial(t)
	expectReply(t, c, "+PONG\r\n", "PING")
	rss, peak := procMemKB(t, pid)
	t.Logf("server memory: peak %d kB before, peak %d kB and current %d kB after", base, peak, rss)
	// Each attack could buffer at most a few times the 8 MB limit; a
	// server buffering what it was sent would have grown by gigabytes.
	if growth := peak - base; growth > 400<<10 {
		t.Errorf("peak RSS grew by %d kB during the attacks", growth)
	}
}

// The query buffer limit is configurable at run time; a request within it
// passes.
func TestClientQueryBufferLimit(t *testing.T) {
	d := startDurastore(t, "--client-query-buffer-limit", "1mb")
	c := d.Dial(t)
	half := strings.Repeat("h", 400<<10)
	expectReply(t, c, "+OK\r\n", "MSET", "a", half, "b", half)
	over := d.Dial(t)
	err := over.SendRawErr(encodeCommand("MSET", "a", half, "b", half, "c", half))
	if err == nil {
		if got := readUntilEOF(t, over.conn); got != "" {
			t.Errorf("query buffer limit: reply %q, want the connection closed silently", got)
		}
	}
	expectReply(t, c, "+OK\r\n", "CONFIG", "SET", "client-query-buffer-limit", "2mb")
	expectReply(t, c, "+OK\r\n", "MSET", "a", half, "b", half, "c", half)
	expectReply(t, c, ":409600\r\n", "STRLEN", "c")
}

// A client that pipelines millions of GETs and never reads its replies
// does not make the server buffer them: the server stops reading its
// requests once the socket is full, so its memory stays flat.
func TestPipelineWithoutReadingIsBounded(t *testing.T) {
	d := startDurastore(t)
	c := d.Dial(t)
	for _, size := range []int{100, 64 << 10, 1 << 20} {
		expectReply(t, c, "+OK\r\n", "SET", "k", strings.Repeat("v", size))
		_, base := procMemKB(t, d.Pid())
		conn, err := net.Dial("tcp", d.Addr)
		if err != nil {
			t.Fatal(err)
		}
		get := encodeCommand("GET", "k")
		batch := bytes.Repeat(get, 10000)
		const total = 2_000_000
		conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		sent := 0
		for sent < total {
			if _, err := conn.Write(batch); err != nil {
				break
			}
			sent += 10000
		}
		// The replies of all those GETs would be gigabytes; the server
		// must have stopped reading long before.
		if sent >= total {
			t.Errorf("value of %d bytes: the server read all %d pipelined GETs without their replies being read", size, total)
		}
		// Other clients are served meanwhile.
		expectReply(t, c, ":"+strconv.Itoa(size)+"\r\n", "STRLEN", "k")
		rss, peak := procMemKB(t, d.Pid())
		t.Logf("value of %d bytes: %d GETs written before the socket filled; peak RSS %d kB -> %d kB (now %d kB)", size, sent, base, peak, rss)
		// Bounded: a group of replies (16 reads) at a time, plus slack
		// for the race detector. Replies to every GET sent would be
		// over 200 MB for the smallest value.
		if growth, limit := peak-base, int64(128<<10+200*size/1024); growth > limit {
			t.Errorf("value of %d bytes: peak RSS grew by %d kB (limit %d kB)", size, growth, limit)
		}
		// Reading the replies now gets them all, in order.
		conn.SetWriteDeadline(time.Time{})
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		want := fmt.Sprintf("$%d\r\n%s\r\n", size, strings.Repeat("v", size))
		br := bufio.NewReaderSize(conn, 1<<20)
		buf := make([]byte, len(want))
		for i := 0; i < 100; i++ {
			if _, err := io.ReadFull(br, buf); err != nil || string(buf) != want {
				t.Fatalf("reply %d: %v %q", i, err, truncate(buf))
			}
		}
		conn.Close()
	}
}

// maxclients refuses the connection past the limit with Redis's error and
// admits a new one once a client leaves.
func TestMaxClients(t *testing.T) {
	d := startDurastore(t, "--maxclients", "3")
	var conns []*RawConn
	for i := 0; i < 3; i++ {
		c := d.Dial(t)
		expectReply(t, c, "+PONG\r\n", "PING")
		conns = append(conns, c)
	}
	extra, err := net.Dial("tcp", d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := readUntilEOF(t, extra); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("fourth client: %q", got)
	}
	extra.Close()
	expectReply(t, conns[0], "+PONG\r\n", "PING")
	if got := conns[0].Do("INFO", "stats"); !strings.Contains(got, "rejected_connections:1\r\n") {
		t.Errorf("INFO stats does not count the rejected connection:\n%s", got)
	}
	conns[1].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", d.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(encodeCommand("PING"))
		c.SetReadDeadline(time.Now().Add(replyTimeout))
		raw, _, err := readReply(bufio.NewReader(c))
		c.Close()
		if err == nil && raw == "+PONG\r\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no client admitted after one left: %q %v", raw, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// CONFIG SET maxclients applies to the next connection.
	expectReply(t, conns[0], "+OK\r\n", "CONFIG", "SET", "maxclients", "2")
	extra, err = net.Dial("tcp", d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := readUntilEOF(t, extra); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("client over the lowered limit: %q", got)
	}
	extra.Close()
}

// The idle timeout closes a silent client, keeps a busy one, and also
// closes a client that stops reading its replies.
func TestIdleTimeout(t *testing.T) {
	d := startDurastore(t, "--timeout", "1")
	idle, err := net.Dial("tcp", d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	busy := d.Dial(t)
	start := time.Now()
	for time.Since(start) < 2500*time.Millisecond {
		expectReply(t, busy, "+PONG\r\n", "PING")
		time.Sleep(50 * time.Millisecond)
	}
	if got := readUntilEOF(t, idle); got != "" {
		t.Errorf("idle client got %q before being closed", got)
	}
	expectReply(t, busy, "+PONG\r\n", "PING")

	// A client that writes GETs but never reads: once its replies fill
	// the socket the server can write nothing for a second and drops it.
	c := d.Dial(t)
	expectReply(t, c, "+OK\r\n", "SET", "k", strings.Repeat("v", 1000))
	stuck, err := net.Dial("tcp", d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	batch := bytes.Repeat(encodeCommand("GET", "k"), 10000)
	stuck.SetWriteDeadline(time.Now().Add(30 * time.Second))
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		_, werr = stuck.Write(batch)
	}
	if werr == nil {
		t.Fatalf("the server read 10 million GETs from a client that never read")
	}
	var ne net.Error
	if errors.As(werr, &ne) && ne.Timeout() {
		t.Fatalf("the server kept a client that read nothing for 30 s: %v", werr)
	}
	stuck.Close()
	expectReply(t, d.Dial(t), "+PONG\r\n", "PING")
}

// nonLoopbackIP returns an address of this host other than loopback, or
// skips the test.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("interface addresses: %v", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String()
		}
	}
	t.Skip("this host has no non-loopback IPv4 address")
	return ""
}

func dialAndRead(t *testing.T, addr string, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, replyTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.Write([]byte(req))
	return readUntilEOF(t, c)
}

// Protected mode as Redis 7.0: bound to a public address with no password,
// clients from outside the loopback interface get the DENIED text.
func TestProtectedMode(t *testing.T) {
	requireRedis(t)
	ip := nonLoopbackIP(t)
	r := startRedis(t, "--bind", "0.0.0.0", "--protected-mode", "yes")
	d := startDurastore(t, "--bind", "0.0.0.0")
	want := dialAndRead(t, net.JoinHostPort(ip, strconv.Itoa(r.Port)), "PING\r\n")
	got := dialAndRead(t, net.JoinHostPort(ip, strconv.Itoa(d.Port)), "PING\r\n")
	if !strings.HasPrefix(want, "-DENIED Redis is running in protected mode") || got != want {
		t.Fatalf("outside client:\n redis     %q\n durastore %q", want, got)
	}
	c := d.Dial(t) // loopback
	expectReply(t, c, "+PONG\r\n", "PING")
	if info := c.Do("INFO", "stats"); !strings.Contains(info, "rejected_connections:1\r\n") {
		t.Errorf("the refused client is not counted:\n%s", info)
	}
	expectReply(t, c, "+OK\r\n", "CONFIG", "SET", "protected-mode", "no")
	outside := dialRaw(t, net.JoinHostPort(ip, strconv.Itoa(d.Port)))
	expectReply(t, outside, "+PONG\r\n", "PING")

	// With a password, outside clients are let in to authenticate.
	expectReply(t, c, "+OK\r\n", "CONFIG", "SET", "protected-mode", "yes")
	expectReply(t, c, "+OK\r\n", "CONFIG", "SET", "requirepass", "pw")
	outside = dialRaw(t, net.JoinHostPort(ip, strconv.Itoa(d.Port)))
	expectReply(t, outside, "-NOAUTH Authentication required.\r\n", "PING")
	expectReply(t, outside, "+OK\r\n", "AUTH", "pw")
}

// Without --bind, durastore listens on the loopback interface only.
func TestBindDefaultsToLoopback(t *testing.T) {
	ip := nonLoopbackIP(t)
	bin := ensureDurastoreBin(t)
	port := freePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--dir", t.TempDir(), "--http-port", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	local := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(startTimeout)
	for pingOnce(local) != nil {
		if time.Now().After(deadline) {
			t.Fatal("durastore did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(port)), 2*time.Second); err == nil {
		c.Close()
		t.Fatalf("durastore accepted a connection on %s without --bind", ip)
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1, a client
// certificate it signed, and a client certificate of another CA.
type testPKI struct {
	dir                       string
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	client, stranger          tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(1)
	makeCert := func(tmpl *x509.Certificate, parent *x509.Certificate, parentKey, key *ecdsa.PrivateKey) *x509.Certificate {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	writePEM := func(name, typ string, der []byte) string {
		path := filepath.Join(p.dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	caKey := newKey()
	ca := makeCert(&x509.Certificate{Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil, caKey)
	p.caFile = writePEM("ca.crt", "CERTIFICATE", ca.Raw)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(ca)

	srvKey := newKey()
	srv := makeCert(&x509.Certificate{Subject: pkix.Name{CommonName: "durastore"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey, srvKey)
	p.certFile = writePEM("server.crt", "CERTIFICATE", srv.Raw)
	p.keyFile = writePEM("server.key", "EC PRIVATE KEY", keyDER(srvKey))

	cliKey := newKey()
	cli := makeCert(&x509.Certificate{Subject: pkix.Name{CommonName: "client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey, cliKey)
	p.client = tls.Certificate{Certificate: [][]byte{cli.Raw}, PrivateKey: cliKey}

	otherKey := newKey()
	other := makeCert(&x509.Certificate{Subject: pkix.Name{CommonName: "other CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil, otherKey)
	strKey := newKey()
	str := makeCert(&x509.Certificate{Subject: pkix.Name{CommonName: "stranger"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, other, otherKey, strKey)
	p.stranger = tls.Certificate{Certificate: [][]byte{str.Raw}, PrivateKey: strKey}
	return p
}

// tlsDo connects with TLS (and the given client certificate, if any),
// sends one command and returns its reply or the error.
func tlsDo(addr string, pool *x509.CertPool, cert *tls.Certificate, args ...string) (string, error) {
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if cert != nil {
		// Send it even when its CA is not one the server asks for.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: replyTimeout}, "tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(replyTimeout))
	if _, err := c.Write(encodeCommand(args...)); err != nil {
		return "", err
	}
	raw, _, err := readReply(bufio.NewReader(c))
	return raw, err
}

// TLS on tls-port with a generated certificate: client certificates are
// required by default (as in Redis), checked against tls-ca-cert-file, and
// the request limits apply to TLS clients too.
func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	tlsPort := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
	base := []string{"--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", pki.certFile, "--tls-key-file", pki.keyFile,
		"--tls-ca-cert-file", pki.caFile, "--proto-max-bulk-len", "1mb"}
	d := startDurastore(t, base...)
	if r, err := tlsDo(addr, pki.pool, &pki.client, "SET", "k", "over tls"); err != nil || r != "+OK\r\n" {
		t.Fatalf("SET over TLS: %q %v", r, err)
	}
	expectReply(t, d.Dial(t), "$8\r\nover tls\r\n", "GET", "k") // the plain port serves the same data
	if r, err := tlsDo(addr, pki.pool, nil, "PING"); err == nil {
		t.Errorf("a client without a certificate was served: %q", r)
	}
	if r, err := tlsDo(addr, pki.pool, &pki.stranger, "PING"); err == nil {
		t.Errorf("a client with a certificate of another CA was served: %q", r)
	}
	// Limits: a bulk over proto-max-bulk-len is refused over TLS too.
	cfg := &tls.Config{RootCAs: pki.pool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{pki.client}}
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("*2\r\n$4\r\nECHO\r\n$2000000\r\n"))
	if got := readUntilEOF(t, c); got != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Errorf("over TLS: %q", got)
	}
	c.Close()
	if info := d.Dial(t).Do("CLIENT", "LIST"); strings.Contains(info, "fd=-1 ") {
		t.Errorf("CLIENT LIST: %s", info)
	}

	// tls-auth-clients no and optional.
	d.Stop()
	d.Args = append(d.Args, "--tls-auth-clients", "optional")
	d.Restart(t)
	if r, err := tlsDo(addr, pki.pool, nil, "PING"); err != nil || r != "+PONG\r\n" {
		t.Errorf("optional, no certificate: %q %v", r, err)
	}
	if r, err := tlsDo(addr, pki.pool, &pki.stranger, "PING"); err == nil {
		t.Errorf("optional, certificate of another CA: served %q", r)
	}
	if r, err := tlsDo(addr, pki.pool, &pki.client, "GET", "k"); err != nil || r != "$8\r\nover tls\r\n" {
		t.Errorf("optional, good certificate: %q %v", r, err)
	}
	d.Stop()
	d.Args = append(d.Args, "--tls-auth-clients", "no")
	d.Restart(t)
	if r, err := tlsDo(addr, pki.pool, nil, "PING"); err != nil || r != "+PONG\r\n" {
		t.Errorf("no client auth: %q %v", r, err)
	}
}

// A TLS configuration that cannot work stops start-up with a clear error.
func TestTLSConfigErrors(t *testing.T) {
	pki := newTestPKI(t)
	bin := ensureDurastoreBin(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-port", "0"}, ""},
		{[]string{}, "tls-cert-file and tls-key-file are required"},
		{[]string{"--tls-cert-file", pki.certFile, "--tls-key-file", pki.keyFile}, "needs tls-ca-cert-file"},
		{[]string{"--tls-cert-file", pki.certFile, "--tls-key-file", pki.caFile, "--tls-auth-clients", "no"}, "loading tls-cert-file"},
		{[]string{"--tls-cert-file", pki.certFile, "--tls-key-file", pki.keyFile, "--tls-ca-cert-file", pki.keyFile}, "holds no PEM certificate"},
	} {
		if tc.want == "" {
			continue
		}
		args := append([]string{"--port", strconv.Itoa(freePort(t)), "--tls-port", strconv.Itoa(freePort(t)), "--dir", t.TempDir(), "--http-port", "0"}, tc.args...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: %v\n%s", tc.args, err, out)
		}
	}
}

// No command reads or writes a file outside dir: paths in arguments go
// nowhere.
func TestNoFilesOutsideDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "data")
	os.Mkdir(dir, 0o755)
	d := startDurastore(t, "--dir", dir)
	c := d.Dial(t)
	elsewhere := filepath.Join(parent, "elsewhere")
	for _, cmd := range [][]string{
		{"SELECT", "../elsewhere"},
		{"SELECT", "/" + elsewhere},
		{"CONFIG", "SET", "dir", elsewhere},
		{"CONFIG", "SET", "logfile", filepath.Join(elsewhere, "log")},
		{"CONFIG", "SET", "dbfilename", "../elsewhere.rdb"},
		{"CONFIG", "SET", "appendfilename", "../elsewhere.aof"},
		{"CONFIG", "SET", "tls-cert-file", "/etc/passwd"},
		{"CONFIG", "REWRITE"},
		{"SET", "k", "v"},
		{"SAVE"},
		{"BGSAVE"},
		{"BGREWRITEAOF"},
		{"SWAPDB", "0", "1"},
		{"FLUSHALL"},
	} {
		c.Do(cmd...)
	}
	time.Sleep(200 * time.Millisecond) // let a background rewrite finish
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "data" {
			t.Errorf("a file appeared outside dir: %s", e.Name())
		}
	}
	if _, err := os.Stat(elsewhere); err == nil {
		t.Errorf("%s was created", elsewhere)
	}
}
