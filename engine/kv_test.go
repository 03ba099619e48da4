package engine

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// kvPut stores a copy of key and val.
func kvPut(tx kvTx, key, val string) {
	block := []byte(key + val)
	tx.SetBlock(block, len(key))
}

func kvSet(t *testing.T, db *kvDB, k, v string) {
	t.Helper()
	tx, err := db.begin(true)
	if err != nil {
		t.Fatal(err)
	}
	kvPut(tx, k, v)
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
}

func kvDump(db *kvDB) map[string]string {
	out := map[string]string{}
	db.view(func() {
		db.d.each(func(s dslot) bool {
			out[s.key()] = s.val()
			return true
		})
	})
	return out
}

// TestKVShrinkWhileWriting rewrites the file three times while a writer
// sets and deletes keys, then reloads it: the data must be the writer's.
func TestKVShrinkWhileWriting(t *testing.T) {
	db, path := openTempKV(t)
	model := map[string]string{}
	for i := 0; i < 5000; i++ {
		k := fmt.Sprint("k", i)
		kvSet(t, db, k, "v0")
		model[k] = "v0"
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 1))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tx, err := db.begin(true)
			if err != nil {
				t.Error(err)
				return
			}
			for j := 0; j < 10; j++ {
				k := fmt.Sprint("k", rng.IntN(20000))
				if rng.IntN(3) == 0 {
					tx.Delete(k)
					delete(model, k)
				} else {
					v := fmt.Sprint("v", i)
					kvPut(tx, k, v)
					model[k] = v
				}
			}
			if rng.IntN(500) == 0 {
				tx.DeleteAll()
				clear(model)
			}
			if err := tx.Commit(nil); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := 0; i < 3; i++ {
		if err := db.shrink(nil); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if got := kvDump(db); len(got) != len(model) {
		t.Fatalf("in memory: %d keys, model %d", len(got), len(model))
	}
	if err := db.close(); err != nil {
		t.Fatal(err)
	}
	db2, err := openKV(path, maphash.MakeSeed())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.close()
	got := kvDump(db2)
	if len(got) != len(model) {
		t.Fatalf("reloaded %d keys, model %d", len(got), len(model))
	}
	for k, v := range model {
		if got[k] != v {
			t.Fatalf("reloaded %q = %q, want %q", k, got[k], v)
		}
	}
	if rep, err := CheckFile(path); err != nil || rep.Status != FileOK {
		t.Fatalf("file after rewrites: %v %v", rep, err)
	}
}

// TestKVWriteFailureRollsBack: a commit whose write fails leaves memory as
// it was before the transaction and reports the error.
func TestKVWriteFailureRollsBack(t *testing.T) {
	db, path := openTempKV(t)
	defer db.close()
	kvSet(t, db, "a", "1")
	kvSet(t, db, "b", "2")
	good := db.file
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.file = ro // writes to it fail
	tx, _ := db.begin(true)
	kvPut(tx, "a", "changed")
	tx.Delete("b")
	kvPut(tx, "c", "new")
	tx.DeleteAll()
	kvPut(tx, "d", "after flush")
	locked := false
	if err := tx.Commit(func() { locked = !db.mu.TryLock() }); err == nil {
		t.Fatal("commit on a read-only file succeeded")
	}
	if !locked {
		t.Error("onFail ran without the lock held")
	}
	ro.Close()
	db.file = good
	if got := kvDump(db); len(got) != 2 || got["a"] != "1" || got["b"] != "2" {
		t.Fatalf("after the failed commit: %v", got)
	}
	// The file is still whole and takes the next commit.
	kvSet(t, db, "e", "5")
	if rep, err := CheckFile(path); err != nil || rep.Status != FileOK || rep.Records != 3 {
		t.Fatalf("file: %+v %v", rep, err)
	}
}

// TestKVLoadRecords: every record kind buntdb wrote loads, including set
// records with buntdb's own expiry options, which are ignored.
func TestKVLoadRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.aof")
	data := "*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n" +
		"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$0\r\n\r\n" +
		"*5\r\n$3\r\nset\r\n$1\r\nc\r\n$1\r\n3\r\n$2\r\nex\r\n$2\r\n10\r\n" +
		"*2\r\n$3\r\ndel\r\n$1\r\na\r\n" +
		"*3\r\n$3\r\nset\r\n$0\r\n\r\n$5\r\nempty\r\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := openKV(path, maphash.MakeSeed())
	if err != nil {
		t.Fatal(err)
	}
	got := kvDump(db)
	want := map[string]string{"b": "", "c": "3", "": "empty"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("loaded %q, want %q", got, want)
	}
	if db.size != int64(len(data)) {
		t.Errorf("size %d, want %d", db.size, len(data))
	}
	db.close()
	os.WriteFile(path, []byte(data+"*1\r\n$7\r\nflushdb\r\n"), 0o644)
	db, err = openKV(path, maphash.MakeSeed())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(kvDump(db)); n != 0 {
		t.Errorf("%d keys after flushdb", n)
	}
	db.close()
}

// openTempKV opens a database on a new file in a temporary directory.
func openTempKV(t *testing.T) (*kvDB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ns.aof")
	db, err := openKV(path, maphash.MakeSeed())
	if err != nil {
		t.Fatal(err)
	}
	return db, path
}

// kvSetDeferred commits a set whose record waits for a flush.
func kvSetDeferred(t *testing.T, db *kvDB, tk *WriteTicket, k, v string) {
	t.Helper()
	tx, err := db.begin(true)
	if err != nil {
		t.Fatal(err)
	}
	kvPut(tx, k, v)
	tx.commitDeferred(tk, int64(len(k)+len(v)))
}

func reopenKV(t *testing.T, db *kvDB, path string) map[string]string {
	t.Helper()
	if err := db.close(); err != nil {
		t.Fatal(err)
	}
	db2, err := openKV(path, maphash.MakeSeed())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.close()
	return kvDump(db2)
}

// Deferred records reach the file only when flushed, and before any
// record written after them, whatever writes it.
func TestKVDeferredCommits(t *testing.T) {
	db, path := openTempKV(t)
	var listed []*kvDB
	db.listPending = func(d *kvDB) { listed = append(listed, d) }
	var tk WriteTicket
	kvSetDeferred(t, db, &tk, "a", "1")
	kvSetDeferred(t, db, &tk, "b", "1")
	if !tk.Deferred() {
		t.Fatal("ticket does not say the commit was deferred")
	}
	if st, _ := os.Stat(path); st.Size() != 0 {
		t.Fatalf("deferred records written before a flush: %d bytes", st.Size())
	}
	if len(listed) != 1 {
		t.Fatalf("database listed %d times for its pending records, want 1", len(listed))
	}
	if got := kvDump(db); got["a"] != "1" || got["b"] != "1" {
		t.Fatalf("deferred changes not visible: %v", got)
	}
	if err := db.flushPending(); err != nil || tk.Result() != nil {
		t.Fatal(err, tk.Result())
	}
	st, _ := os.Stat(path)
	if st.Size() == 0 || st.Size() != db.size {
		t.Fatalf("after the flush the file has %d bytes, size says %d", st.Size(), db.size)
	}
	// A deferred set, then a direct one of the same key: the direct
	// write carries the pending record before its own.
	kvSetDeferred(t, db, &tk, "a", "2")
	kvSet(t, db, "a", "3")
	// Pending at close: written by close.
	kvSetDeferred(t, db, &tk, "c", "1")
	got := reopenKV(t, db, path)
	want := map[string]string{"a": "3", "b": "1", "c": "1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reloaded %v, want %v", got, want)
	}
}

// A rewrite keeps the deferred records committed before it.
func TestKVDeferredCommitsAndShrink(t *testing.T) {
	db, path := openTempKV(t)
	for i := 0; i < 2000; i++ {
		kvSet(t, db, fmt.Sprint("k", i), "old")
	}
	var tk WriteTicket
	kvSetDeferred(t, db, &tk, "k1", "deferred")
	if err := db.shrink(func() error {
		if len(db.pending) != 0 {
			t.Errorf("%d bytes still pending after the rewrite", len(db.pending))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	kvSetDeferred(t, db, &tk, "k2", "after")
	got := reopenKV(t, db, path)
	if got["k1"] != "deferred" || got["k2"] != "after" || got["k3"] != "old" || len(got) != 2000 {
		t.Fatalf("reloaded k1=%q k2=%q k3=%q, %d keys", got["k1"], got["k2"], got["k3"], len(got))
	}
}

// A flush that fails undoes the deferred commits, newest first, takes
// back their memory estimate and tells their tickets; a direct commit
// that finds them unwritable is undone too.
func TestKVDeferredFlushFailure(t *testing.T) {
	db, path := openTempKV(t)
	var reverted int64
	db.revertMem = func(m int64) { reverted += m }
	kvSet(t, db, "a", "0")
	var t1, t2 WriteTicket
	kvSetDeferred(t, db, &t1, "a", "1")
	kvSetDeferred(t, db, &t2, "a", "2")
	kvSetDeferred(t, db, &t2, "new", "x")
	good := db.file
	ro, err := os.Open(path) // read-only: writes fail
	if err != nil {
		t.Fatal(err)
	}
	db.file = ro
	if err := db.flushPending(); err == nil {
		t.Fatal("flush to a read-only file succeeded")
	}
	if t1.Result() == nil || t2.Result() == nil {
		t.Fatalf("tickets after a failed flush: %v %v", t1.Result(), t2.Result())
	}
	if got := kvDump(db); fmt.Sprint(got) != "map[a:0]" {
		t.Fatalf("after the failed flush the data is %v, want map[a:0]", got)
	}
	if reverted != int64(2+2+4) {
		t.Fatalf("memory taken back: %d, want 8", reverted)
	}

	// Deferred, then a direct commit on top: both undone, in order.
	var t3 WriteTicket
	kvSetDeferred(t, db, &t3, "a", "3")
	tx, err := db.begin(true)
	if err != nil {
		t.Fatal(err)
	}
	kvPut(tx, "a", "4")
	if err := tx.Commit(nil); err == nil {
		t.Fatal("direct commit to a read-only file succeeded")
	}
	if t3.Result() == nil {
		t.Fatal("the deferred commit under the failed one is not reported")
	}
	if got := kvDump(db); fmt.Sprint(got) != "map[a:0]" {
		t.Fatalf("after the failed commit the data is %v, want map[a:0]", got)
	}

	db.file = good
	ro.Close()
	var t4 WriteTicket
	kvSetDeferred(t, db, &t4, "b", "1")
	if err := db.flushPending(); err != nil || t4.Result() != nil {
		t.Fatal(err, t4.Result())
	}
	got := reopenKV(t, db, path)
	if fmt.Sprint(got) != "map[a:0 b:1]" {
		t.Fatalf("reloaded %v", got)
	}
}

// Under appendfsync always a flush waits for an fsync after writing, and
// a failed fsync reaches the tickets (the records stay in the file).
func TestKVDeferredFlushWaitsForFsync(t *testing.T) {
	db, path := openTempKV(t)
	syncs := 0
	var syncErr error
	db.syncAlways = func() bool { return true }
	db.syncWait = func() error {
		syncs++
		if st, _ := os.Stat(path); st.Size() == 0 {
			t.Error("fsync waited for before the records were written")
		}
		return syncErr
	}
	var t1, t2 WriteTicket
	kvSetDeferred(t, db, &t1, "a", "1")
	kvSetDeferred(t, db, &t2, "b", "1")
	if err := db.flushPending(); err != nil || t1.Result() != nil || t2.Result() != nil {
		t.Fatal(err, t1.Result(), t2.Result())
	}
	if syncs != 1 {
		t.Fatalf("%d fsyncs for one flush, want 1", syncs)
	}
	syncErr = fmt.Errorf("fsync: input/output error")
	var t3 WriteTicket
	kvSetDeferred(t, db, &t3, "c", "1")
	if err := db.flushPending(); err == nil || t3.Result() == nil {
		t.Fatalf("failed fsync not reported: %v %v", err, t3.Result())
	}
	db.syncWait = func() error { return nil }
	if got := reopenKV(t, db, path); fmt.Sprint(got) != "map[a:1 b:1 c:1]" {
		t.Fatalf("reloaded %v", got)
	}
}
