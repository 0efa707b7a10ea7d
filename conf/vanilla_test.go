package conf

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/dialplan"
)

const vanillaLike = "testdata/vanilla-like"

var (
	xmlComment   = regexp.MustCompile(`(?s)<!--.*?-->`)
	contextName  = regexp.MustCompile(`<context name="([^"]+)"`)
	profileName  = regexp.MustCompile(`<profile name="([^"]+)"`)
	userElement  = regexp.MustCompile(`<user id="([^"]+)"([^>]*)>`)
	setDirective = regexp.MustCompile(`<X-PRE-PROCESS cmd="set" data="([^="]+)=`)
)

// rawCounts counts elements in the raw files of a fixture directory by
// regular expression, comments removed: an independent check of the loader.
type rawCounts struct{ extensions, conditions, actions, antiActions int }

func countRaw(t *testing.T, files ...string) rawCounts {
	t.Helper()
	var c rawCounts
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := xmlComment.ReplaceAllString(string(data), "")
		c.extensions += strings.Count(s, "<extension ")
		c.conditions += len(regexp.MustCompile(`<condition[\s/>]`).FindAllString(s, -1))
		c.actions += strings.Count(s, "<action ")
		c.antiActions += strings.Count(s, "<anti-action ")
	}
	return c
}

func countModel(c *dialplan.Context) rawCounts {
	var n rawCounts
	var walk func([]*dialplan.Condition)
	walk = func(conds []*dialplan.Condition) {
		for _, cd := range conds {
			n.conditions++
			n.actions += len(cd.Actions)
			n.antiActions += len(cd.AntiActions)
			walk(cd.Conditions)
		}
	}
	for _, e := range c.Extensions {
		n.extensions++
		walk(e.Conditions)
	}
	return n
}

func TestVanillaLikeTree(t *testing.T) {
	s := load(t, Options{Dir: vanillaLike, AllowStun: true})
	dp := filepath.Join(vanillaLike, "dialplan")

	// Contexts: one per dialplan/*.xml, in file-name order; each file pulls
	// in its own subdirectory of extensions.
	tops, _ := filepath.Glob(filepath.Join(dp, "*.xml"))
	sort.Strings(tops)
	var wantContexts []string
	for _, top := range tops {
		data, _ := os.ReadFile(top)
		m := contextName.FindAllStringSubmatch(xmlComment.ReplaceAllString(string(data), ""), -1)
		if len(m) != 1 {
			t.Fatalf("%s: %d contexts", top, len(m))
		}
		name := m[0][1]
		wantContexts = append(wantContexts, name)
		files := []string{top}
		sub, _ := filepath.Glob(filepath.Join(strings.TrimSuffix(top, ".xml"), "*.xml"))
		files = append(files, sub...)
		want := countRaw(t, files...)
		c := s.Dialplan.Context(name)
		if c == nil {
			t.Errorf("context %s not loaded", name)
			continue
		}
		if got := countModel(c); got != want {
			t.Errorf("context %s: loaded %+v, files hold %+v", name, got, want)
		}
	}
	var gotContexts []string
	for _, c := range s.Dialplan.Contexts {
		gotContexts = append(gotContexts, c.Name)
	}
	if !slices.Equal(gotContexts, wantContexts) || len(wantContexts) != 4 {
		t.Errorf("contexts = %v, want %v", gotContexts, wantContexts)
	}

	// Included extensions sit where the include directive stands.
	names := extensionNames(s.Dialplan.Context("default"))
	i := slices.Index(names, "hold_music")
	if i < 0 || !slices.Equal(names[i+1:], []string{"demo_pizza", "talking_clock_time", "talking_clock_date", "enum", "acknowledge_call"}) {
		t.Errorf("default extensions end with %v", names[max(i, 0):])
	}

	// Every call in default first collects the actions of the continue="true"
	// extensions: office hours (Monday 10:00), the default-password nag and
	// the always-true condition of "global".
	global := []string{
		"set open=true",
		"log CRIT Open " + filepath.Join(s.ConfDir(), "vars.xml") + " and change the default_password.",
		"sleep 10000",
		"hash insert/${domain_name}-last_dial/${caller_id_number}/${destination_number}",
		"export RFC2822_DATE=${strftime(%a, %d %b %Y %T %z)}",
	}
	routes := []struct {
		ctx, dest string
		want      []string
	}{
		// A PCRE lookahead: 6000 is the lot itself, 6001-6099 are slots.
		{"default", "6000", append(slices.Clone(global), "answer", "valet_park valet_parking_lot ask 1 11 10000 ivr/ivr-enter_ext_pound.wav")},
		{"default", "6042", append(slices.Clone(global), "answer", "valet_park valet_parking_lot 6042")},
		{"default", "9198", append(slices.Clone(global), "answer", "playback {loops=10}tone_stream://path="+filepath.Join(s.ConfDir(), "tetris.ttml"))},
		{"default", "9181", append(slices.Clone(global), "set ringback=%(400,200,400,450);%(400,2000,400,450)", "bridge {ignore_early_media=true}loopback/wait")},
		{"public", "5551212", []string{"set outside_call=true", "export RFC2822_DATE=${strftime(%a, %d %b %Y %T %z)}", "set domain_name=" + testHost.IPv4, "transfer 1000 XML default"}},
		{"skinny-patterns", "1005", []string{"skinny-wait 10"}},
	}
	for _, r := range routes {
		if got := hunt(t, s, r.ctx, r.dest, monday10); !slices.Equal(got, r.want) {
			t.Errorf("%s %s:\n got %q\nwant %q", r.ctx, r.dest, got, r.want)
		}
	}

	// The CDATA expression keeps its ${} for hunt-time expansion.
	var park *dialplan.Extension
	for _, e := range s.Dialplan.Context("default").Extensions {
		if e.Name == "park" {
			park = e
		}
	}
	if park == nil || len(park.Conditions) != 3 {
		t.Fatalf("park extension: %+v", park)
	}
	if c := park.Conditions[2]; !c.ExpressionElement || c.Expression != `<sip:callpark@${domain_name};orbit=(\d+)>` {
		t.Errorf("CDATA expression = %q (element %v)", c.Expression, c.ExpressionElement)
	}
	// A multi-line attribute value has its line breaks turned into spaces.
	for _, e := range s.Dialplan.Context("default").Extensions {
		if e.Name == "talking_clock_time" {
			say := e.Conditions[0].Actions[3]
			if say.App != "say" || strings.ContainsAny(say.Data, "\n\r\t") || strings.Join(strings.Fields(say.Data), " ") != "en CURRENT_TIME pronounced ${actime}" {
				t.Errorf("say data = %q", say.Data)
			}
		}
	}

	// Globals: every set line of vars.xml, including the one inside a
	// comment (a preprocessor quirk), but not the disabled XX/Z ones.
	raw, err := os.ReadFile(filepath.Join(vanillaLike, "vars.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sets := setDirective.FindAllStringSubmatch(string(raw), -1)
	if len(sets) < 75 {
		t.Fatalf("fixture vars.xml has only %d sets", len(sets))
	}
	for _, m := range sets {
		if _, ok := s.Global(m[1]); !ok {
			t.Errorf("global %s (set in vars.xml) is not defined", m[1])
		}
	}
	for name, want := range map[string]string{
		"commented_but_set": "yes",
		"sound_prefix":      filepath.Join(s.ConfDir(), "sounds") + "/en/us/callie",
		"domain":            testHost.IPv4,
		"domain_name":       testHost.IPv4,
		"uk-ring":           "%(400,200,400,450);%(400,2000,400,450)",
	} {
		if got, _ := s.Global(name); got != want {
			t.Errorf("global %s = %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"digits_dialed_filter", "ice_verify_message_integrity"} {
		if v, ok := s.Global(name); ok {
			t.Errorf("disabled directive set %s = %q", name, v)
		}
	}

	// Sections: the language include runs, the three X-NO-PRE-PROCESS
	// elements stay as inert elements, the chatplan include matched nothing.
	langs := s.Section("languages")
	if langs == nil || len(langs.SelectElements("X-NO-PRE-PROCESS")) != 3 || langs.SelectElement("language") == nil {
		t.Errorf("languages section: %v", langs)
	}
	if chat := s.Section("chatplan"); chat == nil || len(chat.ChildElements()) != 0 {
		t.Errorf("chatplan section: %v", chat)
	}

	// Profiles: one per sip_profiles/*.xml, found through sofia.conf.
	profFiles, _ := filepath.Glob(filepath.Join(vanillaLike, "sip_profiles", "*.xml"))
	sort.Strings(profFiles)
	var wantProfiles, gotProfiles []string
	for _, f := range profFiles {
		data, _ := os.ReadFile(f)
		for _, m := range profileName.FindAllStringSubmatch(xmlComment.ReplaceAllString(string(data), ""), -1) {
			wantProfiles = append(wantProfiles, m[1])
		}
	}
	for _, p := range s.Configuration("sofia").FindElements("profiles/profile") {
		gotProfiles = append(gotProfiles, p.SelectAttrValue("name", ""))
	}
	if !slices.Equal(gotProfiles, wantProfiles) || len(wantProfiles) != 2 {
		t.Errorf("profiles = %v, want %v", gotProfiles, wantProfiles)
	}
	if gw := s.Configuration("sofia").FindElement("profiles/profile[@name='external']/gateways/gateway"); gw == nil || gw.SelectAttrValue("name", "") != "example_provider" {
		t.Errorf("external gateway: %v", gw)
	}
	if got, _ := param(s.Configuration("sofia").FindElement("profiles/profile[@name='internal']"), "settings", "sip-ip"); got != testHost.IPv4 {
		t.Errorf("internal sip-ip = %q", got)
	}

	// Directory: every <user> of directory/ that is not a pointer.
	var wantUsers []string
	err = fs.WalkDir(os.DirFS(filepath.Join(vanillaLike, "directory")), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "default.xml" {
			return err
		}
		data, err := os.ReadFile(filepath.Join(vanillaLike, "directory", p))
		for _, m := range userElement.FindAllStringSubmatch(xmlComment.ReplaceAllString(string(data), ""), -1) {
			if !strings.Contains(m[2], `type="pointer"`) {
				wantUsers = append(wantUsers, m[1])
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	doms := s.Domains()
	if len(doms) != 1 {
		t.Fatalf("domains: %+v", doms)
	}
	var gotUsers []string
	for _, u := range doms[0].Users {
		gotUsers = append(gotUsers, u.ID)
	}
	if !slices.Equal(gotUsers, wantUsers) || len(wantUsers) != 8 {
		t.Errorf("users = %v, want %v", gotUsers, wantUsers)
	}
	if u := doms[0].User("1099"); u == nil || u.ID != "brian" || u.Cidr != "192.0.2.10/32" {
		t.Errorf("number-alias lookup: %+v", u)
	}
	if u := doms[0].User("1003"); u == nil || !slices.Equal(u.Groups, []string{"default", "support"}) {
		t.Errorf("user 1003: %+v", u)
	}
	if got := doms[0].Params["jsonrpc-allowed-methods"]; got != "verto" {
		t.Errorf("domain param = %q", got)
	}
}

// stun-set needs AllowStun, and even then asks nobody: it takes local_ip_v4.
func TestVanillaLikeStunSet(t *testing.T) {
	_, err := Load(Options{Dir: vanillaLike, StateDir: t.TempDir(), Host: &testHost})
	raw, _ := os.ReadFile(filepath.Join(vanillaLike, "vars.xml"))
	line := 1 + strings.Count(string(raw[:strings.Index(string(raw), `cmd="stun-set"`)]), "\n")
	abs, _ := filepath.Abs(vanillaLike)
	positioned(t, err, filepath.Join(abs, "vars.xml")+":"+strconv.Itoa(line), "stun-set", "freeswitch.xml:15")

	s := load(t, Options{Dir: vanillaLike, AllowStun: true})
	for _, name := range []string{"external_rtp_ip", "external_sip_ip"} {
		if got, _ := s.Global(name); got != testHost.IPv4 {
			t.Errorf("%s = %q, want local_ip_v4 %s", name, got, testHost.IPv4)
		}
	}
}

// The fixture keeps exercising the constructs of FreeSWITCH's vanilla tree
// that a loader must accept (spec §11); this guards it against being
// trimmed into something easier.
func TestVanillaLikeCoversConstructs(t *testing.T) {
	var all strings.Builder
	err := filepath.WalkDir(vanillaLike, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		all.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	text := all.String()
	constructs := map[string]string{
		"preprocessor comment block":     `<!--#comment`,
		"disabled directive":             `<XX-PRE-PROCESS`,
		"directive name in a comment":    `<!--<Z-PRE-PROCESS`,
		"directive inside a comment":     `<!-- <X-PRE-PROCESS`,
		"X-NO-PRE-PROCESS element":       `<X-NO-PRE-PROCESS`,
		"globbed autoload include":       `data="autoload_configs/*.xml"`,
		"profiles from one level up":     `data="../sip_profiles/*.xml"`,
		"sub-includes of a context":      `data="default/*.xml"`,
		"lookahead":                      `(?!`,
		"CDATA expression":               `<expression><![CDATA[`,
		"break never":                    `break="never"`,
		"continue true":                  `continue="true"`,
		"wday":                           ` wday="`,
		"mon":                            ` mon="`,
		"mday":                           ` mday="`,
		"mweek":                          ` mweek="`,
		"hour":                           ` hour="`,
		"global in a dialplan":           `data="transfer_ringback=$${hold_music}"`,
		"{var=val} dial string":          `data="{ignore_early_media=true}`,
		"anti-action":                    `<anti-action `,
		"condition without field":        "<condition>",
		"${var:offset}":                  `${dialed_extension:2}`,
		"api call in data":               `${strftime(`,
		"pointer user":                   `type="pointer"`,
		"stun-set":                       `cmd="stun-set"`,
		"chain of globals":               `data="domain_name=$${domain}"`,
		"multi-line attribute":           "data=\"en\n",
		"<?xml?> header":                 `<?xml version="1.0"`,
		"commented-out extension":        "<!--\n    <extension",
		"field from the caller profile":  `field="source"`,
		"skinny-patterns sub-directory":  `data="skinny-patterns/*.xml"`,
		"gateway in a profile directory": `data="external/*.xml"`,
	}
	for what, s := range constructs {
		if !strings.Contains(text, s) {
			t.Errorf("fixture lacks %s (%q)", what, s)
		}
	}
	if n := strings.Count(text, `<X-PRE-PROCESS cmd="set"`); n < 75 {
		t.Errorf("fixture has %d set directives, want vanilla-like ~80", n)
	}
}
