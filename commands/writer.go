package commands

import (
	"math"
	"strconv"
)

// Writer builds replies in RESP2 or RESP3 by appending to a buffer that
// the server then sends. Handlers write through it, so the same handler
// serves both protocols: Null, Map, Set, Double and Bool pick the encoding
// of the connection's protocol version.
type Writer struct {
	B    []byte
	RESP int // 2 or 3
}

// Simple writes a status reply: +OK.
func (w *Writer) Simple(s string) {
	w.B = append(w.B, '+')
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// OK writes +OK.
func (w *Writer) OK() { w.B = append(w.B, "+OK\r\n"...) }

// Error writes an error reply. msg must start with its code (ERR,
// WRONGTYPE...); newlines are replaced so the reply stays one line.
func (w *Writer) Error(msg string) {
	w.B = append(w.B, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		w.B = append(w.B, c)
	}
	w.B = append(w.B, '\r', '\n')
}

// Int writes an integer reply.
func (w *Writer) Int(n int64) {
	w.B = append(w.B, ':')
	w.B = strconv.AppendInt(w.B, n, 10)
	w.B = append(w.B, '\r', '\n')
}

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.B = append(w.B, '$')
	w.B = strconv.AppendInt(w.B, int64(len(b)), 10)
	w.B = append(w.B, '\r', '\n')
	w.B = append(w.B, b...)
	w.B = append(w.B, '\r', '\n')
}

// BulkString writes a bulk string.
func (w *Writer) BulkString(s string) {
	w.B = append(w.B, '$')
	w.B = strconv.AppendInt(w.B, int64(len(s)), 10)
	w.B = append(w.B, '\r', '\n')
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// Null writes a null bulk string ($-1 in RESP2, _ in RESP3).
func (w *Writer) Null() {
	if w.RESP == 3 {
		w.B = append(w.B, "_\r\n"...)
	} else {
		w.B = append(w.B, "$-1\r\n"...)
	}
}

// NullArray writes a null array (*-1 in RESP2, _ in RESP3).
func (w *Writer) NullArray() {
	if w.RESP == 3 {
		w.B = append(w.B, "_\r\n"...)
	} else {
		w.B = append(w.B, "*-1\r\n"...)
	}
}

func (w *Writer) header(c byte, n int) {
	w.B = append(w.B, c)
	w.B = strconv.AppendInt(w.B, int64(n), 10)
	w.B = append(w.B, '\r', '\n')
}

// Array starts an array of n elements.
func (w *Writer) Array(n int) { w.header('*', n) }

// Map starts a map of n pairs (a flat array of 2n in RESP2).
func (w *Writer) Map(n int) {
	if w.RESP == 3 {
		w.header('%', n)
	} else {
		w.header('*', 2*n)
	}
}

// Set starts a set of n elements (an array in RESP2).
func (w *Writer) Set(n int) {
	if w.RESP == 3 {
		w.header('~', n)
	} else {
		w.header('*', n)
	}
}

// Push starts an out-of-band push message (an array in RESP2).
func (w *Writer) Push(n int) {
	if w.RESP == 3 {
		w.header('>', n)
	} else {
		w.header('*', n)
	}
}

// Double writes a double: a RESP3 double, or a bulk string in RESP2.
func (w *Writer) Double(f float64) {
	s := FormatFloat(f)
	if w.RESP == 3 {
		w.B = append(w.B, ',')
		switch {
		case math.IsInf(f, 1):
			s = "inf"
		case math.IsInf(f, -1):
			s = "-inf"
		}
		w.B = append(w.B, s...)
		w.B = append(w.B, '\r', '\n')
		return
	}
	w.BulkString(s)
}

// Bool writes a RESP3 boolean, or the integer 1 or 0 in RESP2.
func (w *Writer) Bool(b bool) {
	if w.RESP == 3 {
		if b {
			w.B = append(w.B, "#t\r\n"...)
		} else {
			w.B = append(w.B, "#f\r\n"...)
		}
		return
	}
	if b {
		w.Int(1)
	} else {
		w.Int(0)
	}
}

// Verbatim writes a RESP3 verbatim string of format "txt", or a bulk
// string in RESP2.
func (w *Writer) Verbatim(s string) {
	if w.RESP == 3 {
		w.B = append(w.B, '=')
		w.B = strconv.AppendInt(w.B, int64(len(s)+4), 10)
		w.B = append(w.B, "\r\ntxt:"...)
		w.B = append(w.B, s...)
		w.B = append(w.B, '\r', '\n')
		return
	}
	w.BulkString(s)
}

// StringArray writes an array of bulk strings.
func (w *Writer) StringArray(ss []string) {
	w.Array(len(ss))
	for _, s := range ss {
		w.BulkString(s)
	}
}
