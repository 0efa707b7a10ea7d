package vars

import (
	"strings"
	"unsafe"
)

// maxDepth is the expansion recursion limit, as in FreeSWITCH: nested
// expansions (a variable's name, its value, an API command's name and
// arguments) deeper than this are left as they are.
const maxDepth = 100

// maxRefs bounds the number of ${...} references one Expand call resolves.
// FreeSWITCH has no such bound; it stops values such as a="${a}${a}" from
// taking 2^100 steps.
const maxRefs = 1 << 14

// Expand replaces FreeSWITCH variable references in s, following
// switch_channel_expand_variables_check. It is the single expansion used by
// the dialplan hunt, application data, scripts and the event socket.
//
// Syntax:
//
//   - ${name} is the variable's value, or "" when it is unset; $${name}
//     behaves the same at run time. Names are looked up through l, which
//     handles case. The name is itself expanded first, so ${x_${y}} works.
//   - ${name:off} and ${name:off:len} take a substring. A negative off counts
//     from the end (and is ignored when it reaches before the start); an off
//     past the end gives ""; a len <= 0 or beyond the end is ignored. Numbers
//     are read like C's atoi, so garbage reads as 0.
//   - ${name[idx]} is element idx of an array ("ARRAY::a|:b"); an index past
//     the end gives "", and a negative index gives the whole (serialised)
//     value.
//   - ${cmd args} (a space after the name) and ${cmd(args)} run
//     api.Execute(cmd, args) with cmd and args expanded first; the output is
//     inserted as it is (not expanded again). An error or a nil api gives "".
//     In the (args) form the first unmatched ")" ends the arguments and text
//     after it up to the "}" is dropped.
//   - Values are expanded again when read, so a="${b}" makes ${a} give b's
//     value. Beyond 100 levels of nesting the text is left unexpanded.
//   - "{" inside a reference nests (except as its first character), so
//     braces must balance; an unterminated "${" runs to the end of s.
//
// Backslashes, exactly as FreeSWITCH treats them:
//
//   - "\$" gives a literal "$" (and "\$$" a single "$"), so "\${x}" is the
//     text "${x}".
//   - "\\" gives "\" and "\'" is removed entirely; any other backslash is
//     kept as it is ("\n" stays two characters).
//   - These rules only apply when s holds a "${" (a "$" followed, possibly
//     after backslashes, by "{") or a backslash followed by one of \ n s t ';
//     any other string, such as "cost \$5", is returned unchanged. Likewise
//     "$$" is reduced to "$" only in strings that are expanded.
//   - The character right after a reference's closing "}" is copied
//     literally (unless it is "$"), so "${a}\${b}" still expands ${b}.
//
// Also from FreeSWITCH: in the space form a ")" that closes a "(" opened
// inside the arguments ends them, so ${cmd a(b)c} passes "a(b".
//
// Deviations from FreeSWITCH:
//
//   - An index on a value that is not an ARRAY:: string treats it as a
//     one-element array (FreeSWITCH gives "" for [0] on a variable that was
//     never pushed to); an out-of-range index gives "" without falling back
//     to caller-profile fields or globals of the same name.
//   - The variable and API permission lists of the event socket are not
//     applied here; callers filter api themselves.
//   - NUL bytes are ordinary characters.
//   - At most 16384 references are resolved per call; after that the rest
//     is left unexpanded, so self-multiplying values terminate.
//
// A string without "$" or "\" is returned as it is without allocating.
func Expand(s string, l Lookup, api API) string {
	if !NeedsExpansion(s) {
		return s
	}
	if v, ok := wholeReference(s, l); ok {
		return v
	}
	x := expander{l: l, api: api}
	buf := x.appendExpand(make([]byte, 0, len(s)+64), s, 0)
	return bytesString(buf)
}

// wholeReference is Expand's allocation-free fast path for the commonest
// input, a string that is exactly one plain ${name}: when the value needs
// no further expansion it is the result. Anything else (substrings,
// indexes, API calls, values that themselves expand) reports false and
// takes the general path.
func wholeReference(s string, l Lookup) (string, bool) {
	if len(s) < 4 || s[0] != '$' || s[1] != '{' || s[len(s)-1] != '}' || l == nil {
		return "", false
	}
	name := s[2 : len(s)-1]
	if strings.ContainsAny(name, " :[({}$\\'\t\n") {
		return "", false
	}
	v, _ := l.Get(name)
	if NeedsExpansion(v) {
		return "", false
	}
	return v, true
}

// bytesString returns b as a string without copying. b must not be
// modified afterwards (the same idiom as strings.Builder.String).
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// expander holds the state of one Expand call.
type expander struct {
	l    Lookup
	api  API
	refs int // references resolved so far
}

// NeedsExpansion reports whether Expand would rewrite s at all: s holds a
// ${ reference (switch_string_var_check_const) or escaped data, a
// backslash before \, n, s, t or ' (switch_string_has_escaped_data).
// Expand returns any other string unchanged.
func NeedsExpansion(s string) bool {
	d := strings.IndexByte(s, '$')
	b := strings.IndexByte(s, '\\')
	if d < 0 && b < 0 {
		return false
	}
	if d >= 0 && HasReference(s[d:]) {
		return true
	}
	for b >= 0 && b+1 < len(s) {
		switch s[b+1] {
		case '\\', 'n', 's', 't', '\'':
			return true
		}
		n := strings.IndexByte(s[b+1:], '\\')
		if n < 0 {
			break
		}
		b += 1 + n
	}
	return false
}

// expandString expands s at the given depth into a new string (s itself
// when nothing needs expanding).
func (x *expander) expandString(s string, depth int) string {
	if depth > maxDepth || x.refs >= maxRefs || !NeedsExpansion(s) {
		return s
	}
	return bytesString(x.appendExpand(nil, s, depth))
}

// appendExpand appends the expansion of s to dst.
func (x *expander) appendExpand(dst []byte, s string, depth int) []byte {
	if depth > maxDepth || x.refs >= maxRefs || !NeedsExpansion(s) {
		return append(dst, s...)
	}
	n := len(s)
	for i := 0; i < n; i++ {
		literal := false
		if s[i] == '\\' && i+1 < n {
			switch s[i+1] {
			case '$':
				literal = true
				i++
				if i+1 < n && s[i+1] == '$' {
					i++
				}
			case '\'':
				i++
				continue
			case '\\':
				dst = append(dst, '\\')
				i++
				continue
			}
		}
		if s[i] != '$' || literal {
			dst = append(dst, s[i])
			continue
		}
		ref := i
		if i+1 < n && s[i+1] == '$' {
			i++ // $${name}: a global reference, the same at run time
		}
		if i+1 >= n || s[i+1] != '{' {
			dst = append(dst, s[i])
			continue
		}
		if x.refs >= maxRefs {
			return append(dst, s[ref:]...)
		}

		// s[i:] is "${...": find the matching "}".
		start := i + 2
		br := 1
		end, next := n, n
		for j := start; j < n; j++ {
			c := s[j]
			if br == 1 && c == '}' {
				br = 0
				end, next = j, j+1
				break
			}
			if j != start && c == '{' {
				br++
			} else if br > 1 && c == '}' {
				br--
			}
		}
		dst = x.appendRef(dst, s[start:end], br, depth)

		// FreeSWITCH copies the character after "}" without looking at it,
		// unless it starts another reference.
		switch {
		case next >= n:
			i = n
		case s[next] == '$':
			i = next - 1
		default:
			dst = append(dst, s[next])
			i = next
		}
	}
	return dst
}

// appendRef appends the value of one reference, body being the text
// between "${" and its "}". br is the brace depth left open (non-zero only
// for an unterminated reference); FreeSWITCH carries it into the scan of
// space-form API arguments.
func (x *expander) appendRef(dst []byte, body string, br, depth int) []byte {
	x.refs++
	k := strings.IndexAny(body, " (")
	if k < 0 {
		return x.appendVar(dst, body, depth)
	}
	cmd := strings.TrimRight(body[:k], " ")
	if body[k] == '(' {
		br = 1
	}
	args := body[k+1:]
scan:
	for j := 0; j < len(args); j++ {
		switch c := args[j]; {
		case c == '(':
			br++
		case c == ')' && br > 1:
			br--
		case c == ')' && br == 1:
			args = args[:j]
			break scan
		}
	}
	cmd = x.expandString(cmd, depth+1)
	args = x.expandString(args, depth+1)
	if x.api == nil || cmd == "" {
		return dst
	}
	out, err := x.api.Execute(cmd, args)
	if err != nil {
		return dst
	}
	return append(dst, out...)
}

// appendVar appends the value of the variable reference ref
// ("name", "name:off:len", "name[idx]").
func (x *expander) appendVar(dst []byte, ref string, depth int) []byte {
	name := x.expandString(ref, depth+1)
	off, length := 0, 0
	if k := strings.IndexByte(name, ':'); k >= 0 {
		rest := name[k+1:]
		name = name[:k]
		off = atoi(rest)
		if k2 := strings.IndexByte(rest, ':'); k2 >= 0 {
			length = atoi(rest[k2+1:])
		}
	}
	idx := -1
	if k := strings.IndexByte(name, '['); k >= 0 && strings.IndexByte(name[k:], ']') >= 0 {
		idx = atoi(name[k+1:])
		name = name[:k]
	}
	val, ok := x.lookup(name, idx)
	if !ok {
		return dst
	}
	start := len(dst)
	dst = x.appendExpand(dst, val, depth+1)
	if off == 0 && length == 0 {
		return dst
	}
	v := dst[start:]
	switch {
	case off > len(v):
		v = v[:0]
	case off >= 0:
		v = v[off:]
	case -off <= len(v):
		v = v[len(v)+off:]
	}
	if length > 0 && length < len(v) {
		v = v[:length]
	}
	k := copy(dst[start:], v)
	return dst[:start+k]
}

// lookup resolves name, then element idx when idx >= 0.
func (x *expander) lookup(name string, idx int) (string, bool) {
	if name == "" || x.l == nil {
		return "", false
	}
	v, ok := x.l.Get(name)
	if !ok || idx < 0 {
		return v, ok
	}
	return arrayElem(v, idx)
}

// arrayElem returns element idx of a serialised array; a plain value is a
// one-element array.
func arrayElem(v string, idx int) (string, bool) {
	rest, isArray := strings.CutPrefix(v, ArrayPrefix)
	if !isArray {
		if idx != 0 {
			return "", false
		}
		return v, true
	}
	for ; idx > 0; idx-- {
		k := strings.Index(rest, arraySep)
		if k < 0 {
			return "", false
		}
		rest = rest[k+len(arraySep):]
	}
	if k := strings.Index(rest, arraySep); k >= 0 {
		rest = rest[:k]
	}
	return rest, true
}

// atoi reads a leading decimal integer like C's atoi: white space, an
// optional sign and digits; anything else ends it, and no digits give 0.
// The result is clamped to the int32 range.
func atoi(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	const limit = 1 << 31
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < limit {
			n = n*10 + int(s[i]-'0')
		}
	}
	if neg {
		return -min(n, limit)
	}
	return min(n, limit-1)
}
