package engine

// Glob-style pattern matching, a faithful port of Redis 7.0's
// stringmatchlen (src/util.c), as used by KEYS, SCAN MATCH, PSUBSCRIBE,
// CONFIG GET, ACL key patterns and friends.
//
// The C code walks two pointers over NUL-terminated buffers and in a few
// places reads one byte past the logical end of the pattern (the
// terminator). The port keeps the same index arithmetic and models those
// reads with at(), which yields 0 past the end, so that every corner case
// behaves as in Redis, in particular:
//
//   - "*" and "**" do not match the empty string (the main loop only runs
//     while both the pattern and the string are non-empty); KEYS "*" still
//     lists the empty key in Redis only because KEYS special-cases a
//     pattern of exactly "*".
//   - An unclosed class is closed by the end of the pattern: "[a" is "[a]",
//     "[^" matches any single byte, "[" alone matches nothing.
//   - A trailing "\" is a literal backslash, outside a class ("\" matches
//     "\") and inside one ("[\" matches "\").
//   - Inside a class "\x" matches x case-sensitively, even with nocase.
//   - A reversed range such as [c-a] is swapped; in nocase mode the bounds
//     are lowered after the swap, so [Z-a] matches nothing without case.
//   - Range bounds are compared as C's (signed, on x86-64) char, so bytes
//     >= 0x80 sort below ASCII inside ranges.
//   - More than 1000 levels of '*' recursion give "no match", and once
//     the tail after a '*' failed to match anywhere, outer '*'s stop trying
//     longer matches (Redis's skipLongerMatches), which keeps matching
//     polynomial on hostile patterns such as "a*a*a*...a*b".

// GlobMatch reports whether s matches the Redis glob pattern. With nocase,
// ASCII letters compare case-insensitively (C tolower in the "C" locale).
func GlobMatch(pattern, s string, nocase bool) bool {
	skipLongerMatches := false
	return globMatch(pattern, s, nocase, &skipLongerMatches, 0)
}

// globMaxNesting is Redis's limit on '*' recursion depth.
const globMaxNesting = 1000

// at returns b[i], or 0 (the C string terminator) past the end.
func at(b string, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// lower is C's tolower in the "C" locale: only ASCII letters change.
func lower(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// schar is a byte read as C's signed char (x86-64 ABI), widened to int.
func schar(c byte) int { return int(int8(c)) }

// globMatch is stringmatchlen_impl. p and s hold the rest of the pattern
// and of the string; patternLen/stringLen of the C code are len(p)-pi and
// len(s)-si.
func globMatch(p, s string, nocase bool, skipLongerMatches *bool, nesting int) bool {
	// Protection against abusive patterns.
	if nesting > globMaxNesting {
		return false
	}
	pi, si := 0, 0
	for pi < len(p) && si < len(s) {
		switch p[pi] {
		case '*':
			for pi < len(p) && at(p, pi+1) == '*' {
				pi++
			}
			if len(p)-pi == 1 {
				return true // match
			}
			for si < len(s) {
				if globMatch(p[pi+1:], s[si:], nocase, skipLongerMatches, nesting+1) {
					return true // match
				}
				if *skipLongerMatches {
					return false // no match
				}
				si++
			}
			// There was no match for the rest of the pattern starting
			// from anywhere in the rest of the string. If there were any
			// '*' earlier in the pattern, they need not try longer
			// matches: those would need the rest of the pattern to match
			// later in the string, which just failed.
			*skipLongerMatches = true
			return false // no match
		case '?':
			si++
		case '[':
			pi++
			not := at(p, pi) == '^'
			if not {
				pi++
			}
			match := false
			c0 := s[si]
			for {
				if at(p, pi) == '\\' && len(p)-pi >= 2 {
					pi++
					if p[pi] == c0 {
						match = true
					}
				} else if at(p, pi) == ']' {
					break
				} else if pi == len(p) {
					// Unclosed class: the end of the pattern closes it.
					pi--
					break
				} else if len(p)-pi >= 3 && p[pi+1] == '-' {
					start, end, c := schar(p[pi]), schar(p[pi+2]), schar(c0)
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					pi += 2
					if c >= start && c <= end {
						match = true
					}
				} else {
					if !nocase {
						if p[pi] == c0 {
							match = true
						}
					} else if lower(schar(p[pi])) == lower(schar(c0)) {
						match = true
					}
				}
				pi++
			}
			if not {
				match = !match
			}
			if !match {
				return false // no match
			}
			si++
		case '\\':
			if len(p)-pi >= 2 {
				pi++
			}
			fallthrough
		default:
			if !nocase {
				if p[pi] != s[si] {
					return false // no match
				}
			} else if lower(schar(p[pi])) != lower(schar(s[si])) {
				return false // no match
			}
			si++
		}
		pi++
		if si == len(s) {
			for at(p, pi) == '*' {
				pi++
			}
			break
		}
	}
	return pi == len(p) && si == len(s)
}

// GlobLiteralPrefix returns the part of pattern before its first special
// character ('*', '?', '[' or '\'). Every string that GlobMatch(pattern, s,
// false) accepts starts with this prefix, so it can bound a key scan; it is
// not valid for nocase matching. A pattern without special characters is
// returned whole, and then matches only itself.
func GlobLiteralPrefix(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '*', '?', '[', '\\':
			return pattern[:i]
		}
	}
	return pattern
}
