package commands

// CL.THROTTLE: the rate limiter of the redis-cell module, built in. It is
// GCRA (the generic cell rate algorithm): the key holds the theoretical
// arrival time (TAT) of the next request in Unix nanoseconds, as a decimal
// string, with a TTL that removes it once the limiter is back to full
// burst. One command, one transaction: decisions are atomic under any
// concurrency.

import (
	"strconv"
	"time"

	"durastore/engine"
)

var throttleCommands = []*Command{
	{Name: "cl.throttle", Arity: -5, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"write", "fast"}, Group: "generic", Since: "7.0.0",
		Summary: "Rate-limit an action with GCRA, as the redis-cell module", Handler: cmdThrottle},
}

// throttleError is how redis-cell reports its errors.
func throttleError(msg string) string { return "Cell error: " + msg }

// CL.THROTTLE key max_burst count_per_period period [quantity]
// https://github.com/brandur/redis-cell
//
// The reply is [limited (0/1), limit (max_burst+1), remaining,
// retry_after seconds (-1 when allowed), reset_after seconds]; partial
// seconds round up, as redis-cell does.
func cmdThrottle(c *Ctx) {
	if len(c.Args) > 6 {
		c.Error(throttleError("Usage: cl.throttle <key> <max_burst> <count per period> <period> [<quantity>]"))
		return
	}
	var nums [4]int64
	nums[3] = 1
	for i := 2; i < len(c.Args); i++ {
		n, err := strconv.ParseInt(c.Str(i), 10, 64)
		if err != nil {
			c.Error(throttleError("Couldn't parse as integer: " + c.Str(i)))
			return
		}
		nums[i-2] = n
	}
	maxBurst, count, period, quantity := nums[0], nums[1], nums[2], nums[3]
	if maxBurst < 0 || quantity < 0 || count < 0 || period < 0 {
		c.Error(throttleError("arguments must not be negative"))
		return
	}
	if count == 0 || period == 0 {
		c.Error(throttleError("Zero rates are not supported"))
		return
	}
	if maxBurst > 1<<40 || quantity > 1<<40 || period > 1<<33 {
		c.Error(throttleError("arguments out of range"))
		return
	}
	// emission interval: period/count, in nanoseconds, as redis-cell.
	emission := int64(float64(period*int64(time.Second)) / float64(count))
	if emission == 0 {
		c.Error(throttleError("Zero rates are not supported"))
		return
	}
	key := c.Str(1)
	v, found, ok := getString(c, key)
	if !ok {
		return
	}
	now := time.Now().UnixNano()
	tat := now
	if found {
		t, err := strconv.ParseInt(v.Data, 10, 64)
		if err != nil {
			c.Error(throttleError("invalid digit found in string"))
			return
		}
		tat = t
	}
	limit := maxBurst + 1
	dvt := emission * limit
	increment := emission * quantity

	newTAT := tat + increment
	if now > tat {
		newTAT = now + increment
	}
	allowAt := newTAT - dvt
	diff := now - allowAt
	limited := diff < 0
	retryAfter := int64(-time.Second)
	var ttl int64
	if limited {
		if increment <= dvt {
			retryAfter = -diff
		}
		ttl = tat - now
	} else {
		ttl = newTAT - now
		expireAt := c.Tx.Now() + ttl/int64(time.Millisecond)
		if ttl/int64(time.Millisecond) <= 0 {
			if found {
				if _, err := c.Tx.Delete(c.S.DB, key); err != nil {
					c.Error(WriteErrorReply(err))
					return
				}
			}
		} else if !setValue(c, key, engine.Value{Type: engine.TypeString, ExpireAt: expireAt,
			Data: strconv.FormatInt(newTAT, 10)}) {
			return
		}
	}
	remaining := int64(0)
	if next := dvt - ttl; next > -emission {
		if emission >= int64(time.Microsecond) {
			remaining = int64(float64(next/int64(time.Microsecond)) / float64(emission/int64(time.Microsecond)))
		} else {
			remaining = int64(float64(next) / float64(emission))
		}
	}
	c.W.Array(5)
	if limited {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
	c.W.Int(limit)
	c.W.Int(remaining)
	c.W.Int(ceilSeconds(retryAfter))
	c.W.Int(ceilSeconds(ttl))
}

// ceilSeconds is redis-cell's rounding: whole seconds, plus one when a
// millisecond part remains.
func ceilSeconds(ns int64) int64 {
	s := ns / int64(time.Second)
	if (ns%int64(time.Second))/int64(time.Millisecond) > 0 {
		s++
	}
	return s
}
