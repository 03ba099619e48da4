package tests

import (
	"strings"
	"testing"
	"time"
)

// slowlog-log-slower-than and slowlog-max-len are CONFIG parameters as in
// Redis, and the slow log follows them.
func TestSlowlogConfig(t *testing.T) {
	x := newDiff(t, nil, nil)
	x.Do(t, "CONFIG", "GET", "slowlog-log-slower-than")
	x.Do(t, "CONFIG", "GET", "slowlog-max-len")
	x.Do(t, "CONFIG", "SET", "slowlog-max-len", "abc")
	x.Do(t, "CONFIG", "SET", "slowlog-log-slower-than", "0")
	x.Do(t, "CONFIG", "SET", "slowlog-max-len", "2")
	x.DoUnordered(t, "CONFIG", "GET", "slowlog-*") // Redis lists a glob match in hash order
	// The server rereads the configuration at most once a second.
	time.Sleep(1100 * time.Millisecond)
	x.Do(t, "SLOWLOG", "RESET")
	for i := 0; i < 5; i++ {
		x.D.Do("PING")
	}
	if got := x.D.Do("SLOWLOG", "LEN"); got != ":2\r\n" {
		t.Fatalf("SLOWLOG LEN with max-len 2 and threshold 0: %q", got)
	}
	if got := x.D.Do("SLOWLOG", "GET", "2"); !strings.Contains(got, "PING") {
		t.Fatalf("SLOWLOG GET: %q", got)
	}
}
