// Package tests holds the end-to-end tests for durastore.
//
// This file is the harness: it builds the durastore binary, starts durastore
// and reference redis-server processes on free ports, provides a raw RESP
// client that returns replies byte-for-byte, and a differential runner that
// sends the same commands to redis-server and durastore and compares replies.
//
// Quick reference:
//
//	p := startDurastore(t, "--appendonly", "yes")   // *Proc, stopped on cleanup
//	c := p.Dial(t)                                    // *RawConn (or dialRaw(t, p.Addr))
//	c.Do("SET", "k", "v")                             // "+OK\r\n"
//	parseReply(c.Do("GET", "k"))                      // "v"
//	p.Restart(t)                                      // SIGTERM, then same args/dir/port
//
//	x := newDiff(t, nil, nil)                         // redis-server vs durastore
//	x.Do(t, "SET", "k", "v")                          // Errorf on any byte difference
//	x.DoUnordered(t, "KEYS", "*")                     // ignores top-level element order
//	x.DoMatch(t, func(r, d string) bool { ... }, "RANDOMKEY")
//	x.Script(t, `
//	    # comments and blank lines are ignored
//	    SET "a b" "x\x41\n"
//	    @unordered SMEMBERS s
//	`)
//
// Environment:
//
//	DURASTORE_BIN  use this prebuilt binary instead of building ./cmd/durastore
//	REDIS_SERVER   path of the reference redis-server binary
//	CI=true        a missing redis-server is a failure instead of a skip
package tests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts used by the harness. Tests may adjust them (not concurrently).
var (
	startTimeout = 10 * time.Second // until a started server answers PING
	stopTimeout  = 10 * time.Second // after SIGTERM before SIGKILL
	replyTimeout = 10 * time.Second // per RawConn read/write
)

// ---------------------------------------------------------------------------
// Building the durastore binary
// ---------------------------------------------------------------------------

var (
	// durastoreBin is the path of the durastore binary. It is set by the
	// first startDurastore call (or ensureDurastoreBin), which builds
	// ./cmd/durastore once; it is "" until then.
	durastoreBin string

	buildDir  string
	buildOnce sync.Once
	buildErr  error
)

// TestMain prepares a temp dir for the binary and removes it afterwards.
//
// The binary is built lazily (once, on the first startDurastore call) rather
// than here, so that tests that do not need durastore (e.g. the harness
// self-tests, which diff two redis-servers) still run while ./cmd/durastore
// does not compile. A build failure fails every test that needs the binary,
// with the compiler output in the failure message.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "durastore-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness: creating temp dir:", err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// moduleRoot walks up from the working directory to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ensureDurastoreBin builds the durastore binary once and returns its path.
func ensureDurastoreBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if bin := os.Getenv("DURASTORE_BIN"); bin != "" {
			if _, err := os.Stat(bin); err != nil {
				buildErr = fmt.Errorf("DURASTORE_BIN=%s: %v", bin, err)
				return
			}
			durastoreBin = bin
			return
		}
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir := buildDir
		if dir == "" { // TestMain not used (should not happen)
			if dir, err = os.MkdirTemp("", "durastore-e2e-"); err != nil {
				buildErr = err
				return
			}
		}
		bin := filepath.Join(dir, "durastore")
		build := []string{"build", "-o", bin}
		if os.Getenv("DURASTORE_RACE") == "1" {
			// The end-to-end tests drive the server with real
			// concurrency: building it with the race detector checks
			// the server's own code, not only the tests'.
			build = append(build, "-race")
		}
		cmd := exec.Command("go", append(build, "durastore/cmd/durastore")...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build durastore/cmd/durastore failed: %v\n%s", err, out)
			fmt.Fprintln(os.Stderr, "harness:", buildErr)
			return
		}
		durastoreBin = bin
	})
	if buildErr != nil {
		t.Fatalf("cannot build durastore binary: %v", buildErr)
	}
	return durastoreBin
}

// ---------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------

var (
	portMu    sync.Mutex
	usedPorts = map[int]bool{}
)

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago and has
// not been handed out before in this test binary.
func freePort(t testing.TB) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 100; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("freePort: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !usedPorts[port] {
			usedPorts[port] = true
			return port
		}
	}
	t.Fatalf("freePort: no unused port found")
	return 0
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

// tailBuffer is a goroutine-safe writer keeping (roughly) the last max bytes.
type tailBuffer struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	dropped int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*b.max {
		cut := len(b.buf) - b.max
		b.dropped += cut
		b.buf = append([]byte(nil), b.buf[cut:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("[... %d bytes dropped ...]\n%s", b.dropped, b.buf)
	}
	return string(b.buf)
}

// Proc is a server process (durastore or redis-server) started by the harness.
// Args, Dir and Port stay the same across Restart.
type Proc struct {
	Addr string   // "127.0.0.1:PORT"
	Port int      // TCP port
	Dir  string   // data directory (--dir)
	Name string   // "durastore" or "redis"
	Bin  string   // binary path
	Args []string // full argument list passed to Bin

	stdout, stderr *tailBuffer

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{} // closed when the current process has exited
	state *os.ProcessState
	runs  int
}

// startDurastore starts the durastore binary on 127.0.0.1 with a free port.
// Unless the caller passes them, --dir t.TempDir() and --http-port 0 are
// added (as are --port and --bind). It returns once the server answers PING.
func startDurastore(t testing.TB, args ...string) *Proc {
	t.Helper()
	bin := ensureDurastoreBin(t)
	port, dir := portAndDir(t, args)
	full := []string{}
	if _, ok := flagValue(args, "--port"); !ok {
		full = append(full, "--port", strconv.Itoa(port))
	}
	if _, ok := flagValue(args, "--bind"); !ok {
		full = append(full, "--bind", "127.0.0.1")
	}
	if _, ok := flagValue(args, "--dir"); !ok {
		full = append(full, "--dir", dir)
	}
	if _, ok := flagValue(args, "--http-port"); !ok {
		full = append(full, "--http-port", "0")
	}
	full = append(full, args...)
	return newProc(t, "durastore", bin, port, dir, full)
}

// redisServerPath returns the redis-server binary, or "" if not installed.
func redisServerPath() string {
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// requireRedis returns the redis-server path; it skips the test (or fails it
// when CI=true) if redis-server is not installed.
func requireRedis(t testing.TB) string {
	t.Helper()
	bin := redisServerPath()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server not installed (CI=true): differential tests need it; install with apt-get install -y redis-server redis-tools")
		}
		t.Skip("SKIPPING differential test: redis-server not found; install with apt-get install -y redis-server redis-tools")
	}
	return bin
}

// startRedis starts a private reference redis-server (never a system service)
// on 127.0.0.1 with a free port, no persistence, in t.TempDir() (unless the
// caller passes --dir); args are appended and override the defaults.
func startRedis(t testing.TB, args ...string) *Proc {
	t.Helper()
	bin := requireRedis(t)
	port, dir := portAndDir(t, args)
	full := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--protected-mode", "no",
	}
	if _, ok := flagValue(args, "--dir"); !ok {
		full = append(full, "--dir", dir)
	}
	full = append(full, args...)
	return newProc(t, "redis", bin, port, dir, full)
}

// portAndDir picks the port and data dir for a new process, honouring
// --port / --dir passed by the caller.
func portAndDir(t testing.TB, args []string) (int, string) {
	t.Helper()
	var port int
	if v, ok := flagValue(args, "--port"); ok {
		p, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("bad --port %q", v)
		}
		port = p
	} else {
		port = freePort(t)
	}
	dir, ok := flagValue(args, "--dir")
	if !ok {
		dir = t.TempDir()
	}
	return port, dir
}

// flagValue returns the value of "--name value" or "--name=value" in args
// (the last occurrence wins, like redis-server).
func flagValue(args []string, name string) (string, bool) {
	val, found := "", false
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == name && i+1 < len(args):
			val, found = args[i+1], true
			i++
		case strings.HasPrefix(args[i], name+"="):
			val, found = args[i][len(name)+1:], true
		}
	}
	return val, found
}

func newProc(t testing.TB, name, bin string, port int, dir string, args []string) *Proc {
	t.Helper()
	p := &Proc{
		Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Port:   port,
		Dir:    dir,
		Name:   name,
		Bin:    bin,
		Args:   args,
		stdout: &tailBuffer{max: 1 << 20},
		stderr: &tailBuffer{max: 1 << 20},
	}
	t.Cleanup(func() {
		p.stopQuiet()
		// A server built with the race detector reports races on stderr
		// and keeps running: a race anywhere fails the test that saw it.
		if strings.Contains(p.Stderr(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race:\n%s", p.Name, p.Stderr())
		} else if t.Failed() {
			t.Logf("%s", p.Output())
		}
	})
	p.start(t)
	return p
}

// start launches the process and waits until it answers PING.
func (p *Proc) start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	p.runs++
	if p.runs > 1 {
		marker := fmt.Sprintf("\n=== harness: restart #%d ===\n", p.runs-1)
		p.stdout.Write([]byte(marker))
		p.stderr.Write([]byte(marker))
	}
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Dir = p.Dir
	cmd.Stdout = p.stdout
	cmd.Stderr = p.stderr
	cmd.WaitDelay = 2 * time.Second
	// Kill the server if the test binary dies (e.g. go test -timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		t.Fatalf("starting %s %s: %v", p.Bin, fmtCmd(p.Args), err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.state = cmd, done, nil
	p.mu.Unlock()

	go func() {
		cmd.Wait()
		p.mu.Lock()
		if p.cmd == cmd {
			p.state = cmd.ProcessState
		}
		p.mu.Unlock()
		close(done)
	}()

	if err := p.waitReady(done, startTimeout); err != nil {
		p.Kill()
		t.Fatalf("%s (%s %s) did not become ready: %v\n%s", p.Name, p.Bin, fmtCmd(p.Args), err, p.Output())
	}
}

func (p *Proc) waitReady(done chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		select {
		case <-done:
			return fmt.Errorf("process exited during startup (%v)", p.exitState())
		default:
		}
		if last = pingOnce(p.Addr); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG after %v: %v", timeout, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pingOnce connects, sends PING and accepts +PONG (or -NOAUTH, meaning the
// server is up but needs a password).
func pingOnce(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write(encodeCommand("PING")); err != nil {
		return err
	}
	raw, _, err := readReply(bufio.NewReader(conn))
	if err != nil {
		return err
	}
	if raw == "+PONG\r\n" || strings.HasPrefix(raw, "-NOAUTH") {
		return nil
	}
	return fmt.Errorf("PING replied %q", raw)
}

func (p *Proc) exitState() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		return "unknown exit status"
	}
	return p.state.String()
}

// Running reports whether the current process is still alive.
func (p *Proc) Running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Pid returns the pid of the current (or last) process.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Signal sends sig to the current process.
func (p *Proc) Signal(sig os.Signal) error {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return errors.New("not started")
	}
	return cmd.Process.Signal(sig)
}

// exitResult converts the finished process state into (code, err): code is
// the exit status (-1 if killed by a signal); err is nil only for exit 0.
func (p *Proc) exitResult() (int, error) {
	p.mu.Lock()
	st := p.state
	p.mu.Unlock()
	if st == nil {
		return -1, fmt.Errorf("%s: no exit status", p.Name)
	}
	code := st.ExitCode()
	if code == 0 {
		return 0, nil
	}
	return code, fmt.Errorf("%s exited uncleanly: %v", p.Name, st)
}

// Stop sends SIGTERM and waits up to stopTimeout for the process to exit,
// then SIGKILLs it. It returns the exit code (-1 if killed by a signal) and
// a non-nil error unless the process exited with status 0. Calling Stop on
// an already exited process just returns its exit status.
func (p *Proc) Stop() (int, error) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return -1, errors.New("not started")
	}
	select {
	case <-done:
		return p.exitResult()
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return p.exitResult()
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-done
		code, _ := p.exitResult()
		return code, fmt.Errorf("%s did not exit within %v of SIGTERM; sent SIGKILL", p.Name, stopTimeout)
	}
}

func (p *Proc) stopQuiet() { _, _ = p.Stop() }

// Kill sends SIGKILL and waits for the process to be reaped.
func (p *Proc) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Wait waits up to timeout for the process to exit on its own (e.g. after
// SHUTDOWN) and returns like Stop; it does not signal the process.
func (p *Proc) Wait(timeout time.Duration) (int, error) {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return -1, errors.New("not started")
	}
	select {
	case <-done:
		return p.exitResult()
	case <-time.After(timeout):
		return -1, fmt.Errorf("%s still running after %v", p.Name, timeout)
	}
}

// Restart stops the process if it is still running (SIGTERM) and starts it
// again with the same args, dir and port, waiting until it answers PING.
func (p *Proc) Restart(t testing.TB) {
	t.Helper()
	if p.Running() {
		if _, err := p.Stop(); err != nil {
			t.Logf("Restart: stopping %s: %v", p.Name, err)
		}
	}
	p.start(t)
}

// Stdout / Stderr return the captured output (all runs).
func (p *Proc) Stdout() string { return p.stdout.String() }
func (p *Proc) Stderr() string { return p.stderr.String() }

// Output formats the captured output for failure messages.
func (p *Proc) Output() string {
	return fmt.Sprintf("----- %s %s stderr -----\n%s\n----- %s %s stdout -----\n%s\n----- end %s -----",
		p.Name, p.Addr, p.Stderr(), p.Name, p.Addr, p.Stdout(), p.Name)
}

// Dial opens a RawConn to the process.
func (p *Proc) Dial(t testing.TB) *RawConn {
	t.Helper()
	return dialRaw(t, p.Addr)
}

// ---------------------------------------------------------------------------
// Raw RESP client
// ---------------------------------------------------------------------------

// RawConn is a minimal RESP client returning the exact bytes of each reply.
// Do / ReadReply / SendRaw call t.Fatalf on I/O errors; the *Err variants
// return the error instead (useful when the server is expected to close the
// connection).
type RawConn struct {
	Addr string
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// dialRaw connects to addr; the connection is closed on t's cleanup.
func dialRaw(t testing.TB, addr string) *RawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, replyTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c := &RawConn{Addr: addr, t: t, conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	t.Cleanup(c.Close)
	return c
}

// encodeCommand encodes args as a RESP array of bulk strings.
func encodeCommand(args ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}

// Do sends one command and returns the raw bytes of its reply.
func (c *RawConn) Do(args ...string) string {
	c.t.Helper()
	raw, err := c.DoErr(args...)
	if err != nil {
		c.t.Fatalf("%s: %s: %v (partial reply %q)", c.Addr, fmtCmd(args), err, raw)
	}
	return raw
}

// DoErr is Do returning I/O and protocol errors instead of failing the test.
func (c *RawConn) DoErr(args ...string) (string, error) {
	if err := c.SendRawErr(encodeCommand(args...)); err != nil {
		return "", err
	}
	return c.ReadReplyErr()
}

// Send writes one command without reading its reply (for pipelining).
func (c *RawConn) Send(args ...string) {
	c.t.Helper()
	c.SendRaw(encodeCommand(args...))
}

// SendRaw writes b verbatim.
func (c *RawConn) SendRaw(b []byte) {
	c.t.Helper()
	if err := c.SendRawErr(b); err != nil {
		c.t.Fatalf("%s: write: %v", c.Addr, err)
	}
}

// SendRawErr writes b verbatim, returning any error.
func (c *RawConn) SendRawErr(b []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(replyTimeout))
	_, err := c.conn.Write(b)
	return err
}

// ReadReply reads exactly one complete reply and returns its raw bytes.
func (c *RawConn) ReadReply() string {
	c.t.Helper()
	raw, err := c.ReadReplyErr()
	if err != nil {
		c.t.Fatalf("%s: read reply: %v (partial reply %q)", c.Addr, err, raw)
	}
	return raw
}

// ReadReplyErr reads one reply; on error it returns the bytes read so far.
func (c *RawConn) ReadReplyErr() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(replyTimeout))
	raw, _, err := readReply(c.r)
	return raw, err
}

// Close closes the connection (idempotent).
func (c *RawConn) Close() { c.conn.Close() }

// RespError is the parsed form of an error reply ("-ERR x" or "!3\r\nERR...").
type RespError string

func (e RespError) Error() string { return string(e) }

// respReader parses one RESP2/RESP3 value while recording its raw bytes.
type respReader struct {
	r   *bufio.Reader
	raw bytes.Buffer
}

// readReply reads one complete reply: its raw bytes and parsed value.
func readReply(r *bufio.Reader) (string, any, error) {
	p := &respReader{r: r}
	v, err := p.value()
	return p.raw.String(), v, err
}

// parseReply converts a raw reply into a Go value for assertions:
//
//	type  +, $, =, (, ,  -> string (verbatim strings lose their "txt:" prefix)
//	type  :              -> int64
//	type  #              -> bool
//	type  -, !           -> RespError
//	$-1, *-1, _          -> nil
//	type  *, ~, >        -> []any
//	type  %              -> []any of alternating keys and values
//	type  |              -> the attribute is dropped; the value after it is returned
//
// It panics if raw is not exactly one well-formed reply.
func parseReply(raw string) any {
	p := &respReader{r: bufio.NewReader(strings.NewReader(raw))}
	v, err := p.value()
	if err == nil && p.raw.Len() != len(raw) {
		err = fmt.Errorf("%d trailing bytes", len(raw)-p.raw.Len())
	}
	if err != nil {
		panic(fmt.Sprintf("parseReply(%q): %v", raw, err))
	}
	return v
}

const maxRespLen = 512 << 20

func (p *respReader) line() (string, error) {
	s, err := p.r.ReadString('\n')
	p.raw.WriteString(s)
	if err != nil {
		return "", err
	}
	if len(s) < 2 || s[len(s)-2] != '\r' {
		return "", fmt.Errorf("protocol error: line %q not terminated by CRLF", s)
	}
	return s[:len(s)-2], nil
}

func (p *respReader) bulk(n int) (string, error) {
	buf := make([]byte, n+2)
	k, err := io.ReadFull(p.r, buf)
	p.raw.Write(buf[:k])
	if err != nil {
		return "", err
	}
	if buf[n] != '\r' || buf[n+1] != '\n' {
		return "", fmt.Errorf("protocol error: bulk of length %d not followed by CRLF", n)
	}
	return string(buf[:n]), nil
}

func parseLen(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 || n > maxRespLen {
		return 0, fmt.Errorf("protocol error: bad length %q", s)
	}
	return n, nil
}

func (p *respReader) value() (any, error) {
	l, err := p.line()
	if err != nil {
		return nil, err
	}
	if l == "" {
		return nil, errors.New("protocol error: empty line")
	}
	typ, body := l[0], l[1:]
	switch typ {
	case '+', '(', ',':
		return body, nil
	case '-':
		return RespError(body), nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("protocol error: bad integer %q", body)
		}
		return n, nil
	case '_':
		if body != "" {
			return nil, fmt.Errorf("protocol error: bad null %q", l)
		}
		return nil, nil
	case '#':
		switch body {
		case "t":
			return true, nil
		case "f":
			return false, nil
		}
		return nil, fmt.Errorf("protocol error: bad boolean %q", l)
	case '$', '!', '=':
		if typ == '$' && body == "?" {
			return p.streamedString()
		}
		n, err := parseLen(body)
		if err != nil {
			return nil, err
		}
		if n == -1 {
			if typ != '$' {
				return nil, fmt.Errorf("protocol error: %q", l)
			}
			return nil, nil
		}
		s, err := p.bulk(n)
		if err != nil {
			return nil, err
		}
		switch typ {
		case '!':
			return RespError(s), nil
		case '=':
			if len(s) >= 4 && s[3] == ':' {
				s = s[4:]
			}
		}
		return s, nil
	case '*', '~', '>', '%', '|':
		streamed := body == "?"
		n := 0
		if !streamed {
			if n, err = parseLen(body); err != nil {
				return nil, err
			}
			if n == -1 {
				if typ != '*' {
					return nil, fmt.Errorf("protocol error: %q", l)
				}
				return nil, nil
			}
		}
		per := 1
		if typ == '%' || typ == '|' {
			per = 2
		}
		elems := []any{}
		for i := 0; streamed || i < n*per; i++ {
			if streamed {
				b, err := p.r.Peek(1)
				if err != nil {
					return nil, err
				}
				if b[0] == '.' {
					if l, err := p.line(); err != nil || l != "." {
						return nil, fmt.Errorf("protocol error: bad stream end %q (%v)", l, err)
					}
					break
				}
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			elems = append(elems, v)
		}
		if typ == '|' { // attribute: the actual reply follows
			return p.value()
		}
		return elems, nil
	}
	return nil, fmt.Errorf("protocol error: unknown reply type %q", l)
}

// streamedString reads the chunks of "$?" (";N\r\n<data>\r\n" ... ";0\r\n").
func (p *respReader) streamedString() (any, error) {
	var sb strings.Builder
	for {
		l, err := p.line()
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(l, ";") {
			return nil, fmt.Errorf("protocol error: bad chunk header %q", l)
		}
		n, err := parseLen(l[1:])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("protocol error: bad chunk header %q", l)
		}
		if n == 0 {
			return sb.String(), nil
		}
		s, err := p.bulk(n)
		if err != nil {
			return nil, err
		}
		sb.WriteString(s)
	}
}

// splitAggregate splits a raw aggregate reply (* ~ > %) into its type byte
// and the raw bytes of each top-level element. ok is false for non-aggregates
// (including null arrays and attribute-prefixed replies).
func splitAggregate(raw string) (typ byte, elems []string, ok bool) {
	if raw == "" {
		return 0, nil, false
	}
	typ = raw[0]
	if typ != '*' && typ != '~' && typ != '>' && typ != '%' {
		return typ, nil, false
	}
	p := &respReader{r: bufio.NewReader(strings.NewReader(raw))}
	l, err := p.line()
	if err != nil {
		return typ, nil, false
	}
	n, err := strconv.Atoi(l[1:])
	if err != nil || n < 0 {
		return typ, nil, false
	}
	if typ == '%' {
		n *= 2
	}
	for i := 0; i < n; i++ {
		start := p.raw.Len()
		if _, err := p.value(); err != nil {
			return typ, nil, false
		}
		elems = append(elems, p.raw.String()[start:])
	}
	if typ == '%' { // compare key/value pairs as units
		pairs := make([]string, 0, n/2)
		for i := 0; i+1 < len(elems); i += 2 {
			pairs = append(pairs, elems[i]+elems[i+1])
		}
		elems = pairs
	}
	return typ, elems, p.raw.Len() == len(raw)
}

// ---------------------------------------------------------------------------
// Differential runner
// ---------------------------------------------------------------------------

// Diff sends the same commands to a reference redis-server (R) and to
// durastore (D) and compares the replies.
type Diff struct {
	R, D         *RawConn
	Redis, Dura  *Proc  // may be nil when built with newDiffConns
	RName, DName string // labels used in mismatch messages
}

// newDiff starts redis-server (with redisArgs) and durastore (with
// durastoreArgs) and connects to both.
func newDiff(t testing.TB, redisArgs, durastoreArgs []string) *Diff {
	t.Helper()
	requireRedis(t) // skip before building durastore if redis is missing
	r := startRedis(t, redisArgs...)
	d := startDurastore(t, durastoreArgs...)
	return newDiffProcs(t, r, d)
}

// newDiffProcs builds a Diff over two already running processes (e.g. two
// redis-servers in the harness self-tests).
func newDiffProcs(t testing.TB, r, d *Proc) *Diff {
	t.Helper()
	x := newDiffConns(r.Dial(t), d.Dial(t))
	x.Redis, x.Dura = r, d
	x.RName = fmt.Sprintf("%s(%d)", r.Name, r.Port)
	x.DName = fmt.Sprintf("%s(%d)", d.Name, d.Port)
	return x
}

// newDiffConns builds a Diff over two connections.
func newDiffConns(r, d *RawConn) *Diff {
	return &Diff{R: r, D: d, RName: "redis", DName: "durastore"}
}

// Reconnect replaces both connections with fresh ones (e.g. after Restart).
func (x *Diff) Reconnect(t testing.TB) {
	t.Helper()
	x.R.Close()
	x.D.Close()
	x.R, x.D = dialRaw(t, x.R.Addr), dialRaw(t, x.D.Addr)
}

// compareExact returns nil iff the replies are byte-for-byte equal.
func compareExact(r, d string) error {
	if r == d {
		return nil
	}
	return errors.New("replies differ")
}

// compareUnordered returns nil iff the replies are equal, or are aggregates
// of the same type whose top-level elements (map entries for %) are equal as
// multisets.
func compareUnordered(r, d string) error {
	if r == d {
		return nil
	}
	rt, re, rok := splitAggregate(r)
	dt, de, dok := splitAggregate(d)
	if !rok || !dok {
		return errors.New("replies differ (not both aggregates)")
	}
	if rt != dt {
		return fmt.Errorf("aggregate types differ: %q vs %q", rt, dt)
	}
	if len(re) != len(de) {
		return fmt.Errorf("element counts differ: %d vs %d", len(re), len(de))
	}
	sort.Strings(re)
	sort.Strings(de)
	for i := range re {
		if re[i] != de[i] {
			return fmt.Errorf("elements differ (sorted): %q vs %q", re[i], de[i])
		}
	}
	return nil
}

// exchange sends args to both servers and returns both raw replies.
func (x *Diff) exchange(args []string) (r, d string, err error) {
	return x.exchangeRaw(encodeCommand(args...))
}

func (x *Diff) exchangeRaw(b []byte) (r, d string, err error) {
	if err := x.R.SendRawErr(b); err != nil {
		return "", "", fmt.Errorf("%s: write: %v", x.RName, err)
	}
	if err := x.D.SendRawErr(b); err != nil {
		return "", "", fmt.Errorf("%s: write: %v", x.DName, err)
	}
	r, rerr := x.R.ReadReplyErr()
	d, derr := x.D.ReadReplyErr()
	if rerr != nil {
		return r, d, fmt.Errorf("%s: read: %v (partial %q)", x.RName, rerr, r)
	}
	if derr != nil {
		return r, d, fmt.Errorf("%s: read: %v (partial %q)", x.DName, derr, d)
	}
	return r, d, nil
}

// try runs args on both sides and checks the replies with cmp. I/O errors
// are returned as ioErr, mismatches as cmpErr (already formatted with both
// replies). It never touches a testing.TB.
func (x *Diff) try(cmp func(r, d string) error, args []string) (r, d string, ioErr, cmpErr error) {
	r, d, ioErr = x.exchange(args)
	if ioErr != nil {
		return r, d, ioErr, nil
	}
	if err := cmp(r, d); err != nil {
		cmpErr = x.mismatch(args, r, d, err)
	}
	return r, d, nil, cmpErr
}

func (x *Diff) mismatch(args []string, r, d string, why error) error {
	return fmt.Errorf("reply mismatch for %s: %v\n  %-16s %q\n  %-16s %q",
		fmtCmd(args), why, x.RName+":", r, x.DName+":", d)
}

// Try runs args on both sides and returns both replies and a non-nil error
// if they differ byte-for-byte or on I/O failure. It does not fail any test.
func (x *Diff) Try(args ...string) (r, d string, err error) {
	r, d, ioErr, cmpErr := x.try(compareExact, args)
	return r, d, errors.Join(ioErr, cmpErr)
}

// TryUnordered is Try using compareUnordered.
func (x *Diff) TryUnordered(args ...string) (r, d string, err error) {
	r, d, ioErr, cmpErr := x.try(compareUnordered, args)
	return r, d, errors.Join(ioErr, cmpErr)
}

// TryMatch is Try using a caller-supplied check.
func (x *Diff) TryMatch(fn func(redis, dura string) bool, args ...string) (r, d string, err error) {
	r, d, ioErr, cmpErr := x.try(matchCmp(fn), args)
	return r, d, errors.Join(ioErr, cmpErr)
}

func matchCmp(fn func(r, d string) bool) func(r, d string) error {
	return func(r, d string) error {
		if fn(r, d) {
			return nil
		}
		return errors.New("match function rejected the replies")
	}
}

func (x *Diff) run(t testing.TB, cmp func(r, d string) error, args []string) string {
	t.Helper()
	r, _, ioErr, cmpErr := x.try(cmp, args)
	if ioErr != nil {
		t.Fatalf("%s: %v", fmtCmd(args), ioErr)
	}
	if cmpErr != nil {
		t.Errorf("%v", cmpErr)
	}
	return r
}

// Do sends args to both servers, t.Errorf's if the raw replies differ, and
// returns redis's reply. I/O errors are fatal.
func (x *Diff) Do(t testing.TB, args ...string) string {
	t.Helper()
	return x.run(t, compareExact, args)
}

// DoUnordered is Do, but top-level aggregate elements (map entries for
// RESP3 maps) may come in any order (KEYS, SMEMBERS, HGETALL, ...).
func (x *Diff) DoUnordered(t testing.TB, args ...string) string {
	t.Helper()
	return x.run(t, compareUnordered, args)
}

// DoMatch is Do for replies that legitimately differ: fn decides whether the
// pair of raw replies is acceptable.
func (x *Diff) DoMatch(t testing.TB, fn func(redis, dura string) bool, args ...string) string {
	t.Helper()
	return x.run(t, matchCmp(fn), args)
}

// DoRaw sends b verbatim to both servers (inline commands, malformed input,
// pipelines of one reply), reads one reply from each and compares exactly.
func (x *Diff) DoRaw(t testing.TB, b []byte) string {
	t.Helper()
	r, d, err := x.exchangeRaw(b)
	if err != nil {
		t.Fatalf("raw %q: %v", b, err)
	}
	if r != d {
		t.Errorf("%v", x.mismatch([]string{"<raw " + strconv.Quote(string(b)) + ">"}, r, d, errors.New("replies differ")))
	}
	return r
}

// Script runs a multi-line script through Do. Each line is split like
// redis-cli does (see splitArgs). Blank lines and lines starting with '#'
// are ignored. A line starting with "@unordered " is run with DoUnordered.
// It returns redis's replies in order.
func (x *Diff) Script(t testing.TB, lines string) []string {
	t.Helper()
	var replies []string
	for i, line := range strings.Split(lines, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmp := compareExact
		if rest, ok := strings.CutPrefix(line, "@unordered "); ok {
			cmp, line = compareUnordered, rest
		}
		args, err := splitArgs(line)
		if err != nil {
			t.Fatalf("script line %d %q: %v", i+1, line, err)
		}
		if len(args) == 0 {
			continue
		}
		r, _, ioErr, cmpErr := x.try(cmp, args)
		if ioErr != nil {
			t.Fatalf("script line %d: %s: %v", i+1, fmtCmd(args), ioErr)
		}
		if cmpErr != nil {
			t.Errorf("script line %d: %v", i+1, cmpErr)
		}
		replies = append(replies, r)
	}
	return replies
}

// splitArgs splits a line into arguments like redis-cli (sdssplitargs):
// whitespace separates arguments; "double quotes" support \xHH, \n, \r, \t,
// \b, \a and \<char> escapes; 'single quotes' support only \'. A closing
// quote must be followed by whitespace or the end of the line. Quotes may
// start in the middle of a token (foo"bar baz" is one argument).
func splitArgs(line string) ([]string, error) {
	var args []string
	i, n := 0, len(line)
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	isHex := func(c byte) bool {
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
	}
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i >= n {
			return args, nil
		}
		var cur []byte
		inq, insq := false, false
	token:
		for {
			switch {
			case inq:
				if i >= n {
					return nil, errors.New("unbalanced double quotes")
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < n && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					v, _ := strconv.ParseUint(line[i+2:i+4], 16, 8)
					cur = append(cur, byte(v))
					i += 3
				case c == '\\' && i+1 < n:
					i++
					switch e := line[i]; e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				case c == '"':
					if i+1 < n && !isSpace(line[i+1]) {
						return nil, errors.New("closing quote must be followed by a space")
					}
					inq = false
					i++
					break token
				default:
					cur = append(cur, c)
				}
				i++
			case insq:
				if i >= n {
					return nil, errors.New("unbalanced single quotes")
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < n && line[i+1] == '\'':
					cur = append(cur, '\'')
					i++
				case c == '\'':
					if i+1 < n && !isSpace(line[i+1]) {
						return nil, errors.New("closing quote must be followed by a space")
					}
					insq = false
					i++
					break token
				default:
					cur = append(cur, c)
				}
				i++
			default:
				if i >= n || isSpace(line[i]) {
					break token
				}
				switch c := line[i]; c {
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
				i++
			}
		}
		args = append(args, string(cur))
	}
}

// fmtCmd renders a command for messages, quoting arguments when needed.
func fmtCmd(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		q := strconv.Quote(a)
		if a == "" || q[1:len(q)-1] != a || strings.ContainsAny(a, " \t'") {
			parts[i] = q
		} else {
			parts[i] = a
		}
	}
	return strings.Join(parts, " ")
}
