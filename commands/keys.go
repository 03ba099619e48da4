package commands

import (
	"math"
	"strconv"
	"strings"

	"durastore/engine"
)

// Generic key commands: https://redis.io/commands/?group=generic
//
// MOVE, COPY and SWAPDB may touch a second namespace, so they run
// Exclusive (a multi-namespace transaction with other clients held off).
// Where Redis takes a database index they also take a namespace name.
var keyCommands = []*Command{
	{Name: "del", Arity: -2, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"keyspace", "write", "slow"}, Group: "generic", Since: "1.0.0",
		Summary: "Delete a key", Handler: cmdDel},
	{Name: "unlink", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"keyspace", "write", "fast"}, Group: "generic", Since: "4.0.0",
		Summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", Handler: cmdDel},
	{Name: "exists", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"keyspace", "read", "fast"}, Group: "generic", Since: "1.0.0",
		Summary: "Determine if a key exists", Handler: cmdExists},
	{Name: "touch", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"keyspace", "read", "fast"}, Group: "generic", Since: "3.2.1",
		Summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.", Handler: cmdTouch},
	{Name: "type", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "read", "fast"}, Group: "generic", Since: "1.0.0",
		Summary: "Determine the type stored at key", Handler: cmdType},
	{Name: "rename", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1,
		Categories: []string{"keyspace", "write", "slow"}, Group: "generic", Since: "1.0.0",
		Summary: "Rename a key", Handler: cmdRename},
	{Name: "renamenx", Arity: 3, Flags: Write | Fast, FirstKey: 1, LastKey: 2, Step: 1,
		Categories: []string{"keyspace", "write", "fast"}, Group: "generic", Since: "1.0.0",
		Summary: "Rename a key, only if the new key does not exist", Handler: cmdRename},
	{Name: "copy", Arity: -3, Flags: Write | DenyOOM | Exclusive, FirstKey: 1, LastKey: 2, Step: 1,
		Categories: []string{"keyspace", "write", "slow"}, Group: "generic", Since: "6.2.0",
		Summary: "Copy a key", Handler: cmdCopy},
	{Name: "move", Arity: 3, Flags: Write | Fast | Exclusive, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "write", "fast"}, Group: "generic", Since: "1.0.0",
		Summary: "Move a key to another database", Handler: cmdMove},
	{Name: "keys", Arity: 2, Flags: ReadOnly,
		Categories: []string{"keyspace", "read", "slow", "dangerous"}, Group: "generic", Since: "1.0.0",
		Summary: "Find all keys matching the given pattern", Handler: cmdKeys},
	{Name: "scan", Arity: -2, Flags: ReadOnly,
		Categories: []string{"keyspace", "read", "slow"}, Group: "generic", Since: "2.8.0",
		Summary: "Incrementally iterate the keys space", Handler: cmdScan},
	{Name: "randomkey", Arity: 1, Flags: ReadOnly,
		Categories: []string{"keyspace", "read", "slow"}, Group: "generic", Since: "1.0.0",
		Summary: "Return a random key from the keyspace", Handler: cmdRandomKey},
	{Name: "expire", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "write", "fast"}, Group: "generic", Since: "1.0.0",
		Summary: "Set a key's time to live in seconds", Handler: cmdExpire},
	{Name: "pexpire", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "write", "fast"}, Group: "generic", Since: "2.6.0",
		Summary: "Set a key's time to live in milliseconds", Handler: cmdExpire},
	{Name: "expireat", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "write", "fast"}, Group: "generic", Since: "1.2.0",
		Summary: "Set the expiration for a key as a UNIX timestamp", Handler: cmdExpire},
	{Name: "pexpireat", Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "write", "fast"}, Group: "generic", Since: "2.6.0",
		Summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", Handler: cmdExpire},
	{Name: "ttl", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "read", "fast"}, Group: "generic", Since: "1.0.0",
		Summary: "Get the time to live for a key in seconds", Handler: cmdTTL},
	{Name: "pttl", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "read", "fast"}, Group: "generic", Since: "2.6.0",
		Summary: "Get the time to live for a key in milliseconds", Handler: cmdTTL},
	{Name: "expiretime", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "read", "fast"}, Group: "generic", Since: "7.0.0",
		Summary: "Get the expiration Unix timestamp for a key", Handler: cmdTTL},
	{Name: "pexpiretime", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "read", "fast"}, Group: "generic", Since: "7.0.0",
		Summary: "Get the expiration Unix timestamp for a key in milliseconds", Handler: cmdTTL},
	{Name: "persist", Arity: 2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"keyspace", "write", "fast"}, Group: "generic", Since: "2.2.0",
		Summary: "Remove the expiration from a key", Handler: cmdPersist},
	{Name: "swapdb", Arity: 3, Flags: Write | Fast | Exclusive,
		Categories: []string{"keyspace", "write", "fast", "dangerous"}, Group: "server", Since: "4.0.0",
		Summary: "Swaps two Redis databases", Handler: cmdSwapDB},
}

// Error replies of this family, to the byte.
const (
	errSameObject = "ERR source and destination objects are the same"
	errInt32Range = "ERR value is out of range, value must between -2147483648 and 2147483647"
)

// lookupValue reads a key of namespace ns; ok is false, after an error
// reply, if the engine fails.
func lookupValue(c *Ctx, ns, key string) (v engine.Value, found, ok bool) {
	v, found, err := c.Tx.Get(ns, key)
	if err != nil {
		c.Error("ERR " + err.Error())
		return v, false, false
	}
	return v, found, true
}

// DEL key [key ...]
// https://redis.io/commands/del/
//
// UNLINK key [key ...]
// https://redis.io/commands/unlink/
//
// UNLINK is DEL: freeing a value never blocks other clients here, since
// the engine drops it from its table and the collector reclaims it.
func cmdDel(c *Ctx) {
	var n int64
	for i := 1; i < len(c.Args); i++ {
		ok, err := c.Tx.Delete(c.S.DB, c.Str(i))
		if err != nil {
			c.Error(WriteErrorReply(err))
			return
		}
		if ok {
			n++
		}
	}
	c.W.Int(n)
}

// EXISTS key [key ...]
// https://redis.io/commands/exists/
//
// TOUCH key [key ...]
// https://redis.io/commands/touch/
//
// Both count the named keys that exist, a key named twice counting twice.
// TOUCH records an access to each (cmdTouch, memory.go); EXISTS leaves
// access times alone, as Redis's LOOKUP_NOTOUCH.
func cmdExists(c *Ctx) {
	get := c.Tx.Peek
	if c.Cmd.Name == "touch" {
		get = c.Tx.Get
	}
	var n int64
	for i := 1; i < len(c.Args); i++ {
		_, found, err := get(c.S.DB, c.Str(i))
		if err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		countHit(c, found)
		if found {
			n++
		}
	}
	c.W.Int(n)
}

// TYPE key
// https://redis.io/commands/type/
func cmdType(c *Ctx) {
	v, found, ok := lookupValue(c, c.S.DB, c.Str(1))
	if !ok {
		return
	}
	countHit(c, found)
	if !found {
		c.W.Simple("none")
		return
	}
	c.W.Simple(v.Type.String())
}

// RENAME key newkey
// https://redis.io/commands/rename/
//
// RENAMENX key newkey
// https://redis.io/commands/renamenx/
//
// The value keeps its time to live. Renaming a key to itself succeeds
// (RENAMENX replies 0) if the key exists.
func cmdRename(c *Ctx) {
	nx := c.Cmd.Name == "renamenx"
	src, dst := c.Str(1), c.Str(2)
	v, found, ok := lookupValue(c, c.S.DB, src)
	if !ok {
		return
	}
	if !found {
		c.Error(ErrNoSuchKey)
		return
	}
	if src == dst {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	if nx {
		_, exists, ok := lookupValue(c, c.S.DB, dst)
		if !ok {
			return
		}
		if exists {
			c.W.Int(0)
			return
		}
	}
	if !setValue(c, dst, v) {
		return
	}
	if _, err := c.Tx.Delete(c.S.DB, src); err != nil {
		c.Error(WriteErrorReply(err))
		return
	}
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// resolveDB reads the database argument of MOVE and COPY ... DB: a
// database index, read as Redis reads it (with its errors), or a
// namespace name. It replies with the error and returns ok=false on bad
// input.
func resolveDB(c *Ctx, i int) (string, bool) {
	arg := c.Str(i)
	if n, isInt := ParseInt(c.Args[i]); isInt && (n < math.MinInt32 || n > math.MaxInt32) {
		c.Error(errInt32Range)
		return "", false
	}
	name, _, msg := ResolveNamespace(c.Env.Store, arg)
	if msg != "" {
		c.Error(msg)
		return "", false
	}
	return name, true
}

// COPY source destination [DB destination-db] [REPLACE]
// https://redis.io/commands/copy/
//
// The copy keeps the source's time to live.
func cmdCopy(c *Ctx) {
	src, dstKey := c.Str(1), c.Str(2)
	dstDB := c.S.DB
	replace := false
	for j := 3; j < len(c.Args); j++ {
		switch {
		case c.Is(j, "replace"):
			replace = true
		case c.Is(j, "db") && j+1 < len(c.Args):
			name, ok := resolveDB(c, j+1)
			if !ok {
				return
			}
			dstDB = name
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if dstDB == c.S.DB && src == dstKey {
		c.Error(errSameObject)
		return
	}
	v, found, ok := lookupValue(c, c.S.DB, src)
	if !ok {
		return
	}
	countHit(c, found)
	if !found {
		c.W.Int(0)
		return
	}
	_, exists, ok := lookupValue(c, dstDB, dstKey)
	if !ok {
		return
	}
	if exists && !replace {
		c.W.Int(0)
		return
	}
	if err := c.Tx.Set(dstDB, dstKey, v); err != nil {
		c.Error(WriteErrorReply(err))
		return
	}
	c.W.Int(1)
}

// MOVE key db
// https://redis.io/commands/move/
//
// db is a database index or a namespace name. The key keeps its time to
// live; nothing moves if the target already holds the key.
func cmdMove(c *Ctx) {
	key := c.Str(1)
	dst, ok := resolveDB(c, 2)
	if !ok {
		return
	}
	if dst == c.S.DB {
		c.Error(errSameObject)
		return
	}
	v, found, ok := lookupValue(c, c.S.DB, key)
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	_, exists, ok := lookupValue(c, dst, key)
	if !ok {
		return
	}
	if exists {
		c.W.Int(0)
		return
	}
	if err := c.Tx.Set(dst, key, v); err != nil {
		c.Error(WriteErrorReply(err))
		return
	}
	if _, err := c.Tx.Delete(c.S.DB, key); err != nil {
		c.Error(WriteErrorReply(err))
		return
	}
	c.W.Int(1)
}

// SWAPDB index1 index2
// https://redis.io/commands/swapdb/
//
// Either argument may also be a namespace name. Clients keep their
// selected namespace and so see the other one's keys afterwards, as on
// Redis.
func cmdSwapDB(c *Ctx) {
	a, ok := swapArg(c, 1, "ERR invalid first DB index")
	if !ok {
		return
	}
	b, ok := swapArg(c, 2, "ERR invalid second DB index")
	if !ok {
		return
	}
	if a == "" || b == "" {
		c.Error(ErrDBIndex)
		return
	}
	if err := c.Tx.Swap(a, b); err != nil {
		c.Error(WriteErrorReply(err))
		return
	}
	c.W.OK()
}

// swapArg reads a SWAPDB argument: an index Redis accepts (any 32-bit
// integer, else badMsg) or a namespace name. An index out of range gives
// name "" so the caller can report it after checking both arguments, in
// Redis's order.
func swapArg(c *Ctx, i int, badMsg string) (string, bool) {
	n, isInt := ParseInt(c.Args[i])
	switch {
	case isInt && (n < math.MinInt32 || n > math.MaxInt32):
		c.Error(badMsg)
		return "", false
	case isInt && (n < 0 || n >= int64(c.Env.Store.Databases())):
		return "", true
	case isInt:
		return strconv.FormatInt(n, 10), true
	case !looksNumeric(c.Str(i)) && engine.ValidName(c.Str(i)):
		return c.Str(i), true
	}
	c.Error(badMsg)
	return "", false
}

// KEYS pattern
// https://redis.io/commands/keys/
func cmdKeys(c *Ctx) {
	pattern := c.Str(1)
	all := pattern == "*"
	var keys []string
	err := c.Tx.Scan(c.S.DB, func(key string, _ engine.Value) bool {
		if all || engine.GlobMatch(pattern, key, false) {
			keys = append(keys, key)
		}
		return true
	})
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.StringArray(keys)
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
// https://redis.io/commands/scan/
//
// The cursor is Redis's, a position in the namespace's hash table (see
// engine/scan.go): a key present for the whole iteration is returned at
// least once. COUNT is about how many keys one call examines (10 by
// default); MATCH and TYPE then filter them, so a call may return fewer,
// or none, with a non-zero cursor.
func cmdScan(c *Ctx) {
	cursor, ok := parseScanCursor(c.Args[1])
	if !ok {
		c.Error("ERR invalid cursor")
		return
	}
	count := int64(10)
	var pattern, typeName string
	usePattern, useType := false, false
	for i := 2; i < len(c.Args); i += 2 {
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
			count = n
		case c.Is(i, "match") && more >= 2:
			pattern = c.Str(i + 1)
			usePattern = pattern != "*"
		case c.Is(i, "type") && more >= 2:
			typeName = c.Str(i + 1)
			useType = true
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	prefix := ""
	if usePattern {
		prefix = engine.GlobLiteralPrefix(pattern)
	}
	var keys []string
	next, err := c.Tx.ScanCursor(c.S.DB, cursor, int(count), prefix, func(key string, v engine.Value) {
		if usePattern && !engine.GlobMatch(pattern, key, false) {
			return
		}
		if useType {
			countHit(c, true)
			if !strings.EqualFold(typeName, v.Type.String()) {
				return
			}
		}
		keys = append(keys, key)
	})
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.StringArray(keys)
}

// parseScanCursor reads a cursor as Redis's parseScanCursorOrReply does
// with strtoul: the argument ends at its first NUL (a C string); no
// leading space; an optional sign, where '-' negates modulo 2^64; decimal
// digits up to 2^64-1; and nothing after them. An empty argument is
// cursor 0.
func parseScanCursor(b []byte) (uint64, bool) {
	for i, ch := range b {
		if ch == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) == 0 {
		return 0, true
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return 0, false
	}
	neg := false
	digits := b
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		digits = b[1:]
	}
	if len(digits) == 0 {
		return 0, false
	}
	var v uint64
	for _, ch := range digits {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// RANDOMKEY
// https://redis.io/commands/randomkey/
func cmdRandomKey(c *Ctx) {
	key, ok, err := c.Tx.RandomKey(c.S.DB)
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	if !ok {
		c.W.Null()
		return
	}
	c.W.BulkString(key)
}

// Conditions of EXPIRE and friends, after Redis's EXPIRE_* flags.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// EXPIRE key seconds [NX | XX | GT | LT]
// https://redis.io/commands/expire/
//
// PEXPIRE key milliseconds [NX | XX | GT | LT]
// https://redis.io/commands/pexpire/
//
// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
// https://redis.io/commands/expireat/
//
// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
// https://redis.io/commands/pexpireat/
//
// As Redis's expireGenericCommand: options are checked first, then the
// time; a time not in the future deletes the key (and replies 1); GT and
// LT treat a key without expiry as expiring never.
func cmdExpire(c *Ctx) {
	name := c.Cmd.Name
	var flags int
	for j := 3; j < len(c.Args); j++ {
		switch {
		case c.Is(j, "nx"):
			flags |= expireNX
		case c.Is(j, "xx"):
			flags |= expireXX
		case c.Is(j, "gt"):
			flags |= expireGT
		case c.Is(j, "lt"):
			flags |= expireLT
		default:
			c.Error("ERR Unsupported option " + c.Str(j))
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.Error("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := c.Int(2)
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if name == "expire" || name == "expireat" {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.Error(invalidExpire(c))
			return
		}
		when *= 1000
	}
	if name == "expire" || name == "pexpire" {
		now := c.Tx.Now()
		if when > math.MaxInt64-now {
			c.Error(invalidExpire(c))
			return
		}
		when += now
	}
	key := c.Str(1)
	v, found, ok := lookupValue(c, c.S.DB, key)
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	cur := v.ExpireAt // 0: no expiry, "infinite" for GT and LT
	switch {
	case flags&expireNX != 0 && cur != 0,
		flags&expireXX != 0 && cur == 0,
		flags&expireGT != 0 && (cur == 0 || when <= cur),
		flags&expireLT != 0 && cur != 0 && when >= cur:
		c.W.Int(0)
		return
	}
	if when <= c.Tx.Now() {
		if _, err := c.Tx.Delete(c.S.DB, key); err != nil {
			c.Error(WriteErrorReply(err))
			return
		}
		c.W.Int(1)
		return
	}
	v.ExpireAt = when
	if !setValue(c, key, v) {
		return
	}
	c.W.Int(1)
}

// TTL key
// https://redis.io/commands/ttl/
//
// PTTL key
// https://redis.io/commands/pttl/
//
// EXPIRETIME key
// https://redis.io/commands/expiretime/
//
// PEXPIRETIME key
// https://redis.io/commands/pexpiretime/
//
// -2 for a missing key, -1 for a key without expiry.
func cmdTTL(c *Ctx) {
	v, found, ok := lookupValue(c, c.S.DB, c.Str(1))
	if !ok {
		return
	}
	countHit(c, found)
	switch {
	case !found:
		c.W.Int(-2)
		return
	case v.ExpireAt == 0:
		c.W.Int(-1)
		return
	}
	name := c.Cmd.Name
	ms := v.ExpireAt
	if name == "ttl" || name == "pttl" {
		ms = max(v.ExpireAt-c.Tx.Now(), 0)
	}
	if name == "pttl" || name == "pexpiretime" {
		c.W.Int(ms)
		return
	}
	// Redis rounds with (ms+500)/1000 in C; near 2^63 the sum wraps and
	// the compiled code yields the unsigned quotient, which this matches.
	c.W.Int(int64((uint64(ms) + 500) / 1000))
}

// PERSIST key
// https://redis.io/commands/persist/
func cmdPersist(c *Ctx) {
	key := c.Str(1)
	v, found, ok := lookupValue(c, c.S.DB, key)
	if !ok {
		return
	}
	if !found || v.ExpireAt == 0 {
		c.W.Int(0)
		return
	}
	v.ExpireAt = 0
	if !setValue(c, key, v) {
		return
	}
	c.W.Int(1)
}
