package commands

// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, the
// shard variants SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH (which, without a
// cluster, work like the others on a namespace of their own), and PUBSUB.
// Replies and messages are Redis 7.0's, as arrays in RESP2 and pushes in
// RESP3. Messages reach a subscriber through its connection's Pusher, so
// a publisher never waits for a slow subscriber. A RESP2 connection with
// any subscription may only run the commands admit lets through.
// https://redis.io/docs/manual/pubsub/

import (
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"durastore/engine"
)

var pubsubCommands = []*Command{
	{Name: "subscribe", Arity: -2, Flags: PubSub | NoScript | Loading | Stale | NoTx, Categories: []string{"pubsub", "slow"},
		Group: "pubsub", Since: "2.0.0", Summary: "Listen for messages published to the given channels", Handler: cmdSubscribe},
	{Name: "unsubscribe", Arity: -1, Flags: PubSub | NoScript | Loading | Stale | NoTx, Categories: []string{"pubsub", "slow"},
		Group: "pubsub", Since: "2.0.0", Summary: "Stop listening for messages posted to the given channels", Handler: cmdUnsubscribe},
	{Name: "psubscribe", Arity: -2, Flags: PubSub | NoScript | Loading | Stale | NoTx, Categories: []string{"pubsub", "slow"},
		Group: "pubsub", Since: "2.0.0", Summary: "Listen for messages published to channels matching the given patterns", Handler: cmdPSubscribe},
	{Name: "punsubscribe", Arity: -1, Flags: PubSub | NoScript | Loading | Stale | NoTx, Categories: []string{"pubsub", "slow"},
		Group: "pubsub", Since: "2.0.0", Summary: "Stop listening for messages posted to channels matching the given patterns", Handler: cmdPUnsubscribe},
	{Name: "publish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | MayReplicate | NoTx, Categories: []string{"pubsub", "fast"},
		Group: "pubsub", Since: "2.0.0", Summary: "Post a message to a channel", Handler: cmdPublish},
	{Name: "ssubscribe", Arity: -2, Flags: PubSub | NoScript | Loading | Stale | NoTx, FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"pubsub", "slow"}, Group: "pubsub", Since: "7.0.0",
		Summary: "Listen for messages published to the given shard channels", Handler: cmdSSubscribe},
	{Name: "sunsubscribe", Arity: -1, Flags: PubSub | NoScript | Loading | Stale | NoTx, FirstKey: 1, LastKey: -1, Step: 1,
		Categories: []string{"pubsub", "slow"}, Group: "pubsub", Since: "7.0.0",
		Summary: "Stop listening for messages posted to the given shard channels", Handler: cmdSUnsubscribe},
	{Name: "spublish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | MayReplicate | NoTx, FirstKey: 1, LastKey: 1, Step: 1,
		Categories: []string{"pubsub", "fast"}, Group: "pubsub", Since: "7.0.0",
		Summary: "Post a message to a shard channel", Handler: cmdSPublish},
	{Name: "pubsub", Arity: -2, Flags: NoTx, Categories: []string{"slow"},
		Group: "pubsub", Since: "2.8.0", Summary: "A container for Pub/Sub commands", Handler: dispatchSubcommand,
		Subcommands: []*Command{
			{Name: "pubsub|channels", Arity: -2, Flags: PubSub | Loading | Stale | NoTx, Categories: []string{"pubsub", "slow"},
				Group: "pubsub", Since: "2.8.0", Summary: "List active channels", Handler: cmdPubsubChannels},
			{Name: "pubsub|help", Arity: 2, Flags: Loading | Stale | NoTx, Categories: []string{"slow"},
				Group: "pubsub", Since: "6.2.0", Summary: "Show helpful text about the different subcommands", Handler: cmdPubsubHelp},
			{Name: "pubsub|numpat", Arity: 2, Flags: PubSub | Loading | Stale | NoTx, Categories: []string{"pubsub", "slow"},
				Group: "pubsub", Since: "2.8.0", Summary: "Get the count of unique patterns pattern subscriptions", Handler: cmdPubsubNumPat},
			{Name: "pubsub|numsub", Arity: -2, Flags: PubSub | Loading | Stale | NoTx, Categories: []string{"pubsub", "slow"},
				Group: "pubsub", Since: "2.8.0", Summary: "Get the count of subscribers for channels", Handler: cmdPubsubNumSub},
			{Name: "pubsub|shardchannels", Arity: -2, Flags: PubSub | Loading | Stale | NoTx, Categories: []string{"pubsub", "slow"},
				Group: "pubsub", Since: "7.0.0", Summary: "List active shard channels", Handler: cmdPubsubShardChannels},
			{Name: "pubsub|shardnumsub", Arity: -2, Flags: PubSub | Loading | Stale | NoTx, Categories: []string{"pubsub", "slow"},
				Group: "pubsub", Since: "7.0.0", Summary: "Get the count of subscribers for shard channels", Handler: cmdPubsubShardNumSub},
		}},
}

// subKind is one of the three subscription namespaces.
type subKind int

const (
	kindChannel subKind = iota
	kindPattern
	kindShard
)

// Reply words per kind.
var (
	subWord   = [3]string{"subscribe", "psubscribe", "ssubscribe"}
	unsubWord = [3]string{"unsubscribe", "punsubscribe", "sunsubscribe"}
)

// pubsubRegistry maps channels, patterns and shard channels to their
// subscribers. Its zero value is ready to use.
type pubsubRegistry struct {
	mu   sync.RWMutex
	subs [3]map[string]map[*Session]struct{}
}

func (r *pubsubRegistry) add(kind subKind, name string, s *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subs[kind] == nil {
		r.subs[kind] = map[string]map[*Session]struct{}{}
	}
	set := r.subs[kind][name]
	if set == nil {
		set = map[*Session]struct{}{}
		r.subs[kind][name] = set
	}
	set[s] = struct{}{}
}

func (r *pubsubRegistry) remove(kind subKind, name string, s *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if set := r.subs[kind][name]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(r.subs[kind], name)
		}
	}
}

// count is how many channels (or patterns, or shard channels) have
// subscribers.
func (r *pubsubRegistry) count(kind subKind) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.subs[kind])
}

// list returns a session's subscriptions of a kind and their counter.
func (x *sessionExt) list(kind subKind) (*[]string, *atomic.Int32) {
	switch kind {
	case kindPattern:
		return &x.patterns, &x.npsub
	case kindShard:
		return &x.shards, &x.nssub
	}
	return &x.channels, &x.nsub
}

// subCount is the count Redis puts in (un)subscribe replies: channels and
// patterns together, shard channels on their own.
func (x *sessionExt) subCount(kind subKind) int64 {
	if kind == kindShard {
		return int64(x.nssub.Load())
	}
	return int64(x.nsub.Load() + x.npsub.Load())
}

// subscribe handles SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE.
func subscribe(c *Ctx, kind subKind) {
	x := &c.S.ext
	if kind == kindShard && x.depth > 1 {
		// Inside EXEC, as Redis 7.0 (SUBSCRIBE is let through there
		// for backward compatibility).
		c.Error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
		return
	}
	list, n := x.list(kind)
	for j := 1; j < len(c.Args); j++ {
		name := string(c.Args[j])
		if !slices.Contains(*list, name) {
			*list = append(*list, name)
			n.Add(1)
			c.Env.ext.pubsub.add(kind, name, c.S)
		}
		c.W.Push(3)
		c.W.BulkString(subWord[kind])
		c.W.BulkString(name)
		c.W.Int(x.subCount(kind))
	}
	x.pushReply = true
}

// unsubscribe handles UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE: the
// names given, or all of them.
func unsubscribe(c *Ctx, kind subKind) {
	x := &c.S.ext
	list, _ := x.list(kind)
	names := make([]string, 0, len(c.Args)-1)
	for j := 1; j < len(c.Args); j++ {
		names = append(names, string(c.Args[j]))
	}
	if len(c.Args) == 1 {
		names = slices.Clone(*list)
		if len(names) == 0 {
			c.W.Push(3)
			c.W.BulkString(unsubWord[kind])
			c.W.Null()
			c.W.Int(x.subCount(kind))
		}
	}
	for _, name := range names {
		c.Env.unsubscribeOne(c.S, kind, name)
		c.W.Push(3)
		c.W.BulkString(unsubWord[kind])
		c.W.BulkString(name)
		c.W.Int(x.subCount(kind))
	}
	x.pushReply = true
}

func (e *Env) unsubscribeOne(s *Session, kind subKind, name string) {
	x := &s.ext
	list, n := x.list(kind)
	i := slices.Index(*list, name)
	if i < 0 {
		return
	}
	*list = slices.Delete(*list, i, i+1)
	n.Add(-1)
	e.ext.pubsub.remove(kind, name, s)
}

// unsubscribeAll drops every subscription of s, without replies (RESET,
// a closed connection).
func (e *Env) unsubscribeAll(s *Session) {
	for _, kind := range []subKind{kindChannel, kindPattern, kindShard} {
		list, _ := s.ext.list(kind)
		for _, name := range slices.Clone(*list) {
			e.unsubscribeOne(s, kind, name)
		}
	}
}

// SUBSCRIBE channel [channel ...]
// https://redis.io/commands/subscribe/
func cmdSubscribe(c *Ctx) { subscribe(c, kindChannel) }

// UNSUBSCRIBE [channel [channel ...]]
// https://redis.io/commands/unsubscribe/
func cmdUnsubscribe(c *Ctx) { unsubscribe(c, kindChannel) }

// PSUBSCRIBE pattern [pattern ...]
// https://redis.io/commands/psubscribe/
func cmdPSubscribe(c *Ctx) { subscribe(c, kindPattern) }

// PUNSUBSCRIBE [pattern [pattern ...]]
// https://redis.io/commands/punsubscribe/
func cmdPUnsubscribe(c *Ctx) { unsubscribe(c, kindPattern) }

// SSUBSCRIBE shardchannel [shardchannel ...]
// https://redis.io/commands/ssubscribe/
func cmdSSubscribe(c *Ctx) { subscribe(c, kindShard) }

// SUNSUBSCRIBE [shardchannel [shardchannel ...]]
// https://redis.io/commands/sunsubscribe/
func cmdSUnsubscribe(c *Ctx) { unsubscribe(c, kindShard) }

// PUBLISH channel message
// https://redis.io/commands/publish/
func cmdPublish(c *Ctx) { c.W.Int(int64(publish(c, kindChannel, c.Str(1), c.Args[2]))) }

// SPUBLISH shardchannel message
// https://redis.io/commands/spublish/
func cmdSPublish(c *Ctx) { c.W.Int(int64(publish(c, kindShard, c.Str(1), c.Args[2]))) }

// publish sends a message to the subscribers of channel (and, for a plain
// channel, of the patterns matching it) and returns how many received it.
// A message to the publishing connection itself goes before its reply, as
// in Redis; others are queued on their connections.
func publish(c *Ctx, kind subKind, channel string, msg []byte) int {
	r := &c.Env.ext.pubsub
	type delivery struct {
		s       *Session
		pattern string
		isPat   bool
	}
	var out []delivery
	r.mu.RLock()
	for s := range r.subs[kind][channel] {
		out = append(out, delivery{s: s})
	}
	sortDeliveries := func(d []delivery) {
		sort.Slice(d, func(i, j int) bool { return d[i].s.ID < d[j].s.ID })
	}
	sortDeliveries(out)
	if kind == kindChannel && len(r.subs[kindPattern]) > 0 {
		pats := make([]string, 0, len(r.subs[kindPattern]))
		for p := range r.subs[kindPattern] {
			if engine.GlobMatch(p, channel, false) {
				pats = append(pats, p)
			}
		}
		sort.Strings(pats)
		for _, p := range pats {
			start := len(out)
			for s := range r.subs[kindPattern][p] {
				out = append(out, delivery{s: s, pattern: p, isPat: true})
			}
			sortDeliveries(out[start:])
		}
	}
	r.mu.RUnlock()
	var enc [4][]byte // by RESP version, for channel messages
	for _, d := range out {
		var b []byte
		resp := d.s.resp()
		if d.isPat {
			b = pubsubMessage(resp, "pmessage", d.pattern, channel, msg)
		} else {
			if enc[resp] == nil {
				word := "message"
				if kind == kindShard {
					word = "smessage"
				}
				enc[resp] = pubsubMessage(resp, word, "", channel, msg)
			}
			b = enc[resp]
		}
		if x := &c.S.ext; d.s == c.S && x.depth == 1 && !x.replyOff && !x.skipThis {
			c.W.B = append(c.W.B, b...)
		} else {
			d.s.ext.push(b)
		}
	}
	return len(out)
}

// pubsubMessage encodes a message: [word, (pattern,) channel, payload].
func pubsubMessage(resp int, word, pattern, channel string, msg []byte) []byte {
	n := 3
	if word == "pmessage" {
		n = 4
	}
	b := make([]byte, 0, 48+len(pattern)+len(channel)+len(msg))
	if resp == 3 {
		b = append(b, '>')
	} else {
		b = append(b, '*')
	}
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '\r', '\n')
	b = appendBulk(b, word)
	if n == 4 {
		b = appendBulk(b, pattern)
	}
	b = appendBulk(b, channel)
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(msg)), 10)
	b = append(b, '\r', '\n')
	b = append(b, msg...)
	return append(b, '\r', '\n')
}

// PUBSUB CHANNELS [pattern]
func cmdPubsubChannels(c *Ctx) { pubsubList(c, kindChannel) }

// PUBSUB SHARDCHANNELS [pattern]
func cmdPubsubShardChannels(c *Ctx) { pubsubList(c, kindShard) }

func pubsubList(c *Ctx, kind subKind) {
	if len(c.Args) > 3 {
		c.Error(sanitize("ERR unknown subcommand or wrong number of arguments for '" + truncate128(c.Args[1]) + "'. Try PUBSUB HELP."))
		return
	}
	r := &c.Env.ext.pubsub
	var names []string
	r.mu.RLock()
	for name := range r.subs[kind] {
		if len(c.Args) == 2 || engine.GlobMatch(c.Str(2), name, false) {
			names = append(names, name)
		}
	}
	r.mu.RUnlock()
	sort.Strings(names)
	c.W.StringArray(names)
}

// truncate128 is how Redis quotes a subcommand name in errors (%.128s).
func truncate128(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// PUBSUB NUMSUB [channel ...]
func cmdPubsubNumSub(c *Ctx) { pubsubNumSub(c, kindChannel) }

// PUBSUB SHARDNUMSUB [shardchannel ...]
func cmdPubsubShardNumSub(c *Ctx) { pubsubNumSub(c, kindShard) }

func pubsubNumSub(c *Ctx, kind subKind) {
	r := &c.Env.ext.pubsub
	c.W.Array(2 * (len(c.Args) - 2))
	r.mu.RLock()
	defer r.mu.RUnlock()
	for j := 2; j < len(c.Args); j++ {
		c.W.Bulk(c.Args[j])
		c.W.Int(int64(len(r.subs[kind][c.Str(j)])))
	}
}

// PUBSUB NUMPAT
func cmdPubsubNumPat(c *Ctx) { c.W.Int(int64(c.Env.ext.pubsub.count(kindPattern))) }

// PUBSUB HELP
func cmdPubsubHelp(c *Ctx) {
	replyHelp(c, []string{
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	})
}
