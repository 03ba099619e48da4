package server

// Server configuration: a redis-server style parameter table.
//
// Every parameter is one row of configParams. A row knows how to format its
// value the way CONFIG GET does, how to parse and validate a new value (from
// the config file, from a --flag, or from CONFIG SET) and how to write itself
// back into redis.conf on CONFIG REWRITE. The wording of the CONFIG SET errors
// follows Redis 7 (src/config.c); start-up errors are one line that names the
// option and the value.
//
// Config is a plain value and does no locking: the server must serialise
// SetRuntime/Rewrite against readers itself.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Config is the server configuration.
type Config struct {
	Port                     int      // port (6379)
	Bind                     []string // bind (127.0.0.1); empty means every interface
	Dir                      string   // dir (./data)
	AppendOnly               bool     // appendonly (yes)
	AppendFsync              string   // appendfsync: always, everysec or no
	Databases                int      // databases (16)
	MaxNamespaces            int      // max-namespaces (1024), never below Databases
	MaxClients               int      // maxclients (10000)
	Timeout                  int      // timeout in seconds, 0 = never
	LogLevel                 string   // loglevel: debug, verbose, notice, warning, nothing
	LogFile                  string   // logfile, "" = stderr
	RequirePass              string   // requirepass
	ProtoMaxBulkLen          int64    // proto-max-bulk-len in bytes (512mb)
	ClientQueryBufferLimit   int64    // client-query-buffer-limit in bytes (1gb)
	HTTPPort                 int      // http-port (8080), 0 disables the HTTP listener
	HTTPBind                 string   // http-bind (127.0.0.1)
	HTTPToken                string   // http-token
	Hz                       int      // hz (10), kept within 1..500 like Redis
	ConfigFile               string   // absolute path of the loaded config file; not a parameter
	AutoAOFRewritePercentage int      // auto-aof-rewrite-percentage (100)
	AutoAOFRewriteMinSize    int64    // auto-aof-rewrite-min-size in bytes (64mb)
	MaxMemory                int64    // maxmemory in bytes, 0 = no limit
	MaxMemoryPolicy          string   // maxmemory-policy (noeviction)
	MaxMemorySamples         int      // maxmemory-samples (5)
	MaxMemoryTenacity        int      // maxmemory-eviction-tenacity (10)
	LFULogFactor             int      // lfu-log-factor (10)
	LFUDecayTime             int      // lfu-decay-time in minutes (1)
	LuaTimeLimit             int64    // busy-reply-threshold, alias lua-time-limit, in ms (5000)
	Save                     string   // save, normalised "<seconds> <changes> ..." or ""
	AOFLoadTruncated         bool     // aof-load-truncated (yes): load a file cut mid-record up to its last whole record
	AOFLoadDamaged           string   // aof-load-damaged (refuse): "truncate" cuts a damaged file at the damage
	ProtectedMode            bool     // protected-mode (yes): without a password only loopback clients are served
	TLSPort                  int      // tls-port (0 = no TLS listener)
	TLSCertFile              string   // tls-cert-file
	TLSKeyFile               string   // tls-key-file
	TLSCACertFile            string   // tls-ca-cert-file: CA for client certificates
	TLSAuthClients           string   // tls-auth-clients: yes, no or optional (yes)
	SlowlogLogSlowerThan     int64    // slowlog-log-slower-than in microseconds (10000; negative disables)
	SlowlogMaxLen            int      // slowlog-max-len (128)
	HTTPMaxBody              int64    // http-max-body: largest HTTP request body (1mb)
	HTTPMaxBatch             int      // http-max-batch: keys or entries per batch request (1000)
	HTTPMaxKeyLen            int      // http-max-key-len: longest key or list prefix over HTTP (1024)
	IOThreads                int      // io-threads (1): event loops serving plain TCP clients (loop.go)
}

// DefaultConfig returns the configuration used when nothing is given.
func DefaultConfig() Config {
	return Config{
		Port:                     6379,
		Bind:                     []string{"127.0.0.1"},
		Dir:                      "./data",
		AppendOnly:               true,
		AppendFsync:              "everysec",
		Databases:                16,
		MaxNamespaces:            1024,
		MaxClients:               10000,
		Timeout:                  0,
		LogLevel:                 "notice",
		LogFile:                  "",
		RequirePass:              "",
		ProtoMaxBulkLen:          512 << 20,
		ClientQueryBufferLimit:   1 << 30,
		HTTPPort:                 8080,
		HTTPBind:                 "127.0.0.1",
		HTTPToken:                "",
		Hz:                       10,
		AutoAOFRewritePercentage: 100,
		AutoAOFRewriteMinSize:    64 << 20,
		MaxMemory:                0,
		MaxMemoryPolicy:          "noeviction",
		MaxMemorySamples:         5,
		MaxMemoryTenacity:        10,
		LFULogFactor:             10,
		LFUDecayTime:             1,
		LuaTimeLimit:             5000,
		Save:                     "",
		AOFLoadTruncated:         true,
		AOFLoadDamaged:           "refuse",
		ProtectedMode:            true,
		TLSAuthClients:           "yes",
		SlowlogLogSlowerThan:     10000,
		SlowlogMaxLen:            128,
		HTTPMaxBody:              1 << 20,
		HTTPMaxBatch:             1000,
		HTTPMaxKeyLen:            1024,
		IOThreads:                1,
	}
}

// Param is one row of the parameter table.
type Param struct {
	Name      string   // canonical, lower-case name
	Aliases   []string // other accepted names (CONFIG GET lists them too)
	Mutable   bool     // may be changed by CONFIG SET at run time
	MultiArg  bool     // takes a list of words (bind, save)
	Sensitive bool     // value is a secret (redact it in logs)

	get func(*Config) string
	// set parses and stores a value. args holds exactly one word unless
	// MultiArg is set. It returns a *cfgValueError on a bad value.
	set func(*Config, []string) error
	// file returns the argument part of each line CONFIG REWRITE writes;
	// nil means one line holding get().
	file func(*Config) []string
}

// cfgValueError is a rejected value: reason is Redis's CONFIG SET wording,
// hint the wording of start-up errors.
type cfgValueError struct {
	reason string
	hint   string
}

func (e *cfgValueError) Error() string { return e.reason }

const cfgRewriteSignature = "# Generated by CONFIG REWRITE"

var configParams = []Param{
	cfgEnumParam("aof-load-damaged", true, []string{"refuse", "truncate"},
		func(c *Config) *string { return &c.AOFLoadDamaged }),
	cfgBoolParam("aof-load-truncated", true, func(c *Config) *bool { return &c.AOFLoadTruncated }),
	cfgEnumParam("appendfsync", true, []string{"everysec", "always", "no"},
		func(c *Config) *string { return &c.AppendFsync }),
	cfgBoolParam("appendonly", false, func(c *Config) *bool { return &c.AppendOnly }),
	cfgMemoryParam("auto-aof-rewrite-min-size", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.AutoAOFRewriteMinSize }),
	cfgIntParam("auto-aof-rewrite-percentage", true, 0, math.MaxInt32,
		func(c *Config) *int { return &c.AutoAOFRewritePercentage }),
	cfgBindParam(),
	cfgWithAliases(cfgIntParam("busy-reply-threshold", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.LuaTimeLimit }), "lua-time-limit"),
	cfgMemoryParam("client-query-buffer-limit", true, 1<<20, math.MaxInt64,
		func(c *Config) *int64 { return &c.ClientQueryBufferLimit }),
	cfgIntParam("databases", false, 1, math.MaxInt32,
		func(c *Config) *int { return &c.Databases }),
	cfgStringParam("dir", false, false, cfgNotEmpty("dir"),
		func(c *Config) *string { return &c.Dir }),
	cfgStringParam("http-bind", false, false, nil,
		func(c *Config) *string { return &c.HTTPBind }),
	cfgIntParam("http-max-batch", false, 1, math.MaxInt32,
		func(c *Config) *int { return &c.HTTPMaxBatch }),
	cfgMemoryParam("http-max-body", false, 1024, math.MaxInt64,
		func(c *Config) *int64 { return &c.HTTPMaxBody }),
	cfgIntParam("http-max-key-len", false, 1, math.MaxInt32,
		func(c *Config) *int { return &c.HTTPMaxKeyLen }),
	cfgIntParam("http-port", false, 0, 65535,
		func(c *Config) *int { return &c.HTTPPort }),
	cfgStringParam("http-token", true, true, nil,
		func(c *Config) *string { return &c.HTTPToken }),
	cfgHzParam(),
	cfgIntParam("io-threads", false, 1, 128, func(c *Config) *int { return &c.IOThreads }),
	cfgIntParam("lfu-decay-time", true, 0, math.MaxInt32,
		func(c *Config) *int { return &c.LFUDecayTime }),
	cfgIntParam("lfu-log-factor", true, 0, math.MaxInt32,
		func(c *Config) *int { return &c.LFULogFactor }),
	cfgStringParam("logfile", false, false, nil,
		func(c *Config) *string { return &c.LogFile }),
	cfgEnumParam("loglevel", true, []string{"debug", "verbose", "notice", "warning", "nothing"},
		func(c *Config) *string { return &c.LogLevel }),
	cfgIntParam("max-namespaces", false, 1, math.MaxInt32,
		func(c *Config) *int { return &c.MaxNamespaces }),
	cfgIntParam("maxclients", true, 1, math.MaxInt32,
		func(c *Config) *int { return &c.MaxClients }),
	cfgMemoryParam("maxmemory", true, 0, math.MaxInt64,
		func(c *Config) *int64 { return &c.MaxMemory }),
	cfgIntParam("maxmemory-eviction-tenacity", true, 0, 100,
		func(c *Config) *int { return &c.MaxMemoryTenacity }),
	cfgEnumParam("maxmemory-policy", true, []string{
		"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
		"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction",
	}, func(c *Config) *string { return &c.MaxMemoryPolicy }),
	cfgIntParam("maxmemory-samples", true, 1, math.MaxInt32,
		func(c *Config) *int { return &c.MaxMemorySamples }),
	cfgIntParam("port", false, 0, 65535, func(c *Config) *int { return &c.Port }),
	cfgBoolParam("protected-mode", true, func(c *Config) *bool { return &c.ProtectedMode }),
	cfgMemoryParam("proto-max-bulk-len", true, 1<<20, math.MaxInt64,
		func(c *Config) *int64 { return &c.ProtoMaxBulkLen }),
	cfgStringParam("requirepass", true, true, nil,
		func(c *Config) *string { return &c.RequirePass }),
	cfgSaveParam(),
	cfgIntParam("slowlog-log-slower-than", true, math.MinInt64, math.MaxInt64,
		func(c *Config) *int64 { return &c.SlowlogLogSlowerThan }),
	cfgIntParam("slowlog-max-len", true, 0, math.MaxInt32,
		func(c *Config) *int { return &c.SlowlogMaxLen }),
	cfgIntParam("timeout", true, 0, math.MaxInt32, func(c *Config) *int { return &c.Timeout }),
	cfgEnumParam("tls-auth-clients", false, []string{"yes", "no", "optional"},
		func(c *Config) *string { return &c.TLSAuthClients }),
	cfgStringParam("tls-ca-cert-file", false, false, nil,
		func(c *Config) *string { return &c.TLSCACertFile }),
	cfgStringParam("tls-cert-file", false, false, nil,
		func(c *Config) *string { return &c.TLSCertFile }),
	cfgStringParam("tls-key-file", false, false, nil,
		func(c *Config) *string { return &c.TLSKeyFile }),
	cfgIntParam("tls-port", false, 0, 65535, func(c *Config) *int { return &c.TLSPort }),
}

// configIndex maps every lower-case name and alias to its row.
var configIndex = cfgBuildIndex()

func cfgBuildIndex() map[string]*Param {
	m := make(map[string]*Param, len(configParams)*2)
	for i := range configParams {
		p := &configParams[i]
		m[p.Name] = p
		for _, a := range p.Aliases {
			m[a] = p
		}
	}
	return m
}

func cfgLookup(name string) *Param { return configIndex[strings.ToLower(name)] }

// Params returns a copy of the parameter table sorted by name.
func Params() []Param {
	out := append([]Param(nil), configParams...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupParam finds a parameter by name or alias, case-insensitively.
func LookupParam(name string) (Param, bool) {
	if p := cfgLookup(name); p != nil {
		return *p, true
	}
	return Param{}, false
}

// ---------------------------------------------------------------------------
// Row constructors.

func cfgWithAliases(p Param, aliases ...string) Param {
	p.Aliases = aliases
	return p
}

func cfgBoolParam(name string, mutable bool, field func(*Config) *bool) Param {
	return Param{
		Name:    name,
		Mutable: mutable,
		get: func(c *Config) string {
			if *field(c) {
				return "yes"
			}
			return "no"
		},
		set: func(c *Config, args []string) error {
			switch strings.ToLower(args[0]) {
			case "yes":
				*field(c) = true
			case "no":
				*field(c) = false
			default:
				return &cfgValueError{"argument must be 'yes' or 'no'", "must be yes or no"}
			}
			return nil
		},
	}
}

func cfgRangeError(lo, hi int64) error {
	return &cfgValueError{
		reason: fmt.Sprintf("argument must be between %d and %d inclusive", lo, hi),
		hint:   fmt.Sprintf("must be between %d and %d", lo, hi),
	}
}

func cfgIntParam[T int | int64](name string, mutable bool, lo, hi int64, field func(*Config) *T) Param {
	return Param{
		Name:    name,
		Mutable: mutable,
		get:     func(c *Config) string { return strconv.FormatInt(int64(*field(c)), 10) },
		set: func(c *Config, args []string) error {
			v, ok := cfgString2ll(args[0])
			if !ok {
				return &cfgValueError{"argument couldn't be parsed into an integer", "must be an integer"}
			}
			if v < lo || v > hi {
				return cfgRangeError(lo, hi)
			}
			*field(c) = T(v)
			return nil
		},
	}
}

func cfgMemoryParam(name string, mutable bool, lo, hi int64, field func(*Config) *int64) Param {
	return Param{
		Name:    name,
		Mutable: mutable,
		get:     func(c *Config) string { return strconv.FormatInt(*field(c), 10) },
		set: func(c *Config, args []string) error {
			v, ok := cfgMemToULL(args[0])
			if !ok {
				return &cfgValueError{"argument must be a memory value",
					"must be a memory value: a number of bytes, optionally with unit b, k, kb, m, mb, g or gb"}
			}
			if v < uint64(lo) || v > uint64(hi) {
				return cfgRangeError(lo, hi)
			}
			*field(c) = int64(v)
			return nil
		},
		file: func(c *Config) []string { return []string{cfgFormatMemory(*field(c))} },
	}
}

func cfgEnumParam(name string, mutable bool, values []string, field func(*Config) *string) Param {
	sorted := append([]string(nil), values...)
	sort.Strings(sorted)
	hint := "must be " + strings.Join(sorted[:len(sorted)-1], ", ") + " or " + sorted[len(sorted)-1]
	reason := "argument(s) must be one of the following: " + strings.Join(values, ", ")
	return Param{
		Name:    name,
		Mutable: mutable,
		get:     func(c *Config) string { return *field(c) },
		set: func(c *Config, args []string) error {
			for _, v := range values {
				if strings.EqualFold(v, args[0]) {
					*field(c) = v
					return nil
				}
			}
			return &cfgValueError{reason, hint}
		},
	}
}

func cfgNotEmpty(name string) func(string) error {
	return func(v string) error {
		if v == "" {
			return &cfgValueError{name + " can't be empty", "must not be empty"}
		}
		return nil
	}
}

func cfgStringParam(name string, mutable, sensitive bool, check func(string) error, field func(*Config) *string) Param {
	return Param{
		Name:      name,
		Mutable:   mutable,
		Sensitive: sensitive,
		get:       func(c *Config) string { return *field(c) },
		set: func(c *Config, args []string) error {
			if check != nil {
				if err := check(args[0]); err != nil {
					return err
				}
			}
			*field(c) = args[0]
			return nil
		},
		file: func(c *Config) []string { return []string{cfgRepr(*field(c))} },
	}
}

// cfgMaxBind is Redis's CONFIG_BINDADDR_MAX.
const cfgMaxBind = 16

func cfgBindParam() Param {
	return Param{
		Name:     "bind",
		MultiArg: true,
		get:      func(c *Config) string { return strings.Join(c.Bind, " ") },
		set: func(c *Config, args []string) error {
			if len(args) > cfgMaxBind {
				return &cfgValueError{"Too many bind addresses specified.",
					fmt.Sprintf("at most %d addresses are allowed", cfgMaxBind)}
			}
			c.Bind = append([]string(nil), args...)
			return nil
		},
		file: func(c *Config) []string {
			if len(c.Bind) == 0 {
				return []string{`""`}
			}
			words := make([]string, len(c.Bind))
			for i, a := range c.Bind {
				words[i] = cfgQuoteIfNeeded(a)
			}
			return []string{strings.Join(words, " ")}
		},
	}
}

func cfgSaveParam() Param {
	return Param{
		Name:     "save",
		Mutable:  true,
		MultiArg: true,
		get:      func(c *Config) string { return c.Save },
		set: func(c *Config, args []string) error {
			bad := &cfgValueError{"Invalid save parameters",
				`must be "" or pairs of <seconds> <changes> with seconds >= 1 and changes >= 0`}
			if len(args)%2 != 0 {
				return bad
			}
			words := make([]string, len(args))
			for i, a := range args {
				v, err := strconv.ParseInt(a, 10, 64)
				if err != nil || (i%2 == 0 && v < 1) || (i%2 == 1 && v < 0) {
					return bad
				}
				words[i] = strconv.FormatInt(v, 10)
			}
			c.Save = strings.Join(words, " ")
			return nil
		},
		file: func(c *Config) []string {
			words := strings.Fields(c.Save)
			if len(words) == 0 {
				return []string{`""`}
			}
			var lines []string
			for i := 0; i+1 < len(words); i += 2 {
				lines = append(lines, words[i]+" "+words[i+1])
			}
			return lines
		},
	}
}

// cfgHzParam accepts any non-negative integer and, like Redis, keeps the
// stored value within 1..500.
func cfgHzParam() Param {
	p := cfgIntParam("hz", true, 0, math.MaxInt32, func(c *Config) *int { return &c.Hz })
	parse := p.set
	p.set = func(c *Config, args []string) error {
		if err := parse(c, args); err != nil {
			return err
		}
		c.Hz = min(max(c.Hz, 1), 500)
		return nil
	}
	return p
}

// apply checks the number of words and stores the value.
func (p *Param) apply(c *Config, args []string) error {
	if !p.MultiArg && len(args) != 1 {
		return &cfgValueError{"wrong number of arguments",
			fmt.Sprintf("takes exactly one value, got %d", len(args))}
	}
	return p.set(c, args)
}

// fileLines returns the complete lines CONFIG REWRITE writes for p.
func (p *Param) fileLines(c *Config) []string {
	var args []string
	if p.file != nil {
		args = p.file(c)
	} else {
		args = []string{p.get(c)}
	}
	lines := make([]string, len(args))
	for i, a := range args {
		lines[i] = p.Name + " " + a
	}
	return lines
}

// wordsOf splits a CONFIG SET / Set value into the words p.set expects.
func (p *Param) wordsOf(value string) []string {
	if p.MultiArg {
		return strings.Fields(value)
	}
	return []string{value}
}

// ---------------------------------------------------------------------------
// Start-up: config file and command line.

// cfgEscape keeps user text on one line inside error messages.
func cfgEscape(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func cfgInvalid(name, value string, err error) error {
	hint := err.Error()
	var ve *cfgValueError
	if errors.As(err, &ve) {
		hint = ve.hint
	}
	return fmt.Errorf("invalid value for '%s': %q (%s)", cfgEscape(name), value, hint)
}

func cfgUnknown(name string) error {
	return fmt.Errorf("unknown option '%s'", cfgEscape(name))
}

// ParseArgs builds a configuration from redis-server style arguments: an
// optional config file path first, then --name value... flags, which win
// over the file. A flag takes every following word up to the next "--".
// --help and --version are the caller's business.
func ParseArgs(args []string) (Config, error) {
	c := DefaultConfig()
	i := 0
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		path := args[0]
		if err := c.loadFile(path); err != nil {
			return Config{}, err
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		c.ConfigFile = path
		i = 1
	}
	saveSeen := false
	for i < len(args) {
		arg := args[i]
		if !strings.HasPrefix(arg, "--") {
			return Config{}, fmt.Errorf("unexpected argument %q: options must be given as --name value", arg)
		}
		j := i + 1
		for j < len(args) && !strings.HasPrefix(args[j], "--") {
			j++
		}
		name := strings.ToLower(arg[2:])
		if err := c.applyDirective(name, args[i+1:j], &saveSeen); err != nil {
			return Config{}, err
		}
		i = j
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// loadFile reads a redis.conf style file into c.
func (c *Config) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("can't open config file '%s': %v", cfgEscape(path), err)
	}
	saveSeen := false
	for n, raw := range strings.Split(string(data), "\n") {
		line := strings.Trim(raw, " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		where := fmt.Sprintf("config file '%s', line %d", cfgEscape(path), n+1)
		argv, err := cfgSplitArgs(line)
		if err != nil {
			return fmt.Errorf("%s: unbalanced quotes in %q", where, line)
		}
		if len(argv) == 0 {
			continue
		}
		if err := c.applyDirective(strings.ToLower(argv[0]), argv[1:], &saveSeen); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

// applyDirective applies one "name args..." directive from the file or the
// command line. Within one source, repeated "save" directives add up, as in
// redis.conf.
func (c *Config) applyDirective(name string, args []string, saveSeen *bool) error {
	p := cfgLookup(name)
	if p == nil {
		if name == "include" {
			return fmt.Errorf("option 'include' is not supported: %q", strings.Join(args, " "))
		}
		return cfgUnknown(name)
	}
	shown := strings.Join(args, " ")
	if p.MultiArg {
		// Like Redis: a single non-empty word is itself split into
		// arguments (save "900 1 300 10"); a single empty word means none.
		if len(args) == 1 {
			if args[0] == "" {
				args = nil
			} else {
				split, err := cfgSplitArgs(args[0])
				if err != nil {
					return cfgInvalid(name, shown, &cfgValueError{"", "unbalanced quotes"})
				}
				args = split
			}
		}
		if p.Name == "save" {
			if *saveSeen && len(args) > 0 {
				args = append(strings.Fields(c.Save), args...)
			}
			*saveSeen = true
		}
	}
	if err := p.apply(c, args); err != nil {
		return cfgInvalid(name, shown, err)
	}
	return nil
}

// Validate checks every parameter's value and the rules that join several
// of them (max-namespaces >= databases). ParseArgs calls it.
func (c *Config) Validate() error {
	for i := range configParams {
		p := &configParams[i]
		scratch := c.clone()
		value := p.get(c)
		if err := p.apply(&scratch, p.wordsOf(value)); err != nil {
			return cfgInvalid(p.Name, value, err)
		}
	}
	if c.MaxNamespaces < c.Databases {
		return fmt.Errorf("invalid value for 'max-namespaces': %q (must be at least databases, %d)",
			strconv.Itoa(c.MaxNamespaces), c.Databases)
	}
	return nil
}

func (c *Config) clone() Config {
	out := *c
	if c.Bind != nil {
		out.Bind = append([]string{}, c.Bind...)
	}
	return out
}

// ---------------------------------------------------------------------------
// CONFIG GET / SET.

// Get returns a parameter's value formatted like CONFIG GET (yes/no, plain
// bytes, space-separated lists). name may be an alias; case is ignored.
func (c *Config) Get(name string) (string, bool) {
	p := cfgLookup(name)
	if p == nil {
		return "", false
	}
	return p.get(c), true
}

// Set sets any parameter, mutable or not (start-up use). Words of bind and
// save are separated by spaces. Errors are start-up style one-liners. Rules
// that join several parameters are left to Validate.
func (c *Config) Set(name, value string) error {
	lname := strings.ToLower(name)
	p := cfgLookup(lname)
	if p == nil {
		return cfgUnknown(lname)
	}
	if err := p.apply(c, p.wordsOf(value)); err != nil {
		return cfgInvalid(lname, value, err)
	}
	return nil
}

// cfgOneLine mirrors addReplyErrorFormat, which turns newlines into spaces.
func cfgOneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// SetRuntime implements CONFIG SET name value [name value ...]: every pair is
// checked on a copy first and c changes only if all of them succeed. Errors
// carry Redis's texts, "ERR " prefix included.
func (c *Config) SetRuntime(pairs [][2]string) error {
	params := make([]*Param, len(pairs))
	seen := make(map[*Param]bool, len(pairs))
	for i, kv := range pairs {
		p := cfgLookup(kv[0])
		switch {
		case p == nil:
			return errors.New(cfgOneLine("ERR Unknown option or number of arguments for CONFIG SET - '" + kv[0] + "'"))
		case !p.Mutable:
			return errors.New(cfgOneLine("ERR CONFIG SET failed (possibly related to argument '" + kv[0] + "') - can't set immutable config"))
		case seen[p]:
			return errors.New(cfgOneLine("ERR CONFIG SET failed (possibly related to argument '" + kv[0] + "') - duplicate parameter"))
		}
		seen[p] = true
		params[i] = p
	}
	next := c.clone()
	for i, kv := range pairs {
		p := params[i]
		if err := p.apply(&next, p.wordsOf(kv[1])); err != nil {
			return errors.New(cfgOneLine("ERR CONFIG SET failed (possibly related to argument '" + p.Name + "') - " + err.Error()))
		}
	}
	if err := next.Validate(); err != nil {
		return errors.New(cfgOneLine("ERR CONFIG SET failed - " + err.Error()))
	}
	*c = next
	return nil
}

// Match returns the name/value pairs of every parameter name or alias that
// matches the glob pattern (case-insensitive), sorted by name, as CONFIG GET
// does.
func (c *Config) Match(pattern string) [][2]string {
	var out [][2]string
	for i := range configParams {
		p := &configParams[i]
		names := append([]string{p.Name}, p.Aliases...)
		for _, n := range names {
			if configGlobMatch(pattern, n) {
				out = append(out, [2]string{n, p.get(c)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// configGlobMatch is Redis's stringmatchlen with nocase set: '*', '?',
// '[...]' (with '^' and ranges) and '\' escapes.
func configGlobMatch(pattern, s string) bool {
	return cfgGlob(strings.ToLower(pattern), strings.ToLower(s))
}

func cfgGlob(p, s string) bool {
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if cfgGlob(p[1:], s) {
					return true
				}
				s = s[1:]
			}
			return false
		case '?':
			s = s[1:]
			p = p[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for len(p) > 0 {
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					lo, hi := p[0], p[2]
					if lo > hi {
						lo, hi = hi, lo
					}
					if s[0] >= lo && s[0] <= hi {
						match = true
					}
					p = p[2:]
				} else if p[0] == s[0] {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
			if len(p) > 0 {
				p = p[1:] // the closing ']'
			}
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
			p = p[1:]
		}
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

// ---------------------------------------------------------------------------
// CONFIG REWRITE.

// Rewrite implements CONFIG REWRITE: the file named by c.ConfigFile is
// rewritten keeping comments, blank lines and lines it does not understand;
// lines of known parameters are updated in place (extra duplicates dropped)
// and parameters that differ from their defaults but are absent are appended
// after a "# Generated by CONFIG REWRITE" line. The file is replaced
// atomically.
func (c *Config) Rewrite() error {
	if c.ConfigFile == "" {
		return errors.New("ERR The server is running without a config file")
	}
	old, err := os.ReadFile(c.ConfigFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("ERR Rewriting config file: %s", cfgOneLine(err.Error()))
	}
	content := c.rewriteContent(string(old))
	if err := cfgWriteFileAtomic(c.ConfigFile, []byte(content)); err != nil {
		return fmt.Errorf("ERR Rewriting config file: %s", cfgOneLine(err.Error()))
	}
	return nil
}

// rewriteContent returns old with c's values written into it.
func (c *Config) rewriteContent(old string) string {
	var lines []string
	if old != "" {
		lines = strings.Split(strings.TrimSuffix(old, "\n"), "\n")
	}
	hasSignature := false
	where := make(map[*Param][]int)
	for i, raw := range lines {
		t := strings.Trim(raw, " \t\r\n")
		if t == "" || t[0] == '#' {
			if t == cfgRewriteSignature {
				hasSignature = true
			}
			continue
		}
		argv, err := cfgSplitArgs(t)
		if err != nil || len(argv) == 0 {
			continue
		}
		if p := cfgLookup(argv[0]); p != nil {
			where[p] = append(where[p], i)
		}
	}

	def := DefaultConfig()
	drop := make(map[int]bool)
	var appended []string
	for i := range configParams {
		p := &configParams[i]
		slots := where[p]
		want := p.fileLines(c)
		force := p.get(c) != p.get(&def)
		for k, line := range want {
			if k < len(slots) {
				lines[slots[k]] = line
			} else if force {
				appended = append(appended, line)
			}
		}
		for k := len(want); k < len(slots); k++ {
			drop[slots[k]] = true
		}
	}

	var b strings.Builder
	for i, line := range lines {
		if !drop[i] {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	if len(appended) > 0 {
		if !hasSignature {
			b.WriteString(cfgRewriteSignature + "\n")
		}
		for _, line := range appended {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// cfgWriteFileAtomic replaces path with data through a temporary file in the
// same directory, keeping the old file's permissions.
func cfgWriteFileAtomic(path string, data []byte) (err error) {
	mode := os.FileMode(0o644)
	if st, statErr := os.Stat(path); statErr == nil {
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ---------------------------------------------------------------------------
// Lexical helpers (ports of Redis's string2ll, memtoull, sdssplitargs and
// sdscatrepr).

// cfgString2ll parses a strict decimal integer: no spaces, no '+', no
// leading zeros, like Redis's string2ll.
func cfgString2ll(s string) (int64, bool) {
	if s == "0" {
		return 0, true
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || digits[0] < '1' || digits[0] > '9' {
		return 0, false
	}
	for i := 1; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// cfgMemToULL parses a memory value: digits followed by an optional unit,
// b, k (1000), kb (1024), m, mb, g or gb, case-insensitive. Unlike Redis it
// rejects a missing number and overflow.
func cfgMemToULL(s string) (uint64, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i == 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil || v > math.MaxUint64/mul {
		return 0, false
	}
	return v * mul, true
}

// cfgFormatMemory writes bytes the way CONFIG REWRITE does: gb, mb or kb
// when the value is an exact multiple.
func cfgFormatMemory(v int64) string {
	switch {
	case v != 0 && v%(1<<30) == 0:
		return strconv.FormatInt(v/(1<<30), 10) + "gb"
	case v != 0 && v%(1<<20) == 0:
		return strconv.FormatInt(v/(1<<20), 10) + "mb"
	case v != 0 && v%(1<<10) == 0:
		return strconv.FormatInt(v/(1<<10), 10) + "kb"
	}
	return strconv.FormatInt(v, 10)
}

var errCfgUnbalanced = errors.New("unbalanced quotes")

func cfgIsSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

func cfgIsHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

func cfgHexVal(b byte) byte {
	switch {
	case b >= '0' && b <= '9':
		return b - '0'
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10
	}
	return b - 'A' + 10
}

// cfgSplitArgs splits a redis.conf line into words like sdssplitargs:
// "double quotes" with \n \r \t \b \a \xHH and \<c> escapes, 'single quotes'
// with \' only. A closing quote must be followed by a space or the end.
func cfgSplitArgs(line string) ([]string, error) {
	var out []string
	n := len(line)
	p := 0
	for {
		for p < n && cfgIsSpace(line[p]) {
			p++
		}
		if p >= n {
			return out, nil
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			switch {
			case inq:
				if p >= n {
					return nil, errCfgUnbalanced
				}
				ch := line[p]
				if ch == '\\' && p+3 < n && line[p+1] == 'x' && cfgIsHex(line[p+2]) && cfgIsHex(line[p+3]) {
					cur = append(cur, cfgHexVal(line[p+2])*16+cfgHexVal(line[p+3]))
					p += 3
				} else if ch == '\\' && p+1 < n {
					p++
					switch line[p] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[p])
					}
				} else if ch == '"' {
					if p+1 < n && !cfgIsSpace(line[p+1]) {
						return nil, errCfgUnbalanced
					}
					done = true
				} else {
					cur = append(cur, ch)
				}
			case insq:
				if p >= n {
					return nil, errCfgUnbalanced
				}
				ch := line[p]
				if ch == '\\' && p+1 < n && line[p+1] == '\'' {
					p++
					cur = append(cur, '\'')
				} else if ch == '\'' {
					if p+1 < n && !cfgIsSpace(line[p+1]) {
						return nil, errCfgUnbalanced
					}
					done = true
				} else {
					cur = append(cur, ch)
				}
			default:
				if p >= n {
					done = true
					break
				}
				switch ch := line[p]; ch {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, ch)
				}
			}
			if p < n {
				p++
			}
		}
		out = append(out, string(cur))
	}
}

// cfgRepr quotes s like sdscatrepr so that cfgSplitArgs reads it back.
func cfgRepr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if ch >= 0x20 && ch < 0x7f {
				b.WriteByte(ch)
			} else {
				fmt.Fprintf(&b, `\x%02x`, ch)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// cfgQuoteIfNeeded leaves plain words alone and quotes the others.
func cfgQuoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch <= ' ' || ch >= 0x7f || ch == '"' || ch == '\'' || ch == '\\' {
			return cfgRepr(s)
		}
	}
	return s
}
