// Package compat is a Go client for durastore's general-storage use, built on
// github.com/redis/go-redis/v9. It works against durastore and against any
// Redis 7 server:
//
//   - a storage client (Get, Set with a TTL, Delete, GetMany, SetMany,
//     DeleteMany, List by prefix, Clear), each call taking a namespace option,
//     and typed JSON helpers (GetJSON, SetJSON);
//   - helpers for sessions (SetSession, GetSession, TouchSession,
//     DeleteSession) and for rate-limit state (GetBucket, SetBucket);
//   - a rate limiter (RateLimiter.CheckLimit) making one atomic server call
//     per decision: CL.THROTTLE where the server has it, a GCRA Lua script
//     run with EVALSHA otherwise;
//   - a login service (LoginService: Register, Login, Logout,
//     ValidateSession) with argon2id password hashes and 256-bit session ids.
//
// A namespace is a keyspace. "0" to "15" (or up to the server's databases)
// are Redis's numbered databases and work everywhere; a name of letters,
// digits, '_' and '-' is a durastore extension (SELECT name), and against a
// server without named namespaces a call on one fails with an error that
// matches ErrNamedNamespaceUnsupported.
package compat

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Errors returned by the client.
var (
	// ErrNotFound is returned for a key (or session, bucket) that does not
	// exist or has expired.
	ErrNotFound = errors.New("compat: not found")
	// ErrInvalidNamespace is returned for a namespace that is neither a
	// database number nor a name of 1 to 64 letters, digits, '_' or '-'.
	ErrInvalidNamespace = errors.New("compat: invalid namespace")
	// ErrNamedNamespaceUnsupported is matched (errors.Is) by the error of a
	// call on a named namespace against a server without named namespaces,
	// such as Redis.
	ErrNamedNamespaceUnsupported = errors.New("compat: the server does not support named namespaces")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("compat: client is closed")
)

// NamespaceError is the error of a call whose namespace could not be
// selected on the server.
type NamespaceError struct {
	Namespace string
	Err       error // the server's reply to SELECT
}

func (e *NamespaceError) Error() string {
	if e.Unsupported() {
		return fmt.Sprintf("compat: namespace %q: the server does not support named namespaces (SELECT replied: %v)", e.Namespace, e.Err)
	}
	return fmt.Sprintf("compat: selecting namespace %q: %v", e.Namespace, e.Err)
}

func (e *NamespaceError) Unwrap() error { return e.Err }

// Unsupported reports whether the server refused the name itself, as Redis
// does for any SELECT argument that is not a number.
func (e *NamespaceError) Unsupported() bool {
	var rerr redis.Error
	return errors.As(e.Err, &rerr) && strings.Contains(rerr.Error(), "not an integer")
}

// Is makes errors.Is(err, ErrNamedNamespaceUnsupported) true when the
// server refused the name.
func (e *NamespaceError) Is(target error) bool {
	return target == ErrNamedNamespaceUnsupported && e.Unsupported()
}

// Option adjusts one call (or, given to NewClient, every call).
type Option func(*callOptions)

type callOptions struct {
	namespace string
	keyPrefix *string
}

// Namespace runs a call in namespace ns: a database number ("0", "3") or,
// on durastore, a name ("sessions").
func Namespace(ns string) Option {
	return func(o *callOptions) { o.namespace = ns }
}

// KeyPrefix replaces the key prefix of the session, bucket, rate-limit and
// login helpers (SessionKeyPrefix, BucketKeyPrefix, LimiterKeyPrefix, ...).
// The plain storage calls use keys as given and ignore it.
func KeyPrefix(prefix string) Option {
	return func(o *callOptions) { o.keyPrefix = &prefix }
}

// Client is a storage client. It holds one go-redis client (one connection
// pool) per namespace it has used; it is safe for concurrent use.
type Client struct {
	opt      redis.Options
	defaults callOptions

	mu      sync.Mutex
	clients map[string]*redis.Client
	closed  bool

	capMu sync.Mutex
	caps  map[string]bool
}

// NewClient returns a client for the server opt describes. The default
// namespace is opt.DB, or the one a Namespace option names.
func NewClient(opt *redis.Options, defaults ...Option) *Client {
	c := &Client{
		opt:      *opt,
		clients:  map[string]*redis.Client{},
		caps:     map[string]bool{},
		defaults: callOptions{namespace: strconv.Itoa(opt.DB)},
	}
	for _, o := range defaults {
		o(&c.defaults)
	}
	return c
}

// Close closes every connection pool.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var first error
	for _, rc := range c.clients {
		if err := rc.Close(); err != nil && first == nil {
			first = err
		}
	}
	c.clients = nil
	return first
}

func (c *Client) options(opts []Option) callOptions {
	o := c.defaults
	for _, fn := range opts {
		fn(&o)
	}
	return o
}

// prefix returns the key prefix a helper uses: the KeyPrefix option's, else
// def.
func (o callOptions) prefix(def string) string {
	if o.keyPrefix != nil {
		return *o.keyPrefix
	}
	return def
}

// ParseNamespace checks a namespace and returns its canonical form and,
// for a numbered one, its database number (-1 for a name).
func ParseNamespace(ns string) (string, int, error) {
	if ns == "" || len(ns) > 64 {
		return "", 0, fmt.Errorf("%w %q: want a database number or 1 to 64 letters, digits, '_' or '-'", ErrInvalidNamespace, ns)
	}
	digits := true
	for i := 0; i < len(ns); i++ {
		ch := ns[i]
		switch {
		case ch >= '0' && ch <= '9':
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch == '_', ch == '-':
			digits = false
		default:
			return "", 0, fmt.Errorf("%w %q: want a database number or 1 to 64 letters, digits, '_' or '-'", ErrInvalidNamespace, ns)
		}
	}
	if !digits && (ns[0] == '-' || ns[0] == '+') && len(ns) > 1 && strings.Trim(ns[1:], "0123456789") == "" {
		// A signed number is read as a (bad) database index, as SELECT
		// reads it, never as a name.
		return "", 0, fmt.Errorf("%w %q: database numbers are not negative", ErrInvalidNamespace, ns)
	}
	if digits {
		n, err := strconv.ParseInt(ns, 10, 32)
		if err != nil {
			return "", 0, fmt.Errorf("%w %q: database number out of range", ErrInvalidNamespace, ns)
		}
		return strconv.FormatInt(n, 10), int(n), nil
	}
	return ns, -1, nil
}

// Redis returns the go-redis client of a namespace (the default one unless
// a Namespace option says otherwise), for commands this package does not
// wrap. It stays owned by c: do not close it.
func (c *Client) Redis(opts ...Option) (*redis.Client, error) {
	return c.redisFor(c.options(opts).namespace)
}

func (c *Client) redisFor(ns string) (*redis.Client, error) {
	name, db, err := ParseNamespace(ns)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if rc := c.clients[name]; rc != nil {
		return rc, nil
	}
	o := c.opt
	if db >= 0 {
		o.DB = db
	} else {
		// A named namespace: every new connection selects it before use.
		o.DB = 0
		userHook := c.opt.OnConnect
		o.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
			if err := cn.Do(ctx, "SELECT", name).Err(); err != nil {
				// go-redis hands the caller errors.Unwrap of what
				// OnConnect returns: wrap once more so the caller
				// gets the NamespaceError itself.
				return fmt.Errorf("%w", &NamespaceError{Namespace: name, Err: err})
			}
			if userHook != nil {
				return userHook(ctx, cn)
			}
			return nil
		}
	}
	rc := redis.NewClient(&o)
	c.clients[name] = rc
	return rc, nil
}

func (c *Client) rdb(opts []Option) (*redis.Client, callOptions, error) {
	o := c.options(opts)
	rc, err := c.redisFor(o.namespace)
	return rc, o, err
}

// supports reports whether the server knows a command, asking COMMAND INFO
// once per client and command. If COMMAND INFO itself fails (a network
// error, an ACL that forbids it) the answer is "no", not remembered: the
// caller then takes the path every Redis 7 server has.
func (c *Client) supports(ctx context.Context, command string) bool {
	c.capMu.Lock()
	v, ok := c.caps[command]
	c.capMu.Unlock()
	if ok {
		return v
	}
	rc, err := c.redisFor("0")
	if err != nil {
		return false
	}
	reply, err := rc.Do(ctx, "COMMAND", "INFO", command).Slice()
	if err != nil {
		return false
	}
	known := len(reply) == 1 && reply[0] != nil
	c.capMu.Lock()
	c.caps[command] = known
	c.capMu.Unlock()
	return known
}

// forget drops a cached capability, after the server said otherwise.
func (c *Client) forget(command string) {
	c.capMu.Lock()
	delete(c.caps, command)
	c.capMu.Unlock()
}

// isUnknownCommand reports whether err is the server's reply to a command
// it does not have.
func isUnknownCommand(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "ERR unknown command")
}
