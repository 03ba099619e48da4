package engine

import (
	"strings"
	"testing"
	"time"
)

// globCases are Redis 7.0 stringmatchlen results. The nocase=false rows
// were checked against redis-server 7.0.15 with KEYS (the empty-string
// rows included: only KEYS "*" itself is special-cased and lists the
// empty key), the nocase rows follow the same code path with tolower.
var globCases = []struct {
	pattern, s string
	nocase     bool
	want       bool
}{
	// Literals and the empty pattern/string.
	{"", "", false, true},
	{"", "a", false, false},
	{"a", "", false, false},
	{"abc", "abc", false, true},
	{"abc", "abd", false, false},
	{"abc", "ab", false, false},
	{"ab", "abc", false, false},
	{"ABC", "abc", false, false},
	{"ABC", "abc", true, true},
	{"a\x00b", "a\x00b", false, true},
	{"a\x00b", "a", false, false},

	// '*'.
	{"*", "", false, false}, // the loop never runs on an empty string
	{"**", "", false, false},
	{"*", "anything", false, true},
	{"**", "x", false, true},
	{"a*", "a", false, true},
	{"a**", "a", false, true},
	{"a*", "abc", false, true},
	{"*c", "abc", false, true},
	{"*c", "abd", false, false},
	{"a*c", "ac", false, true},
	{"a*c", "abbbc", false, true},
	{"a*c", "abbbd", false, false},
	{"a*b*c", "aXbYc", false, true},
	{"a*b*c", "aXcYb", false, false},
	{"*a*", "bab", false, true},
	{"h*llo", "HELLO", true, true},

	// '?'.
	{"?", "", false, false},
	{"?", "a", false, true},
	{"?", "ab", false, false},
	{"h?llo", "hello", false, true},
	{"h?llo", "hllo", false, false},
	{"*?", "a", false, true},
	{"?*", "a", false, true},
	{"??", "a", false, false},

	// Classes.
	{"h[ae]llo", "hello", false, true},
	{"h[ae]llo", "hallo", false, true},
	{"h[ae]llo", "hillo", false, false},
	{"h[^e]llo", "hallo", false, true},
	{"h[^e]llo", "hello", false, false},
	{"h[a-b]llo", "hbllo", false, true},
	{"h[a-b]llo", "hcllo", false, false},
	{"[c-a]", "b", false, true}, // reversed range is swapped
	{"[c-a]", "d", false, false},
	{"[a-c]", "B", false, false},
	{"[a-c]", "B", true, true},
	{"[A-C]", "b", true, true},
	{"[Z-a]", "_", false, true}, // 'Z' < '_' < 'a'
	{"[Z-a]", "_", true, false}, // lowered after the swap: [z-a] is empty
	{"[Z-a]", "z", true, false},
	{"[aB]", "b", true, true},
	{"[aB]", "b", false, false},
	{"[^a-c]", "d", false, true},
	{"[^a-c]", "b", false, false},
	{"[a-]", "-", false, false}, // "a-]" is the range ]..a, class unclosed
	{"[a-]", "_", false, true},
	{"[a-]", "a", false, true},
	{"[a-]x", "-", false, false},
	{"[-a]", "-", false, true},
	{"[]", "]", false, false}, // "]" closes at once: empty class
	{"[]]", "]", false, false},
	{"[]]", "]]", false, false},
	{"[^]", "x", false, true}, // empty negated class matches any byte
	{"[^]", "", false, false},
	{"[]a", "a", false, false},
	{"[\xe9]", "\xe9", false, true},
	{"[a-\xe9]", "b", false, false}, // bounds are signed chars: [-23..97]
	{"[a-\xe9]", "0", false, true},
	{"[a-\xe9]", "\xff", false, true},
	{"[a-\xe9]", "\xe8", false, false},

	// Unclosed classes: the end of the pattern closes them.
	{"[", "", false, false},
	{"[", "[", false, false},
	{"[", "a", false, false},
	{"[a", "a", false, true},
	{"[a", "b", false, false},
	{"[ab", "b", false, true},
	{"[^", "a", false, true},
	{"[^", "", false, false},
	{"[^a", "a", false, false},
	{"[^a", "b", false, true},
	{"[a-", "-", false, true},
	{"[a-c", "b", false, true},
	{"a[", "a", false, false},
	{"a[", "a[", false, false},
	{"a[b", "ab", false, true},

	// Escapes.
	{"\\", "\\", false, true}, // trailing backslash is literal
	{"\\", "", false, false},
	{"\\\\", "\\", false, true},
	{"\\*", "*", false, true},
	{"\\*", "a", false, false},
	{"\\?", "?", false, true},
	{"\\?", "a", false, false},
	{"\\[a]", "[a]", false, true},
	{"\\a", "a", false, true},
	{"\\A", "a", true, true}, // an escaped letter still ignores case
	{"a\\", "a\\", false, true},
	{"[\\]]", "]", false, true},
	{"[\\]]", "\\", false, false},
	{"[\\^a]", "^", false, true},
	{"[\\-a]", "-", false, true},
	{"[\\", "\\", false, true}, // trailing backslash in a class is literal
	{"[\\", "a", false, false},
	{"[\\A]", "a", true, false}, // escaped class member is case-sensitive
	{"[\\A]", "A", true, true},
	{"[^\\]]", "]", false, false},
	{"[^\\]]", "a", false, true},

	// Nocase.
	{"HELLO", "hello", true, true},
	{"hello", "HELLO", true, true},
	{"h*O", "hello", true, true},
	{"[H]ello", "hello", true, true},
	{"\xc9", "\xe9", true, false}, // only ASCII letters fold
}

func TestGlobMatch(t *testing.T) {
	for _, c := range globCases {
		if got := GlobMatch(c.pattern, c.s, c.nocase); got != c.want {
			t.Errorf("GlobMatch(%q, %q, %v) = %v, want %v", c.pattern, c.s, c.nocase, got, c.want)
		}
	}
}

// TestGlobNesting checks Redis's 1000-level '*' recursion limit (checked
// against redis-server 7.0.15: 1000 "*a" groups still match, 1001 do not).
func TestGlobNesting(t *testing.T) {
	s := strings.Repeat("a", 2000)
	for _, c := range []struct {
		n    int
		want bool
	}{{999, true}, {1000, true}, {1001, false}, {1002, false}} {
		if got := GlobMatch(strings.Repeat("*a", c.n), s, false); got != c.want {
			t.Errorf("%d x \"*a\": got %v, want %v", c.n, got, c.want)
		}
	}
	if !GlobMatch(strings.Repeat("a*", 1000)+"b", strings.Repeat("a", 1000)+"b", false) {
		t.Error("1000 x \"a*\" + \"b\" should match")
	}
	if GlobMatch(strings.Repeat("a*", 1001)+"b", strings.Repeat("a", 1001)+"b", false) {
		t.Error("1001 x \"a*\" + \"b\" should hit the nesting limit")
	}
}

// TestGlobNoBlowup would take exponential time without skipLongerMatches.
func TestGlobNoBlowup(t *testing.T) {
	start := time.Now()
	pattern := strings.Repeat("a*", 60) + "b"
	s := strings.Repeat("a", 500)
	if GlobMatch(pattern, s, false) {
		t.Fatal("unexpected match")
	}
	if GlobMatch(strings.Repeat("*?", 60)+"b", s, true) {
		t.Fatal("unexpected match")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestGlobLiteralPrefix(t *testing.T) {
	for _, c := range []struct{ pattern, want string }{
		{"", ""},
		{"abc", "abc"},
		{"user:*", "user:"},
		{"user:?x", "user:"},
		{"user:[ab]", "user:"},
		{"a\\*b", "a"},
		{"*abc", ""},
		{"a]^-b*", "a]^-b"},
	} {
		if got := GlobLiteralPrefix(c.pattern); got != c.want {
			t.Errorf("GlobLiteralPrefix(%q) = %q, want %q", c.pattern, got, c.want)
		}
	}
}

func hasGlobSpecial(s string) bool {
	return strings.ContainsAny(s, "*?[\\")
}

func FuzzGlobMatch(f *testing.F) {
	for _, c := range globCases {
		f.Add(c.pattern, c.s, c.nocase)
	}
	f.Add("a*b*c*d*e*f*g*h*", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)
	f.Fuzz(func(t *testing.T, pattern, s string, nocase bool) {
		m := GlobMatch(pattern, s, nocase) // must not panic
		if m && !nocase && !strings.HasPrefix(s, GlobLiteralPrefix(pattern)) {
			t.Fatalf("%q matches %q but lacks the literal prefix %q", pattern, s, GlobLiteralPrefix(pattern))
		}
		if !hasGlobSpecial(s) {
			if !GlobMatch(s, s, false) || !GlobMatch(s, s, true) {
				t.Fatalf("literal pattern %q does not match itself", s)
			}
			if GlobLiteralPrefix(s) != s {
				t.Fatalf("GlobLiteralPrefix(%q) = %q", s, GlobLiteralPrefix(s))
			}
		}
		if !hasGlobSpecial(pattern) && m != (pattern == s) && !nocase {
			t.Fatalf("literal pattern %q vs %q: got %v", pattern, s, m)
		}
	})
}
