package dialplan_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/dialplan"
	"github.com/switchboard-voip/switchboard/vars"
)

// generatedConf writes a configuration whose default context holds n
// extensions, each matching one four-digit number with a capture, like a
// PBX's user list, followed by the usual catch-all extensions.
func generatedConf(tb testing.TB, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("<include>\n  <context name=\"default\">\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `    <extension name="user_%04d">
      <condition field="destination_number" expression="^(%04d)$">
        <action application="set" data="call_timeout=30"/>
        <action application="bridge" data="user/$1@${domain_name}"/>
      </condition>
    </extension>
`, i, i)
	}
	b.WriteString("  </context>\n</include>\n")
	return conftest.WriteTree(tb, map[string]string{
		"freeswitch.xml":       defaultRoot,
		"vars.xml":             "<include>\n  <X-PRE-PROCESS cmd=\"set\" data=\"domain=example.com\"/>\n</include>\n",
		"dialplan/default.xml": b.String(),
	})
}

func benchHunt(b *testing.B, snap *conf.Snapshot, context, dest string, wantExt string) {
	b.Helper()
	p := &caller.Profile{Context: context, DestinationNumber: dest, CallerIDNumber: "1001", Dialplan: "XML"}
	store := vars.NewStore()
	env := &dialplan.Env{Profile: p, Vars: store, Globals: snap, Now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}
	if res := snap.Dialplan.Hunt(env); res.Extension != wantExt {
		b.Fatalf("hunt %s: extension %q, want %q", dest, res.Extension, wantExt)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snap.Dialplan.Hunt(env)
	}
}

func loadDefault(b *testing.B) *conf.Snapshot {
	b.Helper()
	snap, err := conf.Load(conf.Options{StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	return snap
}

// BenchmarkHuntDefaultEcho: a typical call on the embedded default
// configuration (9196, echo), past a dozen extensions.
func BenchmarkHuntDefaultEcho(b *testing.B) {
	benchHunt(b, loadDefault(b), "default", "9196", "echo")
}

// BenchmarkHuntDefaultLocalUser: a call to a local user, whose expression
// captures and whose actions get $1 substituted and DP_MATCH set.
func BenchmarkHuntDefaultLocalUser(b *testing.B) {
	benchHunt(b, loadDefault(b), "default", "1005", "Local_Extension")
}

// BenchmarkHuntDefaultNoRoute: a number no extension matches.
func BenchmarkHuntDefaultNoRoute(b *testing.B) {
	benchHunt(b, loadDefault(b), "default", "55555", "")
}

// BenchmarkHunt1000First/Last: a generated 1,000-extension context, the
// call matching the first or the last extension.
func BenchmarkHunt1000First(b *testing.B) {
	snap, err := conf.Load(conf.Options{Dir: generatedConf(b, 1000), StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	benchHunt(b, snap, "default", "0000", "user_0000")
}

func BenchmarkHunt1000Last(b *testing.B) {
	snap, err := conf.Load(conf.Options{Dir: generatedConf(b, 1000), StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	benchHunt(b, snap, "default", "0999", "user_0999")
}

// BenchmarkLoad1000: load and validate the generated 1,000-extension
// configuration (preprocess, parse, decode, compile 1,000 regexes).
func BenchmarkLoad1000(b *testing.B) {
	dir := generatedConf(b, 1000)
	state := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := conf.Load(conf.Options{Dir: dir, StateDir: state}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadDefaultConfig: load and validate the embedded default.
func BenchmarkLoadDefaultConfig(b *testing.B) {
	state := b.TempDir()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := conf.Load(conf.Options{StateDir: state}); err != nil {
			b.Fatal(err)
		}
	}
}
