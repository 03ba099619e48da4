// Command gencommandmeta records the parts of Redis's command table that
// durastore's rows do not carry (tips, key specs, the flags our Flags type
// cannot express, and the documentation beyond summary/since/group) from a
// running redis-server 7.0, as commands/redis_commands.json.
//
//	redis-server --port 7011 --save "" --appendonly no --daemonize yes
//	go run ./scripts/gencommandmeta -addr 127.0.0.1:7011 > commands/redis_commands.json
//
// The key specs and docs are kept as the raw RESP3 bytes Redis sent, so
// COMMAND INFO and COMMAND DOCS replay them to the byte; the commands
// package converts them to RESP2 when a client speaks RESP2.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
)

// value is a parsed RESP3 value that remembers its raw bytes.
type value struct {
	typ   byte
	str   string
	num   int64
	elems []*value // arrays, sets, maps (flattened key, value, ...)
	raw   string
}

type reader struct{ r *bufio.Reader }

func (p *reader) line() (string, error) {
	l, err := p.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(l, "\r\n"), nil
}

func (p *reader) read() (*value, error) {
	l, err := p.line()
	if err != nil {
		return nil, err
	}
	v := &value{typ: l[0]}
	raw := l + "\r\n"
	switch l[0] {
	case '+', '-':
		v.str = l[1:]
	case ':':
		v.num, _ = strconv.ParseInt(l[1:], 10, 64)
	case '$', '=':
		n, _ := strconv.Atoi(l[1:])
		if n >= 0 {
			buf := make([]byte, n+2)
			if _, err := readFull(p.r, buf); err != nil {
				return nil, err
			}
			v.str = string(buf[:n])
			raw += string(buf)
		}
	case '_':
	case '*', '~', '%':
		n, _ := strconv.Atoi(l[1:])
		if l[0] == '%' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			e, err := p.read()
			if err != nil {
				return nil, err
			}
			v.elems = append(v.elems, e)
			raw += e.raw
		}
	default:
		return nil, fmt.Errorf("unexpected reply type %q", l)
	}
	v.raw = raw
	return v, nil
}

func readFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// meta is one command's record; see commands/introspect.go.
type meta struct {
	Arity    int      `json:"arity"`
	Flags    []string `json:"flags"`
	First    int      `json:"first"`
	Last     int      `json:"last"`
	Step     int      `json:"step"`
	ACL      []string `json:"acl"`
	Tips     []string `json:"tips,omitempty"`
	KeySpecs string   `json:"key_specs,omitempty"`
	Summary  string   `json:"summary"`
	Since    string   `json:"since"`
	Group    string   `json:"group"`
	Docs     string   `json:"docs,omitempty"`
	DocsN    int      `json:"docs_n,omitempty"`
}

func strs(v *value, trim string) []string {
	out := []string{}
	for _, e := range v.elems {
		out = append(out, strings.TrimPrefix(e.str, trim))
	}
	return out
}

func addInfo(all map[string]*meta, v *value) {
	name := v.elems[0].str
	m := &meta{
		Arity: int(v.elems[1].num),
		Flags: strs(v.elems[2], ""),
		First: int(v.elems[3].num),
		Last:  int(v.elems[4].num),
		Step:  int(v.elems[5].num),
		ACL:   strs(v.elems[6], "@"),
		Tips:  strs(v.elems[7], ""),
	}
	if len(v.elems[8].elems) > 0 {
		m.KeySpecs = v.elems[8].raw
	}
	all[name] = m
	for _, sub := range v.elems[9].elems {
		addInfo(all, sub)
	}
}

func addDocs(all map[string]*meta, name string, v *value) {
	m := all[name]
	if m == nil {
		fmt.Fprintf(os.Stderr, "docs for unknown command %s\n", name)
		os.Exit(1)
	}
	for i := 0; i+1 < len(v.elems); i += 2 {
		k, val := v.elems[i].str, v.elems[i+1]
		switch k {
		case "summary":
			m.Summary = val.str
		case "since":
			m.Since = val.str
		case "group":
			m.Group = val.str
		case "subcommands":
			for j := 0; j+1 < len(val.elems); j += 2 {
				addDocs(all, val.elems[j].str, val.elems[j+1])
			}
		default:
			m.Docs += v.elems[i].raw + val.raw
			m.DocsN++
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "redis-server 7.0 to read the command table from")
	flag.Parse()
	conn, err := net.Dial("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	p := &reader{bufio.NewReader(conn)}
	do := func(args ...string) *value {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := conn.Write([]byte(b.String())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		v, err := p.read()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return v
	}
	hello := do("HELLO", "3")
	for i := 0; i+1 < len(hello.elems); i += 2 {
		if hello.elems[i].str == "version" && !strings.HasPrefix(hello.elems[i+1].str, "7.0.") {
			fmt.Fprintf(os.Stderr, "want redis 7.0, got %s\n", hello.elems[i+1].str)
			os.Exit(1)
		}
	}
	all := map[string]*meta{}
	for _, v := range do("COMMAND").elems {
		addInfo(all, v)
	}
	docs := do("COMMAND", "DOCS")
	for i := 0; i+1 < len(docs.elems); i += 2 {
		addDocs(all, docs.elems[i].str, docs.elems[i+1])
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	// One command per line keeps diffs of the file readable.
	w := bufio.NewWriter(os.Stdout)
	w.WriteString("{\n")
	for i, n := range names {
		b, err := json.Marshal(all[n])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		k, _ := json.Marshal(n)
		fmt.Fprintf(w, "%s: %s", k, b)
		if i < len(names)-1 {
			w.WriteString(",")
		}
		w.WriteString("\n")
	}
	w.WriteString("}\n")
	w.Flush()
}
