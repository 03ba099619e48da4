package commands

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// allRows lists every row of the default table, subcommands included.
func allRows() []*Command {
	var out []*Command
	for _, c := range Default.All() {
		out = append(out, c)
		out = append(out, c.Subcommands...)
	}
	return out
}

func TestTableRowsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range allRows() {
		if c.Name == "" || c.Name != strings.ToLower(c.Name) {
			t.Errorf("row %q: name must be non-empty lower case", c.Name)
		}
		if seen[c.Name] {
			t.Errorf("duplicate row %q", c.Name)
		}
		seen[c.Name] = true
		if c.Handler == nil {
			t.Errorf("%s: no handler", c.Name)
		}
		if c.Arity == 0 {
			t.Errorf("%s: arity 0", c.Name)
		}
		if c.Summary == "" || c.Group == "" || c.Since == "" {
			t.Errorf("%s: undocumented (summary %q, group %q, since %q)", c.Name, c.Summary, c.Group, c.Since)
		}
		if len(c.Categories) == 0 {
			t.Errorf("%s: no ACL categories", c.Name)
		}
		if c.Flags&Write != 0 && c.Flags&ReadOnly != 0 {
			t.Errorf("%s: both write and readonly", c.Name)
		}
	}
}

func TestTableKeyPositions(t *testing.T) {
	for _, c := range allRows() {
		switch {
		case c.FirstKey < 0:
			t.Errorf("%s: negative first key %d", c.Name, c.FirstKey)
		case c.FirstKey == 0:
			if c.LastKey != 0 || c.Step != 0 {
				t.Errorf("%s: no first key but last %d step %d", c.Name, c.LastKey, c.Step)
			}
		default:
			if c.Step <= 0 {
				t.Errorf("%s: key step %d", c.Name, c.Step)
			}
			if c.LastKey >= 0 && c.LastKey < c.FirstKey {
				t.Errorf("%s: last key %d before first key %d", c.Name, c.LastKey, c.FirstKey)
			}
			if c.LastKey < 0 && c.Arity > 0 {
				t.Errorf("%s: last key counted from the end (%d) with a fixed arity %d", c.Name, c.LastKey, c.Arity)
			}
			if c.Arity > 0 && c.LastKey >= c.Arity {
				t.Errorf("%s: last key %d beyond arity %d", c.Name, c.LastKey, c.Arity)
			}
		}
	}
}

func TestTableSubcommands(t *testing.T) {
	for _, c := range Default.All() {
		for _, s := range c.Subcommands {
			base, sub, ok := strings.Cut(s.Name, "|")
			if !ok || base != c.Name || sub == "" {
				t.Errorf("subcommand %q of %q must be named %s|<name>", s.Name, c.Name, c.Name)
			}
			if got := c.Subcommand([]byte(strings.ToUpper(sub))); got != s {
				t.Errorf("%s: Subcommand(%q) = %v", c.Name, sub, got)
			}
			if len(s.Subcommands) > 0 {
				t.Errorf("%s: subcommands do not nest", s.Name)
			}
		}
	}
}

// sameSet compares two lists as sets of lower-case words.
func sameSet(a, b []string) bool {
	norm := func(x []string) []string {
		out := make([]string, 0, len(x))
		for _, s := range x {
			out = append(out, strings.ToLower(s))
		}
		sort.Strings(out)
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// TestTableMatchesRedis checks every row Redis also has against what Redis
// 7.0's COMMAND INFO reports: arity, key positions, the flags our Flags can
// express, and ACL categories.
func TestTableMatchesRedis(t *testing.T) {
	checked := 0
	for _, c := range allRows() {
		m := lookupMeta(c.Name)
		if m == nil {
			continue
		}
		checked++
		if c.Arity != m.Arity {
			t.Errorf("%s: arity %d, Redis %d", c.Name, c.Arity, m.Arity)
		}
		if c.FirstKey != m.First || c.LastKey != m.Last || c.Step != m.Step {
			t.Errorf("%s: keys %d %d %d, Redis %d %d %d", c.Name, c.FirstKey, c.LastKey, c.Step, m.First, m.Last, m.Step)
		}
		var ours, theirs []string
		for _, f := range c.Flags.Names() {
			if f != "may_replicate" { // Redis hides it
				ours = append(ours, f)
			}
		}
		for _, f := range m.Flags {
			if rowExpressible(f) {
				theirs = append(theirs, f)
			}
		}
		if !sameSet(ours, theirs) {
			t.Errorf("%s: flags %v, Redis %v", c.Name, ours, theirs)
		}
		if !sameSet(c.Categories, m.ACL) {
			t.Errorf("%s: categories %v, Redis %v", c.Name, c.Categories, m.ACL)
		}
	}
	if checked < 20 {
		t.Errorf("only %d rows found in Redis's records; is redis_commands.json loaded?", checked)
	}
}

// TestRedisMetaWellFormed checks the recorded key specs and docs parse
// and convert to RESP2 without losing elements.
func TestRedisMetaWellFormed(t *testing.T) {
	redisMetaOnce.Do(loadRedisMeta)
	if len(redisMetaByName) < 300 {
		t.Fatalf("%d commands recorded, want Redis 7.0's 370 or so", len(redisMetaByName))
	}
	count := func(raw string) int {
		n := 0
		for raw != "" {
			_, raw = parseResp(raw)
			n++
		}
		return n
	}
	for name, m := range redisMetaByName {
		if m.KeySpecs != "" {
			v, rest := parseResp(m.KeySpecs)
			if rest != "" || len(v.elems) != len(m.specs) || len(m.specs) == 0 {
				t.Errorf("%s: key specs parse to %d values, rest %q", name, len(v.elems), rest)
			}
			if v2, rest := parseResp(m.keySpecs2); rest != "" || v2.typ != '*' {
				t.Errorf("%s: RESP2 key specs malformed", name)
			}
			for _, s := range m.specs {
				if s.bsType == "" || s.fkType == "" {
					t.Errorf("%s: key spec without begin_search or find_keys: %+v", name, s)
				}
			}
		}
		if m.DocsN > 0 && count(m.Docs) != 2*m.DocsN {
			t.Errorf("%s: docs hold %d values, want %d", name, count(m.Docs), 2*m.DocsN)
		}
		if strings.ContainsAny(m.docs2, "%~") && strings.Contains(m.docs2, "\r\n%") {
			t.Errorf("%s: RESP2 docs still hold a map", name)
		}
	}
}

func TestResp3To2(t *testing.T) {
	cases := map[string]string{
		"%1\r\n$1\r\na\r\n~2\r\n+x\r\n:1\r\n": "*2\r\n$1\r\na\r\n*2\r\n+x\r\n:1\r\n",
		",1.5\r\n#t\r\n#f\r\n_\r\n":           "$3\r\n1.5\r\n:1\r\n:0\r\n$-1\r\n",
		"=7\r\ntxt:abc\r\n":                   "$3\r\nabc\r\n",
	}
	for in, want := range cases {
		if got := resp3to2(in); got != want {
			t.Errorf("resp3to2(%q) = %q, want %q", in, got, want)
		}
	}
}

// keysOf runs the key extraction of Redis command name on args.
func keysOf(t *testing.T, name string, args ...string) ([]string, bool) {
	t.Helper()
	m := lookupMeta(name)
	if m == nil {
		t.Fatalf("no record of %s", name)
	}
	cmd := &Command{Name: name, Arity: m.Arity}
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	refs, ok := keysFromSpecs(cmd, m.specs, bargs)
	var keys []string
	for _, r := range refs {
		keys = append(keys, args[r.pos]+"/"+strings.Join(r.flags, ","))
	}
	return keys, ok
}

func TestKeysFromSpecs(t *testing.T) {
	cases := []struct {
		args []string
		want []string
		ok   bool
	}{
		{[]string{"get", "k"}, []string{"k/RO,access"}, true},
		{[]string{"set", "k", "v"}, []string{"k/OW,update"}, true},
		{[]string{"set", "k", "v", "GET"}, []string{"k/RW,access,update"}, true},
		{[]string{"mset", "a", "1", "b", "2"}, []string{"a/OW,update", "b/OW,update"}, true},
		{[]string{"del", "a", "b", "c"}, []string{"a/RM,delete", "b/RM,delete", "c/RM,delete"}, true},
		{[]string{"eval", "s", "2", "a", "b", "x"}, []string{"a/RW,access,update", "b/RW,access,update"}, true},
		{[]string{"eval", "s", "0"}, nil, true},
		{[]string{"eval", "s", "3", "a"}, nil, false},
		{[]string{"eval", "s", "x", "a"}, nil, false},
		{[]string{"xread", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"}, []string{"s1/RO,access", "s2/RO,access"}, true},
		{[]string{"xread", "STREAMS", "s1"}, nil, false},
		{[]string{"bitfield", "k", "GET", "u8", "0"}, []string{"k/RO,access"}, true},
		{[]string{"bitfield", "k", "SET", "u8", "0", "1"}, []string{"k/RW,access,update"}, true},
		{[]string{"rename", "a", "b"}, []string{"a/RW,access,delete", "b/OW,update"}, true},
	}
	for _, c := range cases {
		got, ok := keysOf(t, c.args[0], c.args...)
		if ok != c.ok || (ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("%v: keys %v ok %v, want %v ok %v", c.args, got, ok, c.want, c.ok)
		}
	}
}

func TestCommandFlagsInRedisOrder(t *testing.T) {
	quit := Default.Lookup([]byte("quit"))
	want := []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"}
	if got := commandFlagNames(quit); !reflect.DeepEqual(got, want) {
		t.Errorf("quit flags %v, want %v", got, want)
	}
	save := Default.Lookup([]byte("save"))
	want = []string{"admin", "noscript", "no_async_loading", "no_multi"}
	if got := commandFlagNames(save); !reflect.DeepEqual(got, want) {
		t.Errorf("save flags %v, want %v (no_async_loading comes from Redis's record)", got, want)
	}
	if got := sortedCategories([]string{"fast", "string", "read"}); !reflect.DeepEqual(got, []string{"read", "string", "fast"}) {
		t.Errorf("categories in order %v", got)
	}
}

func TestSubcommandErrors(t *testing.T) {
	client := Default.Lookup([]byte("client"))
	args := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, a := range s {
			out[i] = []byte(a)
		}
		return out
	}
	if got := subcommandError(client, args("client", "nope")); got != "ERR unknown subcommand 'nope'. Try CLIENT HELP." {
		t.Errorf("unknown subcommand: %q", got)
	}
	if got := subcommandError(client, args("Client", "a\r\nb")); got != "ERR unknown subcommand 'a  b'. Try CLIENT HELP." {
		t.Errorf("unknown subcommand with newline: %q", got)
	}
	if got := subcommandError(client, args("client", "setname")); got != "ERR wrong number of arguments for 'client|setname' command" {
		t.Errorf("arity: %q", got)
	}
	if got := subcommandError(client, args("client", "SETNAME", "x")); got != "" {
		t.Errorf("good call: %q", got)
	}
}

func TestBytesToHuman(t *testing.T) {
	cases := map[uint64]string{0: "0B", 1023: "1023B", 1024: "1.00K", 1116432: "1.06M", 25276514304: "23.54G"}
	for n, want := range cases {
		if got := bytesToHuman(n); got != want {
			t.Errorf("bytesToHuman(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestLookupQuick: Lookup finds every command in any case, agrees with
// the name map on names that are not commands, and its quick index keeps
// the candidates for a name few.
func TestLookupQuick(t *testing.T) {
	tb := Default
	worst := 0
	for _, l := range tb.quick {
		worst = max(worst, len(l))
	}
	if worst > 3 {
		t.Errorf("a quick index entry holds %d commands", worst)
	}
	for _, c := range tb.All() {
		if c.Name != strings.ToLower(c.Name) {
			t.Fatalf("command name %q is not lowercase", c.Name)
		}
		mixed := []byte(c.Name)
		for i := 0; i < len(mixed); i += 2 {
			mixed[i] = byte(unicode.ToUpper(rune(mixed[i])))
		}
		for _, name := range [][]byte{[]byte(c.Name), []byte(strings.ToUpper(c.Name)), mixed} {
			if got := tb.Lookup(name); got != c {
				t.Errorf("Lookup(%q) = %v, want %s", name, got, c.Name)
			}
		}
		// One byte changed, or added, makes another name.
		for i := range len(c.Name) {
			for _, b := range []byte{'x', '0', '|', 0, 0xff, c.Name[i] ^ 0x20} {
				name := []byte(c.Name)
				name[i] = b
				if got, want := tb.Lookup(name), tb.lookupMap(name); got != want {
					t.Errorf("Lookup(%q) = %v, the map finds %v", name, got, want)
				}
			}
		}
		long := append([]byte(c.Name), 'S')
		if got, want := tb.Lookup(long), tb.lookupMap(long); got != want {
			t.Errorf("Lookup(%q) = %v, the map finds %v", long, got, want)
		}
	}
	for _, name := range []string{"", "x", "getx", "GETX", strings.Repeat("A", 40), "s\x00t"} {
		if got := tb.Lookup([]byte(name)); got != nil {
			t.Errorf("Lookup(%q) = %s", name, got.Name)
		}
	}
}
