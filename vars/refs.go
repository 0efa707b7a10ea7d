package vars

import "strings"

// HasReference reports whether s holds a ${...} reference: a '$' followed,
// after any backslashes, by '{'. It is the test FreeSWITCH makes
// (switch_string_var_check_const) before storing a value that must never
// be expanded, e.g. a channel variable from the wire.
func HasReference(s string) bool {
	dollar := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '$':
			dollar = true
		case !dollar:
		case c == '{':
			return true
		case c != '\\':
			dollar = false
		}
	}
	return false
}

// Defuse turns every ${ reference in s into %{ (the '$' of each reference,
// as HasReference finds them, becomes '%'), as FreeSWITCH does to every
// global variable it stores, so the value can never be expanded. The
// result is unchanged by a second pass.
func Defuse(s string) string {
	if !strings.Contains(s, "$") || !strings.Contains(s, "{") {
		return s
	}
	b := []byte(s)
	dollar := -1
	for i, c := range b {
		switch {
		case c == '$':
			dollar = i
		case dollar < 0:
		case c == '{':
			b[dollar] = '%'
			dollar = -1
		case c != '\\':
			dollar = -1
		}
	}
	return string(b)
}
