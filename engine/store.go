// Package engine is durastore's storage: namespaces of typed values with
// millisecond expiry, each namespace a hash table of its keys with its own
// append-only file (kv.go). It knows nothing of RESP or HTTP.
package engine

import (
	"bufio"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fsync is the append-only file's fsync policy.
type Fsync int

// Fsync policies, as Redis's appendfsync.
const (
	FsyncEverySec Fsync = iota
	FsyncAlways
	FsyncNo
)

// ParseFsync reads an appendfsync value.
func ParseFsync(s string) (Fsync, error) {
	switch strings.ToLower(s) {
	case "always":
		return FsyncAlways, nil
	case "everysec":
		return FsyncEverySec, nil
	case "no":
		return FsyncNo, nil
	}
	return 0, fmt.Errorf("invalid fsync policy %q", s)
}

// Config is what the engine needs to open a store.
type Config struct {
	// Dir holds the namespace files and the manifest.
	Dir string
	// AppendOnly false keeps everything in memory only.
	AppendOnly bool
	Fsync      Fsync
	// Databases is how many numbered namespaces ("0".."N-1") exist.
	Databases int
	// MaxNamespaces caps numbered plus named namespaces.
	MaxNamespaces int
	// Hz is how many active expiry cycles run per second.
	Hz int
	// AutoRewritePercentage and AutoRewriteMinSize trigger a background
	// rewrite of a namespace's file, as Redis's auto-aof-rewrite-*.
	AutoRewritePercentage int
	AutoRewriteMinSize    int64
	Logger                *slog.Logger
	// RefuseTruncated refuses to load a file that ends in the middle of a
	// record instead of cutting it back (aof-load-truncated no);
	// RepairDamaged cuts a damaged file at the damage instead of refusing
	// (aof-load-damaged truncate). See repair.go.
	RefuseTruncated bool
	RepairDamaged   bool
	// Memory is maxmemory and its policy (memory.go).
	Memory MemoryConfig
}

// Errors returned by the engine.
var (
	ErrNamespaceName  = errors.New("invalid namespace name")
	ErrTooManySpaces  = errors.New("too many namespaces")
	ErrClosed         = errors.New("store is closed")
	ErrCrossNamespace = errors.New("transaction touches a second namespace without exclusive access")
)

// MaxNameLen is the longest namespace name.
const MaxNameLen = 64

// ValidName reports whether s may name a namespace: letters, digits, '_'
// and '-', 1 to 64 bytes. It is checked before a name reaches the file
// system.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Stats are the engine's counters, read by INFO.
type Stats struct {
	ExpiredKeys   atomic.Int64
	EvictedKeys   atomic.Int64
	ExpireCycles  atomic.Int64
	RewritesDone  atomic.Int64
	RewriteActive atomic.Int32
	LastRewriteOK atomic.Bool
	LastWriteErr  atomic.Pointer[string]
	// Fsyncs counts the fsyncs made for appendfsync always.
	Fsyncs atomic.Int64
}

// Store is the set of namespaces.
type Store struct {
	cfg Config
	log *slog.Logger

	// world serialises multi-namespace work (EXEC, scripts, SWAPDB,
	// FLUSHALL, MOVE) against everything else: ordinary transactions hold it
	// shared, exclusive ones hold it alone.
	world sync.RWMutex

	mu      sync.RWMutex // guards spaces, nextID and the manifest
	spaces  map[string]*Namespace
	nextID  int
	closed  bool
	stop    chan struct{}
	bgWG    sync.WaitGroup
	Stats   Stats
	started time.Time
	// touchSubs are told which keys each commit changed (see OnTouch).
	touchSubs []touchSub

	// What CONFIG SET may change while the store runs (see SetHz,
	// SetAutoRewrite); cfg keeps the values it was opened with.
	hz        atomic.Int64
	autoPct   atomic.Int64
	autoMin   atomic.Int64
	hzChanged chan struct{}

	// pendDBs lists the databases with deferred records (FlushPending).
	pendMu  sync.Mutex
	pendDBs []*kvDB
	flushMu sync.Mutex // held by FlushPending

	mem memState // memory accounting and eviction (memory.go, evict.go)
}

// Open opens (or creates) the store in cfg.Dir and loads every namespace.
func Open(cfg Config) (*Store, error) {
	if cfg.Databases <= 0 {
		cfg.Databases = 16
	}
	if cfg.MaxNamespaces < cfg.Databases {
		cfg.MaxNamespaces = cfg.Databases
	}
	if cfg.Hz <= 0 {
		cfg.Hz = 10
	}
	if cfg.AutoRewritePercentage == 0 {
		cfg.AutoRewritePercentage = 100
	}
	if cfg.AutoRewriteMinSize == 0 {
		cfg.AutoRewriteMinSize = 64 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Store{
		cfg:     cfg,
		log:     cfg.Logger,
		spaces:  make(map[string]*Namespace),
		nextID:  1,
		stop:    make(chan struct{}),
		started: time.Now(),
	}
	s.Stats.LastRewriteOK.Store(true)
	s.initMemory()
	s.hz.Store(int64(cfg.Hz))
	s.autoPct.Store(int64(cfg.AutoRewritePercentage))
	s.autoMin.Store(cfg.AutoRewriteMinSize)
	s.hzChanged = make(chan struct{}, 1)
	if cfg.AppendOnly {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("data directory %s: %w", cfg.Dir, err)
		}
		entries, err := s.readManifest()
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			ns, err := s.openNamespace(e.name, e.file)
			if err != nil {
				s.closeAll()
				return nil, err
			}
			s.spaces[e.name] = ns
		}
	}
	s.startMemory()
	s.bgWG.Add(2)
	go s.background()
	go s.everysec()
	return s, nil
}

// Config returns the configuration the store was opened with.
func (s *Store) Config() Config { return s.cfg }

// SetFsync changes the fsync policy of every namespace at once, as CONFIG
// SET appendfsync does: later commits follow the new policy.
func (s *Store) SetFsync(f Fsync) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Fsync = f // read by openNamespace, under mu
	for _, ns := range s.spaces {
		ns.sync.always.Store(f == FsyncAlways)
	}
	return nil
}

// listPending notes a database that has deferred records to write.
func (s *Store) listPending(db *kvDB) {
	s.pendMu.Lock()
	s.pendDBs = append(s.pendDBs, db)
	s.pendMu.Unlock()
}

// FlushPending writes the records of deferred commits (Tx.DeferWrite) to
// their files, one write per namespace. Where the write fails, the
// deferred commits are undone and their tickets say so. When it returns,
// every commit deferred before the call has been written or undone.
func (s *Store) FlushPending() {
	// One flush at a time: a caller that finds the list empty because
	// another took it waits for that one to finish.
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.pendMu.Lock()
	dbs := s.pendDBs
	s.pendDBs = nil
	s.pendMu.Unlock()
	wrote := false
	for _, db := range dbs {
		if err := db.flushPending(); err != nil {
			s.noteWriteError(err)
		} else {
			wrote = true
		}
	}
	if wrote && s.WriteError() != "" {
		s.Stats.LastWriteErr.Store(nil)
	}
}

// SetHz changes how many active expiry cycles run per second (1 to 500).
func (s *Store) SetHz(hz int) {
	hz = min(max(hz, 1), 500)
	if s.hz.Swap(int64(hz)) != int64(hz) {
		select {
		case s.hzChanged <- struct{}{}:
		default:
		}
	}
}

// SetAutoRewrite changes the automatic rewrite thresholds, as CONFIG SET
// auto-aof-rewrite-percentage and auto-aof-rewrite-min-size; a percentage
// of 0 disables automatic rewrites.
func (s *Store) SetAutoRewrite(percentage int, minSize int64) {
	s.autoPct.Store(int64(percentage))
	s.autoMin.Store(minSize)
}

// Databases is the number of numbered namespaces.
func (s *Store) Databases() int { return s.cfg.Databases }

type manifestEntry struct{ name, file string }

const manifestName = "manifest"

// readManifest reads dir/manifest: one "name file" line per namespace. It
// maps names to files so SWAPDB can swap two namespaces by rewriting one
// small file instead of renaming data files under open databases.
func (s *Store) readManifest() ([]manifestEntry, error) {
	path := filepath.Join(s.cfg.Dir, manifestName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []manifestEntry
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 2 || !ValidName(fields[0]) || !validFileName(fields[1]) {
			return nil, fmt.Errorf("%s line %d: malformed entry %q", path, line, sc.Text())
		}
		out = append(out, manifestEntry{fields[0], fields[1]})
		if id := fileID(fields[1]); id >= s.nextID {
			s.nextID = id + 1
		}
	}
	return out, sc.Err()
}

func validFileName(f string) bool {
	return strings.HasPrefix(f, "ns-") && strings.HasSuffix(f, ".aof") && fileID(f) > 0
}

func fileID(f string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f, "ns-"), ".aof"))
	if err != nil {
		return 0
	}
	return n
}

// writeManifest replaces the manifest atomically. s.mu must be held.
func (s *Store) writeManifest() error {
	names := make([]string, 0, len(s.spaces))
	for n := range s.spaces {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# durastore namespaces: name file\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", n, s.spaces[n].file)
	}
	return writeFileSync(filepath.Join(s.cfg.Dir, manifestName), []byte(b.String()))
}

// writeFileSync writes path through a temporary file, fsyncs it, renames it
// into place and fsyncs the directory.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lookup returns an existing namespace or nil.
func (s *Store) lookup(name string) *Namespace {
	s.mu.RLock()
	ns := s.spaces[name]
	s.mu.RUnlock()
	return ns
}

// create returns the namespace, creating it (and its file) if needed.
func (s *Store) create(name string) (*Namespace, error) {
	if ns := s.lookup(name); ns != nil {
		return ns, nil
	}
	if !ValidName(name) {
		return nil, ErrNamespaceName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if ns := s.spaces[name]; ns != nil {
		return ns, nil
	}
	if len(s.spaces) >= s.cfg.MaxNamespaces {
		return nil, ErrTooManySpaces
	}
	file := fmt.Sprintf("ns-%06d.aof", s.nextID)
	ns, err := s.openNamespace(name, file)
	if err != nil {
		return nil, err
	}
	s.nextID++
	s.spaces[name] = ns
	if s.cfg.AppendOnly {
		if err := s.writeManifest(); err != nil {
			delete(s.spaces, name)
			ns.close()
			os.Remove(ns.path)
			return nil, fmt.Errorf("writing manifest: %w", err)
		}
	}
	return ns, nil
}

// Names lists the namespaces that exist, numbered ones first in order.
func (s *Store) Names() []string {
	s.mu.RLock()
	names := make([]string, 0, len(s.spaces))
	for n := range s.spaces {
		names = append(names, n)
	}
	s.mu.RUnlock()
	sort.Slice(names, func(i, j int) bool {
		a, aerr := strconv.Atoi(names[i])
		b, berr := strconv.Atoi(names[j])
		switch {
		case aerr == nil && berr == nil:
			return a < b
		case aerr == nil:
			return true
		case berr == nil:
			return false
		}
		return names[i] < names[j]
	})
	return names
}

// NamespaceInfo is what INFO keyspace reports for one namespace.
type NamespaceInfo struct {
	Name    string
	Keys    int
	Expires int
	AvgTTL  int64
}

// Keyspace reports every namespace that holds keys.
func (s *Store) Keyspace() []NamespaceInfo {
	var out []NamespaceInfo
	for _, name := range s.Names() {
		ns := s.lookup(name)
		if ns == nil {
			continue
		}
		n := ns.Len()
		if n == 0 {
			continue
		}
		out = append(out, NamespaceInfo{Name: name, Keys: n, Expires: int(ns.volatile.Load())})
	}
	return out
}

// Close stops background work, syncs and closes every namespace.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	s.mem.closed.Store(true)
	close(s.stop)
	s.bgWG.Wait()
	s.world.Lock()
	defer s.world.Unlock()
	return s.closeAll()
}

func (s *Store) closeAll() error {
	var first error
	for _, ns := range s.spaces {
		if err := ns.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// background runs active expiry Hz times a second and checks whether a
// namespace's file has grown enough to rewrite.
func (s *Store) background() {
	defer s.bgWG.Done()
	hz := s.hz.Load()
	t := time.NewTicker(time.Second / time.Duration(hz))
	defer t.Stop()
	tick := int64(0)
	for {
		select {
		case <-s.stop:
			return
		case <-s.hzChanged:
			hz = s.hz.Load()
			t.Reset(time.Second / time.Duration(hz))
			continue
		case <-t.C:
		}
		s.activeExpireCycle()
		for _, ns := range s.all() {
			ns.db.rehashStep(time.Millisecond)
		}
		tick++
		if tick%hz == 0 && s.cfg.AppendOnly {
			s.maybeRewrite()
		}
	}
}

// everysec implements appendfsync everysec: once a second it fsyncs every
// namespace file written since its last fsync, from its own goroutine and
// without any database lock, as Redis fsyncs from a background thread.
func (s *Store) everysec() {
	defer s.bgWG.Done()
	if !s.cfg.AppendOnly {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.FlushPending() // records a loop left (it flushes every turn)
		s.mu.RLock()
		every := s.cfg.Fsync == FsyncEverySec
		s.mu.RUnlock()
		if !every {
			continue
		}
		for _, ns := range s.all() {
			if err := ns.sync.syncIfWritten(); err != nil {
				s.log.Error("fsync of append-only file failed", "namespace", ns.name, "err", err)
			}
		}
	}
}

func (s *Store) all() []*Namespace {
	s.mu.RLock()
	out := make([]*Namespace, 0, len(s.spaces))
	for _, ns := range s.spaces {
		out = append(out, ns)
	}
	s.mu.RUnlock()
	return out
}

func (s *Store) maybeRewrite() {
	for _, ns := range s.all() {
		size := ns.fileSize()
		base := ns.lastRewriteSize.Load()
		pct := s.autoPct.Load()
		if pct <= 0 || size < s.autoMin.Load() {
			continue // a percentage of 0 disables it, as in Redis
		}
		if size > base+base*pct/100 {
			s.rewrite(ns)
		}
	}
}

// Rewrite compacts every namespace's file in the background, as
// BGREWRITEAOF. It returns false if a rewrite is already running.
func (s *Store) Rewrite() bool {
	if !s.cfg.AppendOnly {
		return true
	}
	if !s.Stats.RewriteActive.CompareAndSwap(0, 1) {
		return false
	}
	spaces := s.all()
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		defer s.Stats.RewriteActive.Store(0)
		ok := true
		for _, ns := range spaces {
			if err := ns.rewrite(); err != nil {
				ok = false
				s.log.Error("append-only file rewrite failed", "namespace", ns.name, "file", ns.path, "err", err)
			}
		}
		s.Stats.LastRewriteOK.Store(ok)
		s.Stats.RewritesDone.Add(1)
	}()
	return true
}

func (s *Store) rewrite(ns *Namespace) {
	if !s.Stats.RewriteActive.CompareAndSwap(0, 1) {
		return
	}
	defer s.Stats.RewriteActive.Store(0)
	err := ns.rewrite()
	s.Stats.LastRewriteOK.Store(err == nil)
	s.Stats.RewritesDone.Add(1)
	if err != nil {
		s.log.Error("append-only file rewrite failed", "namespace", ns.name, "file", ns.path, "err", err)
	} else {
		s.log.Info("append-only file rewritten", "namespace", ns.name, "bytes", ns.fileSize())
	}
}

// Sync fsyncs every namespace's file.
func (s *Store) Sync() error {
	var first error
	for _, ns := range s.all() {
		if err := ns.sync.syncNow(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// openNamespace loads a namespace. With appendonly off the data lives in
// memory.
func (s *Store) openNamespace(name, file string) (*Namespace, error) {
	ns := &Namespace{name: name, file: file, store: s}
	ns.exp.init()
	path := ""
	if s.cfg.AppendOnly {
		path = filepath.Join(s.cfg.Dir, file)
		ns.path = path
	}
	start := time.Now()
	if s.cfg.AppendOnly {
		if err := s.checkNamespaceFile(name, path); err != nil { // repair.go
			return nil, err
		}
	}
	db, err := openKV(path, maphash.MakeSeed())
	if err != nil {
		return nil, fmt.Errorf("loading namespace %q from %s: %w", name, path, err)
	}
	ns.db = db
	db.listPending = s.listPending
	db.revertMem = func(mem int64) { s.addMemory(ns, -mem) }
	db.syncAlways = func() bool { return ns.sync.always.Load() && ns.path != "" }
	db.syncWait = ns.sync.wait
	if s.cfg.AppendOnly {
		if err := ns.sync.open(path); err != nil {
			db.close()
			return nil, err
		}
		ns.lastRewriteSize.Store(ns.fileSize())
	}
	ns.sync.always.Store(s.cfg.Fsync == FsyncAlways)
	ns.sync.count = &s.Stats.Fsyncs
	// Rebuild the expiry index from the values' own expiry times.
	n := 0
	var mem int64
	var volatile []expItem
	db.d.each(func(e dslot) bool {
		n++
		key, val := e.key(), e.val()
		mem += rawCost(key, val)
		if at := decodeExpire(val); at != 0 {
			volatile = append(volatile, expItem{at, key})
		}
		return true
	})
	ns.exp.load(volatile)
	ns.volatile.Store(int64(ns.exp.len()))
	s.addMemory(ns, mem)
	if s.cfg.AppendOnly && n > 0 {
		s.log.Info("namespace loaded", "namespace", name, "file", path, "keys", n, "expires", ns.exp.len(), "elapsed", time.Since(start).String())
	}
	return ns, nil
}
