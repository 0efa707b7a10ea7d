package dialplan

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2"
)

// MatchTimeout bounds one match of an expression that needed the
// backtracking (PCRE-compatible) engine: callers control the subject, so a
// pathological pattern must not hang a call.
const MatchTimeout = 50 * time.Millisecond

// Regex is a compiled dialplan expression with FreeSWITCH's semantics: an
// unanchored search, PCRE syntax, optional /re/flags delimiters and
// Asterisk-style _NXX patterns.
//
// Go's RE2 engine is used whenever it accepts the expression; the
// backtracking engine (github.com/dlclark/regexp2) only for what RE2 cannot
// express (lookaround, backreferences).
type Regex struct {
	expr string // as written
	re2  *regexp.Regexp
	pcre *regexp2.Regexp
	// prefix is a literal every match must start the subject with (for
	// expressions anchored with ^); a cheap pre-filter before the engine.
	prefix string
}

// CompileRegex compiles a dialplan expression.
func CompileRegex(expr string) (*Regex, error) {
	pattern, err := translateExpr(expr)
	if err != nil {
		return nil, err
	}
	r := &Regex{expr: expr}
	if re, err := regexp.Compile(pattern); err == nil {
		r.re2 = re
		r.prefix = anchoredPrefix(pattern)
		return r, nil
	}
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %w", expr, err)
	}
	re.MatchTimeout = MatchTimeout
	r.pcre = re
	return r, nil
}

// translateExpr turns FreeSWITCH expression syntax into a pattern both
// engines understand: "_1NXX" Asterisk patterns and "/re/flags" delimiters.
func translateExpr(expr string) (string, error) {
	if strings.HasPrefix(expr, "_") {
		return astToRegex(expr[1:]), nil
	}
	if strings.HasPrefix(expr, "/") {
		end := strings.LastIndexByte(expr, '/')
		if end == 0 {
			return "", errors.New("expression starts with / but has no closing /")
		}
		flags := ""
		for _, f := range expr[end+1:] {
			switch f {
			case 'i':
				flags += "i"
			case 's':
				flags += "s"
			default:
				// FreeSWITCH ignores flags it does not know.
			}
		}
		pat := expr[1:end]
		if flags != "" {
			pat = "(?" + flags + ")" + pat
		}
		return pat, nil
	}
	return expr, nil
}

// astToRegex converts an Asterisk extension pattern (without its leading
// "_") to an anchored regular expression, as switch_ast2regex does.
func astToRegex(p string) string {
	var b strings.Builder
	b.WriteByte('^')
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case 'N':
			b.WriteString("[2-9]")
		case 'X':
			b.WriteString("[0-9]")
		case 'Z':
			b.WriteString("[1-9]")
		case '.':
			b.WriteString(".*")
		default:
			b.WriteByte(p[i])
		}
	}
	b.WriteByte('$')
	return b.String()
}

// anchoredPrefix returns the literal text a subject must begin with for
// pattern to match: the literals that follow a leading ^ (outside
// multi-line mode), looking into leading capture groups. It returns "" when
// there is no such text or when case folding is involved.
func anchoredPrefix(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	var b strings.Builder
	var walk func(subs []*syntax.Regexp) bool // reports whether every sub was literal
	walk = func(subs []*syntax.Regexp) bool {
		for _, s := range subs {
			switch s.Op {
			case syntax.OpLiteral:
				if s.Flags&syntax.FoldCase != 0 {
					return false
				}
				b.WriteString(string(s.Rune))
			case syntax.OpCapture:
				if !walk(s.Sub) {
					return false
				}
			case syntax.OpConcat:
				if !walk(s.Sub) {
					return false
				}
			default:
				return false
			}
		}
		return true
	}
	walk(re.Sub[1:])
	return b.String()
}

// String returns the expression as written.
func (r *Regex) String() string { return r.expr }

// Backtracking reports whether the expression needed the PCRE-compatible
// engine.
func (r *Regex) Backtracking() bool { return r.pcre != nil }

// MatchString reports whether s contains a match. A match that times out
// counts as no match.
func (r *Regex) MatchString(s string) bool {
	if r.re2 != nil {
		if !strings.HasPrefix(s, r.prefix) {
			return false
		}
		return r.re2.MatchString(s)
	}
	ok, err := r.pcre.MatchString(s)
	return err == nil && ok
}

// Submatches returns the whole match followed by the capture groups, or
// nil when s does not match. Like PCRE's match count, the slice stops at
// the highest-numbered group that took part in the match; groups inside it
// that did not take part are "".
func (r *Regex) Submatches(s string) []string {
	caps, _ := r.SubmatchesUnset(s)
	return caps
}

// SubmatchesUnset is Submatches that also tells a group that did not take
// part in the match from one that matched the empty string: unset[i] is
// true for the former. unset is nil when every group took part.
// FreeSWITCH's switch_capture_regex skips unset groups but pushes empty
// ones (which deletes the variable being filled).
func (r *Regex) SubmatchesUnset(s string) (caps []string, unset []bool) {
	mark := func(i, n int) {
		if unset == nil {
			unset = make([]bool, n)
		}
		unset[i] = true
	}
	if r.re2 != nil {
		if !strings.HasPrefix(s, r.prefix) {
			return nil, nil
		}
		idx := r.re2.FindStringSubmatchIndex(s)
		if idx == nil {
			return nil, nil
		}
		n := len(idx) / 2
		for n > 1 && idx[2*(n-1)] < 0 {
			n--
		}
		caps = make([]string, n)
		for i := range caps {
			if a, b := idx[2*i], idx[2*i+1]; a >= 0 {
				caps[i] = s[a:b]
			} else {
				mark(i, n)
			}
		}
		return caps, unset
	}
	m, err := r.pcre.FindStringMatch(s)
	if err != nil || m == nil {
		return nil, nil
	}
	groups := m.Groups()
	n := len(groups)
	for n > 1 && len(groups[n-1].Captures) == 0 {
		n--
	}
	caps = make([]string, n)
	for i := 0; i < n; i++ {
		if len(groups[i].Captures) > 0 {
			caps[i] = groups[i].String()
		} else {
			mark(i, n)
		}
	}
	return caps, unset
}

// regexCache holds expressions compiled at hunt time (those containing
// ${...}, whose text is known only after expansion). It is bounded: when
// full it is cleared, so callers that vary the expression cannot grow it
// without limit.
type regexCache struct {
	mu  sync.RWMutex
	m   map[string]cachedRegex
	max int
}

type cachedRegex struct {
	re  *Regex
	err error
}

func newRegexCache(max int) *regexCache {
	return &regexCache{m: make(map[string]cachedRegex), max: max}
}

func (c *regexCache) get(expr string) (*Regex, error) {
	c.mu.RLock()
	e, ok := c.m[expr]
	c.mu.RUnlock()
	if ok {
		return e.re, e.err
	}
	re, err := CompileRegex(expr)
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[expr] = cachedRegex{re, err}
	c.mu.Unlock()
	return re, err
}
