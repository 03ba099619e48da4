package compat

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// LimiterKeyPrefix is the key prefix of the rate limiter's state.
const LimiterKeyPrefix = "ratelimit:"

// Limit is a rate: Rate requests per Period, with bursts of up to Burst
// requests at once.
type Limit struct {
	Rate   int
	Period time.Duration
	// Burst is how many requests may come at once after a quiet spell;
	// 0 means Rate.
	Burst int
}

// DefaultLimit is 30 requests a minute, all 30 of them allowed at once.
var DefaultLimit = Limit{Rate: 30, Period: time.Minute, Burst: 30}

// PerMinute is n requests a minute, bursts of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute, Burst: n} }

// PerSecond is n requests a second, bursts of n.
func PerSecond(n int) Limit { return Limit{Rate: n, Period: time.Second, Burst: n} }

func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return l.Rate
}

func (l Limit) String() string {
	return fmt.Sprintf("%d per %v (burst %d)", l.Rate, l.Period, l.burst())
}

// Result is a rate limiter's decision.
type Result struct {
	// Allowed says whether the request may go ahead.
	Allowed bool
	// Limit is the burst: the most requests allowed at once.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is how long to wait before a request is allowed again;
	// 0 when this one was allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the limiter is back to a full burst.
	ResetAfter time.Duration
}

// ErrNoAtomicLimiter is returned when the server has neither CL.THROTTLE
// nor EVAL, so no decision can be made in one atomic call.
var ErrNoAtomicLimiter = errors.New("compat: the server has neither CL.THROTTLE nor EVAL: rate limiting needs one of them")

// Backends a RateLimiter can use.
const (
	backendUnknown int32 = iota
	backendThrottle
	backendScript
)

// RateLimiter decides whether a request may go ahead under a Limit, per id,
// with the generic cell rate algorithm (GCRA). Each decision is one atomic
// call to the server, so any number of processes sharing a server share
// the limit exactly: CL.THROTTLE where the server has it, else a Lua
// script run with EVALSHA (EVAL when the server does not have it cached).
type RateLimiter struct {
	c      *Client
	limit  Limit
	opts   []Option
	prefix string
	// backend is decided on the first call, then kept.
	backend atomic.Int32
}

// NewRateLimiter returns a limiter for limit (DefaultLimit when limit is the
// zero Limit). Options choose the namespace and key prefix of its state.
func NewRateLimiter(c *Client, limit Limit, opts ...Option) *RateLimiter {
	if limit == (Limit{}) {
		limit = DefaultLimit
	}
	return &RateLimiter{c: c, limit: limit, opts: opts, prefix: c.options(opts).prefix(LimiterKeyPrefix)}
}

// Limit is the limiter's rate.
func (l *RateLimiter) Limit() Limit { return l.limit }

// Backend says how decisions are made: "cl.throttle", "script", or ""
// before the first CheckLimit has asked the server.
func (l *RateLimiter) Backend() string {
	switch l.backend.Load() {
	case backendThrottle:
		return "cl.throttle"
	case backendScript:
		return "script"
	}
	return ""
}

func (l *RateLimiter) check() error {
	if l.limit.Rate <= 0 || l.limit.Period <= 0 || l.limit.Burst < 0 {
		return fmt.Errorf("compat: invalid rate limit %v: Rate and Period must be above zero", l.limit)
	}
	return nil
}

// throttleArgs reports whether CL.THROTTLE can express the limit: it takes
// its period in whole seconds.
func (l *RateLimiter) throttleFits() bool {
	return l.limit.Period >= time.Second && l.limit.Period%time.Second == 0
}

// CheckLimit counts one request for id and says whether it is allowed.
func (l *RateLimiter) CheckLimit(ctx context.Context, id string) (Result, error) {
	return l.CheckLimitN(ctx, id, 1)
}

// CheckLimitN counts n requests at once for id (all or none are allowed).
func (l *RateLimiter) CheckLimitN(ctx context.Context, id string, n int) (Result, error) {
	if err := l.check(); err != nil {
		return Result{}, err
	}
	if n < 1 {
		return Result{}, fmt.Errorf("compat: CheckLimitN needs n >= 1, got %d", n)
	}
	rc, _, err := l.c.rdb(l.opts)
	if err != nil {
		return Result{}, err
	}
	key := l.prefix + id
	if l.backend.Load() == backendUnknown {
		backend := backendScript
		if l.throttleFits() && l.c.supports(ctx, "cl.throttle") {
			backend = backendThrottle
		}
		l.backend.Store(backend)
	}
	if l.backend.Load() == backendThrottle {
		res, err := l.throttle(ctx, rc, key, n)
		if !isUnknownCommand(err) {
			return res, err
		}
		// The server lost CL.THROTTLE (another server behind the same
		// address): use the script from now on.
		l.c.forget("cl.throttle")
		l.backend.Store(backendScript)
	}
	return l.script(ctx, rc, key, n)
}

// Reset forgets the state of id: its next request sees a full burst.
func (l *RateLimiter) Reset(ctx context.Context, id string) error {
	rc, _, err := l.c.rdb(l.opts)
	if err != nil {
		return err
	}
	return rc.Del(ctx, l.prefix+id).Err()
}

// throttle is CL.THROTTLE key max_burst count period quantity, as
// redis-cell defines it: max_burst+1 requests at once, count per period
// seconds. It replies limited (0/1), limit, remaining, retry_after seconds
// (-1 when allowed) and reset_after seconds.
func (l *RateLimiter) throttle(ctx context.Context, rc *redis.Client, key string, n int) (Result, error) {
	vals, err := rc.Do(ctx, "CL.THROTTLE", key, l.limit.burst()-1, l.limit.Rate,
		int64(l.limit.Period/time.Second), n).Int64Slice()
	if err != nil {
		return Result{}, err
	}
	if len(vals) != 5 {
		return Result{}, fmt.Errorf("compat: CL.THROTTLE replied %d values, want 5", len(vals))
	}
	res := Result{
		Allowed:    vals[0] == 0,
		Limit:      int(vals[1]),
		Remaining:  int(vals[2]),
		ResetAfter: time.Duration(vals[4]) * time.Second,
	}
	if !res.Allowed && vals[3] > 0 {
		res.RetryAfter = time.Duration(vals[3]) * time.Second
	}
	return res, nil
}

// gcraScript is GCRA in one atomic step, on the server's clock. The key
// holds the theoretical arrival time (TAT) in Unix microseconds. All the
// arithmetic is on whole microseconds, which Lua's doubles hold exactly.
//
//	KEYS[1]  state key
//	ARGV[1]  burst: requests allowed at once
//	ARGV[2]  emission interval: microseconds per request
//	ARGV[3]  cost: requests counted by this call
//
// It returns {allowed (1/0), remaining, retry_after µs (-1 if allowed),
// reset_after µs}.
var gcraScript = redis.NewScript(`
local burst = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call("GET", KEYS[1]))
local excess = 0
if tat ~= nil and tat > now then
  excess = tat - now
end
local new_excess = excess + emission * cost
local limit = emission * burst
if new_excess > limit then
  return {0, 0, new_excess - limit, excess}
end
redis.call("SET", KEYS[1], string.format("%.0f", now + new_excess), "PX", math.ceil(new_excess / 1000))
return {1, math.floor((limit - new_excess) / emission), -1, new_excess}
`)

func (l *RateLimiter) script(ctx context.Context, rc *redis.Client, key string, n int) (Result, error) {
	// The emission interval in whole microseconds (rounded: the rate is
	// off by less than a microsecond per request).
	emission := max((l.limit.Period+time.Duration(l.limit.Rate)*time.Microsecond/2)/time.Duration(l.limit.Rate)/time.Microsecond, 1)
	vals, err := gcraScript.Run(ctx, rc, []string{key}, l.limit.burst(), int64(emission), n).Int64Slice()
	if err != nil {
		if isUnknownCommand(err) {
			return Result{}, fmt.Errorf("%w: %v", ErrNoAtomicLimiter, err)
		}
		return Result{}, err
	}
	if len(vals) != 4 {
		return Result{}, fmt.Errorf("compat: the rate-limit script returned %d values, want 4", len(vals))
	}
	res := Result{
		Allowed:    vals[0] == 1,
		Limit:      l.limit.burst(),
		Remaining:  int(vals[1]),
		ResetAfter: time.Duration(vals[3]) * time.Microsecond,
	}
	if !res.Allowed {
		res.RetryAfter = time.Duration(vals[2]) * time.Microsecond
	}
	return res, nil
}
