package engine

// Checking and repairing a namespace's append-only file.
//
// A file is a sequence of the records buntdb, which durastore used to
// store its data, wrote, and kv.go writes today: RESP arrays "set key
// value", "set key value ex|ae seconds" (buntdb's own expiry, no longer
// written), "del key" and "flushdb". A loader that simply cut a file at the
// first record it could not read would take damage that happens to make a
// record look longer than the rest of the file (a corrupted length) for a
// cut file, and throw away every record after it.
//
// So every file is checked before it is loaded:
//
//   - FileOK: every byte belongs to a whole valid record.
//   - FileTruncated: the file ends with the beginning of a record (or with
//     NUL bytes, which a crash can leave): what a crash during a write
//     leaves behind. It loads up to its last whole record, which is logged,
//     unless the store is configured to refuse (aof-load-truncated no).
//   - FileDamaged: something that no write could have produced, followed by
//     anything, or a record that runs past the end of the file while whole
//     records can be found after its start. Start-up stops with an error
//     naming the file and the offset, unless repair was asked for
//     (aof-load-damaged truncate): the file is then cut at the damage, as
//     redis-check-aof --fix does, after the cut bytes are saved beside it.
//
// `durastore check-aof FILE [--fix]` runs the same check.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// FileStatus is the verdict on an append-only file.
type FileStatus int

// Verdicts of CheckFile.
const (
	FileOK FileStatus = iota
	FileTruncated
	FileDamaged
)

func (s FileStatus) String() string {
	switch s {
	case FileOK:
		return "ok"
	case FileTruncated:
		return "truncated"
	}
	return "damaged"
}

// FileReport is what CheckFile found.
type FileReport struct {
	Path   string
	Size   int64
	Status FileStatus
	// Records is the number of whole valid records before ValidEnd.
	Records int
	// ValidEnd is the offset just past the last whole valid record before
	// any problem: the size the file has after a repair.
	ValidEnd int64
	// BadOffset is the offset of the first byte found wrong (Status
	// FileDamaged) or of the incomplete record (FileTruncated).
	BadOffset int64
	// Problem says what is wrong at BadOffset.
	Problem string
	// After counts the whole records found after the damage, which a
	// repair loses.
	After int
}

// Lost is how many bytes a repair cuts.
func (r FileReport) Lost() int64 { return r.Size - r.ValidEnd }

func (r FileReport) String() string {
	switch r.Status {
	case FileOK:
		return fmt.Sprintf("%s: ok, %d records, %d bytes", r.Path, r.Records, r.Size)
	case FileTruncated:
		return fmt.Sprintf("%s: ends in the middle of a record at offset %d (%s): %d bytes after the last whole record (%d records, up to offset %d)",
			r.Path, r.BadOffset, r.Problem, r.Lost(), r.Records, r.ValidEnd)
	}
	return fmt.Sprintf("%s: damaged at offset %d (%s); %d whole records before it (up to offset %d), %d bytes from there on with %d records found after the damage",
		r.Path, r.BadOffset, r.Problem, r.Records, r.ValidEnd, r.Lost(), r.After)
}

// errEndOfFile marks a record that the end of the file interrupted.
var errEndOfFile = errors.New("end of file inside a record")

// recordError is a byte that no write produces.
type recordError struct {
	off int64
	msg string
}

func (e *recordError) Error() string { return e.msg }

// recordReader parses records, tracking the offset.
type recordReader struct {
	r   *bufio.Reader
	off int64
	buf []byte
}

func newRecordReader(r io.Reader, off int64) *recordReader {
	return &recordReader{r: bufio.NewReaderSize(r, 256<<10), off: off}
}

func (rr *recordReader) fail(at int64, format string, args ...any) error {
	return &recordError{off: at, msg: fmt.Sprintf(format, args...)}
}

// header reads "<marker><digits>\r\n" and returns the number.
func (rr *recordReader) header(marker byte, what string) (int64, error) {
	start := rr.off
	line, err := rr.r.ReadSlice('\n')
	rr.off += int64(len(line))
	if err == bufio.ErrBufferFull {
		return 0, rr.fail(start, "%s line too long", what)
	}
	if err != nil {
		if err != io.EOF {
			return 0, err
		}
		// A cut line must still be a valid beginning.
		if len(line) > 0 && line[0] != marker {
			return 0, rr.fail(start, "expected '%c' at the start of %s, found %q", marker, what, line[0])
		}
		for i := 1; i < len(line); i++ {
			if c := line[i]; (c < '0' || c > '9') && !(c == '\r' && i == len(line)-1) {
				return 0, rr.fail(start, "malformed %s %q", what, line)
			}
		}
		return 0, errEndOfFile
	}
	if line[0] != marker {
		return 0, rr.fail(start, "expected '%c' at the start of %s, found %q", marker, what, line[0])
	}
	if len(line) < 4 || line[len(line)-2] != '\r' {
		return 0, rr.fail(start, "malformed %s %q", what, line)
	}
	digits := line[1 : len(line)-2]
	if len(digits) > 18 {
		return 0, rr.fail(start, "%s too large", what)
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, rr.fail(start, "malformed %s %q", what, line)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// bulk reads one "$<len>\r\n<data>\r\n"; keep says whether to return the
// data (names and small arguments) or skip it. Kept data is valid until
// the next call.
func (rr *recordReader) bulk(keep bool, limit int64) ([]byte, error) {
	n, err := rr.header('$', "argument length")
	if err != nil {
		return nil, err
	}
	if keep && n <= limit {
		if int64(cap(rr.buf)) < n {
			rr.buf = make([]byte, n)
		}
		data := rr.buf[:n]
		if err := rr.readData(data); err != nil {
			return nil, err
		}
		return data, nil
	}
	start := rr.off
	k, err := rr.r.Discard(int(n))
	rr.off += int64(k)
	if err == io.EOF {
		return nil, errEndOfFile
	}
	if err != nil {
		return nil, err
	}
	return nil, rr.crlf(start, n)
}

// readData reads len(dst) bytes of an argument into dst, and its CRLF.
func (rr *recordReader) readData(dst []byte) error {
	start := rr.off
	if err := rr.readFull(dst); err != nil {
		return err
	}
	return rr.crlf(start, int64(len(dst)))
}

// crlf reads the CRLF after an argument of n bytes that began at start.
func (rr *recordReader) crlf(start, n int64) error {
	var end [2]byte
	if err := rr.readFull(end[:]); err != nil {
		return err
	}
	if end != [2]byte{'\r', '\n'} {
		return rr.fail(start+n, "argument of %d bytes not followed by CRLF", n)
	}
	return nil
}

// readFull reads len(p) bytes; the end of the file is errEndOfFile.
func (rr *recordReader) readFull(p []byte) error {
	k, err := io.ReadFull(rr.r, p)
	rr.off += int64(k)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errEndOfFile
	}
	return err
}

// Kinds of record, as record reports them.
const (
	recData  = iota // set, del, flushdb
	recMulti        // a transaction's first record
	recExec         // its last
)

// record reads one record and checks it is one the engine writes.
func (rr *recordReader) record() error {
	_, err := rr.recordKind()
	return err
}

// recordKind is record, reporting the record's kind.
func (rr *recordReader) recordKind() (int, error) {
	start := rr.off
	// A NUL where a record should start: what a crash can leave in a
	// file's last blocks. buntdb skips them without counting them, so
	// they are never left in place.
	if b, err := rr.r.Peek(1); err == nil && b[0] == 0 {
		return 0, rr.fail(start, "NUL byte where a record should start")
	}
	n, err := rr.header('*', "record header")
	if err != nil {
		return 0, err
	}
	if n < 1 || n > 5 || n == 4 {
		return 0, rr.fail(start, "record of %d arguments", n)
	}
	name, err := rr.bulk(true, 16)
	if err != nil {
		return 0, err
	}
	switch {
	case bytes.EqualFold(name, []byte("set")) && (n == 3 || n == 5):
		if _, err := rr.bulk(false, 0); err != nil { // key
			return 0, err
		}
		if _, err := rr.bulk(false, 0); err != nil { // value
			return 0, err
		}
		if n == 5 {
			opt, err := rr.bulk(true, 16)
			if err != nil {
				return 0, err
			}
			if !bytes.EqualFold(opt, []byte("ex")) && !bytes.EqualFold(opt, []byte("ae")) {
				return 0, rr.fail(start, "set record with option %q", opt)
			}
			num, err := rr.bulk(true, 32)
			if err != nil {
				return 0, err
			}
			if _, err := strconv.ParseInt(string(num), 10, 64); err != nil {
				return 0, rr.fail(start, "set record with expiry %q", num)
			}
		}
	case bytes.EqualFold(name, []byte("del")) && n == 2:
		if _, err := rr.bulk(false, 0); err != nil {
			return 0, err
		}
	case bytes.EqualFold(name, []byte("flushdb")) && n == 1:
	case bytes.EqualFold(name, []byte("multi")) && n == 1:
		return recMulti, nil
	case bytes.EqualFold(name, []byte("exec")) && n == 1:
		return recExec, nil
	default:
		return 0, rr.fail(start, "unknown record %q with %d arguments", name, n)
	}
	return recData, nil
}

// CheckFile reads a namespace file and reports whether it is whole,
// truncated or damaged. The error is for I/O failures only.
func CheckFile(path string) (FileReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileReport{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return FileReport{}, err
	}
	rep := FileReport{Path: path, Size: st.Size()}
	rr := newRecordReader(f, 0)
	// A transaction's records stand between "multi" and "exec" records;
	// a file that ends or breaks inside one is cut at its "multi", so a
	// transaction is kept whole or not at all.
	inTx := false
	var txStart int64
	txRecords := 0
	for {
		if _, err := rr.r.Peek(1); err == io.EOF {
			if inTx {
				rep.Status = FileTruncated
				rep.ValidEnd, rep.BadOffset = txStart, txStart
				rep.Records = txRecords
				rep.Problem = "transaction without its exec record"
				return rep, nil
			}
			rep.ValidEnd = rr.off
			return rep, nil
		}
		start := rr.off
		kind, err := rr.recordKind()
		if err == nil {
			switch {
			case kind == recMulti && inTx:
				err = rr.fail(start, "multi record inside a transaction")
			case kind == recExec && !inTx:
				err = rr.fail(start, "exec record outside a transaction")
			case kind == recMulti:
				inTx, txStart, txRecords = true, start, rep.Records
			case kind == recExec:
				inTx = false
			}
		}
		if err == nil {
			rep.Records++
			continue
		}
		rep.ValidEnd = start
		rep.BadOffset = start
		if inTx {
			rep.ValidEnd, rep.Records = txStart, txRecords
		}
		var re *recordError
		switch {
		case errors.As(err, &re):
			rep.Status = FileDamaged
			rep.BadOffset = re.off
			rep.Problem = re.msg
			if re.msg == "NUL byte where a record should start" && allZero(f, start, rep.Size) {
				rep.Status = FileTruncated
				rep.Problem = "only NUL bytes follow"
			}
		case err == errEndOfFile:
			rep.Status = FileTruncated
			rep.Problem = "incomplete record"
		default:
			return rep, err
		}
		// Whole records after the problem mean it was damage, not a cut.
		rep.After, err = recordsAfter(f, start+1, rep.Size)
		if err != nil {
			return rep, err
		}
		if rep.After > 0 && rep.Status == FileTruncated {
			rep.Status = FileDamaged
			rep.Problem = "record runs past the end of the file, yet whole records follow its start"
		}
		return rep, nil
	}
}

// allZero reports whether the bytes from off to size are all NUL.
func allZero(f *os.File, off, size int64) bool {
	r := bufio.NewReaderSize(io.NewSectionReader(f, off, size-off), 64<<10)
	for {
		b, err := r.ReadByte()
		if err != nil {
			return err == io.EOF
		}
		if b != 0 {
			return false
		}
	}
}

// recordsAfter looks for the first place after off where a whole valid
// record starts and counts the records from there to the first problem.
func recordsAfter(f *os.File, off, size int64) (int, error) {
	if off >= size {
		return 0, nil
	}
	sr := io.NewSectionReader(f, off, size-off)
	scan := bufio.NewReaderSize(sr, 64<<10)
	pos := off
	for {
		b, err := scan.ReadByte()
		if err == io.EOF {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if b == '*' {
			rr := newRecordReader(io.NewSectionReader(f, pos, size-pos), pos)
			n := 0
			for rr.record() == nil {
				n++
			}
			if n > 0 {
				return n, nil
			}
		}
		pos++
	}
}

// RepairFile cuts the file at rep.ValidEnd, first copying the bytes it cuts
// to path.cut-<unix time>[-n] beside it. It returns the name of that copy.
func RepairFile(rep FileReport) (string, error) {
	if rep.Status == FileOK {
		return "", nil
	}
	f, err := os.OpenFile(rep.Path, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	saved := fmt.Sprintf("%s.cut-%d", rep.Path, time.Now().Unix())
	out, err := os.OpenFile(saved, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	for i := 2; errors.Is(err, os.ErrExist) && i < 1000; i++ {
		saved = fmt.Sprintf("%s.cut-%d-%d", rep.Path, time.Now().Unix(), i)
		out, err = os.OpenFile(saved, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	}
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, io.NewSectionReader(f, rep.ValidEnd, rep.Size-rep.ValidEnd))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(saved)
		return "", fmt.Errorf("saving the bytes to cut: %w", err)
	}
	if err := f.Truncate(rep.ValidEnd); err != nil {
		return saved, err
	}
	if err := f.Sync(); err != nil {
		return saved, err
	}
	return saved, nil
}

// checkNamespaceFile runs before a namespace's file is loaded: it
// reports and, as configured, repairs what it finds, or refuses.
func (s *Store) checkNamespaceFile(name, path string) error {
	rep, err := CheckFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking namespace %q file %s: %w", name, path, err)
	}
	switch rep.Status {
	case FileOK:
		return nil
	case FileTruncated:
		if s.cfg.RefuseTruncated {
			return fmt.Errorf("namespace %q: append-only file %s ends in the middle of a record at offset %d (%d bytes after the last whole record); "+
				"start with aof-load-truncated yes to load it up to offset %d, or run: durastore check-aof %s --fix",
				name, path, rep.BadOffset, rep.Lost(), rep.ValidEnd, path)
		}
	case FileDamaged:
		if !s.cfg.RepairDamaged {
			return fmt.Errorf("namespace %q: append-only file %s is damaged at offset %d: %s; "+
				"%d records before it are whole, %d records after it would be lost by cutting the file there (%d bytes): "+
				"run durastore check-aof %s --fix, or start with aof-load-damaged truncate",
				name, path, rep.BadOffset, rep.Problem, rep.Records, rep.After, rep.Lost(), path)
		}
	}
	saved, err := RepairFile(rep)
	if err != nil {
		return fmt.Errorf("namespace %q: repairing %s: %w", name, path, err)
	}
	if rep.Status == FileTruncated {
		s.log.Warn("append-only file ended in the middle of a record: loaded up to its last whole record",
			"namespace", name, "file", path, "offset", rep.ValidEnd, "bytes_cut", rep.Lost(), "records", rep.Records, "cut_bytes_saved_to", saved)
	} else {
		s.log.Error("append-only file was damaged: cut at the damage as aof-load-damaged truncate asks",
			"namespace", name, "file", path, "offset", rep.BadOffset, "problem", rep.Problem,
			"records_kept", rep.Records, "records_lost", rep.After, "bytes_cut", rep.Lost(), "cut_bytes_saved_to", saved)
	}
	return nil
}
