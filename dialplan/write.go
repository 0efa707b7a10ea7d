package dialplan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// WriteXML writes f as a FreeSWITCH XML dialplan file: an <include> wrapper
// around the file's contexts or extensions, one element per line.
//
// The output is safe for FreeSWITCH's line-based preprocessor: every
// X-PRE-PROCESS directive is written in its place on a line of its own (cmd
// before data, values unescaped, as the preprocessor scans them), and no
// other line contains <include>, </include>, <?, <!--# or the text
// X-PRE-PROCESS (values that would are written with character references).
// Attribute values are XML-escaped, with tab, CR and LF as character
// references so that they survive attribute-value normalisation. $${var}
// references are written as they are.
func WriteXML(w io.Writer, f *File) error {
	lines, err := xmlLines(f, 1)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<include>\n")
	for _, l := range lines {
		bw.WriteString(l.Text)
		bw.WriteByte('\n')
	}
	bw.WriteString("</include>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write XML dialplan: %w", err)
	}
	return nil
}

// YAMLToXML reads a YAML dialplan file (ParseYAML) and returns its XML
// form as preprocessor input: one xmltree.Line per XML line, each
// positioned at the YAML line it came from. There is no <?xml?> header and
// no <include> wrapper, just the file's contexts or extensions and its
// directives, so the result can be spliced where an X-PRE-PROCESS include
// matched the file. The config loader uses it as the translator for
// included .yaml and .yml files.
func YAMLToXML(name string, data []byte) ([]xmltree.Line, error) {
	f, err := ParseYAML(name, data)
	if err != nil {
		return nil, err
	}
	return xmlLines(f, 0)
}

// xmlWriter accumulates XML lines.
type xmlWriter struct {
	lines []xmltree.Line
}

func (w *xmlWriter) line(depth int, pos Pos, text string) {
	w.lines = append(w.lines, xmltree.Line{Text: strings.Repeat("  ", depth) + text, Pos: pos})
}

// xmlLines renders f as XML lines starting at indentation depth.
func xmlLines(f *File, depth int) ([]xmltree.Line, error) {
	if f == nil {
		return nil, errors.New("write dialplan: nil file")
	}
	if f.HoldsExtensions && len(f.Contexts) > 0 || !f.HoldsExtensions && len(f.Extensions) > 0 {
		return nil, errors.New("write dialplan: a file holds contexts or extensions, not both")
	}
	w := &xmlWriter{}
	var err error
	if f.HoldsExtensions {
		err = eachWithDirectives(w, depth, f.Directives, f.Extensions, (*xmlWriter).extension)
	} else {
		err = eachWithDirectives(w, depth, f.Directives, f.Contexts, (*xmlWriter).context)
	}
	if err != nil {
		return nil, err
	}
	return w.lines, nil
}

// sortedDirectives returns dirs ordered by Before (stable), with Before
// clamped to [0, n].
func sortedDirectives(dirs []Directive, n int) []Directive {
	out := slices.Clone(dirs)
	for i := range out {
		out[i].Before = min(max(out[i].Before, 0), n)
	}
	slices.SortStableFunc(out, func(a, b Directive) int { return a.Before - b.Before })
	return out
}

// eachWithDirectives writes items in order with directives in their places.
func eachWithDirectives[T any](w *xmlWriter, depth int, dirs []Directive, items []T, write func(*xmlWriter, int, T) error) error {
	dirs = sortedDirectives(dirs, len(items))
	d := 0
	for i := 0; i <= len(items); i++ {
		for ; d < len(dirs) && dirs[d].Before == i; d++ {
			if err := w.directive(depth, dirs[d]); err != nil {
				return err
			}
		}
		if i < len(items) {
			if err := write(w, depth, items[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *xmlWriter) directive(depth int, d Directive) error {
	for _, v := range []string{d.Cmd, d.Data} {
		if err := directiveSafe(v); err != nil {
			return xmltree.Errorf(d.Pos, "%s %q: %v", DirectiveKey, v, err)
		}
	}
	w.line(depth, d.Pos, `<X-PRE-PROCESS cmd="`+d.Cmd+`" data="`+d.Data+`"/>`)
	return nil
}

// attrs builds ` name="value"` pairs, skipping empty values.
type attrs struct {
	b   strings.Builder
	pos Pos
	err error
}

func (a *attrs) add(name, value string) {
	if value == "" || a.err != nil {
		return
	}
	if err := xmlSafe(value); err != nil {
		a.err = xmltree.Errorf(a.pos, "%s=%q: %v", name, value, err)
		return
	}
	a.b.WriteString(" " + name + `="` + escapeXML(value, true) + `"`)
}

func (a *attrs) String() string { return a.b.String() }

// open writes a start tag (or an empty-element tag when empty) and
// returns the end tag still to write, "" for an empty element.
func (w *xmlWriter) open(depth int, pos Pos, name string, a *attrs, empty bool) (string, error) {
	if a.err != nil {
		return "", a.err
	}
	if empty {
		w.line(depth, pos, "<"+name+a.String()+"/>")
		return "", nil
	}
	w.line(depth, pos, "<"+name+a.String()+">")
	return "</" + name + ">", nil
}

func (w *xmlWriter) context(depth int, c *Context) error {
	a := &attrs{pos: c.Pos}
	a.add("name", c.Name)
	end, err := w.open(depth, c.Pos, "context", a, len(c.Extensions) == 0 && len(c.Directives) == 0)
	if err != nil || end == "" {
		return err
	}
	if err := eachWithDirectives(w, depth+1, c.Directives, c.Extensions, (*xmlWriter).extension); err != nil {
		return err
	}
	w.line(depth, c.Pos, end)
	return nil
}

func (w *xmlWriter) extension(depth int, e *Extension) error {
	a := &attrs{pos: e.Pos}
	a.add("name", e.Name)
	a.add("continue", e.Continue)
	end, err := w.open(depth, e.Pos, "extension", a, len(e.Conditions) == 0 && len(e.Directives) == 0)
	if err != nil || end == "" {
		return err
	}
	if err := eachWithDirectives(w, depth+1, e.Directives, e.Conditions, (*xmlWriter).condition); err != nil {
		return err
	}
	w.line(depth, e.Pos, end)
	return nil
}

func (a *attrs) time(t *TimeSpec) {
	for _, ta := range TimeAttrs {
		a.add(ta.Name, *ta.Ptr(t))
	}
}

func (w *xmlWriter) condition(depth int, c *Condition) error {
	a := &attrs{pos: c.Pos}
	a.add("field", c.Field)
	if !c.ExpressionElement {
		a.add("expression", c.Expression)
	}
	a.add("regex", c.Regex)
	a.add("break", c.Break)
	a.add("require-nested", c.RequireNested)
	a.time(&c.Time)
	empty := !c.ExpressionElement && len(c.Regexes) == 0 && len(c.Actions) == 0 &&
		len(c.AntiActions) == 0 && len(c.Conditions) == 0
	end, err := w.open(depth, c.Pos, "condition", a, empty)
	if err != nil || end == "" {
		return err
	}
	if c.ExpressionElement {
		if err := w.textElement(depth+1, c.Pos, "expression", "", c.Expression); err != nil {
			return err
		}
	}
	for _, t := range c.Regexes {
		if err := w.regex(depth+1, t); err != nil {
			return err
		}
	}
	for _, act := range c.Actions {
		if err := w.action(depth+1, "action", act); err != nil {
			return err
		}
	}
	for _, act := range c.AntiActions {
		if err := w.action(depth+1, "anti-action", act); err != nil {
			return err
		}
	}
	for _, sub := range c.Conditions {
		if err := w.condition(depth+1, sub); err != nil {
			return err
		}
	}
	w.line(depth, c.Pos, end)
	return nil
}

func (w *xmlWriter) regex(depth int, t *RegexTest) error {
	a := &attrs{pos: t.Pos}
	a.add("field", t.Field)
	if !t.ExpressionElement {
		a.add("expression", t.Expression)
	}
	a.time(&t.Time)
	end, err := w.open(depth, t.Pos, "regex", a, !t.ExpressionElement)
	if err != nil || end == "" {
		return err
	}
	if err := w.textElement(depth+1, t.Pos, "expression", "", t.Expression); err != nil {
		return err
	}
	w.line(depth, t.Pos, end)
	return nil
}

func (w *xmlWriter) action(depth int, name string, act *Action) error {
	a := &attrs{pos: act.Pos}
	a.b.WriteString(` application="` + escapeXML(act.App, true) + `"`)
	if err := xmlSafe(act.App); err != nil {
		return xmltree.Errorf(act.Pos, "application=%q: %v", act.App, err)
	}
	if !act.DataElement {
		a.add("data", act.Data)
	}
	a.add("inline", act.Inline)
	a.add("loop", act.Loop)
	if a.err != nil {
		return a.err
	}
	if act.DataElement {
		return w.textElement(depth, act.Pos, name, a.String(), act.Data)
	}
	w.line(depth, act.Pos, "<"+name+a.String()+"/>")
	return nil
}

// textElement writes <name attrs>text</name> on one line, as CDATA when
// that is safe and reads better than character escapes.
func (w *xmlWriter) textElement(depth int, pos Pos, name, attrText, text string) error {
	if err := xmlSafe(text); err != nil {
		return xmltree.Errorf(pos, "<%s> text %q: %v", name, text, err)
	}
	var body string
	if useCDATA(text) {
		body = "<![CDATA[" + text + "]]>"
	} else {
		body = escapeXML(text, false)
	}
	w.line(depth, pos, "<"+name+attrText+">"+body+"</"+name+">")
	return nil
}

// preprocessorHazards are texts that make FreeSWITCH's line-based
// preprocessor drop or reinterpret the line that holds them.
var preprocessorHazards = []string{"<include>", "</include>", "<?", "<!--#", "-->"}

// useCDATA reports whether text is better written as a CDATA section: it
// has markup characters, and a CDATA section holding it is still one
// harmless line.
func useCDATA(text string) bool {
	if !strings.ContainsAny(text, "<&") || strings.Contains(text, "]]>") ||
		strings.ContainsAny(text, "\t\r\n\u0085\u2028\u2029") || hasDirectiveText(text) {
		return false
	}
	for _, h := range preprocessorHazards {
		if strings.Contains(text, h) {
			return false
		}
	}
	return true
}

// hasDirectiveText reports whether s contains X-PRE-PROCESS in any case.
func hasDirectiveText(s string) bool {
	return strings.Contains(strings.ToLower(s), "x-pre-process")
}

// escapeXML escapes s for an attribute value (attr) or element text. Tab,
// CR and LF become character references so that the value stays on one
// line and survives attribute normalisation; any X-PRE-PROCESS text gets
// its first hyphen written as &#45; so the preprocessor does not take the
// line for a directive.
func escapeXML(s string, attr bool) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			if attr {
				b.WriteRune(c)
			} else {
				b.WriteString("&gt;")
			}
		case '"':
			if attr {
				b.WriteString("&quot;")
			} else {
				b.WriteRune(c)
			}
		case '\t':
			b.WriteString("&#9;")
		case '\n':
			b.WriteString("&#10;")
		case '\r':
			b.WriteString("&#13;")
		case '\u0085', '\u2028', '\u2029':
			fmt.Fprintf(&b, "&#%d;", c)
		default:
			b.WriteRune(c)
		}
	}
	out := b.String()
	if !hasDirectiveText(out) {
		return out
	}
	// Break every X-PRE-PROCESS (any case) by escaping the hyphen after X.
	const marker = "x-pre-process"
	var r strings.Builder
	for {
		i := strings.Index(strings.ToLower(out), marker)
		if i < 0 {
			r.WriteString(out)
			return r.String()
		}
		r.WriteString(out[:i+1])
		r.WriteString("&#45;")
		out = out[i+2:]
	}
}

// WriteYAML writes f in the YAML dialplan form (docs/yaml-dialplan.md),
// using the short forms wherever they say exactly the same thing: `- answer`
// for an action with no data, `- app: data` for one with only data,
// condition: for an extension's single condition. Directives stay in their
// places as `- X-PRE-PROCESS: {cmd: ..., data: ...}` list items. Comments
// of the original file are not kept.
func WriteYAML(w io.Writer, f *File) error {
	if f == nil {
		return errors.New("write YAML dialplan: nil file")
	}
	if f.HoldsExtensions && len(f.Contexts) > 0 || !f.HoldsExtensions && len(f.Extensions) > 0 {
		return errors.New("write YAML dialplan: a file holds contexts or extensions, not both")
	}
	root := mapNode()
	if f.HoldsExtensions {
		addPair(root, "extensions", listWithDirectives(f.Directives, f.Extensions, yamlExtension))
	} else {
		addPair(root, "contexts", listWithDirectives(f.Directives, f.Contexts, yamlContext))
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("write YAML dialplan: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write YAML dialplan: %w", err)
	}
	return nil
}

func mapNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func flowMapNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle} }

func seqNode() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode} }

// strNode is a YAML scalar for a model string. ParseYAML reads any scalar
// back as its text, so values are written plain wherever YAML allows
// (`sleep: 1000`, `inline: true`); only the spellings of null are quoted
// (the !!str tag makes the encoder do that), and odd line breaks are
// forced into double quotes so they survive a round trip.
func strNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: s}
	switch s {
	case "", "~", "null", "Null", "NULL":
		n.Tag = "!!str"
	}
	// yaml.v3's block scalars do not bring every multi-line value back
	// unchanged (blank lines, a lone "\n", trailing white space), so a
	// value with a line break is always written double-quoted.
	if strings.ContainsAny(s, "\n\r\u0085\u2028\u2029") {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func addPair(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}

// addStr adds key: value when value is not empty.
func addStr(m *yaml.Node, key, value string) {
	if value != "" {
		addPair(m, key, strNode(value))
	}
}

// listWithDirectives renders items with directives in their places.
func listWithDirectives[T any](dirs []Directive, items []T, render func(T) *yaml.Node) *yaml.Node {
	dirs = sortedDirectives(dirs, len(items))
	s := seqNode()
	d := 0
	for i := 0; i <= len(items); i++ {
		for ; d < len(dirs) && dirs[d].Before == i; d++ {
			v := flowMapNode()
			addPair(v, "cmd", strNode(dirs[d].Cmd))
			addPair(v, "data", strNode(dirs[d].Data))
			m := mapNode()
			addPair(m, DirectiveKey, v)
			s.Content = append(s.Content, m)
		}
		if i < len(items) {
			s.Content = append(s.Content, render(items[i]))
		}
	}
	return s
}

func yamlContext(c *Context) *yaml.Node {
	m := mapNode()
	addPair(m, "name", strNode(c.Name))
	if len(c.Extensions) > 0 || len(c.Directives) > 0 {
		addPair(m, "extensions", listWithDirectives(c.Directives, c.Extensions, yamlExtension))
	}
	return m
}

func yamlExtension(e *Extension) *yaml.Node {
	m := mapNode()
	addStr(m, "name", e.Name)
	addStr(m, "continue", e.Continue)
	switch {
	case len(e.Conditions) == 1 && len(e.Directives) == 0:
		addPair(m, "condition", yamlCondition(e.Conditions[0]))
	case len(e.Conditions) > 0 || len(e.Directives) > 0:
		addPair(m, "conditions", listWithDirectives(e.Directives, e.Conditions, yamlCondition))
	}
	return m
}

// addExpression writes expression: or, for the <expression> element form,
// expression-element: (even when empty, to keep the element).
func addExpression(m *yaml.Node, expr string, elem bool) {
	if elem {
		addPair(m, "expression-element", strNode(expr))
	} else {
		addStr(m, "expression", expr)
	}
}

func addTime(m *yaml.Node, t *TimeSpec) {
	for _, a := range TimeAttrs {
		addStr(m, a.Name, *a.Ptr(t))
	}
}

func yamlCondition(c *Condition) *yaml.Node {
	m := mapNode()
	addStr(m, "field", c.Field)
	addExpression(m, c.Expression, c.ExpressionElement)
	addStr(m, "break", c.Break)
	addStr(m, "regex", c.Regex)
	addStr(m, "require-nested", c.RequireNested)
	addTime(m, &c.Time)
	if len(c.Regexes) > 0 {
		s := seqNode()
		for _, t := range c.Regexes {
			rm := mapNode()
			addStr(rm, "field", t.Field)
			addExpression(rm, t.Expression, t.ExpressionElement)
			addTime(rm, &t.Time)
			s.Content = append(s.Content, rm)
		}
		addPair(m, "regexes", s)
	}
	if len(c.Actions) > 0 {
		addPair(m, "actions", yamlActions(c.Actions))
	}
	if len(c.AntiActions) > 0 {
		addPair(m, "anti-actions", yamlActions(c.AntiActions))
	}
	switch len(c.Conditions) {
	case 0:
	case 1:
		addPair(m, "condition", yamlCondition(c.Conditions[0]))
	default:
		s := seqNode()
		for _, sub := range c.Conditions {
			s.Content = append(s.Content, yamlCondition(sub))
		}
		addPair(m, "conditions", s)
	}
	return m
}

func yamlActions(acts []*Action) *yaml.Node {
	s := seqNode()
	for _, a := range acts {
		s.Content = append(s.Content, yamlAction(a))
	}
	return s
}

// yamlAction picks the shortest form that reads back to the same action.
func yamlAction(a *Action) *yaml.Node {
	// The short forms (`answer`, `playback: x`) need a name the reader
	// accepts there: not empty, not only white space.
	plain := !a.DataElement && a.Inline == "" && a.Loop == "" && strings.TrimSpace(a.App) != "" &&
		a.App != DirectiveKey && !slices.Contains(yamlActionKeys, a.App)
	switch {
	case plain && a.Data == "":
		return strNode(a.App)
	case plain:
		m := mapNode()
		m.Content = append(m.Content, strNode(a.App), strNode(a.Data))
		return m
	}
	m := flowMapNode()
	addPair(m, "app", strNode(a.App))
	if a.DataElement {
		addPair(m, "data-element", strNode(a.Data))
	} else {
		addStr(m, "data", a.Data)
	}
	addStr(m, "inline", a.Inline)
	addStr(m, "loop", a.Loop)
	return m
}
