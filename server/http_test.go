package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"durastore/engine"
)

// httpFixture is a server (in memory, no listeners) with the HTTP API's
// handler behind a real HTTP test listener.
type httpFixture struct {
	s     *Server
	url   string
	token string
}

func newHTTPFixture(t *testing.T, limits httpLimits, mutate func(*Config)) *httpFixture {
	t.Helper()
	cfg := DefaultConfig()
	cfg.AppendOnly = false
	cfg.Dir = t.TempDir()
	cfg.HTTPPort = 0
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(newHTTPAPI(s, limits))
	t.Cleanup(func() {
		ts.Close()
		s.Shutdown()
	})
	return &httpFixture{s: s, url: ts.URL}
}

// httpResult is a decoded reply.
type httpResult struct {
	status int
	header http.Header
	raw    string
	body   struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   string          `json:"error"`
	}
}

func (f *httpFixture) do(t *testing.T, method, path, body string) *httpResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	return doHTTP(t, req)
}

func doHTTP(t *testing.T, req *http.Request) *httpResult {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := &httpResult{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %s", req.Method, req.URL, ct, raw)
	}
	if err := json.Unmarshal(raw, &res.body); err != nil {
		t.Fatalf("%s %s: reply is not JSON: %v: %s", req.Method, req.URL, err, raw)
	}
	if res.body.Success != (res.status == http.StatusOK) {
		t.Fatalf("%s %s: status %d with success=%v: %s", req.Method, req.URL, res.status, res.body.Success, raw)
	}
	if !res.body.Success && res.body.Error == "" {
		t.Fatalf("%s %s: failure without an error message: %s", req.Method, req.URL, raw)
	}
	return res
}

// ok checks a 200 reply and decodes its data into v (if not nil).
func (r *httpResult) ok(t *testing.T, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.raw)
	}
	if v != nil {
		if err := json.Unmarshal(r.body.Data, v); err != nil {
			t.Fatalf("decoding data %s: %v", r.body.Data, err)
		}
	}
}

// fails checks an error reply's status and that its message contains want.
func (r *httpResult) fails(t *testing.T, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if !strings.Contains(r.body.Error, want) {
		t.Fatalf("error %q does not contain %q", r.body.Error, want)
	}
}

type testEntry struct {
	Key   string          `json:"key"`
	Found *bool           `json:"found"`
	Value json.RawMessage `json:"value"`
	TTLMs *int64          `json:"ttlMs"`
}

// stored reads a key straight from the engine.
func stored(t *testing.T, s *Server, ns, key string) (engine.Value, bool) {
	t.Helper()
	var v engine.Value
	var ok bool
	err := s.Store().View(func(tx *engine.Tx) error {
		var err error
		v, ok, err = tx.Get(ns, key)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, ok
}

func put(t *testing.T, s *Server, ns, key string, v engine.Value) {
	t.Helper()
	if err := s.Store().Update(func(tx *engine.Tx) error { return tx.Set(ns, key, v) }); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi version %q", v)
	}
	paths, _ := doc["paths"].(map[string]any)
	var documented []string
	for p, item := range paths {
		for m := range item.(map[string]any) {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				documented = append(documented, strings.ToUpper(m)+" "+p)
			}
		}
	}
	sort.Strings(documented)
	if served := httpRouteSet(); !reflect.DeepEqual(documented, served) {
		t.Fatalf("openapi.json documents\n  %v\nbut the API serves\n  %v", documented, served)
	}
	// Every $ref points at something the document defines.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				var at any = doc
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, _ := at.(map[string]any)
					at = m[part]
				}
				if at == nil {
					t.Errorf("$ref %s points at nothing", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	// The document says which status codes each operation returns; the
	// ones the dispatcher returns for every protected route are there.
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			if m == "parameters" {
				continue
			}
			responses, _ := op.(map[string]any)["responses"].(map[string]any)
			if responses["200"] == nil || responses["405"] == nil {
				t.Errorf("%s %s: responses lack 200 or 405", m, p)
			}
			if strings.HasPrefix(p, "/storage") && responses["401"] == nil {
				t.Errorf("%s %s: responses lack 401", m, p)
			}
		}
	}

	// It is what /openapi.json serves, without a token.
	f := newHTTPFixture(t, defaultHTTPLimits(), func(c *Config) { c.HTTPToken = "secret" })
	resp, err := http.Get(f.url + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(served, openAPIDoc) {
		t.Fatalf("/openapi.json: status %d, %d bytes (want %d)", resp.StatusCode, len(served), len(openAPIDoc))
	}
}

func TestHTTPSetGetDelete(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	f.do(t, "GET", "/storage/user:1", "").fails(t, 404, "key not found")

	var set map[string]any
	f.do(t, "POST", "/storage/user:1", `{"value": {"name": "ada", "langs": ["go", 1.5, null, true]}}`).ok(t, &set)
	if set["key"] != "user:1" {
		t.Fatalf("set replied %v", set)
	}
	var e testEntry
	f.do(t, "GET", "/storage/user:1", "").ok(t, &e)
	if e.Key != "user:1" || string(e.Value) != `{"name":"ada","langs":["go",1.5,null,true]}` || e.TTLMs != nil || e.Found != nil {
		t.Fatalf("GET data %+v value %s", e, e.Value)
	}
	// Stored as a plain string holding the compact JSON text, no expiry.
	v, ok := stored(t, f.s, "0", "user:1")
	if !ok || v.Type != engine.TypeString || v.Data != `{"name":"ada","langs":["go",1.5,null,true]}` || v.ExpireAt != 0 {
		t.Fatalf("engine holds %+v %v", v, ok)
	}

	// Overwrite with another type of JSON value.
	f.do(t, "POST", "/storage/user:1", `{"value": "plain"}`).ok(t, nil)
	f.do(t, "GET", "/storage/user:1", "").ok(t, &e)
	if string(e.Value) != `"plain"` {
		t.Fatalf("value %s", e.Value)
	}

	var del map[string]any
	f.do(t, "DELETE", "/storage/user:1", "").ok(t, &del)
	if del["deleted"] != true {
		t.Fatalf("delete replied %v", del)
	}
	if _, ok := stored(t, f.s, "0", "user:1"); ok {
		t.Fatal("key still stored after DELETE")
	}
	f.do(t, "GET", "/storage/user:1", "").fails(t, 404, "key not found")
	f.do(t, "DELETE", "/storage/user:1", "").fails(t, 404, "key not found")
}

func TestHTTPValues(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	for i, tc := range []struct{ in, stored string }{
		{`null`, `null`},
		{`0`, `0`},
		{`-12.5e3`, `-12.5e3`},
		{`"text with \"quotes\" and \u00e9"`, `"text with \"quotes\" and \u00e9"`},
		{`""`, `""`},
		{`[ 1 , [ ] , { } ]`, `[1,[],{}]`},
		{`{"a" : {"b" : [ true , false ]}}`, `{"a":{"b":[true,false]}}`},
		{`12345678901234567890123`, `12345678901234567890123`}, // kept as written, not rounded
	} {
		key := "v" + strconv.Itoa(i)
		f.do(t, "POST", "/storage/"+key, `{"value": `+tc.in+`}`).ok(t, nil)
		v, ok := stored(t, f.s, "0", key)
		if !ok || v.Data != tc.stored {
			t.Fatalf("value %s stored as %q (%v), want %q", tc.in, v.Data, ok, tc.stored)
		}
		var e testEntry
		f.do(t, "GET", "/storage/"+key, "").ok(t, &e)
		if string(e.Value) != tc.stored {
			t.Fatalf("value %s read back as %s", tc.in, e.Value)
		}
	}

	// A string written over RESP that is not JSON reads as a JSON string;
	// one that is JSON reads as that JSON.
	for _, tc := range []struct{ data, want string }{
		{"hello world", `"hello world"`},
		{"", `""`},
		{"42", `42`},
		{`{"x": 1}`, `{"x":1}`},
		{"{not json", `"{not json"`},
		{"tab\tand\nnewline", `"tab\tand\nnewline"`},
		{"\xff\xfe", `"\ufffd\ufffd"`},
	} {
		put(t, f.s, "0", "resp", engine.Value{Type: engine.TypeString, Data: tc.data})
		var e testEntry
		f.do(t, "GET", "/storage/resp", "").ok(t, &e)
		if string(e.Value) != tc.want {
			t.Errorf("RESP value %q reads as %s, want %s", tc.data, e.Value, tc.want)
		}
	}
}

func TestHTTPTTL(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	var before int64
	f.s.Store().View(func(tx *engine.Tx) error { before = tx.Now(); return nil })
	var set map[string]any
	f.do(t, "POST", "/storage/s", `{"value": 1, "ttlMs": 600000}`).ok(t, &set)
	if set["ttlMs"] != float64(600000) {
		t.Fatalf("set replied %v", set)
	}
	var after int64
	f.s.Store().View(func(tx *engine.Tx) error { after = tx.Now(); return nil })
	v, _ := stored(t, f.s, "0", "s")
	if v.ExpireAt < before+600000 || v.ExpireAt > after+600000 {
		t.Fatalf("ExpireAt %d not within [%d, %d]", v.ExpireAt, before+600000, after+600000)
	}
	var e testEntry
	f.do(t, "GET", "/storage/s", "").ok(t, &e)
	if e.TTLMs == nil || *e.TTLMs <= 0 || *e.TTLMs > 600000 {
		t.Fatalf("GET ttlMs %v", e.TTLMs)
	}
	// ttlMs null means no expiry, and a SET without ttlMs drops the old one.
	f.do(t, "POST", "/storage/s", `{"value": 2, "ttlMs": null}`).ok(t, nil)
	if v, _ := stored(t, f.s, "0", "s"); v.ExpireAt != 0 {
		t.Fatalf("ExpireAt %d after a set without ttl", v.ExpireAt)
	}
	// An expired key is gone for every endpoint.
	put(t, f.s, "0", "old", engine.Value{Type: engine.TypeString, ExpireAt: before - 1, Data: "1"})
	f.do(t, "GET", "/storage/old", "").fails(t, 404, "not found")
	var page struct{ Keys []string }
	f.do(t, "GET", "/storage/list?prefix=old", "").ok(t, &page)
	if len(page.Keys) != 0 {
		t.Fatalf("expired key listed: %v", page.Keys)
	}

	for _, body := range []string{
		`{"value": 1, "ttlMs": 0}`, `{"value": 1, "ttlMs": -5}`,
	} {
		f.do(t, "POST", "/storage/bad", body).fails(t, 400, "ttlMs must be a positive")
	}
	f.do(t, "POST", "/storage/bad", `{"value": 1, "ttlMs": 9223372036854775807}`).fails(t, 400, "ttlMs is too large")
	f.do(t, "POST", "/storage/bad", `{"value": 1, "ttlMs": 1.5}`).fails(t, 400, "malformed JSON body")
	f.do(t, "POST", "/storage/bad", `{"value": 1, "ttlMs": "100"}`).fails(t, 400, "malformed JSON body")
	f.do(t, "POST", "/storage/bad", `{"value": 1, "ttlMs": 99999999999999999999}`).fails(t, 400, "malformed JSON body")
	if _, ok := stored(t, f.s, "0", "bad"); ok {
		t.Fatal("a rejected set stored its key")
	}
}

func TestHTTPMalformedRequests(t *testing.T) {
	limits := defaultHTTPLimits()
	limits.maxBody = 256
	limits.maxKey = 16
	limits.maxBatch = 3
	f := newHTTPFixture(t, limits, nil)
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/storage/k", "", 400, "request body is empty"},
		{"POST", "/storage/k", `{"value": 1`, 400, "malformed JSON body"},
		{"POST", "/storage/k", `{"value": 1} {}`, 400, "unexpected data after"},
		{"POST", "/storage/k", `{"value": 1} x`, 400, "unexpected data after"},
		{"POST", "/storage/k", `[1]`, 400, "malformed JSON body"},
		{"POST", "/storage/k", `{"valeu": 1}`, 400, `unknown field "valeu"`},
		{"POST", "/storage/k", `{}`, 400, `missing "value"`},
		{"POST", "/storage/k", `{"ttlMs": 5}`, 400, `missing "value"`},
		{"POST", "/storage/k", `{"value": tru}`, 400, "malformed JSON body"},
		{"POST", "/storage/k", `{"value": "` + strings.Repeat("x", 300) + `"}`, 413, "larger than 256 bytes"},
		{"GET", "/storage/", "", 400, "missing key"},
		{"GET", "/storage/" + strings.Repeat("k", 17), "", 400, "key longer than 16 bytes"},
		{"GET", "/storage/k?namespace=", "", 400, "invalid namespace"},
		{"GET", "/storage/k?namespace=16", "", 400, "invalid namespace"},
		{"GET", "/storage/k?namespace=-1", "", 400, "invalid namespace"},
		{"GET", "/storage/k?namespace=bad%20name", "", 400, "invalid namespace"},
		{"GET", "/storage/k?namespace=a.b", "", 400, "invalid namespace"},
		{"GET", "/storage/k?namespace=" + strings.Repeat("n", 65), "", 400, "invalid namespace"},
		{"GET", "/storage/k?namespace=1&namespace=2", "", 400, "more than once"},
		{"POST", "/storage/batch/get", `{}`, 400, `missing "keys"`},
		{"POST", "/storage/batch/get", `{"keys": "a"}`, 400, "malformed JSON body"},
		{"POST", "/storage/batch/get", `{"keys": ["a", ""]}`, 400, "keys[1]: empty key"},
		{"POST", "/storage/batch/get", `{"keys": ["a","b","c","d"]}`, 400, "too many keys: 4, at most 3"},
		{"POST", "/storage/batch/delete", `{"keys": ["a","b","c","d"]}`, 400, "too many keys"},
		{"POST", "/storage/batch/delete", `{"keys": ["` + strings.Repeat("k", 17) + `"]}`, 400, "keys[0]: key longer than 16"},
		{"POST", "/storage/batch/set", `{}`, 400, `missing "entries"`},
		{"POST", "/storage/batch/set", `{"entries": [{"value": 1}]}`, 400, `entries[0]: missing "key"`},
		{"POST", "/storage/batch/set", `{"entries": [{"key": "a"}]}`, 400, `entries[0]: missing "value"`},
		{"POST", "/storage/batch/set", `{"entries": [{"key": "a", "value": 1, "ttl": 1}]}`, 400, `unknown field "ttl"`},
		{"POST", "/storage/batch/set", `{"entries": [{"key":"a","value":1},{"key":"b","value":1},{"key":"c","value":1},{"key":"d","value":1}]}`, 400, "too many entries: 4"},
		{"GET", "/storage/list?limit=0", "", 400, "limit must be an integer from 1 to 1000"},
		{"GET", "/storage/list?limit=1001", "", 400, "limit must be"},
		{"GET", "/storage/list?limit=ten", "", 400, "limit must be"},
		{"GET", "/storage/list?cursor=!!!", "", 400, "invalid cursor"},
		{"GET", "/storage/list?prefix=" + strings.Repeat("p", 17), "", 400, "prefix longer than 16"},
		{"GET", "/nowhere", "", 404, "no such endpoint"},
		{"GET", "/", "", 404, "no such endpoint"},
		{"GET", "/storage", "", 404, "no such endpoint"},
		{"PUT", "/storage/k", `{"value": 1}`, 405, "method PUT not allowed"},
		{"GET", "/storage/batch/get", "", 405, "allowed: POST"},
		{"POST", "/storage/list", "", 405, "allowed: GET"},
		{"DELETE", "/storage/clear", "", 405, "allowed: POST"},
		{"POST", "/healthz", "", 405, "allowed: GET"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := f.do(t, tc.method, tc.path, tc.body)
			r.fails(t, tc.status, tc.want)
			if tc.status == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
	// Nothing was written by any of them.
	f.s.Store().View(func(tx *engine.Tx) error {
		for _, ns := range f.s.Store().Names() {
			if n, _ := tx.Len(ns); n != 0 {
				t.Errorf("namespace %s holds %d keys after rejected requests", ns, n)
			}
		}
		return nil
	})
	if allow := f.do(t, "PATCH", "/storage/k", "").header.Get("Allow"); allow != "GET, POST, DELETE" {
		t.Fatalf("Allow %q", allow)
	}
	// A malformed escape never reaches the handler: net/http refuses the
	// request line with its own 400.
	req, _ := http.NewRequest("GET", f.url+"/storage/x", nil)
	req.URL.Opaque = "/storage/%zz"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 400 {
		t.Fatalf("malformed escape: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// A body announced larger than the limit is refused before it is read.
	req, _ = http.NewRequest("POST", f.url+"/storage/k", strings.NewReader(strings.Repeat(" ", 1000)))
	doHTTP(t, req).fails(t, 413, "larger than 256 bytes")
	// A streamed body (no Content-Length) over the limit too.
	req, _ = http.NewRequest("POST", f.url+"/storage/batch/get", io.MultiReader(strings.NewReader(`{"keys": [`), strings.NewReader(strings.Repeat(`"a",`, 100)+`"a"]}`)))
	req.ContentLength = -1
	doHTTP(t, req).fails(t, 413, "larger than 256 bytes")
}

func TestHTTPAnyKeyIsReachable(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	for _, tc := range []struct{ path, key string }{
		{"/storage/%6Cist", "list"},
		{"/storage/%63lear", "clear"},
		{"/storage/batch", "batch"},
		{"/storage/batch%2Fget", "batch/get"},
		{"/storage/batch/%67et", "batch/get"},
		{"/storage/healthz", "healthz"},
		{"/storage/a/b/c", "a/b/c"},
		{"/storage/a%2Fb", "a/b"},
		{"/storage/with%20space", "with space"},
		{"/storage/%E2%82%AC", "€"},
		{"/storage/q%3Fx%3D1%26y", "q?x=1&y"},
		{"/storage/%25", "%"},
		{"/storage/..", ".."},
		{"/storage/a/../b", "a/../b"},
		{"/storage/%7Bkey%7D", "{key}"},
	} {
		body := fmt.Sprintf(`{"value": %q}`, tc.path)
		f.do(t, "POST", tc.path, body).ok(t, nil)
		v, ok := stored(t, f.s, "0", tc.key)
		if !ok || v.Data != fmt.Sprintf("%q", tc.path) {
			t.Fatalf("%s: key %q holds %q %v", tc.path, tc.key, v.Data, ok)
		}
		var e testEntry
		f.do(t, "GET", tc.path, "").ok(t, &e)
		if e.Key != tc.key {
			t.Fatalf("%s: reply names key %q, want %q", tc.path, e.Key, tc.key)
		}
	}
	// The literal spellings still reach the endpoints.
	var page struct{ Keys []string }
	f.do(t, "GET", "/storage/list?prefix=batch", "").ok(t, &page)
	if !reflect.DeepEqual(page.Keys, []string{"batch", "batch/get"}) {
		t.Fatalf("list: %v", page.Keys)
	}
	f.do(t, "DELETE", "/storage/%6Cist", "").ok(t, nil)
	if _, ok := stored(t, f.s, "0", "list"); ok {
		t.Fatal("key list not deleted")
	}
}

func TestHTTPNamespaces(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	for _, ns := range []string{"0", "3", "15", "sessions", "a-b_C9"} {
		f.do(t, "POST", "/storage/k?namespace="+ns, fmt.Sprintf(`{"value": %q}`, ns)).ok(t, nil)
	}
	f.do(t, "POST", "/storage/dflt", `{"value": 0}`).ok(t, nil)
	for _, ns := range []string{"0", "3", "15", "sessions", "a-b_C9"} {
		v, ok := stored(t, f.s, ns, "k")
		if !ok || v.Data != fmt.Sprintf("%q", ns) {
			t.Fatalf("namespace %s holds %q %v", ns, v.Data, ok)
		}
		var e testEntry
		f.do(t, "GET", "/storage/k?namespace="+ns, "").ok(t, &e)
		if string(e.Value) != fmt.Sprintf("%q", ns) {
			t.Fatalf("namespace %s reads %s", ns, e.Value)
		}
	}
	if _, ok := stored(t, f.s, "0", "dflt"); !ok {
		t.Fatal("no namespace parameter did not write namespace 0")
	}
	f.do(t, "GET", "/storage/dflt?namespace=3", "").fails(t, 404, "not found")

	// clear empties one namespace only.
	var cleared map[string]any
	f.do(t, "POST", "/storage/clear?namespace=3", "").ok(t, &cleared)
	if cleared["namespace"] != "3" || cleared["deleted"] != float64(1) {
		t.Fatalf("clear replied %v", cleared)
	}
	if _, ok := stored(t, f.s, "3", "k"); ok {
		t.Fatal("namespace 3 not cleared")
	}
	for _, ns := range []string{"0", "15", "sessions"} {
		if _, ok := stored(t, f.s, ns, "k"); !ok {
			t.Fatalf("clear of namespace 3 emptied %s", ns)
		}
	}
	f.do(t, "POST", "/storage/clear", "").ok(t, &cleared)
	if cleared["namespace"] != "0" || cleared["deleted"] != float64(2) {
		t.Fatalf("clear replied %v", cleared)
	}
	// Reading a namespace that does not exist creates nothing.
	before := len(f.s.Store().Names())
	f.do(t, "GET", "/storage/k?namespace=never", "").fails(t, 404, "not found")
	f.do(t, "GET", "/storage/list?namespace=never2", "").ok(t, nil)
	if after := len(f.s.Store().Names()); after != before {
		t.Fatalf("reads created namespaces: %d -> %d", before, after)
	}
}

func TestHTTPTooManyNamespaces(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), func(c *Config) { c.Databases = 2; c.MaxNamespaces = 3 })
	f.do(t, "POST", "/storage/k?namespace=one", `{"value": 1}`).ok(t, nil)
	f.do(t, "POST", "/storage/k?namespace=1", `{"value": 1}`).ok(t, nil)
	f.do(t, "POST", "/storage/k?namespace=0", `{"value": 1}`).ok(t, nil)
	f.do(t, "POST", "/storage/k?namespace=two", `{"value": 1}`).fails(t, 400, "too many namespaces")
	f.do(t, "POST", "/storage/k?namespace=2", `{"value": 1}`).fails(t, 400, "invalid namespace")
}

func TestHTTPWrongType(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	put(t, f.s, "0", "h", engine.Value{Type: engine.TypeHash, Data: "\x00"})
	f.do(t, "GET", "/storage/h", "").fails(t, 409, "holds a hash value")
	var got struct{ Entries []testEntry }
	f.do(t, "POST", "/storage/batch/get", `{"keys": ["h"]}`).ok(t, &got)
	if len(got.Entries) != 1 || *got.Entries[0].Found || got.Entries[0].Value != nil {
		t.Fatalf("batch get of a hash: %+v", got.Entries)
	}
	// A set replaces it, as SET does.
	f.do(t, "POST", "/storage/h", `{"value": 1}`).ok(t, nil)
	if v, _ := stored(t, f.s, "0", "h"); v.Type != engine.TypeString || v.Data != "1" {
		t.Fatalf("after set: %+v", v)
	}
}

// Over maxmemory with nothing to evict, writes that grow memory are refused
// as Redis refuses denyoom commands; reads and deletes still work.
func TestHTTPMaxMemory(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	f.do(t, "POST", "/storage/k", `{"value": 1}`).ok(t, nil)
	f.s.Store().SetMemoryConfig(engine.MemoryConfig{MaxMemory: 1, Policy: engine.NoEviction})
	f.do(t, "POST", "/storage/k2", `{"value": 1}`).fails(t, 507, "used memory > 'maxmemory'")
	f.do(t, "POST", "/storage/batch/set", `{"entries": [{"key": "k3", "value": 1}]}`).fails(t, 507, "maxmemory")
	for _, k := range []string{"k2", "k3"} {
		if _, ok := stored(t, f.s, "0", k); ok {
			t.Fatalf("%s written over maxmemory", k)
		}
	}
	f.do(t, "GET", "/storage/k", "").ok(t, nil)
	f.do(t, "DELETE", "/storage/k", "").ok(t, nil)
	f.s.Store().SetMemoryConfig(engine.MemoryConfig{})
	f.do(t, "POST", "/storage/k2", `{"value": 1}`).ok(t, nil)
}

func TestHTTPBatch(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	var n struct{ Count int }
	f.do(t, "POST", "/storage/batch/set?namespace=2", `{"entries": [
		{"key": "a", "value": {"n": 1}},
		{"key": "b", "value": [1, 2], "ttlMs": 600000},
		{"key": "c", "value": null},
		{"key": "a", "value": "last wins"}
	]}`).ok(t, &n)
	if n.Count != 4 {
		t.Fatalf("count %d", n.Count)
	}
	if v, _ := stored(t, f.s, "2", "a"); v.Data != `"last wins"` {
		t.Fatalf("a = %q", v.Data)
	}
	if v, _ := stored(t, f.s, "2", "b"); v.ExpireAt == 0 {
		t.Fatal("b has no expiry")
	}
	var got struct{ Entries []testEntry }
	f.do(t, "POST", "/storage/batch/get?namespace=2", `{"keys": ["c", "missing", "a", "b", "a"]}`).ok(t, &got)
	want := []struct {
		key, value string
		found      bool
	}{{"c", "null", true}, {"missing", "", false}, {"a", `"last wins"`, true}, {"b", "[1,2]", true}, {"a", `"last wins"`, true}}
	if len(got.Entries) != len(want) {
		t.Fatalf("entries %+v", got.Entries)
	}
	for i, w := range want {
		e := got.Entries[i]
		if e.Key != w.key || e.Found == nil || *e.Found != w.found || string(e.Value) != w.value {
			t.Fatalf("entry %d: %+v (value %s), want %+v", i, e, e.Value, w)
		}
		if (e.TTLMs != nil) != (w.key == "b") {
			t.Fatalf("entry %d ttl %v", i, e.TTLMs)
		}
	}
	f.do(t, "POST", "/storage/batch/get?namespace=2", `{"keys": []}`).ok(t, &got)
	if len(got.Entries) != 0 {
		t.Fatalf("empty batch: %+v", got.Entries)
	}

	// One bad entry rejects the whole batch: nothing is written.
	f.do(t, "POST", "/storage/batch/set?namespace=2", `{"entries": [
		{"key": "x", "value": 1}, {"key": "y", "value": 1, "ttlMs": -1}]}`).fails(t, 400, "entries[1]: ttlMs must be a positive")
	if _, ok := stored(t, f.s, "2", "x"); ok {
		t.Fatal("a rejected batch wrote its first entry")
	}

	var del struct{ Deleted int }
	f.do(t, "POST", "/storage/batch/delete?namespace=2", `{"keys": ["a", "missing", "b", "a"]}`).ok(t, &del)
	if del.Deleted != 2 {
		t.Fatalf("deleted %d", del.Deleted)
	}
	for _, k := range []string{"a", "b"} {
		if _, ok := stored(t, f.s, "2", k); ok {
			t.Fatalf("%s not deleted", k)
		}
	}
	if _, ok := stored(t, f.s, "2", "c"); !ok {
		t.Fatal("c deleted")
	}
}

func TestHTTPList(t *testing.T) {
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	var want []string
	var entries []string
	for i := 0; i < 25; i++ {
		k := fmt.Sprintf("user:%02d", i)
		want = append(want, k)
		entries = append(entries, fmt.Sprintf(`{"key": %q, "value": %d}`, k, i))
	}
	for _, k := range []string{"user", "users:1", "use", "a", "zzz"} {
		entries = append(entries, fmt.Sprintf(`{"key": %q, "value": 0}`, k))
	}
	f.do(t, "POST", "/storage/batch/set", `{"entries": [`+strings.Join(entries, ",")+`]}`).ok(t, nil)

	type page struct {
		Keys       []string `json:"keys"`
		NextCursor *string  `json:"nextCursor"`
	}
	var all []string
	var sizes []int
	cursor := ""
	for i := 0; ; i++ {
		if i > 10 {
			t.Fatal("listing does not end")
		}
		path := "/storage/list?prefix=user:&limit=10"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var p page
		r := f.do(t, "GET", path, "")
		r.ok(t, &p)
		if !strings.Contains(r.raw, `"nextCursor"`) {
			t.Fatalf("reply without nextCursor: %s", r.raw)
		}
		all = append(all, p.Keys...)
		sizes = append(sizes, len(p.Keys))
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
		if i == 0 {
			// Changes between pages: a key before the cursor is not
			// repeated, a new key after it is seen.
			f.do(t, "POST", "/storage/user:00a", `{"value": 1}`).ok(t, nil)
			f.do(t, "POST", "/storage/user:99", `{"value": 1}`).ok(t, nil)
			want = append(want, "user:99")
		}
	}
	if !reflect.DeepEqual(all, want) || !reflect.DeepEqual(sizes, []int{10, 10, 6}) {
		t.Fatalf("pages %v listed %v, want %v", sizes, all, want)
	}

	// No prefix lists everything, in byte order; the default page is 100.
	var p page
	f.do(t, "GET", "/storage/list", "").ok(t, &p)
	if len(p.Keys) != 32 || p.NextCursor != nil || p.Keys[0] != "a" || p.Keys[31] != "zzz" || !sort.StringsAreSorted(p.Keys) {
		t.Fatalf("full list %v %v", p.Keys, p.NextCursor)
	}
	f.do(t, "GET", "/storage/list?prefix=nothing", "").ok(t, &p)
	if p.Keys == nil || len(p.Keys) != 0 || p.NextCursor != nil {
		t.Fatalf("empty list %v %v", p.Keys, p.NextCursor)
	}
	// A cursor made for another prefix is refused.
	c := base64.RawURLEncoding.EncodeToString([]byte("user:05"))
	f.do(t, "GET", "/storage/list?prefix=a&cursor="+c, "").fails(t, 400, "invalid cursor")
	f.do(t, "GET", "/storage/list?prefix=user:&limit=2&cursor="+c, "").ok(t, &p)
	if !reflect.DeepEqual(p.Keys, []string{"user:05", "user:06"}) {
		t.Fatalf("from cursor: %v", p.Keys)
	}
}

func TestHTTPAuth(t *testing.T) {
	for _, tc := range []struct {
		name        string
		token, pass string
		accept      string
		reject      []string
	}{
		{"http-token", "tok-1", "", "tok-1", []string{"", "tok-2", "tok-1x", "tok-"}},
		{"requirepass", "", "pw", "pw", []string{"", "px", "pww"}},
		{"both", "tok", "pw", "tok", []string{"pw", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newHTTPFixture(t, defaultHTTPLimits(), func(c *Config) { c.HTTPToken = tc.token; c.RequirePass = tc.pass })
			for _, bad := range tc.reject {
				f.token = bad
				r := f.do(t, "GET", "/storage/k", "")
				want := "invalid bearer token"
				if bad == "" {
					want = "missing bearer token"
				}
				r.fails(t, 401, want)
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("401 without WWW-Authenticate: %v", r.header)
				}
				f.do(t, "POST", "/storage/k", `{"value": 1}`).fails(t, 401, "bearer token")
				f.do(t, "POST", "/storage/clear", "").fails(t, 401, "bearer token")
			}
			if _, ok := stored(t, f.s, "0", "k"); ok {
				t.Fatal("an unauthorized request wrote")
			}
			// Other schemes and a bare token are refused too.
			for _, h := range []string{"Basic " + tc.accept, tc.accept, "Bearer", "Bearer "} {
				req, _ := http.NewRequest("GET", f.url+"/storage/k", nil)
				req.Header.Set("Authorization", h)
				doHTTP(t, req).fails(t, 401, "invalid bearer token")
			}
			f.token = tc.accept
			f.do(t, "POST", "/storage/k", `{"value": 1}`).ok(t, nil)
			f.do(t, "GET", "/storage/k", "").ok(t, nil)
			req, _ := http.NewRequest("GET", f.url+"/storage/k", nil)
			req.Header.Set("Authorization", "bearer "+tc.accept) // the scheme is case-insensitive
			doHTTP(t, req).ok(t, nil)
			// Health and the API document need no token.
			f.token = ""
			var health map[string]string
			f.do(t, "GET", "/healthz", "").ok(t, &health)
			if health["status"] != "ok" {
				t.Fatalf("healthz %v", health)
			}
		})
	}

	// The token is read per request, so CONFIG SET takes effect at once.
	f := newHTTPFixture(t, defaultHTTPLimits(), nil)
	f.do(t, "GET", "/storage/list", "").ok(t, nil)
	f.s.cfgMu.Lock()
	err := f.s.cfg.SetRuntime([][2]string{{"http-token", "new"}})
	f.s.cfgMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	f.do(t, "GET", "/storage/list", "").fails(t, 401, "missing bearer token")
	f.token = "new"
	f.do(t, "GET", "/storage/list", "").ok(t, nil)
}

func TestHTTPListenerStartStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	cfg := DefaultConfig()
	cfg.AppendOnly = false
	cfg.Dir = t.TempDir()
	cfg.Port = 0
	cfg.HTTPPort = port
	cfg.HTTPBind = "127.0.0.1"
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	addr := s.HTTPAddr()
	if addr == nil || addr.String() != "127.0.0.1:"+strconv.Itoa(port) {
		t.Fatalf("HTTPAddr %v", addr)
	}
	f := &httpFixture{s: s, url: "http://" + addr.String()}
	f.do(t, "POST", "/storage/k", `{"value": "v"}`).ok(t, nil)
	f.do(t, "GET", "/healthz", "").ok(t, nil)

	// A second server cannot take the same HTTP port: Start fails and says why.
	cfg2 := cfg
	cfg2.Dir = t.TempDir()
	s2, err := New(cfg2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(); err == nil || !strings.Contains(err.Error(), "HTTP API listening on") {
		t.Fatalf("second Start: %v", err)
	}
	s2.Shutdown()

	waitRESPServing(t, s)
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(f.url + "/healthz"); err == nil {
		t.Fatal("HTTP API still answers after Shutdown")
	}

	// http-port 0 turns it off.
	cfg3 := cfg
	cfg3.Dir = t.TempDir()
	cfg3.HTTPPort = 0
	s3, err := New(cfg3, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.Start(); err != nil {
		t.Fatal(err)
	}
	if s3.HTTPAddr() != nil {
		t.Fatalf("http-port 0 listens on %v", s3.HTTPAddr())
	}
	waitRESPServing(t, s3)
	s3.Shutdown()
}

func waitRESPServing(t *testing.T, s *Server) {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("PING\r\n"))
	buf := make([]byte, 7)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "+PONG\r\n" {
		t.Fatalf("PING: %q %v", buf, err)
	}
}

// http-max-body, http-max-batch and http-max-key-len set the limits.
func TestHTTPLimitsFromConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HTTPMaxBody, cfg.HTTPMaxBatch, cfg.HTTPMaxKeyLen = 4096, 7, 12
	l := httpLimitsFrom(cfg)
	if l.maxBody != 4096 || l.maxBatch != 7 || l.maxKey != 12 {
		t.Fatalf("limits %+v", l)
	}
	if d := httpLimitsFrom(DefaultConfig()); d != defaultHTTPLimits() {
		t.Fatalf("defaults %+v, want %+v", d, defaultHTTPLimits())
	}
	cfg, err := ParseArgs([]string{"--http-max-body", "2kb", "--http-max-batch", "3", "--http-max-key-len", "9"})
	if err != nil {
		t.Fatal(err)
	}
	if l := httpLimitsFrom(cfg); l.maxBody != 2048 || l.maxBatch != 3 || l.maxKey != 9 {
		t.Fatalf("from flags: %+v", l)
	}
}
