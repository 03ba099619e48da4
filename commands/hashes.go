package commands

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"durastore/engine"
)

// Hash commands: https://redis.io/commands/?group=hash
// Flags, key positions and categories are Redis 7.0's COMMAND INFO.
var hashCommands = []*Command{
	{Name: "hset", Arity: -4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "2.0.0",
		Summary: "Set the string value of a hash field", Handler: cmdHSet},
	{Name: "hsetnx", Arity: 4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "2.0.0",
		Summary: "Set the value of a hash field, only if the field does not exist", Handler: cmdHSetNX},
	{Name: "hmset", Arity: -4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "2.0.0",
		Summary: "Set multiple hash fields to multiple values", Handler: cmdHSet},
	{Name: "hget", Arity: 3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "fast"}, Group: "hash", Since: "2.0.0",
		Summary: "Get the value of a hash field", Handler: cmdHGet},
	{Name: "hmget", Arity: -3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "fast"}, Group: "hash", Since: "2.0.0",
		Summary: "Get the values of all the given hash fields", Handler: cmdHMGet},
	{Name: "hgetall", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "slow"}, Group: "hash", Since: "2.0.0",
		Summary: "Get all the fields and values in a hash", Handler: cmdHGetAll},
	{Name: "hkeys", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "slow"}, Group: "hash", Since: "2.0.0",
		Summary: "Get all the fields in a hash", Handler: cmdHKeys},
	{Name: "hvals", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "slow"}, Group: "hash", Since: "2.0.0",
		Summary: "Get all the values in a hash", Handler: cmdHVals},
	{Name: "hdel", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "2.0.0",
		Summary: "Delete one or more hash fields", Handler: cmdHDel},
	{Name: "hexists", Arity: 3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "fast"}, Group: "hash", Since: "2.0.0",
		Summary: "Determine if a hash field exists", Handler: cmdHExists},
	{Name: "hlen", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "fast"}, Group: "hash", Since: "2.0.0",
		Summary: "Get the number of fields in a hash", Handler: cmdHLen},
	{Name: "hstrlen", Arity: 3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "fast"}, Group: "hash", Since: "3.2.0",
		Summary: "Get the length of the value of a hash field", Handler: cmdHStrlen},
	{Name: "hincrby", Arity: 4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "2.0.0",
		Summary: "Increment the integer value of a hash field by the given number", Handler: cmdHIncrBy},
	{Name: "hincrbyfloat", Arity: 4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "hash", "fast"}, Group: "hash", Since: "2.6.0",
		Summary: "Increment the float value of a hash field by the given amount", Handler: cmdHIncrByFloat},
	{Name: "hrandfield", Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "slow"}, Group: "hash", Since: "6.2.0",
		Summary: "Get one or multiple random fields from a hash", Handler: cmdHRandField},
	{Name: "hscan", Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "hash", "slow"}, Group: "hash", Since: "2.8.0",
		Summary: "Incrementally iterate hash fields and associated values", Handler: cmdHScan},
}

// Redis 7.0's default hash-max-listpack-entries and hash-max-listpack-value
// (CONFIG GET on redis-server 7.0 says 512 and 64): a hash stays a listpack
// (fields in insertion order) while it has at most this many fields and no
// field or value longer than this; past either it becomes a hashtable, for
// good.
const (
	hashMaxListpackEntries = 512
	hashMaxListpackValue   = 64
)

// The stored form of a hash (engine.Value.Data of a TypeHash value) is a
// header, uvarint(count<<1 | hashtable), then count pairs, each
// uvarint(len(field)) field uvarint(len(value)) value, in the order Redis's
// listpack keeps them: insertion order, updated and deleted in place. The
// hashtable bit records that Redis would have converted the hash to a
// hashtable (it never converts back), for OBJECT ENCODING; the order is
// kept the same either way. An empty hash is never stored.
//
// A hash is rewritten whole on each change, like a listpack is; reads walk
// the bytes without decoding them into a map.

// hashIter walks the pairs of a stored hash without copying them. A
// malformed stored form (only a damaged file makes one) ends the walk.
type hashIter struct {
	data string
	pos  int
	left int
	bad  bool // the walk stopped at a malformed pair
}

// hashHeader decodes a stored hash's header: its field count, whether it
// is a hashtable, and where its pairs start.
func hashHeader(data string) (n int, hashtable bool, start int) {
	h, w := uvarintString(data)
	if w <= 0 {
		return 0, false, len(data)
	}
	return int(h >> 1), h&1 != 0, w
}

func newHashIter(data string) hashIter {
	n, _, start := hashHeader(data)
	return hashIter{data: data, pos: start, left: n}
}

// next returns the next pair; ok is false at the end.
func (it *hashIter) next() (field, value string, ok bool) {
	if it.left <= 0 {
		return "", "", false
	}
	field, ok = it.str()
	if ok {
		value, ok = it.str()
	}
	if !ok {
		it.left, it.bad = 0, true
		return "", "", false
	}
	it.left--
	return field, value, true
}

func (it *hashIter) str() (string, bool) {
	l, w := uvarintString(it.data[it.pos:])
	if w <= 0 || l > uint64(len(it.data)-it.pos-w) {
		return "", false
	}
	s := it.data[it.pos+w : it.pos+w+int(l)]
	it.pos += w + int(l)
	return s, true
}

// uvarintString is binary.Uvarint on a string.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -1
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// hashLen is a stored hash's field count.
func hashLen(data string) int {
	n, _, _ := hashHeader(data)
	return n
}

// hashGet finds a field in a stored hash.
func hashGet(data, field string) (string, bool) {
	it := newHashIter(data)
	for {
		f, v, ok := it.next()
		if !ok {
			return "", false
		}
		if f == field {
			return v, true
		}
	}
}

// hashLoc is where a field is in a stored hash: its pair spans
// data[start:end]. When the field is missing, found is false and start and
// end are the end of the data. damaged says the stored form is malformed
// (only a damaged file makes one): hashPut and hashCut then rebuild the
// hash from its readable pairs rather than splice.
type hashLoc struct {
	start, end int
	value      string
	found      bool
	damaged    bool
}

// hashFind locates a field in a stored hash, for changing one field
// without decoding the others. It walks the whole hash, to know whether
// it is well formed.
func hashFind(data, field string) hashLoc {
	loc := hashLoc{start: len(data), end: len(data)}
	it := newHashIter(data)
	for {
		start := it.pos
		f, v, ok := it.next()
		if !ok {
			break
		}
		if !loc.found && f == field {
			loc = hashLoc{start: start, end: it.pos, value: v, found: true}
		}
	}
	loc.damaged = it.bad || it.pos != len(data)
	return loc
}

// hashPut returns data with field set to value at loc (from hashFind):
// replaced in place if it was found, appended otherwise. It is hashEdit.set
// for one field, copying the other pairs' bytes as they are.
func hashPut(data string, loc hashLoc, field, value string) string {
	if loc.damaged {
		e := editHash(data)
		e.set(field, value)
		return e.encode()
	}
	n, hashtable, start := hashHeader(data)
	if !loc.found {
		n++
	}
	hashtable = hashtable || n > hashMaxListpackEntries ||
		len(field) > hashMaxListpackValue || len(value) > hashMaxListpackValue
	pair := uvarintLen(uint64(len(field))) + len(field) + uvarintLen(uint64(len(value))) + len(value)
	h := hashHeaderWord(n, hashtable)
	buf := make([]byte, 0, uvarintLen(h)+len(data)-start-(loc.end-loc.start)+pair)
	buf = binary.AppendUvarint(buf, h)
	buf = append(buf, data[start:loc.start]...)
	buf = appendHashPair(buf, field, value)
	buf = append(buf, data[loc.end:]...)
	return bytesString(buf)
}

// hashCut returns data without field, found at loc.
func hashCut(data string, loc hashLoc, field string) string {
	if loc.damaged {
		e := editHash(data)
		e.del(field)
		return e.encode()
	}
	n, hashtable, start := hashHeader(data)
	h := hashHeaderWord(n-1, hashtable)
	buf := make([]byte, 0, uvarintLen(h)+len(data)-start-(loc.end-loc.start))
	buf = binary.AppendUvarint(buf, h)
	buf = append(buf, data[start:loc.start]...)
	buf = append(buf, data[loc.end:]...)
	return bytesString(buf)
}

func hashHeaderWord(n int, hashtable bool) uint64 {
	h := uint64(n) << 1
	if hashtable {
		h |= 1
	}
	return h
}

func appendHashPair(buf []byte, field, value string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(field)))
	buf = append(buf, field...)
	buf = binary.AppendUvarint(buf, uint64(len(value)))
	return append(buf, value...)
}

// HashEncoding is what OBJECT ENCODING reports for a stored hash:
// "listpack" while Redis 7.0 would keep it one, "hashtable" once it would
// have converted it.
func HashEncoding(data string) string {
	if _, hashtable, _ := hashHeader(data); hashtable {
		return "hashtable"
	}
	return "listpack"
}

// hashPair is one field of a hash being edited.
type hashPair struct {
	field, value string
	dead         bool // deleted; dropped when encoded
}

// hashEdit is a hash decoded for changing: its pairs in order, deleted
// ones marked, and an index by field built once the hash is big enough
// for a linear search to cost more than building it.
type hashEdit struct {
	pairs     []hashPair
	live      int
	hashtable bool
	index     map[string]int
	lookups   int
}

// editHash decodes a stored hash ("" for a new one).
func editHash(data string) *hashEdit {
	n, hashtable, _ := hashHeader(data)
	e := &hashEdit{pairs: make([]hashPair, 0, n), hashtable: hashtable}
	it := newHashIter(data)
	for {
		f, v, ok := it.next()
		if !ok {
			break
		}
		e.pairs = append(e.pairs, hashPair{field: f, value: v})
	}
	e.live = len(e.pairs)
	return e
}

// A hash being edited gets a map index once it has hashIndexMin pairs and
// more than hashIndexLookups fields have been looked up in it: a command
// that touches one field of a big hash scans it once rather than building
// a map.
const (
	hashIndexMin     = 16
	hashIndexLookups = 4
)

// find returns the index of a live field, or -1.
func (e *hashEdit) find(field string) int {
	e.lookups++
	if e.index == nil && len(e.pairs) >= hashIndexMin && e.lookups > hashIndexLookups {
		e.index = make(map[string]int, len(e.pairs))
		for i, p := range e.pairs {
			if !p.dead {
				e.index[p.field] = i
			}
		}
	}
	if e.index != nil {
		if i, ok := e.index[field]; ok {
			return i
		}
		return -1
	}
	for i, p := range e.pairs {
		if !p.dead && p.field == field {
			return i
		}
	}
	return -1
}

// set sets a field, in place if it exists, appended otherwise; it reports
// whether the field is new. As Redis's hashTypeSet, a field or value
// longer than hash-max-listpack-value, or more fields than
// hash-max-listpack-entries, make the hash a hashtable.
func (e *hashEdit) set(field, value string) bool {
	if len(field) > hashMaxListpackValue || len(value) > hashMaxListpackValue {
		e.hashtable = true
	}
	if i := e.find(field); i >= 0 {
		e.pairs[i].value = value
		return false
	}
	e.pairs = append(e.pairs, hashPair{field: field, value: value})
	if e.index != nil {
		e.index[field] = len(e.pairs) - 1
	}
	e.live++
	if e.live > hashMaxListpackEntries {
		e.hashtable = true
	}
	return true
}

// del deletes a field; it reports whether it existed.
func (e *hashEdit) del(field string) bool {
	i := e.find(field)
	if i < 0 {
		return false
	}
	e.pairs[i].dead = true
	if e.index != nil {
		delete(e.index, field)
	}
	e.live--
	return true
}

// encode returns the stored form of the hash.
func (e *hashEdit) encode() string {
	h := hashHeaderWord(e.live, e.hashtable)
	size := uvarintLen(h)
	for _, p := range e.pairs {
		if !p.dead {
			size += uvarintLen(uint64(len(p.field))) + len(p.field) + uvarintLen(uint64(len(p.value))) + len(p.value)
		}
	}
	buf := make([]byte, 0, size)
	buf = binary.AppendUvarint(buf, h)
	for _, p := range e.pairs {
		if !p.dead {
			buf = appendHashPair(buf, p.field, p.value)
		}
	}
	return bytesString(buf)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// readHash looks a hash up for reading as Redis's lookupKeyRead does: it
// counts a keyspace hit or miss, then replies WRONGTYPE and returns
// ok=false when the key holds another type.
func readHash(c *Ctx, key string) (v engine.Value, found, ok bool) {
	return lookupTyped(c, key, engine.TypeHash, true)
}

// writeHash looks a hash up for changing, as lookupKeyWrite (no hit or
// miss counted), replying WRONGTYPE when the key holds another type.
func writeHash(c *Ctx, key string) (v engine.Value, found, ok bool) {
	return lookupTyped(c, key, engine.TypeHash, false)
}

// storeHash writes a changed hash back, keeping the key's TTL, or deletes
// the key once the hash is empty. It replies with the engine's error and
// returns false if the write fails.
func storeHash(c *Ctx, key string, v engine.Value, data string) bool {
	if hashLen(data) == 0 {
		if _, err := c.Tx.Delete(c.S.DB, key); err != nil {
			c.Error(WriteErrorReply(err))
			return false
		}
		return true
	}
	v.Type, v.Data = engine.TypeHash, data
	return setValue(c, key, v)
}

// HSET key field value [field value ...]
// https://redis.io/commands/hset/
//
// HMSET key field value [field value ...]
// https://redis.io/commands/hmset/
//
// HMSET is HSET replying +OK instead of the number of new fields.
func cmdHSet(c *Ctx) {
	if len(c.Args)%2 == 1 {
		c.Error(ArityError(c.Cmd.Name))
		return
	}
	key := c.Str(1)
	v, _, ok := writeHash(c, key)
	if !ok {
		return
	}
	var data string
	created := 0
	if len(c.Args) == 4 {
		// One field: splice it in, leaving the other pairs' bytes be.
		loc := hashFind(v.Data, c.Str(2))
		data = hashPut(v.Data, loc, c.Str(2), c.Str(3))
		if !loc.found {
			created++
		}
	} else {
		e := editHash(v.Data)
		for i := 2; i < len(c.Args); i += 2 {
			if e.set(c.Str(i), c.Str(i+1)) {
				created++
			}
		}
		data = e.encode()
	}
	if !storeHash(c, key, v, data) {
		return
	}
	if c.Cmd.Name == "hmset" {
		c.W.OK()
		return
	}
	c.W.Int(int64(created))
}

// HSETNX key field value
// https://redis.io/commands/hsetnx/
func cmdHSetNX(c *Ctx) {
	key := c.Str(1)
	v, found, ok := writeHash(c, key)
	if !ok {
		return
	}
	loc := hashLoc{}
	if found {
		if loc = hashFind(v.Data, c.Str(2)); loc.found {
			c.W.Int(0)
			return
		}
	}
	if storeHash(c, key, v, hashPut(v.Data, loc, c.Str(2), c.Str(3))) {
		c.W.Int(1)
	}
}

// HGET key field
// https://redis.io/commands/hget/
func cmdHGet(c *Ctx) {
	v, found, ok := readHash(c, c.Str(1))
	if !ok {
		return
	}
	val, exists := "", false
	if found {
		val, exists = hashGet(v.Data, c.Str(2))
	}
	if !exists {
		c.W.Null()
		return
	}
	c.W.BulkString(val)
}

// HMGET key field [field ...]
// https://redis.io/commands/hmget/
func cmdHMGet(c *Ctx) {
	v, found, ok := readHash(c, c.Str(1))
	if !ok {
		return
	}
	fields := c.Args[2:]
	c.W.Array(len(fields))
	if !found {
		for range fields {
			c.W.Null()
		}
		return
	}
	// Many fields of a big hash: one pass to index it beats a scan each.
	var index map[string]string
	if len(fields) > 4 && hashLen(v.Data) >= hashIndexMin {
		index = make(map[string]string, hashLen(v.Data))
		it := newHashIter(v.Data)
		for {
			f, val, ok := it.next()
			if !ok {
				break
			}
			index[f] = val
		}
	}
	for i := range fields {
		var val string
		var exists bool
		if index != nil {
			val, exists = index[c.Str(2+i)]
		} else {
			val, exists = hashGet(v.Data, c.Str(2+i))
		}
		if exists {
			c.W.BulkString(val)
		} else {
			c.W.Null()
		}
	}
}

// Which parts of each pair HGETALL, HKEYS and HVALS reply with.
const (
	hashFields = 1 << iota
	hashValues
)

// HGETALL key
// https://redis.io/commands/hgetall/
func cmdHGetAll(c *Ctx) { hgetallGeneric(c, hashFields|hashValues) }

// HKEYS key
// https://redis.io/commands/hkeys/
func cmdHKeys(c *Ctx) { hgetallGeneric(c, hashFields) }

// HVALS key
// https://redis.io/commands/hvals/
func cmdHVals(c *Ctx) { hgetallGeneric(c, hashValues) }

// hgetallGeneric is Redis's genericHgetallCommand: HGETALL replies with a
// map (a flat array in RESP2), HKEYS and HVALS with an array.
func hgetallGeneric(c *Ctx, what int) {
	v, found, ok := readHash(c, c.Str(1))
	if !ok {
		return
	}
	n := 0
	if found {
		n = hashLen(v.Data)
	}
	if what == hashFields|hashValues {
		c.W.Map(n)
	} else {
		c.W.Array(n)
	}
	it := newHashIter(v.Data)
	for i := 0; i < n; i++ {
		f, val, _ := it.next()
		if what&hashFields != 0 {
			c.W.BulkString(f)
		}
		if what&hashValues != 0 {
			c.W.BulkString(val)
		}
	}
}

// HDEL key field [field ...]
// https://redis.io/commands/hdel/
func cmdHDel(c *Ctx) {
	key := c.Str(1)
	v, found, ok := writeHash(c, key)
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	deleted := 0
	data := v.Data
	if len(c.Args) == 3 {
		if loc := hashFind(data, c.Str(2)); loc.found {
			data = hashCut(data, loc, c.Str(2))
			deleted++
		}
	} else {
		e := editHash(data)
		for i := 2; i < len(c.Args) && e.live > 0; i++ {
			if e.del(c.Str(i)) {
				deleted++
			}
		}
		data = e.encode()
	}
	if deleted > 0 && !storeHash(c, key, v, data) {
		return
	}
	c.W.Int(int64(deleted))
}

// HEXISTS key field
// https://redis.io/commands/hexists/
func cmdHExists(c *Ctx) {
	v, found, ok := readHash(c, c.Str(1))
	if !ok {
		return
	}
	exists := false
	if found {
		_, exists = hashGet(v.Data, c.Str(2))
	}
	if exists {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

// HLEN key
// https://redis.io/commands/hlen/
func cmdHLen(c *Ctx) {
	v, found, ok := readHash(c, c.Str(1))
	if !ok {
		return
	}
	n := 0
	if found {
		n = hashLen(v.Data)
	}
	c.W.Int(int64(n))
}

// HSTRLEN key field
// https://redis.io/commands/hstrlen/
func cmdHStrlen(c *Ctx) {
	v, found, ok := readHash(c, c.Str(1))
	if !ok {
		return
	}
	val := ""
	if found {
		val, _ = hashGet(v.Data, c.Str(2))
	}
	c.W.Int(int64(len(val)))
}

// HINCRBY key field increment
// https://redis.io/commands/hincrby/
func cmdHIncrBy(c *Ctx) {
	incr, ok := c.Int(3)
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	key, field := c.Str(1), c.Str(2)
	v, _, ok := writeHash(c, key)
	if !ok {
		return
	}
	loc := hashFind(v.Data, field)
	var value int64
	if loc.found {
		if value, ok = ParseInt(stringBytes(loc.value)); !ok {
			c.Error("ERR hash value is not an integer")
			return
		}
	}
	if (incr < 0 && value < 0 && incr < math.MinInt64-value) ||
		(incr > 0 && value > 0 && incr > math.MaxInt64-value) {
		c.Error(ErrOverflow)
		return
	}
	value += incr
	if storeHash(c, key, v, hashPut(v.Data, loc, field, itoa(value))) {
		c.W.Int(value)
	}
}

// HINCRBYFLOAT key field increment
// https://redis.io/commands/hincrbyfloat/
func cmdHIncrByFloat(c *Ctx) {
	// The increment is checked before the key is looked up, as Redis
	// does: a bad one is "not a valid float" whatever the key holds.
	if _, errMsg := IncrByFloat(nil, false, c.Args[3]); errMsg != "" {
		if errMsg != ErrNotFloat {
			errMsg = "ERR value is NaN or Infinity"
		}
		c.Error(errMsg)
		return
	}
	key, field := c.Str(1), c.Str(2)
	v, _, ok := writeHash(c, key)
	if !ok {
		return
	}
	loc := hashFind(v.Data, field)
	sum, errMsg := IncrByFloat(stringBytes(loc.value), loc.found, c.Args[3])
	if errMsg != "" {
		if errMsg == ErrNotFloat { // the increment is known good
			errMsg = "ERR hash value is not a float"
		}
		c.Error(errMsg)
		return
	}
	if storeHash(c, key, v, hashPut(v.Data, loc, field, sum)) {
		c.W.BulkString(sum)
	}
}

// hrandMaxReply bounds the reply of HRANDFIELD with a negative count,
// which repeats fields as often as asked: Redis builds any size and can
// exhaust its memory; we refuse a reply past this many bytes.
const hrandMaxReply = 512 << 20

// HRANDFIELD key [count [WITHVALUES]]
// https://redis.io/commands/hrandfield/
//
// As Redis's hrandfieldCommand: a count at least the hash's size returns
// the whole hash in its order; a smaller positive count returns that many
// distinct fields, in hash order, as Redis does for a listpack; a negative
// count returns that many fields picked independently, in random order.
func cmdHRandField(c *Ctx) {
	if len(c.Args) == 2 {
		v, found, ok := readHash(c, c.Str(1))
		if !ok {
			return
		}
		n := hashLen(v.Data)
		if !found || n == 0 {
			c.W.Null()
			return
		}
		pick := rand.IntN(n)
		it := newHashIter(v.Data)
		for i := 0; ; i++ {
			f, _, ok := it.next()
			if !ok || i == pick {
				c.W.BulkString(f)
				return
			}
		}
	}
	l, ok := c.Int(2)
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if l < -math.MaxInt64 {
		c.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withValues := false
	if len(c.Args) > 4 || (len(c.Args) == 4 && !c.Is(3, "withvalues")) {
		c.Error(ErrSyntax)
		return
	} else if len(c.Args) == 4 {
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.Error("ERR value is out of range")
			return
		}
	}
	v, found, ok := readHash(c, c.Str(1))
	if !ok {
		return
	}
	if !found || l == 0 {
		c.W.Array(0)
		return
	}
	e := editHash(v.Data)
	pairs := e.pairs
	size := int64(len(pairs))
	if size == 0 { // only a damaged stored form has no pairs
		c.W.Array(0)
		return
	}
	resp3Pairs := withValues && c.W.RESP == 3
	header := func(n int64) {
		if withValues && !resp3Pairs {
			c.W.Array(int(2 * n))
		} else {
			c.W.Array(int(n))
		}
	}
	emit := func(p hashPair) {
		if resp3Pairs {
			c.W.Array(2)
		}
		c.W.BulkString(p.field)
		if withValues {
			c.W.BulkString(p.value)
		}
	}
	if l < 0 || l == 1 {
		count := l
		if l < 0 {
			count = -l
		}
		// Bound the reply by its size, estimated from the hash's mean
		// pair.
		per := int64(len(v.Data))/size + 16
		if count > hrandMaxReply/per {
			c.Error("ERR value is out of range")
			return
		}
		header(count)
		for i := int64(0); i < count; i++ {
			emit(pairs[rand.IntN(len(pairs))])
		}
		return
	}
	if l >= size {
		header(size)
		for _, p := range pairs {
			emit(p)
		}
		return
	}
	// l distinct fields, kept in hash order: choose which to drop when
	// that is fewer, else which to keep.
	chosen := make([]bool, size)
	keep, mark := l, true
	if l > size/2 {
		keep, mark = size-l, false
		for i := range chosen {
			chosen[i] = true
		}
	}
	for picked := int64(0); picked < keep; {
		i := rand.IntN(int(size))
		if chosen[i] != mark {
			chosen[i] = mark
			picked++
		}
	}
	header(l)
	for i, p := range pairs {
		if chosen[i] {
			emit(p)
		}
	}
}

// HSCAN key cursor [MATCH pattern] [COUNT count]
// https://redis.io/commands/hscan/
//
// Redis returns a listpack-encoded hash whole, with cursor 0, whatever
// the cursor and COUNT; we do so for every hash, which keeps SCAN's
// guarantees (every field present throughout is returned) trivially.
// The options are parsed after the key is found, as Redis does.
func cmdHScan(c *Ctx) {
	if _, ok := parseScanCursor(c.Args[2]); !ok {
		c.Error("ERR invalid cursor")
		return
	}
	v, found, ok := readHash(c, c.Str(1))
	if !ok {
		return
	}
	if !found {
		c.W.Array(2)
		c.W.BulkString("0")
		c.W.Array(0)
		return
	}
	pattern, usePattern := "", false
	for i := 3; i < len(c.Args); i += 2 {
		more := len(c.Args) - i
		switch {
		case c.Is(i, "count") && more >= 2:
			n, ok := c.Int(i + 1)
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return
			}
		case c.Is(i, "match") && more >= 2:
			pattern = c.Str(i + 1)
			usePattern = pattern != "*"
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	n := hashLen(v.Data)
	if usePattern {
		n = 0
		it := newHashIter(v.Data)
		for {
			f, _, ok := it.next()
			if !ok {
				break
			}
			if engine.GlobMatch(pattern, f, false) {
				n++
			}
		}
	}
	c.W.Array(2)
	c.W.BulkString("0")
	c.W.Array(2 * n)
	it := newHashIter(v.Data)
	for {
		f, val, ok := it.next()
		if !ok {
			break
		}
		if usePattern && !engine.GlobMatch(pattern, f, false) {
			continue
		}
		c.W.BulkString(f)
		c.W.BulkString(val)
	}
}
