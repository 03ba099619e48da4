package compat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/argon2"
)

// Key prefixes of the login service (KeyPrefix replaces the whole
// "login:" part).
const (
	LoginKeyPrefix = "login:"

	loginUserPart     = "user:"
	loginSessionPart  = "session:"
	loginAccountPart  = "fail:account:"
	loginAddressPart  = "fail:address:"
	sessionIDBytes    = 32 // 256 bits
	sessionIDEncLen   = 43 // base64url without padding
	defaultSessionTTL = 7 * 24 * time.Hour
)

// Errors of the login service.
var (
	// ErrInvalidCredentials is the one error of a failed login, whether the
	// account does not exist or the password is wrong.
	ErrInvalidCredentials = errors.New("compat: invalid username or password")
	// ErrTooManyAttempts is matched (errors.Is) by the *TooManyAttemptsError
	// of a login refused because of earlier failures.
	ErrTooManyAttempts = errors.New("compat: too many login attempts")
	// ErrInvalidSession is returned for a session id that is malformed,
	// unknown, expired or logged out.
	ErrInvalidSession = errors.New("compat: invalid or expired session")
	ErrUserExists     = errors.New("compat: username is taken")
	ErrInvalidUser    = errors.New("compat: invalid username")
	ErrWeakPassword   = errors.New("compat: password too short")
	ErrLongPassword   = errors.New("compat: password too long")
)

// TooManyAttemptsError is a login refused by the failed-login limits.
type TooManyAttemptsError struct {
	// RetryAfter is when the limit that refused it resets.
	RetryAfter time.Duration
}

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("%v: retry after %v", ErrTooManyAttempts, e.RetryAfter.Round(time.Second))
}

func (e *TooManyAttemptsError) Is(target error) bool { return target == ErrTooManyAttempts }

// Argon2Params are argon2id's cost parameters. Hashes record their own
// parameters, so changing these affects new hashes only.
type Argon2Params struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
	KeyLen    uint32 // bytes of the hash
	SaltLen   uint32 // bytes of the random salt
}

// DefaultArgon2 is OWASP's recommended argon2id setting: 19 MiB, 2 passes,
// 1 thread.
var DefaultArgon2 = Argon2Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1, KeyLen: 32, SaltLen: 16}

// LoginConfig configures a LoginService; zero fields take the defaults.
type LoginConfig struct {
	// UserNamespace holds the accounts and the failed-login counters
	// (default "0").
	UserNamespace string
	// SessionNamespace holds the sessions (default "1"; a named namespace
	// such as "sessions" on durastore).
	SessionNamespace string
	// KeyPrefix starts every key of the service (default "login:").
	KeyPrefix string
	// SessionTTL is how long a session lives (default 7 days).
	SessionTTL time.Duration
	// SlidingSessions makes ValidateSession restart a session's TTL.
	SlidingSessions bool
	// MinPasswordLen and MaxPasswordLen bound passwords in bytes
	// (defaults 8 and 1024).
	MinPasswordLen int
	MaxPasswordLen int
	// AccountLimit caps failed logins per account: at most Rate failures
	// in a window of Period, counted from the first; a successful login
	// starts again from zero. Default 5 per 15 minutes.
	AccountLimit Limit
	// AddressLimit caps login attempts per client address, successful ones
	// included (so logging in to one's own account does not reset it).
	// Default 50 per 15 minutes.
	AddressLimit Limit
	// Argon2 are the hashing costs (default DefaultArgon2).
	Argon2 Argon2Params
}

func (cfg LoginConfig) withDefaults() LoginConfig {
	if cfg.UserNamespace == "" {
		cfg.UserNamespace = "0"
	}
	if cfg.SessionNamespace == "" {
		cfg.SessionNamespace = "1"
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = LoginKeyPrefix
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = defaultSessionTTL
	}
	if cfg.MinPasswordLen <= 0 {
		cfg.MinPasswordLen = 8
	}
	if cfg.MaxPasswordLen <= 0 {
		cfg.MaxPasswordLen = 1024
	}
	if cfg.AccountLimit.Rate <= 0 || cfg.AccountLimit.Period <= 0 {
		cfg.AccountLimit = Limit{Rate: 5, Period: 15 * time.Minute}
	}
	if cfg.AddressLimit.Rate <= 0 || cfg.AddressLimit.Period <= 0 {
		cfg.AddressLimit = Limit{Rate: 50, Period: 15 * time.Minute}
	}
	if cfg.Argon2 == (Argon2Params{}) {
		cfg.Argon2 = DefaultArgon2
	}
	return cfg
}

// Session is a logged-in session.
type Session struct {
	ID        string // 256 random bits, base64url: give it to the client
	Username  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LoginService registers accounts, logs them in and keeps their sessions.
//
// Passwords are hashed with argon2id. A login of an unknown account hashes
// the password against a dummy hash, so it takes as long as a wrong
// password and fails with the same ErrInvalidCredentials. Session ids are
// 256 random bits; the server stores only their SHA-256, so its data does
// not hold usable ids.
type LoginService struct {
	c     *Client
	cfg   LoginConfig
	dummy string // hash of a random password, for unknown accounts
}

// NewLoginService returns a login service storing its data through c.
func NewLoginService(c *Client, cfg LoginConfig) (*LoginService, error) {
	cfg = cfg.withDefaults()
	for _, ns := range []string{cfg.UserNamespace, cfg.SessionNamespace} {
		if _, _, err := ParseNamespace(ns); err != nil {
			return nil, err
		}
	}
	if cfg.MinPasswordLen > cfg.MaxPasswordLen {
		return nil, fmt.Errorf("compat: MinPasswordLen %d above MaxPasswordLen %d", cfg.MinPasswordLen, cfg.MaxPasswordLen)
	}
	p := cfg.Argon2
	if p.Time == 0 || p.MemoryKiB < 8*uint32(p.Threads) || p.Threads == 0 || p.KeyLen < 16 || p.SaltLen < 8 {
		return nil, fmt.Errorf("compat: invalid argon2 parameters %+v", p)
	}
	var pw [32]byte
	rand.Read(pw[:])
	dummy, err := hashPassword(pw[:], p)
	if err != nil {
		return nil, err
	}
	return &LoginService{c: c, cfg: cfg, dummy: dummy}, nil
}

type userRecord struct {
	Username  string `json:"username"`
	Hash      string `json:"hash"`
	CreatedMs int64  `json:"createdMs"`
}

type sessionRecord struct {
	Username  string `json:"username"`
	CreatedMs int64  `json:"createdMs"`
	ExpiresMs int64  `json:"expiresMs"`
}

func (s *LoginService) users() Option    { return Namespace(s.cfg.UserNamespace) }
func (s *LoginService) sessions() Option { return Namespace(s.cfg.SessionNamespace) }

func (s *LoginService) userKey(username string) string {
	return s.cfg.KeyPrefix + loginUserPart + username
}

// sessionKeyPrefix is the session helpers' prefix; the id part of the key
// is the hex SHA-256 of the session id.
func (s *LoginService) sessionKeyPrefix() string { return s.cfg.KeyPrefix + loginSessionPart }

func sessionDigest(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// checkUsername allows 1 to 256 bytes of UTF-8 text without control
// characters. Names are case-sensitive and used as given.
func checkUsername(u string) error {
	if u == "" || len(u) > 256 || !utf8.ValidString(u) {
		return fmt.Errorf("%w: want 1 to 256 bytes of UTF-8 text", ErrInvalidUser)
	}
	for _, r := range u {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: control characters are not allowed", ErrInvalidUser)
		}
	}
	return nil
}

// Register creates an account. It fails with ErrUserExists if the name is
// taken (registration necessarily tells that), ErrInvalidUser,
// ErrWeakPassword or ErrLongPassword.
func (s *LoginService) Register(ctx context.Context, username, password string) error {
	if err := checkUsername(username); err != nil {
		return err
	}
	if len(password) < s.cfg.MinPasswordLen {
		return fmt.Errorf("%w: at least %d bytes", ErrWeakPassword, s.cfg.MinPasswordLen)
	}
	if len(password) > s.cfg.MaxPasswordLen {
		return fmt.Errorf("%w: at most %d bytes", ErrLongPassword, s.cfg.MaxPasswordLen)
	}
	hash, err := hashPassword([]byte(password), s.cfg.Argon2)
	if err != nil {
		return err
	}
	rec, err := json.Marshal(userRecord{Username: username, Hash: hash, CreatedMs: time.Now().UnixMilli()})
	if err != nil {
		return err
	}
	rc, err := s.c.Redis(s.users())
	if err != nil {
		return err
	}
	ok, err := rc.SetNX(ctx, s.userKey(username), rec, 0).Result()
	if err != nil {
		return err
	}
	if !ok {
		return ErrUserExists
	}
	return nil
}

// Login checks a username and password and opens a session. clientAddr
// is the client's address (an IP, say), for the per-address limit; ""
// skips that limit. Failures are ErrInvalidCredentials (unknown account or
// wrong password alike) or a *TooManyAttemptsError.
func (s *LoginService) Login(ctx context.Context, username, password, clientAddr string) (Session, error) {
	rc, err := s.c.Redis(s.users())
	if err != nil {
		return Session{}, err
	}
	// Count the attempt first, so concurrent guesses cannot overrun the
	// limits. An unknown or malformed name is counted like any other.
	accountKey := s.cfg.KeyPrefix + loginAccountPart + sessionDigest(username)
	if err := s.countAttempt(ctx, rc, accountKey, s.cfg.AccountLimit); err != nil {
		return Session{}, err
	}
	if clientAddr != "" {
		addressKey := s.cfg.KeyPrefix + loginAddressPart + clientAddr
		if err := s.countAttempt(ctx, rc, addressKey, s.cfg.AddressLimit); err != nil {
			return Session{}, err
		}
	}

	hash := s.dummy
	known := false
	if checkUsername(username) == nil && len(password) <= s.cfg.MaxPasswordLen {
		data, err := rc.Get(ctx, s.userKey(username)).Bytes()
		switch {
		case err == nil:
			var rec userRecord
			if json.Unmarshal(data, &rec) == nil && rec.Username == username {
				hash, known = rec.Hash, true
			}
		case !errors.Is(err, redis.Nil):
			return Session{}, err
		}
	}
	// Always one argon2id computation: an unknown account costs as much
	// time as a wrong password.
	match := passwordCheck([]byte(password), hash)
	if !known || !match {
		return Session{}, ErrInvalidCredentials
	}
	if err := rc.Del(ctx, accountKey).Err(); err != nil {
		return Session{}, err
	}
	return s.openSession(ctx, username)
}

// countAttempt adds one to a fixed-window counter and refuses the attempt
// once the window holds more than limit.Rate. The counter's expiry is set
// by whichever attempt sees it missing, so a crash between INCR and
// PEXPIRE cannot leave a counter that never expires.
func (s *LoginService) countAttempt(ctx context.Context, rc *redis.Client, key string, limit Limit) error {
	var incr *redis.IntCmd
	var pttl *redis.DurationCmd
	_, err := rc.Pipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, key)
		pttl = p.PTTL(ctx, key)
		return nil
	})
	if err != nil {
		return err
	}
	left := pttl.Val()
	if left < 0 { // no expiry yet (-1), or raced with expiry (-2)
		if err := rc.PExpire(ctx, key, ceilMs(limit.Period)).Err(); err != nil {
			return err
		}
		left = limit.Period
	}
	if incr.Val() > int64(limit.Rate) {
		return &TooManyAttemptsError{RetryAfter: left}
	}
	return nil
}

func (s *LoginService) openSession(ctx context.Context, username string) (Session, error) {
	var raw [sessionIDBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Session{}, err
	}
	now := time.Now()
	sess := Session{
		ID:        base64.RawURLEncoding.EncodeToString(raw[:]),
		Username:  username,
		CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.SessionTTL),
	}
	data, err := json.Marshal(sessionRecord{Username: username, CreatedMs: now.UnixMilli(), ExpiresMs: sess.ExpiresAt.UnixMilli()})
	if err != nil {
		return Session{}, err
	}
	err = s.c.SetSession(ctx, sessionDigest(sess.ID), data, s.cfg.SessionTTL, s.sessions(), KeyPrefix(s.sessionKeyPrefix()))
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

// validSessionID reports whether id has the form of an id Login returns.
func validSessionID(id string) bool {
	if len(id) != sessionIDEncLen {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(id)
	return err == nil
}

// ValidateSession returns the session of id, ErrInvalidSession if it is not
// a live session. With SlidingSessions its TTL starts again.
func (s *LoginService) ValidateSession(ctx context.Context, id string) (Session, error) {
	if !validSessionID(id) {
		return Session{}, ErrInvalidSession
	}
	opts := []Option{s.sessions(), KeyPrefix(s.sessionKeyPrefix())}
	digest := sessionDigest(id)
	data, err := s.c.GetSession(ctx, digest, opts...)
	if errors.Is(err, ErrNotFound) {
		return Session{}, ErrInvalidSession
	}
	if err != nil {
		return Session{}, err
	}
	var rec sessionRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return Session{}, ErrInvalidSession
	}
	sess := Session{ID: id, Username: rec.Username, CreatedAt: time.UnixMilli(rec.CreatedMs), ExpiresAt: time.UnixMilli(rec.ExpiresMs)}
	if s.cfg.SlidingSessions {
		// The stored expiry is left as written at login; the reply says
		// the new one.
		err := s.c.TouchSession(ctx, digest, s.cfg.SessionTTL, opts...)
		if errors.Is(err, ErrNotFound) {
			return Session{}, ErrInvalidSession
		}
		if err != nil {
			return Session{}, err
		}
		sess.ExpiresAt = time.Now().Add(s.cfg.SessionTTL)
	}
	return sess, nil
}

// Logout ends a session. Ending one that does not exist is not an error.
func (s *LoginService) Logout(ctx context.Context, id string) error {
	if !validSessionID(id) {
		return nil
	}
	_, err := s.c.DeleteSession(ctx, sessionDigest(id), s.sessions(), KeyPrefix(s.sessionKeyPrefix()))
	return err
}

// ---------------------------------------------------------------------------
// argon2id in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).

func hashPassword(password []byte, p Argon2Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey(password, salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// passwordCheck is verifyPassword; tests count its calls.
var passwordCheck = verifyPassword

// verifyPassword compares in constant time. A hash it cannot read fails.
func verifyPassword(password []byte, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || t == 0 || p == 0 || m > 4<<20 || t > 64 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey(password, salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
