package engine

import (
	"math"
	"slices"
	"strings"
)

// ScanCursor is one step of a cursor iteration over namespace ns, as SCAN
// does it. The cursor is Redis's: a position in the namespace's hash table
// walked in reverse-bit order (dict.scan), so a key present for the whole
// iteration is returned at least once even while the table grows or
// shrinks, a key may be returned more than once, and 0 starts the walk
// and, returned, ends it. Any cursor is accepted, as Redis accepts any.
//
// As Redis's scanGenericCommand, one call walks buckets until it has
// collected count keys (count < 1 counts as 1), the walk ends, or it has
// walked ten times count buckets; the keys collected are then filtered:
// fn is called for those that are live and start with prefix.
//
// fn must not write, and may keep key only for the transaction's life.
func (tx *Tx) ScanCursor(ns string, cursor uint64, count int, prefix string, fn func(key string, v Value)) (uint64, error) {
	if count < 1 {
		count = 1
	}
	p, err := tx.part(ns, false)
	if p == nil {
		return 0, err
	}
	d := p.ns.db.d
	n := 0
	visit := func(s dslot) {
		n++
		key := s.key()
		if !strings.HasPrefix(key, prefix) {
			return
		}
		if v := decode(s.val()); tx.alive(v) {
			fn(key, v)
		}
	}
	maxIter := count * 10
	if count > math.MaxInt/10 {
		maxIter = math.MaxInt
	}
	for iter := maxIter; ; iter-- {
		cursor = d.scan(cursor, visit)
		if cursor == 0 || iter <= 1 || n >= count {
			return cursor, nil
		}
	}
}

// Page returns, in key order, up to limit live keys of namespace ns that
// start with prefix and are >= from, and the key the next page starts at
// ("" when there is none). The keys are copies. The hash table has no
// order, so a page costs one pass over the namespace: the smallest limit+1
// keys are kept in a buffer of twice that size, sorted and cut whenever it
// fills.
func (tx *Tx) Page(ns, prefix, from string, limit int) ([]string, string, error) {
	if limit < 1 {
		limit = 1
	}
	var buf []string
	bound, cut := "", false // after a cut, keys above bound cannot make it
	err := tx.Scan(ns, func(key string, _ Value) bool {
		if key < from || !strings.HasPrefix(key, prefix) || (cut && key > bound) {
			return true
		}
		buf = append(buf, key)
		if len(buf) >= 2*(limit+1) {
			slices.Sort(buf)
			buf = buf[:limit+1]
			bound, cut = buf[limit], true
		}
		return true
	})
	if err != nil {
		return nil, "", err
	}
	slices.Sort(buf)
	next := ""
	if len(buf) > limit {
		next = strings.Clone(buf[limit])
		buf = buf[:limit]
	}
	out := make([]string, len(buf))
	for i, k := range buf {
		out[i] = strings.Clone(k)
	}
	return out, next, nil
}
