package dialplan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// Limits on one YAML dialplan file. They keep a hostile or broken file
// (a huge file, an alias bomb, a self-referencing alias) from exhausting
// memory or time: ParseYAML fails fast with a positioned error instead.
const (
	// MaxYAMLSize is the largest YAML dialplan file ParseYAML accepts, in bytes.
	MaxYAMLSize = 8 << 20
	// MaxYAMLNodes bounds the YAML nodes ParseYAML visits in one file,
	// counting a node again each time an alias refers to it.
	MaxYAMLNodes = 1 << 20
	// MaxYAMLNesting bounds how deep conditions may nest. FreeSWITCH stops
	// evaluating nested conditions past 100 levels, so deeper nesting can
	// never route.
	MaxYAMLNesting = 100
)

// DirectiveKey is the YAML key that marks an X-PRE-PROCESS directive in a
// list of contexts, extensions or conditions.
const DirectiveKey = "X-PRE-PROCESS"

// YAML keys, by node kind. Time attributes (TimeAttrs) are also allowed on
// conditions and regex tests.
var (
	yamlFileKeys      = []string{"contexts", "extensions"}
	yamlContextKeys   = []string{"name", "extensions"}
	yamlExtensionKeys = []string{"name", "continue", "condition", "conditions"}
	yamlConditionKeys = []string{"field", "expression", "expression-element", "break", "regex",
		"require-nested", "regexes", "actions", "anti-actions", "condition", "conditions"}
	yamlRegexKeys     = []string{"field", "expression", "expression-element"}
	yamlActionKeys    = []string{"app", "data", "data-element", "inline", "loop"}
	yamlDirectiveKeys = []string{"cmd", "data"}
)

// ParseYAML reads one YAML dialplan file into the same model the XML front
// end produces. name is the file name used in positions and errors.
//
// The file holds a mapping with exactly one key, contexts: (a top-level
// dialplan file) or extensions: (a file included inside a context). An empty
// file (nothing but comments or whitespace) is an empty contexts file.
// Parsing is strict: unknown keys, duplicate keys, values of the wrong kind,
// several documents in one file, values that XML cannot carry, and files
// beyond the MaxYAML* limits are errors. Errors are *xmltree.Error values
// carrying the file name and line.
//
// Values that XML keeps as raw attribute strings (continue, break, inline,
// loop, time attributes, ...) are stored as written: `loop: 2` is "2" and
// `continue: yes` is "yes". YAML null (`~`, `null` or nothing) is the empty
// string. $${var} references are left as literal text for the preprocessor.
// docs/yaml-dialplan.md describes the format.
func ParseYAML(name string, data []byte) (*File, error) {
	if len(data) > MaxYAMLSize {
		return nil, xmltree.Errorf(Pos{File: name}, "YAML dialplan file is %d bytes, more than the limit of %d", len(data), MaxYAMLSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{}, nil
		}
		return nil, yamlSyntaxError(name, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, xmltree.Errorf(Pos{File: name, Line: extra.Line}, "a YAML dialplan file holds one document; a second one starts here")
	case !errors.Is(err, io.EOF):
		return nil, yamlSyntaxError(name, err)
	}
	r := &yamlReader{file: name}
	f, err := r.readFile(&doc)
	if err != nil {
		var pe *xmltree.Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, xmltree.Errorf(Pos{File: name}, "%v", err)
	}
	return f, nil
}

// yamlLineRE matches the "yaml: line N: message" form of yaml.v3's errors.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError turns a yaml.v3 parse error into a positioned error.
func yamlSyntaxError(name string, err error) *xmltree.Error {
	pos := Pos{File: name}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if strings.Contains(msg, "did not find expected ',' or") {
		// The usual cause: ${var}, a comma or a bracket in an unquoted value
		// inside {...} or [...].
		msg += " (inside {...} and [...], quote values that contain ${...}, commas or brackets)"
	}
	return &xmltree.Error{Pos: pos, Msg: "invalid YAML: " + msg}
}

// yamlReader walks a yaml.Node tree into the model.
type yamlReader struct {
	file  string
	nodes int // nodes visited so far, alias expansions included
}

func (r *yamlReader) pos(n *yaml.Node) Pos { return Pos{File: r.file, Line: n.Line} }

func (r *yamlReader) errorf(n *yaml.Node, format string, args ...any) *xmltree.Error {
	return xmltree.Errorf(r.pos(n), format, args...)
}

// deref follows aliases and counts the visit against MaxYAMLNodes.
func (r *yamlReader) deref(n *yaml.Node) (*yaml.Node, error) {
	start := n
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 100 {
			return nil, r.errorf(start, "alias *%s cannot be resolved", start.Value)
		}
		n = n.Alias
	}
	r.nodes++
	if r.nodes > MaxYAMLNodes {
		return nil, r.errorf(start, "YAML dialplan file has more than %d nodes once aliases are expanded (alias bomb?)", MaxYAMLNodes)
	}
	return n, nil
}

// kindName describes a node for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("the scalar %q", n.Value)
	case yaml.DocumentNode:
		return "a document"
	}
	return "an alias"
}

// yamlField is one key/value pair of a mapping, key already checked.
type yamlField struct {
	key   string
	keyN  *yaml.Node
	value *yaml.Node
}

// mapping checks that n is a mapping whose keys are all in known (or, when
// timeKeys is set, time attribute names) and returns its pairs in order.
// what names the node for messages ("condition", "extension", ...).
func (r *yamlReader) mapping(n *yaml.Node, what string, known []string, timeKeys bool) ([]yamlField, error) {
	if n.Kind != yaml.MappingNode {
		return nil, r.errorf(n, "%s: expected a mapping, got %s", what, kindName(n))
	}
	fields := make([]yamlField, 0, len(n.Content)/2)
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := r.deref(n.Content[i])
		if err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			return nil, r.errorf(k, "%s: keys must be plain names, got %s", what, kindName(k))
		}
		key := k.Value
		if key == "<<" && k.Tag == "!!merge" {
			return nil, r.errorf(k, "%s: YAML merge keys (<<) are not supported; use an alias for a whole value instead", what)
		}
		if !slices.Contains(known, key) && !(timeKeys && isTimeAttr(key)) {
			if guess := closestKey(key, known, timeKeys); guess != "" {
				return nil, r.errorf(k, "%s: unknown key %q (did you mean %q?)", what, key, guess)
			}
			return nil, r.errorf(k, "%s: unknown key %q; known keys: %s", what, key, knownKeys(known, timeKeys))
		}
		if line, dup := seen[key]; dup {
			return nil, r.errorf(k, "%s: duplicate key %q (first given on line %d)", what, key, line)
		}
		seen[key] = k.Line
		fields = append(fields, yamlField{key: key, keyN: k, value: n.Content[i+1]})
	}
	return fields, nil
}

func isTimeAttr(key string) bool {
	for _, a := range TimeAttrs {
		if a.Name == key {
			return true
		}
	}
	return false
}

func knownKeys(known []string, timeKeys bool) string {
	s := strings.Join(known, ", ")
	if timeKeys {
		names := make([]string, len(TimeAttrs))
		for i, a := range TimeAttrs {
			names[i] = a.Name
		}
		s += ", and the time attributes " + strings.Join(names, ", ")
	}
	return s
}

// closestKey returns the known key within two edits of key (a likely
// typo), or "".
func closestKey(key string, known []string, timeKeys bool) string {
	candidates := slices.Clone(known)
	if timeKeys {
		for _, a := range TimeAttrs {
			candidates = append(candidates, a.Name)
		}
	}
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(key), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// str reads a scalar as the string the equivalent XML attribute would hold:
// the text as written, or "" for YAML null.
func (r *yamlReader) str(n *yaml.Node, what string) (string, error) {
	n, err := r.deref(n)
	if err != nil {
		return "", err
	}
	if n.Kind != yaml.ScalarNode {
		return "", r.errorf(n, "%s: expected a single value, got %s", what, kindName(n))
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	if err := xmlSafe(n.Value); err != nil {
		return "", r.errorf(n, "%s: %v", what, err)
	}
	return n.Value, nil
}

// seq reads a list; null is an empty list.
func (r *yamlReader) seq(n *yaml.Node, what string) ([]*yaml.Node, error) {
	n, err := r.deref(n)
	if err != nil {
		return nil, err
	}
	switch {
	case n.Kind == yaml.SequenceNode:
		return n.Content, nil
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil, nil
	}
	return nil, r.errorf(n, "%s: expected a list, got %s", what, kindName(n))
}

// xmlSafe reports whether s can be carried by an XML attribute or text.
func xmlSafe(s string) error {
	for i, c := range s {
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return errors.New("value is not valid UTF-8")
			}
		}
		if !isXMLChar(c) {
			return fmt.Errorf("character %U cannot appear in an XML dialplan", c)
		}
	}
	return nil
}

// isXMLChar reports whether c is allowed in an XML 1.0 document.
func isXMLChar(c rune) bool {
	return c == '\t' || c == '\n' || c == '\r' ||
		c >= 0x20 && c <= 0xD7FF ||
		c >= 0xE000 && c <= 0xFFFD ||
		c >= 0x10000 && c <= 0x10FFFF
}

// directive recognises a `X-PRE-PROCESS: {cmd: ..., data: ...}` list item.
// It returns ok=false when n is not a directive.
func (r *yamlReader) directive(n *yaml.Node, before int) (Directive, bool, error) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return Directive{}, false, nil
	}
	k, err := r.deref(n.Content[0])
	if err != nil {
		return Directive{}, false, err
	}
	if k.Kind != yaml.ScalarNode || k.Value != DirectiveKey {
		return Directive{}, false, nil
	}
	if len(n.Content) != 2 {
		return Directive{}, true, r.errorf(n, "%s must be the only key of its list item", DirectiveKey)
	}
	v, err := r.deref(n.Content[1])
	if err != nil {
		return Directive{}, true, err
	}
	fields, err := r.mapping(v, DirectiveKey, yamlDirectiveKeys, false)
	if err != nil {
		return Directive{}, true, err
	}
	d := Directive{Before: before, Pos: r.pos(n)}
	hasCmd := false
	for _, fl := range fields {
		s, err := r.str(fl.value, DirectiveKey+" "+fl.key)
		if err != nil {
			return Directive{}, true, err
		}
		if err := directiveSafe(s); err != nil {
			return Directive{}, true, r.errorf(fl.value, "%s %s: %v", DirectiveKey, fl.key, err)
		}
		switch fl.key {
		case "cmd":
			d.Cmd, hasCmd = s, true
		case "data":
			d.Data = s
		}
	}
	if !hasCmd {
		return Directive{}, true, r.errorf(v, "%s: missing cmd (include, set, env-set, exec-set, stun-set or exec)", DirectiveKey)
	}
	return d, true, nil
}

// directiveSafe reports values the line-based preprocessor cannot scan:
// it ends a value at the next double quote, works one line at a time and
// cuts a directive at the first "/>".
func directiveSafe(s string) error {
	switch {
	case strings.Contains(s, `"`):
		return errors.New(`the preprocessor cannot read a double quote (") in a directive`)
	case strings.ContainsAny(s, "\r\n\u0085\u2028\u2029"):
		return errors.New("a directive must fit on one line")
	case strings.Contains(s, "/>"):
		return errors.New(`the preprocessor ends a directive at the first "/>"`)
	}
	return nil
}

// readFile reads the document root.
func (r *yamlReader) readFile(doc *yaml.Node) (*File, error) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return &File{}, nil
	}
	root, err := r.deref(doc.Content[0])
	if err != nil {
		return nil, err
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return &File{}, nil
	}
	fields, err := r.mapping(root, "dialplan file", yamlFileKeys, false)
	if err != nil {
		return nil, err
	}
	switch len(fields) {
	case 0:
		return nil, r.errorf(root, "dialplan file: expected contexts: or extensions:")
	case 2:
		return nil, r.errorf(fields[1].keyN, "dialplan file: holds contexts: or extensions:, not both")
	}
	f := &File{}
	items, err := r.seq(fields[0].value, fields[0].key)
	if err != nil {
		return nil, err
	}
	if fields[0].key == "contexts" {
		for _, item := range items {
			if err := r.listItem(item, &f.Directives, len(f.Contexts), "context", func(n *yaml.Node) error {
				c, err := r.context(n)
				if err == nil {
					f.Contexts = append(f.Contexts, c)
				}
				return err
			}); err != nil {
				return nil, err
			}
		}
		return f, nil
	}
	f.HoldsExtensions = true
	for _, item := range items {
		if err := r.listItem(item, &f.Directives, len(f.Extensions), "extension", func(n *yaml.Node) error {
			e, err := r.extension(n)
			if err == nil {
				f.Extensions = append(f.Extensions, e)
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// listItem reads one item of a list that may hold directives: a directive
// is appended to dirs (positioned before item index next), anything else
// goes to read.
func (r *yamlReader) listItem(item *yaml.Node, dirs *[]Directive, next int, what string, read func(*yaml.Node) error) error {
	n, err := r.deref(item)
	if err != nil {
		return err
	}
	d, ok, err := r.directive(n, next)
	if err != nil {
		return err
	}
	if ok {
		*dirs = append(*dirs, d)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return r.errorf(n, "%s: expected a mapping, got %s", what, kindName(n))
	}
	return read(n)
}

func (r *yamlReader) context(n *yaml.Node) (*Context, error) {
	fields, err := r.mapping(n, "context", yamlContextKeys, false)
	if err != nil {
		return nil, err
	}
	c := &Context{Pos: r.pos(n)}
	named := false
	for _, fl := range fields {
		switch fl.key {
		case "name":
			if c.Name, err = r.str(fl.value, "context name"); err != nil {
				return nil, err
			}
			named = true
		case "extensions":
			items, err := r.seq(fl.value, "extensions")
			if err != nil {
				return nil, err
			}
			for _, item := range items {
				if err := r.listItem(item, &c.Directives, len(c.Extensions), "extension", func(n *yaml.Node) error {
					e, err := r.extension(n)
					if err == nil {
						c.Extensions = append(c.Extensions, e)
					}
					return err
				}); err != nil {
					return nil, err
				}
			}
		}
	}
	if !named {
		return nil, r.errorf(n, "context: missing name")
	}
	return c, nil
}

func (r *yamlReader) extension(n *yaml.Node) (*Extension, error) {
	fields, err := r.mapping(n, "extension", yamlExtensionKeys, false)
	if err != nil {
		return nil, err
	}
	e := &Extension{Pos: r.pos(n)}
	var condKey *yaml.Node
	for _, fl := range fields {
		switch fl.key {
		case "name":
			e.Name, err = r.str(fl.value, "extension name")
		case "continue":
			e.Continue, err = r.str(fl.value, "continue")
		case "condition", "conditions":
			if condKey != nil {
				return nil, r.errorf(fl.keyN, "extension: use condition: (one) or conditions: (a list), not both")
			}
			condKey = fl.keyN
			e.Conditions, err = r.conditions(fl.key, fl.value, &e.Directives, 1)
		}
		if err != nil {
			return nil, err
		}
	}
	return e, nil
}

// conditions reads the value of a condition: (one mapping) or conditions:
// (a list) key. dirs receives directives found in the list; nil means
// directives are not allowed there. depth is the nesting level of the
// conditions being read (1 for an extension's own).
func (r *yamlReader) conditions(key string, v *yaml.Node, dirs *[]Directive, depth int) ([]*Condition, error) {
	if depth > MaxYAMLNesting {
		return nil, r.errorf(v, "conditions nest more than %d deep", MaxYAMLNesting)
	}
	if key == "condition" {
		n, err := r.deref(v)
		if err != nil {
			return nil, err
		}
		if n.Kind == yaml.SequenceNode {
			return nil, r.errorf(n, "condition: expected one condition (a mapping); use conditions: for a list")
		}
		c, err := r.condition(n, depth)
		if err != nil {
			return nil, err
		}
		return []*Condition{c}, nil
	}
	items, err := r.seq(v, "conditions")
	if err != nil {
		return nil, err
	}
	var out []*Condition
	for _, item := range items {
		n, err := r.deref(item)
		if err != nil {
			return nil, err
		}
		if _, ok, _ := r.directive(n, 0); ok && dirs == nil {
			return nil, r.errorf(n, "%s directives may stand among contexts, extensions and an extension's conditions, not among nested conditions", DirectiveKey)
		}
		if dirs == nil {
			c, err := r.condition(n, depth)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
			continue
		}
		if err := r.listItem(n, dirs, len(out), "condition", func(n *yaml.Node) error {
			c, err := r.condition(n, depth)
			if err == nil {
				out = append(out, c)
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// expression handles the expression: / expression-element: pair shared by
// conditions and regex tests.
func (r *yamlReader) expression(fl yamlField, expr *string, elem *bool, seen **yaml.Node, what string) error {
	if *seen != nil {
		return r.errorf(fl.keyN, "%s: use expression: or expression-element:, not both", what)
	}
	*seen = fl.keyN
	s, err := r.str(fl.value, fl.key)
	if err != nil {
		return err
	}
	*expr = s
	*elem = fl.key == "expression-element"
	return nil
}

// timeAttr stores a time attribute value.
func (r *yamlReader) timeAttr(t *TimeSpec, fl yamlField) error {
	for _, a := range TimeAttrs {
		if a.Name == fl.key {
			s, err := r.str(fl.value, fl.key)
			if err != nil {
				return err
			}
			*a.Ptr(t) = s
			return nil
		}
	}
	return r.errorf(fl.keyN, "unknown time attribute %q", fl.key)
}

func (r *yamlReader) condition(n *yaml.Node, depth int) (*Condition, error) {
	fields, err := r.mapping(n, "condition", yamlConditionKeys, true)
	if err != nil {
		return nil, err
	}
	c := &Condition{Pos: r.pos(n)}
	var exprKey, nestKey *yaml.Node
	for _, fl := range fields {
		switch fl.key {
		case "field":
			c.Field, err = r.str(fl.value, "field")
		case "expression", "expression-element":
			err = r.expression(fl, &c.Expression, &c.ExpressionElement, &exprKey, "condition")
		case "break":
			c.Break, err = r.str(fl.value, "break")
		case "regex":
			c.Regex, err = r.str(fl.value, "regex")
		case "require-nested":
			c.RequireNested, err = r.str(fl.value, "require-nested")
		case "regexes":
			c.Regexes, err = r.regexes(fl.value)
		case "actions":
			c.Actions, err = r.actions(fl.value, "actions")
		case "anti-actions":
			c.AntiActions, err = r.actions(fl.value, "anti-actions")
		case "condition", "conditions":
			if nestKey != nil {
				return nil, r.errorf(fl.keyN, "condition: use condition: (one) or conditions: (a list), not both")
			}
			nestKey = fl.keyN
			c.Conditions, err = r.conditions(fl.key, fl.value, nil, depth+1)
		default:
			err = r.timeAttr(&c.Time, fl)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (r *yamlReader) regexes(v *yaml.Node) ([]*RegexTest, error) {
	items, err := r.seq(v, "regexes")
	if err != nil {
		return nil, err
	}
	var out []*RegexTest
	for _, item := range items {
		n, err := r.deref(item)
		if err != nil {
			return nil, err
		}
		fields, err := r.mapping(n, "regex", yamlRegexKeys, true)
		if err != nil {
			return nil, err
		}
		t := &RegexTest{Pos: r.pos(n)}
		var exprKey *yaml.Node
		for _, fl := range fields {
			switch fl.key {
			case "field":
				t.Field, err = r.str(fl.value, "field")
			case "expression", "expression-element":
				err = r.expression(fl, &t.Expression, &t.ExpressionElement, &exprKey, "regex")
			default:
				err = r.timeAttr(&t.Time, fl)
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func (r *yamlReader) actions(v *yaml.Node, what string) ([]*Action, error) {
	items, err := r.seq(v, what)
	if err != nil {
		return nil, err
	}
	var out []*Action
	for _, item := range items {
		a, err := r.action(item, what)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// action reads one action in any of its three forms: `answer`,
// `playback: foo.wav` and `{app: ..., data: ..., inline: ..., loop: ...}`.
func (r *yamlReader) action(item *yaml.Node, what string) (*Action, error) {
	n, err := r.deref(item)
	if err != nil {
		return nil, err
	}
	a := &Action{Pos: r.pos(n)}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
			return nil, r.errorf(n, "%s: empty action; write an application name", what)
		}
		if a.App, err = r.str(n, "application"); err != nil {
			return nil, err
		}
		return a, nil
	case yaml.MappingNode:
	default:
		return nil, r.errorf(n, "%s: expected an action (app, app: data or {app: ..., data: ...}), got %s", what, kindName(n))
	}
	full := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := r.deref(n.Content[i])
		if err != nil {
			return nil, err
		}
		if k.Kind == yaml.ScalarNode && slices.Contains(yamlActionKeys, k.Value) {
			full = true
		}
	}
	if !full {
		if len(n.Content) != 2 {
			return nil, r.errorf(n, "%s: an action mapping without app: must have exactly one key, the application name (app: data)", what)
		}
		k, err := r.deref(n.Content[0])
		if err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			return nil, r.errorf(k, "%s: application name must be a single value, got %s", what, kindName(k))
		}
		if k.Value == DirectiveKey {
			return nil, r.errorf(k, "%s directives may stand among contexts, extensions and an extension's conditions, not among actions", DirectiveKey)
		}
		if k.Tag == "!!null" || strings.TrimSpace(k.Value) == "" {
			return nil, r.errorf(k, "%s: empty application name", what)
		}
		if a.App, err = r.str(k, "application"); err != nil {
			return nil, err
		}
		if a.Data, err = r.str(n.Content[1], a.App+" data"); err != nil {
			return nil, err
		}
		return a, nil
	}
	fields, err := r.mapping(n, "action", yamlActionKeys, false)
	if err != nil {
		return nil, err
	}
	hasApp := false
	var dataKey *yaml.Node
	for _, fl := range fields {
		switch fl.key {
		case "app":
			a.App, err = r.str(fl.value, "app")
			hasApp = true
		case "data", "data-element":
			if dataKey != nil {
				return nil, r.errorf(fl.keyN, "action: use data: or data-element:, not both")
			}
			dataKey = fl.keyN
			a.Data, err = r.str(fl.value, fl.key)
			a.DataElement = fl.key == "data-element"
			if err == nil && a.DataElement && strings.TrimSpace(a.Data) == "" {
				// XML readers ignore whitespace-only element text.
				return nil, r.errorf(fl.value, "action: data-element must not be blank; use data: for empty or blank data")
			}
		case "inline":
			a.Inline, err = r.str(fl.value, "inline")
		case "loop":
			a.Loop, err = r.str(fl.value, "loop")
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasApp {
		return nil, r.errorf(n, "action: missing app:")
	}
	return a, nil
}
