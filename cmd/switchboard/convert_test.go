package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fixtures of the convert tests: a contexts file in XML and an extensions
// file in YAML, the second included inside the first's default context.
var (
	convertXML  = filepath.Join("testdata", "convert", "dialplan.xml")
	convertYAML = filepath.Join("testdata", "convert", "extensions.yaml")
)

// convert runs `switchboard convert --to form file` and returns stdout,
// failing the test on a non-zero exit or anything on stderr.
func convert(t *testing.T, form, file string) string {
	t.Helper()
	r := runCLI(t, "convert", "--to", form, file)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("convert --to %s %s:\n%s", form, file, r)
	}
	if r.stdout == "" {
		t.Fatalf("convert --to %s %s printed nothing", form, file)
	}
	return r.stdout
}

// writeFile writes text to name in a fresh temporary directory and returns
// its path; name's extension decides how convert reads it.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConvertKeepsPreprocessorText checks that both directions keep
// X-PRE-PROCESS directives and $${var} references literally (they are the
// preprocessor's business, at load time), as well as ${var} and $1.
func TestConvertKeepsPreprocessorText(t *testing.T) {
	t.Run("xml to yaml to xml", func(t *testing.T) {
		y := convert(t, "yaml", convertXML)
		for _, want := range []string{
			"X-PRE-PROCESS", "greeting=hello", "default/*.xml", "default/*.yaml",
			"early=$${greeting}", "target=$1@$${domain}", "dial=user/$1@${domain_name}", "${call_debug}",
		} {
			if !strings.Contains(y, want) {
				t.Errorf("YAML output lacks %q:\n%s", want, y)
			}
		}
		if strings.Contains(y, "hello@") || strings.Contains(y, "early=hello") {
			t.Errorf("convert expanded a $${var}:\n%s", y)
		}

		x := convert(t, "xml", writeFile(t, "dialplan.yaml", y))
		for _, want := range []string{
			`<X-PRE-PROCESS cmd="set" data="greeting=hello"/>`,
			`<X-PRE-PROCESS cmd="include" data="default/*.xml"/>`,
			`<X-PRE-PROCESS cmd="include" data="default/*.yaml"/>`,
			`<action application="set" data="early=$${greeting}" inline="true"/>`,
			`<action application="set" data="target=$1@$${domain}"/>`,
			`<action application="export" data="dial=user/$1@${domain_name}"/>`,
			`<anti-action application="log" data="INFO not local $1"/>`,
		} {
			if !strings.Contains(x, want) {
				t.Errorf("XML after the round trip lacks the line %s:\n%s", want, x)
			}
		}
		// The round trip is a fixed point of convert --to xml.
		if direct := convert(t, "xml", convertXML); x != direct {
			t.Errorf("XML -> YAML -> XML differs from XML -> XML\nround trip:\n%s\ndirect:\n%s", x, direct)
		}
	})

	t.Run("yaml to xml to yaml", func(t *testing.T) {
		x := convert(t, "xml", convertYAML)
		for _, want := range []string{
			`<X-PRE-PROCESS cmd="set" data="queue_name=support"/>`,
			`<action application="set" data="fallback=$${queue_name}"/>`,
			`<anti-action application="set" data="queue=$${queue_name}"/>`,
			`<condition field="${team}" expression="^(sales|support)$">`,
			`<action application="log" data="INFO again" loop="2"/>`,
		} {
			if !strings.Contains(x, want) {
				t.Errorf("XML output lacks %s:\n%s", want, x)
			}
		}
		y := convert(t, "yaml", writeFile(t, "extensions.xml", x))
		for _, want := range []string{"X-PRE-PROCESS", "queue_name=support", "fallback=$${queue_name}", "queue=$${queue_name}"} {
			if !strings.Contains(y, want) {
				t.Errorf("YAML after the round trip lacks %q:\n%s", want, y)
			}
		}
		if direct := convert(t, "yaml", convertYAML); y != direct {
			t.Errorf("YAML -> XML -> YAML differs from YAML -> YAML\nround trip:\n%s\ndirect:\n%s", y, direct)
		}
	})

	t.Run(".yml is YAML", func(t *testing.T) {
		data, err := os.ReadFile(convertYAML)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := convert(t, "xml", writeFile(t, "ext.YML", string(data))), convert(t, "xml", convertYAML); got != want {
			t.Errorf(".YML converted differently from .yaml:\n%s\nwant:\n%s", got, want)
		}
	})
}

// TestConvertRoutesIdentically converts the fixtures both ways, loads each
// form as a configuration and checks that route --json answers the same
// for a set of calls: XML and YAML are two spellings of one dialplan.
func TestConvertRoutesIdentically(t *testing.T) {
	origXML, err := os.ReadFile(convertXML)
	if err != nil {
		t.Fatal(err)
	}
	origYAML, err := os.ReadFile(convertYAML)
	if err != nil {
		t.Fatal(err)
	}
	asYAML := convert(t, "yaml", convertXML)
	asXML := convert(t, "xml", convertYAML)
	backXML := convert(t, "xml", writeFile(t, "d.yaml", asYAML))
	backYAML := convert(t, "yaml", writeFile(t, "e.xml", asXML))

	variants := []struct {
		name  string
		files map[string]string
	}{
		{"original", map[string]string{"dialplan/dialplan.xml": string(origXML), "dialplan/default/extensions.yaml": string(origYAML)}},
		{"converted", map[string]string{"dialplan/dialplan.yaml": asYAML, "dialplan/default/extensions.xml": asXML}},
		{"converted back", map[string]string{"dialplan/dialplan.xml": backXML, "dialplan/default/extensions.yaml": backYAML}},
	}
	calls := [][]string{
		{"1000"},
		{"--set", "domain=cli.example", "1017"},
		{"--var", "call_debug=true", "1001"},
		{"9999"},
		{"--time", "2026-01-05T10:00:00", "5000"},
		{"--time", "2026-01-04T10:00:00", "5000"},
		{"6001"},
		{"--field", "caller_id_number=555", "1234"},
		{"--var", "team=sales", "7001"},
		{"7001"},
		{"899"},
		{"--var", "team=support", "4001"},
		{"4001"},
		{"3333"},
	}
	var baseline []string
	for i, v := range variants {
		files := map[string]string{"freeswitch.xml": rootXML}
		for name, text := range v.files {
			files[name] = text
		}
		dir := writeTree(t, files)
		if r := runCLI(t, "check", "--conf", dir); r.code != 0 {
			t.Fatalf("%s: check:\n%s", v.name, r)
		}
		for j, call := range calls {
			r := runCLI(t, append([]string{"route", "--conf", dir, "--json"}, call...)...)
			if r.code != 0 {
				t.Fatalf("%s: route %v:\n%s", v.name, call, r)
			}
			decodeRoute(t, r.stdout)
			if i == 0 {
				baseline = append(baseline, r.stdout)
				continue
			}
			if r.stdout != baseline[j] {
				t.Errorf("%s: route %v differs from the original\ngot:\n%s\nwant:\n%s", v.name, call, r.stdout, baseline[j])
			}
		}
	}

	// The original must really route these calls, or the comparison
	// proves little.
	for _, c := range []struct {
		call int
		want string
	}{
		{0, `"data": "target=1000@"`}, // no domain global: $${domain} expands to ""
		{0, `"data": "early=hello"`},  // the file's own X-PRE-PROCESS set
		{1, `"data": "target=1017@cli.example"`},
		{2, `"data": "DEBUG debugging"`},
		{3, `"data": "INFO not local $1"`},
		{4, `"data": "office=open"`},
		{5, `"data": "office=closed"`},
		{6, `"data": "matched=any"`},
		{7, `"data": "matched=any"`},
		{8, `"data": "inner=sales"`},
		{9, `"data": "inner=other"`},
		{10, `"data": "spelled=99 & done"`},
		{11, `"data": "fallback=support"`}, // X-PRE-PROCESS set in the YAML file
		{12, `"data": "queue=support"`},
		{13, `"data": "looped=yes"`},
	} {
		if !strings.Contains(baseline[c.call], c.want) {
			t.Errorf("original: route %v lacks %s:\n%s", calls[c.call], c.want, baseline[c.call])
		}
	}
}
