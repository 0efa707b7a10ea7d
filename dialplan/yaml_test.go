package dialplan

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// modelDump renders a model value (a *File or any part of one) as indented
// text without positions or compiled state, so that two models can be
// compared and a mismatch read. Zero fields are left out, so a nil slice and
// an empty one look the same.
func modelDump(v any) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(v), 0)
	return b.String()
}

func dumpValue(b *strings.Builder, v reflect.Value, depth int) {
	ind := strings.Repeat("  ", depth)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil\n")
			return
		}
		dumpValue(b, v.Elem(), depth)
	case reflect.Struct:
		b.WriteString(v.Type().Name() + "\n")
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			fv := v.Field(i)
			if !f.IsExported() || f.Name == "Pos" || fv.IsZero() ||
				fv.Kind() == reflect.Slice && fv.Len() == 0 {
				continue
			}
			b.WriteString(ind + "  " + f.Name + ": ")
			dumpValue(b, fv, depth+1)
		}
	case reflect.Slice:
		b.WriteString(fmt.Sprintf("[%d]\n", v.Len()))
		for i := 0; i < v.Len(); i++ {
			b.WriteString(fmt.Sprintf("%s  - [%d] ", ind, i))
			dumpValue(b, v.Index(i), depth+2)
		}
	case reflect.String:
		b.WriteString(fmt.Sprintf("%q\n", v.String()))
	default:
		b.WriteString(fmt.Sprintf("%v\n", v.Interface()))
	}
}

// sameModel fails t when got and want differ (positions ignored).
func sameModel(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := modelDump(got), modelDump(want)
	if g != w {
		t.Errorf("%s: models differ\n--- got:\n%s--- want:\n%s", what, g, w)
	}
}

func TestParseYAML(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want *File
	}{
		{
			name: "empty file",
			src:  "# nothing here yet\n",
			want: &File{},
		},
		{
			name: "null document",
			src:  "---\n~\n",
			want: &File{},
		},
		{
			name: "empty contexts",
			src:  "contexts: []\n",
			want: &File{},
		},
		{
			name: "null extensions",
			src:  "extensions:\n",
			want: &File{HoldsExtensions: true},
		},
		{
			name: "short and full action forms",
			src: `contexts:
  - name: default
    extensions:
      - name: echo
        condition:
          field: destination_number
          expression: ^9196$
          actions:
            - answer
            - playback: foo.wav
            - hangup:
            - {app: set, data: a=1, inline: true, loop: 2}
            - {app: log, data-element: "INFO <hello>"}
            - {app: sleep, data: 1000, inline: yes}
            - app: info
`,
			want: &File{Contexts: []*Context{{
				Name: "default",
				Extensions: []*Extension{{
					Name: "echo",
					Conditions: []*Condition{{
						Field:      "destination_number",
						Expression: "^9196$",
						Actions: []*Action{
							{App: "answer"},
							{App: "playback", Data: "foo.wav"},
							{App: "hangup"},
							{App: "set", Data: "a=1", Inline: "true", Loop: "2"},
							{App: "log", Data: "INFO <hello>", DataElement: true},
							{App: "sleep", Data: "1000", Inline: "yes"},
							{App: "info"},
						},
					}},
				}},
			}}},
		},
		{
			name: "raw values keep their text",
			src: `extensions:
  - name: raw
    continue: on
    condition:
      field: ${x}
      expression: 0x10
      break: never
      require-nested: false
      hour: 9-17
      mon: 01
      dst: true
      actions:
        - {app: set, data: "true", loop: 007}
        - set: "null"
        - set: ~
        - set: 1.50
`,
			want: &File{HoldsExtensions: true, Extensions: []*Extension{{
				Name:     "raw",
				Continue: "on",
				Conditions: []*Condition{{
					Field: "${x}", Expression: "0x10", Break: "never", RequireNested: "false",
					Time: TimeSpec{Hour: "9-17", Mon: "01", DST: "true"},
					Actions: []*Action{
						{App: "set", Data: "true", Loop: "007"},
						{App: "set", Data: "null"},
						{App: "set"},
						{App: "set", Data: "1.50"},
					},
				}},
			}}},
		},
		{
			name: "several conditions, anti-actions and nesting",
			src: `extensions:
  - name: office
    conditions:
      - field: destination_number
        expression: ^(\d{4})$
        break: on-true
      - wday: mon-fri
        hour: 9-17
        actions: [answer, {bridge: user/$1}]
        anti-actions:
          - playback: closed.wav
        conditions:
          - field: caller_id_number
            expression: ^1
            condition:
              field: network_addr
              expression-element: ^10\.
`,
			want: &File{HoldsExtensions: true, Extensions: []*Extension{{
				Name: "office",
				Conditions: []*Condition{
					{Field: "destination_number", Expression: `^(\d{4})$`, Break: "on-true"},
					{
						Time:        TimeSpec{Wday: "mon-fri", Hour: "9-17"},
						Actions:     []*Action{{App: "answer"}, {App: "bridge", Data: "user/$1"}},
						AntiActions: []*Action{{App: "playback", Data: "closed.wav"}},
						Conditions: []*Condition{{
							Field: "caller_id_number", Expression: "^1",
							Conditions: []*Condition{{Field: "network_addr", Expression: `^10\.`, ExpressionElement: true}},
						}},
					},
				},
			}}},
		},
		{
			name: "regex any with tests",
			src: `extensions:
  - name: any
    condition:
      regex: any
      regexes:
        - {field: destination_number, expression: ^1000$}
        - field: ${sip_to_user}
          expression-element: ^(bob)$
        - wday: sat,sun
      actions:
        - log: matched $1
`,
			want: &File{HoldsExtensions: true, Extensions: []*Extension{{
				Name: "any",
				Conditions: []*Condition{{
					Regex: "any",
					Regexes: []*RegexTest{
						{Field: "destination_number", Expression: "^1000$"},
						{Field: "${sip_to_user}", Expression: "^(bob)$", ExpressionElement: true},
						{Time: TimeSpec{Wday: "sat,sun"}},
					},
					Actions: []*Action{{App: "log", Data: "matched $1"}},
				}},
			}}},
		},
		{
			name: "directives keep their places and $${var} stays literal",
			src: `contexts:
  - X-PRE-PROCESS: {cmd: set, data: "moh=$${hold_music}"}
  - name: default
    extensions:
      - X-PRE-PROCESS: {cmd: include, data: default/*.yaml}
      - name: a
        conditions:
          - {field: destination_number, expression: "^$${prefix}1$"}
          - X-PRE-PROCESS: {cmd: include, data: conds/*.yaml}
      - name: b
      - X-PRE-PROCESS: {cmd: include}
  - X-PRE-PROCESS: {cmd: include, data: "$${conf_dir}/more/*.yaml"}
`,
			want: &File{
				Directives: []Directive{
					{Cmd: "set", Data: "moh=$${hold_music}", Before: 0},
					{Cmd: "include", Data: "$${conf_dir}/more/*.yaml", Before: 1},
				},
				Contexts: []*Context{{
					Name: "default",
					Directives: []Directive{
						{Cmd: "include", Data: "default/*.yaml", Before: 0},
						{Cmd: "include", Before: 2},
					},
					Extensions: []*Extension{
						{
							Name:       "a",
							Conditions: []*Condition{{Field: "destination_number", Expression: "^$${prefix}1$"}},
							Directives: []Directive{{Cmd: "include", Data: "conds/*.yaml", Before: 1}},
						},
						{Name: "b"},
					},
				}},
			},
		},
		{
			name: "aliases reuse lists",
			src: `extensions:
  - name: one
    condition:
      field: destination_number
      expression: ^1$
      actions: &greet
        - answer
        - playback: hello.wav
  - name: two
    condition:
      field: destination_number
      expression: ^2$
      actions: *greet
`,
			want: &File{HoldsExtensions: true, Extensions: []*Extension{
				{Name: "one", Conditions: []*Condition{{Field: "destination_number", Expression: "^1$",
					Actions: []*Action{{App: "answer"}, {App: "playback", Data: "hello.wav"}}}}},
				{Name: "two", Conditions: []*Condition{{Field: "destination_number", Expression: "^2$",
					Actions: []*Action{{App: "answer"}, {App: "playback", Data: "hello.wav"}}}}},
			}},
		},
		{
			name: "block scalars and quoting",
			src: `extensions:
  - name: "quoted: name"
    condition:
      actions:
        - say: >-
            en number
            pronounced 42
        - log: |
            two
            lines
        - set: 'x=#not a comment'
`,
			want: &File{HoldsExtensions: true, Extensions: []*Extension{{
				Name: "quoted: name",
				Conditions: []*Condition{{Actions: []*Action{
					{App: "say", Data: "en number pronounced 42"},
					{App: "log", Data: "two\nlines\n"},
					{App: "set", Data: "x=#not a comment"},
				}}},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseYAML("test.yaml", []byte(tt.src))
			if err != nil {
				t.Fatalf("ParseYAML: %v", err)
			}
			sameModel(t, "ParseYAML", got, tt.want)
		})
	}
}

func TestParseYAMLPositions(t *testing.T) {
	src := `# line 1
contexts:
  - name: default            # 3
    extensions:
      - X-PRE-PROCESS: {cmd: include, data: a/*.yaml}   # 5
      - name: e              # 6
        conditions:
          - field: x         # 8
            regex: all
            regexes:
              - field: y     # 11
            actions:
              - answer       # 13
              - log: hi      # 14
              - {app: set}   # 15
            anti-actions:
              - hangup       # 17
`
	f, err := ParseYAML("dp/default.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Contexts[0]
	e := c.Extensions[0]
	cond := e.Conditions[0]
	for _, tc := range []struct {
		what string
		pos  Pos
		line int
	}{
		{"context", c.Pos, 3},
		{"directive", c.Directives[0].Pos, 5},
		{"extension", e.Pos, 6},
		{"condition", cond.Pos, 8},
		{"regex", cond.Regexes[0].Pos, 11},
		{"bare action", cond.Actions[0].Pos, 13},
		{"short action", cond.Actions[1].Pos, 14},
		{"full action", cond.Actions[2].Pos, 15},
		{"anti-action", cond.AntiActions[0].Pos, 17},
	} {
		if tc.pos.File != "dp/default.yaml" || tc.pos.Line != tc.line {
			t.Errorf("%s at %v, want dp/default.yaml:%d", tc.what, tc.pos, tc.line)
		}
	}
}

func TestParseYAMLErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int    // 0: no line expected
		msg  string // substring of the error
	}{
		{"tab indentation", "extensions:\n  - name: a\n\tcontinue: true\n", 2, "invalid YAML: found a tab character"},
		{"unterminated quote", "extensions:\n  - name: \"a\n", 2, "invalid YAML"},
		{"top level list", "- name: a\n", 1, "expected a mapping, got a list"},
		{"top level scalar", "hello\n", 1, "expected a mapping"},
		{"unknown top key", "contexts: []\nextension: []\n", 2, `unknown key "extension" (did you mean "extensions"?)`},
		{"both top keys", "contexts: []\nextensions: []\n", 2, "not both"},
		{"no top key", "{}\n", 1, "expected contexts: or extensions:"},
		{"two documents", "contexts: []\n---\ncontexts: []\n", 2, "one document"},
		{"contexts not a list", "contexts: default\n", 1, "contexts: expected a list"},
		{"context not a mapping", "contexts:\n  - default\n", 2, "context: expected a mapping"},
		{"context without name", "contexts:\n  - extensions: []\n", 2, "missing name"},
		{"unknown context key", "contexts:\n  - name: a\n    continue: true\n", 3, `context: unknown key "continue"; known keys: name, extensions`},
		{"name is a list", "contexts:\n  - name: [a]\n", 2, "context name: expected a single value, got a list"},
		{"duplicate key", "extensions:\n  - name: a\n    name: b\n", 3, `duplicate key "name" (first given on line 2)`},
		{"unknown extension key", "extensions:\n  - name: a\n    contine: true\n", 3, `extension: unknown key "contine" (did you mean "continue"?)`},
		{"condition and conditions", "extensions:\n  - name: a\n    condition: {}\n    conditions: []\n", 4, "not both"},
		{"condition given a list", "extensions:\n  - name: a\n    condition:\n      - field: x\n", 4, "use conditions: for a list"},
		{"unknown condition key", "extensions:\n  - condition:\n      field: x\n      expresion: y\n", 4, `condition: unknown key "expresion" (did you mean "expression"?)`},
		{"time attr misspelt", "extensions:\n  - condition:\n      wdays: mon\n", 3, `unknown key "wdays" (did you mean "wday"?)`},
		{"expression twice", "extensions:\n  - condition:\n      expression: a\n      expression-element: b\n", 4, "not both"},
		{"actions not a list", "extensions:\n  - condition:\n      actions: answer\n", 3, "actions: expected a list"},
		{"action is a list", "extensions:\n  - condition:\n      actions:\n        - [answer]\n", 4, "expected an action"},
		{"empty action", "extensions:\n  - condition:\n      actions:\n        -\n", 4, "empty action"},
		{"short form two keys", "extensions:\n  - condition:\n      actions:\n        - {answer: x, hangup: y}\n", 4, "exactly one key"},
		{"short form data is a map", "extensions:\n  - condition:\n      actions:\n        - set: {a: 1}\n", 4, "set data: expected a single value"},
		{"full form unknown key", "extensions:\n  - condition:\n      actions:\n        - {app: set, date: a=1}\n", 4, `action: unknown key "date" (did you mean "data"?)`},
		{"full form without app", "extensions:\n  - condition:\n      actions:\n        - {data: a=1, inline: true}\n", 4, "missing app"},
		{"data and data-element", "extensions:\n  - condition:\n      actions:\n        - {app: log, data: a, data-element: b}\n", 4, "not both"},
		{"blank data-element", "extensions:\n  - condition:\n      actions:\n        - {app: log, data-element: \" \"}\n", 4, "must not be blank"},
		{"directive among actions", "extensions:\n  - condition:\n      actions:\n        - X-PRE-PROCESS: {cmd: include, data: x}\n", 4, "not among actions"},
		{"directive among nested conditions", "extensions:\n  - condition:\n      conditions:\n        - X-PRE-PROCESS: {cmd: include, data: x}\n", 4, "not among nested conditions"},
		{"directive with extra key", "extensions:\n  - X-PRE-PROCESS: {cmd: include, data: x}\n    name: a\n", 2, "only key"},
		{"directive without cmd", "extensions:\n  - X-PRE-PROCESS: {data: x}\n", 2, "missing cmd"},
		{"directive unknown key", "extensions:\n  - X-PRE-PROCESS: {cmd: set, value: x}\n", 2, `unknown key "value"`},
		{"directive with quote", "extensions:\n  - X-PRE-PROCESS: {cmd: set, data: 'a=\"b\"'}\n", 2, "double quote"},
		{"directive with newline", "extensions:\n  - X-PRE-PROCESS:\n      cmd: set\n      data: \"a=b\\nc\"\n", 4, "one line"},
		{"regexes not a list", "extensions:\n  - condition:\n      regex: any\n      regexes: {field: a}\n", 4, "regexes: expected a list"},
		{"unknown regex key", "extensions:\n  - condition:\n      regex: any\n      regexes:\n        - {field: a, actions: []}\n", 5, `regex: unknown key "actions"; known keys: field, expression, expression-element, and the time attributes tz-offset, dst,`},
		{"merge key", "extensions:\n  - &e {name: a}\n  - <<: *e\n    name: b\n", 3, "merge keys"},
		{"control character", "extensions:\n  - name: \"a\\x01b\"\n", 2, "cannot appear in an XML dialplan"},
		{"key is a mapping", "extensions:\n  - {? {a: b} : c}\n", 2, "keys must be plain names"},
		{"unknown anchor", "extensions:\n  - *nope\n", 0, "unknown anchor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseYAML("bad.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("ParseYAML succeeded, want error %q; got\n%s", tt.msg, modelDump(f))
			}
			var pe *xmltree.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not an *xmltree.Error", err, err)
			}
			if pe.Pos.File != "bad.yaml" {
				t.Errorf("error file %q, want bad.yaml", pe.Pos.File)
			}
			if tt.line != 0 && pe.Pos.Line != tt.line {
				t.Errorf("error at line %d, want %d: %v", pe.Pos.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

// aliasBomb builds a "billion laughs" document that is valid dialplan YAML
// at every level: each level is a list of ten conditions nesting the level
// below, so a naive reader would visit 10^levels conditions.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("extensions:\n  - name: l0\n    conditions: &l0\n")
	for i := 0; i < 10; i++ {
		b.WriteString("      - actions: [answer]\n")
	}
	for l := 1; l <= levels; l++ {
		fmt.Fprintf(&b, "  - name: l%d\n    conditions: &l%d\n", l, l)
		for i := 0; i < 10; i++ {
			fmt.Fprintf(&b, "      - conditions: *l%d\n", l-1)
		}
	}
	return b.String()
}

func TestParseYAMLAliasBomb(t *testing.T) {
	// Small enough to expand: aliases are legitimate.
	f, err := ParseYAML("ok.yaml", []byte(aliasBomb(2)))
	if err != nil {
		t.Fatalf("small alias use: %v", err)
	}
	if n := len(f.Extensions[2].Conditions[9].Conditions[9].Conditions); n != 10 {
		t.Errorf("expanded alias has %d conditions, want 10", n)
	}
	// 10^9 conditions: must be refused, not expanded.
	_, err = ParseYAML("bomb.yaml", []byte(aliasBomb(9)))
	if err == nil || !strings.Contains(err.Error(), "alias") || !strings.Contains(err.Error(), "bomb.yaml:") {
		t.Fatalf("alias bomb: got %v, want a positioned error about aliases", err)
	}
	// The classic form, with its anchors under an unknown key, is refused
	// before anything is expanded.
	classic := "lol: &a [x, x, x, x, x, x, x, x, x]\nlol2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\ncontexts: []\n"
	if _, err := ParseYAML("lol.yaml", []byte(classic)); err == nil || !strings.Contains(err.Error(), `unknown key "lol"`) {
		t.Errorf("classic bomb: got %v", err)
	}
}

func TestParseYAMLSelfReference(t *testing.T) {
	src := "extensions:\n  - name: loop\n    condition: &c\n      conditions:\n        - *c\n"
	_, err := ParseYAML("self.yaml", []byte(src))
	if err == nil {
		t.Fatal("a condition that contains itself was accepted")
	}
	if !strings.Contains(err.Error(), "self.yaml:") {
		t.Errorf("error %q has no position", err)
	}
}

func TestParseYAMLNestingLimit(t *testing.T) {
	build := func(depth int) string {
		var b strings.Builder
		b.WriteString("extensions:\n  - name: deep\n")
		ind := "    "
		for i := 0; i < depth; i++ {
			b.WriteString(ind + "condition:\n")
			ind += "  "
		}
		b.WriteString(ind + "field: x\n")
		return b.String()
	}
	if _, err := ParseYAML("deep.yaml", []byte(build(MaxYAMLNesting))); err != nil {
		t.Errorf("nesting at the limit: %v", err)
	}
	_, err := ParseYAML("deep.yaml", []byte(build(MaxYAMLNesting+1)))
	if err == nil || !strings.Contains(err.Error(), "nest more than") {
		t.Errorf("nesting past the limit: got %v", err)
	}
}

func TestParseYAMLTooLarge(t *testing.T) {
	data := bytes.Repeat([]byte("# padding padding padding padding\n"), MaxYAMLSize/34+1)
	data = append([]byte("contexts: []\n"), data...)
	_, err := ParseYAML("big.yaml", data)
	var pe *xmltree.Error
	if !errors.As(err, &pe) || pe.Pos.File != "big.yaml" || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("oversized file: got %v, want a size-limit error", err)
	}
	// Just under the limit is fine.
	if _, err := ParseYAML("big.yaml", data[:MaxYAMLSize]); err != nil {
		t.Errorf("file at the limit: %v", err)
	}
}

func TestParseYAMLNodeLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("extensions:\n  - condition:\n      actions: [")
	for i := 0; i < MaxYAMLNodes; i++ {
		b.WriteString("a,")
	}
	b.WriteString("a]\n")
	_, err := ParseYAML("many.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "nodes") {
		t.Fatalf("too many nodes: got %v", err)
	}
}

// yamlSeeds returns the YAML sources of the fixtures, for the fuzzer.
func yamlSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob("testdata/yaml/*.txtar")
	for _, name := range files {
		ar, err := txtar.ParseFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if strings.HasSuffix(f.Name, ".yaml") {
				seeds = append(seeds, f.Data)
			}
		}
	}
	return seeds
}

func FuzzParseYAML(f *testing.F) {
	for _, s := range yamlSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte("extensions:\n  - condition:\n      actions: [answer, {set: a}, {app: x, loop: 2}]\n"))
	f.Add([]byte("contexts:\n  - name: x\n    extensions:\n      - X-PRE-PROCESS: {cmd: include, data: a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseYAML("fuzz.yaml", data)
		if err != nil {
			var pe *xmltree.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not an *xmltree.Error", err, err)
			}
			return
		}
		var y bytes.Buffer
		if err := WriteYAML(&y, m); err != nil {
			t.Fatalf("WriteYAML of a parsed file: %v", err)
		}
		again, err := ParseYAML("fuzz2.yaml", y.Bytes())
		if err != nil {
			t.Fatalf("re-parse of written YAML: %v\n%s", err, y.String())
		}
		sameModel(t, "YAML round trip", again, m)
		var x bytes.Buffer
		if err := WriteXML(&x, m); err != nil {
			t.Fatalf("WriteXML of a parsed file: %v", err)
		}
		fromXML, err := ParseXMLFile("fuzz.xml", x.Bytes())
		if err != nil {
			t.Fatalf("ParseXMLFile of written XML: %v\n%s", err, x.String())
		}
		if len(m.Contexts)+len(m.Extensions) == 0 {
			// XML cannot tell an empty extensions file from an empty
			// contexts file; the difference routes nothing.
			fromXML.HoldsExtensions = m.HoldsExtensions
		}
		sameModel(t, "YAML → XML round trip", fromXML, m)
		lines, err := YAMLToXML("fuzz.yaml", data)
		if err != nil {
			t.Fatalf("YAMLToXML after ParseYAML succeeded: %v", err)
		}
		checkPreprocessorSafe(t, lines)
	})
}

// TestYAMLFixturesParse makes sure every YAML fixture parses; a fixture that
// stopped parsing would silently weaken the other tests.
func TestYAMLFixturesParse(t *testing.T) {
	seeds := yamlSeeds(t)
	if len(seeds) == 0 {
		t.Fatal("no YAML fixtures in testdata/yaml")
	}
	for i, s := range seeds {
		if _, err := ParseYAML(fmt.Sprintf("seed%d.yaml", i), s); err != nil {
			t.Errorf("fixture %d: %v", i, err)
		}
	}
}

// docSnippet is a fenced code block of docs/yaml-dialplan.md.
type docSnippet struct {
	lang     string
	text     string
	line     int
	adjacent bool // only blank lines separate it from the previous block
}

func docSnippets(t *testing.T) []docSnippet {
	t.Helper()
	data, err := os.ReadFile("../docs/yaml-dialplan.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []docSnippet
	var cur *docSnippet
	gap := false // prose since the last block
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &docSnippet{lang: trimmed[3:], line: i + 1, adjacent: !gap}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur, gap = nil, false
		case cur != nil:
			cur.text += line + "\n"
		case trimmed != "":
			gap = true
		}
	}
	return out
}

// wrapDocYAML turns a YAML snippet into a whole file: a list of extensions,
// a single condition: or an actions: list get the levels above them.
func wrapDocYAML(s string) string {
	indent := func(s, pre string) string {
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		for i := range lines {
			lines[i] = pre + lines[i]
		}
		return strings.Join(lines, "\n") + "\n"
	}
	s = dedent(s)
	switch {
	case strings.HasPrefix(s, "contexts:"), strings.HasPrefix(s, "extensions:"):
		return s
	case strings.HasPrefix(s, "- name:"), strings.HasPrefix(s, "- "+DirectiveKey):
		return "extensions:\n" + indent(s, "  ")
	case strings.HasPrefix(s, "- "):
		return "extensions:\n  - condition:\n      actions:\n" + indent(s, "        ")
	case strings.HasPrefix(s, "condition:"):
		return "extensions:\n  - " + strings.TrimPrefix(indent(s, "    "), "    ")
	case strings.HasPrefix(s, "actions:"):
		return "extensions:\n  - condition:\n" + indent(s, "      ")
	}
	return ""
}

// dedent removes the indentation common to all non-blank lines.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			lines[i] = l[common:]
		}
	}
	return strings.Join(lines, "\n")
}

// TestDocExamples parses every YAML example of docs/yaml-dialplan.md, and
// checks that an XML example directly followed by a YAML one says the same.
func TestDocExamples(t *testing.T) {
	snips := docSnippets(t)
	checked, pairs := 0, 0
	for i, s := range snips {
		if s.lang != "yaml" || strings.Contains(s.text, "...") {
			continue
		}
		src := wrapDocYAML(s.text)
		if src == "" {
			t.Errorf("docs line %d: YAML example of an unknown shape:\n%s", s.line, s.text)
			continue
		}
		y, err := ParseYAML("doc.yaml", []byte(src))
		if err != nil {
			t.Errorf("docs line %d: %v\n%s", s.line, err, src)
			continue
		}
		checked++
		if i == 0 || !s.adjacent || snips[i-1].lang != "xml" || strings.Contains(snips[i-1].text, "...") {
			continue
		}
		xsrc := snips[i-1].text
		if strings.HasPrefix(dedent(xsrc), "<condition") {
			xsrc = "<extension>\n" + xsrc + "</extension>\n"
		}
		x, err := ParseXMLFile("doc.xml", []byte(xsrc))
		if err != nil {
			t.Errorf("docs line %d: XML example: %v", snips[i-1].line, err)
			continue
		}
		sameModel(t, "docs example pair at line "+fmt.Sprint(s.line), y, x)
		pairs++
	}
	if checked < 8 || pairs < 3 {
		t.Errorf("only %d YAML examples and %d XML/YAML pairs checked; did the docs lose their examples?", checked, pairs)
	}
}
