// Package dialstring parses FreeSWITCH originate/bridge dial strings, such as
//
//	<ultra=1>{global=2}[leg=3]sofia/internal/1000@host,user/1001|error/USER_BUSY:_:{g=4}loopback/9999
//
// into groups, tries and legs with their variables, the way
// switch_ivr_originate (src/switch_ivr_originate.c) and
// switch_event_create_brackets (src/switch_event.c) split them. It is pure:
// no I/O, no ${...} expansion (the caller expands first; Parse keeps ${...}
// text as it is).
//
// # Structure
//
//   - ":_:" separates enterprise groups, which FreeSWITCH originates in
//     parallel. It is found anywhere in the string, even inside quotes or
//     brackets, like FreeSWITCH's strstr.
//   - "<a=1,b=2>" blocks at the very start are ultra-global: they apply to
//     every leg of every group. FreeSWITCH also honours them without ":_:"
//     (they then act like "{}"). A group may start with its own "<...>";
//     those apply to that group only and are merged into [Group.Vars].
//   - "{a=1,b=2}" blocks at the start of a group apply to every leg of every
//     try of that group. There is no per-try "{}": FreeSWITCH reads "{}"
//     only at the start, before splitting on "|", and uses those variables
//     for all the tries. A "{" at the start of a later try or leg is not a
//     variable block: it stays part of the endpoint ("{b=2}sofia/..." has
//     the technology "{b=2}sofia"), so FreeSWITCH fails that leg with
//     CHAN_NOT_IMPLEMENTED, and Parse keeps it in [Leg.Endpoint] so a caller
//     that looks the technology up fails it the same way.
//   - "|" separates tries (failover, in order); "," separates the legs of a
//     try (rung at once); "[a=1]" before a leg holds that leg's variables.
//     Several blocks in a row ("{a=1}{b=2}", "[a=1][b=2]") are merged.
//
// Within each list the variables keep the order written; a later one with
// the same name wins (see [Vars.Get]). Across lists "[]" beats "{}" beats
// "<>" (FreeSWITCH's local_var_clobber=true in "{}" reverses the first; that
// is for the caller to apply).
//
// # Quoting, escaping, delimiters
//
// Every split is FreeSWITCH's switch_separate_string: spaces around items
// are trimmed; a single quote starts a quoted part only if another one
// follows (quotes protect separators and are removed); a backslash
// protects the next character, and \' \" \\ \n \r \t \s (space) and
// \<separator> are decoded while any other backslash is kept. "^^X" at the
// start of a variable block, of the try list or of a try's leg list makes X
// the separator there ("^^ " splits on runs of spaces). In a block, an item
// with no '=' is ignored, and so is "a=" with nothing after it. FreeSWITCH
// splits a block, then each item at its first '=', so "{}" items are
// unquoted and unescaped twice, and "[]" items four times (the "|" and ","
// splits of the try come first):
//
//	{^^:a=1:b=2}x           a=1, b=2
//	[^^;a=x,y;b=2]x         a="x,y", b=2
//	{a='x, y',b=c=d}x       a="x, y", b="c=d"
//	{a=x\sy,b=1\s,c=1\\s}x  a="x y", b="1", c="1 "
//	{a=,b,c=''}x            nothing (the quotes are gone before the '=' split)
//	{a=\'\'}x               a="" (FreeSWITCH unsets a variable set to "")
//
// The layers are FreeSWITCH's, quirks included:
//
//   - "{}" and "<>" blocks are taken off before anything else is split, so
//     "|", ",", quotes and nested balanced braces inside them are safe:
//     "{a='x,y',b=${c},d=x|y}".
//   - "|" does not respect "[]": "[a=x|y]sofia/1" is split in two (and is
//     then an unbalanced "["). Quotes do protect it: "[a='x|y']".
//   - The "|" split removes quotes before the legs are split, so single
//     quotes protect neither a "," inside "[]" ("[a='x,y']" sets a=x) nor
//     one in an endpoint. Use "[a=x\,y]", "[^^;a=x,y]" or "app=a\,b".
//   - A "," inside any "[...]" of a try, not only a leg's leading block,
//     does not separate legs; FreeSWITCH replaces it with a 0x02 byte,
//     which then stays in the endpoint ("x/[1,2]" becomes "x/[1\x022]").
//
// String escapes accordingly: an endpoint's ',' is written "\,"; a leg
// variable holding a quote needs 15 backslashes before it.
//
// # Empty parts and errors
//
// Empty legs, tries and groups are kept, because FreeSWITCH tries them and
// each fails on its own: a leg with an empty endpoint fails with
// CHAN_NOT_IMPLEMENTED, a try with no legs fails at once and the next try
// runs, a group with no tries fails while the other groups run. A trailing
// separator adds nothing ("a|" is one try, "a||" two).
//
// Parse returns a [*SyntaxError] with the byte offset for: an empty string
// or one with no endpoint at all; a "<", "{" or "[" block with no matching
// close (FreeSWITCH logs "Parse Error!" and fails the originate, or for a
// "[" that try); and, where FreeSWITCH's behaviour is undefined or garbage:
// "^^" ending a block; more than 128 groups, tries or legs, or 1024
// variables in one list (FreeSWITCH's array sizes: it would glue the rest
// together); a block followed by one starting with two opening brackets
// ("{a=1}{{b=2}}"); a "[" closed in another leg of a try split with "^^X";
// a NUL byte.
//
// One deviation: a backslash that ends a token is kept as text, where
// FreeSWITCH's splitter reads on past the end of the token.
package dialstring

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/switchboard-voip/switchboard/vars"
)

// maxPeers is FreeSWITCH's MAX_PEERS: the most groups, tries per group and
// legs per try.
const maxPeers = 128

// maxVars is the size of switch_event_create_brackets' item array: the most
// variables in one block (and, here, in one list).
const maxVars = 1024

// Markers FreeSWITCH substitutes for the commas inside "[...]" of a try
// before splitting it into legs: quoted (or "^^"-delimited) ones become
// commas again, unquoted ones separate the block's variables.
const (
	quotedComma   = 0x01
	unquotedComma = 0x02
)

// Var is one name=value pair, in the order written.
type Var struct{ Name, Value string }

// Vars is an ordered list of variables; a name may appear more than once.
type Vars []Var

// Get returns the last value set for name, and whether it was set at all.
// An empty value (written as a pair of quotes) is returned as ("", true).
func (v Vars) Get(name string) (string, bool) {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i].Name == name {
			return v[i].Value, true
		}
	}
	return "", false
}

// Leg is one endpoint to call, with its "[...]" variables.
type Leg struct {
	Vars     Vars
	Endpoint string // e.g. "sofia/internal/1000@1.2.3.4", "user/1000@dom", "error/USER_BUSY"; may be empty
}

// Try is one "|"-separated attempt: its legs ring at once.
type Try struct {
	// Vars is never set by Parse: FreeSWITCH has no per-try variables (see
	// the package comment). A caller building a DialString may set it;
	// String renders it at the front of each of the try's legs' "[...]",
	// the nearest FreeSWITCH equivalent.
	Vars Vars
	Legs []Leg
}

// Group is one ":_:"-separated enterprise group.
type Group struct {
	Vars  Vars // its leading "<...>" and "{...}" blocks, in order
	Tries []Try
}

// DialString is a parsed dial string.
type DialString struct {
	Vars   Vars // leading "<...>" blocks: for every group
	Groups []Group
}

// Enterprise reports whether d has more than one group, i.e. whether
// FreeSWITCH would run an enterprise originate (which, unlike a plain one,
// sets ignore_early_media=true). FreeSWITCH also does so, with one group,
// when the only ":_:" is inside the leading "<...>".
func (d *DialString) Enterprise() bool { return len(d.Groups) > 1 }

// SplitEndpoint splits an endpoint at its first '/' into the technology and
// the rest, like switch_ivr_originate: "sofia/internal/1000@x" gives
// "sofia" and "internal/1000@x". Without a '/' the rest is empty.
func SplitEndpoint(ep string) (tech, rest string) {
	tech, rest, _ = strings.Cut(ep, "/")
	return tech, rest
}

// SyntaxError is a dial string Parse refuses.
type SyntaxError struct {
	Offset int // byte offset in the input
	Msg    string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("dialstring: offset %d: %s", e.Offset, e.Msg)
}

// text is a byte string that remembers, for each byte, its offset in the
// input, so that errors found after unquoting can still point at it.
type text struct {
	b   []byte
	pos []int // len(b)+1 entries; the last is the offset just past the end
}

func newText(s string) text {
	t := text{b: []byte(s), pos: make([]int, len(s)+1)}
	for i := range t.pos {
		t.pos[i] = i
	}
	return t
}

func (t text) sub(i, j int) text { return text{t.b[i:j:j], t.pos[i : j+1 : j+1]} }

func (t text) trimSpaces() text {
	i := 0
	for i < len(t.b) && t.b[i] == ' ' {
		i++
	}
	return t.sub(i, len(t.b))
}

func (t text) clone() text {
	return text{bytes.Clone(t.b), append([]int(nil), t.pos...)}
}

func errAt(off int, format string, a ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, a...)}
}

// Parse parses a dial string. See the package comment for the syntax and
// the errors.
func Parse(s string) (*DialString, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nil, errAt(i, "NUL byte")
	}
	if strings.Trim(s, " ") == "" {
		return nil, errAt(0, "empty dial string")
	}
	t := newText(s)
	d := &DialString{}
	if !strings.Contains(s, ":_:") {
		g, err := parseGroup(t, &d.Vars)
		if err != nil {
			return nil, err
		}
		d.Groups = []Group{g}
	} else {
		// switch_ivr_enterprise_originate: "<...>" first, then the split.
		var err error
		t = t.trimSpaces()
		if t, err = takeBlocks(t, '<', '>', &d.Vars); err != nil {
			return nil, err
		}
		parts := splitString(t.trimSpaces(), ":_:")
		if len(parts) > maxPeers {
			return nil, errAt(parts[maxPeers].pos[0], "more than %d :_: groups", maxPeers)
		}
		for _, p := range parts {
			g, err := parseGroup(p, nil)
			if err != nil {
				return nil, err
			}
			d.Groups = append(d.Groups, g)
		}
	}
	for _, g := range d.Groups {
		for _, tr := range g.Tries {
			for _, l := range tr.Legs {
				if l.Endpoint != "" {
					return d, nil
				}
			}
		}
	}
	return nil, errAt(len(s), "no endpoint to call")
}

// parseGroup parses what switch_ivr_originate gets: leading "<...>" blocks
// (into *ultra, or the group's own variables when ultra is nil), "{...}"
// blocks, then the tries.
func parseGroup(t text, ultra *Vars) (Group, error) {
	var g Group
	var err error
	t = t.trimSpaces()
	if ultra == nil {
		ultra = &g.Vars
	}
	if t, err = takeBlocks(t, '<', '>', ultra); err != nil {
		return g, err
	}
	if t, err = takeBlocks(t, '{', '}', &g.Vars); err != nil {
		return g, err
	}
	t = t.trimSpaces()
	if len(t.b) == 0 {
		return g, nil // "No origination URL specified"
	}
	tries := separate(t, '|', maxPeers+1)
	if len(tries) > maxPeers {
		return g, errAt(tries[maxPeers].pos[0], "more than %d | tries", maxPeers)
	}
	for _, ts := range tries {
		marked, spans := markCommas(ts)
		legs := separate(marked, ',', maxPeers+1)
		if len(legs) > maxPeers {
			return g, errAt(legs[maxPeers].pos[0], "more than %d legs in one try", maxPeers)
		}
		if err := checkSpans(spans, legs); err != nil {
			return g, err
		}
		var tr Try
		for _, ls := range legs {
			l, err := parseLeg(ls)
			if err != nil {
				return g, err
			}
			tr.Legs = append(tr.Legs, l)
		}
		g.Tries = append(g.Tries, tr)
	}
	return g, nil
}

// takeBlocks parses consecutive open...close variable blocks at the start
// of t into *dst and returns what follows them.
func takeBlocks(t text, open, close byte, dst *Vars) (text, error) {
	for len(t.b) > 0 && t.b[0] == open {
		vars, rest, err := parseBlock(t, open, close, ',')
		if err != nil {
			return t, err
		}
		*dst = append(*dst, vars...)
		if len(*dst) > maxVars {
			return t, errAt(t.pos[0], "more than %d variables", maxVars)
		}
		t = rest
	}
	return t, nil
}

// parseLeg parses one leg: "[...]" blocks, then the endpoint.
func parseLeg(t text) (Leg, error) {
	var l Leg
	t = t.trimSpaces()
	if len(t.b) > 0 && t.b[0] == '[' {
		t = t.clone()
	}
	for len(t.b) > 0 && t.b[0] == '[' {
		// Commas marked as quoted become commas again; the unquoted ones
		// separate the variables.
		if end := findEndParen(t.b, '[', ']'); end > 0 {
			for i := 1; i < end; i++ {
				if t.b[i] == quotedComma {
					t.b[i] = ','
				}
			}
		}
		vars, rest, err := parseBlock(t, '[', ']', unquotedComma)
		if err != nil {
			return l, err
		}
		l.Vars = append(l.Vars, vars...)
		if len(l.Vars) > maxVars {
			return l, errAt(t.pos[0], "more than %d variables", maxVars)
		}
		t = rest
	}
	l.Endpoint = string(t.trimSpaces().b)
	return l, nil
}

// markCommas is the pass switch_ivr_originate makes over a try before
// splitting it on ',': inside each "[...]" (found anywhere in the try) an
// unescaped ',' becomes quotedComma when inside quotes or when the bracket
// starts with "^^", else unquotedComma. It also returns the input offsets
// of each such bracket pair.
func markCommas(t text) (text, [][2]int) {
	t = t.clone()
	b := t.b
	// match[i] is what findEndParen(b[i:]) gives for a '[' at i, computed
	// for all of them at once.
	match := make(map[int]int)
	var stack []int
	for i, c := range b {
		switch c {
		case '[':
			stack = append(stack, i)
		case ']':
			if n := len(stack); n > 0 {
				match[stack[n-1]] = i
				stack = stack[:n-1]
			}
		}
	}
	var spans [][2]int
	end := -1
	quoted, alt := false, false
	for i := 0; i < len(b); i++ {
		if end < 0 && b[i] == '[' {
			if e, ok := match[i]; ok {
				end = e
				spans = append(spans, [2]int{t.pos[i], t.pos[end]})
			}
			alt = i+2 < len(b) && b[i+1] == '^' && b[i+2] == '^'
			quoted = false
		}
		if b[i] == '\'' {
			quoted = !quoted
		}
		if end >= 0 && i < end && b[i] == ',' && b[i-1] != '\\' {
			if quoted || alt {
				b[i] = quotedComma
			} else {
				b[i] = unquotedComma
			}
		}
		if i == end {
			end = -1
		}
	}
	return t, spans
}

// checkSpans refuses a try whose legs were split with a "^^X" delimiter
// across a "[...]": FreeSWITCH's comma marking then runs from one leg into
// the next. (With ',' it cannot happen: the marking keeps such commas from
// splitting.)
func checkSpans(spans [][2]int, legs []text) error {
	if len(spans) == 0 {
		return nil
	}
	leg := make(map[int]int) // input offset -> leg index
	for i, l := range legs {
		for _, p := range l.pos[:len(l.b)] {
			leg[p] = i
		}
	}
	for _, sp := range spans {
		a, okA := leg[sp[0]]
		b, okB := leg[sp[1]]
		if a != b || !okA || !okB {
			return errAt(sp[0], "'[' closed in another leg")
		}
	}
	return nil
}

// parseBlock parses the variable block at the start of t (t.b[0] is open),
// switch_event_create_brackets-style, with c as the default separator, and
// returns its variables and the text after it.
func parseBlock(t text, open, close, c byte) (Vars, text, error) {
	end := findEndParen(t.b, open, close)
	if end < 0 {
		return nil, t, errAt(t.pos[0], "unbalanced %q: no matching %q", open, close)
	}
	rest := t.sub(end+1, len(t.b))
	// FreeSWITCH also tries to read a following block that starts with two
	// opening brackets, from the wrong place. Refuse instead.
	if n := rest.trimSpaces(); len(n.b) > 0 && n.b[0] == open {
		if after := n.sub(1, len(n.b)).trimSpaces(); findEndParen(after.b, open, close) >= 0 {
			return nil, t, errAt(after.pos[0], "a %q block after a %q...%q block must not start with %q", open, open, close, open)
		}
	}
	in := t.sub(1, end)
	if len(in.b) >= 2 && in.b[0] == '^' && in.b[1] == '^' {
		if len(in.b) == 2 {
			return nil, t, errAt(in.pos[0], "^^ without a separator character")
		}
		c = in.b[2]
		in = in.sub(3, len(in.b))
	}
	items := separate(in, c, maxVars+1)
	if len(items) > maxVars {
		return nil, t, errAt(items[maxVars].pos[0], "more than %d variables", maxVars)
	}
	var vars Vars
	for _, it := range items {
		if kv := separate(it, '=', 2); len(kv) == 2 {
			vars = append(vars, Var{Name: string(kv[0].b), Value: string(kv[1].b)})
		}
	}
	return vars, rest, nil
}

// findEndParen is switch_find_end_paren: after leading spaces, b must start
// with open; it returns the index of the matching close, or -1.
func findEndParen(b []byte, open, close byte) int {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i >= len(b) || b[i] != open {
		return -1
	}
	depth := 1
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case open:
			depth++
		case close:
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return -1
}

// splitString is switch_separate_string_string: a plain split on sep that
// keeps empty parts, the last one included.
func splitString(t text, sep string) []text {
	var out []text
	for {
		i := bytes.Index(t.b, []byte(sep))
		if i < 0 {
			return append(out, t)
		}
		out = append(out, t.sub(0, i))
		t = t.sub(i+len(sep), len(t.b))
	}
}

// separate is switch_separate_string with at most limit items (the last
// one keeps the rest): "^^X" at the start changes the delimiter, then the
// items are split and each one is cleaned (see cleanup).
func separate(t text, delim byte, limit int) []text {
	if len(t.b) >= 4 && t.b[0] == '^' && t.b[1] == '^' {
		delim = t.b[2]
		t = t.sub(3, len(t.b))
	}
	spans := vars.SeparateSpans(string(t.b), delim, limit)
	if delim == ' ' {
		delim = 0 // cleanup decodes no "\<delimiter>" then
	}
	out := make([]text, len(spans))
	for i, sp := range spans {
		out[i] = cleanup(t.sub(sp[0], sp[1]), delim)
	}
	return out
}

// cleanup is cleanup_separated_string: it drops leading spaces and
// trailing unquoted ones, removes quote pairs and decodes escapes.
func cleanup(t text, delim byte) text {
	t = t.trimSpaces()
	b := t.b
	out := text{b: make([]byte, 0, len(b)), pos: make([]int, 0, len(b)+1)}
	keep := -1 // length to keep: just past the last character that is not an unquoted space
	quoted := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			e, ok := b[i+1], true
			switch {
			case e == '\'' || e == '"' || e == '\\' || (delim != 0 && e == delim):
			case unescape(e) != e:
				e = unescape(e)
			default:
				ok = false
			}
			if ok {
				out.b = append(out.b, e)
				out.pos = append(out.pos, t.pos[i])
				keep = len(out.b)
				i++
				continue
			}
		}
		if c == '\'' && (quoted || bytes.IndexByte(b[i+1:], '\'') >= 0) {
			if quoted = !quoted; quoted {
				keep = len(out.b)
			}
			continue
		}
		out.b = append(out.b, c)
		out.pos = append(out.pos, t.pos[i])
		if c != ' ' || quoted {
			keep = len(out.b)
		}
	}
	if keep >= 0 {
		out.b = out.b[:keep]
		out.pos = out.pos[:keep]
	}
	out.pos = append(out.pos, t.pos[len(b)])
	return out
}

// unescape decodes the character after a backslash.
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
