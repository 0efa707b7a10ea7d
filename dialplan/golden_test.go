package dialplan_test

// Golden tests: each dialplan/testdata/golden/*.txtar holds a small
// configuration, one or more calls and the JSON `switchboard route --json`
// must print for each. They read like documentation of the hunt.
//
// Archive layout:
//
//	comment: what the case shows (and the FreeSWITCH source behaviour it pins)
//	-- dialplan/NAME.xml --   (or .yaml; any number) dialplan files
//	-- freeswitch.xml --      optional; default includes dialplan/*.xml then dialplan/*.yaml
//	-- vars.xml --            optional; included first by the default freeswitch.xml
//	-- call --                "dest D", "context C", "field N=V", "var N=V", "set N=V", "time T"
//	-- want.json --           the expected report
//	-- call.2 -- / -- want.2.json --   further calls
//
// Every case is also routed after converting each dialplan file to the
// other form (XML → YAML → XML), and must give the same report.

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/dryrun"
)

const defaultRoot = `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="include" data="vars.xml"/>
  <section name="dialplan" description="Regex/XML Dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
    <X-PRE-PROCESS cmd="include" data="dialplan/*.yaml"/>
  </section>
</document>
`

type goldenCall struct {
	call dryrun.Call
	set  map[string]string
}

func parseCall(t *testing.T, text string) goldenCall {
	t.Helper()
	gc := goldenCall{set: map[string]string{}, call: dryrun.Call{Fields: map[string]string{}}}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		kv := func() (string, string) {
			n, v, ok := strings.Cut(rest, "=")
			if !ok {
				t.Fatalf("call line %q: want NAME=VALUE", line)
			}
			return n, v
		}
		switch key {
		case "dest":
			gc.call.Destination = rest
		case "context":
			gc.call.Context = rest
		case "field":
			n, v := kv()
			gc.call.Fields[n] = v
		case "var":
			n, v := kv()
			gc.call.Vars = append(gc.call.Vars, [2]string{n, v})
		case "set":
			n, v := kv()
			gc.set[n] = v
		case "time":
			tm, err := time.Parse(time.RFC3339, rest)
			if err != nil {
				t.Fatalf("call line %q: %v", line, err)
			}
			gc.call.Time = tm
		default:
			t.Fatalf("unknown call line %q", line)
		}
	}
	return gc
}

// writeTree writes the archive's files (and a default root) into dir.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if _, ok := files["freeswitch.xml"]; !ok {
		files["freeswitch.xml"] = []byte(defaultRoot)
	}
	if _, ok := files["vars.xml"]; !ok {
		files["vars.xml"] = []byte("<include>\n</include>\n")
	}
	text := make(map[string]string, len(files))
	for name, data := range files {
		text[name] = string(data)
	}
	conftest.AddFiles(t, dir, text)
}

func route(t *testing.T, dir string, gc goldenCall) []byte {
	t.Helper()
	snap, err := conf.Load(conf.Options{Dir: dir, Set: gc.set, StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	rep := dryrun.Run(snap.Dialplan, snap, nil, gc.call)
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// convertFiles rewrites every dialplan file of files into the other form.
func convertFiles(t *testing.T, files map[string][]byte, to string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, data := range files {
		ext := filepath.Ext(name)
		if !strings.HasPrefix(name, "dialplan/") || (ext != ".xml" && ext != ".yaml") || ext == "."+to {
			out[name] = data
			continue
		}
		var f *dialplan.File
		var err error
		if ext == ".xml" {
			f, err = dialplan.ParseXMLFile(name, data)
		} else {
			f, err = dialplan.ParseYAML(name, data)
		}
		if err != nil {
			t.Fatalf("convert %s: parse: %v", name, err)
		}
		var buf bytes.Buffer
		if to == "yaml" {
			err = dialplan.WriteYAML(&buf, f)
		} else {
			err = dialplan.WriteXML(&buf, f)
		}
		if err != nil {
			t.Fatalf("convert %s: write: %v", name, err)
		}
		out[strings.TrimSuffix(name, ext)+"."+to] = buf.Bytes()
	}
	return out
}

func normJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out)
}

func TestGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no golden files")
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			calls := map[string]string{}
			wants := map[string][]byte{}
			for _, f := range ar.Files {
				switch {
				case f.Name == "call" || strings.HasPrefix(f.Name, "call."):
					calls[strings.TrimPrefix(f.Name, "call")] = string(f.Data)
				case strings.HasPrefix(f.Name, "want") && strings.HasSuffix(f.Name, ".json"):
					wants[strings.TrimSuffix(strings.TrimPrefix(f.Name, "want"), ".json")] = f.Data
				default:
					files[f.Name] = f.Data
				}
			}
			if len(calls) == 0 || len(calls) != len(wants) {
				t.Fatalf("need matching call/want sections, got %d calls and %d wants", len(calls), len(wants))
			}
			forms := []struct {
				name  string
				files map[string][]byte
			}{{"as-written", files}}
			yamlFiles := convertFiles(t, files, "yaml")
			forms = append(forms,
				struct {
					name  string
					files map[string][]byte
				}{"yaml", yamlFiles},
				struct {
					name  string
					files map[string][]byte
				}{"yaml-then-xml", convertFiles(t, yamlFiles, "xml")})
			for _, form := range forms {
				dir := t.TempDir()
				writeTree(t, dir, form.files)
				for suffix, callText := range calls {
					want, ok := wants[suffix]
					if !ok {
						t.Fatalf("call%s has no want%s.json", suffix, suffix)
					}
					got := route(t, dir, parseCall(t, callText))
					if g, w := normJSON(t, got), normJSON(t, want); g != w {
						t.Errorf("%s call%s:\n got: %s\nwant: %s", form.name, suffix, g, w)
					}
				}
			}
		})
	}
}
