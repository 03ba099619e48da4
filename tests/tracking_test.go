package tests

// Client-side caching (CLIENT TRACKING and its invalidation messages),
// RESET, CLIENT REPLY, CLIENT PAUSE, INFO commandstats and errorstats,
// CONFIG SET taking effect at once, and the standalone answers of CLUSTER,
// READONLY, WAIT, SLOWLOG, LATENCY and MONITOR, against redis-server 7.0.

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// trkConns opens one more connection to each server of x, as a Diff.
func trkConns(t *testing.T, x *Diff) *Diff {
	t.Helper()
	o := newDiffConns(x.Redis.Dial(t), x.Dura.Dial(t))
	o.RName, o.DName = x.RName, x.DName
	return o
}

// trkRead reads the next reply (a push, typically) on both sides of x and
// fails unless they are the same bytes; it returns Redis's.
func trkRead(t *testing.T, x *Diff, what string) string {
	t.Helper()
	r, rerr := x.R.ReadReplyErr()
	d, derr := x.D.ReadReplyErr()
	if rerr != nil || derr != nil {
		t.Fatalf("%s: reading: redis %v (%q), durastore %v (%q)", what, rerr, r, derr, d)
	}
	if r != d {
		t.Errorf("%s differs:\n  redis:     %q\n  durastore: %q", what, r, d)
	}
	return r
}

// trkDoN sends args to both sides and compares the next n replies, for
// commands that answer with several (SUBSCRIBE a b) or a reply and a push.
func trkDoN(t *testing.T, x *Diff, n int, args ...string) string {
	t.Helper()
	x.R.Send(args...)
	x.D.Send(args...)
	var all []string
	for i := 0; i < n; i++ {
		all = append(all, trkRead(t, x, fmt.Sprintf("%s (reply %d of %d)", fmtCmd(args), i+1, n)))
	}
	return strings.Join(all, "")
}

// trkEach sends a command that differs per side (client IDs) and compares
// the replies.
func trkEach(t *testing.T, x *Diff, r, d []string) string {
	t.Helper()
	x.R.Send(r...)
	x.D.Send(d...)
	return trkRead(t, x, fmtCmd(r))
}

// trkID is the client ID of each side's connection.
func trkID(t *testing.T, x *Diff) (string, string) {
	t.Helper()
	r := parseReply(x.R.Do("CLIENT", "ID")).(int64)
	d := parseReply(x.D.Do("CLIENT", "ID")).(int64)
	return strconv.FormatInt(r, 10), strconv.FormatInt(d, 10)
}

// trkHello3 switches both sides of x to RESP3.
func trkHello3(t *testing.T, x *Diff) {
	t.Helper()
	x.DoMatch(t, connSameButID, "HELLO", "3")
}

// TestTrackingPushBytes compares the RESP3 invalidation pushes byte for
// byte: a key changed by another client, by the tracking client itself
// (the push follows the reply), several keys, a flush, an expiry.
func TestTrackingPushBytes(t *testing.T) {
	x := newDiff(t, nil, nil)
	o := trkConns(t, x)
	trkHello3(t, x)
	x.Do(t, "CLIENT", "TRACKING", "ON")
	x.Do(t, "GET", "k")
	o.Do(t, "SET", "k", "v")
	if got := trkRead(t, x, "push after another client's SET"); got != ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n" {
		t.Errorf("push %q", got)
	}
	// The key left the table: a second change sends nothing.
	o.Do(t, "SET", "k", "v2")
	x.Do(t, "PING")

	// The client's own write: reply first, then the push.
	x.Do(t, "GET", "k")
	trkDoN(t, x, 2, "SET", "k", "v3")

	// Several keys read at once, changed at once: one push per key.
	x.Do(t, "MGET", "a", "b")
	o.Do(t, "MSET", "a", "1", "b", "2")
	trkRead(t, x, "push for a")
	trkRead(t, x, "push for b")

	// A key read in another database is tracked by name.
	x.Do(t, "SELECT", "1")
	x.Do(t, "GET", "c")
	x.Do(t, "SELECT", "0")
	o.Do(t, "SET", "c", "x")
	trkRead(t, x, "push for a key read in db 1, written in db 0")

	// A flush invalidates everything with a null.
	x.Do(t, "GET", "k")
	o.Do(t, "FLUSHALL")
	if got := trkRead(t, x, "push after FLUSHALL"); got != ">2\r\n$10\r\ninvalidate\r\n_\r\n" {
		t.Errorf("flush push %q", got)
	}
	o.Do(t, "SET", "k", "v")
	x.Do(t, "GET", "k")
	o.Do(t, "FLUSHDB")
	trkRead(t, x, "push after FLUSHDB")

	// Expiry: the key read before its TTL ends is invalidated when the
	// server expires it.
	o.Do(t, "SET", "e", "1", "PX", "1500")
	x.Do(t, "GET", "e")
	trkRead(t, x, "push when e expires")

	// Tracking off: nothing more.
	x.Do(t, "CLIENT", "TRACKING", "OFF")
	x.Do(t, "GET", "k")
	o.Do(t, "SET", "k", "again")
	x.Do(t, "PING")
}

// TestTrackingRESP2Self: a RESP2 client without REDIRECT is remembered but
// has nowhere to receive messages.
func TestTrackingRESP2Self(t *testing.T) {
	x := newDiff(t, nil, nil)
	o := trkConns(t, x)
	x.Do(t, "CLIENT", "TRACKING", "ON")
	x.Do(t, "GET", "k")
	o.Do(t, "SET", "k", "v")
	x.Do(t, "GET", "k")
	x.Do(t, "CLIENT", "TRACKINGINFO")
}

// TestTrackingBcast checks BCAST with prefixes: the keys changed in one
// command come in one message per prefix, sorted; NOLOOP leaves out the
// client's own changes.
func TestTrackingBcast(t *testing.T) {
	x := newDiff(t, nil, nil)
	o := trkConns(t, x)
	trkHello3(t, x)
	x.Do(t, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b", "PREFIX", "a", "NOLOOP")
	x.Do(t, "CLIENT", "TRACKINGINFO")
	o.Do(t, "MSET", "b2", "1", "a9", "1", "c1", "1", "a1", "2")
	if got := trkRead(t, x, "BCAST push for prefix a"); got != ">2\r\n$10\r\ninvalidate\r\n*2\r\n$2\r\na1\r\n$2\r\na9\r\n" {
		t.Errorf("push %q", got)
	}
	trkRead(t, x, "BCAST push for prefix b")
	// A key read is not tracked in BCAST mode; the client's own changes
	// are left out with NOLOOP.
	x.Do(t, "GET", "c1")
	o.Do(t, "SET", "c1", "2")
	x.Do(t, "MSET", "a1", "x", "b1", "y")
	x.Do(t, "PING")
	// A command changing keys of both clients: only the other's reach it.
	o.Do(t, "DEL", "a9")
	trkRead(t, x, "BCAST push after DEL")
	// BCAST without a prefix gets every key.
	x.Do(t, "CLIENT", "TRACKING", "OFF")
	x.Do(t, "CLIENT", "TRACKING", "ON", "BCAST")
	o.Do(t, "SET", "zz", "1")
	trkRead(t, x, "BCAST push without prefix")
	x.Do(t, "CLIENT", "TRACKINGINFO")
	o.Do(t, "FLUSHALL")
	trkRead(t, x, "BCAST push after FLUSHALL")
}

// TestTrackingRedirect sends a RESP2 client's invalidations to another
// connection subscribed to __redis__:invalidate, and reports a redirect
// target that went away.
func TestTrackingRedirect(t *testing.T) {
	x := newDiff(t, nil, nil)
	sub := trkConns(t, x)
	o := trkConns(t, x)
	rid, did := trkID(t, sub)
	sub.Do(t, "SUBSCRIBE", "__redis__:invalidate")
	trkEach(t, x, []string{"CLIENT", "TRACKING", "ON", "REDIRECT", rid}, []string{"CLIENT", "TRACKING", "ON", "REDIRECT", did})
	if r, d := x.R.Do("CLIENT", "GETREDIR"), x.D.Do("CLIENT", "GETREDIR"); r != ":"+rid+"\r\n" || d != ":"+did+"\r\n" {
		t.Errorf("GETREDIR: redis %q, durastore %q", r, d)
	}
	x.Do(t, "GET", "k")
	o.Do(t, "SET", "k", "v")
	if got := trkRead(t, sub, "message on __redis__:invalidate"); got != "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n" {
		t.Errorf("message %q", got)
	}
	x.Do(t, "GET", "k")
	o.Do(t, "FLUSHDB")
	trkRead(t, sub, "flush message on __redis__:invalidate")
	// BCAST with REDIRECT.
	x.Do(t, "CLIENT", "TRACKING", "OFF")
	trkEach(t, x, []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:", "REDIRECT", rid},
		[]string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:", "REDIRECT", did})
	o.Do(t, "MSET", "p:2", "1", "p:1", "2", "q", "3")
	trkRead(t, sub, "BCAST message on __redis__:invalidate")
	// The subscriber leaves: a RESP3 client is told its redirect broke.
	x.Do(t, "CLIENT", "TRACKING", "OFF")
	trkHello3(t, x)
	trkEach(t, x, []string{"CLIENT", "TRACKING", "ON", "REDIRECT", rid}, []string{"CLIENT", "TRACKING", "ON", "REDIRECT", did})
	x.Do(t, "GET", "k")
	sub.R.Close()
	sub.D.Close()
	// Wait until both servers have seen the close.
	for _, c := range []*RawConn{x.R, x.D} {
		id := rid
		if c == x.D {
			id = did
		}
		waitFor(t, "the subscriber's close", func() bool {
			return !strings.Contains(parseReply(c.Do("CLIENT", "LIST")).(string), "id="+id+" ")
		})
	}
	o.Do(t, "SET", "k", "w")
	r, d := x.R.ReadReply(), x.D.ReadReply()
	if r != ">2\r\n$21\r\ntracking-redir-broken\r\n:"+rid+"\r\n" || d != ">2\r\n$21\r\ntracking-redir-broken\r\n:"+did+"\r\n" {
		t.Errorf("broken redirect push: redis %q, durastore %q", r, d)
	}
	r = x.R.Do("CLIENT", "TRACKINGINFO")
	d = x.D.Do("CLIENT", "TRACKINGINFO")
	if strings.ReplaceAll(r, ":"+rid+"\r\n", ":ID\r\n") != strings.ReplaceAll(d, ":"+did+"\r\n", ":ID\r\n") {
		t.Errorf("TRACKINGINFO with a broken redirect:\n  redis:     %q\n  durastore: %q", r, d)
	}
}

// waitFor polls cond until it holds, failing after a generous time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTrackingOptInOptOut checks OPTIN and OPTOUT with CLIENT CACHING,
// which lasts one command (CLIENT subcommands aside) or a transaction:
// rueidis sends CLIENT CACHING YES, MULTI, PTTL, GET, EXEC.
func TestTrackingOptInOptOut(t *testing.T) {
	x := newDiff(t, nil, nil)
	o := trkConns(t, x)
	trkHello3(t, x)
	x.Script(t, `
		CLIENT CACHING YES
		CLIENT TRACKING ON OPTIN
		GET o1
		CLIENT CACHING YES
		CLIENT TRACKINGINFO
		CLIENT GETNAME
		GET o2
		GET o3
		CLIENT CACHING YES
		PING
		GET o4
		CLIENT CACHING NO
	`)
	o.Do(t, "MSET", "o1", "1", "o2", "2", "o3", "3", "o4", "4")
	if got := trkRead(t, x, "OPTIN push"); !strings.Contains(got, "o2") {
		t.Errorf("OPTIN tracked %q, want o2", got)
	}
	x.Do(t, "PING")

	// The rueidis pattern.
	x.Do(t, "CLIENT", "CACHING", "YES")
	x.Do(t, "MULTI")
	x.Do(t, "PTTL", "m1")
	x.Do(t, "GET", "m1")
	x.Do(t, "EXEC")
	x.Do(t, "GET", "m2")
	o.Do(t, "MSET", "m1", "1", "m2", "2")
	trkRead(t, x, "push for m1 read in MULTI after CACHING YES")
	x.Do(t, "PING")

	x.Script(t, `
		CLIENT TRACKING ON OPTOUT
		CLIENT TRACKING OFF
		CLIENT TRACKING ON OPTOUT
		CLIENT CACHING YES
		CLIENT CACHING NO
		CLIENT TRACKINGINFO
		GET p1
		GET p2
	`)
	o.Do(t, "MSET", "p1", "1", "p2", "2")
	if got := trkRead(t, x, "OPTOUT push"); !strings.Contains(got, "p2") {
		t.Errorf("OPTOUT tracked %q, want p2", got)
	}
	x.Do(t, "PING")
}

// TestTrackingErrors compares the errors of the tracking subcommands.
func TestTrackingErrors(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		CLIENT TRACKING
		CLIENT TRACKING MAYBE
		CLIENT TRACKING MAYBE FOO
		CLIENT TRACKING ON FOO
		CLIENT TRACKING ON REDIRECT
		CLIENT TRACKING ON REDIRECT x
		CLIENT TRACKING ON REDIRECT 999999
		CLIENT TRACKING ON REDIRECT 0
		CLIENT TRACKING ON REDIRECT -1
		CLIENT TRACKING ON PREFIX
		CLIENT TRACKING ON PREFIX a
		CLIENT TRACKING ON BCAST OPTIN
		CLIENT TRACKING ON OPTOUT BCAST
		CLIENT TRACKING ON OPTIN OPTOUT
		CLIENT TRACKING ON BCAST PREFIX a PREFIX ab
		CLIENT TRACKING ON BCAST PREFIX a PREFIX a
		CLIENT TRACKINGINFO
		CLIENT GETREDIR
		CLIENT CACHING YES
		CLIENT CACHING maybe
		CLIENT CACHING
		CLIENT CACHING YES NO
		CLIENT GETREDIR x
		CLIENT TRACKINGINFO x
		CLIENT TRACKING ON BCAST PREFIX b PREFIX a
		CLIENT TRACKINGINFO
		CLIENT TRACKING ON
		CLIENT TRACKING ON BCAST PREFIX ab
		CLIENT TRACKING ON BCAST PREFIX a
		CLIENT TRACKING ON BCAST PREFIX c NOLOOP
		CLIENT TRACKINGINFO
		CLIENT CACHING YES
		CLIENT TRACKING OFF BCAST
		CLIENT TRACKINGINFO
		CLIENT GETREDIR
		CLIENT TRACKING ON OPTIN
		CLIENT TRACKING ON OPTOUT
		CLIENT CACHING NO
		CLIENT TRACKING ON
		CLIENT TRACKING ON OPTOUT
		CLIENT TRACKINGINFO
		CLIENT TRACKING ON OPTIN
		CLIENT TRACKING off
		CLIENT TRACKING on optin optin
		CLIENT TRACKINGINFO
	`)
}

// TestTrackingCommandRows compares COMMAND INFO of the new commands.
func TestTrackingCommandRows(t *testing.T) {
	x := newDiff(t, nil, nil)
	// Containers list their subcommands in an order Redis draws at
	// random: the subcommands are compared one by one.
	for _, name := range []string{"reset", "client|tracking", "client|caching", "client|getredir",
		"client|trackinginfo", "client|pause", "client|unpause", "client|reply", "client|unblock",
		"subscribe", "unsubscribe", "psubscribe", "punsubscribe", "publish", "ssubscribe",
		"sunsubscribe", "spublish", "pubsub|channels", "pubsub|numsub", "pubsub|numpat",
		"pubsub|shardchannels", "pubsub|shardnumsub", "pubsub|help", "cluster|info", "cluster|nodes",
		"cluster|keyslot", "cluster|setslot", "readonly", "readwrite", "asking", "wait",
		"slowlog|get", "slowlog|len", "slowlog|reset", "slowlog|help", "latency|doctor",
		"latency|latest", "latency|history", "latency|reset", "latency|graph", "latency|histogram",
		"latency|help", "monitor"} {
		x.Do(t, "COMMAND", "INFO", name)
		x.Do(t, "COMMAND", "DOCS", name)
	}
	for _, container := range []string{"pubsub", "cluster", "slowlog", "latency"} {
		x.DoUnordered(t, "COMMAND", "LIST", "FILTERBY", "PATTERN", container+"|*")
	}
}

// TestTrackingReset checks RESET: every connection property back to its
// default, the transaction discarded, subscriptions dropped.
func TestTrackingReset(t *testing.T) {
	x := newDiff(t, nil, nil)
	o := trkConns(t, x)
	x.DoMatch(t, connSameButID, "HELLO", "3", "SETNAME", "me")
	x.Script(t, `
		CLIENT TRACKING ON BCAST
		SELECT 3
		SET k 1
		WATCH k
		MULTI
		SET k 2
		RESET
		CLIENT GETNAME
		CLIENT TRACKINGINFO
		GET k
		EXEC
		DISCARD
		SELECT 3
		GET k
	`)
	o.Do(t, "SET", "x", "1")
	x.Do(t, "PING") // no push: tracking is off
	x.Do(t, "SUBSCRIBE", "ch")
	x.Do(t, "RESET")
	x.Do(t, "GET", "x")
	x.Do(t, "CLIENT", "REPLY", "OFF")
	x.Do(t, "RESET")
	x.Do(t, "GET", "x")
	x.Do(t, "RESET", "extra")
}

// TestTrackingResetAuth: RESET goes back to the default user, which needs
// the password when one is set.
func TestTrackingResetAuth(t *testing.T) {
	x := newDiff(t, []string{"--requirepass", "pw"}, []string{"--requirepass", "pw"})
	x.Script(t, `
		GET k
		RESET
		AUTH pw
		GET k
		RESET
		GET k
		AUTH pw
		CLIENT SETNAME n
		RESET
		AUTH pw
		CLIENT GETNAME
	`)
}

// trkPipeline sends cmds as one write to both sides.
func trkPipeline(x *Diff, cmds ...[]string) {
	var b []byte
	for _, c := range cmds {
		b = append(b, encodeCommand(c...)...)
	}
	x.R.SendRaw(b)
	x.D.SendRaw(b)
}

// TestTrackingClientReply checks CLIENT REPLY OFF, SKIP and ON: only the
// replies that are sent arrive, in order.
func TestTrackingClientReply(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Do(t, "SET", "r", "1")
	trkPipeline(x,
		[]string{"CLIENT", "REPLY", "OFF"},
		[]string{"SET", "r", "2"},
		[]string{"GET", "r"},
		[]string{"NOSUCHCOMMAND"},
		[]string{"CLIENT", "REPLY", "SKIP"},
		[]string{"GET", "r"},
		[]string{"CLIENT", "REPLY", "ON"},
		[]string{"GET", "r"},
		[]string{"CLIENT", "REPLY", "SKIP"},
		[]string{"INCR", "r"},
		[]string{"GET", "r"},
		[]string{"CLIENT", "REPLY", "SKIP"},
		[]string{"GET", "r", "extra"},
		[]string{"GET", "r"},
	)
	trkRead(t, x, "CLIENT REPLY ON")
	trkRead(t, x, "GET after ON")
	trkRead(t, x, "GET after a skipped INCR")
	trkRead(t, x, "GET after a skipped error")
	x.Script(t, `
		CLIENT REPLY MAYBE
		CLIENT REPLY
		CLIENT REPLY ON
	`)
	// Pushes are not replies: a subscriber with replies off still gets
	// its confirmations and messages.
	o := trkConns(t, x)
	trkHello3(t, x)
	trkPipeline(x, []string{"CLIENT", "REPLY", "OFF"}, []string{"SUBSCRIBE", "ch"})
	trkRead(t, x, "subscribe confirmation with replies off")
	o.Do(t, "PUBLISH", "ch", "hello")
	trkRead(t, x, "message with replies off")
	trkPipeline(x, []string{"PUBLISH", "ch", "self"})
	trkRead(t, x, "own message with replies off")
	x.Do(t, "CLIENT", "REPLY", "ON")
}

// TestTrackingPauseWrite: CLIENT PAUSE WRITE holds a SET back until
// UNPAUSE while a GET is answered at once.
func TestTrackingPauseWrite(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		CLIENT PAUSE abc
		CLIENT PAUSE -1
		CLIENT PAUSE 10 FOO
		CLIENT PAUSE 10 WRITE X
		CLIENT PAUSE 0
		CLIENT PAUSE 0 write
		CLIENT UNPAUSE
		CLIENT UNPAUSE x
		CLIENT PAUSE
		CLIENT UNBLOCK 5
		CLIENT UNBLOCK x
		CLIENT UNBLOCK 5 TIMEOUT
		CLIENT UNBLOCK 5 error
		CLIENT UNBLOCK 5 FOO
		CLIENT UNBLOCK 5 TIMEOUT x
		CLIENT UNBLOCK
		SET k old
	`)
	d := x.Dura
	admin, writer, reader := d.Dial(t), d.Dial(t), d.Dial(t)
	if got := admin.Do("CLIENT", "PAUSE", "600000", "WRITE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT PAUSE: %q", got)
	}
	writer.Send("SET", "k", "new")
	writer.Send("PUBLISH", "ch", "m")
	if got := reader.Do("GET", "k"); got != "$3\r\nold\r\n" {
		t.Errorf("GET during PAUSE WRITE: %q", got)
	}
	if got := reader.Do("PING"); got != "+PONG\r\n" {
		t.Errorf("PING during PAUSE WRITE: %q", got)
	}
	// The SET is held: a later GET still sees the old value.
	if got := reader.Do("GET", "k"); got != "$3\r\nold\r\n" {
		t.Errorf("GET after a paused SET: %q", got)
	}
	if got := admin.Do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT UNPAUSE: %q", got)
	}
	if got := writer.ReadReply(); got != "+OK\r\n" {
		t.Errorf("paused SET replied %q", got)
	}
	if got := writer.ReadReply(); got != ":0\r\n" {
		t.Errorf("paused PUBLISH replied %q", got)
	}
	if got := reader.Do("GET", "k"); got != "$3\r\nnew\r\n" {
		t.Errorf("GET after UNPAUSE: %q", got)
	}
	// MULTI: the queued write makes EXEC wait, the GET inside MULTI does not.
	admin.Do("CLIENT", "PAUSE", "600000", "WRITE")
	writer.Do("MULTI")
	if got := writer.Do("GET", "k"); got != "+QUEUED\r\n" {
		t.Errorf("GET queued during PAUSE WRITE: %q", got)
	}
	writer.Send("EXEC")
	if got := reader.Do("EXISTS", "k"); got != ":1\r\n" {
		t.Errorf("EXISTS during pause: %q", got)
	}
	admin.Do("CLIENT", "UNPAUSE")
	if got := writer.ReadReply(); got != "*1\r\n$3\r\nnew\r\n" {
		t.Errorf("EXEC after UNPAUSE: %q", got)
	}
}

// TestTrackingPauseAll: CLIENT PAUSE ALL holds every command, UNPAUSE
// included, until it times out.
func TestTrackingPauseAll(t *testing.T) {
	d := startDurastore(t)
	admin, other := d.Dial(t), d.Dial(t)
	admin.Do("SET", "k", "1")
	if got := admin.Do("CLIENT", "PAUSE", "300", "ALL"); got != "+OK\r\n" {
		t.Fatalf("CLIENT PAUSE ALL: %q", got)
	}
	other.Send("INCR", "k")
	other.Send("GET", "k")
	if got := admin.Do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
		t.Errorf("UNPAUSE after the pause: %q", got)
	}
	if got := other.ReadReply(); got != ":2\r\n" {
		t.Errorf("INCR after the pause: %q", got)
	}
	if got := other.ReadReply(); got != "$1\r\n2\r\n" {
		t.Errorf("GET after the pause: %q", got)
	}
}

// trkStatLines returns INFO commandstats lines without the timings, and
// the errorstats lines, sorted.
func trkStatLines(t *testing.T, c *RawConn) string {
	t.Helper()
	usec := regexp.MustCompile(`usec=\d+,usec_per_call=\d+\.\d\d`)
	var lines []string
	for _, sec := range []string{"commandstats", "errorstats"} {
		text := parseReply(c.Do("INFO", sec)).(string)
		for _, l := range strings.Split(text, "\r\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, usec.ReplaceAllString(l, "usec=U"))
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestTrackingCommandStats compares INFO commandstats (without timings)
// and errorstats after a few commands, failures and rejections.
func TestTrackingCommandStats(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		CONFIG RESETSTAT
		SET a 1
		GET a
		GET a
		INCR a b
		NOSUCHCOMMAND
		CLIENT GETNAME
		CLIENT NOSUCH
		CLIENT SETNAME
		INCR a
		SET a x
		INCR a
		MULTI
		INCR a
		GET a
		EXEC
		SUBSCRIBE ch
		GET a
		UNSUBSCRIBE ch
	`)
	r, d := trkStatLines(t, x.R), trkStatLines(t, x.D)
	if r != d {
		t.Errorf("commandstats/errorstats differ:\nredis:\n%s\ndurastore:\n%s", r, d)
	}
	if !strings.Contains(d, "cmdstat_incr:calls=3,usec=U,rejected_calls=1,failed_calls=2") {
		t.Errorf("incr stats:\n%s", d)
	}
	x.Do(t, "CONFIG", "RESETSTAT")
	if r, d := trkStatLines(t, x.R), trkStatLines(t, x.D); r != d || !strings.HasPrefix(d, "cmdstat_config|resetstat:calls=1") {
		t.Errorf("after RESETSTAT:\nredis:\n%s\ndurastore:\n%s", r, d)
	}
}

// TestTrackingNetStats checks the network counters and the instantaneous
// metrics move.
func TestTrackingNetStats(t *testing.T) {
	d := startDurastore(t)
	c := d.Dial(t)
	num := func(field string) float64 {
		v, ok := connInfoValue(parseReply(c.Do("INFO", "stats")).(string), field)
		if !ok {
			t.Fatalf("no %s", field)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s = %q", field, v)
		}
		return f
	}
	in0, out0 := num("total_net_input_bytes"), num("total_net_output_bytes")
	big := strings.Repeat("x", 10000)
	c.Do("SET", "k", big)
	c.Do("GET", "k")
	if in := num("total_net_input_bytes"); in < in0+10000 {
		t.Errorf("total_net_input_bytes %v after sending 10000 bytes (was %v)", in, in0)
	}
	if out := num("total_net_output_bytes"); out < out0+10000 {
		t.Errorf("total_net_output_bytes %v after receiving 10000 bytes (was %v)", out, out0)
	}
	waitFor(t, "instantaneous_ops_per_sec above 0", func() bool {
		c.Do("PING")
		return num("instantaneous_ops_per_sec") > 0
	})
}

// TestTrackingConfigSetApplies: appendfsync, hz and loglevel changed by
// CONFIG SET take effect at once.
func TestTrackingConfigSetApplies(t *testing.T) {
	d := startDurastore(t, "--appendonly", "yes", "--appendfsync", "everysec")
	c := d.Dial(t)
	fsyncs := func() int64 {
		v, _ := connInfoValue(parseReply(c.Do("INFO", "persistence")).(string), "aof_fsyncs")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("aof_fsyncs %q", v)
		}
		return n
	}
	c.Do("SET", "a", "1")
	n0 := fsyncs()
	c.Do("SET", "a", "2")
	if n := fsyncs(); n != n0 {
		t.Errorf("a write under everysec made %d fsyncs of its own", n-n0)
	}
	if got := c.Do("CONFIG", "SET", "appendfsync", "always"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET appendfsync always: %q", got)
	}
	c.Do("SET", "a", "3")
	c.Do("SET", "b", "3")
	n1 := fsyncs()
	if n1 < n0+2 {
		t.Errorf("two writes under appendfsync always: %d fsyncs", n1-n0)
	}
	c.Do("CONFIG", "SET", "appendfsync", "no")
	c.Do("SET", "a", "4")
	if n := fsyncs(); n != n1 {
		t.Errorf("a write under appendfsync no made %d fsyncs", n-n1)
	}
	// A namespace created after the change follows it too.
	c.Do("CONFIG", "SET", "appendfsync", "always")
	c.Do("SELECT", "7")
	c.Do("SET", "fresh", "1")
	if n := fsyncs(); n <= n1 {
		t.Errorf("a write to a new namespace under always made no fsync")
	}

	// hz: INFO reports it, expiry keeps working at the new rate.
	c.Do("CONFIG", "SET", "hz", "100")
	if v, _ := connInfoValue(parseReply(c.Do("INFO", "server")).(string), "hz"); v != "100" {
		t.Errorf("hz %q after CONFIG SET hz 100", v)
	}
	c.Do("SET", "e", "1", "PX", "20")
	waitFor(t, "e to be expired by the active cycle", func() bool {
		v, _ := connInfoValue(parseReply(c.Do("INFO", "stats")).(string), "expired_keys")
		return v == "1"
	})

	// loglevel: a debug message appears only once debug is on.
	bad := func() {
		conn, err := net.Dial("tcp", d.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write([]byte("*1\r\n$x\r\n"))
		bufio.NewReader(conn).ReadString('\n')
	}
	bad()
	if strings.Contains(d.Stderr(), "protocol error from client") {
		t.Fatalf("debug message logged at loglevel notice")
	}
	c.Do("CONFIG", "SET", "loglevel", "debug")
	bad()
	waitFor(t, "the debug message", func() bool { return strings.Contains(d.Stderr(), "protocol error from client") })
}

// TestClusterStandalone: CLUSTER, READONLY, READWRITE and ASKING answer as
// a Redis without cluster support; WAIT returns 0 at once.
func TestClusterStandalone(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		CLUSTER INFO
		CLUSTER NODES
		CLUSTER SLOTS
		CLUSTER SHARDS
		CLUSTER MYID
		CLUSTER KEYSLOT x
		CLUSTER HELP
		CLUSTER FOO
		CLUSTER
		CLUSTER INFO x
		CLUSTER KEYSLOT
		READONLY
		READWRITE
		ASKING
		READONLY x
		WAIT 0 0
		WAIT x 0
		WAIT 0 x
		WAIT 1 -1
		WAIT 1
	`)
}

// TestSlowlogLatency compares SLOWLOG and LATENCY on an idle server, and
// checks a slow command is logged once the threshold allows it.
func TestSlowlogLatency(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Script(t, `
		SLOWLOG RESET
		SLOWLOG GET
		SLOWLOG LEN
		SLOWLOG GET x
		SLOWLOG GET -2
		SLOWLOG GET -1
		SLOWLOG GET 1 2
		SLOWLOG FOO
		SLOWLOG HELP
		SLOWLOG
		LATENCY LATEST
		LATENCY HISTORY command
		LATENCY RESET
		LATENCY RESET command
		LATENCY DOCTOR
		LATENCY GRAPH command
		LATENCY HELP
		LATENCY FOO
		LATENCY HISTORY
	`)
	trkHello3(t, x)
	x.Do(t, "LATENCY", "DOCTOR")
	// A histogram of what ran: the command, with its calls counted.
	c := x.Dura.Dial(t)
	c.Do("SET", "k", "v")
	h := parseReply(c.Do("LATENCY", "HISTOGRAM", "set", "nosuch")).([]any)
	if len(h) != 2 || h[0] != "set" {
		t.Fatalf("LATENCY HISTOGRAM set = %v", h)
	}
	if m := h[1].([]any); len(m) != 4 || m[0] != "calls" || m[1].(int64) < 1 || m[2] != "histogram_usec" {
		t.Errorf("LATENCY HISTOGRAM set = %v", m)
	}
}

// TestMonitor: a monitor sees the commands of other clients once run,
// with their database, AUTH passwords redacted, admin commands left out,
// and its own commands after their replies.
func TestMonitor(t *testing.T) {
	x := newDiff(t, nil, nil)
	c := trkConns(t, x)
	x.Do(t, "MONITOR")
	c.Script(t, `
		SET k "a b\"\n\x01"
		CONFIG GET maxmemory
		SELECT 2
		GET k
		MULTI
		SET x 1
		EXEC
		CLIENT GETNAME
		SLOWLOG RESET
		AUTH x
	`)
	c.DoMatch(t, connSameButID, "HELLO", "2", "AUTH", "default", "secret")
	stamp := regexp.MustCompile(`^\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\] `)
	norm := func(s string) string { return stamp.ReplaceAllString(s, "+T [$1 ADDR] ") }
	for i := 0; i < 9; i++ {
		r, d := x.R.ReadReply(), x.D.ReadReply()
		if norm(r) != norm(d) || norm(r) == r {
			t.Errorf("monitor line %d:\n  redis:     %q\n  durastore: %q", i, r, d)
		}
	}
	// Its own commands come after their replies.
	x.Do(t, "PING")
	r, d := x.R.ReadReply(), x.D.ReadReply()
	if norm(r) != norm(d) {
		t.Errorf("monitor line of its own PING:\n  redis:     %q\n  durastore: %q", r, d)
	}
	x.Do(t, "RESET")
	c.Do(t, "SET", "k", "2")
	x.Do(t, "PING")
	x.Do(t, "MONITOR", "x")
}
