package preprocess

import "strings"

// expandVars replaces every $${name} in s with the global's current value
// (the empty string when it is not set), the way FreeSWITCH expands a raw
// configuration line before looking at it.
//
// The name runs to the matching '}' (braces nest, so "$${a{b}}" names
// "a{b}"). An unmatched "$${" is copied through literally, scanning resumes
// at its second '$', and unterminated is reported so the caller can log it.
// A value is inserted as is: "$${" inside a value is not expanded again.
// Expansion stops with tooLong once the result exceeds limit bytes.
func expandVars(s string, g Globals, limit int) (out string, unterminated, tooLong bool) {
	if !strings.Contains(s, "$${") {
		return s, false, false
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			if end := matchingBrace(s, i+2); end >= 0 {
				if v, ok := g.Get(s[i+3 : end]); ok {
					if b.Len()+len(v) > limit {
						return "", unterminated, true
					}
					b.WriteString(v)
				}
				i = end + 1
				continue
			}
			unterminated = true
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), unterminated, false
}

// matchingBrace returns the index of the '}' closing the '{' at s[open],
// counting nested braces, or -1.
func matchingBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// indexFold is strings.Index with ASCII-only case folding (FreeSWITCH's
// switch_stristr); substr must be non-empty ASCII.
func indexFold(s, substr string) int {
	first := lowerASCII(substr[0])
	for i := 0; i+len(substr) <= len(s); i++ {
		if lowerASCII(s[i]) != first {
			continue
		}
		j := 1
		for j < len(substr) && lowerASCII(s[i+j]) == lowerASCII(substr[j]) {
			j++
		}
		if j == len(substr) {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
