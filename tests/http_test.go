package tests

// The HTTP JSON API end to end: the durastore binary with its HTTP
// listener, every endpoint over real HTTP, and the same data seen over
// RESP.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// httpProc is a durastore started with its HTTP API on a free port.
type httpProc struct {
	*Proc
	base  string
	token string
}

func startDurastoreHTTP(t *testing.T, args ...string) *httpProc {
	t.Helper()
	port := freePort(t)
	p := startDurastore(t, append([]string{"--http-port", strconv.Itoa(port), "--http-bind", "127.0.0.1"}, args...)...)
	return &httpProc{Proc: p, base: "http://127.0.0.1:" + strconv.Itoa(port)}
}

type apiReply struct {
	Status  int
	Header  http.Header
	Raw     string
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   string          `json:"error"`
}

func (h *httpProc) call(t *testing.T, method, path, body string) *apiReply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := &apiReply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if err := json.Unmarshal(raw, r); err != nil {
		t.Fatalf("%s %s: status %d, reply not JSON: %s", method, path, resp.StatusCode, raw)
	}
	if r.Success != (r.Status == 200) || (!r.Success && r.Error == "") {
		t.Fatalf("%s %s: status %d but %s", method, path, r.Status, raw)
	}
	return r
}

// data checks for 200 and returns the data decoded into a T.
func apiData[T any](t *testing.T, r *apiReply) T {
	t.Helper()
	var v T
	if r.Status != 200 {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	if err := json.Unmarshal(r.Data, &v); err != nil {
		t.Fatalf("data %s: %v", r.Data, err)
	}
	return v
}

func (r *apiReply) expectError(t *testing.T, status int, msg string) {
	t.Helper()
	if r.Status != status || !strings.Contains(r.Error, msg) {
		t.Fatalf("got %d %q, want %d with %q", r.Status, r.Error, status, msg)
	}
}

type apiEntry struct {
	Key   string          `json:"key"`
	Found *bool           `json:"found"`
	Value json.RawMessage `json:"value"`
	TTLMs *int64          `json:"ttlMs"`
}

func TestHTTPAPIEndpoints(t *testing.T) {
	h := startDurastoreHTTP(t)

	health := apiData[map[string]string](t, h.call(t, "GET", "/healthz", ""))
	if health["status"] != "ok" {
		t.Fatalf("healthz %v", health)
	}

	// Single keys.
	h.call(t, "GET", "/storage/doc", "").expectError(t, 404, "key not found")
	apiData[map[string]any](t, h.call(t, "POST", "/storage/doc", `{"value": {"title": "hello", "n": [1, 2.5]}}`))
	e := apiData[apiEntry](t, h.call(t, "GET", "/storage/doc", ""))
	if e.Key != "doc" || string(e.Value) != `{"title":"hello","n":[1,2.5]}` || e.TTLMs != nil {
		t.Fatalf("GET: %+v %s", e, e.Value)
	}
	apiData[map[string]any](t, h.call(t, "POST", "/storage/tmp", `{"value": true, "ttlMs": 120000}`))
	e = apiData[apiEntry](t, h.call(t, "GET", "/storage/tmp", ""))
	if e.TTLMs == nil || *e.TTLMs <= 0 || *e.TTLMs > 120000 {
		t.Fatalf("ttl: %+v", e)
	}
	del := apiData[map[string]any](t, h.call(t, "DELETE", "/storage/tmp", ""))
	if del["deleted"] != true {
		t.Fatalf("delete: %v", del)
	}
	h.call(t, "DELETE", "/storage/tmp", "").expectError(t, 404, "key not found")

	// Batches.
	n := apiData[struct{ Count int }](t, h.call(t, "POST", "/storage/batch/set", `{"entries": [
		{"key": "b1", "value": 1}, {"key": "b2", "value": "two", "ttlMs": 60000}, {"key": "b3", "value": null}]}`))
	if n.Count != 3 {
		t.Fatalf("batch set: %+v", n)
	}
	got := apiData[struct{ Entries []apiEntry }](t, h.call(t, "POST", "/storage/batch/get", `{"keys": ["b1", "zz", "b2", "b3"]}`))
	var summary []string
	for _, e := range got.Entries {
		summary = append(summary, fmt.Sprintf("%s=%v:%s", e.Key, *e.Found, e.Value))
	}
	if strings.Join(summary, " ") != `b1=true:1 zz=false: b2=true:"two" b3=true:null` {
		t.Fatalf("batch get: %v", summary)
	}
	d := apiData[struct{ Deleted int }](t, h.call(t, "POST", "/storage/batch/delete", `{"keys": ["b1", "b3", "zz"]}`))
	if d.Deleted != 2 {
		t.Fatalf("batch delete: %+v", d)
	}

	// Listing in pages.
	for i := 0; i < 7; i++ {
		h.call(t, "POST", fmt.Sprintf("/storage/item:%d", i), `{"value": 0}`)
	}
	var listed []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("list does not end")
		}
		path := "/storage/list?prefix=item:&limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page := apiData[struct {
			Keys       []string
			NextCursor *string
		}](t, h.call(t, "GET", path, ""))
		listed = append(listed, page.Keys...)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if strings.Join(listed, ",") != "item:0,item:1,item:2,item:3,item:4,item:5,item:6" {
		t.Fatalf("listed %v", listed)
	}

	// Clear.
	cl := apiData[map[string]any](t, h.call(t, "POST", "/storage/clear", ""))
	if cl["namespace"] != "0" {
		t.Fatalf("clear: %v", cl)
	}
	all := apiData[struct{ Keys []string }](t, h.call(t, "GET", "/storage/list", ""))
	if len(all.Keys) != 0 {
		t.Fatalf("after clear: %v", all.Keys)
	}

	// Errors.
	h.call(t, "POST", "/storage/k", `{"value": `).expectError(t, 400, "malformed JSON body")
	h.call(t, "POST", "/storage/k", `{"value": 1, "ttlMs": 0}`).expectError(t, 400, "ttlMs must be a positive")
	h.call(t, "GET", "/storage/k?namespace=99", "").expectError(t, 400, "invalid namespace")
	h.call(t, "GET", "/storage/k?namespace=no/pe", "").expectError(t, 400, "invalid namespace")
	h.call(t, "PUT", "/storage/k", `{"value": 1}`).expectError(t, 405, "not allowed")
	h.call(t, "GET", "/elsewhere", "").expectError(t, 404, "no such endpoint")
	big := `{"value": "` + strings.Repeat("x", 1<<20) + `"}`
	h.call(t, "POST", "/storage/k", big).expectError(t, 413, "larger than 1048576 bytes")
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = strconv.Quote("k" + strconv.Itoa(i))
	}
	h.call(t, "POST", "/storage/batch/get", `{"keys": [`+strings.Join(tooMany, ",")+`]}`).expectError(t, 400, "too many keys: 1001, at most 1000")
	h.call(t, "GET", "/storage/"+strings.Repeat("k", 1025), "").expectError(t, 400, "key longer than 1024 bytes")

	// The OpenAPI document is served and names every endpoint exercised here.
	resp, err := http.Get(h.base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var paths []string
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	want := []string{"/healthz", "/openapi.json", "/storage/batch/delete", "/storage/batch/get", "/storage/batch/set", "/storage/clear", "/storage/list", "/storage/{key}"}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || !reflect.DeepEqual(paths, want) {
		t.Fatalf("openapi %q paths %v", doc.OpenAPI, paths)
	}
}

// A key written over one protocol is read over the other, in every
// namespace, with its TTL.
func TestHTTPAPISharesDataWithRESP(t *testing.T) {
	h := startDurastoreHTTP(t)
	c := h.Dial(t)

	// HTTP → RESP.
	h.call(t, "POST", "/storage/user:1", `{"value": {"name": "ada"}}`)
	expectReply(t, c, "$14\r\n{\"name\":\"ada\"}\r\n", "GET", "user:1")
	expectReply(t, c, "+string\r\n", "TYPE", "user:1")
	h.call(t, "POST", "/storage/sess?namespace=3", `{"value": "s", "ttlMs": 100000}`)
	expectReply(t, c, "$-1\r\n", "GET", "sess")
	expectReply(t, c, "+OK\r\n", "SELECT", "3")
	expectReply(t, c, "$3\r\n\"s\"\r\n", "GET", "sess")
	ttl := parseReply(c.Do("PTTL", "sess"))
	if n, ok := ttl.(int64); !ok || n <= 0 || n > 100000 {
		t.Fatalf("PTTL over RESP of a key set with ttlMs: %v", ttl)
	}
	h.call(t, "POST", "/storage/k?namespace=sessions", `{"value": [1]}`)
	expectReply(t, c, "+OK\r\n", "SELECT", "sessions")
	expectReply(t, c, "$3\r\n[1]\r\n", "GET", "k")

	// RESP → HTTP: JSON text reads as JSON, anything else as a string.
	expectReply(t, c, "+OK\r\n", "SET", "plain", "hello world")
	expectReply(t, c, "+OK\r\n", "SET", "num", "42")
	expectReply(t, c, "+OK\r\n", "SET", "obj", `{"a": [true]}`)
	expectReply(t, c, "+OK\r\n", "PSETEX", "exp", "50000", "x")
	for key, want := range map[string]string{"plain": `"hello world"`, "num": `42`, "obj": `{"a":[true]}`, "exp": `"x"`} {
		e := apiData[apiEntry](t, h.call(t, "GET", "/storage/"+key+"?namespace=sessions", ""))
		if string(e.Value) != want {
			t.Errorf("%s reads as %s over HTTP, want %s", key, e.Value, want)
		}
		if (e.TTLMs != nil) != (key == "exp") {
			t.Errorf("%s ttl %v", key, e.TTLMs)
		}
	}
	got := apiData[struct{ Entries []apiEntry }](t, h.call(t, "POST", "/storage/batch/get?namespace=sessions", `{"keys": ["plain", "num"]}`))
	if string(got.Entries[0].Value) != `"hello world"` || string(got.Entries[1].Value) != "42" {
		t.Fatalf("batch get of RESP values: %+v", got.Entries)
	}
	list := apiData[struct{ Keys []string }](t, h.call(t, "GET", "/storage/list?namespace=sessions", ""))
	if strings.Join(list.Keys, ",") != "exp,k,num,obj,plain" {
		t.Fatalf("list over HTTP: %v", list.Keys)
	}

	// Deletes and clears cross over too.
	expectReply(t, c, ":1\r\n", "DEL", "plain")
	h.call(t, "GET", "/storage/plain?namespace=sessions", "").expectError(t, 404, "key not found")
	h.call(t, "DELETE", "/storage/num?namespace=sessions", "")
	expectReply(t, c, ":0\r\n", "EXISTS", "num")
	h.call(t, "POST", "/storage/clear?namespace=sessions", "")
	expectReply(t, c, ":0\r\n", "DBSIZE")
	expectReply(t, c, "+OK\r\n", "SELECT", "0")
	expectReply(t, c, ":1\r\n", "DBSIZE")

	// A hash is not a JSON value: 409 for GET, missing for batch get (as
	// MGET), replaced by a set (as SET). (Skipped while HSET is absent.)
	if c.Do("HSET", "h", "f", "v") == ":1\r\n" {
		h.call(t, "GET", "/storage/h", "").expectError(t, 409, "holds a hash value")
		got := apiData[struct{ Entries []apiEntry }](t, h.call(t, "POST", "/storage/batch/get", `{"keys": ["h"]}`))
		if *got.Entries[0].Found {
			t.Fatalf("batch get of a hash: %+v", got.Entries)
		}
		h.call(t, "POST", "/storage/h", `{"value": "now a string"}`)
		expectReply(t, c, "+string\r\n", "TYPE", "h")
		h.call(t, "DELETE", "/storage/h", "")
	}

	// An HTTP write wakes a WATCH: EXEC fails as after any write.
	if strings.HasPrefix(c.Do("WATCH", "user:1"), "+OK") {
		h.call(t, "POST", "/storage/user:1", `{"value": 2}`)
		expectReply(t, c, "+OK\r\n", "MULTI")
		expectReply(t, c, "+QUEUED\r\n", "GET", "user:1")
		expectReply(t, c, "*-1\r\n", "EXEC")
	}

	// Data written over HTTP survives a restart.
	h.call(t, "POST", "/storage/durable?namespace=7", `{"value": {"kept": true}}`)
	h.Restart(t)
	e := apiData[apiEntry](t, h.call(t, "GET", "/storage/durable?namespace=7", ""))
	if string(e.Value) != `{"kept":true}` {
		t.Fatalf("after restart: %s", e.Value)
	}
}

func TestHTTPAPIAuth(t *testing.T) {
	t.Run("http-token", func(t *testing.T) {
		h := startDurastoreHTTP(t, "--http-token", "s3cret")
		h.call(t, "GET", "/storage/k", "").expectError(t, 401, "missing bearer token")
		h.token = "wrong"
		r := h.call(t, "POST", "/storage/k", `{"value": 1}`)
		r.expectError(t, 401, "invalid bearer token")
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
		}
		h.token = "s3cret"
		apiData[map[string]any](t, h.call(t, "POST", "/storage/k", `{"value": 1}`))
		// Health needs no token.
		h.token = ""
		apiData[map[string]string](t, h.call(t, "GET", "/healthz", ""))
		// CONFIG SET http-token changes it at once.
		c := h.Dial(t)
		expectReply(t, c, "+OK\r\n", "CONFIG", "SET", "http-token", "rotated")
		h.token = "s3cret"
		h.call(t, "GET", "/storage/k", "").expectError(t, 401, "invalid bearer token")
		h.token = "rotated"
		apiData[apiEntry](t, h.call(t, "GET", "/storage/k", ""))
	})
	t.Run("requirepass", func(t *testing.T) {
		h := startDurastoreHTTP(t, "--requirepass", "pw")
		h.call(t, "GET", "/storage/k", "").expectError(t, 401, "missing bearer token")
		h.token = "pw"
		h.call(t, "GET", "/storage/k", "").expectError(t, 404, "key not found")
	})
}
