package tests

// Crash safety (issue 7, part 1) and damaged files (part 2), end to end.
//
// TestCrashKillRestart runs durastore with appendfsync always while writers
// pipeline SET (with and without exact expiry), INCR, DEL, MSET,
// PEXPIREAT and SET KEEPTTL on keys each writer owns, checking every reply
// against its model. It SIGKILLs the server at random moments, restarts it
// and checks that each writer's keys hold exactly the state its
// acknowledged commands made, plus possibly some prefix of the commands it
// had sent without an answer yet, values and expiry times to the
// millisecond. Before each restart check-aof must find no damaged record.
//
// The CI run is short. DURASTORE_SOAK=1 runs DURASTORE_CRASH_ROUNDS rounds
// (default 2000) for appendfsync always and everysec.

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
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
	"unsafe"
)

// keyState is one key as a writer's model sees it.
type keyState struct {
	exists bool
	value  string
	expire int64 // absolute ms, 0 for none
}

// crashOp is one command and what it does to a model.
type crashOp struct {
	args []string
	// apply changes m and returns the reply the server must give.
	apply func(m map[string]keyState) string
}

func bulkReply(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

// crashWriter owns keys w<id>:s<j> (strings) and w<id>:c<j> (counters).
type crashWriter struct {
	id      int
	rng     *rand.Rand
	model   map[string]keyState
	pending []crashOp // sent, not answered when the server died
	seq     int
	acked   int
}

const crashKeys = 12

func (w *crashWriter) keys() []string {
	var ks []string
	for j := 0; j < crashKeys; j++ {
		ks = append(ks, fmt.Sprintf("w%d:s%d", w.id, j), fmt.Sprintf("w%d:c%d", w.id, j))
	}
	return ks
}

// nextOp picks a random command on the writer's keys.
func (w *crashWriter) nextOp() crashOp {
	w.seq++
	sk := fmt.Sprintf("w%d:s%d", w.id, w.rng.IntN(crashKeys))
	ck := fmt.Sprintf("w%d:c%d", w.id, w.rng.IntN(crashKeys))
	val := fmt.Sprintf("v%d-%d-%s", w.id, w.seq, strings.Repeat("x", w.rng.IntN(40)))
	// Expiry times an hour or more ahead, so nothing expires during the
	// test, exact to the millisecond.
	at := time.Now().UnixMilli() + 3_600_000 + w.rng.Int64N(3_600_000)
	switch w.rng.IntN(8) {
	case 0:
		return crashOp{[]string{"SET", sk, val}, func(m map[string]keyState) string {
			m[sk] = keyState{true, val, 0}
			return "+OK\r\n"
		}}
	case 1:
		return crashOp{[]string{"SET", sk, val, "PXAT", strconv.FormatInt(at, 10)}, func(m map[string]keyState) string {
			m[sk] = keyState{true, val, at}
			return "+OK\r\n"
		}}
	case 2:
		return crashOp{[]string{"SET", sk, val, "KEEPTTL"}, func(m map[string]keyState) string {
			m[sk] = keyState{true, val, m[sk].expire}
			return "+OK\r\n"
		}}
	case 3:
		return crashOp{[]string{"INCR", ck}, func(m map[string]keyState) string {
			n, _ := strconv.ParseInt(m[ck].value, 10, 64)
			n++
			m[ck] = keyState{true, strconv.FormatInt(n, 10), m[ck].expire}
			return ":" + strconv.FormatInt(n, 10) + "\r\n"
		}}
	case 4:
		k := sk
		if w.rng.IntN(2) == 0 {
			k = ck
		}
		return crashOp{[]string{"DEL", k}, func(m map[string]keyState) string {
			had := m[k].exists
			delete(m, k)
			if had {
				return ":1\r\n"
			}
			return ":0\r\n"
		}}
	case 5:
		sk2 := fmt.Sprintf("w%d:s%d", w.id, w.rng.IntN(crashKeys))
		val2 := val + "-2"
		return crashOp{[]string{"MSET", sk, val, sk2, val2}, func(m map[string]keyState) string {
			m[sk] = keyState{true, val, 0}
			m[sk2] = keyState{true, val2, 0}
			return "+OK\r\n"
		}}
	case 6:
		k := sk
		if w.rng.IntN(2) == 0 {
			k = ck
		}
		return crashOp{[]string{"PEXPIREAT", k, strconv.FormatInt(at, 10)}, func(m map[string]keyState) string {
			st := m[k]
			if !st.exists {
				return ":0\r\n"
			}
			st.expire = at
			m[k] = st
			return ":1\r\n"
		}}
	default:
		return crashOp{[]string{"INCRBY", ck, strconv.Itoa(w.rng.IntN(1000) - 500)}, nil}
	}
}

// fixIncrBy gives INCRBY its effect (built here to capture the amount).
func fixIncrBy(op crashOp) crashOp {
	if op.apply != nil {
		return op
	}
	k := op.args[1]
	by, _ := strconv.ParseInt(op.args[2], 10, 64)
	op.apply = func(m map[string]keyState) string {
		n, _ := strconv.ParseInt(m[k].value, 10, 64)
		n += by
		m[k] = keyState{true, strconv.FormatInt(n, 10), m[k].expire}
		return ":" + strconv.FormatInt(n, 10) + "\r\n"
	}
	return op
}

// run sends pipelines of 1 to 8 commands until the connection fails,
// checking each reply against the model. It returns an error only for a
// wrong reply.
func (w *crashWriter) run(addr string) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		n := 1 + w.rng.IntN(8)
		var buf []byte
		w.pending = w.pending[:0]
		for i := 0; i < n; i++ {
			op := fixIncrBy(w.nextOp())
			w.pending = append(w.pending, op)
			buf = append(buf, encodeCommand(op.args...)...)
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := conn.Write(buf); err != nil {
			return nil
		}
		for len(w.pending) > 0 {
			raw, _, err := readReply(r)
			if err != nil {
				return nil // the server died: the rest is pending
			}
			op := w.pending[0]
			if want := op.apply(w.model); raw != want {
				return fmt.Errorf("writer %d: %s replied %q, want %q", w.id, fmtCmd(op.args), raw, want)
			}
			w.pending = w.pending[1:]
			w.acked++
		}
	}
}

// readState reads the writer's keys from the server.
func (w *crashWriter) readState(t *testing.T, c *RawConn) map[string]keyState {
	t.Helper()
	got := map[string]keyState{}
	for _, k := range w.keys() {
		v := c.Do("GET", k)
		if v == "$-1\r\n" {
			continue
		}
		s, ok := parseReply(v).(string)
		if !ok {
			t.Fatalf("GET %s: %q", k, v)
		}
		at := parseReply(c.Do("PEXPIRETIME", k)).(int64)
		if at < 0 {
			at = 0
		}
		got[k] = keyState{true, s, at}
	}
	return got
}

func cloneModel(m map[string]keyState) map[string]keyState {
	out := make(map[string]keyState, len(m))
	for k, v := range m {
		if v.exists {
			out[k] = v
		}
	}
	return out
}

func sameModel(a, b map[string]keyState) bool {
	a, b = cloneModel(a), cloneModel(b)
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// settle checks the server's state after a restart and adopts it. Every
// acknowledged command must be there. Of the commands in flight, the
// server should have kept a prefix, as Redis's append-only file does
// (global: true). It reports torn when only a per-key prefix matches: each
// key holds its state after some prefix of the pending commands, but not
// after the same prefix for all keys, which is what a write torn by the
// kill leaves when a transaction's records are not all in the file.
func (w *crashWriter) settle(t *testing.T, c *RawConn) (applied int, torn string) {
	t.Helper()
	got := w.readState(t, c)
	m := cloneModel(w.model)
	for k := 0; ; k++ {
		if sameModel(m, got) {
			w.model = got
			w.pending = nil
			return k, ""
		}
		if k == len(w.pending) {
			break
		}
		w.pending[k].apply(m)
	}
	// Per key: the states the key went through under the pending
	// commands.
	seen := map[string][]keyState{}
	m = cloneModel(w.model)
	for _, k := range w.keys() {
		seen[k] = append(seen[k], m[k])
	}
	for _, op := range w.pending {
		op.apply(m)
		for _, k := range w.keys() {
			seen[k] = append(seen[k], m[k])
		}
	}
	var lost []string
	for _, k := range w.keys() {
		ok := false
		for _, st := range seen[k] {
			if st.exists == got[k].exists && (!st.exists || st == got[k]) {
				ok = true
			}
		}
		if !ok {
			lost = append(lost, fmt.Sprintf("%s: acknowledged %+v, found %+v", k, w.model[k], got[k]))
		}
	}
	var pend []string
	for _, op := range w.pending {
		pend = append(pend, fmtCmd(op.args))
	}
	var diff []string
	for _, k := range w.keys() {
		if w.model[k] != got[k] {
			diff = append(diff, fmt.Sprintf("%s: acknowledged %+v, found %+v", k, w.model[k], got[k]))
		}
	}
	if len(lost) > 0 {
		t.Fatalf("writer %d lost acknowledged writes (%d commands were pending: %s):\n%s",
			w.id, len(w.pending), strings.Join(pend, "; "), strings.Join(lost, "\n"))
	}
	torn = fmt.Sprintf("writer %d: pending %s; found %s", w.id, strings.Join(pend, "; "), strings.Join(diff, ", "))
	w.model = got
	w.pending = nil
	return 0, torn
}

// crashRounds is the number of kill/restart rounds: short in CI, long
// with DURASTORE_SOAK=1.
func crashRounds() int {
	if os.Getenv("DURASTORE_SOAK") != "1" {
		return 15
	}
	if n, err := strconv.Atoi(os.Getenv("DURASTORE_CRASH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 2000
}

func TestCrashKillRestart(t *testing.T) {
	policies := []string{"always"}
	if os.Getenv("DURASTORE_SOAK") == "1" {
		policies = append(policies, "everysec")
	}
	for _, policy := range policies {
		t.Run(policy, func(t *testing.T) { crashKillRestart(t, policy, crashRounds()) })
	}
}

func crashKillRestart(t *testing.T, policy string, rounds int) {
	p := startDurastore(t, "--appendfsync", policy)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	seed := rng.Uint64()
	t.Logf("seed %d", seed)
	const writers = 4
	ws := make([]*crashWriter, writers)
	for i := range ws {
		ws[i] = &crashWriter{id: i, rng: rand.New(rand.NewPCG(seed, uint64(i))), model: map[string]keyState{}}
	}
	var acked, inFlight, inFlightApplied, torn, tornTx int
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for _, w := range ws {
			wg.Add(1)
			go func(w *crashWriter) {
				defer wg.Done()
				if err := w.run(p.Addr); err != nil {
					errs <- err
				}
			}(w)
		}
		// Now and then the file is rewritten, which keeps it small over
		// many rounds, and now and then a rewrite runs while the kill
		// comes.
		switch round % 10 {
		case 5:
			c := p.Dial(t)
			c.Do("BGREWRITEAOF")
			deadline := time.Now().Add(30 * time.Second)
			for strings.Contains(c.Do("INFO", "persistence"), "aof_rewrite_in_progress:1") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			c.Close()
		case 7:
			if c, err := net.Dial("tcp", p.Addr); err == nil {
				c.Write(encodeCommand("BGREWRITEAOF"))
				c.Close()
			}
		}
		// Kill at a random moment: sometimes at once, mostly after
		// writes have piled up.
		delay := time.Duration(rng.IntN(150)) * time.Millisecond
		if rng.IntN(10) == 0 {
			delay = time.Duration(rng.IntN(3)) * time.Millisecond
		}
		time.Sleep(delay)
		p.Kill()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		// No record may be damaged; one cut by the kill is allowed
		// (a write interrupted between two pages) and must be one
		// nobody got an answer for.
		out, err := exec.Command(p.Bin, "check-aof", p.Dir).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "damaged") {
				t.Fatalf("round %d: check-aof after SIGKILL:\n%s", round, out)
			}
			torn++
		}
		p.Restart(t)
		c := p.Dial(t)
		for _, w := range ws {
			inFlight += len(w.pending)
			applied, tornDesc := w.settle(t, c)
			inFlightApplied += applied
			if tornDesc != "" {
				// A transaction is written between multi and exec
				// records and a cut one is dropped whole at load, so
				// even a command never answered is all or nothing.
				tornTx++
				t.Errorf("round %d: TORN TRANSACTION (not acknowledged, partly kept): %s", round, tornDesc)
			}
		}
		c.Close()
		if t.Failed() {
			return
		}
	}
	for _, w := range ws {
		acked += w.acked
	}
	t.Logf("appendfsync %s: %d kill/restart rounds, %d acknowledged commands all found; %d commands in flight at the kills, %d of them applied; %d kills left a cut record; %d torn transactions",
		policy, rounds, acked, inFlight, inFlightApplied, torn, tornTx)
}

// A file cut in the middle of a record loads up to its last whole record
// and says so in the log; damage in the middle stops start-up with an
// error naming the file and the offset, until check-aof --fix or
// aof-load-damaged truncate repairs it.
func TestDamagedFilesAtStartup(t *testing.T) {
	p := startDurastore(t, "--appendfsync", "always")
	c := p.Dial(t)
	for i := 0; i < 50; i++ {
		expectReply(t, c, "+OK\r\n", "SET", fmt.Sprintf("k%02d", i), strings.Repeat("v", i))
	}
	c.Close()
	if _, err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(p.Dir, "ns-000001.aof")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The last record is "SET k49 <49 v>": cut it in the middle.
	last := strings.LastIndex(string(data), "*3\r\n")
	os.WriteFile(file, data[:last+20], 0o644)
	p.Restart(t)
	c = p.Dial(t)
	expectReply(t, c, ":49\r\n", "DBSIZE")
	expectReply(t, c, "$48\r\n"+strings.Repeat("v", 48)+"\r\n", "GET", "k48")
	expectReply(t, c, "+OK\r\n", "SET", "k49", "again")
	c.Close()
	if !strings.Contains(p.Stderr(), "ended in the middle of a record") || !strings.Contains(p.Stderr(), file) {
		t.Errorf("the cut was not logged:\n%s", p.Stderr())
	}
	if _, err := p.Stop(); err != nil {
		t.Fatal(err)
	}

	// Damage in the middle: record 10's "set" becomes "sex".
	data, _ = os.ReadFile(file)
	off := 0
	for i := 0; i < 10; i++ {
		off += strings.Index(string(data[off:]), "*3\r\n") + 1
	}
	off = off - 1 + strings.Index(string(data[off-1:]), "set") + 2
	data[off] = 'x'
	os.WriteFile(file, data, 0o644)
	out, err := exec.Command(p.Bin, p.Args...).CombinedOutput()
	if err == nil {
		t.Fatalf("durastore started on a damaged file:\n%s", out)
	}
	recStart := strings.LastIndex(string(data[:off]), "*3\r\n")
	for _, want := range []string{file, fmt.Sprintf("damaged at offset %d", recStart), "check-aof"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("start-up error lacks %q:\n%s", want, out)
		}
	}
	// check-aof reports it; --fix cuts it.
	out, err = exec.Command(p.Bin, "check-aof", file).CombinedOutput()
	if err == nil || !strings.Contains(string(out), fmt.Sprintf("damaged at offset %d", recStart)) {
		t.Fatalf("check-aof: %v\n%s", err, out)
	}
	saved := append([]byte(nil), data...)
	out, err = exec.Command(p.Bin, "check-aof", file, "--fix").CombinedOutput()
	if err != nil {
		t.Fatalf("check-aof --fix: %v\n%s", err, out)
	}
	p.Restart(t)
	c = p.Dial(t)
	expectReply(t, c, ":9\r\n", "DBSIZE")
	c.Close()
	p.Stop()

	// Or the server repairs it at start-up when asked.
	os.WriteFile(file, saved, 0o644)
	p.Args = append(p.Args, "--aof-load-damaged", "truncate")
	p.Restart(t)
	c = p.Dial(t)
	expectReply(t, c, ":9\r\n", "DBSIZE")
	if !strings.Contains(p.Stderr(), "was damaged: cut at the damage") {
		t.Errorf("the repair was not logged:\n%s", p.Stderr())
	}
}

// setFileSizeLimit sets the soft RLIMIT_FSIZE of process pid: writes that
// would grow a file past it fail with EFBIG, like a full disk.
func setFileSizeLimit(t *testing.T, pid int, soft uint64) {
	t.Helper()
	var old syscall.Rlimit
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(syscall.RLIMIT_FSIZE), 0, uintptr(unsafe.Pointer(&old)), 0, 0); e != 0 {
		t.Skipf("prlimit: %v", e)
	}
	lim := syscall.Rlimit{Cur: min(soft, old.Max), Max: old.Max}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(syscall.RLIMIT_FSIZE), uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
		t.Skipf("prlimit: %v", e)
	}
}

// writeFailureRound checks durastore while fill() makes its disk refuse
// writes and room() gives room back: writes are refused with MISCONF and
// the cause, reads go on, nothing stored is damaged, and writes resume.
func writeFailureRound(t *testing.T, p *Proc, cause string, tight bool, fill, room func()) {
	c := p.Dial(t)
	for i := 0; i < 100; i++ {
		expectReply(t, c, "+OK\r\n", "SET", fmt.Sprintf("k%d", i), strings.Repeat("v", i))
	}
	expectReply(t, c, ":1\r\n", "INCR", "counter")
	fill()
	big := strings.Repeat("b", 64<<10)
	refused := [][]string{
		{"SET", "big", big},
		{"MSET", "a", big, "b", big},
		{"APPEND", "k1", big},
	}
	if tight {
		// Not a byte left: even a small write fails. (A filesystem
		// may still have room in the file's last block.)
		refused = append(refused, []string{"INCR", "counter"})
	}
	for _, cmd := range refused {
		r := c.Do(cmd...)
		if !strings.HasPrefix(r, "-MISCONF Errors writing to the AOF file: ") || !strings.Contains(r, cause) {
			t.Fatalf("%s on a full disk: %q", cmd[0], r)
		}
	}
	// Reads go on, and see nothing of the refused writes.
	expectReply(t, c, "$5\r\nvvvvv\r\n", "GET", "k5")
	expectReply(t, c, "$1\r\n1\r\n", "GET", "counter")
	expectReply(t, c, "$-1\r\n", "GET", "big")
	expectReply(t, c, ":1\r\n", "STRLEN", "k1")
	expectReply(t, c, ":101\r\n", "DBSIZE")
	if r := c.Do("INFO", "persistence"); !strings.Contains(r, "aof_last_write_status:err") {
		t.Errorf("INFO persistence does not show the failure:\n%s", r)
	}
	// A rewrite of the file on the full disk fails or succeeds, and
	// either way keeps everything.
	if r := c.Do("BGREWRITEAOF"); !strings.HasPrefix(r, "+") {
		t.Errorf("BGREWRITEAOF: %q", r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(c.Do("INFO", "persistence"), "aof_rewrite_in_progress:1") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	expectReply(t, c, "$5\r\nvvvvv\r\n", "GET", "k5")
	// A pipeline: every write fails, the reads between them answer.
	c.SendRaw(append(append(encodeCommand("SET", "big", big), encodeCommand("GET", "k2")...), encodeCommand("SET", "big2", big)...))
	if r := c.ReadReply(); !strings.HasPrefix(r, "-MISCONF") {
		t.Errorf("pipelined SET: %q", r)
	}
	if r := c.ReadReply(); r != "$2\r\nvv\r\n" && !strings.HasPrefix(r, "-MISCONF") {
		t.Errorf("pipelined GET: %q", r)
	}
	if r := c.ReadReply(); !strings.HasPrefix(r, "-MISCONF") {
		t.Errorf("pipelined SET: %q", r)
	}
	room()
	expectReply(t, c, "+OK\r\n", "SET", "big", big)
	expectReply(t, c, ":2\r\n", "INCR", "counter")
	if r := c.Do("INFO", "persistence"); !strings.Contains(r, "aof_last_write_status:ok") {
		t.Errorf("INFO persistence after the disk has room:\n%s", r)
	}
	c.Close()
	// Nothing stored was damaged: the file is whole and everything
	// acknowledged is there after a crash.
	p.Kill()
	out, err := exec.Command(p.Bin, "check-aof", p.Dir).CombinedOutput()
	if err != nil {
		t.Fatalf("check-aof after the write failures: %v\n%s", err, out)
	}
	p.Restart(t)
	c = p.Dial(t)
	expectReply(t, c, ":102\r\n", "DBSIZE")
	expectReply(t, c, "$99\r\n"+strings.Repeat("v", 99)+"\r\n", "GET", "k99")
	expectReply(t, c, "$1\r\n2\r\n", "GET", "counter")
	expectReply(t, c, ":65536\r\n", "STRLEN", "big")
	expectReply(t, c, ":1\r\n", "STRLEN", "k1")
}

// Write failures (issue 7, part 3), with the disk made to refuse writes by
// a file size limit on the server process (any user) and, as root, by a
// small filesystem.
func TestWriteFailures(t *testing.T) {
	for _, policy := range []string{"always", "everysec"} {
		t.Run("fsize/"+policy, func(t *testing.T) {
			p := startDurastore(t, "--appendfsync", policy)
			file := filepath.Join(p.Dir, "ns-000001.aof")
			writeFailureRound(t, p, "file too large", true, func() {
				st, err := os.Stat(file)
				if err != nil {
					t.Fatal(err)
				}
				setFileSizeLimit(t, p.Pid(), uint64(st.Size())+10)
			}, func() {
				setFileSizeLimit(t, p.Pid(), ^uint64(0))
			})
		})
	}
	t.Run("tmpfs", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("mounting a small filesystem needs root")
		}
		dir := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a tmpfs: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
		p := startDurastore(t, "--appendfsync", "always", "--dir", dir)
		filler := filepath.Join(dir, "filler")
		writeFailureRound(t, p, "no space left on device", false, func() {
			// Fill the filesystem to the last byte.
			f, err := os.Create(filler)
			if err != nil {
				t.Fatal(err)
			}
			chunk := make([]byte, 4096)
			for {
				if _, err := f.Write(chunk); err != nil {
					break
				}
			}
			for {
				if _, err := f.Write(chunk[:1]); err != nil {
					break
				}
			}
			f.Close()
		}, func() {
			os.Remove(filler)
		})
	})
}

// fsyncTrace is what strace saw durastore do to its append-only files.
type fsyncTrace struct {
	writeEnds []float64    // end times of writes to *.aof files
	fsyncs    [][2]float64 // start and end times of fsyncs of *.aof files
}

// parseStrace reads `strace -f -y -ttt -T` output.
func parseStrace(t *testing.T, path string) fsyncTrace {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr fsyncTrace
	started := map[string]float64{} // pid -> start of an unfinished fsync
	fileWrite := map[string]bool{}  // pid -> its unfinished write is to a file
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, " ", 3)
		if len(f) < 3 {
			continue
		}
		pid, rest := f[0], f[2]
		ts, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		dur := 0.0
		if i := strings.LastIndex(rest, " <"); i >= 0 && strings.HasSuffix(rest, ">") {
			dur, _ = strconv.ParseFloat(rest[i+2:len(rest)-1], 64)
		}
		switch {
		case strings.HasPrefix(rest, "fsync(") || strings.HasPrefix(rest, "fdatasync("):
			if !strings.Contains(rest, ".aof>") {
				continue
			}
			if strings.HasSuffix(rest, "<unfinished ...>") {
				started[pid] = ts
				continue
			}
			tr.fsyncs = append(tr.fsyncs, [2]float64{ts, ts + dur})
		case strings.HasPrefix(rest, "<... fsync resumed>") || strings.HasPrefix(rest, "<... fdatasync resumed>"):
			if s, ok := started[pid]; ok {
				tr.fsyncs = append(tr.fsyncs, [2]float64{s, ts})
				delete(started, pid)
			}
		case strings.HasPrefix(rest, "write(") || strings.HasPrefix(rest, "pwrite64("):
			if !strings.Contains(rest, ".aof>") {
				continue
			}
			if strings.HasSuffix(rest, "<unfinished ...>") {
				fileWrite[pid] = true
				continue
			}
			tr.writeEnds = append(tr.writeEnds, ts+dur)
		case strings.HasPrefix(rest, "<... write resumed>") || strings.HasPrefix(rest, "<... pwrite64 resumed>"):
			// A file write that was interrupted in the trace ends here.
			if fileWrite[pid] {
				tr.writeEnds = append(tr.writeEnds, ts)
				delete(fileWrite, pid)
			}
		}
	}
	sort.Float64s(tr.writeEnds)
	sort.Slice(tr.fsyncs, func(i, j int) bool { return tr.fsyncs[i][0] < tr.fsyncs[j][0] })
	return tr
}

// durableAt bounds when data acknowledged at time ack reached the disk: it
// was written by the last file write that ended before ack or earlier, so
// it is on disk once an fsync that started after that write has ended.
// It returns +Inf if no such fsync was seen.
func (tr fsyncTrace) durableAt(ack float64) float64 {
	i := sort.SearchFloat64s(tr.writeEnds, ack) - 1
	if i < 0 {
		return ack
	}
	w := tr.writeEnds[i]
	j := sort.Search(len(tr.fsyncs), func(k int) bool { return tr.fsyncs[k][0] >= w })
	best := math.Inf(1)
	for ; j < len(tr.fsyncs); j++ {
		best = math.Min(best, tr.fsyncs[j][1])
		if tr.fsyncs[j][0] > best {
			break
		}
	}
	return best
}

// TestFsyncPolicyExposure measures, for each appendfsync policy, how much
// acknowledged data a power loss could take: durastore runs under strace,
// which records when each write to an append-only file ended and when
// each fsync began and ended; writers record when each SET was answered.
// An answered SET is safe once an fsync that began after its write has
// ended. The test reports the longest time and the most answered SETs
// that were at risk at one moment. With always, nothing answered is ever
// at risk (asserted); with everysec the window is about a second; with no,
// durastore never fsyncs while running and the kernel's writeback decides.
// It needs strace and runs with DURASTORE_SOAK=1.
func TestFsyncPolicyExposure(t *testing.T) {
	if os.Getenv("DURASTORE_SOAK") != "1" {
		t.Skip("a measurement: set DURASTORE_SOAK=1")
	}
	straceBin, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("needs strace")
	}
	bin := ensureDurastoreBin(t)
	for _, policy := range []string{"always", "everysec", "no"} {
		t.Run(policy, func(t *testing.T) {
			port, dir := freePort(t), t.TempDir()
			tracePath := filepath.Join(t.TempDir(), "trace")
			args := []string{"-f", "-qq", "--seccomp-bpf", "-y", "-ttt", "-T", "-e", "trace=write,pwrite64,fsync,fdatasync", "-o", tracePath,
				bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--http-port", "0", "--appendfsync", policy}
			p := newProc(t, "durastore", straceBin, port, dir, args)
			const writers = 8
			acks := make([][]float64, writers)
			var wg sync.WaitGroup
			stop := time.Now().Add(5 * time.Second)
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					c := p.Dial(t)
					for i := 0; time.Now().Before(stop); i++ {
						if r, err := c.DoErr("SET", fmt.Sprintf("w%d:%d", w, i), "value"); err != nil || r != "+OK\r\n" {
							t.Errorf("SET: %q %v", r, err)
							return
						}
						acks[w] = append(acks[w], float64(time.Now().UnixNano())/1e9)
					}
				}(w)
			}
			wg.Wait()
			time.Sleep(1500 * time.Millisecond) // let everysec sync what it has
			// Kill durastore, not strace, so the trace is complete.
			out, err := exec.Command("pgrep", "-P", strconv.Itoa(p.Pid())).Output()
			child, _ := strconv.Atoi(strings.TrimSpace(string(out)))
			if err != nil || child == 0 {
				t.Fatalf("finding durastore under strace: %v %q", err, out)
			}
			syscall.Kill(child, syscall.SIGKILL)
			if _, err := p.Wait(10 * time.Second); err == nil {
				t.Log("strace exited 0")
			}
			tr := parseStrace(t, tracePath)
			var all []float64
			for _, a := range acks {
				all = append(all, a...)
			}
			sort.Float64s(all)
			// Events: +1 when a SET is answered, -1 when it is on disk.
			type ev struct {
				t float64
				d int
			}
			var evs []ev
			worst, unsynced := 0.0, 0
			for _, a := range all {
				d := tr.durableAt(a)
				if math.IsInf(d, 1) {
					unsynced++
					continue
				}
				if d > a {
					evs = append(evs, ev{a, 1}, ev{d, -1})
					worst = math.Max(worst, d-a)
				}
			}
			sort.Slice(evs, func(i, j int) bool { return evs[i].t < evs[j].t || evs[i].t == evs[j].t && evs[i].d < evs[j].d })
			atRisk, maxAtRisk := 0, 0
			for _, e := range evs {
				atRisk += e.d
				maxAtRisk = max(maxAtRisk, atRisk)
			}
			rate := float64(len(all)) / 5
			t.Logf("appendfsync %s: %d SETs answered (%.0f/s), %d file writes, %d fsyncs; at most %d answered SETs were not yet on disk at one moment, for at most %.0f ms; %d answered SETs never reached an fsync while the server ran",
				policy, len(all), rate, len(tr.writeEnds), len(tr.fsyncs), maxAtRisk, worst*1000, unsynced)
			// durableAt is an upper bound: it assumes a SET's data
			// may be in the last file write before its answer, which
			// under always is often another client's write made after
			// this SET's fsync began; the few-millisecond windows it
			// shows for always come from that. What must hold
			// exactly: with always and everysec every answered SET
			// reached an fsync; with no, durastore never fsyncs.
			switch policy {
			case "always", "everysec":
				if unsynced > 0 || len(tr.fsyncs) == 0 {
					t.Errorf("appendfsync %s: %d answered SETs never reached an fsync", policy, unsynced)
				}
			case "no":
				if len(tr.fsyncs) > 0 {
					t.Errorf("appendfsync no: %d fsyncs while serving", len(tr.fsyncs))
				}
			}
		})
	}
}
