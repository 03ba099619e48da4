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

// walk runs a whole SCAN iteration and counts how often each key came.
func walk(t *testing.T, s *Store, ns string, count int, prefix string, between func()) map[string]int {
	t.Helper()
	seen := map[string]int{}
	cursor := uint64(0)
	for calls := 0; ; calls++ {
		keys, next := page(t, s, ns, cursor, count, prefix)
		for _, k := range keys {
			seen[k]++
		}
		if next == 0 {
			return seen
		}
		if calls > 1_000_000 {
			t.Fatal("iteration does not end")
		}
		cursor = next
		if between != nil {
			between()
		}
	}
}

func TestScanCursorFullIteration(t *testing.T) {
	s := openMemStore(t)
	var keys []string
	for i := 0; i < 1000; i++ {
		keys = append(keys, fmt.Sprintf("k:%d", i))
	}
	fill(t, s, "0", keys...)
	for _, count := range []int{1, 7, 10, 100, 5000} {
		seen := walk(t, s, "0", count, "", nil)
		if len(seen) != len(keys) {
			t.Fatalf("count %d: %d keys returned, want %d", count, len(seen), len(keys))
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("count %d: %s returned %d times without any write", count, k, n)
			}
		}
	}
	// A large COUNT returns everything in one call.
	if keys, next := page(t, s, "0", 0, 5000, ""); next != 0 || len(keys) != 1000 {
		t.Errorf("COUNT 5000: %d keys, next %d", len(keys), next)
	}
}

func TestScanCursorEmptyAndMissingNamespace(t *testing.T) {
	s := openMemStore(t)
	for _, ns := range []string{"0", "nosuch"} {
		if keys, next := page(t, s, ns, 0, 10, ""); len(keys) != 0 || next != 0 {
			t.Errorf("%s: keys %v next %d", ns, keys, next)
		}
	}
}

func TestScanCursorAnyCursor(t *testing.T) {
	s := openMemStore(t)
	fill(t, s, "0", "a", "b", "c")
	// A made-up cursor is a position like any other: no error, and the
	// walk from it ends.
	seen := map[string]bool{}
	cursor := uint64(0xdeadbeef12345)
	for i := 0; i < 100; i++ {
		keys, next := page(t, s, "0", cursor, 1, "")
		for _, k := range keys {
			seen[k] = true
		}
		if next == 0 {
			return
		}
		cursor = next
	}
	t.Fatal("walk from an arbitrary cursor does not end")
}

func TestScanCursorPrefix(t *testing.T) {
	s := openMemStore(t)
	var want []string
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("user:%d", i)
		want = append(want, k)
		fill(t, s, "0", k, fmt.Sprintf("session:%d", i))
	}
	seen := walk(t, s, "0", 10, "user:", nil)
	if len(seen) != len(want) {
		t.Fatalf("%d keys with the prefix, want %d", len(seen), len(want))
	}
	for _, k := range want {
		if seen[k] != 1 {
			t.Errorf("%s returned %d times", k, seen[k])
		}
	}
}

func TestScanCursorSkipsExpired(t *testing.T) {
	s := openMemStore(t)
	err := s.Update(func(tx *Tx) error {
		if err := tx.Set("0", "live", Value{Data: "v"}); err != nil {
			return err
		}
		return tx.Set("0", "dead", Value{Data: "v", ExpireAt: tx.Now() - 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := walk(t, s, "0", 10, "", nil)
	if len(seen) != 1 || seen["live"] != 1 {
		t.Errorf("got %v, want only live", seen)
	}
}

// TestScanCursorGuarantee interleaves an iteration with writes that make
// the table grow several times and then shrink: every key present for the
// whole iteration must still be returned.
func TestScanCursorGuarantee(t *testing.T) {
	for _, mode := range []string{"grow", "shrink", "churn"} {
		t.Run(mode, func(t *testing.T) {
			s := openMemStore(t)
			var stay []string
			for i := 0; i < 500; i++ {
				stay = append(stay, fmt.Sprintf("stay:%d", i))
			}
			fill(t, s, "0", stay...)
			var extra []string
			if mode == "shrink" {
				for i := 0; i < 20000; i++ {
					extra = append(extra, fmt.Sprintf("tmp:%d", i))
				}
				fill(t, s, "0", extra...)
			}
			n := 0
			rng := rand.New(rand.NewPCG(1, 2))
			between := func() {
				err := s.Update(func(tx *Tx) error {
					for j := 0; j < 200; j++ {
						switch mode {
						case "grow":
							if n == 20000 {
								return nil
							}
							n++
							if err := tx.Set("0", fmt.Sprintf("new:%d", n), Value{Data: "v"}); err != nil {
								return err
							}
						case "shrink":
							if len(extra) == 0 {
								return nil
							}
							k := extra[len(extra)-1]
							extra = extra[:len(extra)-1]
							if _, err := tx.Delete("0", k); err != nil {
								return err
							}
						default:
							k := fmt.Sprintf("churn:%d", rng.IntN(3000))
							if rng.IntN(2) == 0 {
								if err := tx.Set("0", k, Value{Data: "v"}); err != nil {
									return err
								}
							} else if _, err := tx.Delete("0", k); err != nil {
								return err
							}
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			seen := walk(t, s, "0", 10, "stay:", between)
			for _, k := range stay {
				if seen[k] == 0 {
					t.Errorf("%s, present throughout, never returned", k)
				}
			}
		})
	}
}

// TestPage: pages come in key order, each key of the prefix once, even
// with keys added and removed between pages.
func TestPage(t *testing.T) {
	s := openMemStore(t)
	var want []string
	for i := 0; i < 1000; i++ {
		k := fmt.Sprintf("p:%04d", i)
		want = append(want, k)
		fill(t, s, "0", k, fmt.Sprintf("q:%04d", i))
	}
	var got []string
	from := "p:"
	for pages := 0; ; pages++ {
		var keys []string
		var next string
		err := s.View(func(tx *Tx) error {
			var err error
			keys, next, err = tx.Page("0", "p:", from, 37)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) > 37 {
			t.Fatalf("page of %d keys", len(keys))
		}
		got = append(got, keys...)
		if next == "" {
			break
		}
		if next <= keys[len(keys)-1] {
			t.Fatalf("next %q not after the page's last key %q", next, keys[len(keys)-1])
		}
		from = next
		// Churn outside the prefix and inside the part already listed.
		fill(t, s, "0", fmt.Sprintf("q:new%d", pages), fmt.Sprintf("p:%04d", pages))
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d keys, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("key %d is %q, want %q", i, got[i], want[i])
		}
	}
	// An empty namespace and a missing one give an empty page.
	err := s.View(func(tx *Tx) error {
		for _, ns := range []string{"1", "nosuch"} {
			keys, next, err := tx.Page(ns, "", "", 10)
			if err != nil || len(keys) != 0 || next != "" {
				t.Errorf("%s: %v %q %v", ns, keys, next, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
