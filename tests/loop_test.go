package tests

// The event loop (server/loop.go) serves every plain TCP client from one
// goroutine by default. These tests check that no client can hold up the
// others from it: one that stops reading its replies, one held by CLIENT
// PAUSE, one running a long script, and writers waiting for their fsync
// under appendfsync always.

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// A client that pipelines more replies than its socket holds and reads
// none: the others are still served meanwhile, and once it reads, it
// gets every reply, in order.
func TestLoopSlowReaderDoesNotHoldOthers(t *testing.T) {
	d := startDurastore(t, "--io-threads", "1")
	setup := d.Dial(t)
	value := strings.Repeat("v", 64<<10)
	expectReply(t, setup, "+OK\r\n", "SET", "big", value)

	slow := d.Dial(t)
	// 400 GETs of 64 KB: 25 MB of replies, far more than the socket
	// buffers on both sides hold.
	const n = 400
	slow.SendRaw(bytes.Repeat(encodeCommand("GET", "big"), n))
	time.Sleep(200 * time.Millisecond) // the server fills the socket and waits

	other := d.Dial(t)
	for i := 0; i < 20; i++ {
		expectReply(t, other, ":1\r\n", "INCR", "counter-"+fmt.Sprint(i))
	}

	want := fmt.Sprintf("$%d\r\n%s\r\n", len(value), value)
	for i := 0; i < n; i++ {
		raw, err := slow.ReadReplyErr()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if raw != want {
			t.Fatalf("reply %d: %d bytes, want the value (%d bytes)", i, len(raw), len(want))
		}
	}
	// Back on the loop, the slow client is served as before.
	expectReply(t, slow, "+PONG\r\n", "PING")
}

// A client held by CLIENT PAUSE WRITE waits alone: others keep reading,
// and one of them ends the pause.
func TestLoopPausedClientDoesNotHoldOthers(t *testing.T) {
	d := startDurastore(t, "--io-threads", "1")
	admin := d.Dial(t)
	expectReply(t, admin, "+OK\r\n", "SET", "k", "before")
	expectReply(t, admin, "+OK\r\n", "CLIENT", "PAUSE", "60000", "WRITE")

	writer := d.Dial(t)
	writer.Send("SET", "k", "after")
	reader := d.Dial(t)
	for i := 0; i < 5; i++ {
		expectReply(t, reader, "$6\r\nbefore\r\n", "GET", "k")
	}
	expectReply(t, reader, "+OK\r\n", "CLIENT", "UNPAUSE")
	if raw, err := writer.ReadReplyErr(); err != nil || raw != "+OK\r\n" {
		t.Fatalf("paused SET after UNPAUSE: %q %v", raw, err)
	}
	expectReply(t, reader, "$5\r\nafter\r\n", "GET", "k")
}

// A script that loops until killed leaves the loop free: another client
// gets BUSY, and SCRIPT KILL from a third stops it.
func TestLoopBusyScriptCanBeKilled(t *testing.T) {
	d := startDurastore(t, "--io-threads", "1", "--busy-reply-threshold", "100")
	runner := d.Dial(t)
	runner.Send("EVAL", "while true do end", "0")
	time.Sleep(300 * time.Millisecond) // past the busy threshold
	other := d.Dial(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw := other.Do("GET", "k")
		if strings.HasPrefix(raw, "-BUSY") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no BUSY while a script loops: %q", raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	expectReply(t, d.Dial(t), "+OK\r\n", "SCRIPT", "KILL")
	raw, err := runner.ReadReplyErr()
	if err != nil || !strings.HasPrefix(raw, "-ERR Script killed by user with SCRIPT KILL") {
		t.Fatalf("killed script's reply: %q %v", raw, err)
	}
	expectReply(t, other, "$-1\r\n", "GET", "k")
}

// Under appendfsync always, writers on the loop wait for their fsync on
// goroutines of their own: many at once all get their replies, and every
// write is there.
func TestLoopFsyncAlwaysConcurrentWriters(t *testing.T) {
	d := startDurastore(t, "--io-threads", "1", "--appendfsync", "always")
	const clients, each = 20, 50
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		conn := d.Dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				raw, err := conn.DoErr("INCR", "n")
				if err != nil || !strings.HasPrefix(raw, ":") {
					errs <- fmt.Errorf("INCR: %q %v", raw, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	expectReply(t, d.Dial(t), fmt.Sprintf(":%d\r\n", clients*each), "INCRBY", "n", "0")
}
