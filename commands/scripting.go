package commands

// Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, on
// github.com/yuin/gopher-lua (Lua 5.1), with Redis 7.0's API, conversions,
// sandbox and error replies.
//
// A script runs inside one exclusive engine transaction (or inside EXEC's),
// so it is atomic: every redis.call uses that transaction and no other
// client runs meanwhile. Compiled scripts are kept by SHA1 and Lua states
// are pooled, so EVALSHA costs a lookup, not a compile or a new
// interpreter. Past busy-reply-threshold other clients get BUSY and SCRIPT
// KILL stops the script through the state's context. A killed script that
// runs in its own transaction is rolled back, so unlike Redis we can kill
// a script that has written (Redis answers UNKILLABLE): a looping script
// never hangs the server.

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"durastore/engine"
)

var scriptingCommands = []*Command{
	{Name: "eval", Arity: -3, Flags: NoScript | Stale | SkipMonitor | NoTx,
		Categories: []string{"slow", "scripting"}, Group: "scripting", Since: "2.6.0",
		Summary: "Execute a Lua script server side", Handler: cmdEval},
	{Name: "evalsha", Arity: -3, Flags: NoScript | Stale | SkipMonitor | NoTx,
		Categories: []string{"slow", "scripting"}, Group: "scripting", Since: "2.6.0",
		Summary: "Execute a Lua script server side", Handler: cmdEvalSHA},
	{Name: "eval_ro", Arity: -3, Flags: ReadOnly | NoScript | Stale | SkipMonitor | NoTx,
		Categories: []string{"slow", "scripting"}, Group: "scripting", Since: "7.0.0",
		Summary: "Execute a read-only Lua script server side", Handler: cmdEvalRO},
	{Name: "evalsha_ro", Arity: -3, Flags: ReadOnly | NoScript | Stale | SkipMonitor | NoTx,
		Categories: []string{"slow", "scripting"}, Group: "scripting", Since: "7.0.0",
		Summary: "Execute a read-only Lua script server side", Handler: cmdEvalSHARO},
	{Name: "script", Arity: -2, Flags: NoTx, Categories: []string{"slow"}, Group: "scripting", Since: "2.6.0",
		Summary: "A container for Lua scripts management commands", Handler: dispatchSubcommand,
		Subcommands: []*Command{
			{Name: "script|debug", Arity: 3, Flags: NoScript | NoTx, Categories: []string{"slow", "scripting"},
				Group: "scripting", Since: "3.2.0", Summary: "Set the debug mode for executed scripts.", Handler: cmdScriptDebug},
			{Name: "script|exists", Arity: -3, Flags: NoScript | NoTx, Categories: []string{"slow", "scripting"},
				Group: "scripting", Since: "2.6.0", Summary: "Check existence of scripts in the script cache.", Handler: cmdScriptExists},
			{Name: "script|flush", Arity: -2, Flags: NoScript | NoTx, Categories: []string{"slow", "scripting"},
				Group: "scripting", Since: "2.6.0", Summary: "Remove all the scripts from the script cache.", Handler: cmdScriptFlush},
			{Name: "script|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"slow", "scripting"},
				Group: "scripting", Since: "5.0.0", Summary: "Show helpful text about the different subcommands", Handler: cmdScriptHelp},
			{Name: "script|kill", Arity: 2, Flags: NoScript | AllowBusy | NoTx, Categories: []string{"slow", "scripting"},
				Group: "scripting", Since: "2.6.0", Summary: "Kill the script currently in execution.", Handler: cmdScriptKill},
			{Name: "script|load", Arity: 3, Flags: NoScript | Stale | NoTx, Categories: []string{"slow", "scripting"},
				Group: "scripting", Since: "2.6.0", Summary: "Load the specified Lua script into the script cache.", Handler: cmdScriptLoad},
		}},
}

// Redis's scripting errors, to the byte.
const (
	errNoScript       = "NOSCRIPT No matching script. Please use EVAL."
	errNotBusy        = "NOTBUSY No scripts in execution right now."
	errUnkillable     = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errBusyScript     = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errKeysNegative   = "ERR Number of keys can't be negative"
	errKeysTooMany    = "ERR Number of keys can't be greater than number of args"
	errScriptKilled   = "ERR Script killed by user with SCRIPT KILL..."
	errUnknownFromLua = "Unknown Redis command called from script"
	errArityFromLua   = "Wrong number of args calling Redis command from script"
	errNoScriptCmd    = "This Redis command is not allowed from script"
	errROScriptWrite  = "Write commands are not allowed from read-only scripts."
	errLuaArgType     = "Lua redis lib command arguments must be strings or integers"
	errReadonlyTable  = "Attempt to modify a readonly table"
	scriptSource      = "@user_script"
)

// maxCompiled bounds how many compiled scripts are kept; the bodies stay
// (EVALSHA must keep working until SCRIPT FLUSH, as in Redis 7.0) and a
// script whose compiled form was dropped is compiled again on use.
const maxCompiled = 2000

// lrand48Max is Redis's REDIS_LRAND48_MAX.
const lrand48Max = math.MaxInt32

// scriptEnv is the scripting state of an Env. Its zero value is ready.
type scriptEnv struct {
	mu       sync.Mutex
	scripts  map[string]*scriptEntry
	compiled int
	pool     chan *luaState

	// cur is the script running now, nil if none. Dispatch reads it to
	// answer BUSY; SCRIPT KILL to stop it.
	cur atomic.Pointer[scriptRun]

	// rand is math.random's generator, shared by all scripts as Redis's
	// single Lua interpreter shares it. Scripts run one at a time.
	rand rand48
}

// scriptEntry is one cached script.
type scriptEntry struct {
	body     string
	proto    *lua.FunctionProto // nil when dropped from the compiled cache
	noWrites bool               // shebang flag no-writes
}

// scriptRun is one running script.
type scriptRun struct {
	env       *Env
	c         *Ctx
	tx        *engine.Tx
	sha       string
	readOnly  bool
	resp      int
	start     time.Time
	ownTx     bool // runs in its own transaction, which a kill rolls back
	cancel    context.CancelFunc
	killed    atomic.Bool
	wrote     atomic.Bool
	errLine   int
	errSource string
	w         Writer
	// oom is the memory state when the script began: then, as in Redis,
	// redis.call of a denyoom command fails.
	oom bool
}

// sha1hex is the lower-case hex SHA1 of s, as Redis names scripts.
func sha1hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ---------------------------------------------------------------------------
// Commands.

// EVAL script numkeys [key ...] [arg ...]
// https://redis.io/commands/eval/
func cmdEval(c *Ctx) { evalGeneric(c, false, false) }

// EVALSHA sha1 numkeys [key ...] [arg ...]
// https://redis.io/commands/evalsha/
func cmdEvalSHA(c *Ctx) { evalGeneric(c, true, false) }

// EVAL_RO script numkeys [key ...] [arg ...]
// https://redis.io/commands/eval_ro/
func cmdEvalRO(c *Ctx) { evalGeneric(c, false, true) }

// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
// https://redis.io/commands/evalsha_ro/
func cmdEvalSHARO(c *Ctx) { evalGeneric(c, true, true) }

func evalGeneric(c *Ctx, bySHA, readOnly bool) {
	numkeys, ok := c.Int(2)
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if numkeys > int64(len(c.Args)-3) {
		c.Error(errKeysTooMany)
		return
	}
	if numkeys < 0 {
		c.Error(errKeysNegative)
		return
	}
	st := &c.Env.scripts
	var ent *scriptEntry
	var sha string
	if bySHA {
		sha = strings.ToLower(string(c.Args[1]))
		if len(sha) == 40 {
			ent = st.lookup(sha)
		}
		if ent == nil {
			c.Error(errNoScript)
			return
		}
	} else {
		body := string(c.Args[1])
		sha = sha1hex(body)
		if ent = st.lookup(sha); ent == nil {
			var msg string
			if ent, msg = st.create(sha, body); msg != "" {
				c.Error(msg)
				return
			}
		}
	}
	proto, msg := st.compiledProto(ent)
	if msg != "" {
		c.Error(msg)
		return
	}
	keys := c.Args[3 : 3+numkeys]
	argv := c.Args[3+numkeys:]
	c.Env.runScript(c, sha, proto, keys, argv, readOnly || ent.noWrites)
}

// SCRIPT LOAD script
func cmdScriptLoad(c *Ctx) {
	st := &c.Env.scripts
	body := string(c.Args[2])
	sha := sha1hex(body)
	if st.lookup(sha) == nil {
		if _, msg := st.create(sha, body); msg != "" {
			c.Error(msg)
			return
		}
	}
	c.W.BulkString(sha)
}

// SCRIPT EXISTS sha1 [sha1 ...]
func cmdScriptExists(c *Ctx) {
	st := &c.Env.scripts
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if st.lookup(strings.ToLower(string(a))) != nil {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

// SCRIPT FLUSH [ASYNC|SYNC]
func cmdScriptFlush(c *Ctx) {
	if len(c.Args) > 3 || len(c.Args) == 3 && !c.Is(2, "sync") && !c.Is(2, "async") {
		c.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	st := &c.Env.scripts
	st.mu.Lock()
	st.scripts = nil
	st.compiled = 0
	st.mu.Unlock()
	c.W.OK()
}

// SCRIPT KILL
//
// Redis serves SCRIPT KILL only once a script has run past
// busy-reply-threshold (before that it serves nobody); so does this,
// waiting for the threshold if the script is younger.
func cmdScriptKill(c *Ctx) {
	st := &c.Env.scripts
	for {
		run := st.cur.Load()
		if run == nil {
			c.Error(errNotBusy)
			return
		}
		limit := c.Env.busyThreshold()
		age := time.Since(run.start)
		if limit <= 0 || age >= limit {
			if !run.ownTx && run.wrote.Load() {
				c.Error(errUnkillable)
				return
			}
			run.kill()
			c.W.OK()
			return
		}
		wait := limit - age
		if wait > 10*time.Millisecond {
			wait = 10 * time.Millisecond
		}
		time.Sleep(wait)
	}
}

// SCRIPT DEBUG YES|SYNC|NO
func cmdScriptDebug(c *Ctx) {
	switch {
	case c.Is(2, "no"):
		c.W.OK()
	case c.Is(2, "yes") || c.Is(2, "sync"):
		c.Error("ERR the Lua debugger is not supported")
	default:
		c.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO")
	}
}

// SCRIPT HELP
func cmdScriptHelp(c *Ctx) {
	replyHelp(c, []string{
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	})
}

// busyThreshold is busy-reply-threshold (alias lua-time-limit).
func (e *Env) busyThreshold() time.Duration {
	ms := int64(5000)
	if e.Host != nil {
		if v, err := strconv.ParseInt(e.Host.ConfigValue("busy-reply-threshold"), 10, 64); err == nil {
			ms = v
		}
	}
	return time.Duration(ms) * time.Millisecond
}

// busyReply is the BUSY error for a command arriving while a script has
// run past the threshold, "" if the command may run.
func (e *Env) busyReply(cmd *Command, args [][]byte) string {
	run := e.scripts.cur.Load()
	if run == nil || run.killed.Load() {
		// A killed script ends at its next instruction: wait for it.
		return ""
	}
	limit := e.busyThreshold()
	if limit <= 0 || time.Since(run.start) < limit {
		return ""
	}
	flags := cmd.Flags
	if len(cmd.Subcommands) > 0 && len(args) >= 2 {
		if sub := cmd.Subcommand(args[1]); sub != nil {
			flags = sub.Flags
		}
	}
	if flags&AllowBusy != 0 {
		return ""
	}
	return errBusyScript
}

// ---------------------------------------------------------------------------
// The script cache.

func (st *scriptEnv) lookup(sha string) *scriptEntry {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.scripts[sha]
}

// create compiles body and caches it under sha; on failure it returns
// Redis's error reply.
func (st *scriptEnv) create(sha, body string) (*scriptEntry, string) {
	src, noWrites, msg := scriptShebang(body)
	if msg != "" {
		return nil, msg
	}
	proto, err := compileLua(src)
	if err != "" {
		return nil, "ERR Error compiling script (new function): " + err
	}
	ent := &scriptEntry{body: body, proto: proto, noWrites: noWrites}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.scripts == nil {
		st.scripts = map[string]*scriptEntry{}
	}
	if old := st.scripts[sha]; old != nil {
		return old, ""
	}
	st.scripts[sha] = ent
	st.noteCompiled()
	return ent, ""
}

// compiledProto returns the entry's compiled script, compiling it again if
// the bounded cache dropped it.
func (st *scriptEnv) compiledProto(ent *scriptEntry) (*lua.FunctionProto, string) {
	st.mu.Lock()
	p := ent.proto
	st.mu.Unlock()
	if p != nil {
		return p, ""
	}
	src, _, msg := scriptShebang(ent.body)
	if msg != "" {
		return nil, msg
	}
	p, err := compileLua(src)
	if err != "" {
		return nil, "ERR Error compiling script (new function): " + err
	}
	st.mu.Lock()
	if ent.proto == nil {
		ent.proto = p
		st.noteCompiled()
	}
	st.mu.Unlock()
	return p, ""
}

// noteCompiled counts a newly compiled entry and, past the bound, drops
// the compiled form of others. st.mu must be held.
func (st *scriptEnv) noteCompiled() {
	st.compiled++
	if st.compiled <= maxCompiled {
		return
	}
	for _, e := range st.scripts {
		if st.compiled <= maxCompiled*3/4 {
			break
		}
		if e.proto != nil {
			e.proto = nil
			st.compiled--
		}
	}
}

// scriptShebang reads Redis 7's "#!lua flags=..." first line. It returns
// the source to compile (the shebang line blanked, so line numbers stay)
// and whether the script declared no-writes.
func scriptShebang(body string) (src string, noWrites bool, errMsg string) {
	if !strings.HasPrefix(body, "#!") {
		return body, false, ""
	}
	line, rest, _ := strings.Cut(body, "\n")
	parts := strings.Split(line, " ")
	if parts[0] != "#!lua" {
		return "", false, "ERR Unexpected engine in script shebang: " + parts[0]
	}
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		flags, ok := strings.CutPrefix(p, "flags=")
		if !ok {
			return "", false, "ERR Unknown lua shebang option: " + p
		}
		for _, f := range strings.Split(flags, ",") {
			switch f {
			case "no-writes":
				noWrites = true
			case "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys", "":
			default:
				return "", false, "ERR Unexpected flag in script shebang: " + f
			}
		}
	}
	if strings.Contains(body, "\n") {
		return "\n" + rest, noWrites, ""
	}
	return "", noWrites, ""
}

// compileLua compiles a script body; the error is in Lua's words where we
// can tell them ("user_script:1: unexpected symbol near '<eof>'").
func compileLua(src string) (*lua.FunctionProto, string) {
	chunk, err := parse.Parse(strings.NewReader(src), "user_script")
	if err != nil {
		return nil, luaSyntaxError(err, src)
	}
	proto, err := lua.Compile(chunk, "user_script")
	if err != nil {
		return nil, "user_script: " + err.Error()
	}
	return proto, ""
}

// luaSyntaxError rewrites gopher-lua's parse error ("user_script
// line:1(column:9) near '+':   syntax error", "user_script at EOF:
// syntax error") in Lua 5.1's form where it can tell ("user_script:1:
// unexpected symbol near '+'"); the wording of rarer errors differs.
func luaSyntaxError(err error, src string) string {
	msg := strings.TrimSpace(err.Error())
	what := strings.TrimSpace(msg[strings.LastIndex(msg, ":")+1:])
	switch what {
	case "syntax error", "":
		what = "unexpected symbol"
	case "unterminated string":
		what = "unfinished string"
	}
	line, near := "", ""
	if i := strings.Index(msg, "line:"); i >= 0 {
		j := i + 5
		for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
			j++
		}
		line = msg[i+5 : j]
	}
	if i := strings.Index(msg, "near '"); i >= 0 {
		if j := strings.Index(msg[i+6:], "'"); j >= 0 {
			near = msg[i+6 : i+6+j]
		}
	}
	if strings.Contains(msg, " at EOF:") || near == "EOF" {
		near = "<eof>"
		line = strconv.Itoa(strings.Count(src, "\n") + 1)
	}
	if line == "" {
		line = "1"
	}
	if near != "" {
		return "user_script:" + line + ": " + what + " near '" + near + "'"
	}
	return "user_script:" + line + ": " + what
}

// ---------------------------------------------------------------------------
// Running a script.

// runScript runs a compiled script atomically and writes its reply.
func (e *Env) runScript(c *Ctx, sha string, proto *lua.FunctionProto, keys, argv [][]byte, readOnly bool) {
	if c.Tx != nil {
		// Inside EXEC: the transaction is EXEC's.
		e.execScript(c, c.Tx, sha, proto, keys, argv, readOnly, false)
		return
	}
	start := len(c.W.B)
	err := e.Store.Exclusive(func(tx *engine.Tx) error {
		if e.execScript(c, tx, sha, proto, keys, argv, readOnly, true) {
			return engine.ErrRollback
		}
		return nil
	})
	if err != nil {
		c.W.B = c.W.B[:start]
		c.Error(WriteErrorReply(err))
	}
}

// execScript runs the script in tx and writes its reply; it reports
// whether the script was killed (its writes must then be undone).
func (e *Env) execScript(c *Ctx, tx *engine.Tx, sha string, proto *lua.FunctionProto, keys, argv [][]byte, readOnly, ownTx bool) bool {
	st := e.scripts.get(e)
	L := st.L
	ctx, cancel := context.WithCancel(context.Background())
	run := &scriptRun{env: e, c: c, tx: tx, sha: sha, readOnly: readOnly, resp: 2,
		start: time.Now(), ownTx: ownTx, cancel: cancel}
	if max := e.Store.MaxMemory(); max > 0 && e.Store.UsedMemory() > max {
		run.oom = true
	}
	db, dbIndex := c.S.DB, c.S.DBIndex
	st.run = run
	st.globals.RawSetString("KEYS", luaArray(L, keys))
	st.globals.RawSetString("ARGV", luaArray(L, argv))
	fn := L.NewFunctionFromProto(proto)
	fn.Env = st.env
	L.SetContext(ctx)
	e.scripts.cur.Store(run)
	L.Push(fn)
	err := L.PCall(0, 1, st.errHandler)
	e.scripts.cur.Store(nil)
	cancel()
	L.RemoveContext()
	if c.S.DB != db || c.S.DBIndex != dbIndex {
		// SELECT inside a script changes the script's database only.
		c.S.Select(db, dbIndex)
	}
	if err != nil {
		c.Error(run.errorReply(err))
	} else {
		ret := L.Get(-1)
		luaToReply(c, c.W, ret, run.resp, 0)
	}
	L.SetTop(0)
	st.run = nil
	st.globals.RawSetString("KEYS", lua.LNil)
	st.globals.RawSetString("ARGV", lua.LNil)
	e.scripts.put(st)
	return run.killed.Load()
}

// luaArray makes a Lua array of strings.
func luaArray(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for i, it := range items {
		t.RawSetInt(i+1, lua.LString(it))
	}
	return t
}

// errorReply builds the reply for a script that raised an error, in Redis
// 7.0's form: "<error> script: <sha>, on @user_script:<line>."
func (run *scriptRun) errorReply(err error) string {
	var msg string
	if run.killed.Load() {
		msg = errScriptKilled
	} else if ae, ok := err.(*lua.ApiError); ok {
		switch v := ae.Object.(type) {
		case *lua.LTable:
			switch ev := v.RawGetString("err").(type) {
			case lua.LString:
				msg = string(ev)
			case lua.LNumber:
				msg = luaNumberString(float64(ev))
			default:
				msg = "ERR unknown error"
			}
		case lua.LString:
			msg = "ERR " + string(v)
		case lua.LNumber:
			msg = "ERR " + luaNumberString(float64(v))
		case nil:
			msg = "ERR " + ae.Error()
		default:
			if ae.Type == lua.ApiErrorPanic {
				msg = "ERR " + ae.Error()
			} else {
				msg = "ERR " + v.String()
			}
		}
	} else {
		msg = "ERR " + err.Error()
	}
	if run.errLine > 0 {
		msg += " script: " + run.sha + ", on " + run.errSource + ":" + strconv.Itoa(run.errLine) + "."
	}
	return msg
}

// ---------------------------------------------------------------------------
// Lua states.

// luaState is a pooled interpreter with Redis's sandbox.
type luaState struct {
	L          *lua.LState
	globals    *lua.LTable // what scripts see as globals (read through env)
	env        *lua.LTable // the scripts' environment: an empty read-only proxy
	protected  map[*lua.LTable]bool
	errHandler *lua.LFunction
	run        *scriptRun
	origPcall  lua.LValue
	origTostr  lua.LValue
	origSetmt  lua.LValue
	origRawset lua.LValue
	origTonum  lua.LValue
	strMeta    *lua.LTable // read-only view of the strings' metatable
	// chunks maps the names of chunks made by loadstring to their
	// source, which Redis's error replies quote.
	chunks map[string]string
}

func (st *scriptEnv) get(e *Env) *luaState {
	st.mu.Lock()
	if st.pool == nil {
		st.pool = make(chan *luaState, 4)
	}
	pool := st.pool
	st.mu.Unlock()
	select {
	case s := <-pool:
		return s
	default:
		return newLuaState(e)
	}
}

func (st *scriptEnv) put(s *luaState) {
	select {
	case st.pool <- s:
	default:
		s.L.Close()
	}
}

// luaLibraries are the globals Redis 7.0 gives scripts besides its own.
var luaBaseAllowed = []string{
	"xpcall", "tostring", "setmetatable", "next", "assert", "tonumber", "rawequal",
	"collectgarbage", "getmetatable", "rawset", "pcall", "type", "select", "unpack",
	"pairs", "rawget", "loadstring", "ipairs", "load", "error", "_VERSION",
}

func newLuaState(e *Env) *luaState {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       4096,
		MinimizeStackMemory: true,
		RegistrySize:        1024,
		RegistryMaxSize:     1 << 22,
		RegistryGrowStep:    1024,
	})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	s := &luaState{L: L, protected: map[*lua.LTable]bool{}}
	real := L.G.Global
	s.origPcall = real.RawGetString("pcall")
	s.origTostr = real.RawGetString("tostring")
	s.origSetmt = real.RawGetString("setmetatable")
	s.origRawset = real.RawGetString("rawset")

	g := L.NewTable()
	for _, name := range luaBaseAllowed {
		g.RawSetString(name, real.RawGetString(name))
	}
	g.RawSetString("_VERSION", lua.LString("Lua 5.1"))
	g.RawSetString("gcinfo", L.NewFunction(luaGCInfo))
	g.RawSetString("tostring", L.NewFunction(s.luaTostring))
	g.RawSetString("pcall", L.NewFunction(s.luaPcall))
	g.RawSetString("error", L.NewFunction(luaErrorFn))
	g.RawSetString("setmetatable", L.NewFunction(s.luaSetmetatable))
	g.RawSetString("getmetatable", L.NewFunction(s.luaGetmetatable))
	g.RawSetString("rawset", L.NewFunction(s.luaRawset))
	s.origTonum = real.RawGetString("tonumber")
	g.RawSetString("tonumber", L.NewFunction(s.luaTonumber))
	g.RawSetString("loadstring", L.NewFunction(s.luaLoadstring))

	math := real.RawGetString("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(e.scripts.luaRandom))
	math.RawSetString("randomseed", L.NewFunction(e.scripts.luaRandomSeed))

	libs := map[string]*lua.LTable{
		"string":    real.RawGetString("string").(*lua.LTable),
		"math":      math,
		"table":     real.RawGetString("table").(*lua.LTable),
		"coroutine": real.RawGetString("coroutine").(*lua.LTable),
		"redis":     s.redisLib(e),
		"cjson":     openCJSON(L),
		"bit":       openBit(L),
		"struct":    openStruct(L),
		"cmsgpack":  openCMsgpack(L),
	}
	for name, t := range libs {
		g.RawSetString(name, s.readonlyProxy(t))
	}
	// Strings' methods go through the read-only string table too.
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		mt.RawSetString("__index", g.RawGetString("string"))
		s.protected[mt] = true
	}

	// Reading a missing global is an error; the environment scripts see
	// is an empty proxy over g, so any assignment to a global fails.
	gmt := L.NewTable()
	gmt.RawSetString("__index", L.NewFunction(luaMissingGlobal))
	L.SetMetatable(g, gmt)
	env := L.NewTable()
	emt := L.NewTable()
	emt.RawSetString("__index", g)
	emt.RawSetString("__newindex", L.NewFunction(luaReadonlyError))
	L.SetMetatable(env, emt)
	g.RawSetString("_G", env)
	for _, t := range []*lua.LTable{g, gmt, env, emt} {
		s.protected[t] = true
	}
	s.globals, s.env = g, env
	// Chunks made by loadstring/load inside scripts get the sandbox too.
	L.Env = env
	s.errHandler = L.NewFunction(s.luaErrHandler)
	return s
}

// readonlyProxy returns an empty table that reads through to t and
// refuses writes, as Redis 7 makes its library tables read-only.
func (s *luaState) readonlyProxy(t *lua.LTable) *lua.LTable {
	L := s.L
	p := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(luaReadonlyError))
	L.SetMetatable(p, mt)
	s.protected[p] = true
	s.protected[mt] = true
	s.protected[t] = true
	return p
}

func luaReadonlyError(L *lua.LState) int {
	L.RaiseError(errReadonlyTable)
	return 0
}

func luaMissingGlobal(L *lua.LState) int {
	name := L.Get(2)
	L.RaiseError("Script attempted to access nonexistent global variable '%s'", luaToStringPlain(name))
	return 0
}

// luaErrHandler runs where the error happened, before the stack unwinds:
// it records the line of the innermost Lua function, which Redis's
// __redis__err__handler reports.
func (s *luaState) luaErrHandler(L *lua.LState) int {
	if s.run != nil {
		for level := 1; level < 256; level++ {
			dbg, ok := L.GetStack(level)
			if !ok {
				break
			}
			if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
				continue
			}
			if dbg.What != "G" && dbg.CurrentLine > 0 {
				s.run.errLine = dbg.CurrentLine
				s.run.errSource = scriptSource
				if src, ok := s.chunks[dbg.Source]; ok {
					s.run.errSource = src
				}
				break
			}
		}
	}
	L.Push(L.Get(1))
	return 1
}

// luaPcall is Redis's pcall: an error that is a table with an err field
// (what redis.call raises) is returned as its err string.
func (s *luaState) luaPcall(L *lua.LState) int {
	n := L.GetTop()
	L.Insert(s.origPcall, 1)
	L.Call(n, lua.MultRet)
	if L.GetTop() >= 2 && L.Get(1) == lua.LFalse {
		if t, ok := L.Get(2).(*lua.LTable); ok {
			switch ev := t.RawGetString("err").(type) {
			case lua.LString:
				L.Replace(2, ev)
			case lua.LNumber:
				L.Replace(2, lua.LString(luaNumberString(float64(ev))))
			}
		}
	}
	return L.GetTop()
}

// luaErrorFn is Lua's error, with numbers made strings as Lua 5.1 does
// (so they get the position prefix).
func luaErrorFn(L *lua.LState) int {
	v := L.Get(1)
	level := L.OptInt(2, 1)
	if n, ok := v.(lua.LNumber); ok {
		v = lua.LString(luaNumberString(float64(n)))
	}
	L.Error(v, level)
	return 0
}

// luaTostring formats numbers as Lua 5.1 does ("%.14g").
func (s *luaState) luaTostring(L *lua.LState) int {
	if n, ok := L.Get(1).(lua.LNumber); ok {
		L.Push(lua.LString(luaNumberString(float64(n))))
		return 1
	}
	L.Insert(s.origTostr, 1)
	L.Call(L.GetTop()-1, 1)
	return 1
}

func (s *luaState) luaSetmetatable(L *lua.LState) int {
	if t, ok := L.Get(1).(*lua.LTable); ok && s.protected[t] {
		L.RaiseError(errReadonlyTable)
	}
	L.Insert(s.origSetmt, 1)
	L.Call(L.GetTop()-1, 1)
	return 1
}

func (s *luaState) luaGetmetatable(L *lua.LState) int {
	v := L.CheckAny(1)
	mt := L.GetMetatable(v)
	if t, ok := mt.(*lua.LTable); ok && s.protected[t] {
		if _, isStr := v.(lua.LString); isStr {
			if s.strMeta == nil {
				s.strMeta = s.readonlyProxy(t)
			}
			L.Push(s.strMeta)
			return 1
		}
		L.Push(lua.LNil)
		return 1
	}
	if t, ok := mt.(*lua.LTable); ok {
		if m := t.RawGetString("__metatable"); m != lua.LNil {
			L.Push(m)
			return 1
		}
	}
	L.Push(mt)
	return 1
}

func (s *luaState) luaRawset(L *lua.LState) int {
	if t, ok := L.Get(1).(*lua.LTable); ok && s.protected[t] {
		L.RaiseError(errReadonlyTable)
	}
	L.Insert(s.origRawset, 1)
	L.Call(L.GetTop()-1, 1)
	return 1
}

// luaLoadstring is Lua 5.1's loadstring: the chunk is named as
// luaO_chunkid names it ([string "..."]), so errors read as on Redis.
func (s *luaState) luaLoadstring(L *lua.LState) int {
	src := L.CheckString(1)
	name := L.OptString(2, src)
	id := luaChunkID(name)
	chunk, err := parse.Parse(strings.NewReader(src), id)
	if err == nil {
		var proto *lua.FunctionProto
		if proto, err = lua.Compile(chunk, id); err == nil {
			if s.chunks == nil || len(s.chunks) > 1000 {
				s.chunks = map[string]string{}
			}
			s.chunks[id] = name
			fn := L.NewFunctionFromProto(proto)
			fn.Env = s.env
			L.Push(fn)
			return 1
		}
	}
	L.Push(lua.LNil)
	L.Push(lua.LString(luaSyntaxError(err, src)))
	return 2
}

// luaChunkID is Lua 5.1's luaO_chunkid for a chunk name.
func luaChunkID(source string) string {
	switch {
	case strings.HasPrefix(source, "="):
		return truncate(source[1:], 59)
	case strings.HasPrefix(source, "@"):
		return truncate(source[1:], 59)
	}
	n := strings.IndexAny(source, "\n\r")
	if n < 0 {
		n = len(source)
	}
	const max = 60 - 17
	if n > max {
		n = max
	}
	if n < len(source) {
		return "[string \"" + source[:n] + "...\"]"
	}
	return "[string \"" + source + "\"]"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// luaTonumber converts decimal strings as Lua 5.1 does (strtod: "1e2",
// " 5 ", "0x10"); other bases go to gopher-lua's.
func (s *luaState) luaTonumber(L *lua.LState) int {
	if L.GetTop() == 1 {
		if str, ok := L.Get(1).(lua.LString); ok {
			t := strings.TrimSpace(string(str))
			if f, err := strconv.ParseFloat(t, 64); err == nil && !strings.ContainsAny(t, "_pP") {
				L.Push(lua.LNumber(f))
				return 1
			}
			if h, ok := strings.CutPrefix(strings.ToLower(t), "0x"); ok {
				if n, err := strconv.ParseUint(h, 16, 64); err == nil {
					L.Push(lua.LNumber(float64(n)))
					return 1
				}
			}
			L.Push(lua.LNil)
			return 1
		}
	}
	L.Insert(s.origTonum, 1)
	L.Call(L.GetTop()-1, 1)
	return 1
}

func luaGCInfo(L *lua.LState) int {
	L.Push(lua.LNumber(0))
	return 1
}

// luaNumberString formats a number as Lua 5.1's tostring ("%.14g").
func luaNumberString(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// luaToStringPlain is lua_tostring for messages.
func luaToStringPlain(v lua.LValue) string {
	if n, ok := v.(lua.LNumber); ok {
		return luaNumberString(float64(n))
	}
	return v.String()
}

// ---------------------------------------------------------------------------
// The redis library.

func (s *luaState) redisLib(e *Env) *lua.LTable {
	L := s.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":               func(L *lua.LState) int { return s.redisCall(L, true) },
		"pcall":              func(L *lua.LState) int { return s.redisCall(L, false) },
		"sha1hex":            luaSha1hex,
		"error_reply":        luaErrorReply,
		"status_reply":       luaStatusReply,
		"log":                luaLog,
		"setresp":            s.luaSetResp,
		"set_repl":           luaSetRepl,
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":              func(L *lua.LState) int { return 0 },
		"acl_check_cmd":      s.luaACLCheck,
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]int{"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3} {
		t.RawSetString(name, lua.LNumber(v))
	}
	version := "7.0.15"
	if e.Host != nil {
		if v := e.Host.ServerInfo().RedisVersion; v != "" {
			version = v
		}
	}
	t.RawSetString("REDIS_VERSION", lua.LString(version))
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(versionNum(version)))
	return t
}

// versionNum packs "7.0.15" as Redis's REDIS_VERSION_NUM (0x07000f).
func versionNum(v string) int {
	n := 0
	parts := strings.SplitN(v, ".", 3)
	for i := 0; i < 3; i++ {
		x := 0
		if i < len(parts) {
			x, _ = strconv.Atoi(parts[i])
		}
		n = n<<8 | (x & 0xff)
	}
	return n
}

// luaErrorTable is Redis's luaPushErrorBuff: "-CODE msg" keeps its code,
// anything else gets ERR.
func luaErrorTable(L *lua.LState, s string) *lua.LTable {
	var code, msg string
	if strings.HasPrefix(s, "-") {
		if i := strings.IndexByte(s, ' '); i >= 0 {
			code, msg = s[1:i], s[i+1:]
		} else {
			code, msg = "ERR", s[1:]
		}
	} else {
		code, msg = "ERR", s
	}
	msg = strings.Trim(msg, "\r\n")
	t := L.NewTable()
	t.RawSetString("err", lua.LString(code+" "+msg))
	return t
}

// raiseErrorTable raises a Redis error table (redis.call's failures).
func raiseErrorTable(L *lua.LState, s string) int {
	L.Error(luaErrorTable(L, s), 0)
	return 0
}

// redisCall is redis.call (raise) and redis.pcall.
func (s *luaState) redisCall(L *lua.LState, raise bool) int {
	run := s.run
	fail := func(msg string) int {
		if raise {
			return raiseErrorTable(L, msg)
		}
		L.Push(luaErrorTable(L, msg))
		return 1
	}
	if run == nil {
		return raiseErrorTable(L, "redis.call/pcall can only be called inside a script invocation")
	}
	n := L.GetTop()
	if n == 0 {
		return fail("Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(string(v))
		case lua.LNumber:
			args[i-1] = strconv.AppendFloat(nil, float64(v), 'g', 17, 64)
		default:
			return fail(errLuaArgType)
		}
	}
	L.SetTop(0)
	reply, errMsg := run.dispatch(args)
	if errMsg != "" {
		return fail(errMsg)
	}
	v, isErr := respToLua(L, reply)
	if isErr && raise {
		L.Error(v, 0)
		return 0
	}
	L.Push(v)
	return 1
}

// dispatch runs one command for a script and returns its raw reply, or
// the error that kept it from running.
func (run *scriptRun) dispatch(args [][]byte) ([]byte, string) {
	e := run.env
	base := e.Table.Lookup(args[0])
	if base == nil {
		return nil, errUnknownFromLua
	}
	cmd := base
	if len(base.Subcommands) > 0 && len(args) >= 2 {
		if cmd = base.Subcommand(args[1]); cmd == nil {
			return nil, errUnknownFromLua
		}
	}
	if !arityOK(cmd.Arity, len(args)) {
		return nil, errArityFromLua
	}
	if cmd.Flags&NoScript != 0 {
		return nil, errNoScriptCmd
	}
	if cmd.Flags&DenyOOM != 0 && run.oom {
		return nil, "-" + errOOM
	}
	if cmd.Flags&Write != 0 {
		if run.readOnly {
			return nil, errROScriptWrite
		}
		run.wrote.Store(true)
	}
	w := &run.w
	w.B = w.B[:0]
	w.RESP = run.resp
	e.Stats.Commands.Add(1)
	base.Handler(&Ctx{Env: e, S: run.c.S, Args: args, W: w, Cmd: base, Tx: run.tx})
	return w.B, ""
}

func luaSha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		return raiseErrorTable(L, "wrong number of arguments")
	}
	s := ""
	switch v := L.Get(1).(type) {
	case lua.LString:
		s = string(v)
	case lua.LNumber:
		s = luaNumberString(float64(v))
	}
	L.Push(lua.LString(sha1hex(s)))
	return 1
}

func luaErrorReply(L *lua.LState) int {
	v, ok := L.Get(-1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(luaErrorTable(L, "wrong number or type of arguments"))
		return 1
	}
	s := string(v)
	if !strings.HasPrefix(s, "-") {
		s = "-" + s
	}
	L.Push(luaErrorTable(L, s))
	return 1
}

func luaStatusReply(L *lua.LState) int {
	v, ok := L.Get(-1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(luaErrorTable(L, "wrong number or type of arguments"))
		return 1
	}
	t := L.NewTable()
	t.RawSetString("ok", v)
	L.Push(t)
	return 1
}

// luaIsNumber is lua_isnumber: a number or a string that converts.
func luaIsNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		f, err := strconv.ParseFloat(strings.TrimSpace(string(x)), 64)
		return f, err == nil
	}
	return 0, false
}

func luaLog(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		return raiseErrorTable(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := luaIsNumber(L.Get(1))
	if !ok {
		return raiseErrorTable(L, "First argument must be a number (log level).")
	}
	level := int(lv)
	if level < 0 || level > 3 {
		return raiseErrorTable(L, "Invalid debug level.")
	}
	var b strings.Builder
	for i := 2; i <= n; i++ {
		var s string
		switch v := L.Get(i).(type) {
		case lua.LString:
			s = string(v)
		case lua.LNumber:
			s = luaNumberString(float64(v))
		default:
			continue
		}
		if i != 2 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	switch level {
	case 0, 1:
		slog.Debug(b.String(), "source", "script")
	case 2:
		slog.Info(b.String(), "source", "script")
	default:
		slog.Warn(b.String(), "source", "script")
	}
	return 0
}

func (s *luaState) luaSetResp(L *lua.LState) int {
	if L.GetTop() != 1 {
		return raiseErrorTable(L, "redis.setresp() requires one argument.")
	}
	n, _ := luaIsNumber(L.Get(1))
	if n != 2 && n != 3 {
		return raiseErrorTable(L, "RESP version must be 2 or 3.")
	}
	if s.run != nil {
		s.run.resp = int(n)
	}
	return 0
}

func luaSetRepl(L *lua.LState) int {
	if L.GetTop() != 1 {
		return raiseErrorTable(L, "redis.set_repl() requires two arguments.")
	}
	n, _ := luaIsNumber(L.Get(1))
	if int(n)&^3 != 0 {
		return raiseErrorTable(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	return 0
}

func (s *luaState) luaACLCheck(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		return raiseErrorTable(L, "Please specify at least one argument for this redis lib call")
	}
	name, ok := L.Get(1).(lua.LString)
	if !ok || s.run == nil || s.run.env.Table.Lookup([]byte(name)) == nil {
		return raiseErrorTable(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	L.Push(lua.LTrue)
	return 1
}

// ---------------------------------------------------------------------------
// math.random, as Redis's (rand48, shared by all scripts).

type rand48 struct {
	x      uint64
	seeded bool
}

func (r *rand48) seed(v int32) {
	r.x = uint64(uint32(v))<<16 | 0x330E
	r.seeded = true
}

func (r *rand48) next() int32 {
	if !r.seeded {
		r.x = 0x1234ABCD330E
		r.seeded = true
	}
	r.x = (0x5DEECE66D*r.x + 0xB) & (1<<48 - 1)
	return int32(r.x >> 17)
}

func (st *scriptEnv) luaRandom(L *lua.LState) int {
	r := float64(st.rand.next()%lrand48Max) / float64(lrand48Max)
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := L.CheckInt(1)
		if u < 1 {
			L.RaiseError("bad argument #1 to 'random' (interval is empty)")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l := L.CheckInt(1)
		u := L.CheckInt(2)
		if l > u {
			L.RaiseError("bad argument #2 to 'random' (interval is empty)")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (st *scriptEnv) luaRandomSeed(L *lua.LState) int {
	st.rand.seed(int32(L.CheckInt(1)))
	return 0
}

// ---------------------------------------------------------------------------
// Conversions.

// luaToReply writes a script's Lua value as a Redis reply, with Redis's
// rules: strings are bulk strings, numbers integers (truncated), true 1
// and false nil (RESP2), tables arrays up to the first nil unless they
// carry err, ok, double, big_number, verbatim_string, map or set.
func luaToReply(c *Ctx, w *Writer, v lua.LValue, scriptResp, depth int) {
	if depth > 1000 {
		c.Env.Stats.ErrorReplies.Add(1)
		w.Error("ERR reached lua stack limit")
		return
	}
	switch x := v.(type) {
	case lua.LString:
		w.BulkString(string(x))
	case lua.LBool:
		if scriptResp == 2 {
			if x {
				w.Int(1)
			} else {
				w.Null()
			}
		} else {
			w.Bool(bool(x))
		}
	case lua.LNumber:
		w.Int(luaToInt64(float64(x)))
	case *lua.LTable:
		if e, ok := x.RawGetString("err").(lua.LString); ok {
			c.Env.Stats.ErrorReplies.Add(1)
			w.Error(string(e))
			return
		}
		if s, ok := x.RawGetString("ok").(lua.LString); ok {
			w.Simple(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
			return
		}
		if d, ok := x.RawGetString("double").(lua.LNumber); ok {
			writeDouble(w, float64(d))
			return
		}
		if s, ok := x.RawGetString("big_number").(lua.LString); ok {
			bn := strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s))
			if w.RESP == 3 {
				w.B = append(w.B, '(')
				w.B = append(w.B, bn...)
				w.B = append(w.B, '\r', '\n')
			} else {
				w.BulkString(bn)
			}
			return
		}
		if vt, ok := x.RawGetString("verbatim_string").(*lua.LTable); ok {
			f, fok := vt.RawGetString("format").(lua.LString)
			s, sok := vt.RawGetString("string").(lua.LString)
			if fok && sok {
				if w.RESP == 3 {
					format := string(f)
					if len(format) > 3 {
						format = format[:3]
					}
					w.B = append(w.B, '=')
					w.B = strconv.AppendInt(w.B, int64(len(s)+4), 10)
					w.B = append(w.B, '\r', '\n')
					w.B = append(w.B, format...)
					w.B = append(w.B, ':')
					w.B = append(w.B, s...)
					w.B = append(w.B, '\r', '\n')
				} else {
					w.BulkString(string(s))
				}
				return
			}
		}
		if m, ok := x.RawGetString("map").(*lua.LTable); ok {
			var sub Writer
			sub.RESP = w.RESP
			n := 0
			m.ForEach(func(k, val lua.LValue) {
				luaToReply(c, &sub, k, scriptResp, depth+1)
				luaToReply(c, &sub, val, scriptResp, depth+1)
				n++
			})
			w.Map(n)
			w.B = append(w.B, sub.B...)
			return
		}
		if set, ok := x.RawGetString("set").(*lua.LTable); ok {
			var sub Writer
			sub.RESP = w.RESP
			n := 0
			set.ForEach(func(k, _ lua.LValue) {
				luaToReply(c, &sub, k, scriptResp, depth+1)
				n++
			})
			w.Set(n)
			w.B = append(w.B, sub.B...)
			return
		}
		n := 0
		for x.RawGetInt(n+1) != lua.LNil {
			n++
		}
		w.Array(n)
		for i := 1; i <= n; i++ {
			luaToReply(c, w, x.RawGetInt(i), scriptResp, depth+1)
		}
	default:
		w.Null()
	}
}

// writeDouble writes a double as Redis 7.0's addReplyDouble ("%.17g").
func writeDouble(w *Writer, f float64) {
	var s string
	switch {
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	default:
		s = strconv.FormatFloat(f, 'g', 17, 64)
	}
	if w.RESP == 3 {
		w.B = append(w.B, ',')
		w.B = append(w.B, s...)
		w.B = append(w.B, '\r', '\n')
		return
	}
	w.BulkString(s)
}

// luaToInt64 is C's (long long) cast of a double, as x86 does it: out of
// range and NaN give the minimum.
func luaToInt64(f float64) int64 {
	if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int64(f)
}

// respToLua converts one raw reply to a Lua value with Redis's rules; it
// reports whether the reply was an error.
func respToLua(L *lua.LState, b []byte) (lua.LValue, bool) {
	p := respParser{b: b, L: L}
	v := p.value()
	return v, p.firstErr
}

type respParser struct {
	b        []byte
	pos      int
	L        *lua.LState
	firstErr bool
	depth    int
}

func (p *respParser) line() string {
	i := p.pos
	for i+1 < len(p.b) && !(p.b[i] == '\r' && p.b[i+1] == '\n') {
		i++
	}
	s := string(p.b[p.pos:i])
	p.pos = i + 2
	return s
}

func (p *respParser) value() lua.LValue {
	if p.pos >= len(p.b) {
		return lua.LNil
	}
	top := p.depth == 0
	p.depth++
	defer func() { p.depth-- }()
	L := p.L
	t := p.b[p.pos]
	p.pos++
	switch t {
	case '+':
		tb := L.NewTable()
		tb.RawSetString("ok", lua.LString(p.line()))
		return tb
	case '-':
		if top {
			p.firstErr = true
		}
		return luaErrorTable(L, "-"+p.line())
	case ':':
		n, _ := strconv.ParseInt(p.line(), 10, 64)
		return lua.LNumber(n)
	case '$':
		n, _ := strconv.Atoi(p.line())
		if n < 0 {
			return lua.LFalse
		}
		s := string(p.b[p.pos : p.pos+n])
		p.pos += n + 2
		return lua.LString(s)
	case '*', '>':
		n, _ := strconv.Atoi(p.line())
		if n < 0 {
			return lua.LFalse
		}
		tb := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			tb.RawSetInt(i, p.value())
		}
		return tb
	case '%':
		n, _ := strconv.Atoi(p.line())
		m := L.NewTable()
		for i := 0; i < n; i++ {
			k := p.value()
			v := p.value()
			if k != lua.LNil {
				m.RawSet(k, v)
			}
		}
		tb := L.NewTable()
		tb.RawSetString("map", m)
		return tb
	case '~':
		n, _ := strconv.Atoi(p.line())
		m := L.NewTable()
		for i := 0; i < n; i++ {
			if k := p.value(); k != lua.LNil {
				m.RawSet(k, lua.LTrue)
			}
		}
		tb := L.NewTable()
		tb.RawSetString("set", m)
		return tb
	case '_':
		p.line()
		return lua.LNil
	case '#':
		return lua.LBool(p.line() == "t")
	case ',':
		s := p.line()
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			switch s {
			case "inf":
				f = math.Inf(1)
			case "-inf":
				f = math.Inf(-1)
			default:
				f = math.NaN()
			}
		}
		tb := L.NewTable()
		tb.RawSetString("double", lua.LNumber(f))
		return tb
	case '(':
		tb := L.NewTable()
		tb.RawSetString("big_number", lua.LString(p.line()))
		return tb
	case '=':
		n, _ := strconv.Atoi(p.line())
		s := string(p.b[p.pos : p.pos+n])
		p.pos += n + 2
		format, str := "txt", s
		if len(s) >= 4 && s[3] == ':' {
			format, str = s[:3], s[4:]
		}
		vt := L.NewTable()
		vt.RawSetString("string", lua.LString(str))
		vt.RawSetString("format", lua.LString(format))
		tb := L.NewTable()
		tb.RawSetString("verbatim_string", vt)
		return tb
	case '|':
		// Attributes are skipped; the reply follows at the same level.
		n, _ := strconv.Atoi(p.line())
		for i := 0; i < 2*n; i++ {
			p.value()
		}
		p.depth--
		v := p.value()
		p.depth++
		return v
	case '!':
		n, _ := strconv.Atoi(p.line())
		s := string(p.b[p.pos : p.pos+n])
		p.pos += n + 2
		if top {
			p.firstErr = true
		}
		return luaErrorTable(L, "-"+s)
	}
	return lua.LNil
}

// StopScripts kills the running script, if any, so the server can stop
// (its own transaction rolls back).
func (e *Env) StopScripts() {
	if run := e.scripts.cur.Load(); run != nil {
		run.kill()
	}
}

// kill stops the script at its next instruction.
func (run *scriptRun) kill() {
	run.killed.Store(true)
	run.cancel()
}

// String describes a running script for logs.
func (run *scriptRun) String() string {
	return fmt.Sprintf("script %s running for %v", run.sha, time.Since(run.start))
}
