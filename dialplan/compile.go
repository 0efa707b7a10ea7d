package dialplan

import (
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/vars"
	"github.com/switchboard-voip/switchboard/xmltree"
)

// maxNesting bounds nested conditions, as FreeSWITCH's MAX_RECUR does.
const maxNesting = 100

// regexCacheSize bounds the hunt-time cache of expanded expressions.
const regexCacheSize = 4096

// Compile validates the dialplan and prepares it for hunting: it indexes
// contexts, parses break/continue/inline/loop values, compiles every
// expression that does not depend on ${variables} and every set of time
// attributes. It reports every problem found, each with its position.
// Compile must run before Hunt; FromXML runs it.
func (d *Dialplan) Compile() error {
	var errs xmltree.ErrorList
	d.index = make(map[string]*Context, len(d.Contexts))
	for _, c := range d.Contexts {
		k := strings.ToLower(c.Name)
		if c.Name == "" {
			errs = append(errs, xmltree.Errorf(c.Pos, "context without a name"))
			continue
		}
		if _, dup := d.index[k]; !dup {
			d.index[k] = c // first wins; later same-name contexts are never hunted
		}
		for _, e := range c.Extensions {
			e.cont = caller.True(e.Continue)
			for _, cond := range e.Conditions {
				compileCondition(cond, 1, &errs)
			}
		}
	}
	d.cache = newRegexCache(regexCacheSize)
	return errs.Err()
}

func compileCondition(c *Condition, depth int, errs *xmltree.ErrorList) {
	if depth > maxNesting {
		*errs = append(*errs, xmltree.Errorf(c.Pos, "conditions nested more than %d deep", maxNesting))
		return
	}
	switch strings.ToLower(c.Break) {
	case "", "on-false":
		c.brk = breakOnFalse
	case "on-true":
		c.brk = breakOnTrue
	case "always":
		c.brk = breakAlways
	case "never":
		c.brk = breakNever
	default:
		*errs = append(*errs, xmltree.Errorf(c.Pos, "unknown break value %q (want on-false, on-true, always or never)", c.Break))
	}
	if c.Regex == "" {
		c.mode = regexNone
	} else {
		switch strings.ToLower(c.Regex) {
		case "all":
			c.mode = regexAll
		case "xor":
			c.mode = regexXor
		default: // FreeSWITCH treats anything else as "any"
			c.mode = regexAny
		}
	}
	c.requireNested = true
	if c.RequireNested != "" {
		c.requireNested = caller.True(c.RequireNested)
	}
	c.hasField = c.Field != ""
	c.fieldExpand = strings.Contains(c.Field, "$")
	c.exprExpand = vars.NeedsExpansion(c.Expression)
	c.exprParen = strings.Contains(c.Expression, "(")
	if c.mode == regexNone && c.hasField {
		c.re, c.exprParen = compileStatic(c.Expression, c.exprParen, c.Pos, "condition expression", errs)
	}
	tm, err := compileTime(&c.Time)
	if err != nil {
		*errs = append(*errs, &xmltree.Error{Pos: c.Pos, Msg: "time condition", Err: err})
	}
	c.tm = tm
	for _, r := range c.Regexes {
		r.fieldExpand = strings.Contains(r.Field, "$")
		r.exprExpand = vars.NeedsExpansion(r.Expression)
		r.exprParen = strings.Contains(r.Expression, "(")
		if r.Field != "" {
			r.re, r.exprParen = compileStatic(r.Expression, r.exprParen, r.Pos, "regex expression", errs)
		}
		tm, err := compileTime(&r.Time)
		if err != nil {
			*errs = append(*errs, &xmltree.Error{Pos: r.Pos, Msg: "time condition", Err: err})
		}
		r.tm = tm
	}
	for _, a := range c.Actions {
		compileAction(a, errs)
	}
	for _, a := range c.AntiActions {
		compileAction(a, errs)
	}
	for _, n := range c.Conditions {
		compileCondition(n, depth+1, errs)
	}
}

// compileStatic compiles an expression whose text does not depend on
// variables, reporting a bad one at load time. An expression with escaped
// data but no ${} reference is compiled as the expansion rewrites it, and
// paren is recomputed from that text. An expression with a ${} reference
// gives nil: it is compiled per hunt.
func compileStatic(expr string, paren bool, pos Pos, what string, errs *xmltree.ErrorList) (*Regex, bool) {
	if vars.HasReference(expr) {
		return nil, paren
	}
	if vars.NeedsExpansion(expr) {
		expr = vars.Expand(expr, noVars, nil)
		paren = strings.Contains(expr, "(")
	}
	re, err := CompileRegex(expr)
	if err != nil {
		*errs = append(*errs, &xmltree.Error{Pos: pos, Msg: what, Err: err})
	}
	return re, paren
}

// noVars is the empty variable lookup used to apply an expansion that
// references no variable.
var noVars = vars.LookupFunc(func(string) (string, bool) { return "", false })

func compileAction(a *Action, errs *xmltree.ErrorList) {
	if a.App == "" {
		*errs = append(*errs, xmltree.Errorf(a.Pos, "action without an application"))
	}
	a.inline = caller.True(a.Inline)
	a.loop = 1
	if a.Loop != "" {
		a.loop = atoi(a.Loop)
	}
	a.hasDollarN = hasDollarN(a.Data)
}

// atoi parses a leading integer the way C's atoi does: optional spaces and
// sign, then digits; anything else yields 0.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(s[:j])
	return n
}

// hasDollarN reports whether s contains a $N or ${N} capture reference.
func hasDollarN(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			continue
		}
		n := s[i+1]
		if n >= '0' && n <= '9' {
			return true
		}
		if n == '{' && i+2 < len(s) && s[i+2] >= '0' && s[i+2] <= '9' {
			return true
		}
	}
	return false
}

// ActionRef names an application used by the dialplan and where.
type ActionRef struct {
	App    string
	Inline bool
	Pos    Pos
}

// Actions lists every action and anti-action of every context (including
// shadowed same-name contexts), in document order. `check` uses it to warn
// about unknown applications.
func (d *Dialplan) Actions() []ActionRef {
	var out []ActionRef
	var walk func(c *Condition)
	walk = func(c *Condition) {
		for _, a := range c.Actions {
			out = append(out, ActionRef{a.App, a.inline, a.Pos})
		}
		for _, a := range c.AntiActions {
			out = append(out, ActionRef{a.App, a.inline, a.Pos})
		}
		for _, n := range c.Conditions {
			walk(n)
		}
	}
	for _, ctx := range d.Contexts {
		for _, e := range ctx.Extensions {
			for _, c := range e.Conditions {
				walk(c)
			}
		}
	}
	return out
}
