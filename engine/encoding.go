package engine

import "encoding/binary"

// Type is the kind of a stored value, as TYPE reports it.
type Type byte

// Value types. Only strings exist so far; the header has room for sixteen.
const (
	TypeString Type = 0
	TypeHash   Type = 1
	TypeList   Type = 2
	TypeSet    Type = 3
	TypeZSet   Type = 4
)

// String returns the name TYPE replies with.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeHash:
		return "hash"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	}
	return "none"
}

// The stored form of a value is one header byte, then, when the value has
// an expiry, its absolute time in Unix milliseconds as 8 little-endian
// bytes, then the payload. The low nibble of the header is the Type; bit 7
// says an expiry follows. buntdb's own TTL is never used: it keeps only
// seconds in its file and expires everything due in one locked sweep, so the
// exact expiry lives here and our own index drives active expiry.
const (
	hdrExpire   = 0x80
	hdrTypeMask = 0x0f
	expireLen   = 8
)

// Value is a decoded stored value.
type Value struct {
	Type Type
	// ExpireAt is the absolute expiry in Unix milliseconds, 0 for none.
	ExpireAt int64
	Data     string
}

// encodedLen is the size of v's stored form.
func encodedLen(v Value) int {
	n := 1 + len(v.Data)
	if v.ExpireAt != 0 {
		n += expireLen
	}
	return n
}

// appendEncoded appends v's stored form to dst.
func appendEncoded(dst []byte, v Value) []byte {
	h := byte(v.Type) & hdrTypeMask
	if v.ExpireAt != 0 {
		dst = append(dst, h|hdrExpire)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v.ExpireAt))
	} else {
		dst = append(dst, h)
	}
	return append(dst, v.Data...)
}

// decode parses a stored form. A malformed one (which only a damaged file
// can produce) decodes as an empty string without expiry.
func decode(s string) Value {
	if len(s) == 0 {
		return Value{}
	}
	h := s[0]
	v := Value{Type: Type(h & hdrTypeMask)}
	if h&hdrExpire != 0 {
		if len(s) < 1+expireLen {
			return Value{}
		}
		v.ExpireAt = int64(binary.LittleEndian.Uint64([]byte(s[1 : 1+expireLen])))
		v.Data = s[1+expireLen:]
		return v
	}
	v.Data = s[1:]
	return v
}

// decodeExpire returns only the expiry of a stored form.
func decodeExpire(s string) int64 {
	if len(s) < 1+expireLen || s[0]&hdrExpire == 0 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64([]byte(s[1 : 1+expireLen])))
}
