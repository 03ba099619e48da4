// Command hitrate measures a cache's hit rate under a skewed (Zipf)
// access pattern, the way an application uses Redis as a cache: GET a key,
// and on a miss SET it (cache-aside). Run against servers with the same
// maxmemory and policy, it compares their eviction.
//
//	hitrate -addr 127.0.0.1:6379 [-keys 1000000] [-theta 0.99] [-size 100]
//	        [-warmup 2000000] [-requests 2000000] [-clients 4] [-pipeline 32]
//	        [-seed 1] [-flush]
//
// Key ranks follow YCSB's Zipfian generator (Gray et al., "Quickly
// generating billion-record synthetic databases"), which allows theta < 1;
// ranks map to key names through a fixed random permutation so popularity
// is unrelated to key order. Each client draws from its own seeded
// generator, so two runs with the same flags send the same requests.
//
// It prints one line of key=value pairs: the hit rate measured by the
// client after the warm-up, and the server's keys, used_memory and
// evicted_keys from INFO. scripts/bench.sh --hitrate runs it against
// redis-server and durastore.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	keys := flag.Int("keys", 1_000_000, "number of distinct keys")
	theta := flag.Float64("theta", 0.99, "Zipf skew (YCSB's zipfian constant)")
	size := flag.Int("size", 100, "value size in bytes")
	warmup := flag.Int("warmup", 2_000_000, "requests before measuring")
	requests := flag.Int("requests", 2_000_000, "requests measured")
	clients := flag.Int("clients", 4, "concurrent connections")
	pipeline := flag.Int("pipeline", 32, "GETs sent together per connection")
	seed := flag.Uint64("seed", 1, "random seed")
	flush := flag.Bool("flush", false, "FLUSHALL before starting")
	flag.Parse()
	if err := run(*addr, *keys, *theta, *size, *warmup, *requests, *clients, *pipeline, *seed, *flush); err != nil {
		fmt.Fprintln(os.Stderr, "hitrate:", err)
		os.Exit(1)
	}
}

func run(addr string, keys int, theta float64, size, warmup, requests, clients, pipeline int, seed uint64, flush bool) error {
	if keys < 2 || clients < 1 || pipeline < 1 || theta <= 0 || theta == 1 {
		return errors.New("need -keys >= 2, -clients >= 1, -pipeline >= 1, -theta > 0 and != 1")
	}
	if flush {
		c, err := dial(addr)
		if err != nil {
			return err
		}
		if _, err := c.do("FLUSHALL"); err != nil {
			return err
		}
		c.close()
	}
	z := newZipf(uint64(keys), theta)
	perm := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(keys)
	value := strings.Repeat("x", size)
	start := time.Now()
	if _, err := phase(addr, z, perm, value, warmup, clients, pipeline, seed); err != nil {
		return err
	}
	warm := time.Since(start)
	start = time.Now()
	st, err := phase(addr, z, perm, value, requests, clients, pipeline, seed+1000)
	if err != nil {
		return err
	}
	took := time.Since(start)
	c, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.close()
	info, err := c.do("INFO")
	if err != nil {
		return err
	}
	dbsize, err := c.do("DBSIZE")
	if err != nil {
		return err
	}
	field := func(name string) string {
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				return v
			}
		}
		return "?"
	}
	fmt.Printf("hit_rate=%.4f hits=%d gets=%d keys=%s used_memory=%s maxmemory=%s policy=%s evicted_keys=%s warmup_s=%.1f measure_s=%.1f\n",
		float64(st.hits)/float64(st.gets), st.hits, st.gets, dbsize, field("used_memory"), field("maxmemory"),
		field("maxmemory_policy"), field("evicted_keys"), warm.Seconds(), took.Seconds())
	return nil
}

type stats struct{ hits, gets int64 }

// phase sends n GETs from clients connections, SETting every miss.
func phase(addr string, z *zipf, perm []int, value string, n, clients, pipeline int, seed uint64) (stats, error) {
	var mu sync.Mutex
	var total stats
	var firstErr error
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		share := n / clients
		if i == 0 {
			share += n % clients
		}
		wg.Add(1)
		go func(i, share int) {
			defer wg.Done()
			st, err := client(addr, z, perm, value, share, pipeline, rand.New(rand.NewPCG(seed, uint64(i))))
			mu.Lock()
			defer mu.Unlock()
			total.hits += st.hits
			total.gets += st.gets
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}(i, share)
	}
	wg.Wait()
	return total, firstErr
}

func client(addr string, z *zipf, perm []int, value string, n, pipeline int, r *rand.Rand) (stats, error) {
	var st stats
	c, err := dial(addr)
	if err != nil {
		return st, err
	}
	defer c.close()
	batch := make([]string, 0, pipeline)
	var missed []string
	for sent := 0; sent < n; {
		batch = batch[:0]
		for len(batch) < pipeline && sent < n {
			batch = append(batch, "key:"+strconv.Itoa(perm[z.next(r)]))
			sent++
		}
		for _, k := range batch {
			c.send("GET", k)
		}
		if err := c.flush(); err != nil {
			return st, err
		}
		missed = missed[:0]
		for _, k := range batch {
			v, err := c.read()
			if err != nil {
				return st, err
			}
			st.gets++
			if v == nil {
				missed = append(missed, k)
			} else {
				st.hits++
			}
		}
		for _, k := range missed {
			c.send("SET", k, value)
		}
		if err := c.flush(); err != nil {
			return st, err
		}
		for range missed {
			if _, err := c.read(); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// zipf is YCSB's ZipfianGenerator: ranks 0..n-1, rank 0 the most popular.
type zipf struct {
	n                        uint64
	theta, alpha, zetan, eta float64
	half                     float64 // 1 + 0.5^theta
}

func newZipf(n uint64, theta float64) *zipf {
	zeta := func(n uint64) float64 {
		s := 0.0
		for i := uint64(1); i <= n; i++ {
			s += 1 / math.Pow(float64(i), theta)
		}
		return s
	}
	z := &zipf{n: n, theta: theta, zetan: zeta(n)}
	zeta2 := zeta(2)
	z.alpha = 1 / (1 - theta)
	z.eta = (1 - math.Pow(2/float64(n), 1-theta)) / (1 - zeta2/z.zetan)
	z.half = 1 + math.Pow(0.5, theta)
	return z
}

func (z *zipf) next(r *rand.Rand) int {
	u := r.Float64()
	uz := u * z.zetan
	if uz < 1 {
		return 0
	}
	if uz < z.half {
		return 1
	}
	v := uint64(float64(z.n) * math.Pow(z.eta*u-z.eta+1, z.alpha))
	return int(min(v, z.n-1))
}

// A minimal RESP client: commands out, replies in, nil for a null bulk.
type conn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func dial(addr string) (*conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10)}, nil
}

func (c *conn) close() { c.c.Close() }

func (c *conn) send(args ...string) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
}

func (c *conn) flush() error { return c.w.Flush() }

func (c *conn) do(args ...string) (string, error) {
	c.send(args...)
	if err := c.flush(); err != nil {
		return "", err
	}
	v, err := c.read()
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", nil
	}
	return *v, nil
}

// read reads one reply: simple strings, integers and bulk strings as text,
// a null bulk as nil; an error reply is an error.
func (c *conn) read() (*string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		s := line[1:]
		return &s, nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		s := string(buf[:n])
		return &s, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}
