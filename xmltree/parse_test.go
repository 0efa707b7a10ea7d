package xmltree

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// linesOf numbers the lines of text as file, each pulled in from from.
func linesOf(file, text string, from *Pos) []Line {
	var out []Line
	for i, t := range strings.Split(text, "\n") {
		out = append(out, Line{Text: t, Pos: Pos{File: file, Line: i + 1, From: from}})
	}
	return out
}

// multiFile is a document assembled from three files, as the preprocessor
// would produce it: main.xml includes a.xml at its line 2, which includes
// b.xml at its line 3.
func multiFile() []Line {
	incA := &Pos{File: "main.xml", Line: 2}
	incB := &Pos{File: "a.xml", Line: 3, From: incA}
	var lines []Line
	lines = append(lines, linesOf("main.xml", `<document type="freeswitch/xml">`, nil)...)
	lines = append(lines, linesOf("a.xml", "  <section name=\"dialplan\">\n    <context name=\"default\">", incA)...)
	lines = append(lines, linesOf("b.xml", "<extension name=\"x\"\n           continue=\"true\">\n  <condition field=\"destination_number\" expression=\"^1$\"/>\n</extension>", incB)...)
	lines = append(lines, linesOf("a.xml", "    </context>\n  </section>", incA)...)
	lines = append(lines, Line{Text: "</document>", Pos: Pos{File: "main.xml", Line: 4}})
	return lines
}

func TestParsePositionsAcrossFiles(t *testing.T) {
	doc, err := Parse(multiFile())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path  string
		file  string
		line  int
		chain string
	}{
		{"/document", "main.xml", 1, ""},
		{"/document/section", "a.xml", 1, "included from main.xml:2"},
		{"/document/section/context", "a.xml", 2, "included from main.xml:2"},
		{"/document/section/context/extension", "b.xml", 1, "included from a.xml:3, main.xml:2"},
		{"/document/section/context/extension/condition", "b.xml", 3, "included from a.xml:3, main.xml:2"},
	}
	for _, tt := range tests {
		e := doc.Doc.FindElement(tt.path)
		if e == nil {
			t.Fatalf("%s: not found", tt.path)
		}
		p := doc.Pos(e)
		if p.File != tt.file || p.Line != tt.line || p.Chain() != tt.chain {
			t.Errorf("%s: pos %v (%s), want %s:%d (%s)", tt.path, p, p.Chain(), tt.file, tt.line, tt.chain)
		}
	}
	if got := doc.Root().FindElement("section/context/extension").SelectAttrValue("continue", ""); got != "true" {
		t.Errorf("continue = %q", got)
	}
}

func TestParseAttributeValues(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want string
	}{
		{"plain", `<a v="hello"/>`, "hello"},
		{"tab and newline become spaces", "<a v=\"x\ty\nz\"/>", "x y z"},
		{"CRLF is one space", "<a v=\"x\r\n  y\"/>", "x   y"},
		{"lone CR", "<a v=\"x\ry\"/>", "x y"},
		{"vertical tab and form feed", "<a v=\"x\vy\fz\"/>", "x y z"},
		{"named entities", `<a v="&lt;&gt;&amp;&quot;&apos;"/>`, `<>&"'`},
		{"character references", `<a v="&#65;&#x42;&#xe9;"/>`, "ABé"},
		{"character reference newline kept", `<a v="x&#10;y"/>`, "x\ny"},
		{"unknown entity kept", `<a v="a&nbsp;b"/>`, "a&nbsp;b"},
		{"stray ampersand kept", `<a v="a & b"/>`, "a & b"},
		{"raw less-than", `<a v="sip_h_X=<sip:1000@h>"/>`, "sip_h_X=<sip:1000@h>"},
		{"single quotes", `<a v='say "hi"'/>`, `say "hi"`},
		{"first duplicate wins", `<a v="one" v="two"/>`, "one"},
		{"spaces around equals", `<a v = "x"/>`, "x"},
		{"valueless attribute (lenient, unlike ezxml)", `<a v/>`, "v"},
		{"multi-line say data", "<a v=\"en number\n      pronounced\n      1234\"/>", "en number       pronounced       1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseFile("t.xml", []byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			attrs := doc.Root().Attr
			if got := attrs[0].Value; got != tt.want {
				t.Errorf("value = %q, want %q", got, tt.want)
			}
			if tt.name == "first duplicate wins" && len(attrs) != 1 {
				t.Errorf("%d attributes, want 1", len(attrs))
			}
		})
	}
}

// Line texts that end in "\r" (a CRLF file split only at "\n") still get
// "\r\n" folded into one space inside an attribute.
func TestParseCRLFAcrossLines(t *testing.T) {
	lines := []Line{
		{Text: "<a v=\"x\r", Pos: Pos{File: "f", Line: 1}},
		{Text: "y\"/>", Pos: Pos{File: "f", Line: 2}},
	}
	doc, err := Parse(lines)
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Root().SelectAttrValue("v", ""); got != "x y" {
		t.Errorf("value = %q", got)
	}
}

func TestParseText(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		path string
		want string
	}{
		{"plain text", `<r><action application="log">INFO hi</action></r>`, "action", "INFO hi"},
		{"entities in text", `<r><x>a &lt; b &amp;&amp; &#x41;</x></r>`, "x", "a < b && A"},
		{"unknown entity in text", `<r><x>&copy; 2024</x></r>`, "x", "&copy; 2024"},
		{"CDATA", `<r><expression><![CDATA[^(\d+)<>&$]]></expression></r>`, "expression", `^(\d+)<>&$`},
		{"CDATA merged with surrounding text", "<r><e>\n  <![CDATA[${a}]]>\n</e></r>", "e", "\n  ${a}\n"},
		{"comments dropped from text", "<r><e>a<!-- c -->b</e></r>", "e", "ab"},
		{"processing instruction dropped", "<r><e>a<?php x ?>b</e></r>", "e", "ab"},
		{"literal ]]> in text", "<r><e>a]]>b</e></r>", "e", "a]]>b"},
		{"CRLF in text", "<r><e>a\r\nb</e></r>", "e", "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseFile("t.xml", []byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			e := doc.Root().FindElement(tt.path)
			if e == nil {
				t.Fatal("element not found")
			}
			if got := e.Text(); got != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
			if n := len(e.Child); n != 1 {
				t.Errorf("%d child tokens, want 1 merged text", n)
			}
		})
	}
}

func TestParseStructure(t *testing.T) {
	src := `<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE document [
  <!ELEMENT document ANY>
]>
<!-- leading comment -->
<document type="freeswitch/xml">
  <X-NO-PRE-PROCESS cmd="include" data="lang/de/*.xml"/>
  <section name="a"><y:z k:q="1"/></section>
  <section name="b"/>
</document>
<!-- trailing comment -->
`
	doc, err := ParseFile("f.xml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	if root.Tag != "document" {
		t.Fatalf("root = %s", root.Tag)
	}
	var names []string
	for _, c := range root.ChildElements() {
		names = append(names, c.FullTag())
	}
	if got := strings.Join(names, ","); got != "X-NO-PRE-PROCESS,section,section" {
		t.Errorf("children = %s", got)
	}
	z := root.FindElement("section/y:z")
	if z == nil || z.FullTag() != "y:z" || z.SelectAttrValue("k:q", "") != "1" {
		t.Errorf("prefixed names not kept: %v", z)
	}
	if got := doc.Pos(root).Line; got != 6 {
		t.Errorf("root line = %d, want 6", got)
	}
	if got := doc.Pos(root.SelectElements("section")[1]).Line; got != 9 {
		t.Errorf("second section line = %d, want 9", got)
	}
	for _, tok := range doc.Doc.Child {
		if _, ok := tok.(*etree.Element); !ok {
			t.Errorf("unexpected top-level token %T", tok)
		}
	}
}

func TestParseBOM(t *testing.T) {
	doc, err := ParseFile("f.xml", []byte("\xef\xbb\xbf<a/>"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Root().Tag != "a" {
		t.Errorf("root = %q", doc.Root().Tag)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		xml   string
		line  int
		msg   string
		chain bool // error is in b.xml, included from main.xml:7
	}{
		{"unclosed tag", "<a>\n  <b>\n    <c/>\n</a>", 4, "closing tag </a> does not match <b> opened at b.xml:2", true},
		{"never closed", "<a>\n  <b>\n    <c/>\n  </b>", 1, "element <a> is not closed", true},
		{"unexpected closing", "<a/>\n</a>", 2, "unexpected closing tag </a>", true},
		{"unclosed comment", "<a>\n<!-- x\n y\n</a>", 2, "unclosed comment", true},
		{"double dash in comment", "<a>\n<!-- x -- y -->\n</a>", 2, "unclosed comment", true},
		{"three dashes", "<a>\n<!--- x --->\n</a>", 2, "unclosed comment", true},
		{"unclosed CDATA", "<a>\n<b><![CDATA[ x\n</b></a>", 2, "unclosed <![CDATA[", true},
		{"unclosed PI", "<a>\n\n<?x y\n</a>", 3, "unclosed processing instruction", true},
		{"unclosed doctype", "<!DOCTYPE a [\n<a/>", 1, "unclosed <!DOCTYPE", true},
		{"bad declaration", "<a>\n<!ENTITY x 'y'>\n</a>", 2, "unexpected <!", true},
		{"trailing text", "<a/>\ngarbage", 2, "text after the root element", true},
		{"leading text", "\n\njunk<a/>", 3, "text before the root element", true},
		{"second root", "<a/>\n<b/>", 2, "element <b> after the root element <a> (opened at b.xml:1)", true},
		{"no root", "<!-- only a comment -->\n", 0, "no root element", true},
		{"empty", "", 0, "no root element", true},
		{"unterminated start tag", "<a>\n<b c=\"1\"\n", 2, "unexpected EOF", true},
		{"bad name", "<a>\n< b/>\n</a>", 2, "expected element name after <", true},
		{"unclosed attribute quote", "<a>\n<b c=\"1/>\n</a>\n", 2, "unexpected EOF", true},
		{"illegal character", "<a>\nok\n\x01\n</a>", 3, "illegal character code U+0001", true},
		{"stray less-than", "<a>\n1 < 2\n</a>", 2, "XML syntax error", true},
	}
	from := &Pos{File: "main.xml", Line: 7}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(linesOf("b.xml", tt.xml, from))
			if err == nil {
				t.Fatal("no error")
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if pe.Pos.File != "b.xml" || pe.Pos.Line != tt.line {
				t.Errorf("pos = %v, want b.xml:%d (%v)", pe.Pos, tt.line, err)
			}
			if pe.Pos.From != from {
				t.Errorf("include chain lost: %v", err)
			}
			if !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("msg = %q, want it to contain %q", pe.Msg, tt.msg)
			}
		})
	}
}

// An error after text that the sanitizer removed or expanded still maps to
// the right original line.
func TestParseErrorLineAfterRewrites(t *testing.T) {
	src := "<a>\n<!-- one\ntwo\nthree -->\n<b v=\"x\ny\nz < w\"/>\n<c>\n</a>\n"
	_, err := ParseFile("f.xml", []byte(src))
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	if pe.Pos.Line != 9 || !strings.Contains(pe.Msg, "</a> does not match <c> opened at f.xml:8") {
		t.Errorf("err = %v", err)
	}
}

func TestParseDepthLimit(t *testing.T) {
	deep := strings.Repeat("<a>\n", MaxElementDepth+1) + strings.Repeat("</a>\n", MaxElementDepth+1)
	_, err := ParseFile("deep.xml", []byte(deep))
	var pe *Error
	if !errors.As(err, &pe) || pe.Pos.Line != MaxElementDepth+1 || !strings.Contains(pe.Msg, "nested deeper") {
		t.Fatalf("err = %v", err)
	}
	ok := strings.Repeat("<a>", MaxElementDepth) + strings.Repeat("</a>", MaxElementDepth)
	if _, err := ParseFile("ok.xml", []byte(ok)); err != nil {
		t.Fatalf("depth %d rejected: %v", MaxElementDepth, err)
	}
}

// A hand-written dialplan using the constructs real configurations rely on.
func TestParseDialplanFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/dialplan.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseFile("testdata/dialplan.xml", data)
	if err != nil {
		t.Fatal(err)
	}
	exts := doc.Root().FindElements("//extension")
	if len(exts) != 3 {
		t.Fatalf("%d extensions, want 3", len(exts))
	}
	checks := []struct{ path, got, want string }{
		{"set data", exts[0].FindElement("condition/action").SelectAttrValue("data", ""), "sip_h_P-Asserted-Identity=<sip:${caller_id_number}@${domain_name}>"},
		{"expression", exts[1].FindElement("condition/expression").Text(), "<sip:${destination_number}@${domain_name}>"},
		{"log text", exts[1].FindElement("condition/action").Text(), "INFO refer & transfer"},
		{"say data", exts[2].FindElement("condition/action").SelectAttrValue("data", ""), "en CURRENT_DATE_TIME" + strings.Repeat(" ", 43) + "pronounced" + strings.Repeat(" ", 43) + "${strepoch()}"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.path, c.got, c.want)
		}
	}
	if got := doc.Pos(exts[2]).Line; got != 19 {
		t.Errorf("clock extension at line %d, want 19", got)
	}
	for _, e := range exts {
		if p := doc.Pos(e); p.Line == 0 || p.File != "testdata/dialplan.xml" {
			t.Fatalf("extension %s has pos %v", e.SelectAttrValue("name", ""), p)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		`<a b="c"><d>text</d></a>`,
		"<a>\n<![CDATA[x]]>\n<!-- c -->\n<?pi?>\n</a>",
		`<a v="<x>&lt;&nbsp;&#65;&#x;"/>`,
		"<!DOCTYPE a [<!ENTITY x 'y'>]><a/>",
		"<a><b></a>",
		"<a/><b/>",
		"<a>]]></a>",
		"<a v=\"\r\n\t\"/>",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc, err := Parse(linesOf("fuzz.xml", s, nil))
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if pe.Pos.File != "fuzz.xml" {
				t.Fatalf("error without file: %v", err)
			}
			return
		}
		root := doc.Root()
		if root == nil {
			t.Fatal("nil root without error")
		}
		var walk func(e *etree.Element, depth int)
		walk = func(e *etree.Element, depth int) {
			if depth > MaxElementDepth {
				t.Fatal("depth limit exceeded")
			}
			if p := doc.Pos(e); p.File != "fuzz.xml" || p.Line < 1 {
				t.Fatalf("element %s has pos %v", e.FullTag(), p)
			}
			for _, c := range e.ChildElements() {
				walk(c, depth+1)
			}
		}
		walk(root, 1)
	})
}
