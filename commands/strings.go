package commands

import (
	"math"
	"unsafe"

	"durastore/engine"
)

// String commands: https://redis.io/commands/?group=string
// Flags, key positions and categories are Redis 7.0's COMMAND INFO.
var stringCommands = []*Command{
	{Name: "get", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "string", "fast"}, Group: "string", Since: "1.0.0",
		Summary: "Get the value of a key", Handler: cmdGet},
	{Name: "set", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "slow"}, Group: "string", Since: "1.0.0",
		Summary: "Set the string value of a key", Handler: cmdSet},
	{Name: "setnx", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "1.0.0",
		Summary: "Set the value of a key, only if the key does not exist", Handler: cmdSetNX},
	{Name: "setex", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "slow"}, Group: "string", Since: "2.0.0",
		Summary: "Set the value and expiration of a key", Handler: cmdSetEX},
	{Name: "psetex", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "slow"}, Group: "string", Since: "2.6.0",
		Summary: "Set the value and expiration in milliseconds of a key", Handler: cmdPSetEX},
	{Name: "getset", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "1.0.0",
		Summary: "Set the string value of a key and return its old value", Handler: cmdGetSet},
	{Name: "getdel", Arity: 2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "6.2.0",
		Summary: "Get the value of a key and delete the key", Handler: cmdGetDel},
	{Name: "getex", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "6.2.0",
		Summary: "Get the value of a key and optionally set its expiration", Handler: cmdGetEx},
	{Name: "mget", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"read", "string", "fast"}, Group: "string", Since: "1.0.0",
		Summary: "Get the values of all the given keys", Handler: cmdMGet},
	{Name: "mset", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2,
		Categories: []string{"write", "string", "slow"}, Group: "string", Since: "1.0.1",
		Summary: "Set multiple keys to multiple values", Handler: cmdMSet},
	{Name: "msetnx", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2,
		Categories: []string{"write", "string", "slow"}, Group: "string", Since: "1.0.1",
		Summary: "Set multiple keys to multiple values, only if none of the keys exist", Handler: cmdMSetNX},
	{Name: "incr", Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "1.0.0",
		Summary: "Increment the integer value of a key by one", Handler: cmdIncr},
	{Name: "incrby", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "1.0.0",
		Summary: "Increment the integer value of a key by the given amount", Handler: cmdIncrBy},
	{Name: "decr", Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "1.0.0",
		Summary: "Decrement the integer value of a key by one", Handler: cmdDecr},
	{Name: "decrby", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "1.0.0",
		Summary: "Decrement the integer value of a key by the given number", Handler: cmdDecrBy},
	{Name: "incrbyfloat", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "2.6.0",
		Summary: "Increment the float value of a key by the given amount", Handler: cmdIncrByFloat},
	{Name: "append", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "fast"}, Group: "string", Since: "2.0.0",
		Summary: "Append a value to a key", Handler: cmdAppend},
	{Name: "strlen", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "string", "fast"}, Group: "string", Since: "2.2.0",
		Summary: "Get the length of the value stored in a key", Handler: cmdStrlen},
	{Name: "getrange", Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "string", "slow"}, Group: "string", Since: "2.4.0",
		Summary: "Get a substring of the string stored at a key", Handler: cmdGetRange},
	{Name: "substr", Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "string", "slow"}, Group: "string", Since: "1.0.0",
		Summary: "Get a substring of the string stored at a key", Handler: cmdGetRange},
	{Name: "setrange", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "slow"}, Group: "string", Since: "2.2.0",
		Summary: "Overwrite part of a string at key starting at the specified offset", Handler: cmdSetRange},
	{Name: "lcs", Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 2, Step: 1,
		Categories: []string{"read", "string", "slow"}, Group: "string", Since: "7.0.0",
		Summary: "Find longest common substring", Handler: cmdLCS},
}

// getString reads a string key. It replies WRONGTYPE and returns ok=false
// when the key holds another type.
func getString(c *Ctx, key string) (v engine.Value, found, ok bool) {
	return lookupTyped(c, key, engine.TypeString, false)
}

// lookupTyped reads a key expecting type t, as Redis's lookupKeyRead
// (countHits: a hit or miss is counted, a key of another type is a hit) or
// lookupKeyWrite (nothing counted). It replies with the engine's error or
// WRONGTYPE and returns ok=false when the command must stop.
func lookupTyped(c *Ctx, key string, t engine.Type, countHits bool) (v engine.Value, found, ok bool) {
	v, found, err := c.Tx.Get(c.S.DB, key)
	if err != nil {
		c.Error("ERR " + err.Error())
		return v, false, false
	}
	if countHits {
		countHit(c, found)
	}
	if found && v.Type != t {
		c.Error(ErrWrongType)
		return v, true, false
	}
	return v, found, true
}

// readString looks a key up for reading as Redis's lookupKeyRead does: it
// counts a keyspace hit or miss (a key of another type is a hit), then
// replies WRONGTYPE and returns ok=false when the key is not a string.
func readString(c *Ctx, key string) (v engine.Value, found, ok bool) {
	return lookupTyped(c, key, engine.TypeString, true)
}

// countHit records a keyspace hit or miss for INFO.
func countHit(c *Ctx, found bool) {
	if found {
		c.Env.Stats.KeyspaceHits.Add(1)
	} else {
		c.Env.Stats.KeyspaceMiss.Add(1)
	}
}

// setValue writes a value, replying with the engine's error if it fails.
func setValue(c *Ctx, key string, v engine.Value) bool {
	if err := c.Tx.Set(c.S.DB, key, v); err != nil {
		c.Error(WriteErrorReply(err))
		return false
	}
	return true
}

// GET key
// https://redis.io/commands/get/
func cmdGet(c *Ctx) {
	v, found, ok := readString(c, c.Str(1))
	if !ok {
		return
	}
	if !found {
		c.W.Null()
		return
	}
	c.W.BulkString(v.Data)
}

// Flags of SET, GETEX and friends, after Redis's OBJ_SET_* flags.
const (
	setNX = 1 << iota
	setXX
	setGet
	setKeepTTL
	setPersist
	setEX
	setPX
	setEXAT
	setPXAT
)

const expireFlags = setEX | setPX | setEXAT | setPXAT

// parseSetOptions parses the options of SET (forGetEx false) or GETEX
// (forGetEx true) from argument start, exactly as Redis's
// parseExtendedStringArgumentsOrReply, and resolves the expiry to an
// absolute time in milliseconds. It replies with the error and returns
// ok=false on bad input.
func parseSetOptions(c *Ctx, start int, forGetEx bool) (flags int, expireAt int64, ok bool) {
	flags, expireArg, ok := parseSetFlags(c, start, forGetEx)
	if !ok {
		return 0, 0, false
	}
	if expireArg != nil {
		at, ok := expireTime(c, expireArg, flags)
		if !ok {
			return 0, 0, false
		}
		expireAt = at
	}
	return flags, expireAt, true
}

// parseSetFlags is parseSetOptions without the expiry's validation: it
// returns the EX/PX/EXAT/PXAT argument as given (nil if none), for GETEX,
// which validates it only once it has found the key.
func parseSetFlags(c *Ctx, start int, forGetEx bool) (flags int, expireArg []byte, ok bool) {
	for j := start; j < len(c.Args); j++ {
		opt := c.Str(j)
		hasNext := j < len(c.Args)-1
		switch {
		case eqFold(opt, "nx") && flags&setXX == 0 && !forGetEx:
			flags |= setNX
		case eqFold(opt, "xx") && flags&setNX == 0 && !forGetEx:
			flags |= setXX
		case eqFold(opt, "get") && !forGetEx:
			flags |= setGet
		case eqFold(opt, "keepttl") && flags&(setPersist|expireFlags) == 0 && !forGetEx:
			flags |= setKeepTTL
		case eqFold(opt, "persist") && forGetEx && flags&(expireFlags|setKeepTTL) == 0:
			flags |= setPersist
		case eqFold(opt, "ex") && flags&(setKeepTTL|setPersist|setEXAT|setPX|setPXAT) == 0 && hasNext:
			flags |= setEX
			j++
			expireArg = c.Args[j]
		case eqFold(opt, "px") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPXAT) == 0 && hasNext:
			flags |= setPX
			j++
			expireArg = c.Args[j]
		case eqFold(opt, "exat") && flags&(setKeepTTL|setPersist|setEX|setPX|setPXAT) == 0 && hasNext:
			flags |= setEXAT
			j++
			expireArg = c.Args[j]
		case eqFold(opt, "pxat") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPX) == 0 && hasNext:
			flags |= setPXAT
			j++
			expireArg = c.Args[j]
		default:
			c.Error(ErrSyntax)
			return 0, nil, false
		}
	}
	return flags, expireArg, true
}

// expireTime turns an EX/PX/EXAT/PXAT argument into an absolute time in
// milliseconds, with Redis's errors (getExpireMillisecondsOrReply).
func expireTime(c *Ctx, arg []byte, flags int) (int64, bool) {
	ms, ok := ParseInt(arg)
	if !ok {
		c.Error(ErrNotInt)
		return 0, false
	}
	seconds := flags&(setEX|setEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		c.Error(invalidExpire(c))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(setEX|setPX) != 0 {
		now := c.Tx.Now()
		if ms > math.MaxInt64-now {
			c.Error(invalidExpire(c))
			return 0, false
		}
		ms += now
	}
	return ms, true
}

func invalidExpire(c *Ctx) string {
	return "ERR invalid expire time in '" + c.Cmd.Name + "' command"
}

// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
// EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
// https://redis.io/commands/set/
func cmdSet(c *Ctx) {
	flags, expireAt, ok := parseSetOptions(c, 3, false)
	if !ok {
		return
	}
	key := c.Str(1)
	if flags&(setNX|setXX|setGet|setKeepTTL) == 0 {
		// Plain SET needs nothing of the old value: one tree descent.
		if setValue(c, key, engine.Value{Type: engine.TypeString, Data: c.Str(2), ExpireAt: expireAt}) {
			c.W.OK()
		}
		return
	}
	old, found, err := c.Tx.Get(c.S.DB, key)
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	if flags&setGet != 0 {
		countHit(c, found) // GET reads the key as GET does
	}
	if flags&setGet != 0 && found && old.Type != engine.TypeString {
		c.Error(ErrWrongType)
		return
	}
	if (flags&setNX != 0 && found) || (flags&setXX != 0 && !found) {
		if flags&setGet != 0 {
			replyOld(c, old, found)
		} else {
			c.W.Null()
		}
		return
	}
	v := engine.Value{Type: engine.TypeString, Data: c.Str(2), ExpireAt: expireAt}
	if flags&setKeepTTL != 0 && found {
		v.ExpireAt = old.ExpireAt
	}
	if !setValue(c, key, v) {
		return
	}
	if flags&setGet != 0 {
		replyOld(c, old, found)
		return
	}
	c.W.OK()
}

func replyOld(c *Ctx, old engine.Value, found bool) {
	if found {
		c.W.BulkString(old.Data)
	} else {
		c.W.Null()
	}
}

// eqFold is strings.EqualFold for ASCII option words.
func eqFold(s, word string) bool {
	if len(s) != len(word) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a := s[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a != word[i] {
			return false
		}
	}
	return true
}

// maxStringLen is Redis's default proto-max-bulk-len, the largest string
// APPEND and SETRANGE may build and the most transient memory LCS may use.
const maxStringLen = 512 << 20

const errStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

// checkStringLength is Redis's checkStringLength: size+add, computed
// without overflow, must not exceed maxStringLen.
func checkStringLength(c *Ctx, size, add int64) bool {
	if size > maxStringLen || add > maxStringLen || size+add > maxStringLen {
		c.Error(errStringTooLong)
		return false
	}
	return true
}

// bytesString views b as a string without copying; the engine copies what
// it stores.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// stringBytes views s as bytes without copying, for parsers that only
// read them.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// lookupWrite looks a key up as Redis's lookupKeyWrite does (no hit or
// miss counted) and replies WRONGTYPE, returning ok=false, when it holds
// another type.
func lookupWrite(c *Ctx, key string) (v engine.Value, found, ok bool) {
	return getString(c, key)
}

// setGeneric is Redis's setGenericCommand for SETNX, SETEX and PSETEX: the
// value replaces the key and its TTL.
func setGeneric(c *Ctx, key, val string, expireAt int64, nx bool) {
	if nx {
		found, err := c.Tx.Exists(c.S.DB, key)
		if err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		if found {
			c.W.Int(0)
			return
		}
	}
	if !setValue(c, key, engine.Value{Type: engine.TypeString, Data: val, ExpireAt: expireAt}) {
		return
	}
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// SETNX key value
// https://redis.io/commands/setnx/
func cmdSetNX(c *Ctx) {
	setGeneric(c, c.Str(1), c.Str(2), 0, true)
}

// SETEX key seconds value
// https://redis.io/commands/setex/
func cmdSetEX(c *Ctx) {
	at, ok := expireTime(c, c.Args[2], setEX)
	if !ok {
		return
	}
	setGeneric(c, c.Str(1), c.Str(3), at, false)
}

// PSETEX key milliseconds value
// https://redis.io/commands/psetex/
func cmdPSetEX(c *Ctx) {
	at, ok := expireTime(c, c.Args[2], setPX)
	if !ok {
		return
	}
	setGeneric(c, c.Str(1), c.Str(3), at, false)
}

// GETSET key value
// https://redis.io/commands/getset/
func cmdGetSet(c *Ctx) {
	key := c.Str(1)
	old, found, ok := readString(c, key)
	if !ok {
		return
	}
	// Reply first, from the old value, then write; a failed write turns
	// the reply into its error.
	mark := len(c.W.B)
	replyOld(c, old, found)
	if err := c.Tx.Set(c.S.DB, key, engine.Value{Type: engine.TypeString, Data: c.Str(2)}); err != nil {
		c.W.B = c.W.B[:mark]
		c.Error(WriteErrorReply(err))
	}
}

// GETDEL key
// https://redis.io/commands/getdel/
func cmdGetDel(c *Ctx) {
	key := c.Str(1)
	v, found, ok := readString(c, key)
	if !ok {
		return
	}
	if !found {
		c.W.Null()
		return
	}
	mark := len(c.W.B)
	c.W.BulkString(v.Data)
	if _, err := c.Tx.Delete(c.S.DB, key); err != nil {
		c.W.B = c.W.B[:mark]
		c.Error(WriteErrorReply(err))
	}
}

// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
// PXAT unix-time-milliseconds | PERSIST]
// https://redis.io/commands/getex/
func cmdGetEx(c *Ctx) {
	flags, expireArg, ok := parseSetFlags(c, 2, true)
	if !ok {
		return
	}
	key := c.Str(1)
	v, found, ok := readString(c, key)
	if !ok {
		return
	}
	if !found {
		c.W.Null()
		return
	}
	// As Redis, the expiry is validated only once the key is found.
	var at int64
	if expireArg != nil {
		if at, ok = expireTime(c, expireArg, flags); !ok {
			return
		}
	}
	mark := len(c.W.B)
	c.W.BulkString(v.Data)
	var err error
	switch {
	case flags&(setEXAT|setPXAT) != 0 && at <= c.Tx.Now():
		// An absolute time already past deletes the key (checkAlreadyExpired).
		_, err = c.Tx.Delete(c.S.DB, key)
	case expireArg != nil:
		v.ExpireAt = at
		err = c.Tx.Set(c.S.DB, key, v)
	case flags&setPersist != 0 && v.ExpireAt != 0:
		v.ExpireAt = 0
		err = c.Tx.Set(c.S.DB, key, v)
	}
	if err != nil {
		c.W.B = c.W.B[:mark]
		c.Error(WriteErrorReply(err))
	}
}

// MGET key [key ...]
// https://redis.io/commands/mget/
func cmdMGet(c *Ctx) {
	c.W.Array(len(c.Args) - 1)
	for i := 1; i < len(c.Args); i++ {
		v, found, err := c.Tx.Get(c.S.DB, c.Str(i))
		if err != nil {
			found = false
		}
		countHit(c, found)
		if !found || v.Type != engine.TypeString {
			c.W.Null()
			continue
		}
		c.W.BulkString(v.Data)
	}
}

// MSET key value [key value ...]
// https://redis.io/commands/mset/
func cmdMSet(c *Ctx) {
	msetGeneric(c, false)
}

// MSETNX key value [key value ...]
// https://redis.io/commands/msetnx/
func cmdMSetNX(c *Ctx) {
	msetGeneric(c, true)
}

// msetGeneric is Redis's msetGenericCommand. MSETNX sets nothing if any
// key exists; the transaction makes the check and the writes atomic.
func msetGeneric(c *Ctx, nx bool) {
	if len(c.Args)%2 == 0 {
		c.Error(ArityError(c.Cmd.Name))
		return
	}
	if nx {
		for j := 1; j < len(c.Args); j += 2 {
			found, err := c.Tx.Exists(c.S.DB, c.Str(j))
			if err != nil {
				c.Error("ERR " + err.Error())
				return
			}
			if found {
				c.W.Int(0)
				return
			}
		}
	}
	for j := 1; j < len(c.Args); j += 2 {
		if !setValue(c, c.Str(j), engine.Value{Type: engine.TypeString, Data: c.Str(j + 1)}) {
			return
		}
	}
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// INCR key
// https://redis.io/commands/incr/
func cmdIncr(c *Ctx) { incrDecr(c, 1) }

// DECR key
// https://redis.io/commands/decr/
func cmdDecr(c *Ctx) { incrDecr(c, -1) }

// INCRBY key increment
// https://redis.io/commands/incrby/
func cmdIncrBy(c *Ctx) {
	incr, ok := c.Int(2)
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	incrDecr(c, incr)
}

// DECRBY key decrement
// https://redis.io/commands/decrby/
func cmdDecrBy(c *Ctx) {
	incr, ok := c.Int(2)
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if incr == math.MinInt64 { // its negation overflows
		c.Error("ERR decrement would overflow")
		return
	}
	incrDecr(c, -incr)
}

// incrDecr is Redis's incrDecrCommand. The key keeps its TTL, as Redis
// overwrites the value in place.
func incrDecr(c *Ctx, incr int64) {
	key := c.Str(1)
	v, found, ok := lookupWrite(c, key)
	if !ok {
		return
	}
	var value int64
	if found {
		if value, ok = ParseInt(stringBytes(v.Data)); !ok {
			c.Error(ErrNotInt)
			return
		}
	}
	if (incr < 0 && value < 0 && incr < math.MinInt64-value) ||
		(incr > 0 && value > 0 && incr > math.MaxInt64-value) {
		c.Error(ErrOverflow)
		return
	}
	value += incr
	v.Type, v.Data = engine.TypeString, itoa(value)
	if !setValue(c, key, v) {
		return
	}
	c.W.Int(value)
}

// INCRBYFLOAT key increment
// https://redis.io/commands/incrbyfloat/
func cmdIncrByFloat(c *Ctx) {
	key := c.Str(1)
	v, found, ok := lookupWrite(c, key)
	if !ok {
		return
	}
	sum, errMsg := IncrByFloat(stringBytes(v.Data), found, c.Args[2])
	if errMsg != "" {
		c.Error(errMsg)
		return
	}
	v.Type, v.Data = engine.TypeString, sum // the TTL stays
	if !setValue(c, key, v) {
		return
	}
	c.W.BulkString(sum)
}

// APPEND key value
// https://redis.io/commands/append/
func cmdAppend(c *Ctx) {
	key := c.Str(1)
	v, found, ok := lookupWrite(c, key)
	if !ok {
		return
	}
	add := c.Args[2]
	if !found {
		if !setValue(c, key, engine.Value{Type: engine.TypeString, Data: c.Str(2)}) {
			return
		}
		c.W.Int(int64(len(add)))
		return
	}
	if !checkStringLength(c, int64(len(v.Data)), int64(len(add))) {
		return
	}
	buf := make([]byte, 0, len(v.Data)+len(add))
	buf = append(buf, v.Data...)
	buf = append(buf, add...)
	v.Data = bytesString(buf) // the TTL stays
	if !setValue(c, key, v) {
		return
	}
	c.W.Int(int64(len(buf)))
}

// STRLEN key
// https://redis.io/commands/strlen/
func cmdStrlen(c *Ctx) {
	v, _, ok := readString(c, c.Str(1))
	if !ok {
		return
	}
	c.W.Int(int64(len(v.Data)))
}

// GETRANGE key start end (and SUBSTR, its old name)
// https://redis.io/commands/getrange/
func cmdGetRange(c *Ctx) {
	start, ok := c.Int(2)
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	end, ok := c.Int(3)
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	v, found, ok := readString(c, c.Str(1))
	if !ok {
		return
	}
	if !found {
		c.W.BulkString("")
		return
	}
	s := v.Data
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		c.W.BulkString("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.BulkString("")
		return
	}
	c.W.BulkString(s[start : end+1])
}

// SETRANGE key offset value
// https://redis.io/commands/setrange/
func cmdSetRange(c *Ctx) {
	offset, ok := c.Int(2)
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if offset < 0 {
		c.Error("ERR offset is out of range")
		return
	}
	key, val := c.Str(1), c.Args[3]
	v, found, ok := lookupWrite(c, key)
	if !ok {
		return
	}
	if len(val) == 0 {
		// Setting nothing: no key is created and nothing changes.
		c.W.Int(int64(len(v.Data)))
		return
	}
	// Checked before anything is allocated.
	if !checkStringLength(c, offset, int64(len(val))) {
		return
	}
	size := max(int64(len(v.Data)), offset+int64(len(val)))
	buf := make([]byte, size)
	copy(buf, v.Data)
	copy(buf[offset:], val)
	if !found {
		v = engine.Value{}
	}
	v.Type, v.Data = engine.TypeString, bytesString(buf) // the TTL stays
	if !setValue(c, key, v) {
		return
	}
	c.W.Int(size)
}

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
// https://redis.io/commands/lcs/
//
// This follows Redis's lcsCommand step by step, including the order of
// its checks and the shape of its IDX reply.
func cmdLCS(c *Ctx) {
	var vals [2]string
	var wrong bool
	for i := 0; i < 2; i++ {
		v, found, err := c.Tx.Get(c.S.DB, c.Str(1+i))
		if err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		countHit(c, found)
		if found && v.Type != engine.TypeString {
			wrong = true
		}
		vals[i] = v.Data
	}
	if wrong {
		c.Error("ERR The specified keys must contain string values")
		return
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch {
		case c.Is(j, "idx"):
			getIdx = true
		case c.Is(j, "len"):
			getLen = true
		case c.Is(j, "withmatchlen"):
			withMatchLen = true
		case c.Is(j, "minmatchlen") && more > 0:
			n, ok := c.Int(j + 1)
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if getIdx && getLen {
		c.Error("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	a, b := vals[0], vals[1]
	alen, blen := len(a), len(b)
	if uint64(alen) >= math.MaxUint32-1 || uint64(blen) >= math.MaxUint32-1 {
		c.Error("ERR String too long for LCS")
		return
	}
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > maxStringLen {
		c.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}

	if getLen {
		c.W.Int(int64(lcsLen(a, b)))
		return
	}

	// lcs[j+(blen+1)*i] is the length of the LCS of a[:i] and b[:j].
	w := blen + 1
	lcs := make([]uint32, cells)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				lcs[j+w*i] = lcs[(j-1)+w*(i-1)] + 1
			} else {
				lcs[j+w*i] = max(lcs[j+w*(i-1)], lcs[(j-1)+w*i])
			}
		}
	}
	total := lcs[blen+w*alen]

	idx := total
	result := make([]byte, idx)
	type match struct{ aStart, aEnd, bStart, bEnd int }
	var matches []match
	unset := alen // arange_start == alen: no range open
	aStart, aEnd, bStart, bEnd := unset, 0, 0, 0
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == unset {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				// Contiguous with the open range: extend it backward.
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if lcs[j+w*(i-1)] > lcs[(j-1)+w*i] {
				i--
			} else {
				j--
			}
			if aStart != unset {
				emit = true
			}
		}
		if emit {
			matchLen := aEnd - aStart + 1
			if minMatchLen == 0 || int64(matchLen) >= minMatchLen {
				matches = append(matches, match{aStart, aEnd, bStart, bEnd})
			}
			aStart = unset
		}
	}
	if !getIdx {
		c.W.Bulk(result)
		return
	}
	c.W.Map(2)
	c.W.BulkString("matches")
	c.W.Array(len(matches))
	for _, m := range matches {
		if withMatchLen {
			c.W.Array(3)
		} else {
			c.W.Array(2)
		}
		c.W.Array(2)
		c.W.Int(int64(m.aStart))
		c.W.Int(int64(m.aEnd))
		c.W.Array(2)
		c.W.Int(int64(m.bStart))
		c.W.Int(int64(m.bEnd))
		if withMatchLen {
			c.W.Int(int64(m.aEnd - m.aStart + 1))
		}
	}
	c.W.BulkString("len")
	c.W.Int(int64(total))
}

// lcsLen is the length of the longest common subsequence of a and b: the
// same dynamic programming as LCS's table, keeping two rows only, for
// LCS ... LEN, which needs no backtracking.
func lcsLen(a, b string) uint32 {
	prev, cur := make([]uint32, len(b)+1), make([]uint32, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
