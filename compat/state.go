package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Key prefixes of the helpers; KeyPrefix replaces them per call.
const (
	SessionKeyPrefix = "session:"
	BucketKeyPrefix  = "ratelimit:bucket:"
)

// ---------------------------------------------------------------------------
// Sessions: opaque data under an id, always with a time to live.

// ErrNoTTL is returned when a session would be stored without expiry.
var ErrNoTTL = errors.New("compat: a session needs a TTL above zero")

// SetSession stores a session's data for ttl (which must be above zero),
// replacing any session with that id.
func (c *Client) SetSession(ctx context.Context, id string, data []byte, ttl time.Duration, opts ...Option) error {
	if ttl <= 0 {
		return ErrNoTTL
	}
	rc, o, err := c.rdb(opts)
	if err != nil {
		return err
	}
	return rc.Do(ctx, setArgs(o.prefix(SessionKeyPrefix)+id, data, ttl)...).Err()
}

// GetSession returns a session's data, ErrNotFound once it has expired or
// been deleted.
func (c *Client) GetSession(ctx context.Context, id string, opts ...Option) ([]byte, error) {
	rc, o, err := c.rdb(opts)
	if err != nil {
		return nil, err
	}
	v, err := rc.Get(ctx, o.prefix(SessionKeyPrefix)+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	return v, err
}

// TouchSession gives a live session a new time to live of ttl from now
// (sliding expiry); ErrNotFound if it is gone.
func (c *Client) TouchSession(ctx context.Context, id string, ttl time.Duration, opts ...Option) error {
	if ttl <= 0 {
		return ErrNoTTL
	}
	rc, o, err := c.rdb(opts)
	if err != nil {
		return err
	}
	ok, err := rc.PExpire(ctx, o.prefix(SessionKeyPrefix)+id, ceilMs(ttl)).Result()
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// DeleteSession removes a session and reports whether it existed.
func (c *Client) DeleteSession(ctx context.Context, id string, opts ...Option) (bool, error) {
	rc, o, err := c.rdb(opts)
	if err != nil {
		return false, err
	}
	n, err := rc.Del(ctx, o.prefix(SessionKeyPrefix)+id).Result()
	return n > 0, err
}

// ceilMs rounds a positive duration up to whole milliseconds.
func ceilMs(d time.Duration) time.Duration {
	if r := d % time.Millisecond; r != 0 {
		d += time.Millisecond - r
	}
	return d
}

// ---------------------------------------------------------------------------
// Rate-limit state: a token bucket an application keeps itself. (The
// RateLimiter does not use these: it keeps its own state, changed
// atomically on the server.)

// Bucket is the state of a token bucket.
type Bucket struct {
	Tokens     float64
	LastRefill time.Time
}

// bucketJSON is a bucket's stored form: JSON, with the time in Unix
// milliseconds so other languages (and the HTTP API) read it easily.
type bucketJSON struct {
	Tokens       float64 `json:"tokens"`
	LastRefillMs int64   `json:"lastRefillMs"`
}

// GetBucket reads the bucket of id, ErrNotFound if there is none.
func (c *Client) GetBucket(ctx context.Context, id string, opts ...Option) (Bucket, error) {
	o := c.options(opts)
	data, err := c.Get(ctx, o.prefix(BucketKeyPrefix)+id, opts...)
	if err != nil {
		return Bucket{}, err
	}
	var b bucketJSON
	if err := json.Unmarshal(data, &b); err != nil {
		return Bucket{}, fmt.Errorf("compat: bucket %q holds malformed state: %w", id, err)
	}
	return Bucket{Tokens: b.Tokens, LastRefill: time.UnixMilli(b.LastRefillMs)}, nil
}

// SetBucket stores the bucket of id; a ttl above zero lets an idle
// bucket's state expire.
func (c *Client) SetBucket(ctx context.Context, id string, b Bucket, ttl time.Duration, opts ...Option) error {
	o := c.options(opts)
	data, err := json.Marshal(bucketJSON{Tokens: b.Tokens, LastRefillMs: b.LastRefill.UnixMilli()})
	if err != nil {
		return err
	}
	return c.Set(ctx, o.prefix(BucketKeyPrefix)+id, data, ttl, opts...)
}

// DeleteBucket removes the bucket of id and reports whether it existed.
func (c *Client) DeleteBucket(ctx context.Context, id string, opts ...Option) (bool, error) {
	o := c.options(opts)
	return c.Delete(ctx, o.prefix(BucketKeyPrefix)+id, opts...)
}
