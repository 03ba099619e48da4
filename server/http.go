package server

// The HTTP JSON API: a namespaced key-value store over HTTP, on its own
// listener (http-port, http-bind), guarded by a bearer token (http-token,
// else requirepass).
//
// It works on the engine directly, on the same namespaces RESP's SELECT
// reaches, so a key set over HTTP is read by GET over RESP and the other way
// round. A value is stored as a plain string (TypeString) holding its
// compact JSON text; a string written over RESP that is not JSON comes back
// as a JSON string.
//
// Routing works on the escaped path: the five fixed endpoints below
// /storage/ match only their literal spelling, and every other path below
// /storage/ names a key, percent-decoded. So a key that is spelled like an
// endpoint (list, clear, batch/get ...) is reached by escaping any of its
// characters: /storage/%6Cist is the key "list", /storage/batch%2Fget the key
// "batch/get".
//
// Keys and values are shown as JSON strings, so bytes that are not UTF-8
// (possible in keys and values written over RESP) show as U+FFFD.
//
// Every route is one row of httpRoutes; openapi.json documents the same
// routes and a test keeps the two in step.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"durastore/commands"
	"durastore/engine"
)

//go:embed openapi.json
var openAPIDoc []byte

// Limits of the HTTP API. Body, batch and key sizes are the options
// http-max-body, http-max-batch and http-max-key-len (httpLimitsFrom); these
// constants are their defaults and the page sizes of /storage/list.
// httpLimits carries them so tests can lower them.
const (
	// httpMaxBodyBytes caps a request body (a batch of values included):
	// larger bodies get 413 without being read further.
	httpMaxBodyBytes = 1 << 20
	// httpMaxBatch caps the keys or entries of one batch request.
	httpMaxBatch = 1000
	// httpMaxKeyBytes caps a key (after percent-decoding) and a list prefix.
	httpMaxKeyBytes = 1024
	// httpDefaultListLimit and httpMaxListLimit bound one page of
	// /storage/list.
	httpDefaultListLimit = 100
	httpMaxListLimit     = 1000
	// httpShutdownGrace is how long Shutdown lets requests in flight end.
	httpShutdownGrace = 5 * time.Second
)

type httpLimits struct {
	maxBody   int64
	maxBatch  int
	maxKey    int
	listLimit int
	maxList   int
}

// httpLimitsFrom takes the configurable limits from the configuration.
func httpLimitsFrom(cfg Config) httpLimits {
	l := defaultHTTPLimits()
	if cfg.HTTPMaxBody > 0 {
		l.maxBody = cfg.HTTPMaxBody
	}
	if cfg.HTTPMaxBatch > 0 {
		l.maxBatch = cfg.HTTPMaxBatch
	}
	if cfg.HTTPMaxKeyLen > 0 {
		l.maxKey = cfg.HTTPMaxKeyLen
	}
	return l
}

func defaultHTTPLimits() httpLimits {
	return httpLimits{
		maxBody:   httpMaxBodyBytes,
		maxBatch:  httpMaxBatch,
		maxKey:    httpMaxKeyBytes,
		listLimit: httpDefaultListLimit,
		maxList:   httpMaxListLimit,
	}
}

// httpAPI is the HTTP API's handler and, once started, its listener.
type httpAPI struct {
	s      *Server
	limits httpLimits
	srv    *http.Server
	addr   net.Addr
	done   chan struct{}
}

// httpRoute is one endpoint. path is the OpenAPI path template; a path with
// "{key}" matches every escaped path below /storage/ that no fixed route
// takes.
type httpRoute struct {
	method string
	path   string
	public bool // served without the bearer token
	handle func(h *httpAPI, r *http.Request, key string) (any, *httpError)
}

const httpKeyPath = "/storage/{key}"

var httpRoutes = []httpRoute{
	{method: http.MethodGet, path: "/healthz", public: true, handle: (*httpAPI).healthz},
	{method: http.MethodGet, path: "/openapi.json", public: true}, // written raw by ServeHTTP
	{method: http.MethodGet, path: httpKeyPath, handle: (*httpAPI).getKey},
	{method: http.MethodPost, path: httpKeyPath, handle: (*httpAPI).setKey},
	{method: http.MethodDelete, path: httpKeyPath, handle: (*httpAPI).deleteKey},
	{method: http.MethodPost, path: "/storage/batch/get", handle: (*httpAPI).batchGet},
	{method: http.MethodPost, path: "/storage/batch/set", handle: (*httpAPI).batchSet},
	{method: http.MethodPost, path: "/storage/batch/delete", handle: (*httpAPI).batchDelete},
	{method: http.MethodGet, path: "/storage/list", handle: (*httpAPI).list},
	{method: http.MethodPost, path: "/storage/clear", handle: (*httpAPI).clear},
}

// httpError is a failed request: its status and the message of the reply.
type httpError struct {
	status int
	msg    string
}

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

var (
	errHTTPNotFound   = &httpError{http.StatusNotFound, "key not found"}
	errHTTPNoEndpoint = &httpError{http.StatusNotFound, "no such endpoint"}
	errHTTPClosing    = errors.New("server is shutting down")
	errHTTPOOM        = errors.New("command not allowed when used memory > 'maxmemory'")
)

func newHTTPAPI(s *Server, limits httpLimits) *httpAPI {
	return &httpAPI{s: s, limits: limits}
}

// startHTTP starts the HTTP API's listener unless http-port is 0.
func (s *Server) startHTTP() error {
	if s.cfg.HTTPPort == 0 {
		return nil
	}
	addr := net.JoinHostPort(s.cfg.HTTPBind, strconv.Itoa(s.cfg.HTTPPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("HTTP API listening on %s: %w", addr, err)
	}
	h := newHTTPAPI(s, httpLimitsFrom(s.cfg))
	h.addr = ln.Addr()
	h.done = make(chan struct{})
	h.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.http = h
	go func() {
		defer close(h.done)
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("HTTP API listener stopped", "addr", addr, "err", err)
		}
	}()
	s.log.Info("HTTP API listening", "addr", ln.Addr().String())
	return nil
}

// stopHTTP stops accepting HTTP requests and waits (a few seconds at most)
// for those in flight. It must run before Shutdown takes the gate alone.
func (s *Server) stopHTTP() {
	h := s.http
	if h == nil || h.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), httpShutdownGrace)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.srv.Close()
	}
	<-h.done
}

// HTTPAddr is the address the HTTP API listens on, nil when it is off.
func (s *Server) HTTPAddr() net.Addr {
	if s.http == nil {
		return nil
	}
	return s.http.addr
}

// ---------------------------------------------------------------------------
// Dispatch, authentication, replies.

func (h *httpAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.s.log.Error("HTTP API handler panicked", "method", r.Method, "path", r.URL.EscapedPath(), "panic", fmt.Sprint(v))
			writeHTTPError(w, &httpError{http.StatusInternalServerError, "internal error"})
		}
	}()
	route, key, herr := h.match(w, r)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	if !route.public && !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="durastore"`)
		msg := "missing bearer token"
		if r.Header.Get("Authorization") != "" {
			msg = "invalid bearer token"
		}
		writeHTTPError(w, &httpError{http.StatusUnauthorized, msg})
		return
	}
	if route.handle == nil { // /openapi.json
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDoc)))
		w.WriteHeader(http.StatusOK)
		w.Write(openAPIDoc)
		return
	}
	if r.Body != nil {
		if r.ContentLength > h.limits.maxBody {
			writeHTTPError(w, bodyTooLarge(h.limits.maxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.limits.maxBody)
	}
	data, herr := route.handle(h, r, key)
	if herr != nil {
		writeHTTPError(w, herr)
		return
	}
	writeHTTPJSON(w, http.StatusOK, httpReply{Success: true, Data: data})
}

// match finds the route for a request: 404 for a path no route serves,
// 405 (with Allow) for a method the path does not take.
func (h *httpAPI) match(w http.ResponseWriter, r *http.Request) (*httpRoute, string, *httpError) {
	path := r.URL.EscapedPath()
	tmpl, key := "", ""
	for i := range httpRoutes {
		if httpRoutes[i].path == path && path != httpKeyPath {
			tmpl = path
			break
		}
	}
	if tmpl == "" {
		rest, ok := strings.CutPrefix(path, "/storage/")
		if !ok {
			return nil, "", errHTTPNoEndpoint
		}
		k, err := url.PathUnescape(rest)
		if err != nil {
			return nil, "", badRequest("malformed percent-encoding in key")
		}
		if k == "" {
			return nil, "", badRequest("missing key: use /storage/{key}")
		}
		tmpl, key = httpKeyPath, k
	}
	var allow []string
	for i := range httpRoutes {
		rt := &httpRoutes[i]
		if rt.path != tmpl {
			continue
		}
		if rt.method == r.Method {
			return rt, key, nil
		}
		allow = append(allow, rt.method)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return nil, "", &httpError{http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, tmpl, strings.Join(allow, ", "))}
}

// authorized checks the bearer token against http-token, or requirepass
// when http-token is empty; with neither set every request is let in. The
// comparison is of SHA-256 digests in constant time, so neither the
// token's content nor its length shows in the timing.
func (h *httpAPI) authorized(r *http.Request) bool {
	h.s.cfgMu.RLock()
	token := h.s.cfg.HTTPToken
	if token == "" {
		token = h.s.cfg.RequirePass
	}
	h.s.cfgMu.RUnlock()
	if token == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	const scheme = "bearer "
	if len(auth) <= len(scheme) || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(auth[len(scheme):])))
	want := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

type httpReply struct {
	Success bool   `json:"success"`
	Data    any    `json:"data,omitempty"`
	Error   string `json:"error,omitempty"`
}

func writeHTTPError(w http.ResponseWriter, e *httpError) {
	writeHTTPJSON(w, e.status, httpReply{Success: false, Error: e.msg})
}

func writeHTTPJSON(w http.ResponseWriter, status int, reply httpReply) {
	body, err := json.Marshal(reply)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"success":false,"error":"internal error: encoding the reply"}`)
	}
	body = append(body, '\n')
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

func bodyTooLarge(limit int64) *httpError {
	return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", limit)}
}

// decodeBody reads a JSON object into v: unknown fields, trailing data and
// an empty body are 400, a body over the limit 413.
func (h *httpAPI) decodeBody(r *http.Request, v any) *httpError {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("unexpected data after the JSON object")
			if mbe := (*http.MaxBytesError)(nil); errors.As(terr, &mbe) {
				err = terr
			}
		}
	}
	if err == nil {
		return nil
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return bodyTooLarge(mbe.Limit)
	}
	if errors.Is(err, io.EOF) {
		return badRequest("request body is empty: a JSON object is required")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest("malformed JSON body: unexpected end of input")
	}
	return badRequest("malformed JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// namespace reads the namespace query parameter ("0" when absent) the way
// SELECT reads its argument: digits name a numbered database below
// databases, anything else must be a valid namespace name.
func (h *httpAPI) namespace(r *http.Request) (string, *httpError) {
	q := r.URL.Query()
	if len(q["namespace"]) > 1 {
		return "", badRequest("namespace given more than once")
	}
	arg := q.Get("namespace")
	if _, ok := q["namespace"]; !ok {
		arg = "0"
	}
	name, _, msg := commands.ResolveNamespace(h.s.store, arg)
	if msg != "" || !engine.ValidName(name) {
		return "", badRequest("invalid namespace %q: a database number below %d, or 1 to %d letters, digits, '_' or '-'",
			arg, h.s.store.Databases(), engine.MaxNameLen)
	}
	return name, nil
}

func (h *httpAPI) checkKey(key string) *httpError {
	if key == "" {
		return badRequest("empty key")
	}
	if len(key) > h.limits.maxKey {
		return badRequest("key longer than %d bytes", h.limits.maxKey)
	}
	return nil
}

// engineError maps an engine failure to a reply: a cap the request ran into
// is the client's to fix, anything else is ours.
func (h *httpAPI) engineError(r *http.Request, err error) *httpError {
	switch {
	case errors.Is(err, errHTTPClosing):
		return &httpError{http.StatusServiceUnavailable, err.Error()}
	case errors.Is(err, errHTTPOOM):
		return &httpError{http.StatusInsufficientStorage, err.Error()}
	case errors.Is(err, engine.ErrTooManySpaces):
		return badRequest("too many namespaces: the max-namespaces limit is reached")
	}
	h.s.log.Error("HTTP API storage error", "method", r.Method, "path", r.URL.EscapedPath(), "err", err)
	return &httpError{http.StatusInternalServerError, "storage error: " + err.Error()}
}

// view and update run fn on the engine, as a command batch does: holding
// the server's gate shared, so Shutdown waits for them. grow is update for
// writes that may grow memory: like a denyoom command it first evicts
// under maxmemory, and is refused (507) when nothing more can go.
func (h *httpAPI) view(fn func(tx *engine.Tx) error) error {
	return h.run(false, false, fn)
}

func (h *httpAPI) update(fn func(tx *engine.Tx) error) error {
	return h.run(true, false, fn)
}

func (h *httpAPI) grow(fn func(tx *engine.Tx) error) error {
	return h.run(true, true, fn)
}

func (h *httpAPI) run(write, grows bool, fn func(tx *engine.Tx) error) error {
	s := h.s
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closing.Load() {
		return errHTTPClosing
	}
	if grows && s.store.MaxMemory() > 0 && s.store.Evict() == engine.EvictFail {
		return errHTTPOOM
	}
	if write {
		return s.store.Update(fn)
	}
	return s.store.View(fn)
}

// ---------------------------------------------------------------------------
// Values.

// jsonValue is how a stored string reads over HTTP: its text when it is
// JSON, else the string itself as a JSON string.
func jsonValue(data string) json.RawMessage {
	if json.Valid([]byte(data)) {
		var b bytes.Buffer
		if json.Compact(&b, []byte(data)) == nil {
			return b.Bytes()
		}
	}
	b, _ := json.Marshal(data) // invalid UTF-8 becomes U+FFFD
	return b
}

// storedValue checks and compacts a value given in a request. A missing
// value (not JSON null, which is a value) is an error.
func storedValue(raw json.RawMessage, where string) (string, *httpError) {
	if raw == nil {
		return "", badRequest("%s: missing \"value\"", where)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", badRequest("%s: malformed value: %v", where, err)
	}
	return b.String(), nil
}

// expireAt turns ttlMs into an absolute expiry; nil means none.
func expireAt(now int64, ttlMs *int64, where string) (int64, *httpError) {
	if ttlMs == nil {
		return 0, nil
	}
	if *ttlMs <= 0 {
		return 0, badRequest("%s: ttlMs must be a positive number of milliseconds", where)
	}
	if *ttlMs > math.MaxInt64-now {
		return 0, badRequest("%s: ttlMs is too large", where)
	}
	return now + *ttlMs, nil
}

// httpEntry is one key in a reply.
type httpEntry struct {
	Key   string          `json:"key"`
	Found *bool           `json:"found,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
	TTLMs *int64          `json:"ttlMs,omitempty"`
}

func entryOf(key string, v engine.Value, now int64) httpEntry {
	e := httpEntry{Key: key, Value: jsonValue(v.Data)}
	if v.ExpireAt != 0 {
		ttl := max(v.ExpireAt-now, 0)
		e.TTLMs = &ttl
	}
	return e
}

// ---------------------------------------------------------------------------
// Handlers.

func (h *httpAPI) healthz(r *http.Request, _ string) (any, *httpError) {
	if h.s.closing.Load() {
		return nil, &httpError{http.StatusServiceUnavailable, errHTTPClosing.Error()}
	}
	return map[string]string{"status": "ok", "version": Version}, nil
}

// GET /storage/{key}
func (h *httpAPI) getKey(r *http.Request, key string) (any, *httpError) {
	ns, herr := h.namespace(r)
	if herr != nil {
		return nil, herr
	}
	if herr := h.checkKey(key); herr != nil {
		return nil, herr
	}
	var (
		entry    httpEntry
		found    bool
		typeName string
	)
	err := h.view(func(tx *engine.Tx) error {
		v, ok, err := tx.Get(ns, key)
		if err != nil || !ok {
			return err
		}
		found = true
		if v.Type != engine.TypeString {
			typeName = v.Type.String()
			return nil
		}
		entry = entryOf(key, v, tx.Now())
		return nil
	})
	if err != nil {
		return nil, h.engineError(r, err)
	}
	if !found {
		return nil, errHTTPNotFound
	}
	if typeName != "" {
		return nil, &httpError{http.StatusConflict, "key holds a " + typeName + " value, not a string"}
	}
	return entry, nil
}

type httpSetBody struct {
	Value json.RawMessage `json:"value"`
	TTLMs *int64          `json:"ttlMs"`
}

// POST /storage/{key}
func (h *httpAPI) setKey(r *http.Request, key string) (any, *httpError) {
	ns, herr := h.namespace(r)
	if herr != nil {
		return nil, herr
	}
	if herr := h.checkKey(key); herr != nil {
		return nil, herr
	}
	var body httpSetBody
	if herr := h.decodeBody(r, &body); herr != nil {
		return nil, herr
	}
	data, herr := storedValue(body.Value, "body")
	if herr != nil {
		return nil, herr
	}
	if _, herr := expireAt(0, body.TTLMs, "body"); herr != nil {
		return nil, herr
	}
	var ttlErr *httpError
	err := h.grow(func(tx *engine.Tx) error {
		at, herr := expireAt(tx.Now(), body.TTLMs, "body")
		if herr != nil {
			ttlErr = herr
			return engine.ErrRollback
		}
		return tx.Set(ns, key, engine.Value{Type: engine.TypeString, ExpireAt: at, Data: data})
	})
	if ttlErr != nil {
		return nil, ttlErr
	}
	if err != nil {
		return nil, h.engineError(r, err)
	}
	out := map[string]any{"key": key}
	if body.TTLMs != nil {
		out["ttlMs"] = *body.TTLMs
	}
	return out, nil
}

// DELETE /storage/{key}
func (h *httpAPI) deleteKey(r *http.Request, key string) (any, *httpError) {
	ns, herr := h.namespace(r)
	if herr != nil {
		return nil, herr
	}
	if herr := h.checkKey(key); herr != nil {
		return nil, herr
	}
	var deleted bool
	err := h.update(func(tx *engine.Tx) error {
		var err error
		deleted, err = tx.Delete(ns, key)
		return err
	})
	if err != nil {
		return nil, h.engineError(r, err)
	}
	if !deleted {
		return nil, errHTTPNotFound
	}
	return map[string]any{"key": key, "deleted": true}, nil
}

type httpKeysBody struct {
	Keys *[]string `json:"keys"`
}

func (h *httpAPI) readKeys(r *http.Request) ([]string, *httpError) {
	var body httpKeysBody
	if herr := h.decodeBody(r, &body); herr != nil {
		return nil, herr
	}
	if body.Keys == nil {
		return nil, badRequest("body: missing \"keys\"")
	}
	keys := *body.Keys
	if len(keys) > h.limits.maxBatch {
		return nil, badRequest("too many keys: %d, at most %d per request", len(keys), h.limits.maxBatch)
	}
	for i, k := range keys {
		if herr := h.checkKey(k); herr != nil {
			return nil, badRequest("keys[%d]: %s", i, herr.msg)
		}
	}
	return keys, nil
}

// POST /storage/batch/get: every key in one snapshot, in request order;
// like MGET, a key holding another type reads as missing.
func (h *httpAPI) batchGet(r *http.Request, _ string) (any, *httpError) {
	ns, herr := h.namespace(r)
	if herr != nil {
		return nil, herr
	}
	keys, herr := h.readKeys(r)
	if herr != nil {
		return nil, herr
	}
	entries := make([]httpEntry, len(keys))
	err := h.view(func(tx *engine.Tx) error {
		now := tx.Now()
		for i, k := range keys {
			v, found, err := tx.Get(ns, k)
			if err != nil {
				return err
			}
			found = found && v.Type == engine.TypeString
			if found {
				entries[i] = entryOf(k, v, now)
			} else {
				entries[i] = httpEntry{Key: k}
			}
			entries[i].Found = &found
		}
		return nil
	})
	if err != nil {
		return nil, h.engineError(r, err)
	}
	return map[string]any{"entries": entries}, nil
}

type httpBatchSetBody struct {
	Entries *[]struct {
		Key   *string         `json:"key"`
		Value json.RawMessage `json:"value"`
		TTLMs *int64          `json:"ttlMs"`
	} `json:"entries"`
}

// POST /storage/batch/set: all entries or none, in one transaction; a key
// given twice takes its last value.
func (h *httpAPI) batchSet(r *http.Request, _ string) (any, *httpError) {
	ns, herr := h.namespace(r)
	if herr != nil {
		return nil, herr
	}
	var body httpBatchSetBody
	if herr := h.decodeBody(r, &body); herr != nil {
		return nil, herr
	}
	if body.Entries == nil {
		return nil, badRequest("body: missing \"entries\"")
	}
	in := *body.Entries
	if len(in) > h.limits.maxBatch {
		return nil, badRequest("too many entries: %d, at most %d per request", len(in), h.limits.maxBatch)
	}
	type item struct {
		key, data string
		ttl       *int64
	}
	items := make([]item, len(in))
	for i, e := range in {
		where := fmt.Sprintf("entries[%d]", i)
		if e.Key == nil {
			return nil, badRequest("%s: missing \"key\"", where)
		}
		if herr := h.checkKey(*e.Key); herr != nil {
			return nil, badRequest("%s: %s", where, herr.msg)
		}
		data, herr := storedValue(e.Value, where)
		if herr != nil {
			return nil, herr
		}
		if _, herr := expireAt(0, e.TTLMs, where); herr != nil {
			return nil, herr
		}
		items[i] = item{*e.Key, data, e.TTLMs}
	}
	var ttlErr *httpError
	err := h.grow(func(tx *engine.Tx) error {
		for i, it := range items {
			at, herr := expireAt(tx.Now(), it.ttl, fmt.Sprintf("entries[%d]", i))
			if herr != nil {
				ttlErr = herr
				return engine.ErrRollback
			}
			if err := tx.Set(ns, it.key, engine.Value{Type: engine.TypeString, ExpireAt: at, Data: it.data}); err != nil {
				return err
			}
		}
		return nil
	})
	if ttlErr != nil {
		return nil, ttlErr
	}
	if err != nil {
		return nil, h.engineError(r, err)
	}
	return map[string]any{"count": len(items)}, nil
}

// POST /storage/batch/delete: the keys that existed are removed; the count
// says how many.
func (h *httpAPI) batchDelete(r *http.Request, _ string) (any, *httpError) {
	ns, herr := h.namespace(r)
	if herr != nil {
		return nil, herr
	}
	keys, herr := h.readKeys(r)
	if herr != nil {
		return nil, herr
	}
	deleted := 0
	err := h.update(func(tx *engine.Tx) error {
		for _, k := range keys {
			ok, err := tx.Delete(ns, k)
			if err != nil {
				return err
			}
			if ok {
				deleted++
			}
		}
		return nil
	})
	if err != nil {
		return nil, h.engineError(r, err)
	}
	return map[string]any{"deleted": deleted}, nil
}

// GET /storage/list?prefix=&limit=&cursor=: keys with the prefix in key
// order, a page at a time. The cursor is the next key, base64url-encoded:
// a page starts where the last one stopped even if keys changed between
// calls, and each key present throughout is returned exactly once. Each
// page costs a pass over the namespace's keys (engine's Tx.Page).
func (h *httpAPI) list(r *http.Request, _ string) (any, *httpError) {
	ns, herr := h.namespace(r)
	if herr != nil {
		return nil, herr
	}
	q := r.URL.Query()
	prefix := q.Get("prefix")
	if len(prefix) > h.limits.maxKey {
		return nil, badRequest("prefix longer than %d bytes", h.limits.maxKey)
	}
	limit := h.limits.listLimit
	if s, ok := q["limit"]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil || n < 1 || n > h.limits.maxList {
			return nil, badRequest("limit must be an integer from 1 to %d", h.limits.maxList)
		}
		limit = n
	}
	from := prefix
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || !strings.HasPrefix(string(b), prefix) || len(b) > h.limits.maxKey {
			return nil, badRequest("invalid cursor")
		}
		from = string(b)
	}
	var keys []string
	next := ""
	err := h.view(func(tx *engine.Tx) error {
		var err error
		keys, next, err = tx.Page(ns, prefix, from, limit)
		return err
	})
	if err != nil {
		return nil, h.engineError(r, err)
	}
	if keys == nil {
		keys = []string{}
	}
	if next != "" {
		next = base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	out := map[string]any{"keys": keys, "nextCursor": nil}
	if next != "" {
		out["nextCursor"] = next
	}
	return out, nil
}

// POST /storage/clear: empties the namespace, as FLUSHDB.
func (h *httpAPI) clear(r *http.Request, _ string) (any, *httpError) {
	ns, herr := h.namespace(r)
	if herr != nil {
		return nil, herr
	}
	n := 0
	err := h.update(func(tx *engine.Tx) error {
		var err error
		if n, err = tx.Len(ns); err != nil {
			return err
		}
		return tx.Flush(ns)
	})
	if err != nil {
		return nil, h.engineError(r, err)
	}
	return map[string]any{"namespace": ns, "deleted": n}, nil
}

// httpRouteSet lists "METHOD path" for every route, sorted: what the
// OpenAPI document must describe.
func httpRouteSet() []string {
	out := make([]string, 0, len(httpRoutes))
	for _, rt := range httpRoutes {
		out = append(out, rt.method+" "+rt.path)
	}
	sort.Strings(out)
	return out
}
