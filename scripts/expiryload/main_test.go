package main

import (
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Millisecond
		}
		return d
	}
	hundred := make([]time.Duration, 100) // 1..100 ms
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	thousand := make([]time.Duration, 1000) // 1..1000 µs
	for i := range thousand {
		thousand[i] = time.Duration(i+1) * time.Microsecond
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one value p50", ms(7), 50, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"p0 is the minimum", ms(1, 2, 3), 0, 1 * time.Millisecond},
		{"p100 is the maximum", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"p50 of 4 is the 2nd", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p50 of 5 is the 3rd", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p99 of 100 is the 99th", hundred, 99, 99 * time.Millisecond},
		{"p50 of 100 is the 50th", hundred, 50, 50 * time.Millisecond},
		{"p99 of 1000 is the 990th", thousand, 99, 990 * time.Microsecond},
		{"p99.9 of 1000 is the 999th", thousand, 99.9, 999 * time.Microsecond},
		{"p99 of 10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p99 with one outlier in 200", append(slices.Repeat(ms(1), 199), 500*time.Millisecond), 99, time.Millisecond},
		{"p99 with three outliers in 200", append(slices.Repeat(ms(1), 197), ms(400, 450, 500)...), 99, 400 * time.Millisecond}, // rank 198
	} {
		if got := percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: percentile(p%v) = %v, want %v", tc.name, tc.p, got, tc.want)
		}
	}
}

func TestWindowOf(t *testing.T) {
	const afterLen = 2 * time.Second
	for _, tc := range []struct {
		rel  time.Duration
		want int
	}{
		{-3 * time.Second, before},
		{-time.Nanosecond, before},
		{0, during},
		{999 * time.Millisecond, during},
		{time.Second - time.Nanosecond, during},
		{time.Second, after},
		{2999 * time.Millisecond, after},
		{3 * time.Second, -1},
		{10 * time.Second, -1},
	} {
		if got := windowOf(tc.rel, afterLen); got != tc.want {
			t.Errorf("windowOf(%v, %v) = %d, want %d", tc.rel, afterLen, got, tc.want)
		}
	}
	if got := windowOf(time.Second, 0); got != -1 {
		t.Errorf("with no after window, T+1s is past the end: got %d", got)
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	var samples []sample
	// before, from T-2s: 100 requests of 1..100 µs (rate 50/s)
	for i := 0; i < 100; i++ {
		samples = append(samples, sample{start: -2*time.Second + time.Duration(i)*20*ms, lat: time.Duration(i+1) * time.Microsecond})
	}
	// during: 10 requests, 9 of 1 ms and one of 300 ms
	for i := 0; i < 10; i++ {
		lat := ms
		if i == 5 {
			lat = 300 * ms
		}
		samples = append(samples, sample{start: time.Duration(i) * 100 * ms, lat: lat})
	}
	// after (1s long): 4 requests of 2, 4, 6, 8 ms, given out of order
	for _, x := range []int{6, 2, 8, 4} {
		samples = append(samples, sample{start: time.Second + time.Duration(x)*100*ms, lat: time.Duration(x) * ms})
	}
	// past the end: ignored
	samples = append(samples, sample{start: 2 * time.Second, lat: time.Hour})

	st := summarize(samples, -2*time.Second, time.Second)
	want := [3]windowStats{
		{from: -2 * time.Second, to: 0, n: 100, rps: 50, p50: 50 * time.Microsecond, p99: 99 * time.Microsecond, max: 100 * time.Microsecond},
		{from: 0, to: time.Second, n: 10, rps: 10, p50: ms, p99: 300 * ms, max: 300 * ms},
		{from: time.Second, to: 2 * time.Second, n: 4, rps: 4, p50: 4 * ms, p99: 8 * ms, max: 8 * ms},
	}
	for w := range want {
		if st[w] != want[w] {
			t.Errorf("window %s: got %+v, want %+v", windowNames[w], st[w], want[w])
		}
	}

	empty := summarize(nil, -time.Second, time.Second)
	for w := range empty {
		if empty[w].n != 0 || empty[w].rps != 0 || empty[w].p99 != 0 || empty[w].max != 0 {
			t.Errorf("no samples, window %s: got %+v", windowNames[w], empty[w])
		}
	}
}

func TestKeyNameAndParseLen(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		i      int
		want   string
	}{
		{"live:", 0, "live:0000000000"},
		{"live:", 42, "live:0000000042"},
		{"exp:", 999999, "exp:0000999999"},
		{"exp:", 9999999999, "exp:9999999999"},
	} {
		if got := string(keyName(tc.prefix, tc.i)); got != tc.want {
			t.Errorf("keyName(%q, %d) = %q, want %q", tc.prefix, tc.i, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in string
		n  int
		ok bool
	}{
		{"32", 32, true}, {"0", 0, true}, {"-1", -1, true}, {"", 0, false}, {"-2", 0, false}, {"3x", 0, false},
	} {
		n, ok := parseLen([]byte(tc.in))
		if n != tc.n || ok != tc.ok {
			t.Errorf("parseLen(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.n, tc.ok)
		}
	}
}
