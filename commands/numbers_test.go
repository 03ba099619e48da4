package commands

import (
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// The expected values in this file were taken from redis-server 7.0.15
// (INCRBYFLOAT, ZADD + ZSCORE with a skiplist-encoded zset, INCRBY), run
// against the same inputs.

// incrByFloatCases: SET k cur (when exists), INCRBYFLOAT k incr. Errors
// start with '-'.
var incrByFloatCases = []struct {
	cur    string
	exists bool
	incr   string
	want   string
}{
	{"10.50", true, "0.1", "10.6"},
	{"10.6", true, "-5", "5.6"},
	{"5.0e3", true, "2.0e2", "5200"},
	{"3.0", true, "1.1", "4.1"},
	{"1.1", true, "-1.1", "0"},
	{"", false, "1e300", "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"},
	{"1000", true, "0.1", "1000.09999999999999998"},
	{"0.1", true, "0.2", "0.3"},
	{"", false, "1e-20", "0"},
	{"0", true, "-0.000000000000000001", "0"},
	{"", false, "inf", "-ERR increment would produce NaN or Infinity"},
	{"inf", true, "1", "-ERR increment would produce NaN or Infinity"},
	{"abc", true, "1", "-ERR value is not a valid float"},
	{"1", true, " 1", "-ERR value is not a valid float"},
	{"1", true, "1 ", "-ERR value is not a valid float"},
	{"1", true, "", "-ERR value is not a valid float"},
	{"", true, "1", "-ERR value is not a valid float"},
	{"0x10", true, "0x1.8", "17.5"},
	{"1e4932", true, "1e4932", "-ERR increment would produce NaN or Infinity"},
	{"1", true, "nan", "-ERR value is not a valid float"},
	{"1", true, "1e-5000", "-ERR value is not a valid float"},
	{"1", true, "1e-400", "1"},
	{"9223372036854775807", true, "1", "9223372036854775808"},
	{"1.5", true, "+1", "2.5"},
	{"-0", true, "-0", "0"},
	{"", false, "-0", "0"},
	{"", false, "123456789.123456789", "123456789.12345678899873747"},
	{"2.5", true, "1e17", "100000000000000002.5"},
	{"1", true, "0.000000000000000005", "1"},
	{"", false, "0x1p-18", "0.00000381469726562"},
	{"", false, "0.1", "0.1"},
	{"", false, "-0.1", "-0.1"},
	{"100", true, "0.01", "100.01"},
	{"-262.3", true, "0.150", "-262.14999999999999999"},
	{"10774", true, "0.011", "10774.01100000000000012"},
	{"", false, "1.7976931348623157e308", "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384"},
	{"1", true, "INFINITY", "-ERR increment would produce NaN or Infinity"},
	{"", false, "0x1p16384", "-ERR value is not a valid float"},
	{"", false, "1e-4950", "0"},
	{"1", true, "1e", "-ERR value is not a valid float"},
	{"1", true, "1_0", "-ERR value is not a valid float"},
	{"1", true, "\u0130nf", "-ERR value is not a valid float"},
	{"", false, "3.14159265358979323846264338327950288", "3.14159265358979324"},
	{"0.5", true, "0.25", "0.75"},
	{"-5", true, "3", "-2"},
	{"1e16", true, "0.5", "10000000000000000.5"},
	{"12345678901234567890", true, "1", "12345678901234567891"},
}

func TestIncrByFloat(t *testing.T) {
	for _, c := range incrByFloatCases {
		got, errMsg := IncrByFloat([]byte(c.cur), c.exists, []byte(c.incr))
		if errMsg != "" {
			got = "-" + errMsg
		}
		if got != c.want {
			t.Errorf("IncrByFloat(%q, %v, %q) = %q, want %q", c.cur, c.exists, c.incr, got, c.want)
		}
	}
}

// TestIncrByFloatLong covers results too long for the table (also from
// redis-server 7.0.15: length, first and last digits) and the 5120-byte
// argument limit of string2ld.
func TestIncrByFloatLong(t *testing.T) {
	for _, c := range []struct {
		cur    string
		exists bool
		incr   string
		n      int
		head   string
		tail   string
	}{
		{"", false, "1e400", 401, "1000000000000000000028188068394758651458", "43732497430221946880"},
		{"", false, "0x1p16383", 4932, "5948657476786158825428796633140035653817", "23513645334982033408"},
		{"-1.18e4932", true, "0", 4934, "-118000000000000000000065281291809369920", "12585853888628785152"},
	} {
		got, errMsg := IncrByFloat([]byte(c.cur), c.exists, []byte(c.incr))
		if errMsg != "" || len(got) != c.n || !strings.HasPrefix(got, c.head) || !strings.HasSuffix(got, c.tail) {
			t.Errorf("IncrByFloat(%q, %v, %q) = %.50q... (%d bytes), %q", c.cur, c.exists, c.incr, got, len(got), errMsg)
		}
	}
	one := "1." + strings.Repeat("0", 5117) // 5119 bytes: accepted
	if got, errMsg := IncrByFloat([]byte("1"), true, []byte(one)); got != "2" || errMsg != "" {
		t.Errorf("5119-byte increment: %q %q", got, errMsg)
	}
	if _, errMsg := IncrByFloat([]byte("1"), true, []byte(one+"0")); errMsg != ErrNotFloat {
		t.Errorf("5120-byte increment: %q", errMsg)
	}
	if _, errMsg := IncrByFloat([]byte(one+"0"), true, []byte("1")); errMsg != ErrNotFloat {
		t.Errorf("5120-byte value: %q", errMsg)
	}
}

// parseFloatCases: ZADD z s m, then ZSCORE z m ("err" when ZADD failed
// with "value is not a valid float").
var parseFloatCases = []struct{ s, want string }{
	{" 1", "err"},
	{"1 ", "err"},
	{"0x10", "16"},
	{"nan", "err"},
	{"+1", "1"},
	{"1e", "err"},
	{".", "err"},
	{"-.5", "-0.5"},
	{"infinity", "inf"},
	{"-INF", "-inf"},
	{"0x1p-1075", "err"},
	{"0x1p-1074", "4.9406564584124654e-324"},
	{"1.", "1"},
	{"", "err"},
	{"0X1P3", "8"},
	{"0x.8", "0.5"},
	{"1e+", "err"},
	{"+inf", "inf"},
	{"--1", "err"},
	{"1e5000", "err"},
	{"1_0", "err"},
	{"1e400", "err"},
	{"1e-400", "err"},
	{"1e-310", "9.9999999999999694e-311"},
	{"3.5", "3.5"},
	{"-0", "-0"},
	{"0x", "err"},
	{"0x1p", "err"},
	{"1e-324", "err"},
	{"2.5e-324", "4.9406564584124654e-324"},
	{"1.7976931348623157e308", "1.7976931348623157e+308"},
	{"1.7976931348623159e308", "err"},
	{"\u0130nf", "err"},
	{"nan(123)", "err"},
	{"1\x00", "err"},
	{"5e-1", "0.5"},
}

func TestParseFloat(t *testing.T) {
	for _, c := range parseFloatCases {
		f, ok := ParseFloat([]byte(c.s))
		got := "err"
		if ok {
			got = FormatFloat(f)
		}
		if got != c.want {
			t.Errorf("ParseFloat(%q) = %q, want %q", c.s, got, c.want)
		}
	}
	if f, ok := ParseFloat([]byte("-0")); !ok || !math.Signbit(f) {
		t.Errorf("ParseFloat(-0) = %v, %v", f, ok)
	}
}

// parseIntCases: INCRBY i s on i = 0 ("err" for "value is not an integer
// or out of range").
var parseIntCases = []struct{ s, want string }{
	{"0", "0"},
	{"-0", "err"},
	{"00", "err"},
	{"01", "err"},
	{"+1", "err"},
	{" 1", "err"},
	{"1 ", "err"},
	{"", "err"},
	{"-", "err"},
	{"1", "1"},
	{"-1", "-1"},
	{"99", "99"},
	{"-99", "-99"},
	{"9223372036854775807", "9223372036854775807"},
	{"9223372036854775808", "err"},
	{"-9223372036854775808", "-9223372036854775808"},
	{"-9223372036854775809", "err"},
	{"18446744073709551615", "err"},
	{"18446744073709551616", "err"},
	{"99999999999999999999", "err"},
	{"00000000000000000001", "err"},
	{"1a", "err"},
	{"0x10", "err"},
	{"1.0", "err"},
	{"1e3", "err"},
}

func TestParseInt(t *testing.T) {
	for _, c := range parseIntCases {
		n, ok := ParseInt([]byte(c.s))
		got := "err"
		if ok {
			got = strconv.FormatInt(n, 10)
		}
		if got != c.want {
			t.Errorf("ParseInt(%q) = %q, want %q", c.s, got, c.want)
		}
	}
}

// ParseInt accepts exactly the canonical decimal forms of int64 values.
func FuzzParseInt(f *testing.F) {
	for _, c := range parseIntCases {
		f.Add(c.s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ParseInt([]byte(s))
		v, err := strconv.ParseInt(s, 10, 64)
		canonical := err == nil && strconv.FormatInt(v, 10) == s
		if ok != canonical || ok && n != v {
			t.Fatalf("ParseInt(%q) = %d, %v; canonical %v", s, n, ok, canonical)
		}
	})
}

// formatFloatCases: ZADD z s m, then ZSCORE z m (Redis 7.0 replies with
// "%.17g"; the shortest form only came in 7.2).
var formatFloatCases = []struct{ s, want string }{
	{"0.1", "0.10000000000000001"},
	{"1e17", "1e+17"},
	{"1e16", "10000000000000000"},
	{"1e-5", "1.0000000000000001e-05"},
	{"1.5", "1.5"},
	{"100", "100"},
	{"123456789.123", "123456789.123"},
	{"123456789012345678", "1.2345678901234568e+17"},
	{"-0", "-0"},
	{"inf", "inf"},
	{"-inf", "-inf"},
	{"4.9406564584124654e-324", "4.9406564584124654e-324"},
	{"1.7976931348623157e308", "1.7976931348623157e+308"},
	{"3", "3"},
	{"-2.5", "-2.5"},
	{"0.3", "0.29999999999999999"},
	{"1e21", "1e+21"},
	{"123456.7", "123456.7"},
	{"1e-4", "0.0001"},
	{"0.0001234", "0.00012339999999999999"},
}

func TestFormatFloat(t *testing.T) {
	for _, c := range formatFloatCases {
		f, ok := ParseFloat([]byte(c.s))
		if !ok {
			t.Fatalf("ParseFloat(%q) failed", c.s)
		}
		if got := FormatFloat(f); got != c.want {
			t.Errorf("FormatFloat(%s) = %q, want %q", c.s, got, c.want)
		}
	}
	if got := FormatFloat(math.NaN()); got != "nan" {
		t.Errorf("FormatFloat(NaN) = %q", got)
	}
}

// formatIncrFloatCases: INCRBYFLOAT on a missing key by s, which
// FormatIncrFloat(ParseFloat(s)) reproduces for decimals of up to 15
// significant digits.
var formatIncrFloatCases = []struct{ s, want string }{
	{"0.1", "0.1"},
	{"10.6", "10.6"},
	{"4.1", "4.1"},
	{"5200", "5200"},
	{"1000.1", "1000.09999999999999998"},
	{"1e300", "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"},
	{"1e-20", "0"},
	{"-0.5", "-0.5"},
	{"123456.789", "123456.78900000000000148"},
	{"3.0e2", "300"},
	{"1e23", "100000000000000000000000"},
	{"0.30000000000000004", "0.30000000000000004"},
	{"-1e-300", "0"},
	{"1.5e308", "149999999999999999999901476489468468031016840965060944967133685421180106066691046036756664728216022031902928370522024964340854582506645209487860806577896175175227643677561112877760303256738896516844124921428435196017215141331511736789270744288327321353040504243421434090049846615188904452633296864511849922560"},
	{"2.5", "2.5"},
}

func TestFormatIncrFloat(t *testing.T) {
	for _, c := range formatIncrFloatCases {
		f, _ := ParseFloat([]byte(c.s))
		if got := FormatIncrFloat(f); got != c.want {
			t.Errorf("FormatIncrFloat(%s) = %q, want %q", c.s, got, c.want)
		}
	}
	// The examples of the INCRBYFLOAT documentation, summed in float64.
	for _, c := range []struct {
		a, b float64
		want string
	}{
		{10.50, 0.1, "10.6"}, {10.6, -5, "5.6"}, {5.0e3, 2.0e2, "5200"}, {3.0, 1.1, "4.1"}, {1.1, -1.1, "0"},
	} {
		if got := FormatIncrFloat(c.a + c.b); got != c.want {
			t.Errorf("FormatIncrFloat(%v + %v) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
	for f, want := range map[float64]string{math.Inf(1): "inf", math.Inf(-1): "-inf", math.Copysign(0, -1): "0", -1e-30: "0"} {
		if got := FormatIncrFloat(f); got != want {
			t.Errorf("FormatIncrFloat(%v) = %q, want %q", f, got, want)
		}
	}
	// Known limit: float64 arithmetic drifts where Redis's long double
	// does not (Redis: "0.1" + "0.2" = "0.3"); IncrByFloat is exact.
	a, b := 0.1, 0.2 // variables: a constant 0.1+0.2 would be exact
	if got := FormatIncrFloat(a + b); got != "0.30000000000000004" {
		t.Errorf("FormatIncrFloat(0.1+0.2) = %q", got)
	}
}

// TestFormatIncrFloatShortDecimals checks the documented guarantee on
// random decimals of up to 15 significant digits against IncrByFloat.
func TestFormatIncrFloatShortDecimals(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		digits := strconv.FormatInt(r.Int63n(1_000_000_000_000_000), 10)
		if len(digits) > 15 {
			digits = digits[:1+r.Intn(15)]
		}
		s := digits + "e" + strconv.Itoa(r.Intn(80)-50)
		if r.Intn(2) == 0 {
			s = "-" + s
		}
		want, errMsg := IncrByFloat(nil, false, []byte(s))
		f, ok := ParseFloat([]byte(s))
		if errMsg != "" || !ok {
			t.Fatalf("%s: %q %v", s, errMsg, ok)
		}
		if got := FormatIncrFloat(f); got != want {
			t.Fatalf("FormatIncrFloat(%s) = %q, IncrByFloat gives %q", s, got, want)
		}
	}
}
