// Package dialplan is Switchboard's routing engine: one typed model of
// FreeSWITCH's XML dialplan, two front ends that produce it (FreeSWITCH XML
// and YAML), and the hunt that turns a call into an ordered list of
// applications exactly as mod_dialplan_xml does.
//
// The package is pure: it does no I/O and starts no goroutines. Everything
// a hunt needs from the outside (caller profile, channel variables, the
// clock, API commands, inline execution) comes in through Env.
package dialplan

import (
	"strings"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// Pos is a position in an original configuration file.
type Pos = xmltree.Pos

// Dialplan is a loaded, compiled dialplan section: contexts in document
// order. It is immutable after Compile and safe for concurrent hunts.
type Dialplan struct {
	Contexts []*Context

	index map[string]*Context // lower-case name → first context of that name
	cache *regexCache         // expressions that contain ${} compiled at hunt time
}

// Context is a <context name="...">: extensions hunted in order.
type Context struct {
	Name       string
	Extensions []*Extension
	Directives []Directive // X-PRE-PROCESS lines kept by front ends for convert
	Pos        Pos
}

// Extension is an <extension name="..." [continue="true"]>.
type Extension struct {
	Name       string
	Continue   string // raw attribute value; switch_true decides
	Conditions []*Condition
	Directives []Directive // X-PRE-PROCESS lines among the conditions (convert only)
	Pos        Pos

	cont bool
}

// Condition is a <condition>. A condition with Regex set ("any", "all",
// "xor") tests its Regexes children instead of Field/Expression.
type Condition struct {
	Field      string
	Expression string
	// ExpressionElement records that the expression was written as an
	// <expression> child element rather than an attribute (kept for convert).
	ExpressionElement bool
	Break             string // raw: on-false (default), on-true, always, never
	Regex             string // raw: "", any, all, xor
	RequireNested     string // raw; only "false" values change anything
	Time              TimeSpec
	Regexes           []*RegexTest
	Actions           []*Action
	AntiActions       []*Action
	Conditions        []*Condition // nested conditions
	Pos               Pos

	brk           breakMode
	mode          regexMode
	requireNested bool
	hasField      bool
	fieldExpand   bool // field contains '$': expand it instead of reading the profile
	re            *Regex
	exprExpand    bool // expansion would rewrite the expression (a ${ reference or an escape FreeSWITCH decodes): expand it at hunt time
	exprParen     bool // expression contains '(' (captures and $N substitution)
	tm            *timeCheck
}

// RegexTest is a <regex field="..." expression="..."/> child of a
// condition with regex="any|all|xor".
type RegexTest struct {
	Field             string
	Expression        string
	ExpressionElement bool
	Time              TimeSpec
	Pos               Pos

	fieldExpand bool
	re          *Regex
	exprExpand  bool
	exprParen   bool
	tm          *timeCheck
}

// Action is an <action> or <anti-action>.
type Action struct {
	App    string
	Data   string
	Inline string // raw attribute value; switch_true decides
	Loop   string // raw attribute value: absent = once; otherwise C atoi (so "0" or "abc" = never queued, though the extension still counts as found)
	// DataElement records that data was written as element text rather
	// than a data attribute (kept for convert).
	DataElement bool
	Pos         Pos

	inline     bool
	loop       int
	hasDollarN bool // data contains '$' followed by a digit or "{digit"
}

// Directive is an X-PRE-PROCESS line (cmd, data) kept in a file model so
// that convert can write it back. Before is the index of the sibling item
// (context, extension or condition) it precedes; len(items) means "at the end".
type Directive struct {
	Cmd    string
	Data   string
	Before int
	Pos    Pos
}

// TimeSpec holds a condition's time attributes as written. Empty strings are
// absent attributes.
type TimeSpec struct {
	Year        string
	Yday        string
	Mon         string
	Mday        string
	Week        string
	Mweek       string
	Wday        string
	Hour        string
	Minute      string
	MinuteOfDay string
	TimeOfDay   string
	DateTime    string
	TzOffset    string
	DST         string
}

// TimeAttrs lists the time attribute names in FreeSWITCH's checking order,
// with accessors into TimeSpec. Front ends and writers use it so the set of
// attributes is defined once.
var TimeAttrs = []struct {
	Name string
	Ptr  func(*TimeSpec) *string
}{
	{"tz-offset", func(t *TimeSpec) *string { return &t.TzOffset }},
	{"dst", func(t *TimeSpec) *string { return &t.DST }},
	{"date-time", func(t *TimeSpec) *string { return &t.DateTime }},
	{"year", func(t *TimeSpec) *string { return &t.Year }},
	{"yday", func(t *TimeSpec) *string { return &t.Yday }},
	{"mon", func(t *TimeSpec) *string { return &t.Mon }},
	{"mday", func(t *TimeSpec) *string { return &t.Mday }},
	{"week", func(t *TimeSpec) *string { return &t.Week }},
	{"mweek", func(t *TimeSpec) *string { return &t.Mweek }},
	{"wday", func(t *TimeSpec) *string { return &t.Wday }},
	{"hour", func(t *TimeSpec) *string { return &t.Hour }},
	{"minute", func(t *TimeSpec) *string { return &t.Minute }},
	{"minute-of-day", func(t *TimeSpec) *string { return &t.MinuteOfDay }},
	{"time-of-day", func(t *TimeSpec) *string { return &t.TimeOfDay }},
}

// IsZero reports whether no time attribute is set.
func (t *TimeSpec) IsZero() bool { return *t == TimeSpec{} }

// File is one dialplan file as written, the unit convert reads and writes.
// A file holds either contexts (a top-level dialplan file) or bare
// extensions (a file included inside a <context>).
type File struct {
	Contexts   []*Context
	Extensions []*Extension
	Directives []Directive // top-level X-PRE-PROCESS lines
	// HoldsExtensions is true when the file's items are extensions.
	HoldsExtensions bool
}

type breakMode uint8

const (
	breakOnFalse breakMode = iota
	breakOnTrue
	breakAlways
	breakNever
)

type regexMode uint8

const (
	regexNone regexMode = iota
	regexAny
	regexAll
	regexXor
)

// Context returns the first context whose name equals name
// case-insensitively, or nil.
func (d *Dialplan) Context(name string) *Context {
	if d == nil {
		return nil
	}
	if d.index != nil {
		if c, ok := d.index[strings.ToLower(name)]; ok {
			return c
		}
		return nil
	}
	for _, c := range d.Contexts {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}
