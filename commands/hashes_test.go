package commands

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// pairsOf walks a stored hash into "field=value" strings.
func pairsOf(data string) []string {
	var out []string
	it := newHashIter(data)
	for {
		f, v, ok := it.next()
		if !ok {
			return out
		}
		out = append(out, f+"="+v)
	}
}

func TestHashEditOrder(t *testing.T) {
	e := editHash("")
	for _, kv := range [][2]string{{"z", "1"}, {"a", "2"}, {"m", "3"}} {
		if !e.set(kv[0], kv[1]) {
			t.Fatalf("set %s: not new", kv[0])
		}
	}
	if e.set("a", "20") {
		t.Error("updating a reported a new field")
	}
	data := e.encode()
	if got := strings.Join(pairsOf(data), " "); got != "z=1 a=20 m=3" {
		t.Errorf("pairs %q, want updates in place", got)
	}
	e = editHash(data)
	if !e.del("a") || e.del("a") || e.del("nosuch") {
		t.Error("del reports wrong")
	}
	e.set("a", "x")
	data = e.encode()
	if got := strings.Join(pairsOf(data), " "); got != "z=1 m=3 a=x" {
		t.Errorf("pairs %q, want a re-added field last", got)
	}
	if hashLen(data) != 3 || HashEncoding(data) != "listpack" {
		t.Errorf("len %d encoding %s", hashLen(data), HashEncoding(data))
	}
	if v, ok := hashGet(data, "m"); !ok || v != "3" {
		t.Errorf("hashGet m = %q %v", v, ok)
	}
	if _, ok := hashGet(data, "q"); ok {
		t.Error("hashGet found a missing field")
	}
	// Emptied: nothing live, which storeHash turns into a delete.
	e = editHash(data)
	e.del("z")
	e.del("m")
	e.del("a")
	if e.live != 0 || hashLen(e.encode()) != 0 {
		t.Errorf("live %d after deleting all", e.live)
	}
}

// The index a big hash gets must agree with the linear search, across
// deletes and re-adds.
func TestHashEditIndex(t *testing.T) {
	e := editHash("")
	for i := 0; i < 100; i++ {
		e.set("f"+strconv.Itoa(i), strconv.Itoa(i))
	}
	for i := 0; i < 100; i += 2 {
		if !e.del("f" + strconv.Itoa(i)) {
			t.Fatalf("del f%d", i)
		}
	}
	if e.index == nil {
		t.Fatal("no index on a 100-field hash")
	}
	if !e.set("f0", "again") || e.set("f1", "one") {
		t.Error("set after deletes reports wrong")
	}
	data := e.encode()
	if hashLen(data) != 51 {
		t.Fatalf("len %d, want 51", hashLen(data))
	}
	p := pairsOf(data)
	if p[0] != "f1=one" || p[1] != "f3=3" || p[50] != "f0=again" {
		t.Errorf("order: first %q %q, last %q", p[0], p[1], p[50])
	}
}

// Redis's listpack limits: more than 512 fields, or a field or value
// longer than 64 bytes, make a hashtable, and it stays one.
func TestHashEncodingThresholds(t *testing.T) {
	e := editHash("")
	for i := 0; i < hashMaxListpackEntries; i++ {
		e.set(strconv.Itoa(i), "v")
	}
	data := e.encode()
	if HashEncoding(data) != "listpack" {
		t.Fatalf("%d fields: %s", hashMaxListpackEntries, HashEncoding(data))
	}
	e = editHash(data)
	e.set("one-more", "v")
	data = e.encode()
	if HashEncoding(data) != "hashtable" {
		t.Fatalf("%d fields: %s", hashMaxListpackEntries+1, HashEncoding(data))
	}
	e = editHash(data)
	for i := 0; i < 100; i++ {
		e.del(strconv.Itoa(i))
	}
	if data = e.encode(); HashEncoding(data) != "hashtable" || hashLen(data) != hashMaxListpackEntries-99 {
		t.Errorf("shrunk: %s, %d fields", HashEncoding(data), hashLen(data))
	}

	for _, kv := range [][2]string{{strings.Repeat("f", 65), "v"}, {"f", strings.Repeat("v", 65)}} {
		e := editHash("")
		e.set("a", strings.Repeat("v", 64))
		if HashEncoding(e.encode()) != "listpack" {
			t.Errorf("64-byte value: %s", HashEncoding(e.encode()))
		}
		e.set(kv[0], kv[1])
		e.del(kv[0])
		if HashEncoding(e.encode()) != "hashtable" {
			t.Errorf("after a %d/%d-byte pair: %s", len(kv[0]), len(kv[1]), HashEncoding(e.encode()))
		}
	}
}

// A damaged stored form must never panic nor loop: the walk just stops.
func TestHashIterMalformed(t *testing.T) {
	good := func() string {
		e := editHash("")
		e.set("field", "value")
		e.set("f2", strings.Repeat("x", 300))
		return e.encode()
	}()
	cases := []string{
		"",
		"\x80", // truncated varint header
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", // varint overflow
		"\x04",          // two fields announced, none there
		"\x02\x05ab",    // field longer than the data
		"\x02\x01a\x7f", // value longer than the data
		"\x02\x01a\x80", // value length truncated
		good[:len(good)-1],
		good[:3],
	}
	for _, data := range cases {
		pairs := pairsOf(data)
		if len(pairs) > hashLen(data) {
			t.Errorf("%q: %d pairs, header says %d", data, len(pairs), hashLen(data))
		}
		hashGet(data, "field")
		if loc := hashFind(data, "field"); loc.found {
			if got := pairsOf(hashCut(data, loc, "field")); len(got) != len(pairsOf(data))-1 {
				t.Errorf("%q: cutting from a damaged hash gave %q", data, got)
			}
		}
		e := editHash(data)
		e.set("n", "v")
		edited := e.encode()
		if got := pairsOf(edited); len(got) == 0 || got[len(got)-1] != "n=v" || len(got) != hashLen(edited) {
			t.Errorf("%q: editing a damaged hash gave %q", data, got)
		}
		if spliced := hashPut(data, hashFind(data, "n"), "n", "v"); spliced != edited {
			t.Errorf("%q: splicing into a damaged hash gave %q, editing %q", data, spliced, edited)
		}
	}
	if got := strings.Join(pairsOf(good), " "); got != "field=value f2="+strings.Repeat("x", 300) {
		t.Errorf("good hash walks as %q", got)
	}
}

func TestUvarintString(t *testing.T) {
	for _, x := range []uint64{0, 1, 127, 128, 300, 1 << 32, math.MaxUint64} {
		b := binary.AppendUvarint(nil, x)
		got, n := uvarintString(string(b) + "tail")
		if got != x || n != len(b) || uvarintLen(x) != len(b) {
			t.Errorf("uvarint %d: got %d, %d bytes of %d, uvarintLen %d", x, got, n, len(b), uvarintLen(x))
		}
	}
}

// The one-field splices (hashPut, hashCut) give the same bytes as the
// general editor, over random sets and deletes that cross both listpack
// limits.
func TestHashSpliceMatchesEdit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := ""
	for step := 0; step < 5000; step++ {
		field := "f" + strconv.Itoa(rng.IntN(200))
		if rng.IntN(50) == 0 {
			field = strings.Repeat("F", 60+rng.IntN(10))
		}
		e := editHash(data)
		loc := hashFind(data, field)
		if v, ok := hashGet(data, field); ok != loc.found || v != loc.value {
			t.Fatalf("step %d: hashFind %+v, hashGet %q %v", step, loc, v, ok)
		}
		var spliced string
		if rng.IntN(3) == 0 {
			if !loc.found {
				continue
			}
			e.del(field)
			spliced = hashCut(data, loc, field)
		} else {
			value := strings.Repeat("v", rng.IntN(70))
			if e.set(field, value) == loc.found {
				t.Fatalf("step %d: set and find disagree on %q", step, field)
			}
			spliced = hashPut(data, loc, field, value)
		}
		if edited := e.encode(); spliced != edited {
			t.Fatalf("step %d on %q: splice %q\nedit %q", step, field, spliced, edited)
		}
		data = spliced
	}
	if HashEncoding(data) != "hashtable" {
		t.Errorf("5000 random steps never made a hashtable")
	}
}
