package server

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func writeConfigFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "durastore.conf")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustGet(t *testing.T, c *Config, name string) string {
	t.Helper()
	v, ok := c.Get(name)
	if !ok {
		t.Fatalf("Get(%q): unknown parameter", name)
	}
	return v
}

func TestConfigDefaults(t *testing.T) {
	c := DefaultConfig()
	want := Config{
		Port: 6379, Bind: []string{"127.0.0.1"}, Dir: "./data", AppendOnly: true,
		AppendFsync: "everysec", Databases: 16, MaxNamespaces: 1024, MaxClients: 10000,
		Timeout: 0, LogLevel: "notice", LogFile: "", RequirePass: "",
		ProtoMaxBulkLen: 512 * 1024 * 1024, ClientQueryBufferLimit: 1024 * 1024 * 1024,
		HTTPPort: 8080, HTTPBind: "127.0.0.1", HTTPToken: "", Hz: 10,
		AutoAOFRewritePercentage: 100, AutoAOFRewriteMinSize: 64 * 1024 * 1024,
		MaxMemory: 0, MaxMemoryPolicy: "noeviction", LuaTimeLimit: 5000, Save: "",
		MaxMemorySamples: 5, MaxMemoryTenacity: 10, LFULogFactor: 10, LFUDecayTime: 1,
		AOFLoadTruncated: true, AOFLoadDamaged: "refuse",
		ProtectedMode: true, TLSAuthClients: "yes",
		SlowlogLogSlowerThan: 10000, SlowlogMaxLen: 128,
		HTTPMaxBody: 1 << 20, HTTPMaxBatch: 1000, HTTPMaxKeyLen: 1024, IOThreads: 1,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("DefaultConfig() =\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}

	// ParseArgs with nothing gives the defaults.
	p, err := ParseArgs(nil)
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("ParseArgs(nil) = %+v, %v", p, err)
	}

	// CONFIG GET formatting.
	gets := map[string]string{
		"port": "6379", "bind": "127.0.0.1", "dir": "./data", "appendonly": "yes",
		"appendfsync": "everysec", "databases": "16", "max-namespaces": "1024",
		"maxclients": "10000", "timeout": "0", "loglevel": "notice", "logfile": "",
		"requirepass": "", "proto-max-bulk-len": "536870912",
		"client-query-buffer-limit": "1073741824", "http-port": "8080",
		"http-bind": "127.0.0.1", "http-token": "", "hz": "10",
		"auto-aof-rewrite-percentage": "100", "auto-aof-rewrite-min-size": "67108864",
		"maxmemory": "0", "maxmemory-policy": "noeviction", "maxmemory-samples": "5",
		"maxmemory-eviction-tenacity": "10", "lfu-log-factor": "10", "lfu-decay-time": "1",
		"busy-reply-threshold": "5000", "lua-time-limit": "5000", "save": "",
		"MAXCLIENTS": "10000", // names are case-insensitive
	}
	for name, want := range gets {
		if got := mustGet(t, &c, name); got != want {
			t.Errorf("Get(%q) = %q, want %q", name, got, want)
		}
	}
	if _, ok := c.Get("configfile"); ok {
		t.Error("configfile must not be a parameter")
	}
	if _, ok := c.Get("nope"); ok {
		t.Error("Get(nope) reported a parameter")
	}
	// Every parameter is reachable by Get and the table is sorted.
	params := Params()
	if len(params) != 42 {
		t.Errorf("Params() has %d rows, want 42", len(params))
	}
	for i, p := range params {
		if _, ok := c.Get(p.Name); !ok {
			t.Errorf("Get(%q) failed", p.Name)
		}
		if i > 0 && params[i-1].Name >= p.Name {
			t.Errorf("Params() not sorted at %q", p.Name)
		}
	}
	if p, ok := LookupParam("LUA-TIME-LIMIT"); !ok || p.Name != "busy-reply-threshold" || !p.Mutable {
		t.Errorf("LookupParam(lua-time-limit) = %+v, %v", p, ok)
	}
	if p, ok := LookupParam("requirepass"); !ok || !p.Sensitive {
		t.Errorf("requirepass must be sensitive: %+v", p)
	}
}

func TestConfigMutability(t *testing.T) {
	mutable := []string{"maxclients", "timeout", "loglevel", "requirepass", "appendfsync",
		"hz", "maxmemory", "maxmemory-policy", "busy-reply-threshold",
		"auto-aof-rewrite-percentage", "auto-aof-rewrite-min-size", "proto-max-bulk-len",
		"client-query-buffer-limit", "save", "http-token", "maxmemory-samples",
		"maxmemory-eviction-tenacity", "lfu-log-factor", "lfu-decay-time",
		"aof-load-truncated", "aof-load-damaged", "protected-mode",
		"slowlog-log-slower-than", "slowlog-max-len"}
	immutable := []string{"port", "bind", "dir", "databases", "max-namespaces", "http-port",
		"http-bind", "logfile", "appendonly", "tls-port", "tls-cert-file", "tls-key-file",
		"tls-ca-cert-file", "tls-auth-clients", "http-max-body", "http-max-batch", "http-max-key-len",
		"io-threads"}
	for _, n := range mutable {
		if p, ok := LookupParam(n); !ok || !p.Mutable {
			t.Errorf("%s should be mutable", n)
		}
	}
	for _, n := range immutable {
		if p, ok := LookupParam(n); !ok || p.Mutable {
			t.Errorf("%s should be immutable", n)
		}
	}
	if len(mutable)+len(immutable) != len(Params()) {
		t.Errorf("mutability of %d params checked, table has %d", len(mutable)+len(immutable), len(Params()))
	}
}

func TestConfigParseFile(t *testing.T) {
	path := writeConfigFile(t, strings.Join([]string{
		"# durastore test configuration",
		"",
		"   # indented comment",
		"port 7000",
		"bind 10.0.0.1 ::1",
		`dir "/var/lib/dura store"`,
		"appendonly no",
		"APPENDFSYNC Always",
		"databases 32",
		"max-namespaces 64",
		"maxclients 50",
		"timeout 300",
		"loglevel warning",
		`logfile '/tmp/it''s.log'`,
		`logfile '/tmp/it\'s.log'`,
		`requirepass "p\"a ss\x41\n"`,
		"proto-max-bulk-len 2mb",
		"client-query-buffer-limit 2GB",
		"http-port 0",
		"http-bind 0.0.0.0",
		"http-token tok",
		"hz 100",
		"auto-aof-rewrite-percentage 50",
		"auto-aof-rewrite-min-size 1k",
		"maxmemory 100mb",
		"maxmemory-policy allkeys-lru",
		"lua-time-limit 250",
		"save 900 1",
		`save "300 10"`,
		"save 60 10000\r",
		"\t",
	}, "\n"))
	// The line `logfile '/tmp/it''s.log'` is invalid (closing quote followed
	// by a quote), so first check that it is reported with its line number.
	_, err := ParseArgs([]string{path})
	if err == nil || !strings.Contains(err.Error(), "line 14") || !strings.Contains(err.Error(), "unbalanced quotes") {
		t.Fatalf("want unbalanced quotes error on line 14, got %v", err)
	}

	data, _ := os.ReadFile(path)
	fixed := strings.Replace(string(data), "logfile '/tmp/it''s.log'\n", "", 1)
	if err := os.WriteFile(path, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ParseArgs([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	want := DefaultConfig()
	want.Port = 7000
	want.Bind = []string{"10.0.0.1", "::1"}
	want.Dir = "/var/lib/dura store"
	want.AppendOnly = false
	want.AppendFsync = "always"
	want.Databases = 32
	want.MaxNamespaces = 64
	want.MaxClients = 50
	want.Timeout = 300
	want.LogLevel = "warning"
	want.LogFile = "/tmp/it's.log"
	want.RequirePass = "p\"a ssA\n"
	want.ProtoMaxBulkLen = 2 << 20
	want.ClientQueryBufferLimit = 2 << 30
	want.HTTPPort = 0
	want.HTTPBind = "0.0.0.0"
	want.HTTPToken = "tok"
	want.Hz = 100
	want.AutoAOFRewritePercentage = 50
	want.AutoAOFRewriteMinSize = 1000
	want.MaxMemory = 100 << 20
	want.MaxMemoryPolicy = "allkeys-lru"
	want.LuaTimeLimit = 250
	want.Save = "900 1 300 10 60 10000" // save lines of one file add up
	want.ConfigFile = abs
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", c, want)
	}
	if got := mustGet(t, &c, "bind"); got != "10.0.0.1 ::1" {
		t.Errorf("Get(bind) = %q", got)
	}
	if got := mustGet(t, &c, "save"); got != "900 1 300 10 60 10000" {
		t.Errorf("Get(save) = %q", got)
	}
}

func TestConfigFileSaveAndBindEmpty(t *testing.T) {
	path := writeConfigFile(t, "save 900 1\nsave \"\"\nbind \"\"\n")
	c, err := ParseArgs([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if c.Save != "" || len(c.Bind) != 0 {
		t.Fatalf("save=%q bind=%q, want both empty", c.Save, c.Bind)
	}
	if got := mustGet(t, &c, "bind"); got != "" {
		t.Errorf("Get(bind) = %q", got)
	}
}

func TestConfigFlagsOverrideFile(t *testing.T) {
	path := writeConfigFile(t, "port 7000\nloglevel debug\nmaxmemory 1gb\nsave 900 1\nsave 300 10\n")
	c, err := ParseArgs([]string{path, "--port", "7001", "--maxmemory", "2mb", "--save", "60", "5", "--port", "7002"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 7002 {
		t.Errorf("port = %d, want 7002 (last flag wins over file and earlier flag)", c.Port)
	}
	if c.LogLevel != "debug" {
		t.Errorf("loglevel = %q, want debug from the file", c.LogLevel)
	}
	if c.MaxMemory != 2<<20 {
		t.Errorf("maxmemory = %d", c.MaxMemory)
	}
	if c.Save != "60 5" {
		t.Errorf("save = %q, want the flag's value replacing the file's", c.Save)
	}
	if !filepath.IsAbs(c.ConfigFile) {
		t.Errorf("ConfigFile %q is not absolute", c.ConfigFile)
	}

	// Without a file.
	c, err = ParseArgs([]string{"--PORT", "1234", "--appendonly", "NO"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 1234 || c.AppendOnly || c.ConfigFile != "" {
		t.Errorf("got port=%d appendonly=%v configfile=%q", c.Port, c.AppendOnly, c.ConfigFile)
	}
}

func TestConfigMultiWordFlags(t *testing.T) {
	cases := []struct {
		args []string
		bind []string
		save string
	}{
		{[]string{"--bind", "127.0.0.1", "::1"}, []string{"127.0.0.1", "::1"}, ""},
		{[]string{"--bind", "127.0.0.1 ::1"}, []string{"127.0.0.1", "::1"}, ""},
		{[]string{"--bind", ""}, nil, ""},
		{[]string{"--bind"}, nil, ""},
		{[]string{"--save", "900", "1", "300", "10"}, []string{"127.0.0.1"}, "900 1 300 10"},
		{[]string{"--save", "900 1 300 10"}, []string{"127.0.0.1"}, "900 1 300 10"},
		{[]string{"--save", "900", "1", "--save", "60", "2"}, []string{"127.0.0.1"}, "900 1 60 2"},
		{[]string{"--save", "900", "1", "--save", ""}, []string{"127.0.0.1"}, ""},
		{[]string{"--save", "--port", "1"}, []string{"127.0.0.1"}, ""},
		{[]string{"--save", "0900", "01"}, []string{"127.0.0.1"}, "900 1"},
	}
	for _, tc := range cases {
		c, err := ParseArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if len(c.Bind) != len(tc.bind) || (len(tc.bind) > 0 && !reflect.DeepEqual(c.Bind, tc.bind)) {
			t.Errorf("%q: bind = %q, want %q", tc.args, c.Bind, tc.bind)
		}
		if c.Save != tc.save {
			t.Errorf("%q: save = %q, want %q", tc.args, c.Save, tc.save)
		}
	}
	// A single-value option with several words is an error naming both.
	_, err := ParseArgs([]string{"--requirepass", "a", "b"})
	if err == nil || !strings.Contains(err.Error(), "'requirepass'") || !strings.Contains(err.Error(), `"a b"`) {
		t.Errorf("got %v", err)
	}
	// A value may begin with a single dash.
	c, err := ParseArgs([]string{"--requirepass", "-secret"})
	if err != nil || c.RequirePass != "-secret" {
		t.Errorf("requirepass = %q, %v", c.RequirePass, err)
	}
}

func TestConfigMemoryUnits(t *testing.T) {
	good := map[string]int64{
		"0": 0, "1": 1, "1b": 1, "1B": 1, "1k": 1000, "1K": 1000, "1kb": 1024, "1Kb": 1024,
		"1m": 1000 * 1000, "1mb": 1024 * 1024, "3MB": 3 * 1024 * 1024, "1g": 1000 * 1000 * 1000,
		"1gb": 1 << 30, "2Gb": 2 << 30, "2gB": 2 << 30, "0100": 100,
		"9223372036854775807": 1<<63 - 1,
	}
	for in, want := range good {
		var c Config = DefaultConfig()
		if err := c.Set("maxmemory", in); err != nil {
			t.Errorf("maxmemory %q: %v", in, err)
			continue
		}
		if c.MaxMemory != want {
			t.Errorf("maxmemory %q = %d, want %d", in, c.MaxMemory, want)
		}
		if got := mustGet(t, &c, "maxmemory"); got != strconv.FormatInt(want, 10) {
			t.Errorf("Get(maxmemory) after %q = %q, want plain bytes %d", in, got, want)
		}
	}
	bad := []string{"", "-1", "1.5gb", "1tb", "kb", " 1", "1 kb", "+1", "1kbb", "0x10",
		"9223372036854775808", "18446744073709551616", "100000000000gb"}
	for _, in := range bad {
		c := DefaultConfig()
		err := c.Set("maxmemory", in)
		if err == nil {
			t.Errorf("maxmemory %q accepted as %d", in, c.MaxMemory)
			continue
		}
		if c.MaxMemory != 0 {
			t.Errorf("maxmemory %q changed the value on error", in)
		}
	}
	// Lower bounds of memory parameters.
	c := DefaultConfig()
	if err := c.Set("proto-max-bulk-len", "1mb"); err != nil || c.ProtoMaxBulkLen != 1<<20 {
		t.Errorf("proto-max-bulk-len 1mb: %v", err)
	}
	if err := c.Set("proto-max-bulk-len", "1m"); err == nil {
		t.Error("proto-max-bulk-len 1m (< 1mb) accepted")
	}
	// CONFIG REWRITE formatting.
	for v, want := range map[int64]string{0: "0", 1000: "1000", 1024: "1kb", 3 << 20: "3mb", 5 << 30: "5gb", 1<<20 + 1: "1048577"} {
		if got := cfgFormatMemory(v); got != want {
			t.Errorf("cfgFormatMemory(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestConfigInvalidValues(t *testing.T) {
	cases := []struct {
		args []string
		want []string // substrings of the error
	}{
		{[]string{"--appendfsync", "sometimes"}, []string{`invalid value for 'appendfsync': "sometimes" (must be always, everysec or no)`}},
		{[]string{"--foo", "bar"}, []string{"unknown option 'foo'"}},
		{[]string{"--port", "abc"}, []string{"'port'", `"abc"`, "integer"}},
		{[]string{"--port", "65536"}, []string{"'port'", `"65536"`, "between 0 and 65535"}},
		{[]string{"--port", "-1"}, []string{"'port'", `"-1"`}},
		{[]string{"--port", "007"}, []string{"'port'", `"007"`}},
		{[]string{"--port", " 7"}, []string{"'port'", `" 7"`}},
		{[]string{"--port"}, []string{"'port'", `""`, "exactly one value"}},
		{[]string{"--port", "1", "2"}, []string{"'port'", `"1 2"`}},
		{[]string{"--appendonly", "true"}, []string{"'appendonly'", `"true"`, "yes or no"}},
		{[]string{"--databases", "0"}, []string{"'databases'", `"0"`}},
		{[]string{"--max-namespaces", "0"}, []string{"'max-namespaces'", `"0"`}},
		{[]string{"--databases", "2000"}, []string{"'max-namespaces'", `"1024"`, "databases"}},
		{[]string{"--databases", "8", "--max-namespaces", "4"}, []string{"'max-namespaces'", `"4"`}},
		{[]string{"--maxclients", "0"}, []string{"'maxclients'", `"0"`}},
		{[]string{"--timeout", "-5"}, []string{"'timeout'", `"-5"`}},
		{[]string{"--loglevel", "loud"}, []string{"'loglevel'", `"loud"`, "debug, nothing, notice, verbose or warning"}},
		{[]string{"--maxmemory-policy", "lru"}, []string{"'maxmemory-policy'", `"lru"`, "noeviction"}},
		{[]string{"--maxmemory", "1tb"}, []string{"'maxmemory'", `"1tb"`, "memory value"}},
		{[]string{"--proto-max-bulk-len", "1000"}, []string{"'proto-max-bulk-len'", `"1000"`, "between 1048576"}},
		{[]string{"--client-query-buffer-limit", "x"}, []string{"'client-query-buffer-limit'", `"x"`}},
		{[]string{"--auto-aof-rewrite-min-size", "-1"}, []string{"'auto-aof-rewrite-min-size'", `"-1"`}},
		{[]string{"--auto-aof-rewrite-percentage", "1.5"}, []string{"'auto-aof-rewrite-percentage'", `"1.5"`}},
		{[]string{"--lua-time-limit", "-1"}, []string{"'lua-time-limit'", `"-1"`}},
		{[]string{"--busy-reply-threshold", "x"}, []string{"'busy-reply-threshold'", `"x"`}},
		{[]string{"--hz", "fast"}, []string{"'hz'", `"fast"`}},
		{[]string{"--http-port", "70000"}, []string{"'http-port'", `"70000"`}},
		{[]string{"--dir", ""}, []string{"'dir'", `""`, "empty"}},
		{[]string{"--save", "900"}, []string{"'save'", `"900"`, "pairs"}},
		{[]string{"--save", "0", "1"}, []string{"'save'", `"0 1"`}},
		{[]string{"--save", "10", "-1"}, []string{"'save'", `"10 -1"`}},
		{[]string{"--save", "10 x"}, []string{"'save'", `"10 x"`}},
		{[]string{"--save", `"10`}, []string{"'save'", `"\"10"`, "unbalanced"}},
		{[]string{"--bind", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q"}, []string{"'bind'", `"a b c`, "at most 16"}},
		{[]string{"--port", "1", "stray"}, []string{"'port'", `"1 stray"`}},
		{[]string{"--", "x"}, []string{"unknown option ''"}},
		{[]string{"--bad\nname", "1"}, []string{`unknown option 'bad\nname'`}},
		{[]string{"--requirepass", "x\ny", "z"}, []string{"'requirepass'", `"x\ny z"`}},
		{[]string{"/nonexistent/durastore.conf"}, []string{"can't open config file '/nonexistent/durastore.conf'"}},
	}
	for _, tc := range cases {
		_, err := ParseArgs(tc.args)
		if err == nil {
			t.Errorf("%q: no error", tc.args)
			continue
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\r\n") {
			t.Errorf("%q: error is not one line: %q", tc.args, msg)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q: error %q does not contain %q", tc.args, msg, w)
			}
		}
	}

	// Errors from the file name the file and the line.
	fileCases := []struct {
		content string
		want    []string
	}{
		{"# c\n\nport 1\nfoo bar\n", []string{"line 4", "unknown option 'foo'"}},
		{"appendfsync sometimes\n", []string{"line 1", `invalid value for 'appendfsync': "sometimes" (must be always, everysec or no)`}},
		{"port 1 2\n", []string{"line 1", "'port'", `"1 2"`}},
		{"port\n", []string{"line 1", "'port'", `""`}},
		{"include /etc/other.conf\n", []string{"line 1", "'include'", "not supported", "/etc/other.conf"}},
		{"\n\nrequirepass \"abc\n", []string{"line 3", "unbalanced quotes", `requirepass \"abc`}},
		{"requirepass \"abc\"def\n", []string{"line 1", "unbalanced quotes"}},
		{"maxmemory 12x\n", []string{"line 1", "'maxmemory'", `"12x"`}},
		{"lua-time-limit abc\n", []string{"line 1", "'lua-time-limit'", `"abc"`}},
	}
	for _, tc := range fileCases {
		path := writeConfigFile(t, tc.content)
		_, err := ParseArgs([]string{path})
		if err == nil {
			t.Errorf("%q: no error", tc.content)
			continue
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\r\n") {
			t.Errorf("%q: error is not one line: %q", tc.content, msg)
		}
		for _, w := range append(tc.want, "config file '"+path+"'") {
			if !strings.Contains(msg, w) {
				t.Errorf("%q: error %q does not contain %q", tc.content, msg, w)
			}
		}
	}

	// Set (start-up API) reports the same way and leaves the value alone.
	c := DefaultConfig()
	if err := c.Set("appendfsync", "sometimes"); err == nil ||
		err.Error() != `invalid value for 'appendfsync': "sometimes" (must be always, everysec or no)` {
		t.Errorf("Set: %v", err)
	}
	if err := c.Set("nope", "1"); err == nil || err.Error() != "unknown option 'nope'" {
		t.Errorf("Set unknown: %v", err)
	}
	if !reflect.DeepEqual(c, DefaultConfig()) {
		t.Error("failed Set changed the configuration")
	}
	// Set may change immutable parameters.
	if err := c.Set("PORT", "0"); err != nil || c.Port != 0 {
		t.Errorf("Set port: %v", err)
	}
	if err := c.Set("bind", "1.1.1.1 2.2.2.2"); err != nil || !reflect.DeepEqual(c.Bind, []string{"1.1.1.1", "2.2.2.2"}) {
		t.Errorf("Set bind: %v %q", err, c.Bind)
	}
}

func TestConfigHzIsClamped(t *testing.T) {
	c := DefaultConfig()
	for in, want := range map[string]int{"0": 1, "1": 1, "500": 500, "1000": 500, "77": 77} {
		if err := c.Set("hz", in); err != nil || c.Hz != want {
			t.Errorf("hz %s: got %d, %v; want %d", in, c.Hz, err, want)
		}
	}
	if err := c.SetRuntime([][2]string{{"hz", "100000"}}); err != nil || mustGet(t, &c, "hz") != "500" {
		t.Errorf("CONFIG SET hz 100000: %v, hz=%d", err, c.Hz)
	}
}

func TestConfigSetRuntime(t *testing.T) {
	c := DefaultConfig()
	err := c.SetRuntime([][2]string{
		{"maxmemory", "100mb"}, {"MAXMEMORY-POLICY", "ALLKEYS-LFU"}, {"lua-time-limit", "100"},
		{"save", "3600 1 300 100"}, {"requirepass", "s3cret pass"}, {"appendfsync", "no"},
		{"loglevel", "verbose"}, {"timeout", "30"}, {"maxclients", "5"}, {"http-token", "t"},
		{"proto-max-bulk-len", "1gb"}, {"client-query-buffer-limit", "2mb"},
		{"auto-aof-rewrite-percentage", "0"}, {"auto-aof-rewrite-min-size", "1kb"},
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"maxmemory": "104857600", "maxmemory-policy": "allkeys-lfu", "busy-reply-threshold": "100",
		"save": "3600 1 300 100", "requirepass": "s3cret pass", "appendfsync": "no",
		"loglevel": "verbose", "timeout": "30", "maxclients": "5", "http-token": "t",
		"proto-max-bulk-len": "1073741824", "client-query-buffer-limit": "2097152",
		"auto-aof-rewrite-percentage": "0", "auto-aof-rewrite-min-size": "1024",
	}
	for n, want := range checks {
		if got := mustGet(t, &c, n); got != want {
			t.Errorf("after CONFIG SET, %s = %q, want %q", n, got, want)
		}
	}
	if err := c.SetRuntime([][2]string{{"save", ""}}); err != nil || c.Save != "" {
		t.Errorf(`CONFIG SET save "": %v, save=%q`, err, c.Save)
	}
}

func TestConfigSetRuntimeErrorsAndAtomicity(t *testing.T) {
	cases := []struct {
		pairs [][2]string
		want  string
	}{
		{[][2]string{{"maxmemory", "1mb"}, {"port", "1"}},
			"ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"},
		{[][2]string{{"DIR", "/tmp"}},
			"ERR CONFIG SET failed (possibly related to argument 'DIR') - can't set immutable config"},
		{[][2]string{{"appendonly", "no"}},
			"ERR CONFIG SET failed (possibly related to argument 'appendonly') - can't set immutable config"},
		{[][2]string{{"timeout", "1"}, {"foo", "1"}},
			"ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[][2]string{{"foo", "1"}, {"port", "1"}},
			"ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[][2]string{{"databases", "1"}, {"foo", "1"}},
			"ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
		{[][2]string{{"maxmemory", "1mb"}, {"timeout", "abc"}},
			"ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"},
		{[][2]string{{"timeout", "1"}, {"maxclients", "0"}},
			"ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 2147483647 inclusive"},
		{[][2]string{{"maxmemory", "10"}, {"maxmemory", "20"}},
			"ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"},
		{[][2]string{{"busy-reply-threshold", "10"}, {"lua-time-limit", "20"}},
			"ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - duplicate parameter"},
		{[][2]string{{"timeout", "1"}, {"maxmemory", "1.5gb"}},
			"ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{[][2]string{{"appendfsync", "sometimes"}},
			"ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no"},
		{[][2]string{{"maxmemory-policy", "lru"}},
			"ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
		{[][2]string{{"lua-time-limit", "x"}},
			"ERR CONFIG SET failed (possibly related to argument 'busy-reply-threshold') - argument couldn't be parsed into an integer"},
		{[][2]string{{"save", "100"}},
			"ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"},
		{[][2]string{{"proto-max-bulk-len", "1k"}},
			"ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"},
		{[][2]string{{"bad\r\nname", "1"}},
			"ERR Unknown option or number of arguments for CONFIG SET - 'bad  name'"},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		err := c.SetRuntime(tc.pairs)
		if err == nil {
			t.Errorf("%q: no error", tc.pairs)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.pairs, err.Error(), tc.want)
		}
		if !reflect.DeepEqual(c, DefaultConfig()) {
			t.Errorf("%q: failed CONFIG SET changed the configuration: %+v", tc.pairs, c)
		}
	}

	// One bad pair at the end leaves every earlier good pair unapplied.
	c := DefaultConfig()
	c.Save = "900 1"
	before := c.clone()
	err := c.SetRuntime([][2]string{
		{"maxmemory", "1gb"}, {"save", ""}, {"loglevel", "debug"}, {"hz", "50"}, {"timeout", "nope"},
	})
	if err == nil {
		t.Fatal("no error")
	}
	if !reflect.DeepEqual(c, before) {
		t.Fatalf("configuration changed by a failed CONFIG SET:\n%+v\nwas\n%+v", c, before)
	}
}

func TestConfigSetRuntimeDoesNotAlias(t *testing.T) {
	c := DefaultConfig()
	bind := c.Bind
	if err := c.SetRuntime([][2]string{{"timeout", "5"}}); err != nil {
		t.Fatal(err)
	}
	bind[0] = "changed"
	if c.Bind[0] != "127.0.0.1" {
		t.Error("SetRuntime result shares the Bind slice with the old value")
	}
}

func TestConfigGlob(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", false}, // as Redis's stringmatchlen
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"a*", "abc", true},
		{"*c", "abc", true},
		{"a*c", "ac", true},
		{"a**c", "abbbc", true},
		{"a*d", "abc", false},
		{"?", "a", true},
		{"?", "", false},
		{"??", "a", false},
		{"h?llo", "hello", true},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true},
		{"h[a-b]llo", "hcllo", false},
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false},
		{`[\]]`, "]", true},
		{"[abc", "a", true},
		{"[", "a", false},
		{"HeLLo", "hello", true},
		{"[A-C]x", "bx", true},
		{"max*", "maxmemory-policy", true},
		{"*memory*", "maxmemory", true},
		{"*-*-*", "auto-aof-rewrite-min-size", true},
		{"a*", "", false},
		{"abc*", "abc", true},
	}
	for _, tc := range cases {
		if got := configGlobMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("configGlobMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestConfigMatch(t *testing.T) {
	c := DefaultConfig()
	all := c.Match("*")
	if len(all) != 43 { // 42 parameters plus the lua-time-limit alias
		t.Errorf("Match(*) returned %d entries, want 43", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1][0] >= all[i][0] {
			t.Errorf("Match(*) not sorted: %q before %q", all[i-1][0], all[i][0])
		}
	}
	names := func(pairs [][2]string) []string {
		var out []string
		for _, p := range pairs {
			out = append(out, p[0])
		}
		return out
	}
	cases := map[string][]string{
		"max*":           {"max-namespaces", "maxclients", "maxmemory", "maxmemory-eviction-tenacity", "maxmemory-policy", "maxmemory-samples"},
		"MAXMEMORY":      {"maxmemory"},
		"?ort":           {"port"},
		"http-*":         {"http-bind", "http-max-batch", "http-max-body", "http-max-key-len", "http-port", "http-token"},
		"[hp]*t":         {"http-port", "port"},
		"*time*":         {"lfu-decay-time", "lua-time-limit", "timeout"},
		"lua-time-limit": {"lua-time-limit"},
		"busy*":          {"busy-reply-threshold"},
		"auto-aof-*":     {"auto-aof-rewrite-min-size", "auto-aof-rewrite-percentage"},
		"[^a-z]*":        nil,
		"nothing-here":   nil,
	}
	for pattern, want := range cases {
		if got := names(c.Match(pattern)); !reflect.DeepEqual(got, want) {
			t.Errorf("Match(%q) = %q, want %q", pattern, got, want)
		}
	}
	c.MaxMemory = 5 << 20
	got := c.Match("maxmemory*")
	want := [][2]string{{"maxmemory", "5242880"}, {"maxmemory-eviction-tenacity", "10"},
		{"maxmemory-policy", "noeviction"}, {"maxmemory-samples", "5"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Match(maxmemory*) = %q, want %q", got, want)
	}
	if got := c.Match("bind"); !reflect.DeepEqual(got, [][2]string{{"bind", "127.0.0.1"}}) {
		t.Errorf("Match(bind) = %q", got)
	}
}

func TestConfigRewrite(t *testing.T) {
	original := strings.Join([]string{
		"# Durastore configuration",
		"# port 1111 (commented out, must stay)",
		"",
		"port 7000",
		"",
		"   # indented comment",
		"maxmemory 1gb",
		"LUA-TIME-LIMIT 100",
		"save 900 1",
		"save 300 10",
		"save 60 10000",
		"timeout 10",
		"timeout 20",
		"",
		"# end of hand-written part",
	}, "\n") + "\n"
	path := writeConfigFile(t, original)
	c, err := ParseArgs([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if c.Timeout != 20 || c.Save != "900 1 300 10 60 10000" {
		t.Fatalf("parsed timeout=%d save=%q", c.Timeout, c.Save)
	}
	if err := c.SetRuntime([][2]string{
		{"maxmemory", "512mb"}, {"lua-time-limit", "200"}, {"save", "3600 1"},
		{"requirepass", `pa"ss word`}, {"loglevel", "warning"}, {"timeout", "0"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantFile := strings.Join([]string{
		"# Durastore configuration",
		"# port 1111 (commented out, must stay)",
		"",
		"port 7000",
		"",
		"   # indented comment",
		"maxmemory 512mb",
		"busy-reply-threshold 200",
		"save 3600 1",
		"timeout 0",
		"",
		"# end of hand-written part",
		"# Generated by CONFIG REWRITE",
		"loglevel warning",
		`requirepass "pa\"ss word"`,
	}, "\n") + "\n"
	if string(data) != wantFile {
		t.Fatalf("rewritten file:\n%s\nwant:\n%s", data, wantFile)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode changed to %v", st.Mode().Perm())
	}

	// Reading the rewritten file back gives the same configuration.
	back, err := ParseArgs([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("re-read config differs:\n%+v\nwant\n%+v", back, c)
	}

	// A second rewrite with a further change reuses the signature and the
	// appended lines.
	if err := c.SetRuntime([][2]string{{"loglevel", "debug"}, {"save", "10 1 20 2"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	s := string(data)
	if strings.Count(s, "# Generated by CONFIG REWRITE") != 1 {
		t.Errorf("signature not written exactly once:\n%s", s)
	}
	if !strings.Contains(s, "loglevel debug\n") || strings.Contains(s, "loglevel warning") {
		t.Errorf("loglevel not updated in place:\n%s", s)
	}
	if !strings.Contains(s, "save 10 1\n") || !strings.Contains(s, "save 20 2\n") {
		t.Errorf("save lines missing:\n%s", s)
	}
	back, err = ParseArgs([]string{path})
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Fatalf("re-read after second rewrite: %v\n%+v\nwant\n%+v", err, back, c)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after rewrite, want 1", len(entries))
	}
}

func TestConfigRewriteKeepsUnknownLines(t *testing.T) {
	c := DefaultConfig()
	c.ConfigFile = writeConfigFile(t, "# top\nrename-command FLUSHALL \"\"\nport 6379\nunbalanced \"quote\n")
	c.Port = 6390
	c.Bind = []string{"0.0.0.0", "my host"}
	c.Dir = "/data/x"
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(c.ConfigFile)
	want := "# top\nrename-command FLUSHALL \"\"\nport 6390\nunbalanced \"quote\n" +
		"# Generated by CONFIG REWRITE\n" +
		"bind 0.0.0.0 \"my host\"\n" +
		"dir \"/data/x\"\n"
	if string(data) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", data, want)
	}
}

func TestConfigRewriteWithoutFile(t *testing.T) {
	c := DefaultConfig()
	err := c.Rewrite()
	if err == nil || err.Error() != "ERR The server is running without a config file" {
		t.Fatalf("got %v", err)
	}

	// A config file that has disappeared is created again.
	c.ConfigFile = filepath.Join(t.TempDir(), "new.conf")
	c.MaxMemory = 1000
	c.Bind = nil
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(c.ConfigFile)
	want := "# Generated by CONFIG REWRITE\nbind \"\"\nmaxmemory 1000\n"
	if string(data) != want {
		t.Fatalf("got %q, want %q", data, want)
	}
	back, err := ParseArgs([]string{c.ConfigFile})
	if err != nil || len(back.Bind) != 0 || back.MaxMemory != 1000 {
		t.Fatalf("re-read: %v %+v", err, back)
	}

	// Rewriting into a directory that does not exist fails with ERR.
	c.ConfigFile = filepath.Join(t.TempDir(), "missing", "x.conf")
	if err := c.Rewrite(); err == nil || !strings.HasPrefix(err.Error(), "ERR Rewriting config file: ") {
		t.Fatalf("got %v", err)
	}
}

func TestConfigSplitArgsAndRepr(t *testing.T) {
	cases := []struct {
		line string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"   ", nil, true},
		{"a b\tc", []string{"a", "b", "c"}, true},
		{`"a b" c`, []string{"a b", "c"}, true},
		{`"\x41\n\t\"\\z"`, []string{"A\n\t\"\\z"}, true},
		{`'it\'s' x`, []string{"it's", "x"}, true},
		{`'a\nb'`, []string{`a\nb`}, true},
		{`""`, []string{""}, true},
		{`foo"bar baz"`, []string{"foobar baz"}, true},
		{`"abc`, nil, false},
		{`'abc`, nil, false},
		{`"abc"def`, nil, false},
		{`'abc'def`, nil, false},
	}
	for _, tc := range cases {
		got, err := cfgSplitArgs(tc.line)
		if (err == nil) != tc.ok {
			t.Errorf("cfgSplitArgs(%q) error = %v", tc.line, err)
			continue
		}
		if tc.ok && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("cfgSplitArgs(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
	for _, s := range []string{"", "plain", "with space", `q"uote`, `back\slash`, "nl\n\r\t\a\b", "\x00\xff\x7f", "ünï"} {
		got, err := cfgSplitArgs(cfgRepr(s))
		if err != nil || len(got) != 1 || got[0] != s {
			t.Errorf("round trip of %q through %q gave %q, %v", s, cfgRepr(s), got, err)
		}
	}
	if cfgRepr("a\"b") != `"a\"b"` {
		t.Errorf("cfgRepr = %s", cfgRepr("a\"b"))
	}
}

func TestConfigString2ll(t *testing.T) {
	good := map[string]int64{"0": 0, "1": 1, "-1": -1, "9223372036854775807": 1<<63 - 1, "-9223372036854775808": -1 << 63}
	for in, want := range good {
		if v, ok := cfgString2ll(in); !ok || v != want {
			t.Errorf("cfgString2ll(%q) = %d, %v", in, v, ok)
		}
	}
	for _, in := range []string{"", "-", "-0", "00", "01", "+1", " 1", "1 ", "1a", "9223372036854775808", "1e3"} {
		if v, ok := cfgString2ll(in); ok {
			t.Errorf("cfgString2ll(%q) accepted as %d", in, v)
		}
	}
}
