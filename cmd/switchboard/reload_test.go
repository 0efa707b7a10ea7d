package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	dto "github.com/prometheus/client_model/go"

	"github.com/switchboard-voip/switchboard/caller"
	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// reloadTree is a configuration a switch can run in-process: one SIP
// profile on a free loopback port, limits, CDRs and a dialplan; the tests
// rewrite its files and reload.
var reloadTree = map[string]string{
	"freeswitch.xml": `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="include" data="vars.xml"/>
  <section name="configuration">
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
  </section>
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
`,
	"vars.xml": `<include>
  <X-PRE-PROCESS cmd="set" data="greeting=hello"/>
  <X-PRE-PROCESS cmd="set" data="pinned=from-conf"/>
</include>
`,
	"autoload_configs/switch.conf.xml": `<configuration name="switch.conf">
  <settings>
    <param name="max-sessions" value="10"/>
    <param name="sessions-per-second" value="5"/>
    <param name="rtp-start-port" value="20000"/>
    <param name="rtp-end-port" value="20100"/>
  </settings>
</configuration>
`,
	"autoload_configs/sofia.conf.xml": `<configuration name="sofia.conf">
  <profiles>
    <profile name="internal">
      <settings>
        <param name="sip-ip" value="127.0.0.1"/>
        <param name="sip-port" value="0"/>
      </settings>
    </profile>
  </profiles>
</configuration>
`,
	"autoload_configs/event_socket.conf.xml": `<configuration name="event_socket.conf">
  <settings>
    <param name="listen-ip" value="127.0.0.1"/>
    <param name="listen-port" value="0"/>
  </settings>
</configuration>
`,
	"autoload_configs/cdr_csv.conf.xml": `<configuration name="cdr_csv.conf">
  <settings>
    <param name="legs" value="a"/>
  </settings>
</configuration>
`,
	"autoload_configs/cdr_jsonl.conf.xml": `<configuration name="cdr_jsonl.conf">
  <settings>
    <param name="variables" value="hangup_cause"/>
  </settings>
</configuration>
`,
	"dialplan/default.xml": `<include>
  <context name="default">
    <extension name="target">
      <condition field="destination_number" expression="^1000$">
        <action application="hangup" data="USER_BUSY"/>
      </condition>
    </extension>
    <extension name="answered">
      <condition field="destination_number" expression="^1001$">
        <action application="answer"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="parked">
      <condition field="destination_number" expression="^1002$">
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
  </context>
</include>
`,
}

// startTestSwitch starts a switch on a copy of reloadTree in-process,
// with --set values set; it stops when the test ends.
func startTestSwitch(t *testing.T, of obsFlags, set ...string) (*theSwitch, string) {
	t.Helper()
	dir := conftest.WriteTree(t, reloadTree)
	return startSwitchOn(t, dir, of, set...), dir
}

// startSwitchOn starts a switch in-process on the configuration in dir
// ("" for the embedded one); it stops when the test ends.
func startSwitchOn(tb testing.TB, dir string, of obsFlags, set ...string) *theSwitch {
	tb.Helper()
	cf := &confFlags{dir: dir, stateDir: tb.TempDir(), logLevel: slog.LevelDebug}
	for _, s := range set {
		if err := cf.set.Set(s); err != nil {
			tb.Fatal(err)
		}
	}
	if of.admin.addr == "" {
		of.admin.addr = "off"
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(newFSHandler(os.Stderr, slog.LevelDebug))
	}
	snap, err := loadConfig(cf, "", log)
	if err != nil {
		tb.Fatal(err)
	}
	level := new(slog.LevelVar)
	obs, err := newObservability(cf, of, level, snap)
	if err != nil {
		tb.Fatal(err)
	}
	sw, err := startSwitch(snap, log, startOptions{}, obs)
	if err != nil {
		tb.Fatal(err)
	}
	if err := sw.startObs(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if !sw.obs.stopping.Load() { // not stopped by the test itself
			stopTestSwitch(tb, sw)
		}
	})
	return sw
}

// stopTestSwitch shuts sw down as runRun does: no more reloads, calls
// hung up, CDR files and the admin server closed.
func stopTestSwitch(tb testing.TB, sw *theSwitch) {
	tb.Helper()
	sw.stoppingObs()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sw.stop(ctx); err != nil {
		tb.Errorf("stop: %v", err)
	}
	if err := sw.closeObs(); err != nil {
		tb.Errorf("closing: %v", err)
	}
}

// edit rewrites file (relative to dir), replacing old by new once.
func edit(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reloadCount returns switchboard_config_reloads_total{result}.
func reloadCount(t *testing.T, sw *theSwitch, result string) float64 {
	t.Helper()
	fams, err := sw.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "switchboard_config_reloads_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelValue(m, "result") == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// targetAction returns what extension 1000 does in the configuration in
// force.
func targetAction(t *testing.T, sw *theSwitch) string {
	t.Helper()
	for _, c := range sw.current.Load().Dialplan.Contexts {
		for _, e := range c.Extensions {
			if e.Name == "target" {
				return e.Conditions[0].Actions[0].Data
			}
		}
	}
	t.Fatal("no extension target")
	return ""
}

func TestReloadAllOrNothing(t *testing.T) {
	sw, dir := startTestSwitch(t, obsFlags{})
	sub := sw.events.Subscribe(16)
	defer sub.Close()
	if err := sub.Add("RELOADXML"); err != nil {
		t.Fatal(err)
	}
	boot := sw.current.Load()
	coreUUID, _ := boot.Global("core_uuid")

	// Broken configurations, one after the other: each is refused with
	// its file and line, and nothing changes.
	for i, b := range []struct{ file, old, new, where string }{
		{"dialplan/default.xml", "</extension>", "", "default.xml:20: closing tag </context>"},
		{"dialplan/default.xml", `expression="^1000$"`, `expression="^(1000$"`, "default.xml:4: condition expression: invalid regular expression"},
		{"dialplan/default.xml", `expression="^1000$"`, `expression="^1000$" break="sometimes"`, `default.xml:4: unknown break value "sometimes"`},
		// The set runs before the error: the globals must not change either.
		{"vars.xml", `<X-PRE-PROCESS cmd="set" data="greeting=hello"/>`, `<X-PRE-PROCESS cmd="set" data="greeting=changed"/>
  <X-PRE-PROCESS cmd="exec-set" data="x=echo hi"/>`, "vars.xml:3"},
		{"autoload_configs/cdr_csv.conf.xml", `value="a"`, `value="x"`, `cdr_csv.conf.xml:3: cdr_csv.conf: legs "x"`},
		{"autoload_configs/sofia.conf.xml", `value="127.0.0.1"`, `value="not-an-address"`, "sip: "},
	} {
		orig, err := os.ReadFile(filepath.Join(dir, b.file))
		if err != nil {
			t.Fatal(err)
		}
		edit(t, dir, b.file, b.old, b.new)
		notes, err := sw.Reload(context.Background())
		if err == nil || !strings.Contains(err.Error(), b.where) {
			t.Errorf("broken %d: err = %v, want one containing %q", i, err, b.where)
		}
		if out := apicmd.Execute(context.Background(), reloadEnv{sw}, "reloadxml", ""); !strings.HasPrefix(out, "-ERR ") || !strings.Contains(out, b.where) {
			t.Errorf("broken %d: reloadxml answered %q", i, out)
		}
		if notes != "" {
			t.Errorf("broken %d: notes %q", i, notes)
		}
		if sw.current.Load() != boot {
			t.Fatalf("broken %d: the configuration was swapped", i)
		}
		if v, _ := sw.current.Load().Global("greeting"); v != "hello" {
			t.Errorf("broken %d: a failed reload changed a global: greeting=%q", i, v)
		}
		if err := os.WriteFile(filepath.Join(dir, b.file), orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := reloadCount(t, sw, "failed"); got != 12 {
		t.Errorf("failed reloads counted %v, want 12", got)
	}
	select {
	case e := <-sub.C():
		t.Fatalf("a failed reload fired %s", e.Name())
	default:
	}

	// A good one: routing, globals and limits change; core_uuid does not.
	edit(t, dir, "dialplan/default.xml", `data="USER_BUSY"`, `data="CALL_REJECTED"`)
	edit(t, dir, "vars.xml", "greeting=hello", "greeting=bonjour")
	edit(t, dir, "autoload_configs/switch.conf.xml", `name="max-sessions" value="10"`, `name="max-sessions" value="20"`)
	out := apicmd.Execute(context.Background(), reloadEnv{sw}, "reloadxml", "")
	if out != "+OK [Success]\n" {
		t.Errorf("reloadxml answered %q", out)
	}
	if got := targetAction(t, sw); got != "CALL_REJECTED" {
		t.Errorf("extension 1000 does %q after the reload", got)
	}
	snap := sw.current.Load()
	if v, _ := snap.Global("greeting"); v != "bonjour" {
		t.Errorf("greeting=%q after the reload", v)
	}
	if v, _ := snap.Global("core_uuid"); v != coreUUID {
		t.Errorf("core_uuid changed on reload: %q → %q", coreUUID, v)
	}
	if got := sw.mgr.Limits(); got != (session.Limits{MaxSessions: 20, SessionsPerSecond: 5}) {
		t.Errorf("limits %+v after the reload", got)
	}
	if got := reloadCount(t, sw, "ok"); got != 1 {
		t.Errorf("good reloads counted %v, want 1", got)
	}
	select {
	case e := <-sub.C():
		if e.Name() != "RELOADXML" {
			t.Errorf("event %s, want RELOADXML", e.Name())
		}
	case <-time.After(5 * time.Second):
		t.Error("no RELOADXML event after a good reload")
	}
	if sw.ConfigHash() == boot.Hash() {
		t.Error("the configuration hash did not change")
	}
}

// reloadEnv is a commands.Env over a test switch: its runtime globals,
// its configuration and its Reload.
type reloadEnv struct{ *theSwitch }

func (e reloadEnv) Globals() *vars.Store     { return e.globals }
func (e reloadEnv) Snapshot() *conf.Snapshot { return e.current.Load() }

func TestReloadRestartNotes(t *testing.T) {
	sw, dir := startTestSwitch(t, obsFlags{})
	edit(t, dir, "autoload_configs/switch.conf.xml", `"rtp-start-port" value="20000"`, `"rtp-start-port" value="21000"`)
	edit(t, dir, "autoload_configs/sofia.conf.xml", `<param name="sip-port" value="0"/>`, `<param name="sip-port" value="5999"/>`)
	notes, err := sw.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := "switch.conf: rtp-start-port (running \"20000\", configured \"21000\")\nsofia.conf: profile internal: sip-port"
	if notes != want {
		t.Errorf("notes %q, want %q", notes, want)
	}
	out := apicmd.Execute(context.Background(), reloadEnv{sw}, "reloadxml", "")
	if !strings.HasPrefix(out, "+OK [Success]\nrestart needed: switch.conf: rtp-start-port") || !strings.Contains(out, "\nrestart needed: sofia.conf: profile internal: sip-port\n") {
		t.Errorf("reloadxml answered %q", out)
	}
	// Put back: nothing waits for a restart any more.
	edit(t, dir, "autoload_configs/switch.conf.xml", `"rtp-start-port" value="21000"`, `"rtp-start-port" value="20000"`)
	edit(t, dir, "autoload_configs/sofia.conf.xml", `<param name="sip-port" value="5999"/>`, `<param name="sip-port" value="0"/>`)
	if notes, err := sw.Reload(context.Background()); err != nil || notes != "" {
		t.Errorf("after undoing: notes %q, err %v", notes, err)
	}
}

func TestReloadRuntimeGlobals(t *testing.T) {
	sw, dir := startTestSwitch(t, obsFlags{}, "pinned=from-cli")
	sw.globals.Set("greeting", "set at run time")
	sw.globals.Set("pinned", "set at run time")
	sw.globals.Set("night_mode", "on")
	edit(t, dir, "vars.xml", "greeting=hello", "greeting=reloaded")
	if _, err := sw.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := reloadEnv{sw}
	for name, want := range map[string]string{
		"greeting":   "reloaded", // the configuration sets it: its value wins again
		"pinned":     "from-cli", // --set wins over the configuration and the runtime value
		"night_mode": "on",       // the configuration does not set it: it survives
	} {
		if got, _ := apicmd.GlobalVar(env, name); got != want {
			t.Errorf("%s = %q after the reload, want %q", name, got, want)
		}
	}
}

func TestReloadCDRConfig(t *testing.T) {
	sw, dir := startTestSwitch(t, obsFlags{})
	if c := sw.CDRs().Config(); c.CSV == nil || c.CSV.Legs.String() != "a" {
		t.Fatalf("CDR configuration at start: %+v", c)
	}
	edit(t, dir, "autoload_configs/cdr_csv.conf.xml", `value="a"`, `value="ab"`)
	if _, err := sw.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := sw.CDRs().Config(); c.CSV == nil || c.CSV.Legs.String() != "ab" {
		t.Errorf("CDR configuration after the reload: %+v", c.CSV)
	}
}

func TestReloadsAreSerialised(t *testing.T) {
	sw, dir := startTestSwitch(t, obsFlags{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := sw.Reload(context.Background())
			errs <- err
		}()
		go func() {
			defer wg.Done()
			b := strings.Replace(reloadTree["vars.xml"], "greeting=hello", "greeting=v"+string(rune('a'+i)), 1)
			_ = os.WriteFile(filepath.Join(dir, "vars.xml"), []byte(b), 0o644)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// A reload may read a file while it is half written; it is then
		// refused whole. Anything else is a bug.
		if err != nil && !strings.Contains(err.Error(), "vars.xml") {
			t.Errorf("reload: %v", err)
		}
	}
	if got := reloadCount(t, sw, "ok") + reloadCount(t, sw, "failed"); got != 8 {
		t.Errorf("%v reloads counted, want 8", got)
	}
}

func TestSIGHUPRotatesCDRs(t *testing.T) {
	sw, _ := startTestSwitch(t, obsFlags{})
	log, _ := sw.current.Load().Global("log_dir")
	master := filepath.Join(log, "cdr-csv", "Master.csv")
	if err := sw.CDRs().Report(fakeLeg{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(master); err != nil {
		t.Fatal(err)
	}
	// rotate-on-hup is off in this configuration: SIGHUP reopens, the
	// file keeps its name and its record.
	sw.sighup()
	if err := sw.CDRs().Report(fakeLeg{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(master)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Errorf("Master.csv has %d records after a SIGHUP without rotate-on-hup, want 2", n)
	}
	if got := reloadCount(t, sw, "ok"); got != 1 {
		t.Errorf("SIGHUP reloads counted %v, want 1", got)
	}
}

// fakeLeg is a finished call leg with nothing set.
type fakeLeg struct{}

func (fakeLeg) UUID() string              { return "leg" }
func (fakeLeg) Get(string) (string, bool) { return "", false }
func (fakeLeg) Vars() *vars.Store         { return vars.NewStore() }
func (fakeLeg) Profile() *caller.Profile  { return &caller.Profile{} }

// TestReloadReleasesReplacedConfigs: once no call uses it, a replaced
// configuration is garbage (the first one stays: the listeners were built
// from it and restart notes compare with it).
func TestReloadReleasesReplacedConfigs(t *testing.T) {
	sw, dir := startTestSwitch(t, obsFlags{})
	edit(t, dir, "vars.xml", "greeting=hello", "greeting=one")
	if _, err := sw.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	replaced := weak.Make(sw.current.Load())
	edit(t, dir, "vars.xml", "greeting=one", "greeting=two")
	if _, err := sw.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10 && replaced.Value() != nil; i++ {
		runtime.GC()
	}
	if replaced.Value() != nil {
		t.Error("a replaced configuration is still reachable after the reload")
	}
}
