package preprocess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/switchboard-voip/switchboard/xmltree"
)

// TestLines covers single-file behaviour: each case is a root file, the
// globals before the run, the expected Dump and globals after.
func TestLines(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		globals testGlobals
		want    string
		after   testGlobals // globals that must hold afterwards (subset)
		absent  []string    // globals that must not be set afterwards
		log     []string    // a log record must contain all of these
	}{
		{
			name:    "expansion of defined and undefined globals",
			in:      "<a x=\"$${domain}\" y=\"[$${nope}]\" z=\"${chan}\"/>",
			globals: testGlobals{"domain": "example.com"},
			want:    "<a x=\"example.com\" y=\"[]\" z=\"${chan}\"/>\n",
		},
		{
			name:    "global names are looked up as written",
			in:      "$${DoMaIn}",
			globals: testGlobals{"domain": "d"},
			want:    "d\n",
		},
		{
			name:    "values are not expanded again",
			in:      "$${a}",
			globals: testGlobals{"a": "$${b}", "b": "no"},
			want:    "$${b}\n",
		},
		{
			name:    "braces nest in names",
			in:      "$${a{b}}|$${a}$${a}",
			globals: testGlobals{"a{b}": "1", "a": "2"},
			want:    "1|22\n",
		},
		{
			name:    "unterminated $${ is copied and logged",
			in:      "x $${a y $${b}",
			globals: testGlobals{"b": "B"},
			want:    "x $${a y B\n",
			log:     []string{"ERROR", "unterminated", "freeswitch.xml:1"},
		},
		{
			name: "globals are read when the line is reached",
			in: "[$${v}]\n" +
				`<X-PRE-PROCESS cmd="set" data="v=1"/>` + "\n" +
				"[$${v}]\n" +
				`<X-PRE-PROCESS cmd="set" data="w=$${v}$${v}"/>` + "\n" +
				`<X-PRE-PROCESS cmd="set" data="v=2"/>` + "\n" +
				"[$${v}] [$${w}]",
			want:  "[]\n[1]\n[2] [11]\n",
			after: testGlobals{"v": "2", "w": "11"},
		},
		{
			name: "include tags and processing instructions drop the whole line",
			in: "<?xml version=\"1.0\"?>\n" +
				"<include><a/>\n" +
				"<b/></include>\n" +
				"text <? more\n" +
				"<INCLUDE>\n" +
				"<include >\n" +
				"kept",
			want: "<INCLUDE>\n<include >\nkept\n",
		},
		{
			name: "multi-line hash comment",
			in: "before\n" +
				"<!--#comment\n" +
				"hidden <a/>\n" +
				"<X-PRE-PROCESS cmd=\"set\" data=\"hidden=1\"/>\n" +
				"end --> after\n" +
				"last",
			want:   "before\n after\nlast\n",
			absent: []string{"hidden"},
		},
		{
			name: "text after a closing --> is not expanded",
			in: "<!--#comment\n" +
				"$${a} --> [$${a}]\n" +
				"[$${a}]",
			globals: testGlobals{"a": "A"},
			want:    " [$${a}]\n[A]\n",
		},
		{
			name: "directive after a closing --> runs",
			in: "<!--#comment\n" +
				`--><X-PRE-PROCESS cmd="set" data="x=1"/>` + "\n" +
				"$${x}",
			want:  "1\n",
			after: testGlobals{"x": "1"},
		},
		{
			name: "text before a multi-line hash comment joins the text after it",
			in: "<a/><!--#comment\n" +
				"gone\n" +
				"--><b/>",
			want: "<a/><b/>\n",
		},
		{
			name: "one-line hash comments keep surrounding text",
			in:   "<a/> <!--#comment hello--> <b/>\n<!--#comment-->x",
			want: "<a/>  <b/>\nx\n",
		},
		{
			name:  "hash set with quotes",
			in:    "<!--#set \"a=b c\"-->\n<!--#set d = e-->\n$${a}|$${d}",
			want:  "\n\nb c|e\n",
			after: testGlobals{"a": "b c", "d": "e"},
		},
		{
			name:  "hash set without closing on the line opens a comment",
			in:    "<!--#set x=1\nskipped\n-->$${x}",
			want:  "$${x}\n",
			after: testGlobals{"x": "1"},
		},
		{
			name:   "hash env-set is not a command",
			in:     "<!--#env-set a=$HOME-->",
			want:   "\n",
			absent: []string{"a"},
			log:    []string{"WARN", "env-set is not available"},
		},
		{
			name: "unknown hash command",
			in:   "<!--#frobnicate x-->",
			want: "\n",
			log:  []string{"WARN", "unknown <!--# command", "frobnicate"},
		},
		{
			name:  "set trims spaces around = only",
			in:    `<X-PRE-PROCESS cmd="set" data="  a  =   b c  "/>`,
			after: testGlobals{"  a": "b c  "},
		},
		{
			name:  "command and name case",
			in:    `<x-pre-process CMD="SeT" DATA="Ab=1"/>`,
			after: testGlobals{"ab": "1"},
		},
		{
			name:   "disabled directives are dropped and do not run",
			in:     `<XX-PRE-PROCESS cmd="set" data="a=1"/> trailing` + "\n" + `X-PRE-PROCESS cmd="set" data="b=1"` + "\n" + `<Z-PRE-PROCESS cmd="set" data="c=1"/>`,
			want:   `<Z-PRE-PROCESS cmd="set" data="c=1"/>` + "\n",
			absent: []string{"a", "b", "c"},
		},
		{
			name: "X-NO-PRE-PROCESS passes through",
			in:   `<X-NO-PRE-PROCESS cmd="include" data="lang/de/*.xml"/>`,
			want: `<X-NO-PRE-PROCESS cmd="include" data="lang/de/*.xml"/>` + "\n",
		},
		{
			name:  "the whole directive line is dropped, text around it too",
			in:    `<a/><X-PRE-PROCESS cmd="set" data="a=1"/><b/>` + "\nnext",
			want:  "next\n",
			after: testGlobals{"a": "1"},
		},
		{
			name:  "data value cannot contain a quote",
			in:    `<X-PRE-PROCESS cmd="set" data="a=say "hi""/>`,
			after: testGlobals{"a": "say "},
		},
		{
			name:  "the scan stops after the first />",
			in:    `<X-PRE-PROCESS cmd="set" data="a=<b/>c"/>`,
			after: testGlobals{"a": "<b/>"},
		},
		{
			name:   "unknown command",
			in:     `<X-PRE-PROCESS cmd="frob" data="a=1"/>`,
			absent: []string{"a"},
			log:    []string{"WARN", "unknown X-PRE-PROCESS command", "frob", "freeswitch.xml:1"},
		},
		{
			name: "directive without data",
			in:   `<X-PRE-PROCESS cmd="set"/>`,
			log:  []string{"WARN", "no data="},
		},
		{
			name: "directive with unclosed cmd",
			in:   `<X-PRE-PROCESS cmd="set/>`,
			log:  []string{"WARN", "no cmd="},
		},
		{
			name:   "set without =",
			in:     `<X-PRE-PROCESS cmd="set" data="novalue"/>`,
			absent: []string{"novalue"},
			log:    []string{"WARN", "set without '='"},
		},
		{
			name:  "set to empty",
			in:    `<X-PRE-PROCESS cmd="set" data="a="/>[$${a}]`,
			want:  "",
			after: testGlobals{},
		},
		{
			name: "CRLF and lone CR end lines",
			in:   "a\r\n<X-PRE-PROCESS cmd=\"set\" data=\"x=1\"/>\r\nb$${x}\rc\r\n",
			want: "a\nb1\nc\n",
		},
		{
			name: "byte order mark is ignored",
			in:   "\xef\xbb\xbf<a/>",
			want: "<a/>\n",
		},
		{
			name: "empty lines are kept",
			in:   "a\n\n\nb\n",
			want: "a\n\n\nb\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGlobals{}
			for k, v := range tt.globals {
				g[k] = v
			}
			lines, rec := mustRun(t, map[string]string{"freeswitch.xml": tt.in}, g, nil)
			if got := Dump(lines); tt.want != "" && got != tt.want {
				t.Errorf("output:\n%q\nwant:\n%q", got, tt.want)
			}
			for k, v := range tt.after {
				if got, ok := g.Get(k); !ok || got != v {
					t.Errorf("global %q = %q (set %v), want %q", k, got, ok, v)
				}
			}
			for _, k := range tt.absent {
				if v, ok := g.Get(k); ok {
					t.Errorf("global %q = %q, want unset", k, v)
				}
			}
			if tt.log != nil {
				if _, ok := rec.find(tt.log...); !ok {
					t.Errorf("no log record with %q; logs:\n%s", tt.log, rec)
				}
			}
		})
	}
}

// FreeSWITCH's directive scan does not know about XML comments, so a
// directive commented out with <!-- --> still runs; vars.xml relies on
// <XX-PRE-PROCESS and <Z-PRE-PROCESS to really disable one.
func TestDirectiveInsideXMLCommentStillRuns(t *testing.T) {
	in := `<!-- <X-PRE-PROCESS cmd="set" data="a=commented"/> -->` + "\n" +
		`<!--<Z-PRE-PROCESS cmd="set" data="b=commented"/> -->` + "\n" +
		"<!--\n" + `  <X-PRE-PROCESS cmd="set" data="c=multiline"/>` + "\n-->"
	g := testGlobals{}
	lines, _ := mustRun(t, map[string]string{"freeswitch.xml": in}, g, nil)
	if v, _ := g.Get("a"); v != "commented" {
		t.Errorf("a = %q, want the commented directive to run", v)
	}
	if v, _ := g.Get("c"); v != "multiline" {
		t.Errorf("c = %q, want the directive inside a multi-line comment to run", v)
	}
	if _, ok := g.Get("b"); ok {
		t.Error("Z-PRE-PROCESS ran")
	}
	want := `<!--<Z-PRE-PROCESS cmd="set" data="b=commented"/> -->` + "\n<!--\n-->\n"
	if got := Dump(lines); got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

// FreeSWITCH stores globals with "${" defused to "%{".
func TestSetDefusesChannelVariableReferences(t *testing.T) {
	tests := []struct{ data, want string }{
		{"a=${caller_id_number}", "%{caller_id_number}"},
		{`a=$\{x}`, `%\{x}`},
		{"a=$$x{y}", "$$x{y}"},
		{"a=cost $5 {each}", "cost $5 {each}"},
	}
	for _, tt := range tests {
		g := testGlobals{}
		mustRun(t, map[string]string{"freeswitch.xml": `<X-PRE-PROCESS cmd="set" data="` + tt.data + `"/>`}, g, nil)
		if got, _ := g.Get("a"); got != tt.want {
			t.Errorf("set %s: a = %q, want %q", tt.data, got, tt.want)
		}
	}
}

func TestPositions(t *testing.T) {
	files := map[string]string{
		"freeswitch.xml": "<document>\n" +
			"  <X-PRE-PROCESS cmd=\"include\" data=\"sub/a.xml\"/>\n" +
			"</document>",
		"sub/a.xml": "<include>\n" +
			"  <a/>\n" +
			"  <!--#include \"b.xml\"-->\n" +
			"</include>",
		"sub/b.xml": "<b/>",
	}
	lines, _ := mustRun(t, files, nil, func(o *Options) {
		o.DisplayName = func(p string) string { return "/etc/fs/" + p }
	})
	want := []struct {
		text, pos, chain string
	}{
		{"<document>", "/etc/fs/freeswitch.xml:1", ""},
		{"  <a/>", "/etc/fs/sub/a.xml:2", "included from /etc/fs/freeswitch.xml:2"},
		{"  ", "/etc/fs/sub/a.xml:3", "included from /etc/fs/freeswitch.xml:2"},
		{"<b/>", "/etc/fs/sub/b.xml:1", "included from /etc/fs/sub/a.xml:3, /etc/fs/freeswitch.xml:2"},
		{"</document>", "/etc/fs/freeswitch.xml:3", ""},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), Dump(lines))
	}
	for i, w := range want {
		l := lines[i]
		if l.Text != w.text || l.Pos.String() != w.pos || l.Pos.Chain() != w.chain {
			t.Errorf("line %d = %q at %s (%s), want %q at %s (%s)", i, l.Text, l.Pos, l.Pos.Chain(), w.text, w.pos, w.chain)
		}
	}
}

func TestInclude(t *testing.T) {
	files := map[string]string{
		"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="conf/*.xml"/>` + "\n" +
			`<X-PRE-PROCESS cmd="include" data="conf/[!0-9]*.inc"/>` + "\n" +
			`<X-PRE-PROCESS cmd="include" data="conf/nothing-*.xml"/>` + "\n" +
			`<X-PRE-PROCESS cmd="include" data="conf/missing.xml"/>` + "\n" +
			`<X-PRE-PROCESS cmd="include" data="conf/.*.xml"/>` + "\n" +
			"end",
		"conf/b.xml":        "b",
		"conf/a.xml":        "a\n" + `<X-PRE-PROCESS cmd="include" data="../nested/*.xml"/>`,
		"conf/a-b.xml":      "a-b",
		"conf/.hidden.xml":  "hidden",
		"conf/dir.xml/x":    "in a directory",
		"conf/x.inc":        "x.inc",
		"conf/1.inc":        "1.inc",
		"nested/n.xml":      "n $${v}",
		"nested/other.conf": "not matched",
	}
	lines, rec := mustRun(t, files, testGlobals{"v": "V"}, nil)
	want := "a-b\na\nn V\nb\nx.inc\nhidden\nend\n"
	if got := Dump(lines); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	for _, pattern := range []string{"conf/nothing-*.xml", "conf/missing.xml"} {
		if _, ok := rec.find("INFO", "no files to include", pattern); !ok {
			t.Errorf("no INFO log for %s; logs:\n%s", pattern, rec)
		}
	}
}

func TestIncludeErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  func(*Options)
		file  string
		line  int
		msg   string
		chain string
	}{
		{
			name: "loop",
			files: map[string]string{
				"freeswitch.xml": "x\n" + `<X-PRE-PROCESS cmd="include" data="a.xml"/>`,
				"a.xml":          `<X-PRE-PROCESS cmd="include" data="b.xml"/>`,
				"b.xml":          "\n\n" + `<!--#include "a.xml"-->`,
			},
			file: "b.xml", line: 3, msg: "include loop: a.xml -> b.xml -> a.xml",
			chain: "included from a.xml:1, freeswitch.xml:2",
		},
		{
			name: "self include",
			files: map[string]string{
				"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="*.xml"/>`,
			},
			file: "freeswitch.xml", line: 1, msg: "include loop: freeswitch.xml -> freeswitch.xml",
		},
		{
			name: "depth",
			files: map[string]string{
				"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="1.xml"/>`,
				"1.xml":          `<X-PRE-PROCESS cmd="include" data="2.xml"/>`,
				"2.xml":          `<X-PRE-PROCESS cmd="include" data="3.xml"/>`,
				"3.xml":          "deep",
			},
			opts: func(o *Options) { o.MaxDepth = 2 },
			file: "2.xml", line: 1, msg: "nested deeper than 2 levels",
		},
		{
			name: "escaping the tree",
			files: map[string]string{
				"freeswitch.xml": "\n" + `<X-PRE-PROCESS cmd="include" data="sub/../../etc/*.xml"/>`,
			},
			file: "freeswitch.xml", line: 2, msg: "leaves the configuration directory",
		},
		{
			name: "absolute path without a directory",
			files: map[string]string{
				"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="/etc/freeswitch/x.xml"/>`,
			},
			file: "freeswitch.xml", line: 1, msg: "not a directory on disk",
		},
		{
			name: "absolute path outside the directory",
			files: map[string]string{
				"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="/etc/passwd"/>`,
			},
			opts: func(o *Options) { o.Dir = "/etc/freeswitch" },
			file: "freeswitch.xml", line: 1, msg: "outside the configuration directory /etc/freeswitch",
		},
		{
			name: "absolute path that only shares a prefix",
			files: map[string]string{
				"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="/etc/freeswitch2/x.xml"/>`,
			},
			opts: func(o *Options) { o.Dir = "/etc/freeswitch" },
			file: "freeswitch.xml", line: 1, msg: "outside the configuration directory",
		},
		{
			name: "bad pattern",
			files: map[string]string{
				"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="[a-"/>`,
			},
			file: "freeswitch.xml", line: 1, msg: "bad include pattern",
		},
		{
			name: "binary file",
			files: map[string]string{
				"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="bin.xml"/>`,
				"bin.xml":        "ok\nok\n\x00\x01\x02",
			},
			file: "bin.xml", line: 3, msg: "binary data", chain: "included from freeswitch.xml:1",
		},
		{
			name: "latin-1 file",
			files: map[string]string{
				"freeswitch.xml": "ok\n\xe9t\xe9",
			},
			file: "freeswitch.xml", line: 2, msg: "not valid UTF-8",
		},
		{
			name: "too big",
			files: map[string]string{
				"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="big.xml"/>`,
				"big.xml":        strings.Repeat("x", 101),
			},
			opts: func(o *Options) { o.MaxFileSize = 100 },
			file: "big.xml", line: 0, msg: "larger than 100 bytes", chain: "included from freeswitch.xml:1",
		},
		{
			name: "line too long after expansion",
			files: map[string]string{
				"freeswitch.xml": "\n" + strings.Repeat("$${a}", 11),
			},
			opts: func(o *Options) { o.MaxFileSize = 100; o.Globals.Set("a", "0123456789") },
			file: "freeswitch.xml", line: 2, msg: "longer than 100 bytes after $${} expansion",
		},
		{
			name: "output too big",
			files: map[string]string{
				"freeswitch.xml": strings.Repeat(`<X-PRE-PROCESS cmd="include" data="a.xml"/>`+"\n", 5),
				"a.xml":          strings.Repeat("x", 30),
			},
			opts: func(o *Options) { o.MaxOutputSize = 100 },
			file: "a.xml", line: 1, msg: "expanded configuration is larger than 100 bytes",
		},
		{
			name: "too many files",
			files: map[string]string{
				"freeswitch.xml": strings.Repeat(`<X-PRE-PROCESS cmd="include" data="a.xml"/>`+"\n", 5),
				"a.xml":          "a",
			},
			opts: func(o *Options) { o.MaxFiles = 3 },
			file: "a.xml", line: 0, msg: "more than 3 files read", chain: "included from freeswitch.xml:3",
		},
		{
			name: "missing root",
			files: map[string]string{
				"other.xml": "x",
			},
			file: "freeswitch.xml", line: 0, msg: "cannot open configuration file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, tt.files, nil, tt.opts)
			pe := posError(t, err, tt.file, tt.line, tt.msg)
			if tt.chain != "" && pe.Pos.Chain() != tt.chain {
				t.Errorf("chain = %q, want %q", pe.Pos.Chain(), tt.chain)
			}
		})
	}
}

func TestAbsoluteIncludeInsideDir(t *testing.T) {
	files := map[string]string{
		"freeswitch.xml":   `<X-PRE-PROCESS cmd="include" data="$${conf_dir}/dialplan/*.xml"/>`,
		"dialplan/one.xml": "one",
	}
	lines, _ := mustRun(t, files, testGlobals{"conf_dir": "/etc/freeswitch/"}, func(o *Options) { o.Dir = "/etc/freeswitch" })
	if got := Dump(lines); got != "one\n" {
		t.Errorf("output %q", got)
	}
}

func TestEnvSet(t *testing.T) {
	env := map[string]string{"FS_HOST": "pbx.example.com", "EMPTY": ""}
	in := `<X-PRE-PROCESS cmd="env-set" data="host=$FS_HOST"/>` + "\n" +
		`<X-PRE-PROCESS cmd="env-set" data="unset=$NOPE"/>` + "\n" +
		`<X-PRE-PROCESS cmd="env-set" data="literal=FS_HOST"/>` + "\n" +
		`<X-PRE-PROCESS cmd="env-set" data="spaced = $FS_HOST"/>` + "\n" +
		"$${host}"
	g := testGlobals{"unset": "kept"}
	lines, rec := mustRun(t, map[string]string{"freeswitch.xml": in}, g, func(o *Options) {
		o.Getenv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	})
	if got := Dump(lines); got != "pbx.example.com\n" {
		t.Errorf("output %q", got)
	}
	if v, _ := g.Get("unset"); v != "kept" {
		t.Errorf("unset = %q, want the old value kept", v)
	}
	if _, ok := g.Get("literal"); ok {
		t.Error("env-set without $ set a value")
	}
	if _, ok := rec.find("WARN", "env-set needs name=$VARIABLE", "freeswitch.xml:3"); !ok {
		t.Errorf("no warning for env-set without $; logs:\n%s", rec)
	}
	// FreeSWITCH does not trim around '=' for env-set; " $FS_HOST" has no '$' first.
	if _, ok := g.Get("spaced "); ok {
		t.Error("env-set trimmed spaces")
	}
}

func TestStunSet(t *testing.T) {
	in := `<X-PRE-PROCESS cmd="stun-set" data="external_rtp_ip=stun:stun.example.org"/>` + "\n" +
		`<X-PRE-PROCESS cmd="stun-set" data="external_sip_ip = host:sip.example.org"/>` + "\n" +
		`<X-PRE-PROCESS cmd="stun-set" data="fixed=203.0.113.5  "/>`
	t.Run("refused by default", func(t *testing.T) {
		_, _, err := run(t, map[string]string{"freeswitch.xml": in}, nil, nil)
		posError(t, err, "freeswitch.xml", 1, "stun-set is not allowed")
	})
	t.Run("resolves to local_ip_v4", func(t *testing.T) {
		g := testGlobals{"local_ip_v4": "192.0.2.10"}
		_, rec := mustRun(t, map[string]string{"freeswitch.xml": in}, g, func(o *Options) { o.AllowStun = true })
		for k, want := range map[string]string{"external_rtp_ip": "192.0.2.10", "external_sip_ip": "192.0.2.10", "fixed": "203.0.113.5"} {
			if got, _ := g.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if _, ok := rec.find("INFO", "local_ip_v4 instead of a network lookup", "stun:stun.example.org"); !ok {
			t.Errorf("stun-set not logged; logs:\n%s", rec)
		}
	})
	t.Run("without local_ip_v4", func(t *testing.T) {
		g := testGlobals{}
		_, rec := mustRun(t, map[string]string{"freeswitch.xml": in}, g, func(o *Options) { o.AllowStun = true })
		if _, ok := g.Get("external_rtp_ip"); ok {
			t.Error("external_rtp_ip set without local_ip_v4")
		}
		if _, ok := rec.find("ERROR", "stun-set failed"); !ok {
			t.Errorf("no error log; logs:\n%s", rec)
		}
	})
}

func TestExec(t *testing.T) {
	files := map[string]string{
		"freeswitch.xml": "<a>\n" +
			`<X-PRE-PROCESS cmd="exec-set" data="who = printf 'me  \n\n'"/>` + "\n" +
			`<X-PRE-PROCESS cmd="exec-set" data="failed=echo no; exit 3"/>` + "\n" +
			`<X-PRE-PROCESS cmd="exec-set" data="ref=printf '${x}'"/>` + "\n" +
			`<X-PRE-PROCESS cmd="exec" data="printf '<b>$${who}</b>\n<c></c>\n'"/>` + "\n" +
			"[<!--#exec \"printf inline\"-->]\n" +
			"</a>",
	}
	t.Run("refused by default", func(t *testing.T) {
		_, _, err := run(t, files, nil, nil)
		posError(t, err, "freeswitch.xml", 2, "exec-set is not allowed")
		_, _, err = run(t, map[string]string{"freeswitch.xml": "\n" + `<!--#exec "true"-->`}, nil, nil)
		posError(t, err, "freeswitch.xml", 2, "exec is not allowed")
	})
	t.Run("allowed", func(t *testing.T) {
		g := testGlobals{"failed": "old"}
		lines, rec := mustRun(t, files, g, func(o *Options) { o.AllowExec = true })
		if v, _ := g.Get("who"); v != "me" {
			t.Errorf("who = %q", v)
		}
		if v, _ := g.Get("failed"); v != "old" {
			t.Errorf("failed = %q, want unchanged", v)
		}
		if v, _ := g.Get("ref"); v != "%{x}" {
			t.Errorf("ref = %q", v)
		}
		if _, ok := rec.find("ERROR", "exec-set command failed", "freeswitch.xml:3"); !ok {
			t.Errorf("no error log; logs:\n%s", rec)
		}
		// As in FreeSWITCH, exec output is not preprocessed and output
		// without a final newline runs into the next line.
		want := "<a>\n<b>me</b>\n<c></c>\n[]\ninline</a>\n"
		if got := Dump(lines); got != want {
			t.Errorf("output %q, want %q", got, want)
		}
		if p := lines[2].Pos; p.String() != `exec:printf '<b>me</b>\n<c></c>\n':2` || p.Chain() != "included from freeswitch.xml:5" {
			t.Errorf("exec line pos = %v (%s)", p, p.Chain())
		}
	})
	t.Run("output limit", func(t *testing.T) {
		_, _, err := run(t, map[string]string{"freeswitch.xml": `<X-PRE-PROCESS cmd="exec" data="yes"/>`}, nil, func(o *Options) {
			o.AllowExec = true
			o.MaxFileSize = 1000
		})
		posError(t, err, "freeswitch.xml", 1, "larger than 1000 bytes")
	})
}

func TestTranslator(t *testing.T) {
	files := map[string]string{
		"freeswitch.xml": `<X-PRE-PROCESS cmd="include" data="dialplan/*.YAML"/>`,
		"dialplan/a.YAML": "name: $${domain}\n" +
			"include: more.xml\n",
		"dialplan/more.xml": "<more/>",
	}
	var gotName string
	yaml := func(name string, data []byte) ([]xmltree.Line, error) {
		gotName = name
		var out []xmltree.Line
		for i, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			k, v, _ := strings.Cut(l, ": ")
			text := fmt.Sprintf("<%s v=%q/>", k, v)
			if k == "include" {
				text = fmt.Sprintf("<X-PRE-PROCESS cmd=\"include\" data=%q/>", v)
			}
			out = append(out, xmltree.Line{Text: text, Pos: xmltree.Pos{Line: i + 1}})
		}
		return out, nil
	}
	lines, _ := mustRun(t, files, testGlobals{"domain": "d.example"}, func(o *Options) {
		o.Translators = map[string]Translator{".yaml": yaml}
	})
	if got := Dump(lines); got != "<name v=\"d.example\"/>\n<more/>\n" {
		t.Errorf("output %q", got)
	}
	if gotName != "dialplan/a.YAML" {
		t.Errorf("translator got name %q", gotName)
	}
	if p := lines[1].Pos; p.String() != "dialplan/more.xml:1" || p.Chain() != "included from dialplan/a.YAML:2, freeswitch.xml:1" {
		t.Errorf("pos %v (%s)", p, p.Chain())
	}
	if p := lines[0].Pos; p.String() != "dialplan/a.YAML:1" || p.Chain() != "included from freeswitch.xml:1" {
		t.Errorf("pos %v (%s)", p, p.Chain())
	}

	failures := []struct {
		name string
		err  error
		line int
		msg  string
	}{
		{"plain error", errors.New("bad yaml"), 0, "cannot translate: bad yaml"},
		{"positioned error", xmltree.Errorf(xmltree.Pos{Line: 2}, "unknown key"), 2, "unknown key"},
		{"error list", xmltree.ErrorList{xmltree.Errorf(xmltree.Pos{Line: 1}, "one")}, 1, "one"},
	}
	for _, f := range failures {
		failing := func(string, []byte) ([]xmltree.Line, error) { return nil, f.err }
		_, _, err := run(t, files, nil, func(o *Options) { o.Translators = map[string]Translator{".yaml": failing} })
		var pe *xmltree.Error
		if list, ok := err.(xmltree.ErrorList); ok && len(list) == 1 {
			pe = list[0]
			err = pe
		}
		pe = posError(t, err, "dialplan/a.YAML", f.line, f.msg)
		if pe.Pos.Chain() != "included from freeswitch.xml:1" {
			t.Errorf("%s: chain %q", f.name, pe.Pos.Chain())
		}
	}
}

// endless is a file of unlimited size that counts what is read from it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.read += int64(len(p))
	return len(p), nil
}

type endlessFile struct{ *endless }

func (endlessFile) Close() error { return nil }
func (endlessFile) Stat() (fs.FileInfo, error) {
	return fileInfo{}, nil
}

type fileInfo struct{}

func (fileInfo) Name() string       { return "huge.xml" }
func (fileInfo) Size() int64        { return 100 << 20 }
func (fileInfo) Mode() fs.FileMode  { return 0o644 }
func (fileInfo) ModTime() time.Time { return time.Time{} }
func (fileInfo) IsDir() bool        { return false }
func (fileInfo) Sys() any           { return nil }

// hugeFS serves huge.xml as an endless file and the rest from files.
type hugeFS struct {
	files fstest.MapFS
	huge  *endless
}

func (h hugeFS) Open(name string) (fs.File, error) {
	if name == "huge.xml" {
		return endlessFile{h.huge}, nil
	}
	return h.files.Open(name)
}

// A 100 MB (here: endless) file is refused after reading just past the
// limit, never loaded whole.
func TestHugeFileIsNotRead(t *testing.T) {
	h := hugeFS{files: mapFS(map[string]string{"freeswitch.xml": "\n" + `<X-PRE-PROCESS cmd="include" data="huge.xml"/>`}), huge: &endless{}}
	_, _, err := run(t, nil, nil, func(o *Options) { o.FS = h })
	pe := posError(t, err, "huge.xml", 0, fmt.Sprintf("file is larger than %d bytes", DefaultMaxFileSize))
	if pe.Pos.Chain() != "included from freeswitch.xml:2" {
		t.Errorf("chain %q", pe.Pos.Chain())
	}
	if h.huge.read > DefaultMaxFileSize+64<<10 {
		t.Errorf("read %d bytes of the huge file", h.huge.read)
	}
}

// Preprocessed lines keep their origin, so an XML error in an included file
// is reported at that file's line with the include chain.
func TestXMLErrorsMapToOriginalFiles(t *testing.T) {
	files := map[string]string{
		"freeswitch.xml": "<?xml version=\"1.0\"?>\n" +
			"<document type=\"freeswitch/xml\">\n" +
			"  <!--#comment\n  a banner\n  -->\n" +
			`  <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>` + "\n" +
			"</document>",
		"dialplan/default.xml": "<include>\n" +
			"  <context name=\"default\">\n" +
			"    <extension name=\"x\">\n" +
			"      <condition field=\"destination_number\" expression=\"^1$\">\n" +
			"    </extension>\n" +
			"  </context>\n" +
			"</include>",
	}
	lines, _ := mustRun(t, files, nil, nil)
	_, err := xmltree.Parse(lines)
	var pe *xmltree.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	if pe.Pos.String() != "dialplan/default.xml:5" || pe.Pos.Chain() != "included from freeswitch.xml:6" {
		t.Errorf("error at %s (%s): %v", pe.Pos, pe.Pos.Chain(), err)
	}
}

func TestDump(t *testing.T) {
	lines := []xmltree.Line{{Text: "<a>"}, {Text: ""}, {Text: "</a>"}}
	if got := Dump(lines); got != "<a>\n\n</a>\n" {
		t.Errorf("Dump = %q", got)
	}
	if got := Dump(nil); got != "" {
		t.Errorf("Dump(nil) = %q", got)
	}
}

func TestOptionsValidation(t *testing.T) {
	if _, err := Run(Options{Root: "x.xml", Globals: testGlobals{}}); err == nil {
		t.Error("nil FS accepted")
	}
	if _, err := Run(Options{FS: fstest.MapFS{}, Root: "x.xml"}); err == nil {
		t.Error("nil Globals accepted")
	}
	for _, root := range []string{"", "../x.xml", "/abs.xml"} {
		if _, err := Run(Options{FS: fstest.MapFS{}, Root: root, Globals: testGlobals{}}); err == nil {
			t.Errorf("root %q accepted", root)
		}
	}
}

var _ io.Reader = (*endless)(nil)

func TestRunContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := RunContext(ctx, Options{FS: mapFS(map[string]string{"freeswitch.xml": "x"}), Root: "freeswitch.xml", Globals: testGlobals{}})
	pe := posError(t, err, "freeswitch.xml", 0, "preprocessing interrupted")
	if !errors.Is(pe, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}
