package commands

import (
	"math"

	"durastore/engine"
)

// String commands: https://redis.io/commands/?group=string
var stringCommands = []*Command{
	{Name: "get", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"read", "string", "fast"}, Group: "string", Since: "1.0.0",
		Summary: "Returns the string value of a key.", Handler: cmdGet},
	{Name: "set", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "string", "slow"}, Group: "string", Since: "1.0.0",
		Summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", Handler: cmdSet},
}

// getString reads a string key. It replies WRONGTYPE and returns ok=false
// when the key holds another type.
func getString(c *Ctx, key string) (v engine.Value, found, ok bool) {
	v, found, err := c.Tx.Get(c.S.DB, key)
	if err != nil {
		c.Error("ERR " + err.Error())
		return v, false, false
	}
	if found && v.Type != engine.TypeString {
		c.Error(ErrWrongType)
		return v, true, false
	}
	return v, found, true
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
	v, found, ok := getString(c, c.Str(1))
	if !ok {
		return
	}
	countHit(c, found)
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
	var expireArg []byte
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
			return 0, 0, false
		}
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
	old, found, err := c.Tx.Get(c.S.DB, key)
	if err != nil {
		c.Error("ERR " + err.Error())
		return
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
