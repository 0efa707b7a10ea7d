package dialstring

import "strings"

// String renders d in dial-string syntax: "<...>" for d.Vars, then the
// groups joined by ":_:", each as "{...}" and its tries joined by "|", each
// try's legs joined by ",", each leg as "[...]endpoint". Variables are
// written name=value with ',' between them; what needs protecting is
// escaped for every FreeSWITCH layer it goes through (so an endpoint's ','
// is written "\,"); a leg block whose values hold a quote or backslash uses
// "[^^;...]". For every d returned by Parse, Parse(d.String()) equals d.
func (d *DialString) String() string {
	var b strings.Builder
	if len(d.Vars) > 0 {
		b.WriteString(breakGroupSep(formatBlock(d.Vars, '<', '>')))
	}
	for i, g := range d.Groups {
		if i > 0 {
			b.WriteString(":_:")
		}
		b.WriteString(breakGroupSep(formatGroup(g)))
	}
	return b.String()
}

// breakGroupSep keeps ":_:" from appearing inside a group by putting an
// empty quote pair, which the first split removes, into every ":_".
func breakGroupSep(s string) string {
	return strings.ReplaceAll(s, ":_", ":''_")
}

func formatGroup(g Group) string {
	var b strings.Builder
	if len(g.Vars) > 0 {
		b.WriteString(formatBlock(g.Vars, '{', '}'))
	}
	tries := make([]string, len(g.Tries))
	for i, t := range g.Tries {
		tries[i] = escape(formatTry(t), '|')
	}
	data := joinItems(tries, "|")
	if data != "" && (data[0] == '{' || data[0] == '<') {
		data = "''" + data // an endpoint, not a block
	}
	b.WriteString(data)
	return b.String()
}

func formatTry(t Try) string {
	legs := make([]string, len(t.Legs))
	for i, l := range t.Legs {
		vars := l.Vars
		if len(t.Vars) > 0 {
			vars = append(append(Vars(nil), t.Vars...), l.Vars...)
		}
		legs[i] = formatLeg(vars, l.Endpoint)
	}
	return joinItems(legs, ",")
}

// formatLeg renders a leg as it must read after the "|" split.
func formatLeg(vars Vars, ep string) string {
	e := escape(ep, ',')
	startsBlock := ep != "" && ep[0] == '['
	if len(vars) == 0 && !startsBlock {
		return e
	}
	blk := formatLegBlock(vars)
	if startsBlock {
		return blk + " " + e // the space ends the blocks
	}
	return blk + e
}

// formatLegBlock renders "[...]" as it must read after the "|" split: it
// then goes through the comma marking, the "," split, the block split and
// the "=" split.
func formatLegBlock(vars Vars) string {
	// Plain ',' separators work unless a quote could flip the marking
	// pass's quote state or a backslash could hide a separator from it.
	parts := make([]string, len(vars))
	plain := true
	for i, v := range vars {
		parts[i] = escape(escape(formatVar(v), unquotedComma), ',')
		if strings.ContainsAny(v.Name+v.Value, "'\x02") || strings.HasSuffix(parts[i], `\`) {
			plain = false
		}
	}
	if plain {
		return "[" + balance(strings.Join(parts, ","), '[', ']', ",") + "]"
	}
	for i, v := range vars {
		parts[i] = escape(escape(formatVar(v), ';'), ',')
	}
	return "[^^;" + balance(strings.Join(parts, ";"), '[', ']', ";") + "]"
}

// formatBlock renders a "{...}" or "<...>" block.
func formatBlock(vars Vars, open, close byte) string {
	parts := make([]string, len(vars))
	for i, v := range vars {
		parts[i] = escape(formatVar(v), ',')
	}
	return string(open) + balance(strings.Join(parts, ","), open, close, ",") + string(close)
}

// formatVar renders name=value as it must read before the "=" split.
func formatVar(v Var) string {
	val := "''"
	if v.Value != "" {
		// The "=" split stops at the first '=', so later ones need no
		// backslash, but the value is still cleaned with '=' as delimiter.
		val = escapeFor(v.Value, 0, '=')
	}
	return escape(v.Name, '=') + "=" + val
}

// balance makes the open/close brackets in s match so that the block
// around it ends at its own close: it adds items made only of brackets,
// which have no '=' and so are ignored.
func balance(s string, open, close byte, sep string) string {
	depth, low := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case open:
			depth++
		case close:
			if depth--; depth < low {
				low = depth
			}
		}
	}
	if low < 0 {
		s = strings.Repeat(string(open), -low) + sep + s
	}
	if n := depth - low; n > 0 {
		s += sep + strings.Repeat(string(close), n)
	}
	return s
}

// joinItems joins items with sep so that splitting gives them back: a
// last empty item needs a separator after it.
func joinItems(items []string, sep string) string {
	s := strings.Join(items, sep)
	if len(items) > 0 && items[len(items)-1] == "" {
		s += sep
	}
	return s
}

// escape returns s written so that one switch_separate_string split on
// delim (0: none) followed by its clean-up gives s back as one item: the
// delimiter, quotes and the backslashes the clean-up would read as escapes
// get a backslash, spaces at either end become \s, and a leading "^^" is
// guarded by an empty quote pair so it is not read as a delimiter change.
func escape(s string, delim byte) string { return escapeFor(s, delim, delim) }

// escapeFor is escape for an item whose clean-up decodes "\<decoded>" but
// in which a bare delim (0: none) needs a backslash.
func escapeFor(s string, delim, decoded byte) string {
	lead := len(s) - len(strings.TrimLeft(s, " "))
	trail := len(s) - len(strings.TrimRight(s, " "))
	if lead == len(s) {
		trail = 0
	}
	edge := func(i int) bool { return s[i] == ' ' && (i < lead || i >= len(s)-trail) }
	// readsEscape tells whether a backslash followed by what s[i] is
	// written as would be decoded as an escape (or, at the end, hide the
	// separator that follows).
	readsEscape := func(i int) bool {
		if i == len(s) || edge(i) {
			return true
		}
		c := s[i]
		return c == '\'' || c == '"' || c == '\\' || (decoded != 0 && c == decoded) || unescape(c) != c
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case edge(i):
			b.WriteString(`\s`)
		case c == '\'' || (delim != 0 && c == delim):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\\' && readsEscape(i+1):
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	if strings.HasPrefix(out, "^^") {
		out = "''" + out
	}
	return out
}
