package dialplan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/vars"
)

// Env is everything one hunt needs from the world. Profile is required;
// the rest may be left zero.
type Env struct {
	// Profile is the caller profile: destination_number, context, the
	// fields bare condition fields read.
	Profile *caller.Profile
	// Vars holds the channel variables. The hunt reads them, sets
	// DP_MATCH / DP_REGEX_MATCH_n, and inline applications change them.
	// Nil means an empty store is created for the hunt.
	Vars *vars.Store
	// Globals are looked up after channel variables and profile fields.
	Globals vars.Lookup
	// API runs ${api(args)} during expansion; nil makes every API call
	// expand to "".
	API vars.API
	// Now is the instant the time conditions test; zero means time.Now().
	Now time.Time
	// Inline runs an action marked inline="true" at the moment the hunt
	// reaches it. It receives the data with $N already substituted and
	// ${} not yet expanded; it decides (as FreeSWITCH's exec_app does)
	// whether the application may run during routing. Nil skips inline
	// actions.
	Inline func(app, data string)
	// Trace, when set, receives FreeSWITCH-style dialplan trace lines
	// ("parsing [default->echo] continue=false", "Regex (PASS) ...").
	Trace func(line string)
	// ChannelName appears in trace lines (e.g. "sofia/internal/1000@host").
	ChannelName string
}

// Get looks a variable up the way the executor does: channel variables,
// then caller-profile fields, then globals.
func (e *Env) Get(name string) (string, bool) {
	if v, ok := e.Vars.Get(name); ok {
		return v, true
	}
	if v, ok := e.Profile.Get(name); ok {
		return v, true
	}
	if e.Globals != nil {
		return e.Globals.Get(name)
	}
	return "", false
}

func (e *Env) expand(s string) string { return vars.Expand(s, e, e.API) }

// Step is one application queued by the hunt, with its data exactly as the
// hunt leaves it ($N substituted, ${} not yet expanded).
type Step struct {
	App  string
	Data string
	Pos  Pos // where the action was written
}

// Result is the outcome of a hunt.
type Result struct {
	// Context is the context actually hunted (after any fallback to
	// "global"), or the requested one when neither exists.
	Context string
	// Extension is the name of the first extension that queued or ran an
	// action; "" when the hunt found nothing.
	Extension string
	// Found reports whether the hunt produced a caller extension. It can
	// be true with no Actions when only inline actions ran: the call is
	// then routed and ends at once with NORMAL_CLEARING, as in FreeSWITCH.
	Found bool
	// Actions is the application list to execute, in order.
	Actions []Step

	buf [6]Step // backing store for short action lists (one allocation per hunt)
}

// Hunt walks the caller's context (env.Profile.Context, default "default",
// falling back to the "global" context) exactly as mod_dialplan_xml does
// and returns the resulting application list. It is safe to call
// concurrently on one Dialplan with different Envs.
func (d *Dialplan) Hunt(env *Env) *Result {
	if env.Vars == nil {
		env.Vars = vars.NewStore()
	}
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	want := env.Profile.Context
	if want == "" {
		want = "default"
	}
	res := &Result{Context: want}
	ctx := d.Context(want)
	if ctx == nil {
		ctx = d.Context("global")
	}
	if ctx == nil {
		h := hunter{env: env}
		h.tracef("Context %s not found", want)
		return res
	}
	res.Context = ctx.Name
	h := hunter{d: d, env: env, res: res}
	exts := ctx.Extensions
	if v, ok := env.Vars.Get("auto_hunt"); ok && caller.True(v) {
		for i, e := range exts {
			if strings.EqualFold(e.Name, env.Profile.DestinationNumber) {
				exts = exts[i:]
				break
			}
		}
	}
	for _, e := range exts {
		name := e.Name
		if name == "" {
			name = "UNKNOWN"
		}
		if env.Trace != nil {
			cont := e.Continue
			if cont == "" {
				cont = "false"
			}
			if h.env.Trace != nil {
				h.tracef("parsing [%s->%s] continue=%s", want, name, cont)
			}
		}
		if h.parse(e.Conditions, nil, name, 0) && !e.cont {
			break
		}
	}
	return res
}

// hunter carries one hunt's state.
type hunter struct {
	d   *Dialplan
	env *Env
	res *Result
}

func (h *hunter) tracef(format string, args ...any) {
	if h.env.Trace == nil {
		return
	}
	prefix := "Dialplan: "
	if h.env.ChannelName != "" {
		prefix += h.env.ChannelName + " "
	}
	h.env.Trace(prefix + fmt.Sprintf(format, args...))
}

// matchState mirrors the variables mod_dialplan_xml's parse_exten keeps
// for the condition being evaluated: whether a field was tested, its value,
// the expression (valid=false where FreeSWITCH's pointer would be NULL),
// the captures, and proceed (the PCRE match count, 0 on no match).
type matchState struct {
	field     bool
	fieldName string
	fieldData string
	expr      string
	exprValid bool
	caps      []string
	unset     []bool // unset[i]: group i did not take part (nil: all did)
}

// parse is parse_exten: it evaluates conds (an extension's conditions,
// or a condition's nested ones with parent set) and reports "proceed".
func (h *hunter) parse(conds []*Condition, parent *Condition, extName string, recur int) bool {
	proceed := 0
	name := extName
	reqNest := true
	if recur > 0 {
		if recur > maxNesting {
			h.tracef("Recursion LIMIT!")
			return false
		}
		name = extName + "_recur_" + strconv.Itoa(recur)
		reqNest = parent.requireNested
	}

	for _, c := range conds {
		anti := true
		tm := h.timeMatch(c.tm)
		brk := c.Break
		if brk == "" {
			brk = "on-false"
		}
		switch tm {
		case 1:
			if h.env.Trace != nil {
				h.tracef("Date/Time Match (PASS) [%s] break=%s", name, brk)
			}
			anti = false
			proceed = 1
		case 0:
			if h.env.Trace != nil {
				h.tracef("Date/TimeMatch (FAIL) [%s] break=%s", name, brk)
			}
			proceed = 0
		}

		var st matchState
		if c.mode != regexNone {
			anti, proceed, st = h.regexList(c, name, anti, proceed)
		} else {
			expr := c.Expression
			if c.exprExpand {
				expr = h.env.expand(expr)
			}
			st.expr, st.exprValid = expr, true
			if c.hasField {
				st.field, st.fieldName = true, c.Field
				st.fieldData = h.fieldValue(c.Field, c.fieldExpand)
				re, paren := c.re, c.exprParen
				if re == nil && c.exprExpand {
					re, paren = h.compiled(expr), strings.IndexByte(expr, '(') >= 0
				}
				proceed, st.caps, st.unset = h.match(re, st.fieldData, paren)
				if proceed > 0 {
					if h.env.Trace != nil {
						h.tracef("Regex (PASS) [%s] %s(%s) =~ /%s/ break=%s", name, c.Field, st.fieldData, expr, brk)
					}
					anti = false
				} else {
					if h.env.Trace != nil {
						h.tracef("Regex (FAIL) [%s] %s(%s) =~ /%s/ break=%s", name, c.Field, st.fieldData, expr, brk)
					}
				}
			} else if tm == -1 {
				if h.env.Trace != nil {
					h.tracef("Absolute Condition [%s]", name)
				}
				anti = false
				proceed = 1
			}
		}

		if anti {
			for _, a := range c.AntiActions {
				h.emit(a, a.Data, name, true)
			}
			if len(c.AntiActions) > 0 {
				proceed = 1
			}
		} else {
			subst := st.field && st.exprValid && strings.IndexByte(st.expr, '(') >= 0
			if subst {
				setCaptures(h.env.Vars, "DP_MATCH", st.caps, st.unset)
			}
			for _, a := range c.Actions {
				data := a.Data
				// Without $N the substitution copies the data unchanged
				// (it always fits the buffer) unless proceed is 0.
				if subst && (a.hasDollarN || proceed == 0) {
					limit := (len(a.Data) + len(st.fieldData) + 10) * proceed
					data = Substitute(a.Data, st.caps, limit)
				}
				h.emit(a, data, name, false)
			}
		}

		if (!anti && c.brk == breakOnTrue) || (anti && c.brk == breakOnFalse) || c.brk == breakAlways {
			break
		}
		if proceed != 0 && len(c.Conditions) > 0 {
			if !h.parse(c.Conditions, c, extName, recur+1) {
				proceed = 0
				if c.brk == breakNever {
					continue
				}
				break
			}
			proceed = 1
		}
	}
	if !reqNest {
		proceed = 1
	}
	return proceed != 0
}

// regexList evaluates a regex="any|all|xor" condition's <regex> children,
// including FreeSWITCH's handling of the saved capture (see spec §2.5).
func (h *hunter) regexList(c *Condition, name string, anti bool, proceed int) (bool, int, matchState) {
	all := c.mode == regexAll
	xor := c.mode == regexXor
	mode := "any"
	if all {
		mode = "all"
	}
	pass, fail := 0, 0
	var st matchState
	var saved *matchState
	savedProceed := 0
	h.env.Vars.UnsetPrefix("DP_REGEX_MATCH")
	for i, r := range c.Regexes {
		rtm := h.timeMatch(r.tm)
		switch rtm {
		case 1:
			if h.env.Trace != nil {
				h.tracef("Date/Time Match (PASS) [%s]", name)
			}
		case 0:
			if h.env.Trace != nil {
				h.tracef("Date/TimeMatch (FAIL) [%s]", name)
			}
		}
		expr := r.Expression
		if r.exprExpand {
			expr = h.env.expand(expr)
		}
		st = matchState{field: r.Field != "", fieldName: r.Field, expr: expr, exprValid: true}
		stop := false
		if st.field {
			st.fieldData = h.fieldValue(r.Field, r.fieldExpand)
			re, paren := r.re, r.exprParen
			if re == nil && r.exprExpand {
				re, paren = h.compiled(expr), strings.IndexByte(expr, '(') >= 0
			}
			proceed, st.caps, st.unset = h.match(re, st.fieldData, paren)
			if proceed > 0 {
				if h.env.Trace != nil {
					h.tracef("Regex (PASS) [%s] %s(%s) =~ /%s/ match=%s", name, r.Field, st.fieldData, expr, mode)
				}
				pass++
				stop = !all && !xor
			} else {
				if h.env.Trace != nil {
					h.tracef("Regex (FAIL) [%s] %s(%s) =~ /%s/ match=%s", name, r.Field, st.fieldData, expr, mode)
				}
				fail++
				stop = all && !xor
			}
		} else if rtm == -1 {
			if h.env.Trace != nil {
				h.tracef("Absolute Condition [%s] match=%s", name, mode)
			}
			pass++
			proceed = 1
			stop = !all && !xor
		} else if rtm == 1 {
			pass++
			proceed = 1
			stop = !all && !xor
		} else {
			fail++
			stop = all
		}
		if stop {
			// The breaking child's match stays current; its expression
			// pointer, as at the end of every iteration, survives only if
			// the expansion did not rewrite it.
			st.exprValid = !r.exprExpand
			break
		}
		if st.field && strings.IndexByte(expr, '(') >= 0 {
			setCaptures(h.env.Vars, "DP_REGEX_MATCH_"+strconv.Itoa(i+1), st.caps, st.unset)
			if st.caps != nil {
				s := st
				saved, savedProceed = &s, proceed
			} else {
				saved = nil
			}
		}
		// At the end of an iteration FreeSWITCH frees the match, and the
		// expression pointer survives only if it was not expanded.
		st.caps, st.unset = nil, nil
		st.exprValid = !r.exprExpand
	}
	if xor {
		if pass == 1 {
			anti = false
		}
	} else if (all && fail == 0) || (!all && pass > 0) {
		anti = false
	}
	if saved != nil {
		st = *saved
		proceed = savedProceed
	}
	return anti, proceed, st
}

// timeMatch returns -1 when tc is nil (no time attributes), else 1 or 0.
func (h *hunter) timeMatch(tc *timeCheck) int {
	if tc == nil {
		return -1
	}
	if tc.match(h.env.Now, h.env) {
		return 1
	}
	return 0
}

// fieldValue resolves a condition field: ${}-expanded when it contains
// '$', else the caller-profile field of that name ("" for anything else).
func (h *hunter) fieldValue(field string, expand bool) string {
	if expand {
		return h.env.expand(field)
	}
	v, _ := h.env.Profile.Get(field)
	return v
}

// compiled returns an expression compiled at hunt time (its text depended
// on variables); an invalid one counts as no match, as in FreeSWITCH.
func (h *hunter) compiled(expr string) *Regex {
	re, err := h.d.cache.get(expr)
	if err != nil {
		h.tracef("COMPILE ERROR: %v", err)
		return nil
	}
	return re
}

// match runs re against s and returns FreeSWITCH's proceed value (the
// match count: captures + 1, 0 on no match) and, when wanted, the captures
// and which of them did not take part (see Regex.SubmatchesUnset).
func (h *hunter) match(re *Regex, s string, captures bool) (int, []string, []bool) {
	if re == nil {
		return 0, nil, nil
	}
	if !captures {
		if re.MatchString(s) {
			return 1, nil, nil
		}
		return 0, nil, nil
	}
	caps, unset := re.SubmatchesUnset(s)
	return len(caps), caps, unset
}

// emit queues an action (or runs it, when inline), loop times.
func (h *hunter) emit(a *Action, data, name string, anti bool) {
	if !h.res.Found {
		h.res.Found = true
		h.res.Extension = name
	}
	kind := "Action"
	if anti {
		kind = "ANTI-Action"
	}
	for i := 0; i < a.loop; i++ {
		if h.env.Trace != nil {
			in := ""
			if a.inline {
				in = "INLINE"
			}
			if h.env.Trace != nil {
				h.tracef("%s %s(%s) %s", kind, a.App, data, in)
			}
		}
		if a.inline {
			if h.env.Inline != nil {
				h.env.Inline(a.App, data)
			}
			continue
		}
		if h.res.Actions == nil {
			h.res.Actions = h.res.buf[:0]
		}
		h.res.Actions = append(h.res.Actions, Step{App: a.App, Data: data, Pos: a.Pos})
	}
}

// setCaptures replaces the array variable name with the captures the way
// switch_capture_regex pushes them one by one: a group that did not take
// part is skipped, and pushing a group that matched "" deletes the
// variable (a channel variable cannot hold ""), dropping what was pushed
// before it.
func setCaptures(store *vars.Store, name string, caps []string, unset []bool) {
	vals := caps
	for i, c := range caps {
		if c == "" || (unset != nil && unset[i]) {
			vals = make([]string, 0, len(caps))
			for j, c := range caps {
				switch {
				case unset != nil && unset[j]:
				case c == "":
					vals = vals[:0]
				default:
					vals = append(vals, c)
				}
			}
			break
		}
	}
	store.SetArray(name, vals) // an empty list just removes the variable
}

// Substitute replaces $N and ${N} in data with captures, the way
// switch_perform_substitution does: a missing group becomes "", a '$' not
// followed by digits (or {digits}) is copied, and the output is cut at
// limit-1 bytes (FreeSWITCH's buffer, which is empty when proceed is 0).
func Substitute(data string, caps []string, limit int) string {
	if limit <= 1 {
		return ""
	}
	max := limit - 1
	var b strings.Builder
	b.Grow(len(data))
	put := func(s string) bool {
		if room := max - b.Len(); len(s) > room {
			b.WriteString(s[:room])
			return false
		}
		b.WriteString(s)
		return true
	}
	for i := 0; i < len(data) && b.Len() < max; {
		if data[i] != '$' {
			b.WriteByte(data[i])
			i++
			continue
		}
		j := i + 1
		brace := j < len(data) && data[j] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(data) && k-j < 9 && data[k] >= '0' && data[k] <= '9' {
			k++
		}
		if k == j || (brace && (k >= len(data) || data[k] != '}')) {
			b.WriteByte('$')
			i++
			continue
		}
		n, _ := strconv.Atoi(data[j:k])
		if brace {
			k++
		}
		if n >= 0 && n < len(caps) && n <= 256 {
			if !put(caps[n]) {
				break
			}
		}
		i = k
	}
	return b.String()
}
