package conf

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/vars"
	"github.com/switchboard-voip/switchboard/xmltree"
)

// testHost keeps loads independent of the machine running the tests.
var testHost = Host{Hostname: "pbx-test", IPv4: "192.0.2.10", MaskV4: "255.255.255.0", IPv6: "2001:db8::10"}

func load(t testing.TB, opts Options) *Snapshot {
	t.Helper()
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if opts.Host == nil {
		opts.Host = &testHost
	}
	s, err := Load(opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// writeTree writes files (slash-separated names relative to the root) into
// a new temporary directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hunt routes dest in context ctx and returns "app data" per action.
func hunt(t *testing.T, s *Snapshot, ctx, dest string, now time.Time) []string {
	t.Helper()
	res := s.Dialplan.Hunt(&dialplan.Env{
		Profile: &caller.Profile{Context: ctx, DestinationNumber: dest, Source: "mod_sofia"},
		Globals: s,
		Now:     now,
	})
	var out []string
	for _, a := range res.Actions {
		out = append(out, strings.TrimSpace(a.App+" "+a.Data))
	}
	return out
}

func extensionNames(c *dialplan.Context) []string {
	var names []string
	for _, e := range c.Extensions {
		names = append(names, e.Name)
	}
	return names
}

// param returns the value of <param name=NAME> in the <settings> (or other
// wrapper) children of el.
func param(el *etree.Element, wrapper, name string) (string, bool) {
	for _, w := range el.SelectElements(wrapper) {
		for _, p := range w.SelectElements("param") {
			if p.SelectAttrValue("name", "") == name {
				return p.SelectAttrValue("value", ""), true
			}
		}
	}
	return "", false
}

// monday10 and sunday22 are instants inside and outside office hours.
var (
	monday10 = time.Date(2024, 3, 4, 10, 0, 0, 0, time.Local)
	sunday22 = time.Date(2024, 3, 3, 22, 0, 0, 0, time.Local)
)

func TestLoadDefault(t *testing.T) {
	s := load(t, Options{})

	if got := s.ConfDir(); got != EmbeddedConfDir {
		t.Errorf("ConfDir = %q, want %q", got, EmbeddedConfDir)
	}
	if w := s.Warnings(); len(w) != 0 {
		t.Errorf("default tree has warnings: %v", w)
	}

	var contexts []string
	for _, c := range s.Dialplan.Contexts {
		contexts = append(contexts, c.Name)
	}
	if want := []string{"default", "features", "public"}; !slices.Equal(contexts, want) {
		t.Fatalf("contexts = %v, want %v", contexts, want)
	}
	def := s.Dialplan.Context("default")
	names := extensionNames(def)
	for _, want := range []string{"Local_Extension", "echo", "hold_music", "ivr_demo", "office_hours"} {
		if !slices.Contains(names, want) {
			t.Errorf("default context lacks extension %q (has %v)", want, names)
		}
	}
	// The YAML file is included after the XML extensions of default.xml.
	if names[len(names)-1] != "office_hours" {
		t.Errorf("last extension of default = %q, want the YAML office_hours", names[len(names)-1])
	}

	routes := []struct {
		ctx, dest string
		now       time.Time
		want      []string
	}{
		{"default", "9196", monday10, []string{"answer", "echo"}},
		{"default", "9664", monday10, []string{"answer", "playback local_stream://moh"}},
		{"default", "5000", monday10, []string{"answer", "sleep 1000", "lua demo_ivr.lua"}},
		{"default", "1019", sunday22, []string{
			"export dialed_extension=1019", "set ringback=%(2000,4000,440,480)",
			"set transfer_ringback=local_stream://moh",
			"set call_timeout=30", "set hangup_after_bridge=true", "bridge user/1019@${domain_name}",
		}},
		// Numbers nobody routes get no route at all (404), at any hour.
		{"default", "1020", monday10, nil},
		{"default", "9170", monday10, []string{"set ringback=%(2000,4000,440,480)", "transfer 1000 XML default"}},
		{"default", "9170", sunday22, []string{"answer", "playback tone_stream://%(500,500,480,620);loops=5", "hangup USER_BUSY"}},
		{"public", "5551212", monday10, []string{"set outside_call=true", "set domain_name=192.0.2.10", "transfer 1000 XML default"}},
		// From outside, local extensions and unknown numbers are unreachable.
		{"public", "1000", monday10, nil},
		{"public", "9196", monday10, nil},
		{"features", "1001", monday10, []string{"set transfer_ringback=local_stream://moh", "answer", "sleep 1500", "transfer 1001 XML default"}},
	}
	for _, r := range routes {
		got := hunt(t, s, r.ctx, r.dest, r.now)
		if !slices.Equal(got, r.want) {
			t.Errorf("%s %s at %s:\n got %q\nwant %q", r.ctx, r.dest, r.now.Format("Mon 15:04"), got, r.want)
		}
	}

	doms := s.Domains()
	if len(doms) != 1 || doms[0].Name != testHost.IPv4 {
		t.Fatalf("domains = %+v, want one named %s", doms, testHost.IPv4)
	}
	var ids []string
	for _, u := range doms[0].Users {
		ids = append(ids, u.ID)
		if u.Params["password"] != "1234" || u.Variables["user_context"] != "default" {
			t.Errorf("user %s: password %q, user_context %q", u.ID, u.Params["password"], u.Variables["user_context"])
		}
		if u.Variables["effective_caller_id_number"] != u.ID {
			t.Errorf("user %s: effective_caller_id_number %q", u.ID, u.Variables["effective_caller_id_number"])
		}
	}
	var want []string
	for i := 1000; i <= 1019; i++ {
		want = append(want, strconv.Itoa(i))
	}
	if !slices.Equal(ids, want) {
		t.Errorf("users = %v, want %v", ids, want)
	}
	if u := doms[0].User("1001"); u == nil || !slices.Equal(u.Groups, []string{"default", "sales"}) {
		t.Errorf("user 1001 groups: %+v", u)
	}
	if s.Domain(strings.ToUpper(testHost.IPv4)) == nil {
		t.Error("Domain lookup failed")
	}

	sofia := s.Configuration("sofia")
	if sofia == nil || s.Configuration("sofia.conf") != sofia {
		t.Fatal("sofia.conf not found by both names")
	}
	profile := sofia.FindElement("profiles/profile[@name='internal']")
	if profile == nil {
		t.Fatal("profile internal missing")
	}
	for name, want := range map[string]string{"sip-ip": "127.0.0.1", "sip-port": "5060", "context": "public", "auth-calls": "true", "apply-inbound-acl": "loopback.auto:default"} {
		if got, _ := param(profile, "settings", name); got != want {
			t.Errorf("internal %s = %q, want %q", name, got, want)
		}
	}
	es := s.Configuration("event_socket.conf")
	if got, _ := param(es, "settings", "listen-ip"); got != "127.0.0.1" {
		t.Errorf("event socket listen-ip = %q", got)
	}
	if got, _ := param(es, "settings", "password"); got == "" {
		t.Error("event socket has no password")
	}
	for _, name := range []string{"switch.conf", "acl.conf", "lua.conf", "cdr_csv.conf", "modules.conf"} {
		if s.Configuration(name) == nil {
			t.Errorf("configuration %s missing", name)
		}
	}
	if got, _ := param(s.Configuration("lua"), "settings", "script-directory"); got != EmbeddedConfDir+"/scripts/?.lua" {
		t.Errorf("lua script-directory = %q", got)
	}
	if s.Section("DIALPLAN") == nil || s.Section("nosuch") != nil {
		t.Error("Section lookup is wrong")
	}
	if len(s.Hash()) != 64 || !strings.Contains(s.Dump(), `<context name="default">`) {
		t.Errorf("hash %q / dump not as expected", s.Hash())
	}
	if strings.Contains(s.Dump(), "X-PRE-PROCESS") || strings.Contains(s.Dump(), "$${") {
		t.Error("dump still holds directives or unexpanded globals")
	}
}

// The default tree sends nothing off the machine: no stun-set, no exec.
func TestDefaultTreeStaysLocal(t *testing.T) {
	err := fs.WalkDir(DefaultFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(DefaultFS(), p)
		if err != nil {
			return err
		}
		for _, bad := range []string{`cmd="stun-set"`, `cmd="exec`, "#stun-set", "#exec"} {
			if strings.Contains(string(data), bad) {
				t.Errorf("%s uses %s", p, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSetOverridesConf(t *testing.T) {
	s := load(t, Options{Set: map[string]string{
		"domain":           "pbx.example.com",
		"DEFAULT_PASSWORD": "s3cret-Pass",
		"sounds_dir":       "/opt/sounds",
		"new_var":          "x",
	}})
	for name, want := range map[string]string{
		"domain":           "pbx.example.com",
		"domain_name":      "pbx.example.com", // vars.xml: domain_name=$${domain} sees the override
		"default_password": "s3cret-Pass",
		"sound_prefix":     "/opt/sounds/en/us/callie",
		"new_var":          "x",
		"hostname":         testHost.Hostname,
	} {
		if got, _ := s.Global(name); got != want {
			t.Errorf("global %s = %q, want %q", name, got, want)
		}
	}
	d := s.Domain("pbx.example.com")
	if d == nil {
		t.Fatalf("domains = %+v", s.Domains())
	}
	if u := d.User("1000"); u == nil || u.Params["password"] != "s3cret-Pass" {
		t.Errorf("user 1000 = %+v", u)
	}
	// One variable, whatever the spelling.
	n := 0
	for k := range s.Globals() {
		if strings.EqualFold(k, "default_password") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("Globals holds default_password %d times", n)
	}
}

func TestSetOverridesDirective(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="set" data="color=red"/>
  <X-PRE-PROCESS cmd="set" data="size=big"/>
  <section name="configuration">
    <configuration name="x.conf"><settings><param name="c" value="$${color}-$${size}"/></settings></configuration>
  </section>
</document>
`})
	plain := load(t, Options{Dir: dir})
	over := load(t, Options{Dir: dir, Set: map[string]string{"Color": "blue"}})
	for _, c := range []struct {
		s    *Snapshot
		want string
	}{{plain, "red-big"}, {over, "blue-big"}} {
		if got, _ := param(c.s.Configuration("x"), "settings", "c"); got != c.want {
			t.Errorf("c = %q, want %q", got, c.want)
		}
	}
}

func TestParseSet(t *testing.T) {
	tests := []struct {
		args    []string
		want    map[string]string
		wantErr bool
	}{
		{args: nil, want: map[string]string{}},
		{args: []string{"a=1", " b = two words ", "c="}, want: map[string]string{"a": "1", "b": "two words", "c": ""}},
		{args: []string{"url=sip:x@y;a=b"}, want: map[string]string{"url": "sip:x@y;a=b"}},
		{args: []string{"Domain=a", "domain=b"}, want: map[string]string{"domain": "b"}},
		{args: []string{"novalue"}, wantErr: true},
		{args: []string{"=x"}, wantErr: true},
		{args: []string{"a}b=x"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseSet(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseSet(%q) error = %v, wantErr %v", tt.args, err, tt.wantErr)
			continue
		}
		if err == nil && !maps.Equal(got, tt.want) {
			t.Errorf("ParseSet(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

// positioned asserts that err renders "file:line" of the original file and
// the include chain, outermost directive last.
func positioned(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
}

func TestErrorsNameFileLineAndIncludeChain(t *testing.T) {
	root := `<document type="freeswitch/xml">
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
`
	ctx := func(body string) string {
		return "<include>\n  <context name=\"default\">\n" + body + "  </context>\n</include>\n"
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "malformed XML in a nested include",
			files: map[string]string{
				"dialplan/a.xml": ctx("    <X-PRE-PROCESS cmd=\"include\" data=\"a/*.xml\"/>\n"),
				"dialplan/a/broken.xml": "<include>\n  <extension name=\"x\">\n    <condition field=\"destination_number\" expression=\"^1$\">\n" +
					"  </extension>\n</include>\n",
			},
			want: []string{"broken.xml:4", "included from", "a.xml:3", "freeswitch.xml:3"},
		},
		{
			name: "invalid regular expression",
			files: map[string]string{
				"dialplan/a.xml": ctx("    <extension name=\"bad\">\n      <condition field=\"destination_number\" expression=\"^(12$\"/>\n    </extension>\n"),
			},
			want: []string{"a.xml:4", "freeswitch.xml:3"},
		},
		{
			name: "include loop",
			files: map[string]string{
				"dialplan/a.xml": ctx("    <X-PRE-PROCESS cmd=\"include\" data=\"../loop/b.xml\"/>\n"),
				"loop/b.xml":     "<include>\n  <X-PRE-PROCESS cmd=\"include\" data=\"c.xml\"/>\n</include>\n",
				"loop/c.xml":     "<include>\n  <X-PRE-PROCESS cmd=\"include\" data=\"b.xml\"/>\n</include>\n",
			},
			want: []string{"c.xml:2", "b.xml:2", "a.xml:3"},
		},
		{
			name: "unclosed element at the end of the root file",
			files: map[string]string{
				"dialplan/a.xml": ctx(""),
				"freeswitch.xml": "<document type=\"freeswitch/xml\">\n  <section name=\"dialplan\">\n",
			},
			want: []string{"freeswitch.xml"},
		},
		{
			name: "bad YAML dialplan",
			files: map[string]string{
				"dialplan/a.xml": ctx("    <X-PRE-PROCESS cmd=\"include\" data=\"a/*.yaml\"/>\n"),
				"dialplan/a/x.yaml": "extensions:\n  - name: y\n    condition:\n      field: destination_number\n" +
					"      expresion: ^1$\n",
			},
			want: []string{"x.yaml:5", "a.xml:3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"freeswitch.xml": root}
			maps.Copy(files, tt.files)
			dir := writeTree(t, files)
			_, err := Load(Options{Dir: dir, StateDir: t.TempDir(), Host: &testHost})
			positioned(t, err, tt.want...)
		})
	}
}

func TestMissingRoot(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(Options{Dir: dir, StateDir: t.TempDir(), Host: &testHost})
	var pe *xmltree.Error
	if !errors.As(err, &pe) || pe.Pos.File != filepath.Join(dir, RootFile) {
		t.Fatalf("err = %v, want a positioned error naming %s", err, RootFile)
	}
	if _, err := Load(Options{Dir: filepath.Join(dir, "nosuch"), StateDir: t.TempDir()}); err == nil {
		t.Error("Load of a missing directory succeeded")
	}
}

func TestIncludeMatchingNothingIsNotAnError(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
    <X-PRE-PROCESS cmd="include" data="nothing/here/*.xml"/>
  </section>
</document>
`,
		"dialplan/a.xml": "<include>\n<context name=\"a\"/>\n</include>\n",
	})
	s := load(t, Options{Dir: dir})
	if len(s.Dialplan.Contexts) != 1 || s.Dialplan.Contexts[0].Name != "a" {
		t.Errorf("contexts = %+v", s.Dialplan.Contexts)
	}
	if got := s.Files(); !slices.Equal(got, []string{filepath.Join(dir, "freeswitch.xml"), filepath.Join(dir, "dialplan", "a.xml")}) {
		t.Errorf("Files = %v", got)
	}
}

// A YAML file included from XML is hunted exactly where its include stands.
func TestYAMLIncludeTakesItsPlace(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <section name="dialplan">
    <context name="default">
      <extension name="first" continue="true">
        <condition><action application="log" data="first"/></condition>
      </extension>
      <X-PRE-PROCESS cmd="include" data="default/*.yaml"/>
      <extension name="last">
        <condition><action application="log" data="last"/></condition>
      </extension>
    </context>
  </section>
</document>
`,
		"default/10_middle.yaml": `extensions:
  - name: middle
    continue: true
    condition:
      actions:
        - log: middle $${mark}
`,
		"default/20_more.yaml": `extensions:
  - name: more
    continue: true
    condition:
      actions: [{log: more}]
`,
	})
	s := load(t, Options{Dir: dir, Set: map[string]string{"mark": "M"}})
	c := s.Dialplan.Context("default")
	if got, want := extensionNames(c), []string{"first", "middle", "more", "last"}; !slices.Equal(got, want) {
		t.Errorf("extensions = %v, want %v", got, want)
	}
	if got, want := hunt(t, s, "default", "1", monday10), []string{"log first", "log middle M", "log more", "log last"}; !slices.Equal(got, want) {
		t.Errorf("hunt = %q, want %q", got, want)
	}
	if p := c.Extensions[1].Pos; p.File != filepath.Join(dir, "default", "10_middle.yaml") || p.Line != 2 {
		t.Errorf("middle extension at %v", p)
	}
}

func TestDefaultStateDir(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/xdg", "HOME": "/home/u"}, "/xdg/switchboard"},
		{map[string]string{"XDG_STATE_HOME": "relative/dir", "HOME": "/home/u"}, "/home/u/.local/state/switchboard"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/switchboard"},
	}
	for _, tt := range tests {
		if got := DefaultStateDir(env(tt.env)); got != filepath.FromSlash(tt.want) {
			t.Errorf("DefaultStateDir(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
	if got := DefaultStateDir(env(nil)); !filepath.IsAbs(got) {
		t.Errorf("DefaultStateDir without HOME = %q, not absolute", got)
	}
}

// Without --state-dir, nothing writable lands in the working directory
// (the source checkout, when run from it).
func TestStateDirNeverInRepo(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Dir(wd) // the module root: conf's parent
	home := t.TempDir()
	s, err := Load(Options{Host: &testHost, LookupEnv: func(k string) (string, bool) {
		if k == "HOME" {
			return home, true
		}
		return "", false
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, ".local", "state", "switchboard"); s.StateDir() != want {
		t.Errorf("StateDir = %q, want %q", s.StateDir(), want)
	}
	dirs := s.StateDirs()
	if len(dirs) != len(stateDirNames) {
		t.Errorf("StateDirs = %v", dirs)
	}
	for _, d := range dirs {
		if !strings.HasPrefix(d, s.StateDir()+string(filepath.Separator)) {
			t.Errorf("writable dir %s is not under the state dir", d)
		}
		if rel, err := filepath.Rel(repo, d); err == nil && !strings.HasPrefix(rel, "..") {
			t.Errorf("writable dir %s is inside the repository %s", d, repo)
		}
	}
	if _, err := os.Stat(s.StateDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load created the state dir (stat: %v)", err)
	}
}

func TestSnapshotUnaffectedByLaterLoad(t *testing.T) {
	files := map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="include" data="vars.xml"/>
  <section name="dialplan">
    <context name="default">
      <extension name="$${ext}">
        <condition field="destination_number" expression="^1$">
          <action application="log" data="$${ext}"/>
        </condition>
      </extension>
    </context>
  </section>
</document>
`,
		"vars.xml": "<include>\n  <X-PRE-PROCESS cmd=\"set\" data=\"ext=one\"/>\n</include>\n",
	}
	dir := writeTree(t, files)
	first := load(t, Options{Dir: dir})
	dump, hash := first.Dump(), first.Hash()

	if err := os.WriteFile(filepath.Join(dir, "vars.xml"), []byte("<include>\n  <X-PRE-PROCESS cmd=\"set\" data=\"ext=two\"/>\n</include>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := load(t, Options{Dir: dir})
	// A failed load in between must not disturb either.
	if err := os.WriteFile(filepath.Join(dir, "vars.xml"), []byte("<include>\n  <X-PRE-PROCESS cmd=\"set\" data=\"ext=three\"/>\n  <broken\n</include>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(Options{Dir: dir, StateDir: t.TempDir(), Host: &testHost}); err == nil {
		t.Fatal("broken load succeeded")
	}

	if got, _ := first.Global("ext"); got != "one" {
		t.Errorf("first snapshot ext = %q", got)
	}
	if got, _ := second.Global("ext"); got != "two" {
		t.Errorf("second snapshot ext = %q", got)
	}
	if first.Dump() != dump || first.Hash() != hash || first.Hash() == second.Hash() {
		t.Error("first snapshot's text changed, or both loads hash alike")
	}
	if got := first.Dialplan.Contexts[0].Extensions[0].Name; got != "one" {
		t.Errorf("first dialplan extension = %q", got)
	}
	// Globals hands out a copy.
	first.Globals()["ext"] = "changed"
	if got, _ := first.Global("ext"); got != "one" {
		t.Errorf("Globals() map aliases the snapshot: ext = %q", got)
	}
}

func TestWarnings(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="set" data="default_password=1234"/>
  <section name="configuration">
    <configuration name="sofia.conf">
      <profiles>
        <profile name="lan"><settings><param name="sip-ip" value="0.0.0.0"/></settings></profile>
        <profile name="lo"><settings><param name="sip-ip" value="127.0.0.1"/></settings></profile>
      </profiles>
    </configuration>
    <configuration name="sofia">
    </configuration>
  </section>
  <section name="dialplan">
    <context name="default"/>
    <context name="Default"/>
  </section>
  <section name="directory">
    <domain name="d">
      <users>
        <user id="1"/>
        <user id="1"/>
      </users>
      <groups><group name="g"><users><user id="2" type="pointer"/></users></group></groups>
    </domain>
  </section>
</document>
`})
	s := load(t, Options{Dir: dir})
	root := filepath.Join(dir, "freeswitch.xml")
	want := []string{
		root + `:10: configuration "sofia" is also defined at ` + root + `:4`,
		root + `:15: context "Default" is also defined at ` + root + `:14`,
		root + `:21: user "1" of domain "d" is also defined at ` + root + `:20`,
		root + `:23: group "g" points to user "2"`,
		root + `:6: SIP profile "lan" listens on "0.0.0.0" while default_password is still 1234`,
	}
	got := s.Warnings()
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("no warning starting %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d warnings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

func TestOpenResolvesThroughConfFS(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"freeswitch.xml":    "<document type=\"freeswitch/xml\"/>\n",
		"scripts/hello.lua": "print('hi')\n",
	})
	outside := filepath.Join(t.TempDir(), "rec.wav")
	if err := os.WriteFile(outside, []byte("RIFF"), 0o644); err != nil {
		t.Fatal(err)
	}
	disk := load(t, Options{Dir: dir})
	script, _ := disk.Global("script_dir")
	mem := load(t, Options{FS: fstest.MapFS{
		"freeswitch.xml":    {Data: []byte("<document type=\"freeswitch/xml\"/>\n")},
		"scripts/hello.lua": {Data: []byte("print('hi')\n")},
	}})
	memScript, _ := mem.Global("script_dir")
	if memScript != EmbeddedConfDir+"/scripts" {
		t.Errorf("in-memory script_dir = %q", memScript)
	}
	for _, c := range []struct {
		s    *Snapshot
		name string
		want string
		ok   bool
	}{
		{disk, filepath.Join(script, "hello.lua"), "print('hi')\n", true},
		{disk, "scripts/hello.lua", "print('hi')\n", true},
		{disk, outside, "RIFF", true},
		{disk, "../escape.lua", "", false},
		{mem, memScript + "/hello.lua", "print('hi')\n", true},
		{mem, "scripts/../scripts/hello.lua", "print('hi')\n", true},
		{mem, outside, "RIFF", true},
		{mem, EmbeddedConfDir + "/../x", "", false},
	} {
		data, err := c.s.ReadFile(c.name)
		if (err == nil) != c.ok || string(data) != c.want {
			t.Errorf("ReadFile(%q) = %q, %v; want %q ok=%v", c.name, data, err, c.want, c.ok)
		}
		if c.ok {
			f, err := c.s.Open(c.name)
			if err != nil {
				t.Errorf("Open(%q): %v", c.name, err)
				continue
			}
			f.Close()
			if _, err := c.s.Stat(c.name); err != nil {
				t.Errorf("Stat(%q): %v", c.name, err)
			}
		}
	}
	if !mem.Embedded() || disk.Embedded() {
		t.Error("Embedded() is wrong")
	}
}

func BenchmarkLoadDefault(b *testing.B) {
	opts := Options{StateDir: b.TempDir(), Host: &testHost, CoreUUID: "bench"}
	for b.Loop() {
		if _, err := Load(opts); err != nil {
			b.Fatal(err)
		}
	}
}

// A Snapshot is the vars.Lookup of its globals.
var _ vars.Lookup = (*Snapshot)(nil)
