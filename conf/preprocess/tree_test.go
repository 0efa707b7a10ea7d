package preprocess

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-voip/switchboard/xmltree"
)

var update = flag.Bool("update", false, "rewrite testdata/conf.fsxml")

// The test tree preprocesses to the checked-in expansion, which parses.
func TestConfTree(t *testing.T) {
	dir, err := filepath.Abs("testdata/conf")
	if err != nil {
		t.Fatal(err)
	}
	g := testGlobals{
		"sounds_dir":  "/usr/share/freeswitch/sounds",
		"local_ip_v4": "192.0.2.1",
		"script_dir":  "/usr/share/freeswitch/scripts",
	}
	rec := &logRecorder{}
	lines, err := Run(Options{
		FS:          os.DirFS(dir),
		Dir:         dir,
		Root:        "freeswitch.xml",
		DisplayName: func(p string) string { return "conf/" + p },
		Globals:     g,
		AllowStun:   true,
		Logger:      slog.New(rec),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := Dump(lines)
	if *update {
		if err := os.WriteFile("testdata/conf.fsxml", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/conf.fsxml")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("expansion differs from testdata/conf.fsxml (run with -update to see):\n%s", got)
	}
	for k, v := range map[string]string{
		"domain_name":       "192.0.2.1",
		"sound_prefix":      "/usr/share/freeswitch/sounds/en/us/callie",
		"external_rtp_ip":   "192.0.2.1",
		"internal_sip_port": "5060",
	} {
		if got, _ := g.Get(k); got != v {
			t.Errorf("global %s = %q, want %q", k, got, v)
		}
	}
	if _, ok := g.Get("disabled_filter"); ok {
		t.Error("XX-PRE-PROCESS ran")
	}

	doc, err := xmltree.Parse(lines)
	if err != nil {
		t.Fatal(err)
	}
	say := doc.Root().FindElement("//extension[@name='talking_clock']/condition/action")
	if say == nil {
		t.Fatal("talking_clock action missing")
	}
	if p := doc.Pos(say); p.String() != "conf/dialplan/default/01_clock.xml:4" ||
		p.Chain() != "included from conf/dialplan/default.xml:10, conf/freeswitch.xml:14" {
		t.Errorf("say action at %s (%s)", p, p.Chain())
	}
	exts := doc.Root().FindElements("//context[@name='default']/extension")
	var names []string
	for _, e := range exts {
		names = append(names, e.SelectAttrValue("name", ""))
	}
	if len(names) != 4 || names[0] != "unloop" || names[1] != "hold_music" || names[2] != "talking_clock" || names[3] != "enum" {
		t.Errorf("extensions in order: %v", names)
	}
}

func FuzzPreprocess(f *testing.F) {
	f.Add("<a>\n<X-PRE-PROCESS cmd=\"include\" data=\"*.inc\"/>\n$${v}\n</a>", "<b v=\"$${v}\"/>\n<!--#set v=2-->")
	f.Add("<!--#comment\nx\n--><a/>", "<X-PRE-PROCESS cmd=\"include\" data=\"../x\"/>")
	f.Add("<X-PRE-PROCESS cmd=\"set\" data=\"v=$${v}$${v}\"/>\n<!--#include \"sub/*\"-->", "$${")
	f.Add("<X-PRE-PROCESS cmd=\"stun-set\" data=\"a=stun:x\"/><!--#exec \"true\"-->", "<X-PRE-PROCESS cmd=\"include\" data=\"/abs\"/>")
	f.Add("<?xml?>\n<include>\n<a/>\n</include>", "<!--#include \"../a.inc\"-->")
	f.Fuzz(func(t *testing.T, root, inc string) {
		files := mapFS(map[string]string{
			"freeswitch.xml": root,
			"a.inc":          inc,
			"sub/b.inc":      inc,
			"sub/c.xml":      root,
		})
		lines, err := Run(Options{
			FS:            files,
			Root:          "freeswitch.xml",
			Dir:           "/conf",
			Globals:       testGlobals{"v": "1", "local_ip_v4": "192.0.2.1"},
			AllowStun:     true,
			Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
			MaxFileSize:   1 << 16,
			MaxOutputSize: 1 << 20,
			MaxDepth:      8,
			MaxFiles:      200,
		})
		if err != nil {
			var pe *xmltree.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *xmltree.Error: %v", err, err)
			}
			return
		}
		for _, l := range lines {
			if l.Pos.File == "" || l.Pos.Line < 1 {
				t.Fatalf("line %q has pos %v", l.Text, l.Pos)
			}
		}
		if _, err := xmltree.Parse(lines); err != nil {
			var pe *xmltree.Error
			if !errors.As(err, &pe) {
				t.Fatalf("parse error %T is not *xmltree.Error: %v", err, err)
			}
		}
	})
}
