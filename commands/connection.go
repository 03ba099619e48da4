package commands

import (
	"crypto/subtle"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"durastore/engine"
)

// Connection commands: https://redis.io/commands/?group=connection
var connectionCommands = []*Command{
	{Name: "ping", Arity: -1, Flags: Fast | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "1.0.0", Summary: "Ping the server", Handler: cmdPing},
	{Name: "echo", Arity: 2, Flags: Loading | Stale | Fast | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "1.0.0", Summary: "Echo the given string", Handler: cmdEcho},
	{Name: "quit", Arity: -1, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "1.0.0", Summary: "Close the connection", Handler: cmdQuit},
	{Name: "select", Arity: 2, Flags: Loading | Stale | Fast | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "1.0.0", Summary: "Change the selected database for the current connection", Handler: cmdSelect},
	{Name: "hello", Arity: -1, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "6.0.0", Summary: "Handshake with Redis", Handler: cmdHello},
	{Name: "auth", Arity: -2, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "1.0.0", Summary: "Authenticate to the server", Handler: cmdAuth},
	{Name: "reset", Arity: 1, Flags: NoScript | Loading | Stale | Fast | NoAuth | AllowBusy | NoTx, Categories: []string{"fast", "connection"},
		Group: "connection", Since: "6.2.0", Summary: "Reset the connection", Handler: cmdReset},
	{Name: "client", Arity: -2, Flags: NoTx, Categories: []string{"slow"},
		Group: "connection", Since: "2.4.0", Summary: "A container for client connection commands", Handler: dispatchSubcommand,
		Subcommands: clientSubcommands},
}

// clientFlags are the flags most CLIENT subcommands share.
const clientFlags = NoScript | Loading | Stale | NoTx

var clientAdmin = []string{"admin", "slow", "dangerous", "connection"}
var clientConn = []string{"slow", "connection"}

var clientSubcommands = []*Command{
	{Name: "client|caching", Arity: 3, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "6.0.0", Summary: "Instruct the server about tracking or not keys in the next request", Handler: cmdClientCaching},
	{Name: "client|getredir", Arity: 2, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "6.0.0", Summary: "Get tracking notifications redirection client ID if any", Handler: cmdClientGetRedir},
	{Name: "client|getname", Arity: 2, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "2.6.9", Summary: "Get the current connection name", Handler: cmdClientGetName},
	{Name: "client|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: clientConn,
		Group: "connection", Since: "5.0.0", Summary: "Show helpful text about the different subcommands", Handler: cmdClientHelp},
	{Name: "client|id", Arity: 2, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "5.0.0", Summary: "Returns the client ID for the current connection", Handler: cmdClientID},
	{Name: "client|info", Arity: 2, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "6.2.0", Summary: "Returns information about the current client connection.", Handler: cmdClientInfo},
	{Name: "client|kill", Arity: -3, Flags: Admin | clientFlags, Categories: clientAdmin,
		Group: "connection", Since: "2.4.0", Summary: "Kill the connection of a client", Handler: cmdClientKill},
	{Name: "client|list", Arity: -2, Flags: Admin | clientFlags, Categories: clientAdmin,
		Group: "connection", Since: "2.4.0", Summary: "Get the list of client connections", Handler: cmdClientList},
	{Name: "client|no-evict", Arity: 3, Flags: Admin | clientFlags, Categories: clientAdmin,
		Group: "connection", Since: "7.0.0", Summary: "Set client eviction mode for the current connection", Handler: cmdClientNoEvict},
	{Name: "client|pause", Arity: -3, Flags: Admin | clientFlags, Categories: clientAdmin,
		Group: "connection", Since: "2.9.50", Summary: "Stop processing commands from clients for some time", Handler: cmdClientPause},
	{Name: "client|reply", Arity: 3, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "3.2.0", Summary: "Instruct the server whether to reply to commands", Handler: cmdClientReply},
	{Name: "client|tracking", Arity: -3, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "6.0.0", Summary: "Enable or disable server assisted client side caching support", Handler: cmdClientTracking},
	{Name: "client|trackinginfo", Arity: 2, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "6.2.0", Summary: "Return information about server assisted client side caching for the current connection", Handler: cmdClientTrackingInfo},
	{Name: "client|unblock", Arity: -3, Flags: Admin | clientFlags, Categories: clientAdmin,
		Group: "connection", Since: "5.0.0", Summary: "Unblock a client blocked in a blocking command from a different connection", Handler: cmdClientUnblock},
	{Name: "client|unpause", Arity: 2, Flags: Admin | clientFlags, Categories: clientAdmin,
		Group: "connection", Since: "6.2.0", Summary: "Resume processing of clients that were paused", Handler: cmdClientUnpause},
	{Name: "client|no-touch", Arity: 3, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "7.2.0", Summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", Handler: cmdClientNoTouch},
	{Name: "client|setinfo", Arity: 4, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "7.2.0", Summary: "Sets information specific to the client or connection.", Handler: cmdClientSetInfo},
	{Name: "client|setname", Arity: 3, Flags: clientFlags, Categories: clientConn,
		Group: "connection", Since: "2.6.9", Summary: "Set the current connection name", Handler: cmdClientSetName},
}

// PING [message]
// https://redis.io/commands/ping/
func cmdPing(c *Ctx) {
	if c.S.ext.subscribed() && c.W.RESP == 2 {
		// In RESP2 pub/sub mode, as Redis: *2 pong <message or "">.
		c.W.Array(2)
		c.W.BulkString("pong")
		if len(c.Args) == 1 {
			c.W.BulkString("")
		} else {
			c.W.Bulk(c.Args[1])
		}
		return
	}
	switch len(c.Args) {
	case 1:
		c.W.Simple("PONG")
	case 2:
		c.W.Bulk(c.Args[1])
	default:
		c.Error(ArityError("ping"))
	}
}

// ECHO message
// https://redis.io/commands/echo/
func cmdEcho(c *Ctx) { c.W.Bulk(c.Args[1]) }

// QUIT
// https://redis.io/commands/quit/
func cmdQuit(c *Ctx) {
	c.W.OK()
	c.S.Closing = true
}

// SELECT index | name
// https://redis.io/commands/select/
//
// A number selects a numbered database as on Redis; a name of letters,
// digits, '_' and '-' selects (and on first write creates) a named
// namespace, durastore's extension.
func cmdSelect(c *Ctx) {
	name, index, errMsg := ResolveNamespace(c.Env.Store, c.Str(1))
	if errMsg != "" {
		c.Error(errMsg)
		return
	}
	c.S.Select(name, index)
	c.W.OK()
}

// ResolveNamespace maps a SELECT argument to a namespace name and its
// database index (-1 for a named namespace), or returns Redis's error.
func ResolveNamespace(st *engine.Store, arg string) (string, int, string) {
	if looksNumeric(arg) {
		n, ok := ParseInt([]byte(arg))
		if !ok {
			return "", 0, ErrNotInt
		}
		if n < math32Min || n > math32Max {
			return "", 0, errInt32Range
		}
		if n < 0 || n >= int64(st.Databases()) {
			return "", 0, ErrDBIndex
		}
		return strconv.FormatInt(n, 10), int(n), ""
	}
	if !engine.ValidName(arg) {
		return "", 0, ErrNotInt
	}
	return arg, -1, ""
}

const (
	math32Min = -1 << 31
	math32Max = 1<<31 - 1
)

// looksNumeric reports whether s is made of digits with an optional sign,
// so it is read as a database index rather than a namespace name.
func looksNumeric(s string) bool {
	if s == "" {
		return true
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i = 1
	}
	if i == len(s) {
		return true
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// HELLO and AUTH

// Replies of HELLO and AUTH, to the byte.
const (
	ErrNoAuth    = "NOAUTH Authentication required."
	ErrWrongPass = "WRONGPASS invalid username-password pair or user is disabled."
	errHelloAuth = "NOAUTH HELLO must be called with the client already authenticated, otherwise the " +
		"HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP " +
		"protocol version at the same time"
	errAuthNoPass = "ERR AUTH <password> called without any password configured for the default user. " +
		"Are you sure your configuration is correct?"
	errClientName = "ERR Client names cannot contain spaces, newlines or special characters."
)

// defaultUser is the only user there is until ACLs arrive.
const defaultUser = "default"

// requirePass is the configured password, "" when none is required.
func requirePass(e *Env) string {
	if e.Host == nil {
		return ""
	}
	return e.Host.RequirePass()
}

// AuthRequired reports whether s must authenticate before running cmd.
// Like Redis it asks the live configuration, so a password set or cleared
// by CONFIG SET takes effect for connections that have not authenticated.
func (e *Env) AuthRequired(s *Session, cmd *Command) bool {
	return !s.Authed && cmd.Flags&NoAuth == 0 && requirePass(e) != ""
}

// authenticate checks a username and password against the default user:
// with no password configured it accepts any password, as Redis's nopass
// user does.
func authenticate(c *Ctx, user, pass []byte) bool {
	if string(user) != defaultUser {
		return false
	}
	want := requirePass(c.Env)
	if want == "" || subtle.ConstantTimeCompare([]byte(want), pass) == 1 {
		c.S.Authed = true
		return true
	}
	return false
}

// AUTH [username] password
// https://redis.io/commands/auth/
func cmdAuth(c *Ctx) {
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	user, pass := []byte(defaultUser), c.Args[1]
	if len(c.Args) == 2 {
		if requirePass(c.Env) == "" {
			c.Error(errAuthNoPass)
			return
		}
	} else {
		user, pass = c.Args[1], c.Args[2]
	}
	if !authenticate(c, user, pass) {
		c.Error(ErrWrongPass)
		return
	}
	c.W.OK()
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
// https://redis.io/commands/hello/
//
// Switching to RESP3 changes the encoding of this reply already, and of
// every later one, including the rest of a pipeline.
func cmdHello(c *Ctx) {
	var ver int64
	next := 1
	if len(c.Args) >= 2 {
		v, ok := c.Int(1)
		if !ok {
			c.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.Error("NOPROTO unsupported protocol version")
			return
		}
		ver, next = v, 2
	}
	// As Redis 7.0, AUTH and SETNAME take effect as they are read, even
	// when a later option is wrong or authentication is still missing.
	for j := next; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch {
		case c.Is(j, "auth") && more >= 2:
			if !authenticate(c, c.Args[j+1], c.Args[j+2]) {
				c.Error(ErrWrongPass)
				return
			}
			j += 2
		case c.Is(j, "setname") && more >= 1:
			if !validClientAttr(c.Args[j+1]) {
				c.Error(errClientName)
				return
			}
			c.S.SetName(string(c.Args[j+1]))
			j++
		default:
			c.Error(sanitize("ERR Syntax error in HELLO option '" + string(c.Args[j]) + "'"))
			return
		}
	}
	if !c.S.Authed && requirePass(c.Env) != "" {
		c.Error(errHelloAuth)
		return
	}
	if ver != 0 {
		c.S.mu.Lock()
		c.S.RESP = int(ver)
		c.S.mu.Unlock()
		c.W.RESP = int(ver)
	}
	info := hostInfo(c.Env)
	c.W.Map(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(info.RedisVersion)
	c.W.BulkString("proto")
	c.W.Int(int64(c.W.RESP))
	c.W.BulkString("id")
	c.W.Int(c.S.ID)
	c.W.BulkString("mode")
	c.W.BulkString("standalone")
	c.W.BulkString("role")
	c.W.BulkString("master")
	c.W.BulkString("modules")
	c.W.Array(0)
}

// hostInfo asks the host for its description, with defaults when commands
// run without a server (tests of the package).
func hostInfo(e *Env) ServerInfo {
	if e.Host == nil {
		return ServerInfo{RedisVersion: "7.0.15", Started: time.Now(), LastSave: time.Now()}
	}
	return e.Host.ServerInfo()
}

// validClientAttr reports whether a client name (or library name or
// version) has only the characters Redis allows: printable ASCII without
// spaces, so CLIENT LIST stays splittable.
func validClientAttr(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// CLIENT

// CLIENT ID
func cmdClientID(c *Ctx) { c.W.Int(c.S.ID) }

// CLIENT GETNAME
func cmdClientGetName(c *Ctx) {
	if n := c.S.Name(); n != "" {
		c.W.BulkString(n)
		return
	}
	c.W.Null()
}

// CLIENT SETNAME connection-name
func cmdClientSetName(c *Ctx) {
	if !validClientAttr(c.Args[2]) {
		c.Error(errClientName)
		return
	}
	c.S.SetName(string(c.Args[2]))
	c.W.OK()
}

// CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>, as Redis 7.2.
func cmdClientSetInfo(c *Ctx) {
	var dst *string
	switch {
	case c.Is(2, "lib-name"):
		dst = &c.S.libName
	case c.Is(2, "lib-ver"):
		dst = &c.S.libVer
	default:
		c.Error(sanitize("ERR Unrecognized option '" + string(c.Args[2]) + "'"))
		return
	}
	if !validClientAttr(c.Args[3]) {
		c.Error(sanitize("ERR " + string(c.Args[2]) + " cannot contain spaces, newlines or special characters."))
		return
	}
	c.S.mu.Lock()
	*dst = string(c.Args[3])
	c.S.mu.Unlock()
	c.W.OK()
}

// CLIENT NO-EVICT ON|OFF
func cmdClientNoEvict(c *Ctx) { clientOnOff(c, &c.S.NoEvict) }

// CLIENT NO-TOUCH ON|OFF, as Redis 7.2.
func cmdClientNoTouch(c *Ctx) { clientOnOff(c, &c.S.NoTouch) }

func clientOnOff(c *Ctx, flag *atomic.Bool) {
	switch {
	case c.Is(2, "on"):
		flag.Store(true)
	case c.Is(2, "off"):
		flag.Store(false)
	default:
		c.Error(ErrSyntax)
		return
	}
	c.W.OK()
}

// CLIENT HELP: Redis 7.0's text, with the 7.2 lines for what we have of
// 7.2 (ID filters, SETINFO, NO-TOUCH).
func cmdClientHelp(c *Ctx) {
	replyHelp(c, []string{
		"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"    * ID <client-id>",
		"      Kill connections by client id.",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"    * ID <client-id> [<client-id> ...]",
		"      Return clients with the given IDs.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching.",
		"TRACKINGINFO",
		"    Report tracking status for the current connection.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)",
		"    Will not touch LRU/LFU stats when this mode is on.",
	})
}

// Client types of CLIENT LIST TYPE and CLIENT KILL TYPE.
const (
	clientNormal = iota
	clientReplica
	clientMaster
	clientPubSub
)

func clientType(name []byte) int {
	switch strings.ToLower(string(name)) {
	case "normal":
		return clientNormal
	case "slave", "replica":
		return clientReplica
	case "master":
		return clientMaster
	case "pubsub":
		return clientPubSub
	}
	return -1
}

// typeOfClient tells a connection's type: pub/sub once it has a
// subscription, normal otherwise (there is no replication).
func typeOfClient(s *Session) int {
	if s.ext.subscribed() {
		return clientPubSub
	}
	return clientNormal
}

// clients lists the open connections, oldest first.
func clients(e *Env) []ClientInfo {
	if e.Host == nil {
		return nil
	}
	return e.Host.Clients()
}

// CLIENT INFO
func cmdClientInfo(c *Ctx) {
	fd := -1
	for _, ci := range clients(c.Env) {
		if ci.Session == c.S {
			fd = ci.FD
		}
	}
	c.W.Verbatim(string(appendClientInfo(nil, ClientInfo{Session: c.S, FD: fd}, time.Now())) + "\n")
}

// CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]
func cmdClientList(c *Ctx) {
	now := time.Now()
	all := clients(c.Env)
	var out []byte
	switch {
	case len(c.Args) == 4 && c.Is(2, "type"):
		t := clientType(c.Args[3])
		if t == -1 {
			c.Error(sanitize("ERR Unknown client type '" + string(c.Args[3]) + "'"))
			return
		}
		for _, ci := range all {
			if typeOfClient(ci.Session) == t {
				out = appendClientInfo(out, ci, now)
				out = append(out, '\n')
			}
		}
	case len(c.Args) > 3 && c.Is(2, "id"):
		ids := make([]int64, 0, len(c.Args)-3)
		for j := 3; j < len(c.Args); j++ {
			id, ok := c.Int(j)
			if !ok {
				c.Error("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
		for _, id := range ids {
			for _, ci := range all {
				if ci.Session.ID == id {
					out = appendClientInfo(out, ci, now)
					out = append(out, '\n')
				}
			}
		}
	case len(c.Args) != 2:
		c.Error(ErrSyntax)
		return
	default:
		for _, ci := range all {
			out = appendClientInfo(out, ci, now)
			out = append(out, '\n')
		}
	}
	c.W.Verbatim(string(out))
}

// appendClientInfo appends one CLIENT LIST line (without the newline) in
// the fields and order of Redis 7.2. Buffer sizes we do not track are 0.
func appendClientInfo(b []byte, ci ClientInfo, now time.Time) []byte {
	s := ci.Session
	s.mu.Lock()
	name, db, resp := s.name, s.DB, s.RESP
	libName, libVer := s.libName, s.libVer
	s.mu.Unlock()
	lastCmd := s.LastCommand()
	if lastCmd == "" {
		lastCmd = "NULL"
	}
	flags := ""
	x := &s.ext
	trk := x.trk.Load()
	if x.monitor.Load() {
		flags += "O"
	}
	if x.subscribed() {
		flags += "P"
	}
	if trk&trkOn != 0 {
		flags += "t"
	}
	if trk&trkBrokenRedir != 0 {
		flags += "R"
	}
	if trk&trkBcast != 0 {
		flags += "B"
	}
	if s.NoEvict.Load() {
		flags += "e"
	}
	if s.NoTouch.Load() {
		flags += "T"
	}
	if flags == "" {
		flags = "N"
	}
	idle := now.Sub(time.Unix(0, s.LastActive.Load())) / time.Second
	age := now.Sub(s.Created) / time.Second
	b = append(b, "id="...)
	b = strconv.AppendInt(b, s.ID, 10)
	b = append(b, " addr="...)
	b = append(b, s.Addr...)
	b = append(b, " laddr="...)
	b = append(b, s.LocalAddr...)
	b = append(b, " fd="...)
	b = strconv.AppendInt(b, int64(ci.FD), 10)
	b = append(b, " name="...)
	b = append(b, name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, int64(max(age, 0)), 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, int64(max(idle, 0)), 10)
	b = append(b, " flags="...)
	b = append(b, flags...)
	b = append(b, " db="...)
	b = append(b, db...)
	b = append(b, " sub="...)
	b = strconv.AppendInt(b, int64(x.nsub.Load()), 10)
	b = append(b, " psub="...)
	b = strconv.AppendInt(b, int64(x.npsub.Load()), 10)
	b = append(b, " ssub="...)
	b = strconv.AppendInt(b, int64(x.nssub.Load()), 10)
	b = append(b, " multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd="...)
	b = append(b, lastCmd...)
	b = append(b, " user="...)
	b = append(b, defaultUser...)
	b = append(b, " redir="...)
	redir := int64(-1)
	if trk&trkOn != 0 {
		redir = x.redirect.Load()
	}
	b = strconv.AppendInt(b, redir, 10)
	b = append(b, " resp="...)
	b = strconv.AppendInt(b, int64(resp), 10)
	b = append(b, " lib-name="...)
	b = append(b, libName...)
	b = append(b, " lib-ver="...)
	b = append(b, libVer...)
	return b
}

// CLIENT KILL ip:port
// CLIENT KILL [ID client-id] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB]
// [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME YES|NO] [...]
func cmdClientKill(c *Ctx) {
	var addr, laddr *string
	var id int64
	typ, skipMe := -1, true
	if len(c.Args) == 3 {
		a := string(c.Args[2])
		addr, skipMe = &a, false // the old form may kill the caller
	} else {
		for i := 2; i < len(c.Args); i += 2 {
			if i+1 >= len(c.Args) {
				c.Error(ErrSyntax)
				return
			}
			val := string(c.Args[i+1])
			switch {
			case c.Is(i, "id"):
				n, ok := c.Int(i + 1)
				if !ok || n < 1 {
					c.Error("ERR client-id should be greater than 0")
					return
				}
				id = n
			case c.Is(i, "type"):
				if typ = clientType(c.Args[i+1]); typ == -1 {
					c.Error(sanitize("ERR Unknown client type '" + val + "'"))
					return
				}
			case c.Is(i, "addr"):
				addr = &val
			case c.Is(i, "laddr"):
				laddr = &val
			case c.Is(i, "user"):
				if val != defaultUser {
					c.Error(sanitize("ERR No such user '" + val + "'"))
					return
				}
			case c.Is(i, "skipme"):
				switch {
				case strings.EqualFold(val, "yes"):
					skipMe = true
				case strings.EqualFold(val, "no"):
					skipMe = false
				default:
					c.Error(ErrSyntax)
					return
				}
			default:
				c.Error(ErrSyntax)
				return
			}
		}
	}
	killed, self := 0, false
	for _, ci := range clients(c.Env) {
		s := ci.Session
		switch {
		case addr != nil && s.Addr != *addr,
			laddr != nil && s.LocalAddr != *laddr,
			typ != -1 && typeOfClient(s) != typ,
			id != 0 && s.ID != id,
			s == c.S && skipMe:
			continue
		}
		if s == c.S {
			self = true
			killed++
		} else if c.Env.Host.KillClient(s.ID) {
			killed++
		}
	}
	if len(c.Args) == 3 {
		if killed == 0 {
			c.Error("ERR No such client")
		} else {
			c.W.OK()
		}
	} else {
		c.W.Int(int64(killed))
	}
	if self {
		c.S.Closing = true
	}
}

// ---------------------------------------------------------------------------
// RESET, CLIENT REPLY, PAUSE, UNPAUSE, UNBLOCK

// RESET
// https://redis.io/commands/reset/
//
// As Redis 7.0's clearClientConnectionState: tracking off, database 0,
// RESP2, back to the default user (unauthenticated when a password is
// set), no transaction or WATCHed keys, no subscriptions, no name, replies
// on.
func cmdReset(c *Ctx) {
	s := c.S
	c.Env.disableTracking(s)
	name, index, _ := ResolveNamespace(c.Env.Store, "0")
	s.Select(name, index)
	s.mu.Lock()
	s.RESP = 2
	s.name = ""
	s.mu.Unlock()
	c.W.RESP = 2
	s.Authed = requirePass(c.Env) == ""
	c.Env.resetTransaction(s)
	c.Env.unsubscribeAll(s)
	c.Env.stopMonitor(s)
	s.ext.replyOff, s.ext.skipNext, s.ext.skipThis = false, false, false
	c.W.Simple("RESET")
}

// resetTransaction discards the MULTI queue and the WATCHed keys of s, as
// Redis's discardTransaction. SessionClosed (multi.go) does exactly that
// for a closed connection.
func (e *Env) resetTransaction(s *Session) { e.SessionClosed(s) }

// CLIENT REPLY ON|OFF|SKIP
// https://redis.io/commands/client-reply/
//
// OFF and SKIP have no reply of their own; the suppression is applied by
// endReply after each command.
func cmdClientReply(c *Ctx) {
	x := &c.S.ext
	switch {
	case c.Is(2, "on"):
		x.replyOff, x.skipThis = false, false
		c.W.OK()
	case c.Is(2, "off"):
		x.replyOff = true
	case c.Is(2, "skip"):
		if !x.replyOff {
			x.skipNext = true
		}
	default:
		c.Error(ErrSyntax)
	}
}

// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
// https://redis.io/commands/client-unblock/
//
// No command blocks yet, so no client is ever unblocked.
func cmdClientUnblock(c *Ctx) {
	if len(c.Args) > 4 {
		c.Error(sanitize("ERR unknown subcommand or wrong number of arguments for '" + truncate128(c.Args[1]) + "'. Try CLIENT HELP."))
		return
	}
	if len(c.Args) == 4 && !c.Is(3, "timeout") && !c.Is(3, "error") {
		c.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
		return
	}
	if _, ok := c.Int(2); !ok {
		c.Error(ErrNotInt)
		return
	}
	c.W.Int(0)
}

// Kinds of CLIENT PAUSE, in increasing strength.
const (
	pauseNone = iota
	pauseWrite
	pauseAll
)

// pauseState is CLIENT PAUSE: commands (all, or only those that write)
// wait until the pause ends. Its zero value is "not paused".
type pauseState struct {
	active atomic.Bool // dispatch's fast path

	mu    sync.Mutex
	kind  int
	end   time.Time
	done  chan struct{} // closed when the pause ends
	timer *time.Timer
}

// start pauses clients until end; a pause already running keeps the
// stronger kind and the later end, as Redis's pauseClients.
func (p *pauseState) start(kind int, end time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !time.Now().Before(end) {
		return
	}
	if p.kind == pauseNone {
		p.kind, p.end, p.done = kind, end, make(chan struct{})
	} else {
		p.kind = max(p.kind, kind)
		if end.After(p.end) {
			p.end = end
		}
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(time.Until(p.end), p.stop)
	p.active.Store(true)
}

// stop ends the pause, if any, and lets the waiting commands run.
func (p *pauseState) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.kind == pauseNone {
		return
	}
	p.timer.Stop()
	p.kind = pauseNone
	close(p.done)
	p.active.Store(false)
}

// wait holds a command back while a pause applies to it.
func (p *pauseState) wait(t *Table, s *Session, cmd *Command, args [][]byte) {
	for {
		p.mu.Lock()
		kind, done := p.kind, p.done
		p.mu.Unlock()
		if kind == pauseNone || (kind == pauseWrite && !mayWrite(t, s, cmd, args)) {
			return
		}
		<-done
	}
}

// mayWrite reports whether a command is held by CLIENT PAUSE WRITE: it
// writes or may be replicated (PUBLISH, EVAL...), or it is the EXEC of a
// transaction holding such a command.
func mayWrite(t *Table, s *Session, cmd *Command, args [][]byte) bool {
	flagsOf := func(cmd *Command, args [][]byte) Flags {
		if len(cmd.Subcommands) > 0 && len(args) > 1 {
			if sub := cmd.Subcommand(args[1]); sub != nil {
				return sub.Flags
			}
		}
		return cmd.Flags
	}
	if flagsOf(cmd, args)&(Write|MayReplicate) != 0 {
		return true
	}
	if cmd.Name == "exec" && s.Multi != nil {
		for _, q := range s.Multi.cmds {
			if qc := t.Lookup(q[0]); qc != nil && flagsOf(qc, q)&(Write|MayReplicate) != 0 {
				return true
			}
		}
	}
	return false
}

// ReleasePause ends any CLIENT PAUSE; the server calls it when it shuts
// down, so paused commands finish.
func (e *Env) ReleasePause() { e.ext.pause.stop() }

// CLIENT PAUSE timeout [WRITE|ALL]
// https://redis.io/commands/client-pause/
func cmdClientPause(c *Ctx) {
	if len(c.Args) > 4 {
		c.Error(sanitize("ERR unknown subcommand or wrong number of arguments for '" + truncate128(c.Args[1]) + "'. Try CLIENT HELP."))
		return
	}
	kind := pauseAll
	if len(c.Args) == 4 {
		switch {
		case c.Is(3, "write"):
			kind = pauseWrite
		case c.Is(3, "all"):
		default:
			c.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := c.Int(2)
	if !ok {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.Error("ERR timeout is negative")
		return
	}
	// A timeout so large that Redis's end time overflows is no pause.
	if now := time.Now().UnixMilli(); ms > 0 && ms <= math.MaxInt64-now {
		c.Env.ext.pause.start(kind, time.Now().Add(time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond)))*time.Millisecond))
	}
	c.W.OK()
}

// CLIENT UNPAUSE
// https://redis.io/commands/client-unpause/
func cmdClientUnpause(c *Ctx) {
	c.Env.ext.pause.stop()
	c.W.OK()
}

// admit is dispatch's hook for a command that passed its checks, before it
// runs or is queued by MULTI: a RESP2 connection in pub/sub mode may only
// run the pub/sub commands, PING, QUIT and RESET, and CLIENT PAUSE holds
// commands back while it lasts. It replies with the error and returns
// false when the command may not run.
func (e *Env) admit(s *Session, w *Writer, cmd *Command, args [][]byte) bool {
	if s.RESP == 2 && s.ext.subscribed() {
		switch cmd.Name {
		case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
			"psubscribe", "punsubscribe", "quit", "reset":
		default:
			if subcommandError(cmd, args) != "" {
				break // dispatch replies with it
			}
			name := cmd.Name
			if len(cmd.Subcommands) > 0 && len(args) > 1 {
				name = cmd.Subcommand(args[1]).Name
			}
			e.Stats.RejectedCalls.Add(1)
			e.Stats.ErrorReplies.Add(1)
			w.Error(sanitize("ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / " +
				"(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"))
			return false
		}
	}
	if e.ext.pause.active.Load() {
		e.ext.pause.wait(e.Table, s, cmd, args)
	}
	return true
}

// Paused reports whether a CLIENT PAUSE is in force, in which case
// dispatch admits commands one at a time.
func (e *Env) paused() bool { return e.ext.pause.active.Load() }
