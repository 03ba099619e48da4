package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

func newFlagSet(name string) *flag.FlagSet {
	return flag.NewFlagSet("benchtool "+name, flag.ContinueOnError)
}

// The two servers, in the order the tables show them.
const (
	redisName = "redis"
	duraName  = "durastore"
)

// benchRow is one line of redis-benchmark --csv output from one round.
type benchRow struct {
	server   string
	pipeline int
	round    int
	test     string
	rps      float64
	p50, p99 float64
}

// readBench reads the raw file bench.sh writes: each line is
// server,pipeline,round followed by one redis-benchmark --csv data line
// (test, rps, avg, min, p50, p95, p99, max).
func readBench(r io.Reader) ([]benchRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var rows []benchRow
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != 11 {
			return nil, fmt.Errorf("line %d: %d fields, want 11", line, len(rec))
		}
		var row benchRow
		row.server = rec[0]
		row.test = rec[3]
		nums := []struct {
			s string
			f *float64
		}{{rec[4], &row.rps}, {rec[7], &row.p50}, {rec[9], &row.p99}}
		for _, n := range nums {
			if *n.f, err = strconv.ParseFloat(n.s, 64); err != nil {
				return nil, fmt.Errorf("line %d: %v", line, err)
			}
		}
		if row.pipeline, err = strconv.Atoi(rec[1]); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if row.round, err = strconv.Atoi(rec[2]); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		rows = append(rows, row)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func num(f float64, format string) string {
	if math.IsNaN(f) {
		return "n/a"
	}
	return fmt.Sprintf(format, f)
}

// benchTable turns the rounds into one row per (test, pipeline): medians
// over rounds for each server, and the ratios durastore/redis of the
// medians. The last column is the range of the per-round rps ratios (round
// i of durastore over round i of redis), to show the noise.
func benchTable(rows []benchRow) (header []string, out [][]string) {
	type key struct {
		test     string
		pipeline int
	}
	type series struct {
		rps, p50, p99 []float64
		byRound       map[int]float64
	}
	var order []key
	data := map[key]map[string]*series{}
	for _, r := range rows {
		k := key{r.test, r.pipeline}
		if data[k] == nil {
			data[k] = map[string]*series{}
			order = append(order, k)
		}
		s := data[k][r.server]
		if s == nil {
			s = &series{byRound: map[int]float64{}}
			data[k][r.server] = s
		}
		s.rps = append(s.rps, r.rps)
		s.p50 = append(s.p50, r.p50)
		s.p99 = append(s.p99, r.p99)
		s.byRound[r.round] = r.rps
	}
	// Pipeline-major order: every test at -P 1, then at -P 16, ...
	sort.SliceStable(order, func(i, j int) bool { return order[i].pipeline < order[j].pipeline })
	header = []string{"test", "pipeline", "redis rps", "durastore rps", "ratio",
		"redis p50/p99 ms", "durastore p50/p99 ms", "p99 ratio", "ratio range"}
	for _, k := range order {
		get := func(server string) (rps, p50, p99 float64) {
			s := data[k][server]
			if s == nil {
				return math.NaN(), math.NaN(), math.NaN()
			}
			return median(s.rps), median(s.p50), median(s.p99)
		}
		rr, r50, r99 := get(redisName)
		dr, d50, d99 := get(duraName)
		spread := "n/a"
		if rs, ds := data[k][redisName], data[k][duraName]; rs != nil && ds != nil {
			lo, hi := math.Inf(1), math.Inf(-1)
			for round, rv := range rs.byRound {
				dv, ok := ds.byRound[round]
				if !ok || rv == 0 {
					continue
				}
				lo = math.Min(lo, dv/rv)
				hi = math.Max(hi, dv/rv)
			}
			if !math.IsInf(lo, 0) {
				spread = fmt.Sprintf("%.2f-%.2f", lo, hi)
			}
		}
		out = append(out, []string{
			k.test, strconv.Itoa(k.pipeline),
			num(rr, "%.0f"), num(dr, "%.0f"), ratio(dr, rr),
			num(r50, "%.3f") + " / " + num(r99, "%.3f"),
			num(d50, "%.3f") + " / " + num(d99, "%.3f"),
			ratio(d99, r99), spread,
		})
	}
	return header, out
}

// readTSV reads tab-separated lines, skipping blank ones.
func readTSV(path string, fields int) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		rec := strings.Split(sc.Text(), "\t")
		if len(rec) != fields {
			return nil, fmt.Errorf("%s line %d: %d fields, want %d", path, line, len(rec), fields)
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}

func atof(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

func mb(bytes float64) string { return num(bytes/(1<<20), "%.1f") }

// memoryTable reads lines "kind, server, keys, rss_before, rss_after"
// (bytes) and shows bytes per key for each server and their ratio.
func memoryTable(recs [][]string) (header []string, out [][]string) {
	type res struct{ keys, before, after float64 }
	var kinds []string
	data := map[string]map[string]res{}
	for _, r := range recs {
		if data[r[0]] == nil {
			data[r[0]] = map[string]res{}
			kinds = append(kinds, r[0])
		}
		data[r[0]][r[1]] = res{atof(r[2]), atof(r[3]), atof(r[4])}
	}
	header = []string{"keys", "TTL", "redis bytes/key", "durastore bytes/key", "ratio",
		"redis RSS MB (before -> after)", "durastore RSS MB (before -> after)"}
	for _, kind := range kinds {
		per := func(server string) (float64, string, float64) {
			r, ok := data[kind][server]
			if !ok {
				return math.NaN(), "n/a", math.NaN()
			}
			return (r.after - r.before) / r.keys, mb(r.before) + " -> " + mb(r.after), r.keys
		}
		rb, rrss, n := per(redisName)
		db, drss, dn := per(duraName)
		if math.IsNaN(n) {
			n = dn
		}
		out = append(out, []string{
			num(n, "%.0f"), kind, num(rb, "%.1f"), num(db, "%.1f"), ratio(db, rb), rrss, drss,
		})
	}
	return header, out
}

// restartTable reads lines "server, keys, seconds, disk_bytes".
func restartTable(recs [][]string) (header []string, out [][]string) {
	type res struct{ keys, secs, disk float64 }
	data := map[string]res{}
	for _, r := range recs {
		data[r[0]] = res{atof(r[1]), atof(r[2]), atof(r[3])}
	}
	get := func(server string) res {
		r, ok := data[server]
		if !ok {
			return res{math.NaN(), math.NaN(), math.NaN()}
		}
		return r
	}
	r, d := get(redisName), get(duraName)
	n := r.keys
	if math.IsNaN(n) {
		n = d.keys
	}
	header = []string{"keys", "redis s", "durastore s", "ratio", "redis on disk MB", "durastore on disk MB"}
	out = [][]string{{num(n, "%.0f"), num(r.secs, "%.3f"), num(d.secs, "%.3f"), ratio(d.secs, r.secs),
		mb(r.disk), mb(d.disk)}}
	return header, out
}

// printTable prints a Markdown table with padded columns, so that it reads
// well in a terminal and can be pasted into the README as is. Columns whose
// cells all start with a digit (or "n/a") are right-aligned.
func printTable(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	right := make([]bool, len(header))
	for i, h := range header {
		width[i] = len(h)
		right[i] = len(rows) > 0
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
			if !strings.HasPrefix(c, "n/a") && (c == "" || c[0] < '0' || c[0] > '9') {
				right[i] = false
			}
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len(c))
			if right[i] {
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(header)
	var b strings.Builder
	b.WriteString("|")
	for i := range header {
		if right[i] {
			b.WriteString(strings.Repeat("-", width[i]+1) + ":|")
		} else {
			b.WriteString(strings.Repeat("-", width[i]+2) + "|")
		}
	}
	fmt.Fprintln(w, b.String())
	for _, r := range rows {
		line(r)
	}
}

func cmdReport(args []string, out io.Writer) error {
	fs := newFlagSet("report")
	benchPath := fs.String("bench", "", "raw benchmark rows")
	memPath := fs.String("memory", "", "memory results")
	restartPath := fs.String("restart", "", "restart results")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *benchPath == "" && *memPath == "" && *restartPath == "" {
		return errors.New("nothing to report")
	}
	if *benchPath != "" {
		f, err := os.Open(*benchPath)
		if err != nil {
			return err
		}
		rows, err := readBench(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %v", *benchPath, err)
		}
		fmt.Fprintln(out, "Throughput and latency (medians over rounds; ratio = durastore / redis):")
		fmt.Fprintln(out)
		h, t := benchTable(rows)
		printTable(out, h, t)
		fmt.Fprintln(out)
	}
	if *memPath != "" {
		recs, err := readTSV(*memPath, 5)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "Memory per key (RSS growth / keys; ratio = durastore / redis):")
		fmt.Fprintln(out)
		h, t := memoryTable(recs)
		printTable(out, h, t)
		fmt.Fprintln(out)
	}
	if *restartPath != "" {
		recs, err := readTSV(*restartPath, 4)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "Restart (launch until PING answers and DBSIZE == keys; ratio = durastore / redis):")
		fmt.Fprintln(out)
		h, t := restartTable(recs)
		printTable(out, h, t)
		fmt.Fprintln(out)
	}
	return nil
}
