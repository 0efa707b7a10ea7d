package dialplan

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/switchboard-voip/switchboard/xmltree"
)

var updateConvert = flag.Bool("update-convert", false, "rewrite the expected outputs in testdata/yaml/*.txtar")

// checkPreprocessorSafe fails t when a line of generated XML would be
// dropped or misread by FreeSWITCH's line-based preprocessor.
func checkPreprocessorSafe(t *testing.T, lines []xmltree.Line) {
	t.Helper()
	for i, l := range lines {
		if strings.ContainsAny(l.Text, "\n\r") {
			t.Errorf("line %d %q holds a line break", i+1, l.Text)
		}
		for _, h := range []string{"<include>", "</include>", "<?", "<!--#"} {
			if strings.Contains(l.Text, h) {
				t.Errorf("line %d %q contains %s", i+1, l.Text, h)
			}
		}
		if strings.Contains(strings.ToLower(l.Text), "x-pre-process") {
			s := strings.TrimSpace(l.Text)
			if !strings.HasPrefix(s, "<X-PRE-PROCESS cmd=\"") || !strings.HasSuffix(s, "\"/>") ||
				strings.Count(s, "X-PRE-PROCESS") != 1 {
				t.Errorf("line %d %q mentions X-PRE-PROCESS but is not a lone directive", i+1, l.Text)
			}
		}
	}
}

func TestEscapeXML(t *testing.T) {
	tests := []struct {
		in, attr, text string
	}{
		{"plain $${var} ${x}", "plain $${var} ${x}", "plain $${var} ${x}"},
		{`a<b>&"c'`, `a&lt;b>&amp;&quot;c'`, `a&lt;b&gt;&amp;"c'`},
		{"tab\tlf\ncr\r", "tab&#9;lf&#10;cr&#13;", "tab&#9;lf&#10;cr&#13;"},
		{"say X-PRE-PROCESS and x-Pre-Process", "say X&#45;PRE-PROCESS and x&#45;Pre-Process", "say X&#45;PRE-PROCESS and x&#45;Pre-Process"},
		{"<include>", "&lt;include>", "&lt;include&gt;"},
	}
	for _, tt := range tests {
		if got := escapeXML(tt.in, true); got != tt.attr {
			t.Errorf("escapeXML(%q, attr) = %q, want %q", tt.in, got, tt.attr)
		}
		if got := escapeXML(tt.in, false); got != tt.text {
			t.Errorf("escapeXML(%q, text) = %q, want %q", tt.in, got, tt.text)
		}
	}
}

func TestUseCDATA(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"^1234$", false},
		{"^<sip:(.*)@${domain}>$", true},
		{"a && b", true},
		{"a ]]> b <", false},
		{"<?php", false},
		{"<include>", false},
		{"<x> X-PRE-PROCESS", false},
		{"<x>\nline", false},
	}
	for _, tt := range tests {
		if got := useCDATA(tt.in); got != tt.want {
			t.Errorf("useCDATA(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestWriteXML(t *testing.T) {
	f := &File{
		Directives: []Directive{{Cmd: "include", Data: "default/*.xml", Before: 1}},
		Contexts: []*Context{
			{Name: "default", Extensions: []*Extension{{
				Name:     "echo",
				Continue: "true",
				Directives: []Directive{
					{Cmd: "set", Data: "x=$${y}", Before: 0},
					{Cmd: "include", Data: "conds/*.xml", Before: 9},
				},
				Conditions: []*Condition{
					{Field: "destination_number", Expression: "^9196$", Break: "never", Time: TimeSpec{Wday: "2-6", Hour: "9-17"}},
					{
						Field: "${sip_refer_to}", Expression: "<sip:(.*)@${domain}>", ExpressionElement: true,
						Actions: []*Action{
							{App: "answer"},
							{App: "set", Data: `a="1" & b`, Inline: "true", Loop: "2"},
							{App: "log", Data: "INFO <hi>", DataElement: true},
						},
						AntiActions: []*Action{{App: "hangup", Data: "CALL_REJECTED"}},
						Conditions:  []*Condition{{Regex: "all", Regexes: []*RegexTest{{Field: "a", Expression: "b"}, {Time: TimeSpec{Mon: "12"}}}}},
					},
				},
			}}},
			{Name: "empty"},
		},
	}
	var b bytes.Buffer
	if err := WriteXML(&b, f); err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="utf-8"?>
<include>
  <context name="default">
    <extension name="echo" continue="true">
      <X-PRE-PROCESS cmd="set" data="x=$${y}"/>
      <condition field="destination_number" expression="^9196$" break="never" wday="2-6" hour="9-17"/>
      <condition field="${sip_refer_to}">
        <expression><![CDATA[<sip:(.*)@${domain}>]]></expression>
        <action application="answer"/>
        <action application="set" data="a=&quot;1&quot; &amp; b" inline="true" loop="2"/>
        <action application="log"><![CDATA[INFO <hi>]]></action>
        <anti-action application="hangup" data="CALL_REJECTED"/>
        <condition regex="all">
          <regex field="a" expression="b"/>
          <regex mon="12"/>
        </condition>
      </condition>
      <X-PRE-PROCESS cmd="include" data="conds/*.xml"/>
    </extension>
  </context>
  <X-PRE-PROCESS cmd="include" data="default/*.xml"/>
  <context name="empty"/>
</include>
`
	if b.String() != want {
		t.Errorf("WriteXML:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteXMLErrors(t *testing.T) {
	tests := []struct {
		name string
		f    *File
		msg  string
	}{
		{"nil", nil, "nil file"},
		{"both kinds", &File{Contexts: []*Context{{Name: "a"}}, Extensions: []*Extension{{}}}, "not both"},
		{"directive with quote", &File{Directives: []Directive{{Cmd: "set", Data: `a="b"`, Pos: Pos{File: "x.xml", Line: 3}}}}, "x.xml:3"},
		{"directive with newline", &File{Directives: []Directive{{Cmd: "set", Data: "a=b\nc"}}}, "one line"},
		{"directive with />", &File{Directives: []Directive{{Cmd: "set", Data: "a=/>"}}}, "/>"},
		{"control character", &File{HoldsExtensions: true, Extensions: []*Extension{{Name: "a\x00b"}}}, "cannot appear"},
		{"bad UTF-8", &File{HoldsExtensions: true, Extensions: []*Extension{{Conditions: []*Condition{{
			Actions: []*Action{{App: "log", Data: "\xff", DataElement: true}}}}}}}, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteXML(&bytes.Buffer{}, tt.f)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("WriteXML: got %v, want an error mentioning %q", err, tt.msg)
			}
		})
	}
	if err := WriteYAML(&bytes.Buffer{}, &File{HoldsExtensions: true, Contexts: []*Context{{}}}); err == nil {
		t.Error("WriteYAML accepted a file holding both contexts and extensions")
	}
}

func TestWriteYAMLForms(t *testing.T) {
	f := &File{HoldsExtensions: true, Extensions: []*Extension{
		{
			Name: "forms",
			Conditions: []*Condition{{Actions: []*Action{
				{App: "answer"},
				{App: "playback", Data: "foo.wav"},
				{App: "set", Data: "true"},
				{App: "null"},
				{App: "data", Data: "x"},
				{App: "set", Data: "a=1", Inline: "true", Loop: "2"},
				{App: "log", Data: "<b>", DataElement: true},
				{App: "log", Data: "two\nlines"},
			}}},
		},
		{
			Name:     "two",
			Continue: "yes",
			Conditions: []*Condition{
				{Field: "destination_number", Expression: "^(1)$", Break: "on-true", Time: TimeSpec{Hour: "9"}},
				{ExpressionElement: true},
			},
		},
	}}
	var b bytes.Buffer
	if err := WriteYAML(&b, f); err != nil {
		t.Fatal(err)
	}
	want := `extensions:
  - name: forms
    condition:
      actions:
        - answer
        - playback: foo.wav
        - set: true
        - "null"
        - {app: data, data: x}
        - {app: set, data: a=1, inline: true, loop: 2}
        - {app: log, data-element: <b>}
        - log: "two\nlines"
  - name: two
    continue: yes
    conditions:
      - field: destination_number
        expression: ^(1)$
        break: on-true
        hour: 9
      - expression-element: ""
`
	if b.String() != want {
		t.Errorf("WriteYAML:\n%s\nwant:\n%s", b.String(), want)
	}
	back, err := ParseYAML("forms.yaml", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, "WriteYAML → ParseYAML", back, f)
}

func TestYAMLToXML(t *testing.T) {
	src := `extensions:                        # 1
  - X-PRE-PROCESS: {cmd: include, data: "$${conf_dir}/x/*.yaml"}
  - name: e                         # 3
    condition:
      field: destination_number     # 5
      expression: ^1$
      actions:
        - answer                    # 8
        - log: says X-PRE-PROCESS   # 9
        - {app: log, data-element: "<?php <include>"}
`
	lines, err := YAMLToXML("dp/e.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line int
		text string
	}{
		{2, `<X-PRE-PROCESS cmd="include" data="$${conf_dir}/x/*.yaml"/>`},
		{3, `<extension name="e">`},
		{5, `  <condition field="destination_number" expression="^1$">`},
		{8, `    <action application="answer"/>`},
		{9, `    <action application="log" data="says X&#45;PRE-PROCESS"/>`},
		{10, `    <action application="log">&lt;?php &lt;include&gt;</action>`},
		{5, `  </condition>`},
		{3, `</extension>`},
	}
	if len(lines) != len(want) {
		for _, l := range lines {
			t.Logf("%v %s", l.Pos, l.Text)
		}
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i, w := range want {
		l := lines[i]
		if l.Text != w.text || l.Pos.File != "dp/e.yaml" || l.Pos.Line != w.line {
			t.Errorf("line %d: %v %q, want dp/e.yaml:%d %q", i+1, l.Pos, l.Text, w.line, w.text)
		}
	}
	checkPreprocessorSafe(t, lines)

	if _, err := YAMLToXML("bad.yaml", []byte("extensions:\n  - nme: x\n")); err == nil || !strings.Contains(err.Error(), "bad.yaml:2") {
		t.Errorf("YAMLToXML of a bad file: got %v, want an error at bad.yaml:2", err)
	}
}

// TestConvertFixtures runs every testdata/yaml/*.txtar case. A case holds
// input.xml or input.yaml, and the expected conversion to the other form
// (output.yaml or output.xml); run with -update-convert to rewrite the
// expected outputs after checking the change. Each case must also survive
// XML → YAML → XML (and YAML → XML → YAML) with an identical model.
func TestConvertFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/yaml/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, name := range files {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(name)
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string][]byte{}
			for _, f := range ar.Files {
				sections[f.Name] = f.Data
			}
			var (
				model   *File
				out     bytes.Buffer
				outName string
			)
			switch {
			case sections["input.xml"] != nil:
				model, err = ParseXMLFile("input.xml", sections["input.xml"])
				if err != nil {
					t.Fatalf("ParseXMLFile: %v", err)
				}
				outName = "output.yaml"
				err = WriteYAML(&out, model)
			case sections["input.yaml"] != nil:
				model, err = ParseYAML("input.yaml", sections["input.yaml"])
				if err != nil {
					t.Fatalf("ParseYAML: %v", err)
				}
				outName = "output.xml"
				err = WriteXML(&out, model)
			default:
				t.Fatal("no input.xml or input.yaml section")
			}
			if err != nil {
				t.Fatalf("convert: %v", err)
			}
			if *updateConvert {
				updateSection(t, name, ar, outName, out.Bytes())
			} else if got, want := out.String(), string(sections[outName]); got != want {
				t.Errorf("converted %s:\n%s\nwant:\n%s", outName, got, want)
			}
			roundTrip(t, model)
		})
	}
}

// roundTrip checks XML → YAML → XML and YAML → XML → YAML starting from
// model: every step must give back the same model.
func roundTrip(t *testing.T, model *File) {
	t.Helper()
	var x1, y1, x2 bytes.Buffer
	if err := WriteXML(&x1, model); err != nil {
		t.Fatalf("WriteXML: %v", err)
	}
	fromXML, err := ParseXMLFile("rt.xml", x1.Bytes())
	if err != nil {
		t.Fatalf("ParseXMLFile of written XML: %v\n%s", err, x1.String())
	}
	sameModel(t, "model → XML → model", fromXML, model)
	if err := WriteYAML(&y1, fromXML); err != nil {
		t.Fatalf("WriteYAML: %v", err)
	}
	fromYAML, err := ParseYAML("rt.yaml", y1.Bytes())
	if err != nil {
		t.Fatalf("ParseYAML of written YAML: %v\n%s", err, y1.String())
	}
	sameModel(t, "XML → YAML → model", fromYAML, model)
	if err := WriteXML(&x2, fromYAML); err != nil {
		t.Fatalf("WriteXML: %v", err)
	}
	again, err := ParseXMLFile("rt2.xml", x2.Bytes())
	if err != nil {
		t.Fatalf("ParseXMLFile of XML written from YAML: %v\n%s", err, x2.String())
	}
	sameModel(t, "XML → YAML → XML → model", again, model)
	if x1.String() != x2.String() {
		t.Errorf("XML written before and after a YAML round trip differs:\n%s\n---\n%s", x1.String(), x2.String())
	}
	lines, err := YAMLToXML("rt.yaml", y1.Bytes())
	if err != nil {
		t.Fatalf("YAMLToXML: %v", err)
	}
	checkPreprocessorSafe(t, lines)
}

func updateSection(t *testing.T, path string, ar *txtar.Archive, name string, data []byte) {
	t.Helper()
	found := false
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files[i].Data = data
			found = true
		}
	}
	if !found {
		ar.Files = append(ar.Files, txtar.File{Name: name, Data: data})
	}
	if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWriteXMLAwkwardValues writes values that FreeSWITCH's preprocessor or
// XML attribute normalisation would mangle if written naively, and reads
// them back.
func TestWriteXMLAwkwardValues(t *testing.T) {
	values := []string{
		`say "X-PRE-PROCESS" here`,
		"<include> and </include>",
		"<?xml?> and <!--# comment",
		"tab\there",
		"two\nlines",
		"a & b < c > d",
		"ends with ]]>",
		"$${global} and ${chan}",
	}
	f := &File{HoldsExtensions: true}
	for _, v := range values {
		f.Extensions = append(f.Extensions, &Extension{
			Name: v,
			Conditions: []*Condition{{
				Field: v, Expression: v,
				Actions:     []*Action{{App: "log", Data: v}, {App: "log", Data: v, DataElement: true}},
				AntiActions: []*Action{{App: v}},
				Regexes:     []*RegexTest{{Field: v, Expression: v, ExpressionElement: true}},
			}},
		})
	}
	lines, err := xmlLines(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkPreprocessorSafe(t, lines)
	roundTrip(t, f)
}

func TestYAMLToXMLErrorIsPositioned(t *testing.T) {
	_, err := YAMLToXML("p.yaml", []byte("extensions:\n  - condition:\n      actions:\n        - {app: x, bogus: 1}\n"))
	var pe *xmltree.Error
	if !errors.As(err, &pe) || pe.Pos.Line != 4 {
		t.Fatalf("got %v, want an *xmltree.Error at line 4", err)
	}
}

// TestWriteYAMLTrickyScalars writes strings that YAML would read as other
// types, or that need quoting in block or flow style, in every place a
// string goes, and reads them back.
func TestWriteYAMLTrickyScalars(t *testing.T) {
	values := []string{
		"1000", "true", "yes", "on", "1.50", "0x10", "007", "2030-01-01", ".inf", "-", "- x", "? x",
		": x", "a: b", "a #b", "#x", "*x", "&x", "!x", "%x", "@x", "`x", "'x", `"x`, "{x}", "[x]",
		"x,y", "|", ">", "  lead", "trail  ", "multi\nline", "multi\nline\n", "\ttab", "null", "~",
		"NULL", "Null", "nULL", "<<", "=", "${x}", "$${x}", "X-PRE-PROCESS", "app", "data",
	}
	f := &File{HoldsExtensions: true}
	for _, v := range values {
		cond := &Condition{
			Field: v, Expression: v, Break: v, Regex: v, RequireNested: v, Time: TimeSpec{Wday: v, DateTime: v},
			Regexes:     []*RegexTest{{Field: v, Expression: v, ExpressionElement: true, Time: TimeSpec{Hour: v}}},
			Actions:     []*Action{{App: v}, {App: v, Data: v}, {App: "x", Data: v, Inline: v, Loop: v}},
			AntiActions: []*Action{{App: "log", Data: v, DataElement: strings.TrimSpace(v) != ""}},
		}
		e := &Extension{Name: v, Continue: v, Conditions: []*Condition{cond}}
		if directiveSafe(v) == nil {
			e.Directives = []Directive{{Cmd: v, Data: v, Before: 1}}
		}
		f.Extensions = append(f.Extensions, e)
	}
	var b bytes.Buffer
	if err := WriteYAML(&b, f); err != nil {
		t.Fatal(err)
	}
	back, err := ParseYAML("tricky.yaml", b.Bytes())
	if err != nil {
		t.Fatalf("ParseYAML: %v\n%s", err, b.String())
	}
	sameModel(t, "tricky scalars", back, f)
}
