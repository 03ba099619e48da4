package commands

// Redis 7.0's number parsing and formatting (src/util.c string2ll,
// string2d, string2ld, ld2string; src/networking.c addReplyDouble), to the
// byte.
//
// INCRBYFLOAT and HINCRBYFLOAT compute in C long double, which on x86-64
// is the x87 80-bit format: a 64-bit significand, exponents down to
// 2^-16382 (subnormals to 2^-16445) and up to 2^16383. Go has no such
// type, so IncrByFloat emulates it exactly with math/big: strtold's
// correctly rounded parse, a correctly rounded 64-bit-significand
// addition, and printf("%.17Lf") (an exact decimal expansion rounded half
// to even). This reproduces Redis's digits, including its long double
// noise ("1000" + "0.1" gives "1000.09999999999999998") and the exact
// expansion of huge values ("1e300" prints 301 digits that are not all
// zeros).

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// errIncrNaNOrInf is Redis's INCRBYFLOAT/HINCRBYFLOAT error when the sum is
// not finite.
const errIncrNaNOrInf = "ERR increment would produce NaN or Infinity"

// ParseInt is Redis's string2ll: an optional '-', then "0" or a digit
// 1-9 followed by digits, fitting in an int64, at most 20 bytes. No '+',
// no spaces, no leading zeros, and "-0" is rejected.
func ParseInt(b []byte) (int64, bool) {
	n := len(b)
	if n == 0 || n >= 21 { // LONG_STR_SIZE
		return 0, false
	}
	if n == 1 && b[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '-' {
		neg, i = true, 1
		if i == n {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	v := uint64(b[i] - '0')
	for i++; i < n; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// cnum is a number as C's strtod/strtold grammar reads it.
type cnum struct {
	neg, inf, nan, hex bool
	hasExp             bool
	mant               string // mantissa digits, the point removed
	frac               int    // how many of them follow the point
	exp                int64  // explicit exponent (base 10, or 2 for hex), saturated
}

const expLimit = 1 << 40 // saturation for absurd exponents

// scanCNum reports whether the whole of b is one number in C's
// strtod/strtold syntax (C locale): an optional sign, then a decimal
// number with optional e exponent, a hex number 0x... with optional p
// exponent, INF, INFINITY or NAN[(chars)] (case-insensitive). Redis accepts
// a string only if strtod consumes all of it and it does not start with a
// space, so anything else, such as surrounding spaces, is rejected here.
func scanCNum(b []byte) (cnum, bool) {
	var r cnum
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		r.neg = b[i] == '-'
		i++
	}
	rest := asciiLower(b[i:])
	switch {
	case rest == "inf" || rest == "infinity":
		r.inf = true
		return r, true
	case rest == "nan":
		r.nan = true
		return r, true
	case strings.HasPrefix(rest, "nan(") && strings.HasSuffix(rest, ")"):
		for _, c := range rest[4 : len(rest)-1] {
			if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
				return r, false
			}
		}
		r.nan = true
		return r, true
	}
	isDec := func(c byte) bool { return c >= '0' && c <= '9' }
	isDigit := isDec
	if len(rest) >= 3 && rest[0] == '0' && rest[1] == 'x' {
		// isDec, not isDigit: isDigit becomes isHex below, which must not call itself.
		isHex := func(c byte) bool { return isDec(c) || c >= 'a' && c <= 'f' }
		if isHex(rest[2]) || len(rest) >= 4 && rest[2] == '.' && isHex(rest[3]) {
			r.hex = true
			rest = rest[2:]
			isDigit = isHex
		}
	}
	var mant strings.Builder
	j, seen, dot := 0, false, false
	for ; j < len(rest); j++ {
		c := rest[j]
		if isDigit(c) {
			mant.WriteByte(c)
			seen = true
			if dot {
				r.frac++
			}
		} else if c == '.' && !dot {
			dot = true
		} else {
			break
		}
	}
	if !seen {
		return r, false
	}
	r.mant = mant.String()
	if j == len(rest) {
		return r, true
	}
	if e := rest[j]; !r.hex && e != 'e' || r.hex && e != 'p' {
		return r, false
	}
	j++
	eneg := false
	if j < len(rest) && (rest[j] == '+' || rest[j] == '-') {
		eneg = rest[j] == '-'
		j++
	}
	if j == len(rest) {
		return r, false
	}
	for ; j < len(rest); j++ {
		c := rest[j]
		if c < '0' || c > '9' {
			return r, false
		}
		if r.exp < expLimit {
			r.exp = r.exp*10 + int64(c-'0')
		}
	}
	if eneg {
		r.exp = -r.exp
	}
	r.hasExp = true
	return r, true
}

// asciiLower lowers ASCII letters only, as C's tolower does in the "C"
// locale (strings.ToLower would turn some non-ASCII letters into ASCII ones).
func asciiLower(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

// nonZero reports whether a mantissa has a non-zero digit.
func nonZero(mant string) bool {
	return strings.Trim(mant, "0") != ""
}

// ParseFloat is Redis's string2d, used for float arguments (ZADD scores,
// INCRBYFLOAT's double-typed cousins...): the whole of b must be a strtod
// number (decimal, hex, "inf"/"infinity" in any case, with an optional
// sign), with no leading or trailing space. NaN is rejected, and so are
// values that overflow a double (1e400) or underflow to zero (1e-400);
// subnormals (1e-310) and an explicit "inf" are accepted.
//
// INCRBYFLOAT itself parses with string2ld, which differs only in range:
// long double accepts 1e400 and 1e-400 (and rejects inputs of 5120 bytes
// or more). IncrByFloat implements that exactly.
func ParseFloat(b []byte) (float64, bool) {
	n, ok := scanCNum(b)
	if !ok || n.nan {
		return 0, false
	}
	if n.inf {
		if n.neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	s := string(b)
	if n.hex && !n.hasExp {
		s += "p0" // Go wants the binary exponent that C makes optional
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	if math.IsInf(f, 0) || f == 0 && nonZero(n.mant) {
		return 0, false // ERANGE: overflow, or underflow to zero
	}
	return f, true
}

// FormatFloat formats a double reply as Redis 7.0's addReplyDouble does:
// printf("%.17g"), so 0.1 is "0.10000000000000001" and 1e17 is "1e+17"
// (shortest round-trip output only arrived in Redis 7.2), with "inf",
// "-inf", and "-0" for negative zero. NaN, which Redis never stores, gives
// "nan".
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// FormatIncrFloat formats an INCRBYFLOAT/HINCRBYFLOAT result computed in
// float64 the way Redis prints its long double result (ld2string with
// LD_STR_HUMAN: "%.17Lf", trailing zeros and point removed, "-0" -> "0").
//
// A float64 is not the long double Redis holds, so f is taken to stand
// for its shortest round-trip decimal (what the user typed, for sums of
// short decimals), that decimal is rounded to long double as Redis would
// have computed it, and printed like ld2string. This matches Redis for
// the values users see: 10.5+0.1 -> "10.6", 5.0e3+2.0e2 -> "5200",
// 1000.1 -> "1000.09999999999999998", 1e300 -> Redis's 301-digit
// expansion, 1e-20 -> "0". It cannot match when float64 arithmetic has
// already drifted from the decimal result: 0.1+0.2 is
// 0.30000000000000004 in float64 and prints so, while Redis's long
// double sum prints "0.3". Callers implementing INCRBYFLOAT should use
// IncrByFloat, which is exact.
func FormatIncrFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	n, _ := scanCNum([]byte(strconv.FormatFloat(f, 'e', -1, 64)))
	v, _ := n.longDouble()
	return formatLongDouble(v)
}

// IncrByFloat performs Redis's INCRBYFLOAT/HINCRBYFLOAT arithmetic on the
// stored value cur (ignored, and taken as 0, when !exists) and the
// increment incr, both parsed with string2ld, added in emulated x87 long
// double and formatted with ld2string(LD_STR_HUMAN). It returns the new
// value to store and reply, or an error reply: ErrNotFloat for an
// unparsable value or increment, "ERR increment would produce NaN or
// Infinity" when the sum is not finite (an "inf" operand included).
func IncrByFloat(cur []byte, exists bool, incr []byte) (string, string) {
	var v *big.Float
	vinf := false
	if exists {
		x, ok := parseLongDouble(cur)
		if !ok {
			return "", ErrNotFloat
		}
		v, vinf = x.f, x.inf
	} else {
		v = new(big.Float).SetPrec(ldPrec)
	}
	d, ok := parseLongDouble(incr)
	if !ok {
		return "", ErrNotFloat
	}
	if vinf || d.inf {
		return "", errIncrNaNOrInf
	}
	sum := new(big.Float).SetPrec(ldPrec).Add(v, d.f)
	if ldOverflows(sum) {
		return "", errIncrNaNOrInf
	}
	return formatLongDouble(sum), ""
}

// x87 extended precision parameters.
const (
	ldPrec    = 64     // significand bits
	ldMaxExp  = 16384  // |x| < 2^16384 (big.Float exponent, mantissa in [0.5,1))
	ldMinNorm = -16382 // smallest normal is 2^-16382
	ldMinSub  = -16445 // smallest subnormal is 2^-16445
	ldMaxLen  = 5 * 1024
)

type longDouble struct {
	f   *big.Float // finite value, precision ldPrec
	inf bool       // ±infinity (sign in neg)
	neg bool
}

// parseLongDouble is Redis's string2ld: strtold must consume the whole of
// b (shorter than MAX_LONG_DOUBLE_CHARS), which must not start with a
// space; NaN, overflow and underflow to zero are rejected.
func parseLongDouble(b []byte) (longDouble, bool) {
	if len(b) == 0 || len(b) >= ldMaxLen {
		return longDouble{}, false
	}
	n, ok := scanCNum(b)
	if !ok || n.nan {
		return longDouble{}, false
	}
	if n.inf {
		return longDouble{inf: true, neg: n.neg}, true
	}
	v, ok := n.longDouble()
	return longDouble{f: v}, ok
}

// longDouble rounds the number to long double as glibc's strtold does
// (correctly, to nearest even, with subnormals). ok is false on overflow
// or underflow to zero, where strtold sets ERANGE.
func (n cnum) longDouble() (*big.Float, bool) {
	z := new(big.Float).SetPrec(ldPrec)
	if !nonZero(n.mant) {
		if n.neg {
			z.Neg(z)
		}
		return z, true
	}
	base := 10
	if n.hex {
		base = 16
	}
	m, _ := new(big.Int).SetString(strings.TrimLeft(n.mant, "0"), base)
	// value = m * 10^e10, or m * 2^e2 for hex.
	num, den := m, big.NewInt(1)
	if n.hex {
		e2 := n.exp - 4*int64(n.frac)
		lg := int64(m.BitLen()) + e2 // value in [2^(lg-1), 2^lg)
		if lg > ldMaxExp+1 {
			return nil, false
		}
		if lg < ldMinSub-1 {
			return nil, false
		}
		if e2 >= 0 {
			num = new(big.Int).Lsh(m, uint(e2))
		} else {
			den = new(big.Int).Lsh(den, uint(-e2))
		}
	} else {
		digits := int64(len(strings.TrimLeft(n.mant, "0")))
		e10 := n.exp - int64(n.frac)
		lg := digits + e10 // value in [10^(lg-1), 10^lg)
		if lg-1 > 4933 {   // > 1.19e4932: overflow
			return nil, false
		}
		if lg < -4951 { // < 1.8e-4951, half the smallest subnormal
			return nil, false
		}
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(abs64(e10)), nil)
		if e10 >= 0 {
			num = new(big.Int).Mul(m, p)
		} else {
			den = p
		}
	}
	if !roundLongDouble(z, num, den) {
		return nil, false
	}
	if n.neg {
		z.Neg(z)
	}
	return z, true
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// roundLongDouble sets z to num/den (> 0) rounded to long double. It
// reports false on overflow or underflow to zero.
func roundLongDouble(z *big.Float, num, den *big.Int) bool {
	// Subnormal range: num/den < 2^ldMinNorm, rounded to a multiple of
	// 2^ldMinSub.
	if new(big.Int).Lsh(num, -ldMinNorm).Cmp(den) < 0 {
		q, r := new(big.Int).QuoRem(new(big.Int).Lsh(num, -ldMinSub), den, new(big.Int))
		switch c := new(big.Int).Lsh(r, 1).Cmp(den); {
		case c > 0, c == 0 && q.Bit(0) == 1:
			q.Add(q, big.NewInt(1))
		}
		if q.Sign() == 0 {
			return false
		}
		z.SetInt(q)
		z.SetMantExp(z, ldMinSub)
		return true
	}
	a := new(big.Float).SetInt(num) // exact: precision grows to fit
	b := new(big.Float).SetInt(den)
	z.Quo(a, b) // correctly rounded to ldPrec bits, nearest even
	return !ldOverflows(z)
}

// ldOverflows reports whether a value rounded to ldPrec bits is beyond the
// long double range.
func ldOverflows(z *big.Float) bool {
	return z.MantExp(nil) > ldMaxExp
}

// formatLongDouble is ld2string(LD_STR_HUMAN) for a finite value:
// "%.17Lf", then trailing zeros and a trailing point are removed, and "-0"
// becomes "0".
func formatLongDouble(z *big.Float) string {
	s := z.Text('f', 17) // exact expansion, rounded half to even like glibc
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
