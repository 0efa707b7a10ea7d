package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// yamlAliasBomb is a "billion laughs" YAML dialplan: every level is a
// valid condition holding nine aliases of the level below, so expanding it
// would visit 9^9 conditions.
func yamlAliasBomb() string {
	var b strings.Builder
	b.WriteString("contexts:\n  - name: default\n    extensions:\n      - name: bomb\n        conditions:\n")
	b.WriteString("          - &c0 {field: destination_number, expression: x}\n") // line 6
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "          - &c%d {conditions: [", i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*c%d", i-1)
		}
		b.WriteString("]}\n") // lines 7..15
	}
	return b.String()
}

// xmlEntityBomb is the XML "billion laughs". The XML reader does not
// support DOCTYPE entities, so it must neither expand nor choke on them.
const xmlEntityBomb = `<include>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
  <context name="default">
    <extension name="lol">
      <condition field="destination_number" expression="^1$">
        <action application="log" data="INFO &lol9;"/>
      </condition>
    </extension>
  </context>
</include>
`

// oneExtension is a dialplan file with one extension whose condition is on
// line 4 and whose action is on line 5.
func oneExtension(condAttrs string) string {
	return `<include>
  <context name="default">
    <extension name="a">
      <condition ` + condAttrs + `>
        <action application="log" data="INFO a"/>
      </condition>
    </extension>
  </context>
</include>
`
}

// TestBadInput loads broken configurations with check and route: each
// must end in exit 1 with the problem's file and line on stderr and
// nothing on stdout, never in a panic or a hang. A few hostile-looking
// inputs that FreeSWITCH accepts must load (exit 0).
func TestBadInput(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // freeswitch.xml defaults to rootXML
		args  []string          // extra flags
		code  int
		at    string // "file:line" relative to the conf dir, for exit 1
		msg   string // part of the message after "file:line: "
		also  []string
	}{
		{
			name: "XML unclosed tag",
			files: map[string]string{"dialplan/a.xml": `<include>
  <context name="default">
    <extension name="a">
      <condition field="destination_number" expression="^1$">
    </extension>
  </context>
</include>
`},
			code: 1, at: "dialplan/a.xml:5", msg: "closing tag </extension> does not match <condition>",
			also: []string{"dialplan/a.xml:4"},
		},
		{
			name: "XML mismatched tag",
			files: map[string]string{"dialplan/a.xml": `<include>
  <context name="default">
    <extension name="a">
    </extensio>
  </context>
</include>
`},
			code: 1, at: "dialplan/a.xml:4", msg: "</extensio>",
		},
		{
			name:  "XML file ends inside an element",
			files: map[string]string{"dialplan/a.xml": "<include>\n  <context name=\"default\">\n    <extension name=\"a\">\n"},
			// The included text ends open; the includer's next tag is where
			// the document breaks, and the message names where it opened.
			code: 1, at: "freeswitch.xml:6", msg: "</section> does not match <extension>",
			also: []string{"dialplan/a.xml:3"},
		},
		{
			name:  "XML broken attribute",
			files: map[string]string{"dialplan/a.xml": "<include>\n  <context name=\"default\">\n    <extension name=\"a\" =\"b\">\n    </extension>\n  </context>\n</include>\n"},
			code:  1, at: "dialplan/a.xml:3", msg: "XML syntax error",
		},
		{
			name: "YAML syntax error",
			files: map[string]string{"dialplan/a.yaml": `contexts:
  - name: default
    extensions:
      - name: a
        condition:
          field: destination_number
          expression: ^1$: oops
`},
			code: 1, at: "dialplan/a.yaml:7", msg: "invalid YAML",
		},
		{
			name: "YAML unterminated quote",
			files: map[string]string{"dialplan/a.yaml": `contexts:
  - name: default
    extensions:
      - name: "a
`},
			code: 1, at: "dialplan/a.yaml:4", msg: "invalid YAML",
		},
		{
			name: "YAML unknown key",
			files: map[string]string{"dialplan/a.yaml": `contexts:
  - name: default
    extensions:
      - name: a
        condition:
          field: destination_number
          expresion: ^1$
`},
			code: 1, at: "dialplan/a.yaml:7", msg: `unknown key "expresion"`,
		},
		{
			name: "YAML duplicate key",
			files: map[string]string{"dialplan/a.yaml": `contexts:
  - name: default
    extensions:
      - name: a
        continue: true
        continue: false
`},
			code: 1, at: "dialplan/a.yaml:6", msg: `duplicate key "continue"`,
		},
		{
			name:  "YAML second document",
			files: map[string]string{"dialplan/a.yaml": "contexts: []\n---\ncontexts: []\n"},
			code:  1, at: "dialplan/a.yaml:2", msg: "one document",
		},
		{
			name:  "YAML alias bomb",
			files: map[string]string{"dialplan/a.yaml": yamlAliasBomb()},
			code:  1, at: "dialplan/a.yaml:", msg: "alias",
		},
		{
			name:  "include loop",
			files: map[string]string{"dialplan/a.xml": "<include>\n<X-PRE-PROCESS cmd=\"include\" data=\"b.inc\"/>\n</include>\n", "dialplan/b.inc": "<include>\n\n<X-PRE-PROCESS cmd=\"include\" data=\"a.xml\"/>\n</include>\n"},
			code:  1, at: "dialplan/b.inc:3", msg: "include loop",
			also: []string{"included from {dir}/dialplan/a.xml:2, {dir}/freeswitch.xml:4"},
		},
		{
			name:  "file includes itself",
			files: map[string]string{"dialplan/a.xml": "<include>\n<X-PRE-PROCESS cmd=\"include\" data=\"*.xml\"/>\n</include>\n"},
			code:  1, at: "dialplan/a.xml:2", msg: "include loop",
		},
		{
			name:  "unknown break value",
			files: map[string]string{"dialplan/a.xml": oneExtension(`field="destination_number" expression="^1$" break="sometimes"`)},
			code:  1, at: "dialplan/a.xml:4", msg: `unknown break value "sometimes"`,
		},
		{
			name: "unknown break value in YAML",
			files: map[string]string{"dialplan/a.yaml": `contexts:
  - name: default
    extensions:
      - name: a
        condition:
          field: destination_number
          expression: ^1$
          break: sometimes
`},
			code: 1, at: "dialplan/a.yaml:", msg: `unknown break value "sometimes"`,
		},
		{
			name:  "regex no engine can compile",
			files: map[string]string{"dialplan/a.xml": oneExtension(`field="destination_number" expression="^(1$"`)},
			code:  1, at: "dialplan/a.xml:4", msg: "invalid regular expression",
		},
		{
			name:  "regex in a <regex> child",
			files: map[string]string{"dialplan/a.xml": "<include>\n  <context name=\"default\">\n    <extension name=\"a\">\n      <condition regex=\"all\">\n        <regex field=\"destination_number\" expression=\"[\"/>\n      </condition>\n    </extension>\n  </context>\n</include>\n"},
			code:  1, at: "dialplan/a.xml:5", msg: "invalid regular expression",
		},
		{
			name:  "lookahead needs PCRE, and loads",
			files: map[string]string{"dialplan/a.xml": oneExtension(`field="destination_number" expression="^((?!6000)60\d{2})$"`)},
			code:  0,
		},
		{
			name:  "stun-set without --allow-stun",
			files: map[string]string{"dialplan/a.xml": "<include>\n<X-PRE-PROCESS cmd=\"stun-set\" data=\"external_ip=stun:stun.example.com\"/>\n</include>\n"},
			code:  1, at: "dialplan/a.xml:2", msg: "stun-set",
		},
		{
			name:  "stun-set with --allow-stun",
			files: map[string]string{"dialplan/a.xml": "<include>\n<X-PRE-PROCESS cmd=\"stun-set\" data=\"external_ip=stun:stun.example.com\"/>\n</include>\n"},
			args:  []string{"--allow-stun"},
			code:  0,
		},
		{
			name:  "exec-set without --allow-exec",
			files: map[string]string{"dialplan/a.xml": "<include>\n<X-PRE-PROCESS cmd=\"exec-set\" data=\"who=echo me\"/>\n</include>\n"},
			code:  1, at: "dialplan/a.xml:2", msg: "exec-set",
		},
		{
			name:  "include glob matching nothing is not an error",
			files: map[string]string{"dialplan/a.xml": "<include>\n  <context name=\"default\">\n    <X-PRE-PROCESS cmd=\"include\" data=\"default/*.xml\"/>\n  </context>\n</include>\n"},
			args:  []string{"--log-level", "info"},
			code:  0,
			// ...but it is logged at info, naming the directive.
			also: []string{"level=INFO", "default/*.xml", "{dir}/dialplan/a.xml:3"},
		},
		{
			name:  "include of a missing plain file is an empty glob, as in FreeSWITCH",
			files: map[string]string{"dialplan/a.xml": "<include>\n<X-PRE-PROCESS cmd=\"include\" data=\"nothere.xml\"/>\n</include>\n"},
			code:  0,
		},
		{
			name:  "not UTF-8",
			files: map[string]string{"dialplan/a.xml": "<include>\n<!-- caf\xe9 -->\n</include>\n"},
			code:  1, at: "dialplan/a.xml:2", msg: "UTF-8",
		},
		{
			name:  "NUL byte",
			files: map[string]string{"dialplan/a.xml": "<include>\n\n\x00\n</include>\n"},
			code:  1, at: "dialplan/a.xml:3", msg: "NUL",
		},
		{
			name:  "elements nested too deep",
			files: map[string]string{"dialplan/a.xml": "<include>\n<context name=\"default\">\n" + strings.Repeat("<a>", 100000) + "\n" + strings.Repeat("</a>", 100000) + "\n</context>\n</include>\n"},
			code:  1, at: "dialplan/a.xml:3", msg: "nested deeper",
		},
		{
			name:  "XML entity bomb is not expanded",
			files: map[string]string{"dialplan/a.xml": xmlEntityBomb},
			code:  0,
		},
		{
			name:  "missing freeswitch.xml",
			files: map[string]string{"freeswitch.xml": "", "dialplan/a.xml": "<include/>\n"},
			code:  1, at: "freeswitch.xml", msg: "cannot open the configuration root",
		},
		{
			name:  "YAML file over the YAML size limit",
			files: map[string]string{"dialplan/a.yaml": "extensions:\n" + strings.Repeat("  # padding padding padding padding padding padding padding padding\n", 150000)},
			code:  1, at: "dialplan/a.yaml", msg: "more than the limit",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"freeswitch.xml": rootXML}
			for name, text := range tt.files {
				files[name] = text
			}
			dir := writeTree(t, files)
			if text, ok := tt.files["freeswitch.xml"]; ok && text == "" {
				if err := os.Remove(filepath.Join(dir, "freeswitch.xml")); err != nil {
					t.Fatal(err)
				}
			}
			for _, cmd := range [][]string{{"check"}, {"route", "--json"}} {
				args := append(append(append([]string(nil), cmd...), "--conf", dir), tt.args...)
				if cmd[0] == "route" {
					args = append(args, "1")
				}
				r := runCLI(t, args...)
				if r.code != tt.code {
					t.Fatalf("switchboard %s: exit %d, want %d\n%s", cmd[0], r.code, tt.code, r)
				}
				for _, a := range tt.also {
					if a = strings.ReplaceAll(a, "{dir}", dir); !strings.Contains(r.stderr, a) && !strings.Contains(r.stderr, filepath.Join(dir, a)) {
						t.Errorf("%s: stderr lacks %q:\n%s", cmd[0], a, r)
					}
				}
				if tt.code == 0 {
					continue
				}
				if r.stdout != "" {
					t.Errorf("%s: an error must print nothing on stdout:\n%s", cmd[0], r)
				}
				first, _, _ := strings.Cut(r.stderr, "\n")
				prefix := filepath.Join(dir, filepath.FromSlash(tt.at))
				if !strings.HasPrefix(first, prefix) {
					t.Fatalf("%s: the error does not start with %s:\n%s", cmd[0], prefix, r)
				}
				// The position is file:line: (or file: when no line applies),
				// then the message.
				rest := strings.TrimPrefix(first, prefix)
				if !regexp.MustCompile(`^(\d*: |: )`).MatchString(rest) {
					t.Errorf("%s: malformed position in %q", cmd[0], first)
				}
				if !strings.Contains(first, tt.msg) {
					t.Errorf("%s: the error lacks %q:\n%s", cmd[0], tt.msg, r)
				}
			}
		})
	}
}

// TestBadInputAliasBombLine checks that the alias bomb is reported on one
// of the lines that hold its anchors and aliases.
func TestBadInputAliasBombLine(t *testing.T) {
	dir := writeTree(t, map[string]string{"freeswitch.xml": rootXML, "dialplan/a.yaml": yamlAliasBomb()})
	r := runCLI(t, "check", "--conf", dir)
	m := regexp.MustCompile(regexp.QuoteMeta(filepath.Join(dir, "dialplan", "a.yaml")) + `:(\d+): .*alias`).FindStringSubmatch(r.stderr)
	if r.code != 1 || m == nil {
		t.Fatalf("alias bomb:\n%s", r)
	}
	if line, _ := strconv.Atoi(m[1]); line < 6 || line > 15 {
		t.Errorf("alias bomb reported on line %d, want one of the bomb's lines 6-15", line)
	}
}

// writeHuge writes a file of size bytes of valid dialplan text (an
// <include> padded with comment lines), without holding it in memory.
func writeHuge(t *testing.T, name string, size int) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("<include>\n")
	line := "<!-- " + strings.Repeat("padding ", 12) + "-->\n"
	for n := 0; n < size; n += len(line) {
		w.WriteString(line)
	}
	w.WriteString("</include>\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBadInputHugeFile includes a 100 MB dialplan file. The loader must
// refuse it with a positioned error after reading no more than its size
// limit: the memory the whole run allocates stays below the file's size.
// convert must refuse it the same way.
func TestBadInputHugeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 100 MB file")
	}
	const size = 100 << 20
	dir := writeTree(t, map[string]string{"freeswitch.xml": rootXML})
	huge := filepath.Join(dir, "dialplan", "huge.xml")
	if err := os.MkdirAll(filepath.Dir(huge), 0o755); err != nil {
		t.Fatal(err)
	}
	writeHuge(t, huge, size)

	for _, args := range [][]string{
		{"check", "--conf", dir},
		{"route", "--conf", dir, "1"},
		{"convert", "--to", "yaml", huge},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := runCLI(t, args...)
		runtime.ReadMemStats(&after)
		if r.code != 1 || r.stdout != "" {
			t.Fatalf("%s on a 100 MB file: exit %d\n%s", args[0], r.code, r)
		}
		if !strings.HasPrefix(r.stderr, huge+": ") || !strings.Contains(r.stderr, "larger than") {
			t.Errorf("%s: want an error naming %s:\n%s", args[0], huge, r)
		}
		if args[0] != "convert" && !strings.Contains(r.stderr, "included from "+filepath.Join(dir, "freeswitch.xml")+":4") {
			t.Errorf("%s: the error does not name the include directive:\n%s", args[0], r)
		}
		// Reading the whole file would allocate at least its size.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc >= size {
			t.Errorf("%s allocated %d MB for a %d MB file it refuses: it read too much", args[0], alloc>>20, size>>20)
		}
	}
}
