package commands

import (
	_ "embed"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"durastore/engine"
)

// Introspection: COMMAND and its subcommands, and the dispatch of the
// subcommands of container commands (CLIENT, COMMAND, CONFIG, ...).
//
// Everything is generated from the table. What a row does not carry (the
// command tips, the key specs, the flags our Flags cannot express such as
// blocking or movablekeys, and the documentation beyond summary, since and
// group) comes from redis_commands.json, recorded from Redis 7.0 by
// scripts/gencommandmeta, and is replayed to the byte. A durastore command
// Redis does not have gets key specs derived from its key positions.

var commandCommands = []*Command{
	{Name: "command", Arity: -1, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "connection"},
		Group: "server", Since: "2.8.13", Summary: "Get array of Redis command details", Handler: cmdCommand,
		Subcommands: []*Command{
			{Name: "command|count", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "connection"},
				Group: "server", Since: "2.8.13", Summary: "Get total number of Redis commands", Handler: cmdCommandCount},
			{Name: "command|docs", Arity: -2, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "connection"},
				Group: "server", Since: "7.0.0", Summary: "Get array of specific Redis command documentation", Handler: cmdCommandDocs},
			{Name: "command|getkeys", Arity: -4, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "connection"},
				Group: "server", Since: "2.8.13", Summary: "Extract keys given a full Redis command", Handler: cmdCommandGetKeys},
			{Name: "command|getkeysandflags", Arity: -4, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "connection"},
				Group: "server", Since: "7.0.0", Summary: "Extract keys and access flags given a full Redis command", Handler: cmdCommandGetKeys},
			{Name: "command|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "connection"},
				Group: "server", Since: "5.0.0", Summary: "Show helpful text about the different subcommands", Handler: cmdCommandHelp},
			{Name: "command|info", Arity: -2, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "connection"},
				Group: "server", Since: "2.8.13", Summary: "Get array of specific Redis command details, or all when no argument is given.", Handler: cmdCommandInfo},
			{Name: "command|list", Arity: -2, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "connection"},
				Group: "server", Since: "7.0.0", Summary: "Get an array of Redis command names", Handler: cmdCommandList},
		}},
}

// ---------------------------------------------------------------------------
// Container commands.

// dispatchSubcommand runs the subcommand args[1] of the container command
// c.Cmd, with Redis's errors for an unknown subcommand or a wrong number of
// arguments. The subcommand's row becomes c.Cmd, so CLIENT LIST shows
// "client|list" as the last command.
func dispatchSubcommand(c *Ctx) {
	if msg := subcommandError(c.Cmd, c.Args); msg != "" {
		c.Env.Stats.RejectedCalls.Add(1)
		c.Error(msg)
		return
	}
	sub := c.Cmd.Subcommand(c.Args[1])
	c.Cmd = sub
	c.S.noteCommand(&sub.Name, c.S.LastActive.Load())
	sub.Handler(c)
}

// subcommandError returns the error Redis gives when args names no
// subcommand of the container cmd, or the wrong number of arguments for
// it; "" when the call is well formed. Dispatch uses it too, since Redis
// reports these before it asks for authentication.
func subcommandError(cmd *Command, args [][]byte) string {
	if len(cmd.Subcommands) == 0 || len(args) < 2 {
		return ""
	}
	sub := cmd.Subcommand(args[1])
	if sub == nil {
		name := args[1]
		if len(name) > 128 {
			name = name[:128]
		}
		return sanitize("ERR unknown subcommand '" + string(name) + "'. Try " + strings.ToUpper(string(args[0])) + " HELP.")
	}
	if !arityOK(sub.Arity, len(args)) {
		return ArityError(sub.Name)
	}
	return ""
}

// replyHelp writes a HELP reply the way Redis's addReplyHelp does: a header
// naming the command, the lines, and the HELP entry.
func replyHelp(c *Ctx, lines []string) {
	name := strings.ToUpper(strings.SplitN(c.Cmd.Name, "|", 2)[0])
	c.W.Array(len(lines) + 3)
	c.W.Simple(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.Simple(l)
	}
	c.W.Simple("HELP")
	c.W.Simple("    Prints this help.")
}

// ---------------------------------------------------------------------------
// COMMAND

// COMMAND [subcommand ...]
// https://redis.io/commands/command/
func cmdCommand(c *Ctx) {
	if len(c.Args) == 1 {
		all := c.Env.Table.All()
		c.W.Array(len(all))
		for _, cmd := range all {
			writeCommandInfo(c.W, cmd)
		}
		return
	}
	dispatchSubcommand(c)
}

// COMMAND COUNT
func cmdCommandCount(c *Ctx) { c.W.Int(int64(len(c.Env.Table.All()))) }

// COMMAND HELP
func cmdCommandHelp(c *Ctx) {
	replyHelp(c, []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}

// lookupFullName finds a command by its full name: "get", or "client|id"
// for a subcommand.
func (t *Table) lookupFullName(name string) *Command {
	base, sub, isSub := strings.Cut(name, "|")
	cmd := t.Lookup([]byte(base))
	if cmd == nil || !isSub {
		return cmd
	}
	if len(cmd.Subcommands) == 0 {
		return nil
	}
	return cmd.Subcommand([]byte(sub))
}

// COMMAND INFO [command-name ...]
func cmdCommandInfo(c *Ctx) {
	if len(c.Args) == 2 {
		all := c.Env.Table.All()
		c.W.Array(len(all))
		for _, cmd := range all {
			writeCommandInfo(c.W, cmd)
		}
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		cmd := c.Env.Table.lookupFullName(string(a))
		if cmd == nil {
			c.W.Null()
			continue
		}
		writeCommandInfo(c.W, cmd)
	}
}

// COMMAND DOCS [command-name ...]
func cmdCommandDocs(c *Ctx) {
	if len(c.Args) == 2 {
		all := c.Env.Table.All()
		c.W.Map(len(all))
		for _, cmd := range all {
			c.W.BulkString(cmd.Name)
			writeCommandDocs(c.W, cmd)
		}
		return
	}
	var found []*Command
	for _, a := range c.Args[2:] {
		if cmd := c.Env.Table.lookupFullName(string(a)); cmd != nil {
			found = append(found, cmd)
		}
	}
	c.W.Map(len(found))
	for _, cmd := range found {
		c.W.BulkString(cmd.Name)
		writeCommandDocs(c.W, cmd)
	}
}

// COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]
func cmdCommandList(c *Ctx) {
	var filter func(*Command) bool
	for i := 2; i < len(c.Args); i++ {
		if !c.Is(i, "filterby") || len(c.Args)-1-i != 2 {
			c.Error(ErrSyntax)
			return
		}
		arg := string(c.Args[i+2])
		switch {
		case c.Is(i+1, "module"):
			filter = func(*Command) bool { return false } // no modules
		case c.Is(i+1, "aclcat"):
			filter = func(cmd *Command) bool {
				for _, cat := range cmd.Categories {
					if strings.EqualFold(cat, arg) {
						return true
					}
				}
				return false
			}
		case c.Is(i+1, "pattern"):
			filter = func(cmd *Command) bool { return engine.GlobMatch(arg, cmd.Name, true) }
		default:
			c.Error(ErrSyntax)
			return
		}
		i += 2
	}
	var names []string
	add := func(cmd *Command) {
		if filter == nil || filter(cmd) {
			names = append(names, cmd.Name)
		}
	}
	for _, cmd := range c.Env.Table.All() {
		add(cmd)
		for _, sub := range cmd.Subcommands {
			add(sub)
		}
	}
	c.W.StringArray(names)
}

// COMMAND GETKEYS command [arg ...] and COMMAND GETKEYSANDFLAGS
func cmdCommandGetKeys(c *Ctx) {
	withFlags := c.Is(1, "getkeysandflags")
	args := c.Args[2:]
	cmd := c.Env.Table.Lookup(args[0])
	if cmd != nil && len(cmd.Subcommands) > 0 && len(args) >= 2 {
		cmd = cmd.Subcommand(args[1])
	}
	if cmd == nil {
		c.Error("ERR Invalid command specified")
		return
	}
	specs := commandKeySpecs(cmd)
	hasKeys := false
	for _, s := range specs {
		if !s.notKey() {
			hasKeys = true
		}
	}
	if !hasKeys {
		c.Error("ERR The command has no key arguments")
		return
	}
	if !arityOK(cmd.Arity, len(args)) {
		c.Error("ERR Invalid number of arguments specified for command")
		return
	}
	keys, ok := keysFromSpecs(cmd, specs, args)
	if !ok {
		if commandHasFlag(cmd, "no_mandatory_keys") {
			c.W.Array(0)
			return
		}
		c.Error("ERR Invalid arguments specified for command")
		return
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		if !withFlags {
			c.W.Bulk(args[k.pos])
			continue
		}
		c.W.Array(2)
		c.W.Bulk(args[k.pos])
		c.W.Set(len(k.flags))
		for _, f := range k.flags {
			c.W.Simple(f)
		}
	}
}

// ---------------------------------------------------------------------------
// Key specs.

// keySpec is one of Redis 7's key specifications: where the search for
// keys begins (an argument index or after a keyword) and how keys are found
// from there (a range, or a count argument).
type keySpec struct {
	flags []string

	bsType      string // "index", "keyword" or "unknown"
	bsIndex     int
	bsKeyword   string
	bsStartFrom int

	fkType    string // "range", "keynum" or "unknown"
	lastKey   int
	keyStep   int
	limit     int
	keyNumIdx int
	firstKey  int
}

func (s *keySpec) notKey() bool {
	for _, f := range s.flags {
		if f == "not_key" {
			return true
		}
	}
	return false
}

func (s *keySpec) hasFlag(name string) bool {
	for _, f := range s.flags {
		if f == name {
			return true
		}
	}
	return false
}

type keyRef struct {
	pos   int
	flags []string
}

// keysFromSpecs finds the keys of a call the way Redis's
// getKeysUsingKeySpecs does. Specs Redis leaves to a command's own key
// extraction (unknown or incomplete ones) contribute what they can; ok is
// false when a spec points outside the arguments.
func keysFromSpecs(cmd *Command, specs []keySpec, args [][]byte) ([]keyRef, bool) {
	argc := len(args)
	var keys []keyRef
	for i := range specs {
		spec := &specs[i]
		if spec.notKey() {
			continue
		}
		first := 0
		switch spec.bsType {
		case "index":
			first = spec.bsIndex
		case "keyword":
			// As Redis: the search stops before reaching end.
			start, end := spec.bsStartFrom, argc-1
			if spec.bsStartFrom <= 0 {
				start, end = argc+spec.bsStartFrom, 1
			}
			for j := start; j != end; j += step(start, end) {
				if j >= argc || j < 1 {
					break
				}
				if strings.EqualFold(string(args[j]), spec.bsKeyword) {
					first = j + 1
					break
				}
			}
			if first == 0 {
				continue
			}
		default:
			continue
		}
		var last, kstep int
		switch spec.fkType {
		case "range":
			kstep = spec.keyStep
			switch {
			case spec.lastKey >= 0:
				last = first + spec.lastKey
			case spec.limit == 0:
				last = argc + spec.lastKey
			default:
				last = first + ((argc-first)/spec.limit + spec.lastKey)
			}
		case "keynum":
			kstep = spec.keyStep
			if first+spec.keyNumIdx >= argc {
				return nil, false
			}
			n, ok := ParseInt(args[first+spec.keyNumIdx])
			if !ok || n < 0 || n > int64(argc) {
				return nil, false
			}
			first += spec.firstKey
			last = first + int(n) - 1
			if n == 0 {
				continue
			}
		default:
			continue
		}
		if last >= argc || last < first || first >= argc {
			return nil, false
		}
		flags := spec.flags
		if spec.hasFlag("variable_flags") {
			flags = variableKeyFlags(cmd, args)
		}
		for j := first; j <= last; j += kstep {
			keys = append(keys, keyRef{pos: j, flags: flags})
		}
	}
	return keys, true
}

func step(start, end int) int {
	if start <= end {
		return 1
	}
	return -1
}

// variableKeyFlags gives the key flags of the commands whose specs are
// marked variable_flags, as their getkeys procs in Redis do.
func variableKeyFlags(cmd *Command, args [][]byte) []string {
	switch cmd.Name {
	case "set":
		for _, a := range args[3:] {
			if strings.EqualFold(string(a), "get") {
				return []string{"RW", "access", "update"}
			}
		}
		return []string{"OW", "update"}
	case "bitfield":
		for _, a := range args[2:] {
			switch strings.ToLower(string(a)) {
			case "set", "incrby":
				return []string{"RW", "access", "update"}
			}
		}
		return []string{"RO", "access"}
	}
	return nil
}

// ---------------------------------------------------------------------------
// COMMAND INFO and COMMAND DOCS replies.

// redisFlagOrder is the order in which Redis 7.0 lists command flags
// (addReplyCommandFlags); may_replicate is hidden on purpose, as there.
var redisFlagOrder = []string{
	"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
	"loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
	"no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy",
}

// redisCategoryOrder is the order of Redis's ACL categories, in which
// COMMAND lists them.
var redisCategoryOrder = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
	"dangerous", "connection", "transaction", "scripting",
}

// commandFlagNames lists a command's flags as COMMAND shows them: the
// row's flags, plus those the row cannot express taken from Redis's record.
func commandFlagNames(cmd *Command) []string {
	set := map[string]bool{}
	for _, n := range cmd.Flags.Names() {
		set[n] = true
	}
	if m := lookupMeta(cmd.Name); m != nil {
		for _, f := range m.Flags {
			if !rowExpressible(f) {
				set[f] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for _, f := range redisFlagOrder {
		if set[f] {
			out = append(out, f)
		}
	}
	return out
}

// rowExpressible reports whether a Redis flag name is one our Flags has.
func rowExpressible(name string) bool {
	for _, fn := range flagNames {
		if fn.name == name {
			return true
		}
	}
	return false
}

func commandHasFlag(cmd *Command, name string) bool {
	for _, f := range commandFlagNames(cmd) {
		if f == name {
			return true
		}
	}
	return false
}

// sortedCategories orders a row's categories as Redis does.
func sortedCategories(cats []string) []string {
	out := make([]string, 0, len(cats))
	for _, want := range redisCategoryOrder {
		for _, c := range cats {
			if strings.EqualFold(c, want) {
				out = append(out, want)
				break
			}
		}
	}
	for _, c := range cats {
		known := false
		for _, want := range redisCategoryOrder {
			if strings.EqualFold(c, want) {
				known = true
			}
		}
		if !known {
			out = append(out, strings.ToLower(c))
		}
	}
	return out
}

// writeCommandInfo writes one command's COMMAND INFO entry, Redis 7.0's
// ten fields: name, arity, flags, first key, last key, step, ACL
// categories, tips, key specs and subcommands.
func writeCommandInfo(w *Writer, cmd *Command) {
	m := lookupMeta(cmd.Name)
	w.Array(10)
	w.BulkString(cmd.Name)
	w.Int(int64(cmd.Arity))
	flags := commandFlagNames(cmd)
	w.Set(len(flags))
	for _, f := range flags {
		w.Simple(f)
	}
	w.Int(int64(cmd.FirstKey))
	w.Int(int64(cmd.LastKey))
	w.Int(int64(cmd.Step))
	cats := sortedCategories(cmd.Categories)
	w.Set(len(cats))
	for _, cat := range cats {
		w.Simple("@" + cat)
	}
	var tips []string
	if m != nil {
		tips = m.Tips
	}
	w.Set(len(tips))
	for _, t := range tips {
		w.BulkString(t)
	}
	w.B = append(w.B, keySpecsRaw(cmd, w.RESP)...)
	if len(cmd.Subcommands) == 0 {
		w.Set(0)
	} else {
		w.Array(len(cmd.Subcommands))
		for _, sub := range cmd.Subcommands {
			writeCommandInfo(w, sub)
		}
	}
}

// writeCommandDocs writes one command's COMMAND DOCS map.
func writeCommandDocs(w *Writer, cmd *Command) {
	m := lookupMeta(cmd.Name)
	n := 1 // group
	if cmd.Summary != "" {
		n++
	}
	if cmd.Since != "" {
		n++
	}
	if m != nil {
		n += m.DocsN
	}
	if len(cmd.Subcommands) > 0 {
		n++
	}
	w.Map(n)
	if cmd.Summary != "" {
		w.BulkString("summary")
		w.BulkString(cmd.Summary)
	}
	if cmd.Since != "" {
		w.BulkString("since")
		w.BulkString(cmd.Since)
	}
	w.BulkString("group")
	w.BulkString(cmd.Group)
	if m != nil && m.DocsN > 0 {
		if w.RESP == 3 {
			w.B = append(w.B, m.Docs...)
		} else {
			w.B = append(w.B, m.docs2...)
		}
	}
	if len(cmd.Subcommands) > 0 {
		w.BulkString("subcommands")
		w.Map(len(cmd.Subcommands))
		for _, sub := range cmd.Subcommands {
			w.BulkString(sub.Name)
			writeCommandDocs(w, sub)
		}
	}
}

// keySpecsRaw returns the encoded key specs of cmd for protocol resp.
func keySpecsRaw(cmd *Command, resp int) string {
	if m := lookupMeta(cmd.Name); m != nil {
		if m.KeySpecs == "" {
			if resp == 3 {
				return "~0\r\n"
			}
			return "*0\r\n"
		}
		if resp == 3 {
			return m.KeySpecs
		}
		return m.keySpecs2
	}
	raw := derivedKeySpecs(cmd)
	if resp == 3 {
		return raw
	}
	return resp3to2(raw)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// commandKeySpecs returns cmd's key specs, parsed.
func commandKeySpecs(cmd *Command) []keySpec {
	if m := lookupMeta(cmd.Name); m != nil {
		return m.specs
	}
	return parseKeySpecs(derivedKeySpecs(cmd))
}

// derivedKeySpecs builds the key spec of a command Redis does not have from
// its key positions: one range beginning at the first key.
func derivedKeySpecs(cmd *Command) string {
	if cmd.FirstKey <= 0 {
		return "~0\r\n"
	}
	flags := []string{"RO", "access"}
	if cmd.Flags&Write != 0 {
		flags = []string{"RW", "update"}
	}
	last := cmd.LastKey - cmd.FirstKey
	if cmd.LastKey < 0 {
		last = cmd.LastKey
	}
	w := &Writer{RESP: 3}
	w.Set(1)
	w.Map(3)
	w.BulkString("flags")
	w.Set(len(flags))
	for _, f := range flags {
		w.Simple(f)
	}
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	w.BulkString("index")
	w.BulkString("spec")
	w.Map(1)
	w.BulkString("index")
	w.Int(int64(cmd.FirstKey))
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	w.BulkString("range")
	w.BulkString("spec")
	w.Map(3)
	w.BulkString("lastkey")
	w.Int(int64(last))
	w.BulkString("keystep")
	w.Int(int64(max(cmd.Step, 1)))
	w.BulkString("limit")
	w.Int(0)
	return string(w.B)
}

// ---------------------------------------------------------------------------
// Redis's command records.

//go:embed redis_commands.json
var redisCommandsJSON []byte

// redisMeta is what Redis 7.0 reports for one command (see
// scripts/gencommandmeta). Key specs and docs are raw RESP3.
type redisMeta struct {
	Arity    int      `json:"arity"`
	Flags    []string `json:"flags"`
	First    int      `json:"first"`
	Last     int      `json:"last"`
	Step     int      `json:"step"`
	ACL      []string `json:"acl"`
	Tips     []string `json:"tips"`
	KeySpecs string   `json:"key_specs"`
	Summary  string   `json:"summary"`
	Since    string   `json:"since"`
	Group    string   `json:"group"`
	Docs     string   `json:"docs"`
	DocsN    int      `json:"docs_n"`

	keySpecs2 string // KeySpecs in RESP2
	docs2     string // Docs in RESP2
	specs     []keySpec
}

var (
	redisMetaOnce   sync.Once
	redisMetaByName map[string]*redisMeta
)

// newerRedisMeta records the commands we follow from Redis versions after
// 7.0 (CLIENT SETINFO and CLIENT NO-TOUCH arrived in 7.2).
var newerRedisMeta = map[string]*redisMeta{
	"client|setinfo": {Arity: 4, Flags: []string{"noscript", "loading", "stale"}, ACL: []string{"slow", "connection"},
		Tips:    []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
		Summary: "Sets information specific to the client or connection.", Since: "7.2.0", Group: "connection",
		Docs: "$10\r\ncomplexity\r\n$4\r\nO(1)\r\n", DocsN: 1},
	"client|no-touch": {Arity: 3, Flags: []string{"noscript", "loading", "stale"}, ACL: []string{"slow", "connection"},
		Summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", Since: "7.2.0",
		Group: "connection", Docs: "$10\r\ncomplexity\r\n$4\r\nO(1)\r\n", DocsN: 1},
}

// lookupMeta returns Redis's record of a command by full name, or nil.
func lookupMeta(name string) *redisMeta {
	redisMetaOnce.Do(loadRedisMeta)
	return redisMetaByName[name]
}

func loadRedisMeta() {
	m := map[string]*redisMeta{}
	if err := json.Unmarshal(redisCommandsJSON, &m); err != nil {
		panic("commands: redis_commands.json: " + err.Error())
	}
	for name, rm := range newerRedisMeta {
		m[name] = rm
	}
	for _, rm := range m {
		if rm.KeySpecs != "" {
			rm.keySpecs2 = resp3to2(rm.KeySpecs)
			rm.specs = parseKeySpecs(rm.KeySpecs)
		}
		if rm.Docs != "" {
			rm.docs2 = resp3to2(rm.Docs)
		}
	}
	redisMetaByName = m
}

// ---------------------------------------------------------------------------
// A small RESP3 reader for the recorded replies.

type respValue struct {
	typ   byte
	str   string
	num   int64
	elems []respValue // maps hold keys and values alternately
}

// parseResp reads one value from raw and returns it and the rest.
func parseResp(raw string) (respValue, string) {
	i := strings.Index(raw, "\r\n")
	line, rest := raw[:i], raw[i+2:]
	v := respValue{typ: line[0]}
	switch line[0] {
	case '+', '-', ',', '(':
		v.str = line[1:]
	case ':':
		v.num, _ = strconv.ParseInt(line[1:], 10, 64)
	case '#':
		v.str = line[1:]
	case '$', '=':
		n, _ := strconv.Atoi(line[1:])
		if n >= 0 {
			v.str, rest = rest[:n], rest[n+2:]
		}
	case '*', '~', '%':
		n, _ := strconv.Atoi(line[1:])
		if line[0] == '%' {
			n *= 2
		}
		for j := 0; j < n; j++ {
			var e respValue
			e, rest = parseResp(rest)
			v.elems = append(v.elems, e)
		}
	}
	return v, rest
}

// resp3to2 converts a sequence of RESP3 values to RESP2 as Redis would
// have written them to a RESP2 client: maps become flat arrays, sets
// arrays, doubles and verbatim strings bulk strings, booleans integers.
func resp3to2(raw string) string {
	w := &Writer{RESP: 2}
	for raw != "" {
		var v respValue
		v, raw = parseResp(raw)
		writeResp2(w, v)
	}
	return string(w.B)
}

func writeResp2(w *Writer, v respValue) {
	switch v.typ {
	case '+':
		w.Simple(v.str)
	case '-':
		w.Error(v.str)
	case ':':
		w.Int(v.num)
	case '$', ',', '(':
		w.BulkString(v.str)
	case '=':
		w.BulkString(v.str[min(4, len(v.str)):]) // drop the "txt:" format
	case '#':
		w.Int(int64(btoi(v.str == "t")))
	case '_':
		w.B = append(w.B, "$-1\r\n"...)
	default: // aggregates
		w.Array(len(v.elems))
		for _, e := range v.elems {
			writeResp2(w, e)
		}
	}
}

// mapGet returns the value of key in a parsed map.
func (v respValue) mapGet(key string) (respValue, bool) {
	for i := 0; i+1 < len(v.elems); i += 2 {
		if v.elems[i].str == key {
			return v.elems[i+1], true
		}
	}
	return respValue{}, false
}

// parseKeySpecs reads recorded key specs.
func parseKeySpecs(raw string) []keySpec {
	list, _ := parseResp(raw)
	specs := make([]keySpec, 0, len(list.elems))
	for _, m := range list.elems {
		var s keySpec
		if f, ok := m.mapGet("flags"); ok {
			for _, e := range f.elems {
				s.flags = append(s.flags, e.str)
			}
		}
		bs, _ := m.mapGet("begin_search")
		t, _ := bs.mapGet("type")
		spec, _ := bs.mapGet("spec")
		s.bsType = t.str
		if v, ok := spec.mapGet("index"); ok {
			s.bsIndex = int(v.num)
		}
		if v, ok := spec.mapGet("keyword"); ok {
			s.bsKeyword = v.str
		}
		if v, ok := spec.mapGet("startfrom"); ok {
			s.bsStartFrom = int(v.num)
		}
		fk, _ := m.mapGet("find_keys")
		t, _ = fk.mapGet("type")
		spec, _ = fk.mapGet("spec")
		s.fkType = t.str
		for key, dst := range map[string]*int{"lastkey": &s.lastKey, "keystep": &s.keyStep, "limit": &s.limit,
			"keynumidx": &s.keyNumIdx, "firstkey": &s.firstKey} {
			if v, ok := spec.mapGet(key); ok {
				*dst = int(v.num)
			}
		}
		specs = append(specs, s)
	}
	return specs
}
