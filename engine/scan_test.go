package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func openMemStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(Config{Databases: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fill(t *testing.T, s *Store, ns string, keys ...string) {
	t.Helper()
	err := s.Update(func(tx *Tx) error {
		for _, k := range keys {
			if err := tx.Set(ns, k, Value{Data: "v"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// page runs one ScanCursor call and returns the keys it visited.
func page(t *testing.T, s *Store, ns string, cursor uint64, count int, prefix string) ([]string, uint64) {
	t.Helper()
	var keys []string
	var next uint64
	err := s.View(func(tx *Tx) error {
		var err error
		next, err = tx.ScanCursor(ns, cursor, count, prefix, func(k string, _ Value) {
			keys = append(keys, strings.Clone(k))
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys, next
}

func TestCursorTableRegisterLookup(t *testing.T) {
	ct := NewCursorTable(100, 1<<20)
	a := ct.Register("0", "apple")
	if a == 0 {
		t.Fatal("cursor 0 handed out")
	}
	if again := ct.Register("0", "apple"); again != a {
		t.Errorf("same position gave cursors %d and %d", a, again)
	}
	b := ct.Register("1", "apple")
	if b == a || b == 0 {
		t.Errorf("other namespace gave cursor %d (first %d)", b, a)
	}
	if k, ok := ct.Lookup("0", a); !ok || k != "apple" {
		t.Errorf("Lookup(0, a) = %q, %v", k, ok)
	}
	if _, ok := ct.Lookup("1", a); ok {
		t.Error("cursor of namespace 0 resolved in namespace 1")
	}
	if _, ok := ct.Lookup("0", a^1<<40); ok {
		t.Error("made-up cursor resolved")
	}
	if ct.Len() != 2 {
		t.Errorf("Len = %d, want 2", ct.Len())
	}
}

func TestCursorTableCopiesStrings(t *testing.T) {
	// The resume key given may point into a value buffer; the table must
	// not keep (or see changes to) that memory.
	ct := NewCursorTable(100, 1<<20)
	b := []byte("key-2")
	id2 := ct.Register("0", unsafeString(b))
	b[4] = '9'
	if k, _ := ct.Lookup("0", id2); k != "key-2" {
		t.Errorf("table kept the caller's memory: got %q, want key-2", k)
	}
}

func TestCursorTableCollisions(t *testing.T) {
	ct := NewCursorTable(100, 1<<20)
	ct.hash = func(ns, key string) uint64 { return 0 } // everything collides, on 0
	ids := map[uint64]string{}
	for i := 0; i < 20; i++ {
		k := fmt.Sprint("k", i)
		id := ct.Register("0", k)
		if id == 0 {
			t.Fatal("cursor 0 handed out")
		}
		if prev, dup := ids[id]; dup {
			t.Fatalf("cursor %d given to %q and %q", id, prev, k)
		}
		ids[id] = k
	}
	for id, k := range ids {
		if got, ok := ct.Lookup("0", id); !ok || got != k {
			t.Errorf("Lookup(%d) = %q, %v; want %q", id, got, ok, k)
		}
		if again := ct.Register("0", k); again != id {
			t.Errorf("Register(%q) again = %d, want %d", k, again, id)
		}
	}
}

func TestCursorTableEvictsLeastRecentlyUsed(t *testing.T) {
	ct := NewCursorTable(3, 1<<20)
	a := ct.Register("0", "a")
	b := ct.Register("0", "b")
	c := ct.Register("0", "c")
	if _, ok := ct.Lookup("0", a); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	d := ct.Register("0", "d") // evicts b
	if ct.Len() != 3 {
		t.Errorf("Len = %d, want 3", ct.Len())
	}
	if _, ok := ct.Lookup("0", b); ok {
		t.Error("b survived; it was the least recently used")
	}
	for name, id := range map[string]uint64{"a": a, "c": c, "d": d} {
		if k, ok := ct.Lookup("0", id); !ok || k != name {
			t.Errorf("%s: Lookup = %q, %v", name, k, ok)
		}
	}
	// b's position gets a working cursor again when registered anew.
	b2 := ct.Register("0", "b")
	if k, ok := ct.Lookup("0", b2); !ok || k != "b" {
		t.Errorf("re-registered b: %q, %v", k, ok)
	}
}

func TestCursorTableByteBound(t *testing.T) {
	const max = 10 * (cursorEntryCost + 100)
	ct := NewCursorTable(1000, max)
	for i := 0; i < 100; i++ {
		ct.Register("0", fmt.Sprintf("%0100d", i))
		if ct.Bytes() > max {
			t.Fatalf("after %d entries Bytes = %d > %d", i+1, ct.Bytes(), max)
		}
	}
	if ct.Len() < 9 || ct.Len() > 10 {
		t.Errorf("Len = %d, want about 10", ct.Len())
	}
	// An entry bigger than the whole bound is kept, alone.
	huge := strings.Repeat("x", 2*max)
	id := ct.Register("0", huge)
	if ct.Len() != 1 {
		t.Errorf("Len = %d after a huge entry, want 1", ct.Len())
	}
	if k, ok := ct.Lookup("0", id); !ok || k != huge {
		t.Error("huge entry not kept")
	}
	ct.Register("0", "small")
	if ct.Len() != 1 || ct.Bytes() > max {
		t.Errorf("huge entry not evicted: Len %d Bytes %d", ct.Len(), ct.Bytes())
	}
}

func TestStoreCursorsPerStore(t *testing.T) {
	s1, s2 := openMemStore(t), openMemStore(t)
	if s1.Cursors() != s1.Cursors() {
		t.Error("one store, two tables")
	}
	if s1.Cursors() == s2.Cursors() {
		t.Error("two stores share a table")
	}
}

func TestScanCursorFullIteration(t *testing.T) {
	s := openMemStore(t)
	var want []string
	for i := 0; i < 1000; i++ {
		want = append(want, fmt.Sprintf("key:%04d", i))
	}
	fill(t, s, "0", want...)
	for _, count := range []int{1, 7, 10, 999, 1000, 1001, 1 << 40} {
		var got []string
		cursor, calls := uint64(0), 0
		for {
			keys, next := page(t, s, "0", cursor, count, "")
			calls++
			if len(keys) > count {
				t.Fatalf("count %d: a call visited %d keys", count, len(keys))
			}
			if next != 0 && len(keys) != count {
				t.Fatalf("count %d: a non-final call visited %d keys", count, len(keys))
			}
			got = append(got, keys...)
			if next == 0 {
				break
			}
			cursor = next
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("count %d: iteration returned %d keys, not each key once in order", count, len(got))
		}
		if wantCalls := (1000 + count - 1) / count; calls != wantCalls {
			t.Errorf("count %d: %d calls, want %d", count, calls, wantCalls)
		}
	}
}

func TestScanCursorDeterministic(t *testing.T) {
	s := openMemStore(t)
	fill(t, s, "0", "a", "b", "c", "d")
	_, c1 := page(t, s, "0", 0, 2, "")
	_, c2 := page(t, s, "0", 0, 2, "")
	if c1 == 0 || c1 != c2 {
		t.Fatalf("repeated call gave cursors %d and %d", c1, c2)
	}
	k1, n1 := page(t, s, "0", c1, 1, "")
	k2, n2 := page(t, s, "0", c1, 1, "")
	if fmt.Sprint(k1, n1) != fmt.Sprint(k2, n2) || fmt.Sprint(k1) != "[c]" {
		t.Errorf("resuming twice: %v %d, then %v %d", k1, n1, k2, n2)
	}
}

func TestScanCursorEmptyAndMissingNamespace(t *testing.T) {
	s := openMemStore(t)
	keys, next := page(t, s, "nowhere", 0, 10, "")
	if len(keys) != 0 || next != 0 {
		t.Errorf("missing namespace: %v, %d", keys, next)
	}
}

func TestScanCursorUnknownRestarts(t *testing.T) {
	s := openMemStore(t)
	fill(t, s, "0", "a", "b", "c")
	keys, next := page(t, s, "0", 123456789, 2, "")
	if fmt.Sprint(keys) != "[a b]" || next == 0 {
		t.Errorf("unknown cursor: %v, %d; want to start at a", keys, next)
	}
	// A cursor of another namespace is unknown here.
	fill(t, s, "1", "x", "y", "z")
	keys, other := page(t, s, "1", 0, 1, "")
	if fmt.Sprint(keys) != "[x]" {
		t.Fatalf("ns 1 first page %v", keys)
	}
	keys, _ = page(t, s, "0", other, 1, "")
	if fmt.Sprint(keys) != "[a]" {
		t.Errorf("cursor of namespace 1 in namespace 0 gave %v, want a restart", keys)
	}
}

func TestScanCursorPrefix(t *testing.T) {
	s := openMemStore(t)
	var bs []string
	for _, p := range []string{"a:", "b:", "bb", "c:"} {
		for i := 0; i < 10; i++ {
			k := fmt.Sprintf("%s%d", p, i)
			fill(t, s, "0", k)
			if p == "b:" {
				bs = append(bs, k)
			}
		}
	}
	var got []string
	cursor, calls := uint64(0), 0
	for {
		keys, next := page(t, s, "0", cursor, 3, "b:")
		calls++
		got = append(got, keys...)
		if next == 0 {
			break
		}
		cursor = next
	}
	if strings.Join(got, ",") != strings.Join(bs, ",") {
		t.Errorf("prefix b: visited %v", got)
	}
	if calls != 4 {
		t.Errorf("%d calls for 10 keys at count 3, want 4", calls)
	}
	// A cursor from an unbounded scan may resume a prefixed one: it
	// starts at the later of the two positions.
	_, c := page(t, s, "0", 0, 25, "") // resumes at "bb5"
	keys, next := page(t, s, "0", c, 100, "b:")
	if len(keys) != 0 || next != 0 {
		t.Errorf("resuming past the prefix range: %v, %d", keys, next)
	}
	keys, _ = page(t, s, "0", c, 100, "c:")
	if len(keys) != 10 {
		t.Errorf("resuming before the prefix range visited %v", keys)
	}
}

func TestScanCursorSkipsExpired(t *testing.T) {
	s := openMemStore(t)
	err := s.Update(func(tx *Tx) error {
		tx.Set("0", "a", Value{Data: "1"})
		tx.Set("0", "b", Value{Data: "1", ExpireAt: tx.Now() - 1000})
		tx.Set("0", "c", Value{Data: "1", ExpireAt: tx.Now() + 1e7})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, next := page(t, s, "0", 0, 2, "")
	if fmt.Sprint(keys) != "[a c]" || next != 0 {
		t.Errorf("got %v, %d; want [a c], 0", keys, next)
	}
}

// TestScanCursorGuarantee interleaves an iteration with writes: keys
// added and removed everywhere, including the key a cursor resumes at.
// Every key present for the whole iteration must be returned, once.
func TestScanCursorGuarantee(t *testing.T) {
	s := openMemStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	stable := map[string]bool{}
	var all []string
	for i := 0; i < 500; i++ {
		k := fmt.Sprintf("s%05d", rng.IntN(100000))
		stable[k] = true
		all = append(all, k)
	}
	fill(t, s, "0", all...)
	volatile := map[string]bool{}
	for round := 0; round < 20; round++ {
		seen := map[string]int{}
		cursor := uint64(0)
		for {
			keys, next := page(t, s, "0", cursor, 1+rng.IntN(8), "")
			for _, k := range keys {
				seen[k]++
			}
			// Churn: add volatile keys around the whole key range and
			// delete some, including the resume position when it is
			// volatile.
			err := s.Update(func(tx *Tx) error {
				for i := 0; i < 5; i++ {
					k := fmt.Sprintf("s%05d~%d", rng.IntN(100000), rng.IntN(10))
					if rng.IntN(2) == 0 {
						k = "0" + k // sorts before every stable key
					}
					volatile[k] = true
					tx.Set("0", k, Value{Data: "x"})
				}
				for k := range volatile {
					if rng.IntN(3) == 0 {
						tx.Delete("0", k)
						delete(volatile, k)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		for k := range stable {
			if seen[k] != 1 {
				t.Fatalf("round %d: stable key %s returned %d times", round, k, seen[k])
			}
		}
	}
}
