package vars

import "strings"

// Separate splits application data into arguments the way FreeSWITCH's
// switch_separate_string does. max > 0 limits the number of items: the
// last one then keeps the rest of s, delimiters included. max <= 0 means
// no limit. An empty s gives no items.
//
// Rules, all from FreeSWITCH:
//
//   - A leading "^^<d>" (followed by at least one character) makes <d> the
//     delimiter: "^^;a=1;b=2".
//   - With ' ' as the delimiter, runs of spaces separate items and leading
//     and trailing spaces are ignored (but a string of only spaces gives one
//     empty item). A "'" anywhere switches quoting on or off while
//     splitting, so an unbalanced quote runs to the end.
//   - With any other delimiter every delimiter ends an item (so "a,,b" has
//     an empty middle item) except a final one ("a," is one item); a "'"
//     only quotes when another "'" follows somewhere in s.
//   - While splitting, "\" protects the next character from being taken as
//     a delimiter or quote.
//   - Each item then has leading and trailing spaces removed (spaces inside
//     quotes stay), its quotes removed (a "'" with no later "'" in the item
//     is kept), and these escapes decoded: \' \" \\ \n \r \t \s (space), and
//     \<d> for a delimiter other than ' '. Any other backslash is kept, so
//     "a\ b" is the single item `a\ b`.
//
// Deviation: a backslash at the very end of s is kept as text; FreeSWITCH
// reads past the end of its buffer there.
func Separate(s string, delim byte, max int) []string {
	if len(s) >= 4 && s[0] == '^' && s[1] == '^' {
		delim = s[2]
		s = s[3:]
	}
	if s == "" {
		return nil
	}
	var buf [16][2]int // item spans; on the stack for typical data
	spans := appendSpans(buf[:0], s, delim, max)
	out := make([]string, len(spans))
	for i, sp := range spans {
		if delim == ' ' {
			out[i] = cleanItem(s[sp[0]:sp[1]], 0)
		} else {
			out[i] = cleanItem(s[sp[0]:sp[1]], delim)
		}
	}
	return out
}

// SeparateSpans returns the raw items Separate would make of s, as
// [start, end) byte offsets into s, before cleanup (trimming, unquoting,
// unescaping): what a caller that must report positions (the dial-string
// parser) splits with. s is taken as it is: no "^^" prefix is read.
func SeparateSpans(s string, delim byte, max int) [][2]int {
	return appendSpans(nil, s, delim, max)
}

// appendSpans appends the raw item spans of s split on delim to spans.
func appendSpans(spans [][2]int, s string, delim byte, max int) [][2]int {
	if delim == ' ' {
		return splitBlank(spans, s, max)
	}
	return splitDelim(spans, s, delim, max)
}

// splitBlank appends to spans the raw item spans of s split on runs of
// spaces.
func splitBlank(spans [][2]int, s string, max int) [][2]int {
	const (
		start = iota
		skipLeading
		findDelim
		skipTrailing
	)
	state, quoted := start, false
	for i := 0; i < len(s) && (max <= 0 || len(spans) < max); {
		switch state {
		case start:
			spans = append(spans, [2]int{i, len(s)})
			state = skipLeading
		case skipLeading:
			if s[i] == ' ' {
				i++
			} else {
				state = findDelim
			}
		case findDelim:
			switch {
			case s[i] == '\\':
				i++
			case s[i] == '\'':
				quoted = !quoted
			case s[i] == ' ' && !quoted:
				spans[len(spans)-1][1] = i
				state = skipTrailing
			}
			i++
		case skipTrailing:
			if s[i] == ' ' {
				i++
			} else {
				state = start
			}
		}
	}
	return spans
}

// splitDelim appends to spans the raw item spans of s split on delim.
func splitDelim(spans [][2]int, s string, delim byte, max int) [][2]int {
	atStart, quoted := true, false
	for i := 0; i < len(s) && (max <= 0 || len(spans) < max); {
		if atStart {
			spans = append(spans, [2]int{i, len(s)})
			atStart = false
			continue
		}
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '\'' && (quoted || strings.IndexByte(s[i+1:], '\'') >= 0):
			quoted = !quoted
		case c == delim && !quoted:
			spans[len(spans)-1][1] = i
			atStart = true
		}
		i++
	}
	return spans
}

// cleanItem trims, unquotes and unescapes one raw item
// (cleanup_separated_string). delim is 0 for the space delimiter.
func cleanItem(t string, delim byte) string {
	t = strings.TrimLeft(t, " ")
	if strings.IndexByte(t, '\\') < 0 && strings.IndexByte(t, '\'') < 0 {
		return strings.TrimRight(t, " ")
	}
	out := make([]byte, 0, len(t))
	end := 0 // length to keep: up to the last character that is not an unquoted space
	quoted := false
	for p := 0; p < len(t); p++ {
		c := t[p]
		if c == '\\' && p+1 < len(t) {
			e, ok := t[p+1], true
			switch {
			case e == '\'' || e == '"' || e == '\\' || (delim != 0 && e == delim):
			case unescape(e) != e:
				e = unescape(e)
			default:
				ok = false
			}
			if ok {
				p++
				out = append(out, e)
				end = len(out)
				continue
			}
		}
		if c == '\'' && (quoted || strings.IndexByte(t[p+1:], '\'') >= 0) {
			quoted = !quoted
			if quoted {
				end = len(out)
			}
			continue
		}
		out = append(out, c)
		if c != ' ' || quoted {
			end = len(out)
		}
	}
	return bytesString(out[:end])
}

// unescape decodes the character after a backslash: n, r, t and s become
// line feed, carriage return, tab and space; others are returned as they
// are.
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 's':
		return ' '
	}
	return c
}
