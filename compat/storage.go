package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Entry is one key of SetMany.
type Entry struct {
	Key   string
	Value []byte
	// TTL is how long the key lives; 0 means no expiry.
	TTL time.Duration
}

// ErrInvalidTTL is returned for a negative TTL.
var ErrInvalidTTL = errors.New("compat: TTL must not be negative")

func checkTTL(ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("%w: %v", ErrInvalidTTL, ttl)
	}
	return nil
}

// Get returns the value of key, ErrNotFound if there is none.
func (c *Client) Get(ctx context.Context, key string, opts ...Option) ([]byte, error) {
	rc, _, err := c.rdb(opts)
	if err != nil {
		return nil, err
	}
	v, err := rc.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	return v, err
}

// Set stores value under key. A ttl above zero makes the key expire after
// it (millisecond precision); 0 stores it without expiry, replacing any
// expiry it had.
func (c *Client) Set(ctx context.Context, key string, value []byte, ttl time.Duration, opts ...Option) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	rc, _, err := c.rdb(opts)
	if err != nil {
		return err
	}
	return rc.Do(ctx, setArgs(key, value, ttl)...).Err()
}

// setArgs is SET key value [PX ms]; a TTL below a millisecond rounds up
// to one.
func setArgs(key string, value []byte, ttl time.Duration) []any {
	if ttl == 0 {
		return []any{"SET", key, value}
	}
	ms := ttl.Milliseconds()
	if ttl%time.Millisecond != 0 {
		ms++
	}
	return []any{"SET", key, value, "PX", ms}
}

// Delete removes key and reports whether it existed.
func (c *Client) Delete(ctx context.Context, key string, opts ...Option) (bool, error) {
	rc, _, err := c.rdb(opts)
	if err != nil {
		return false, err
	}
	n, err := rc.Del(ctx, key).Result()
	return n > 0, err
}

// GetMany returns the values of the keys that exist, read in one MGET (one
// consistent snapshot). Missing keys are absent from the map.
func (c *Client) GetMany(ctx context.Context, keys []string, opts ...Option) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rc, _, err := c.rdb(opts)
	if err != nil {
		return nil, err
	}
	vals, err := rc.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if i >= len(keys) {
			break
		}
		switch v := v.(type) {
		case string:
			out[keys[i]] = []byte(v)
		case []byte:
			out[keys[i]] = v
		}
	}
	return out, nil
}

// SetMany stores every entry. Without TTLs it is one MSET; with them it is
// a MULTI/EXEC transaction where the server has MULTI, else a pipeline
// (then each SET is atomic but the batch is not).
func (c *Client) SetMany(ctx context.Context, entries []Entry, opts ...Option) error {
	if len(entries) == 0 {
		return nil
	}
	withTTL := false
	for _, e := range entries {
		if err := checkTTL(e.TTL); err != nil {
			return fmt.Errorf("key %q: %w", e.Key, err)
		}
		withTTL = withTTL || e.TTL > 0
	}
	rc, _, err := c.rdb(opts)
	if err != nil {
		return err
	}
	if !withTTL {
		args := make([]any, 0, 1+2*len(entries))
		args = append(args, "MSET")
		for _, e := range entries {
			args = append(args, e.Key, e.Value)
		}
		return rc.Do(ctx, args...).Err()
	}
	multi := c.supports(ctx, "multi")
	fill := func(p redis.Pipeliner) error {
		for _, e := range entries {
			p.Do(ctx, setArgs(e.Key, e.Value, e.TTL)...)
		}
		return nil
	}
	var cmds []redis.Cmder
	if multi {
		cmds, err = rc.TxPipelined(ctx, fill)
	} else {
		cmds, err = rc.Pipelined(ctx, fill)
	}
	if err != nil {
		return err
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return err
		}
	}
	return nil
}

// DeleteMany removes the keys in one DEL and returns how many existed.
func (c *Client) DeleteMany(ctx context.Context, keys []string, opts ...Option) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	rc, _, err := c.rdb(opts)
	if err != nil {
		return 0, err
	}
	return rc.Del(ctx, keys...).Result()
}

// ListPage is one SCAN step over the keys that start with prefix: it
// returns some keys and the cursor of the next step, 0 when the scan is
// done. Start with cursor 0. count is a hint of how many keys to look at.
// As with SCAN, a key may come back more than once.
func (c *Client) ListPage(ctx context.Context, prefix string, cursor uint64, count int64, opts ...Option) ([]string, uint64, error) {
	rc, _, err := c.rdb(opts)
	if err != nil {
		return nil, 0, err
	}
	return rc.Scan(ctx, cursor, EscapeGlob(prefix)+"*", count).Result()
}

// List returns every key that starts with prefix, sorted, each once. It
// walks the namespace with SCAN, so it sees every key present for the
// whole call; use ListPage to walk a large namespace in steps.
func (c *Client) List(ctx context.Context, prefix string, opts ...Option) ([]string, error) {
	seen := map[string]bool{}
	var cursor uint64
	for {
		keys, next, err := c.ListPage(ctx, prefix, cursor, 1000, opts...)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			seen[k] = true
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// Clear removes every key of the namespace (FLUSHDB).
func (c *Client) Clear(ctx context.Context, opts ...Option) error {
	rc, _, err := c.rdb(opts)
	if err != nil {
		return err
	}
	return rc.FlushDB(ctx).Err()
}

// EscapeGlob escapes the characters SCAN MATCH and KEYS treat as pattern
// syntax (* ? [ ] \), so the result matches s literally.
func EscapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// GetJSON reads key and decodes its JSON value into a T.
func GetJSON[T any](ctx context.Context, c *Client, key string, opts ...Option) (T, error) {
	var v T
	data, err := c.Get(ctx, key, opts...)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("compat: decoding the JSON value of %q: %w", key, err)
	}
	return v, nil
}

// SetJSON stores value under key as JSON, the form the HTTP API reads and
// writes.
func SetJSON[T any](ctx context.Context, c *Client, key string, value T, ttl time.Duration, opts ...Option) error {
	data, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("compat: encoding the value of %q as JSON: %w", key, err)
	}
	return c.Set(ctx, key, data, ttl, opts...)
}

// GetManyJSON reads the keys that exist and decodes each JSON value into a
// T. A value that is not valid JSON for T fails the call.
func GetManyJSON[T any](ctx context.Context, c *Client, keys []string, opts ...Option) (map[string]T, error) {
	raw, err := c.GetMany(ctx, keys, opts...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(raw))
	for k, data := range raw {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("compat: decoding the JSON value of %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}
