package tests

// Pub/sub against redis-server 7.0: SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE,
// PUNSUBSCRIBE, PUBLISH, the shard variants and PUBSUB, in RESP2 and RESP3,
// and what a RESP2 connection may run while subscribed.

import (
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestPubsubRESP2 compares the confirmations and messages of a RESP2
// subscriber, and the commands refused while it is subscribed.
func TestPubsubRESP2(t *testing.T) {
	x := newDiff(t, nil, nil)
	pub := trkConns(t, x)
	trkDoN(t, x, 3, "SUBSCRIBE", "c1", "c2", "c1")
	trkDoN(t, x, 2, "PSUBSCRIBE", "c*", "d?")
	x.Do(t, "SSUBSCRIBE", "s1")
	pub.Do(t, "PUBLISH", "c1", "hello")
	trkRead(t, x, "message on c1")
	trkRead(t, x, "pmessage for c*")
	pub.Do(t, "PUBLISH", "d1", "")
	trkRead(t, x, "pmessage for d?")
	pub.Do(t, "PUBLISH", "zz", "nobody")
	pub.Do(t, "SPUBLISH", "s1", "shard")
	trkRead(t, x, "smessage on s1")
	pub.Do(t, "SPUBLISH", "c1", "not a channel of the same kind")
	x.Script(t, `
		PING
		PING hi
		GET x
		CLIENT GETNAME
		CLIENT NOSUCH
		SET x
		NOSUCHCOMMAND
	`)
	trkDoN(t, x, 2, "UNSUBSCRIBE", "c1", "zz")
	trkDoN(t, x, 1, "PUNSUBSCRIBE", "d?")
	// Still subscribed to c2, c* and s1.
	x.Do(t, "GET", "x")
	trkDoN(t, x, 1, "UNSUBSCRIBE")
	trkDoN(t, x, 1, "PUNSUBSCRIBE")
	// Only s1 is left: still in pub/sub mode.
	x.Do(t, "GET", "x")
	x.Do(t, "SUNSUBSCRIBE")
	x.Do(t, "SUNSUBSCRIBE")
	x.Do(t, "UNSUBSCRIBE")
	x.Do(t, "PUNSUBSCRIBE")
	x.Do(t, "PING")
	x.Do(t, "GET", "x")
}

// TestPubsubRESP3 compares the pushes of a RESP3 subscriber, which may run
// any command, and a client receiving its own message before its reply.
func TestPubsubRESP3(t *testing.T) {
	x := newDiff(t, nil, nil)
	pub := trkConns(t, x)
	trkHello3(t, x)
	x.Do(t, "SUBSCRIBE", "c1")
	x.Do(t, "PSUBSCRIBE", "c*")
	x.Do(t, "SSUBSCRIBE", "s1")
	pub.Do(t, "PUBLISH", "c1", "hello")
	trkRead(t, x, "message push")
	trkRead(t, x, "pmessage push")
	pub.Do(t, "SPUBLISH", "s1", "m")
	trkRead(t, x, "smessage push")
	x.Script(t, `
		PING
		GET x
		SET x 1
		CLIENT GETNAME
	`)
	trkDoN(t, x, 2, "PUBLISH", "c1", "to myself")
	x.Do(t, "UNSUBSCRIBE", "c1")
	x.Do(t, "UNSUBSCRIBE", "nosuch")
	x.Do(t, "PUNSUBSCRIBE")
	x.Do(t, "SUNSUBSCRIBE", "s1")
	x.Do(t, "UNSUBSCRIBE")
	// SUBSCRIBE is allowed in MULTI, SSUBSCRIBE is not.
	x.Script(t, `
		MULTI
		SUBSCRIBE m1
		SSUBSCRIBE m2
		PSUBSCRIBE m*
		EXEC
		PUNSUBSCRIBE
		UNSUBSCRIBE
	`)
}

// TestPubsubIntrospection compares PUBSUB CHANNELS, NUMSUB, NUMPAT and the
// shard variants, and the errors of every pub/sub command.
func TestPubsubIntrospection(t *testing.T) {
	x := newDiff(t, nil, nil)
	subs := []*Diff{trkConns(t, x), trkConns(t, x), trkConns(t, x)}
	trkDoN(t, subs[0], 2, "SUBSCRIBE", "news", "sport")
	trkDoN(t, subs[1], 1, "SUBSCRIBE", "news")
	trkDoN(t, subs[1], 2, "PSUBSCRIBE", "n*", "s*")
	trkDoN(t, subs[2], 1, "PSUBSCRIBE", "n*")
	trkDoN(t, subs[2], 1, "SSUBSCRIBE", "shard")
	x.Script(t, `
		@unordered PUBSUB CHANNELS
		PUBSUB CHANNELS s*
		PUBSUB CHANNELS nomatch*
		PUBSUB NUMSUB
		PUBSUB NUMSUB news sport nosuch news
		PUBSUB NUMPAT
		PUBSUB SHARDCHANNELS
		PUBSUB SHARDCHANNELS sh*
		PUBSUB SHARDNUMSUB shard news
		PUBSUB SHARDNUMSUB
		PUBSUB CHANNELS a b
		PUBSUB SHARDCHANNELS a b
		PUBSUB NUMPAT x
		PUBSUB HELP
		PUBSUB HELP x
		PUBSUB FOO
		PUBSUB
		PUBLISH news
		PUBLISH
		SPUBLISH shard
		SUBSCRIBE
		PSUBSCRIBE
		SSUBSCRIBE
		PUBLISH news flash
		SPUBLISH shard s
		PUBLISH sport goal
		PUBLISH other x
	`)
	// subs[0] has news and sport; subs[1] news, n* and s*; subs[2] n*
	// and the shard channel.
	for i, n := range []int{2, 3, 2} {
		for k := 0; k < n; k++ {
			trkRead(t, subs[i], "message "+strconv.Itoa(k+1)+" to subscriber "+strconv.Itoa(i))
		}
		subs[i].Do(t, "PING")
	}
	if r, d := x.R.Do("INFO", "stats"), x.D.Do("INFO", "stats"); pubsubStats(r) != pubsubStats(d) {
		t.Errorf("pubsub stats: redis %s, durastore %s", pubsubStats(r), pubsubStats(d))
	}
}

func pubsubStats(info string) string {
	var out []string
	for _, f := range []string{"pubsub_channels", "pubsub_patterns", "pubsubshard_channels"} {
		v, _ := connInfoValue(parseReply(info).(string), f)
		out = append(out, f+"="+v)
	}
	return strings.Join(out, ",")
}

// TestPubsubDelivery checks every subscriber gets every message in order
// while many publishers publish at once, and CLIENT LIST shows the
// subscriptions.
func TestPubsubDelivery(t *testing.T) {
	d := startDurastore(t)
	const subscribers, publishers, each = 4, 4, 200
	subs := make([]*RawConn, subscribers)
	for i := range subs {
		subs[i] = d.Dial(t)
		subs[i].Do("SUBSCRIBE", "ch")
		subs[i].Do("PSUBSCRIBE", "c?")
	}
	list := parseReply(d.Dial(t).Do("CLIENT", "LIST", "TYPE", "pubsub")).(string)
	if n := strings.Count(list, "sub=1 psub=1 ssub=0"); n != subscribers {
		t.Errorf("CLIENT LIST TYPE pubsub shows %d subscribers:\n%s", n, list)
	}
	if !strings.Contains(list, " flags=P ") {
		t.Errorf("no P flag in CLIENT LIST:\n%s", list)
	}
	var wg sync.WaitGroup
	for p := 0; p < publishers; p++ {
		c := d.Dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				c.Send("PUBLISH", "ch", strconv.Itoa(p)+":"+strconv.Itoa(i))
			}
			for i := 0; i < each; i++ {
				if got, err := c.ReadReplyErr(); err != nil || got != ":8\r\n" {
					t.Errorf("PUBLISH replied %q, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, s := range subs {
		next := make([]int, publishers)
		for k := 0; k < 2*publishers*each; k++ {
			v := parseReply(s.ReadReply()).([]any)
			msg := v[len(v)-1].(string)
			pp, ii, _ := strings.Cut(msg, ":")
			p, _ := strconv.Atoi(pp)
			i, _ := strconv.Atoi(ii)
			if v[0] == "message" {
				if i != next[p] {
					t.Fatalf("publisher %d: message %d after %d", p, i, next[p]-1)
				}
				next[p]++
			}
		}
	}
}

// TestPubsubSlowSubscriberDropped: a subscriber that stops reading is
// disconnected once 32 MB of messages wait for it, as Redis's pub/sub
// output buffer limit does, and publishers never wait for it.
func TestPubsubSlowSubscriberDropped(t *testing.T) {
	d := startDurastore(t)
	slow := d.Dial(t)
	slow.Do("SUBSCRIBE", "ch")
	id := ""
	admin := d.Dial(t)
	for _, line := range strings.Split(parseReply(admin.Do("CLIENT", "LIST", "TYPE", "pubsub")).(string), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			id = f[0]
		}
	}
	if id == "" {
		t.Fatal("the subscriber is not listed")
	}
	pub := d.Dial(t)
	msg := strings.Repeat("m", 1<<20)
	gone := false
	for i := 0; i < 200 && !gone; i++ {
		if got := pub.Do("PUBLISH", "ch", msg); got != ":1\r\n" && got != ":0\r\n" {
			t.Fatalf("PUBLISH: %q", got)
		}
		gone = !strings.Contains(parseReply(admin.Do("CLIENT", "LIST")).(string), id+" ")
	}
	if !gone {
		t.Fatal("a subscriber that reads nothing was kept after 200 MB of messages")
	}
	if got := pub.Do("PUBLISH", "ch", "x"); got != ":0\r\n" {
		t.Errorf("PUBLISH after the drop: %q", got)
	}
}
