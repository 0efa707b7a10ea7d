package dialplan

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// FromXML decodes the <section name="dialplan"> element of a preprocessed
// configuration tree and compiles it. Problems come back as an
// xmltree.ErrorList, each naming the original file and line.
func FromXML(doc *xmltree.Document, section *etree.Element) (*Dialplan, error) {
	d := &Dialplan{}
	var misplaced xmltree.ErrorList
	if section != nil {
		dec := xmlDecoder{doc: doc, errs: &misplaced}
		for _, el := range section.ChildElements() {
			switch el.Tag {
			case "context":
				d.Contexts = append(d.Contexts, dec.context(el))
			case "extension":
				// Typically a file of bare extensions (an XML <include> or a
				// YAML "extensions:" file) included at section level instead
				// of inside a <context>: FreeSWITCH would ignore it silently.
				misplaced = append(misplaced, xmltree.Errorf(doc.Pos(el),
					"extension %q is outside any <context>: include files of extensions from inside a <context>",
					el.SelectAttrValue("name", "")))
			}
		}
	}
	err := d.Compile()
	if len(misplaced) > 0 {
		if l, ok := err.(xmltree.ErrorList); ok {
			misplaced = append(misplaced, l...)
		}
		return nil, misplaced
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ParseXMLFile reads one dialplan file as written (not preprocessed), the
// way `switchboard convert` needs it: X-PRE-PROCESS elements are kept as
// Directives in place, and $${var} references stay literal. The root may be
// <include>, <context> or <extension>; a file whose items are extensions
// sets HoldsExtensions.
func ParseXMLFile(name string, data []byte) (*File, error) {
	doc, err := xmltree.ParseFile(name, data)
	if err != nil {
		return nil, err
	}
	var errs xmltree.ErrorList
	dec := xmlDecoder{doc: doc, raw: true, errs: &errs}
	root := doc.Root()
	f := &File{}
	var items []*etree.Element
	switch root.Tag {
	case "include", "section", "document":
		items = root.ChildElements()
	case "context", "extension":
		items = []*etree.Element{root}
	default:
		return nil, xmltree.Errorf(doc.Pos(root), "<%s> is not a dialplan file root (want <include>, <context> or <extension>)", root.Tag)
	}
	if root.Tag == "document" {
		// A whole freeswitch.xml-style document: take its dialplan section.
		items = nil
		for _, s := range root.ChildElements() {
			if s.Tag == "section" && s.SelectAttrValue("name", "") == "dialplan" {
				items = s.ChildElements()
			}
		}
	}
	for _, el := range items {
		switch {
		case el.Tag == "context":
			f.Contexts = append(f.Contexts, dec.context(el))
		case el.Tag == "extension":
			f.Extensions = append(f.Extensions, dec.extension(el))
		case isDirective(el):
			n := len(f.Contexts) + len(f.Extensions)
			f.Directives = append(f.Directives, dec.directive(el, n))
		}
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if len(f.Contexts) > 0 && len(f.Extensions) > 0 {
		return nil, xmltree.Errorf(doc.Pos(root), "a dialplan file holds either contexts or extensions, not both")
	}
	f.HoldsExtensions = len(f.Extensions) > 0
	return f, nil
}

func isDirective(el *etree.Element) bool {
	return strings.EqualFold(el.Tag, "X-PRE-PROCESS")
}

type xmlDecoder struct {
	doc  *xmltree.Document
	raw  bool               // keep X-PRE-PROCESS elements as directives
	errs *xmltree.ErrorList // problems found while decoding
}

func (x xmlDecoder) directive(el *etree.Element, before int) Directive {
	return Directive{
		Cmd:    el.SelectAttrValue("cmd", ""),
		Data:   el.SelectAttrValue("data", ""),
		Before: before,
		Pos:    x.doc.Pos(el),
	}
}

func (x xmlDecoder) context(el *etree.Element) *Context {
	c := &Context{Name: el.SelectAttrValue("name", ""), Pos: x.doc.Pos(el)}
	for _, ch := range el.ChildElements() {
		switch {
		case ch.Tag == "extension":
			c.Extensions = append(c.Extensions, x.extension(ch))
		case x.raw && isDirective(ch):
			c.Directives = append(c.Directives, x.directive(ch, len(c.Extensions)))
		}
	}
	return c
}

func (x xmlDecoder) extension(el *etree.Element) *Extension {
	e := &Extension{
		Name:     el.SelectAttrValue("name", ""),
		Continue: el.SelectAttrValue("continue", ""),
		Pos:      x.doc.Pos(el),
	}
	for _, ch := range el.ChildElements() {
		switch {
		case ch.Tag == "condition":
			e.Conditions = append(e.Conditions, x.condition(ch, 1))
		case x.raw && isDirective(ch):
			e.Directives = append(e.Directives, x.directive(ch, len(e.Conditions)))
		}
	}
	return e
}

// expression returns a condition's or regex test's expression: the text of
// an <expression> child if there is one, else the expression attribute.
func expression(el *etree.Element) (string, bool) {
	if ex := el.SelectElement("expression"); ex != nil {
		return ex.Text(), true
	}
	return el.SelectAttrValue("expression", ""), false
}

func timeSpec(el *etree.Element) TimeSpec {
	var t TimeSpec
	for _, a := range TimeAttrs {
		*a.Ptr(&t) = el.SelectAttrValue(a.Name, "")
	}
	return t
}

func (x xmlDecoder) condition(el *etree.Element, depth int) *Condition {
	c := &Condition{
		Field:         el.SelectAttrValue("field", ""),
		Break:         el.SelectAttrValue("break", ""),
		Regex:         el.SelectAttrValue("regex", ""),
		RequireNested: el.SelectAttrValue("require-nested", ""),
		Time:          timeSpec(el),
		Pos:           x.doc.Pos(el),
	}
	c.Expression, c.ExpressionElement = expression(el)
	for _, ch := range el.ChildElements() {
		switch ch.Tag {
		case "action":
			c.Actions = append(c.Actions, x.action(ch))
		case "anti-action":
			c.AntiActions = append(c.AntiActions, x.action(ch))
		case "condition":
			if depth >= maxNesting {
				*x.errs = append(*x.errs, xmltree.Errorf(x.doc.Pos(ch), "conditions nested more than %d deep", maxNesting))
				continue
			}
			c.Conditions = append(c.Conditions, x.condition(ch, depth+1))
		case "regex":
			r := &RegexTest{
				Field: ch.SelectAttrValue("field", ""),
				Time:  timeSpec(ch),
				Pos:   x.doc.Pos(ch),
			}
			r.Expression, r.ExpressionElement = expression(ch)
			c.Regexes = append(c.Regexes, r)
		}
	}
	return c
}

func (x xmlDecoder) action(el *etree.Element) *Action {
	a := &Action{
		App:    el.SelectAttrValue("application", ""),
		Data:   el.SelectAttrValue("data", ""),
		Inline: el.SelectAttrValue("inline", ""),
		Loop:   el.SelectAttrValue("loop", ""),
		Pos:    x.doc.Pos(el),
	}
	// Element text, when present, wins over the data attribute
	// (mod_dialplan_xml reads xaction->txt first).
	if t := el.Text(); strings.TrimSpace(t) != "" {
		a.Data = t
		a.DataElement = true
	}
	return a
}
