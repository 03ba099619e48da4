package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 1, 100, 10}, 10},
	}
	for _, c := range cases {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestResp reads the generated stream back as RESP and checks every command.
func TestResp(t *testing.T) {
	for _, ttl := range []int{0, 100000} {
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		writeResp(w, 1001, "key:%010d", 32, ttl, "")
		w.Flush()
		r := bufio.NewReader(&buf)
		for i := 0; i < 1001; i++ {
			args := readCommand(t, r)
			want := 3
			if ttl > 0 {
				want = 5
			}
			if len(args) != want || args[0] != "SET" {
				t.Fatalf("command %d: %q", i, args)
			}
			if wantKey := "key:" + strings.Repeat("0", 10-len(itoa(i))) + itoa(i); args[1] != wantKey {
				t.Fatalf("command %d key %q, want %q", i, args[1], wantKey)
			}
			if len(args[2]) != 32 || !strings.HasPrefix(args[2], "value-") || !strings.HasSuffix(args[2], itoa(i)) {
				t.Fatalf("command %d value %q", i, args[2])
			}
			if ttl > 0 && (args[3] != "EX" || args[4] != "100000") {
				t.Fatalf("command %d: %q", i, args)
			}
		}
		if rest, _ := r.ReadString(0); rest != "" {
			t.Fatalf("trailing bytes %q", rest)
		}
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeResp(w, 1, "key:%012d", 4, 0, "x")
	w.Flush()
	if got, want := buf.String(), "*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000000\r\n$4\r\nxxxx\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

// readCommand parses one RESP array of bulk strings.
func readCommand(t *testing.T, r *bufio.Reader) []string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil || line[0] != '*' {
		t.Fatalf("bad array header %q (%v)", line, err)
	}
	n := 0
	for _, c := range strings.TrimSpace(line[1:]) {
		n = n*10 + int(c-'0')
	}
	args := make([]string, n)
	for i := range args {
		rep, err := readReply(r)
		if err != nil || rep.kind != '$' {
			t.Fatalf("arg %d: %v %v", i, rep, err)
		}
		args[i] = rep.str
	}
	return args
}

func TestBenchTable(t *testing.T) {
	raw := `redis,1,1,"SET","100.00","0.1","0.0","1.000","0","2.000","9"
durastore,1,1,"SET","50.00","0.1","0.0","3.000","0","4.000","9"
redis,1,2,"SET","300.00","0.1","0.0","1.000","0","6.000","9"
durastore,1,2,"SET","240.00","0.1","0.0","1.000","0","3.000","9"
redis,1,3,"SET","200.00","0.1","0.0","2.000","0","4.000","9"
durastore,1,3,"SET","200.00","0.1","0.0","2.000","0","8.000","9"
redis,16,1,"GET","1000.00","0.1","0.0","1.000","0","2.000","9"
redis,1,1,"MSET (10 keys)","10.00","0.1","0.0","1.000","0","2.000","9"
`
	rows, err := readBench(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, table := benchTable(rows)
	want := [][]string{
		// medians: redis rps 200, durastore 200; p50 1/2; p99 4/4;
		// per-round ratios 0.5, 0.8, 1.0.
		{"SET", "1", "200", "200", "1.00", "1.000 / 4.000", "2.000 / 4.000", "1.00", "0.50-1.00"},
		{"MSET (10 keys)", "1", "10", "n/a", "n/a", "1.000 / 2.000", "n/a / n/a", "n/a", "n/a"},
		{"GET", "16", "1000", "n/a", "n/a", "1.000 / 2.000", "n/a / n/a", "n/a", "n/a"},
	}
	if len(table) != len(want) {
		t.Fatalf("got %d rows: %q", len(table), table)
	}
	for i := range want {
		if strings.Join(table[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d:\n got %q\nwant %q", i, table[i], want[i])
		}
	}
	if _, err := readBench(strings.NewReader("redis,1,1,\"SET\",\"x\"\n")); err == nil {
		t.Error("a short row was accepted")
	}
}

func TestMemoryTable(t *testing.T) {
	_, table := memoryTable([][]string{
		{"none", "redis", "1000", "1000", "125000"},
		{"none", "durastore", "1000", "2000", "252000"},
	})
	if len(table) != 1 {
		t.Fatalf("rows: %q", table)
	}
	if got := strings.Join(table[0][:5], "|"); got != "1000|none|124.0|250.0|2.02" {
		t.Errorf("row %q", table[0])
	}
}
