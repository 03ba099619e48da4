package commands

// The libraries Redis ships to scripts besides Lua's own: bit (LuaBitOp),
// cjson (lua-cjson), struct (Roberto Ierusalimschy's struct) and cmsgpack
// (lua-cmsgpack), written in Go over gopher-lua with the same functions,
// conversions and error messages where practical.

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// bit

func openBit(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"tobit": func(L *lua.LState) int { return pushBit(L, bitArg(L, 1)) },
		"bnot":  func(L *lua.LState) int { return pushBit(L, ^bitArg(L, 1)) },
		"band":  bitFold(func(a, b uint32) uint32 { return a & b }),
		"bor":   bitFold(func(a, b uint32) uint32 { return a | b }),
		"bxor":  bitFold(func(a, b uint32) uint32 { return a ^ b }),
		"lshift": func(L *lua.LState) int {
			return pushBit(L, bitArg(L, 1)<<(bitArg(L, 2)&31))
		},
		"rshift": func(L *lua.LState) int {
			return pushBit(L, bitArg(L, 1)>>(bitArg(L, 2)&31))
		},
		"arshift": func(L *lua.LState) int {
			return pushBit(L, uint32(int32(bitArg(L, 1))>>(bitArg(L, 2)&31)))
		},
		"rol": func(L *lua.LState) int {
			x, n := bitArg(L, 1), bitArg(L, 2)&31
			return pushBit(L, x<<n|x>>((32-n)&31))
		},
		"ror": func(L *lua.LState) int {
			x, n := bitArg(L, 1), bitArg(L, 2)&31
			return pushBit(L, x>>n|x<<((32-n)&31))
		},
		"bswap": func(L *lua.LState) int {
			x := bitArg(L, 1)
			return pushBit(L, x>>24|(x>>8)&0xff00|(x&0xff00)<<8|x<<24)
		},
		"tohex": func(L *lua.LState) int {
			x := bitArg(L, 1)
			n := int32(8)
			if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
				n = int32(bitArg(L, 2))
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n = -n
				digits = "0123456789ABCDEF"
			}
			if n > 8 {
				n = 8
			}
			buf := make([]byte, n)
			for i := n - 1; i >= 0; i-- {
				buf[i] = digits[x&15]
				x >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// bitArg reads argument i as LuaBitOp does: a number rounded and reduced
// modulo 2^32.
func bitArg(L *lua.LState, i int) uint32 {
	f := float64(L.CheckNumber(i))
	r := math.Mod(math.RoundToEven(f), 4294967296)
	if r < 0 {
		r += 4294967296
	}
	return uint32(r)
}

func pushBit(L *lua.LState, x uint32) int {
	L.Push(lua.LNumber(int32(x)))
	return 1
}

func bitFold(op func(a, b uint32) uint32) lua.LGFunction {
	return func(L *lua.LState) int {
		x := bitArg(L, 1)
		for i := 2; i <= L.GetTop(); i++ {
			x = op(x, bitArg(L, i))
		}
		return pushBit(L, x)
	}
}

// ---------------------------------------------------------------------------
// cjson

// cjsonNull is cjson.null, a light userdata in Redis.
var cjsonNullKey = "cjson.null"

func openCJSON(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	null := L.NewUserData()
	null.Value = &cjsonNullKey
	t.RawSetString("null", null)
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		var b strings.Builder
		if msg := cjsonEncode(&b, L.Get(1), 0); msg != "" {
			L.RaiseError("%s", msg)
		}
		L.Push(lua.LString(b.String()))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		s := L.CheckString(1)
		d := jsonDecoder{s: s, L: L, null: null}
		v := d.value(0)
		d.skipSpace()
		if d.err == "" && d.pos < len(d.s) {
			d.fail("the end")
		}
		if d.err != "" {
			L.RaiseError("%s", d.err)
		}
		L.Push(v)
		return 1
	}))
	// Configuration functions are accepted and keep the defaults.
	for _, name := range []string{"encode_keep_buffer", "encode_max_depth", "decode_max_depth",
		"encode_number_precision", "encode_sparse_array", "encode_invalid_numbers", "decode_invalid_numbers"} {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int { return 0 }))
	}
	return t
}

func cjsonEncode(b *strings.Builder, v lua.LValue, depth int) string {
	switch x := v.(type) {
	case *lua.LNilType:
		b.WriteString("null")
	case lua.LBool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "Cannot serialise number: must not be NaN or Inf"
		}
		b.WriteString(strconv.FormatFloat(f, 'g', 14, 64))
	case lua.LString:
		jsonQuote(b, string(x))
	case *lua.LUserData:
		if x.Value == &cjsonNullKey {
			b.WriteString("null")
			return ""
		}
		return "Cannot serialise userdata: type not supported"
	case *lua.LTable:
		if depth >= 1000 {
			return "Cannot serialise, excessive nesting (1001)"
		}
		n, isArray, msg := cjsonArrayLength(x)
		if msg != "" {
			return msg
		}
		if isArray {
			b.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				if m := cjsonEncode(b, x.RawGetInt(i), depth+1); m != "" {
					return m
				}
			}
			b.WriteByte(']')
			return ""
		}
		b.WriteByte('{')
		first := true
		var err string
		x.ForEach(func(k, val lua.LValue) {
			if err != "" {
				return
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			switch kk := k.(type) {
			case lua.LString:
				jsonQuote(b, string(kk))
			case lua.LNumber:
				b.WriteByte('"')
				b.WriteString(strconv.FormatFloat(float64(kk), 'g', 14, 64))
				b.WriteByte('"')
			default:
				err = "Cannot serialise " + k.Type().String() + ": table key must be a number or string"
				return
			}
			b.WriteByte(':')
			err = cjsonEncode(b, val, depth+1)
		})
		if err != "" {
			return err
		}
		b.WriteByte('}')
	default:
		return "Cannot serialise " + v.Type().String() + ": type not supported"
	}
	return ""
}

// cjsonArrayLength is lua-cjson's lua_array_length: a table whose keys
// are all positive integers is an array, unless excessively sparse.
func cjsonArrayLength(t *lua.LTable) (int, bool, string) {
	max, items := 0, 0
	isArray := true
	t.ForEach(func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) < 1 || float64(n) != math.Floor(float64(n)) {
			isArray = false
			return
		}
		if int(n) > max {
			max = int(n)
		}
		items++
	})
	if !isArray || items == 0 {
		return 0, false, ""
	}
	if max > 10 && max > items*2 {
		return 0, false, "Cannot serialise table: excessively sparse array"
	}
	return max, true, ""
}

func jsonQuote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

type jsonDecoder struct {
	s    string
	pos  int
	L    *lua.LState
	null lua.LValue
	err  string
}

func (d *jsonDecoder) fail(what string) {
	if d.err == "" {
		tok := "invalid token"
		if d.pos >= len(d.s) {
			tok = "T_END"
		}
		d.err = "Expected " + what + " but found " + tok + " at character " + strconv.Itoa(d.pos+1)
	}
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) lua.LValue {
	if d.err != "" {
		return lua.LNil
	}
	if depth > 1000 {
		d.err = "Found too many nested data structures (1001) at character " + strconv.Itoa(d.pos+1)
		return lua.LNil
	}
	d.skipSpace()
	if d.pos >= len(d.s) {
		d.fail("value")
		return lua.LNil
	}
	switch c := d.s[d.pos]; {
	case c == '{':
		d.pos++
		t := d.L.NewTable()
		d.skipSpace()
		if d.pos < len(d.s) && d.s[d.pos] == '}' {
			d.pos++
			return t
		}
		for {
			d.skipSpace()
			if d.pos >= len(d.s) || d.s[d.pos] != '"' {
				d.fail("object key string")
				return lua.LNil
			}
			k := d.str()
			d.skipSpace()
			if d.pos >= len(d.s) || d.s[d.pos] != ':' {
				d.fail("colon")
				return lua.LNil
			}
			d.pos++
			v := d.value(depth + 1)
			if d.err != "" {
				return lua.LNil
			}
			t.RawSetString(k, v)
			d.skipSpace()
			if d.pos < len(d.s) && d.s[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.pos < len(d.s) && d.s[d.pos] == '}' {
				d.pos++
				return t
			}
			d.fail("comma or object end")
			return lua.LNil
		}
	case c == '[':
		d.pos++
		t := d.L.NewTable()
		d.skipSpace()
		if d.pos < len(d.s) && d.s[d.pos] == ']' {
			d.pos++
			return t
		}
		for i := 1; ; i++ {
			v := d.value(depth + 1)
			if d.err != "" {
				return lua.LNil
			}
			t.RawSetInt(i, v)
			d.skipSpace()
			if d.pos < len(d.s) && d.s[d.pos] == ',' {
				d.pos++
				continue
			}
			if d.pos < len(d.s) && d.s[d.pos] == ']' {
				d.pos++
				return t
			}
			d.fail("comma or array end")
			return lua.LNil
		}
	case c == '"':
		s := d.str()
		if d.err != "" {
			return lua.LNil
		}
		return lua.LString(s)
	case c == '-' || c >= '0' && c <= '9':
		start := d.pos
		d.pos++
		for d.pos < len(d.s) && strings.IndexByte("0123456789.eE+-", d.s[d.pos]) >= 0 {
			d.pos++
		}
		f, err := strconv.ParseFloat(d.s[start:d.pos], 64)
		if err != nil {
			d.pos = start
			d.fail("value")
			return lua.LNil
		}
		return lua.LNumber(f)
	case strings.HasPrefix(d.s[d.pos:], "true"):
		d.pos += 4
		return lua.LTrue
	case strings.HasPrefix(d.s[d.pos:], "false"):
		d.pos += 5
		return lua.LFalse
	case strings.HasPrefix(d.s[d.pos:], "null"):
		d.pos += 4
		return d.null
	}
	d.fail("value")
	return lua.LNil
}

func (d *jsonDecoder) str() string {
	d.pos++ // opening quote
	var b strings.Builder
	for d.pos < len(d.s) {
		c := d.s[d.pos]
		switch {
		case c == '"':
			d.pos++
			return b.String()
		case c == '\\':
			if d.pos+1 >= len(d.s) {
				d.fail("string")
				return ""
			}
			e := d.s[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					d.fail("string")
					return ""
				}
				if r >= 0xd800 && r <= 0xdbff && strings.HasPrefix(d.s[d.pos:], `\u`) {
					d.pos += 2
					lo, ok := d.hex4()
					if !ok {
						d.fail("string")
						return ""
					}
					r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
				}
				var buf [4]byte
				n := utf8.EncodeRune(buf[:], rune(r))
				b.Write(buf[:n])
			default:
				d.pos -= 2
				d.fail("string")
				return ""
			}
		default:
			b.WriteByte(c)
			d.pos++
		}
	}
	d.fail("string")
	return ""
}

func (d *jsonDecoder) hex4() (int, bool) {
	if d.pos+4 > len(d.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(d.s[d.pos:d.pos+4], 16, 32)
	if err != nil {
		return 0, false
	}
	d.pos += 4
	return int(n), true
}

// ---------------------------------------------------------------------------
// struct

func openStruct(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

// structOpt is one item of a struct format.
type structOpt struct {
	c    byte
	size int
}

// structFormat walks a format string: endianness and alignment items
// update the state, the others are returned in order.
type structFormat struct {
	f      string
	i      int
	little bool
	align  int
}

func (sf *structFormat) number(def int) int {
	if sf.i >= len(sf.f) || sf.f[sf.i] < '0' || sf.f[sf.i] > '9' {
		return def
	}
	n := 0
	for sf.i < len(sf.f) && sf.f[sf.i] >= '0' && sf.f[sf.i] <= '9' {
		n = n*10 + int(sf.f[sf.i]-'0')
		sf.i++
	}
	return n
}

// next returns the next data item, or ok=false at the end.
func (sf *structFormat) next(L *lua.LState) (structOpt, bool) {
	for sf.i < len(sf.f) {
		c := sf.f[sf.i]
		sf.i++
		switch c {
		case ' ':
		case '>':
			sf.little = false
		case '<':
			sf.little = true
		case '=':
			sf.little = true
		case '!':
			sf.align = sf.number(8)
		case 'x', 'b', 'B':
			return structOpt{c, 1}, true
		case 'h', 'H':
			return structOpt{c, 2}, true
		case 'l', 'L', 'T':
			return structOpt{c, 8}, true
		case 'f':
			return structOpt{c, 4}, true
		case 'd':
			return structOpt{c, 8}, true
		case 's':
			return structOpt{c, 0}, true
		case 'c':
			return structOpt{c, sf.number(1)}, true
		case 'i', 'I':
			n := sf.number(4)
			if n < 1 || n > 8 {
				L.RaiseError("integral size %d is larger than limit of 8", n)
			}
			return structOpt{c, n}, true
		default:
			L.RaiseError("invalid format option '%c'", c)
		}
	}
	return structOpt{}, false
}

func (sf *structFormat) padding(pos, size int) int {
	a := size
	if a > sf.align {
		a = sf.align
	}
	if a <= 1 {
		return 0
	}
	return (a - pos%a) % a
}

func structPack(L *lua.LState) int {
	sf := structFormat{f: L.CheckString(1), align: 1, little: true}
	var out []byte
	arg := 2
	for {
		o, ok := sf.next(L)
		if !ok {
			break
		}
		if o.c != 's' && o.c != 'c' {
			for n := sf.padding(len(out), o.size); n > 0; n-- {
				out = append(out, 0)
			}
		}
		switch o.c {
		case 'x':
			out = append(out, 0)
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			f := float64(L.CheckNumber(arg))
			arg++
			v := uint64(int64(f))
			if f >= 0 && f > math.MaxInt64 {
				v = uint64(f)
			}
			buf := make([]byte, o.size)
			for i := 0; i < o.size; i++ {
				if sf.little {
					buf[i] = byte(v >> (8 * i))
				} else {
					buf[o.size-1-i] = byte(v >> (8 * i))
				}
			}
			out = append(out, buf...)
		case 'f':
			f := float32(L.CheckNumber(arg))
			arg++
			out = appendUint(out, uint64(math.Float32bits(f)), 4, sf.little)
		case 'd':
			f := float64(L.CheckNumber(arg))
			arg++
			out = appendUint(out, math.Float64bits(f), 8, sf.little)
		case 'c', 's':
			s := L.CheckString(arg)
			arg++
			if o.c == 'c' {
				n := o.size
				if n == 0 {
					n = len(s)
				}
				if len(s) < n {
					L.ArgError(arg-1, "string too short")
				}
				out = append(out, s[:n]...)
			} else {
				out = append(out, s...)
				out = append(out, 0)
			}
		}
	}
	L.Push(lua.LString(out))
	return 1
}

func appendUint(out []byte, v uint64, size int, little bool) []byte {
	buf := make([]byte, 8)
	if little {
		binary.LittleEndian.PutUint64(buf, v)
		return append(out, buf[:size]...)
	}
	binary.BigEndian.PutUint64(buf, v)
	return append(out, buf[8-size:]...)
}

func structUnpack(L *lua.LState) int {
	sf := structFormat{f: L.CheckString(1), align: 1, little: true}
	data := L.CheckString(2)
	pos := L.OptInt(3, 1) - 1
	if pos < 0 || pos > len(data) {
		L.ArgError(3, "offset out of range")
	}
	n := 0
	var last float64
	for {
		o, ok := sf.next(L)
		if !ok {
			break
		}
		if o.c != 's' && o.c != 'c' {
			pos += sf.padding(pos, o.size)
		}
		need := o.size
		if o.c == 'c' && o.size == 0 {
			need = int(last)
		}
		if o.c != 's' && pos+need > len(data) {
			L.ArgError(2, "data string too short")
		}
		switch o.c {
		case 'x':
			pos++
			continue
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			var v uint64
			for i := 0; i < o.size; i++ {
				var bt byte
				if sf.little {
					bt = data[pos+i]
				} else {
					bt = data[pos+o.size-1-i]
				}
				v |= uint64(bt) << (8 * i)
			}
			var f float64
			if o.c == 'b' || o.c == 'h' || o.c == 'l' || o.c == 'i' {
				shift := uint(64 - 8*o.size)
				f = float64(int64(v<<shift) >> shift)
			} else {
				f = float64(v)
			}
			last = f
			L.Push(lua.LNumber(f))
			pos += o.size
		case 'f':
			var v uint32
			if sf.little {
				v = binary.LittleEndian.Uint32([]byte(data[pos : pos+4]))
			} else {
				v = binary.BigEndian.Uint32([]byte(data[pos : pos+4]))
			}
			L.Push(lua.LNumber(math.Float32frombits(v)))
			pos += 4
		case 'd':
			var v uint64
			if sf.little {
				v = binary.LittleEndian.Uint64([]byte(data[pos : pos+8]))
			} else {
				v = binary.BigEndian.Uint64([]byte(data[pos : pos+8]))
			}
			L.Push(lua.LNumber(math.Float64frombits(v)))
			pos += 8
		case 'c':
			L.Push(lua.LString(data[pos : pos+need]))
			pos += need
		case 's':
			end := strings.IndexByte(data[pos:], 0)
			if end < 0 {
				L.ArgError(2, "unfinished string in data")
			}
			L.Push(lua.LString(data[pos : pos+end]))
			pos += end + 1
		}
		n++
	}
	L.Push(lua.LNumber(pos + 1))
	return n + 1
}

func structSize(L *lua.LState) int {
	sf := structFormat{f: L.CheckString(1), align: 1, little: true}
	pos := 0
	for {
		o, ok := sf.next(L)
		if !ok {
			break
		}
		if o.c == 's' || o.c == 'c' && o.size == 0 {
			L.ArgError(1, "options 'c0' - 's' have undefined sizes")
		}
		pos += sf.padding(pos, o.size) + o.size
	}
	L.Push(lua.LNumber(pos))
	return 1
}

// ---------------------------------------------------------------------------
// cmsgpack

const msgpackMaxNesting = 16

func openCMsgpack(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		if n == 0 {
			L.ArgError(0, "MessagePack pack needs input.")
		}
		var out []byte
		for i := 1; i <= n; i++ {
			out = msgpackEncode(out, L.Get(i), 0)
		}
		L.Push(lua.LString(out))
		return 1
	}))
	unpack := func(L *lua.LState, s string, offset, limit int) int {
		d := msgpackDecoder{s: s, pos: offset, L: L}
		n := 0
		for d.pos < len(s) && (limit <= 0 || n < limit) {
			v := d.value(0)
			if d.err != "" {
				L.RaiseError("%s", d.err)
			}
			L.Push(v)
			n++
		}
		return n
	}
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int {
		return unpack(L, L.CheckString(1), 0, 0)
	}))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		off := L.OptInt(2, 0)
		top := L.GetTop()
		n := unpack(L, s, off, 1)
		next := -1
		if n > 0 {
			// The decoder's end is recomputed by decoding again cheaply.
			d := msgpackDecoder{s: s, pos: off, L: L}
			d.value(0)
			if d.pos < len(s) {
				next = d.pos
			}
		}
		L.Insert(lua.LNumber(next), top+1)
		return n + 1
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		limit := L.CheckInt(2)
		off := L.OptInt(3, 0)
		top := L.GetTop()
		d := msgpackDecoder{s: s, pos: off, L: L}
		n := 0
		for d.pos < len(s) && (limit <= 0 || n < limit) {
			v := d.value(0)
			if d.err != "" {
				L.RaiseError("%s", d.err)
			}
			L.Push(v)
			n++
		}
		next := -1
		if d.pos < len(s) {
			next = d.pos
		}
		L.Insert(lua.LNumber(next), top+1)
		return n + 1
	}))
	return t
}

func msgpackEncode(out []byte, v lua.LValue, depth int) []byte {
	switch x := v.(type) {
	case lua.LBool:
		if x {
			return append(out, 0xc3)
		}
		return append(out, 0xc2)
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && !math.IsInf(f, 0) && f >= -9.223372036854775808e18 && f < 1.8446744073709551616e19 {
			if f >= 0 {
				return msgpackUint(out, uint64(f))
			}
			return msgpackInt(out, int64(f))
		}
		if float64(float32(f)) == f || math.IsNaN(f) {
			out = append(out, 0xca)
			return binary.BigEndian.AppendUint32(out, math.Float32bits(float32(f)))
		}
		out = append(out, 0xcb)
		return binary.BigEndian.AppendUint64(out, math.Float64bits(f))
	case lua.LString:
		n := len(x)
		switch {
		case n < 32:
			out = append(out, 0xa0|byte(n))
		case n <= 0xff:
			out = append(out, 0xd9, byte(n))
		case n <= 0xffff:
			out = append(out, 0xda)
			out = binary.BigEndian.AppendUint16(out, uint16(n))
		default:
			out = append(out, 0xdb)
			out = binary.BigEndian.AppendUint32(out, uint32(n))
		}
		return append(out, x...)
	case *lua.LTable:
		if depth >= msgpackMaxNesting {
			return append(out, 0xc0)
		}
		if n, ok := msgpackArrayLen(x); ok {
			out = msgpackHeader(out, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				out = msgpackEncode(out, x.RawGetInt(i), depth+1)
			}
			return out
		}
		n := 0
		x.ForEach(func(_, _ lua.LValue) { n++ })
		out = msgpackHeader(out, n, 0x80, 0xde, 0xdf)
		x.ForEach(func(k, val lua.LValue) {
			out = msgpackEncode(out, k, depth+1)
			out = msgpackEncode(out, val, depth+1)
		})
		return out
	}
	return append(out, 0xc0)
}

func msgpackHeader(out []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n < 16:
		return append(out, fix|byte(n))
	case n <= 0xffff:
		out = append(out, b16)
		return binary.BigEndian.AppendUint16(out, uint16(n))
	}
	out = append(out, b32)
	return binary.BigEndian.AppendUint32(out, uint32(n))
}

// msgpackArrayLen is lua-cmsgpack's table_is_an_array: keys exactly 1..n.
func msgpackArrayLen(t *lua.LTable) (int, bool) {
	count, max := 0, 0
	ok := true
	t.ForEach(func(k, _ lua.LValue) {
		n, isNum := k.(lua.LNumber)
		if !isNum || float64(n) < 1 || float64(n) != math.Floor(float64(n)) {
			ok = false
			return
		}
		count++
		if int(n) > max {
			max = int(n)
		}
	})
	return max, ok && max == count
}

func msgpackUint(out []byte, v uint64) []byte {
	switch {
	case v < 128:
		return append(out, byte(v))
	case v <= 0xff:
		return append(out, 0xcc, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(out, 0xcd), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(out, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(out, 0xcf), v)
}

func msgpackInt(out []byte, v int64) []byte {
	switch {
	case v >= -32:
		return append(out, byte(int8(v)))
	case v >= math.MinInt8:
		return append(out, 0xd0, byte(int8(v)))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(out, 0xd1), uint16(int16(v)))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(out, 0xd2), uint32(int32(v)))
	}
	return binary.BigEndian.AppendUint64(append(out, 0xd3), uint64(v))
}

type msgpackDecoder struct {
	s   string
	pos int
	L   *lua.LState
	err string
}

func (d *msgpackDecoder) take(n int) string {
	if d.err != "" {
		return ""
	}
	if n < 0 || d.pos+n > len(d.s) {
		d.err = "Missing bytes in input."
		return ""
	}
	s := d.s[d.pos : d.pos+n]
	d.pos += n
	return s
}

func (d *msgpackDecoder) uint(n int) uint64 {
	b := d.take(n)
	var v uint64
	for i := 0; i < len(b); i++ {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func (d *msgpackDecoder) value(depth int) lua.LValue {
	if d.err != "" {
		return lua.LNil
	}
	if depth > 1000 {
		d.err = "Bad data format in input."
		return lua.LNil
	}
	c := d.take(1)
	if d.err != "" {
		return lua.LNil
	}
	b := c[0]
	switch {
	case b < 0x80:
		return lua.LNumber(b)
	case b >= 0xe0:
		return lua.LNumber(int8(b))
	case b&0xe0 == 0xa0:
		return lua.LString(d.take(int(b & 0x1f)))
	case b&0xf0 == 0x90:
		return d.array(int(b&0x0f), depth)
	case b&0xf0 == 0x80:
		return d.mapOf(int(b&0x0f), depth)
	}
	switch b {
	case 0xc0:
		return lua.LNil
	case 0xc2:
		return lua.LFalse
	case 0xc3:
		return lua.LTrue
	case 0xca:
		return lua.LNumber(math.Float32frombits(uint32(d.uint(4))))
	case 0xcb:
		return lua.LNumber(math.Float64frombits(d.uint(8)))
	case 0xcc:
		return lua.LNumber(d.uint(1))
	case 0xcd:
		return lua.LNumber(d.uint(2))
	case 0xce:
		return lua.LNumber(d.uint(4))
	case 0xcf:
		return lua.LNumber(float64(d.uint(8)))
	case 0xd0:
		return lua.LNumber(int8(d.uint(1)))
	case 0xd1:
		return lua.LNumber(int16(d.uint(2)))
	case 0xd2:
		return lua.LNumber(int32(d.uint(4)))
	case 0xd3:
		return lua.LNumber(float64(int64(d.uint(8))))
	case 0xc4, 0xd9:
		return lua.LString(d.take(int(d.uint(1))))
	case 0xc5, 0xda:
		return lua.LString(d.take(int(d.uint(2))))
	case 0xc6, 0xdb:
		return lua.LString(d.take(int(d.uint(4))))
	case 0xdc:
		return d.array(int(d.uint(2)), depth)
	case 0xdd:
		return d.array(int(d.uint(4)), depth)
	case 0xde:
		return d.mapOf(int(d.uint(2)), depth)
	case 0xdf:
		return d.mapOf(int(d.uint(4)), depth)
	}
	d.err = "Bad data format in input."
	return lua.LNil
}

func (d *msgpackDecoder) array(n int, depth int) lua.LValue {
	if n > len(d.s)-d.pos {
		d.err = "Missing bytes in input."
		return lua.LNil
	}
	t := d.L.CreateTable(n, 0)
	for i := 1; i <= n && d.err == ""; i++ {
		t.RawSetInt(i, d.value(depth+1))
	}
	return t
}

func (d *msgpackDecoder) mapOf(n int, depth int) lua.LValue {
	if n > len(d.s)-d.pos {
		d.err = "Missing bytes in input."
		return lua.LNil
	}
	t := d.L.NewTable()
	for i := 0; i < n && d.err == ""; i++ {
		k := d.value(depth + 1)
		v := d.value(depth + 1)
		if k != lua.LNil {
			t.RawSet(k, v)
		}
	}
	return t
}
