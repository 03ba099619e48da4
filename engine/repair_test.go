package engine

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// repairFixture is a namespace file written one record per commit, with
// the file's size and the expected keys after each commit.
type repairFixture struct {
	dir        string
	file       string // path of namespace "0"'s file
	data       []byte
	boundaries []int64             // file size after each commit, ascending
	states     []map[string]string // keys after each commit (states[0]: empty)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRepairFixture(t *testing.T) *repairFixture {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, AppendOnly: true, Fsync: FsyncAlways, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	fx := &repairFixture{dir: dir, states: []map[string]string{{}}}
	cur := map[string]string{}
	far := time.Now().Add(time.Hour).UnixMilli()
	step := func(fn func(tx *Tx) error, change func()) {
		t.Helper()
		if err := s.Update(fn); err != nil {
			t.Fatal(err)
		}
		change()
		next := map[string]string{}
		for k, v := range cur {
			next[k] = v
		}
		fx.states = append(fx.states, next)
	}
	for i := 0; i < 12; i++ {
		k, v := fmt.Sprintf("key%d", i), strings.Repeat(string(rune('a'+i)), i*7)
		var exp int64
		if i%3 == 0 {
			exp = far
		}
		step(func(tx *Tx) error { return tx.Set("0", k, Value{Data: v, ExpireAt: exp}) }, func() { cur[k] = v })
		if i%4 == 3 {
			d := k
			step(func(tx *Tx) error { _, err := tx.Delete("0", d); return err }, func() { delete(cur, d) })
		}
		if i == 6 {
			step(func(tx *Tx) error { return tx.Flush("0") }, func() { clear(cur) })
		}
		fx.file = filepath.Join(dir, "ns-000001.aof")
		st, err := os.Stat(fx.file)
		if err != nil {
			t.Fatal(err)
		}
		_ = st
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fx.data, err = os.ReadFile(fx.file)
	if err != nil {
		t.Fatal(err)
	}
	// Every commit wrote exactly one record: find their ends.
	fx.boundaries = []int64{0}
	for _, r := range parseTestRecords(t, fx.data) {
		fx.boundaries = append(fx.boundaries, int64(r.end))
	}
	if len(fx.boundaries) != len(fx.states) {
		t.Fatalf("%d records for %d commits", len(fx.boundaries)-1, len(fx.states)-1)
	}
	return fx
}

// testRecord is one record of a valid file: where it ends and which byte
// ranges hold keys and values (data no check can validate).
type testRecord struct {
	start, end int
	data       [][2]int
}

func parseTestRecords(t *testing.T, b []byte) []testRecord {
	t.Helper()
	var out []testRecord
	pos := 0
	line := func() int {
		i := bytes.Index(b[pos:], []byte("\r\n"))
		n, err := strconv.Atoi(string(b[pos+1 : pos+i]))
		if err != nil {
			t.Fatalf("bad test file at %d", pos)
		}
		pos += i + 2
		return n
	}
	for pos < len(b) {
		r := testRecord{start: pos}
		n := line()
		for j := 0; j < n; j++ {
			l := line()
			if j == 1 || j == 2 {
				r.data = append(r.data, [2]int{pos, pos + l})
			}
			pos += l + 2
		}
		r.end = pos
		out = append(out, r)
	}
	return out
}

// open opens a store over a copy of the fixture's directory whose file
// holds content.
func (fx *repairFixture) open(t *testing.T, content []byte, cfg Config) (*Store, string, error) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"manifest", "ns-000001.aof"} {
		b, err := os.ReadFile(filepath.Join(fx.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name != "manifest" {
			b = content
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Dir, cfg.AppendOnly = dir, true
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	s, err := Open(cfg)
	return s, filepath.Join(dir, "ns-000001.aof"), err
}

// keys reads every key of namespace "0".
func storeKeys(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.View(func(tx *Tx) error {
		return tx.Scan("0", func(k string, v Value) bool {
			out[k] = strings.Clone(v.Data)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameKeys(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// A file cut at any byte loads up to its last whole record, logs it, and
// the store serves (and keeps writing) from there.
func TestFileCutAtEveryByte(t *testing.T) {
	fx := newRepairFixture(t)
	for cut := int64(0); cut <= int64(len(fx.data)); cut++ {
		idx := 0
		for i, b := range fx.boundaries {
			if b <= cut {
				idx = i
			}
		}
		whole := fx.boundaries[idx] == cut
		path := filepath.Join(t.TempDir(), "f.aof")
		os.WriteFile(path, fx.data[:cut], 0o644)
		rep, err := CheckFile(path)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus := FileTruncated
		if whole {
			wantStatus = FileOK
		}
		if rep.Status != wantStatus || rep.ValidEnd != fx.boundaries[idx] || rep.Records != idx {
			t.Fatalf("cut at %d: %v", cut, rep)
		}

		var logs bytes.Buffer
		s, file, err := fx.open(t, fx.data[:cut], Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("cut at %d: open: %v", cut, err)
		}
		if got := storeKeys(t, s); !sameKeys(got, fx.states[idx]) {
			t.Fatalf("cut at %d: keys %v, want %v", cut, got, fx.states[idx])
		}
		if !whole && !strings.Contains(logs.String(), "ended in the middle of a record") {
			t.Fatalf("cut at %d: nothing logged:\n%s", cut, logs.String())
		}
		// New writes land after the last whole record and survive.
		if err := s.Update(func(tx *Tx) error { return tx.Set("0", "after", Value{Data: "cut"}) }); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if rep, _ := CheckFile(file); rep.Status != FileOK {
			t.Fatalf("cut at %d: after writing: %v", cut, rep)
		}
	}
}

// aof-load-truncated no refuses a cut file, naming file and offset.
func TestRefuseTruncated(t *testing.T) {
	fx := newRepairFixture(t)
	cut := fx.boundaries[3] + 5
	_, file, err := fx.open(t, fx.data[:cut], Config{RefuseTruncated: true})
	if err == nil {
		t.Fatal("a cut file loaded with RefuseTruncated")
	}
	for _, want := range []string{file, fmt.Sprintf("offset %d", fx.boundaries[3]), "check-aof"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// Damage at any byte other than key and value data is found, reported
// with the record's offset, refuses start-up, and with RepairDamaged is cut
// away, keeping the records before it.
func TestFileDamagedAtEveryByte(t *testing.T) {
	fx := newRepairFixture(t)
	records := parseTestRecords(t, fx.data)
	for off := 0; off < len(fx.data); off++ {
		if fx.data[off] == 'X' {
			continue
		}
		var rec int
		inData := false
		for i, r := range records {
			if off >= r.start && off < r.end {
				rec = i
				for _, d := range r.data {
					if off >= d[0] && off < d[1] {
						inData = true
					}
				}
			}
		}
		bad := bytes.Clone(fx.data)
		bad[off] = 'X'
		path := filepath.Join(t.TempDir(), "f.aof")
		os.WriteFile(path, bad, 0o644)
		rep, err := CheckFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if inData {
			if rep.Status != FileOK {
				t.Fatalf("byte %d (data) changed: %v", off, rep)
			}
			continue
		}
		if rep.Status != FileDamaged || rep.ValidEnd != int64(records[rec].start) || rep.Records != rec ||
			rep.BadOffset < int64(records[rec].start) || rep.BadOffset > int64(off) || rep.After != len(records)-rec-1 {
			t.Fatalf("byte %d (record %d at %d) changed: %+v", off, rec, records[rec].start, rep)
		}
		_, file, err := fx.open(t, bad, Config{})
		if err == nil {
			t.Fatalf("byte %d changed: the store opened", off)
		}
		for _, want := range []string{file, fmt.Sprintf("damaged at offset %d", rep.BadOffset)} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("byte %d: error %q lacks %q", off, err, want)
			}
		}
		s, file, err := fx.open(t, bad, Config{RepairDamaged: true})
		if err != nil {
			t.Fatalf("byte %d: repair: %v", off, err)
		}
		if got := storeKeys(t, s); !sameKeys(got, fx.states[rec]) {
			t.Fatalf("byte %d: repaired keys %v, want %v", off, got, fx.states[rec])
		}
		s.Close()
		saved, _ := filepath.Glob(file + ".cut-*")
		if len(saved) != 1 {
			t.Fatalf("byte %d: cut bytes not saved: %v", off, saved)
		}
		if b, _ := os.ReadFile(saved[0]); !bytes.Equal(b, bad[records[rec].start:]) {
			t.Fatalf("byte %d: saved %q", off, b)
		}
	}
}

// A corrupted length that makes a record run past the end of the file
// looks like a cut; the whole records after its start show it is damage,
// where buntdb alone would silently drop them.
func TestLengthCorruptionIsNotTakenForACut(t *testing.T) {
	fx := newRepairFixture(t)
	records := parseTestRecords(t, fx.data)
	r := records[len(records)-4]
	bad := bytes.Clone(fx.data)
	// The record's first length digit ("*3" -> "*3", "$3" of "set"): make
	// the key's length 9…9 with as many digits as it has.
	i := r.start + bytes.Index(fx.data[r.start:], []byte("\r\n$3\r\nset\r\n$")) + len("\r\n$3\r\nset\r\n$")
	for j := i; fx.data[j] != '\r'; j++ {
		bad[j] = '9'
	}
	if i > len(fx.data)-4 || int64(len(bad)-i) > 999 {
		t.Fatalf("fixture changed: key length at %d of %d", i, len(bad))
	}
	path := filepath.Join(t.TempDir(), "f.aof")
	os.WriteFile(path, bad, 0o644)
	rep, _ := CheckFile(path)
	if rep.Status != FileDamaged || rep.ValidEnd != int64(r.start) || rep.After == 0 {
		t.Fatalf("%+v", rep)
	}
}

// NUL bytes at the end (what a crash can leave) are a cut; NUL bytes
// between records are damage (buntdb would skip them and then write at the
// wrong offset).
func TestNulBytes(t *testing.T) {
	fx := newRepairFixture(t)
	tail := append(bytes.Clone(fx.data), make([]byte, 4096)...)
	s, file, err := fx.open(t, tail, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := storeKeys(t, s); !sameKeys(got, fx.states[len(fx.states)-1]) {
		t.Fatalf("keys %v", got)
	}
	s.Close()
	if st, _ := os.Stat(file); st.Size() != int64(len(fx.data)) {
		t.Fatalf("file is %d bytes, want %d", st.Size(), len(fx.data))
	}
	mid := append(bytes.Clone(fx.data[:fx.boundaries[4]]), 0, 0, 0)
	mid = append(mid, fx.data[fx.boundaries[4]:]...)
	path := filepath.Join(t.TempDir(), "f.aof")
	os.WriteFile(path, mid, 0o644)
	rep, _ := CheckFile(path)
	if rep.Status != FileDamaged || rep.BadOffset != fx.boundaries[4] {
		t.Fatalf("%+v", rep)
	}
}

// The records buntdb wrote before durastore kept its own expiry ("set k v
// ex N" and "ae N") are valid; a bad expiry is not.
func TestLegacyExpiryRecords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.aof")
	good := "*5\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nex\r\n$2\r\n10\r\n*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nae\r\n$10\r\n1999999999\r\n"
	os.WriteFile(path, []byte(good), 0o644)
	if rep, _ := CheckFile(path); rep.Status != FileOK || rep.Records != 2 {
		t.Fatalf("%+v", rep)
	}
	for _, bad := range []string{
		"*5\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nxx\r\n$2\r\n10\r\n",
		"*5\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nex\r\n$2\r\n1x\r\n",
		"*4\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nex\r\n",
		"*0\r\n",
		"*2\r\n$3\r\nset\r\n$1\r\nk\r\n",
		"*1\r\n$1\r\ns\r\n", // buntdb would panic on this one
	} {
		os.WriteFile(path, []byte(good+bad), 0o644)
		if rep, _ := CheckFile(path); rep.Status != FileDamaged || rep.ValidEnd != int64(len(good)) {
			t.Errorf("%q: %+v", bad, rep)
		}
	}
}

// A transaction of several writes is written between multi and exec
// records; a file cut anywhere inside it loads without any of them: the
// keys are always those after some whole commit.
func TestTransactionCutAtEveryByte(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, AppendOnly: true, Fsync: FsyncAlways, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "ns-000001.aof")
	boundaries := []int64{0}
	states := []map[string]string{{}}
	cur := map[string]string{}
	commit := func(fn func(tx *Tx) error, change func()) {
		t.Helper()
		if err := s.Update(fn); err != nil {
			t.Fatal(err)
		}
		change()
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		next := map[string]string{}
		for k, v := range cur {
			next[k] = v
		}
		boundaries, states = append(boundaries, st.Size()), append(states, next)
	}
	for i := 0; i < 4; i++ {
		keys := []string{fmt.Sprint("a", i), fmt.Sprint("b", i), fmt.Sprint("c", i)}
		commit(func(tx *Tx) error { // an MSET
			for _, k := range keys {
				if err := tx.Set("0", k, Value{Data: fmt.Sprint("v", i)}); err != nil {
					return err
				}
			}
			return nil
		}, func() {
			for _, k := range keys {
				cur[k] = fmt.Sprint("v", i)
			}
		})
		one := fmt.Sprint("single", i)
		commit(func(tx *Tx) error { return tx.Set("0", one, Value{Data: "x"}) }, func() { cur[one] = "x" })
		if i == 2 {
			commit(func(tx *Tx) error { // a RENAME
				if _, err := tx.Delete("0", "a0"); err != nil {
					return err
				}
				return tx.Set("0", "renamed", Value{Data: "v0"})
			}, func() { delete(cur, "a0"); cur["renamed"] = "v0" })
		}
	}
	s.Close()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("multi")); n != 5 {
		t.Fatalf("%d transactions marked, want 5 (the multi-key commits)", n)
	}
	for cut := int64(0); cut <= int64(len(data)); cut++ {
		idx := 0
		for i, b := range boundaries {
			if b <= cut {
				idx = i
			}
		}
		cdir := t.TempDir()
		os.WriteFile(filepath.Join(cdir, "ns-000001.aof"), data[:cut], 0o644)
		man, _ := os.ReadFile(filepath.Join(dir, "manifest"))
		os.WriteFile(filepath.Join(cdir, "manifest"), man, 0o644)
		rep, err := CheckFile(filepath.Join(cdir, "ns-000001.aof"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status == FileDamaged || rep.ValidEnd != boundaries[idx] {
			t.Fatalf("cut at %d: %v, want valid up to %d", cut, rep, boundaries[idx])
		}
		s, err := Open(Config{Dir: cdir, AppendOnly: true, Logger: quietLogger()})
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if got := storeKeys(t, s); !sameKeys(got, states[idx]) {
			t.Fatalf("cut at %d: keys %v, want %v", cut, got, states[idx])
		}
		s.Close()
	}
}

// A multi inside a transaction and an exec outside one are damage.
func TestTransactionMarkersOutOfPlace(t *testing.T) {
	set := "*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n"
	for name, content := range map[string]string{
		"nested multi": multiRecord + set + multiRecord + set + execRecord,
		"stray exec":   set + execRecord + set,
	} {
		path := filepath.Join(t.TempDir(), "f.aof")
		os.WriteFile(path, []byte(content), 0o644)
		rep, err := CheckFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status != FileDamaged {
			t.Errorf("%s: %v", name, rep)
		}
	}
}
