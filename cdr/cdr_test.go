package cdr

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/vars"
)

// fakeLeg is a finished leg: variables, then profile fields, then globals.
type fakeLeg struct {
	uuid    string
	vars    *vars.Store
	profile *caller.Profile
	globals map[string]string
}

func (l *fakeLeg) UUID() string             { return l.uuid }
func (l *fakeLeg) Vars() *vars.Store        { return l.vars }
func (l *fakeLeg) Profile() *caller.Profile { return l.profile.Clone() }
func (l *fakeLeg) Get(n string) (string, bool) {
	if v, ok := l.vars.Get(n); ok {
		return v, true
	}
	if v, ok := l.profile.Get(n); ok {
		return v, true
	}
	v, ok := l.globals[n]
	return v, ok
}

// base is 2026-03-01 12:00:00 local time.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.Local)

func newLeg(uuid string, kv ...string) *fakeLeg {
	l := &fakeLeg{
		uuid: uuid,
		vars: vars.NewStore(),
		profile: &caller.Profile{
			UUID: uuid, CallerIDName: "Alice", CallerIDNumber: "1000", DestinationNumber: "9196",
			Context: "default", ChanName: "sofia/internal/1000@127.0.0.1",
			CreatedTime: base.UnixMicro(), ProfileCreatedTime: base.UnixMicro(),
			AnsweredTime: base.Add(2 * time.Second).UnixMicro(), HungupTime: base.Add(12500 * time.Millisecond).UnixMicro(),
		},
	}
	l.vars.Set("uuid", uuid)
	l.vars.Set("direction", "inbound")
	l.vars.Set("hangup_cause", "NORMAL_CLEARING")
	l.vars.Set("hangup_cause_q850", "16")
	l.vars.Set("duration", "12")
	l.vars.Set("billsec", "10")
	for i := 0; i+1 < len(kv); i += 2 {
		l.vars.Set(kv[i], kv[i+1])
	}
	return l
}

// load loads a configuration of the given autoload_configs files.
func load(t *testing.T, files map[string]string) *conf.Snapshot {
	t.Helper()
	tree := map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml">
  <section name="configuration">
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
  </section>
  <section name="dialplan"><context name="default"/></section>
</document>
`,
	}
	for k, v := range files {
		tree["autoload_configs/"+k] = v
	}
	dir := conftest.WriteTree(t, tree)
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir(), Host: &conf.Host{Hostname: "h", IPv4: "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func csvConf(settings, templates string) string {
	return `<configuration name="cdr_csv.conf">
  <settings>
` + settings + `
  </settings>
  <templates>
` + templates + `
  </templates>
</configuration>
`
}

func TestFromSnapshot(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		check   func(t *testing.T, snap *conf.Snapshot, c *Config)
		wantErr string // substring, with file:line
	}{
		{
			name:  "nothing configured",
			files: map[string]string{"switch.conf.xml": `<configuration name="switch.conf"/>`},
			check: func(t *testing.T, _ *conf.Snapshot, c *Config) {
				if c.CSV != nil || c.JSONL != nil {
					t.Errorf("got %+v, want both off", c)
				}
			},
		},
		{
			name:  "defaults",
			files: map[string]string{"cdr_csv.conf.xml": csvConf("", "")},
			check: func(t *testing.T, snap *conf.Snapshot, c *Config) {
				logDir, _ := snap.Global("log_dir")
				want := &CSVConfig{Dir: filepath.Join(logDir, "cdr-csv"), DefaultTemplate: "default", Legs: LegA, Encoding: EncodingNone}
				got := *c.CSV
				got.Templates = nil
				if fmt.Sprint(got) != fmt.Sprint(*want) {
					t.Errorf("got %+v\nwant %+v", got, *want)
				}
				if c.CSV.Templates["default"] != BuiltinTemplate {
					t.Errorf("default template %q", c.CSV.Templates["default"])
				}
			},
		},
		{
			name: "every setting, later params win",
			files: map[string]string{"cdr_csv.conf.xml": csvConf(`
    <param name="legs" value="a"/>
    <param name="log-base" value="/var/log/x"/>
    <param name="default-template" value="mine"/>
    <param name="rotate-on-hup" value="true"/>
    <param name="master-file-only" value="yes"/>
    <param name="debug" value="on"/>
    <param name="encoding" value="CSV"/>
    <param name="legs" value="ab"/>`,
				`<template name="mine">"${uuid}"</template>
    <template name="other">"${x}"
</template>`)},
			check: func(t *testing.T, _ *conf.Snapshot, c *Config) {
				got := c.CSV
				if got.Dir != "/var/log/x/cdr-csv" || got.DefaultTemplate != "mine" || got.Legs != LegA|LegB ||
					!got.RotateOnHUP || !got.MasterFileOnly || !got.Debug || got.Encoding != EncodingCSV {
					t.Errorf("got %+v", got)
				}
				if got.Templates["mine"] != "\"${uuid}\"\n" || got.Templates["other"] != "\"${x}\"\n" {
					t.Errorf("templates %q", got.Templates)
				}
			},
		},
		{
			name: "modules.conf without mod_cdr_csv turns CSV off",
			files: map[string]string{
				"cdr_csv.conf.xml":      csvConf("", ""),
				"modules.conf.xml":      `<configuration name="modules.conf"><modules><load module="mod_sofia"/></modules></configuration>`,
				"cdr_jsonl.conf.xml":    `<configuration name="cdr_jsonl.conf"/>`,
				"unrelated.conf.xml":    `<configuration name="x.conf"/>`,
				"other_module.conf.xml": `<configuration name="y.conf"/>`,
			},
			check: func(t *testing.T, snap *conf.Snapshot, c *Config) {
				if c.CSV != nil {
					t.Errorf("CSV on without mod_cdr_csv in modules.conf")
				}
				logDir, _ := snap.Global("log_dir")
				if c.JSONL == nil || c.JSONL.Path != filepath.Join(logDir, "cdr-jsonl", "cdr.jsonl") || c.JSONL.Legs != LegA|LegB || !c.JSONL.RotateOnHUP {
					t.Errorf("JSONL defaults: %+v", c.JSONL)
				}
			},
		},
		{
			name: "modules.conf with mod_cdr_csv",
			files: map[string]string{
				"cdr_csv.conf.xml": csvConf("", ""),
				"modules.conf.xml": `<configuration name="modules.conf"><modules><load module="mod_cdr_csv"/></modules></configuration>`,
			},
			check: func(t *testing.T, _ *conf.Snapshot, c *Config) {
				if c.CSV == nil {
					t.Errorf("CSV off although modules.conf loads mod_cdr_csv")
				}
			},
		},
		{
			name: "jsonl settings",
			files: map[string]string{"cdr_jsonl.conf.xml": `<configuration name="cdr_jsonl.conf"><settings>
  <param name="log-dir" value="/srv/cdr"/>
  <param name="file" value="calls.jsonl"/>
  <param name="legs" value="a"/>
  <param name="rotate-on-hup" value="false"/>
  <param name="variables" value=" sip_call_id, hangup_cause ,,"/>
</settings></configuration>`},
			check: func(t *testing.T, _ *conf.Snapshot, c *Config) {
				j := c.JSONL
				if j.Path != "/srv/cdr/calls.jsonl" || j.Legs != LegA || j.RotateOnHUP || strings.Join(j.Variables, "|") != "sip_call_id|hangup_cause" {
					t.Errorf("got %+v", j)
				}
			},
		},
		{
			name:    "bad legs",
			files:   map[string]string{"cdr_csv.conf.xml": csvConf(`    <param name="legs" value="x"/>`, "")},
			wantErr: `cdr_csv.conf.xml:3: cdr_csv.conf: legs "x"`,
		},
		{
			name:    "bad encoding",
			files:   map[string]string{"cdr_csv.conf.xml": csvConf(`    <param name="encoding" value="base64"/>`, "")},
			wantErr: `cdr_csv.conf.xml:3: cdr_csv.conf: encoding "base64"`,
		},
		{
			name:    "missing default template",
			files:   map[string]string{"cdr_csv.conf.xml": csvConf("\n    <param name=\"default-template\" value=\"nope\"/>", "")},
			wantErr: `cdr_csv.conf.xml:4: cdr_csv.conf: default-template "nope" names no <template>`,
		},
		{
			name:    "jsonl unknown param",
			files:   map[string]string{"cdr_jsonl.conf.xml": "<configuration name=\"cdr_jsonl.conf\"><settings>\n<param name=\"path\" value=\"x\"/></settings></configuration>"},
			wantErr: `cdr_jsonl.conf.xml:2: cdr_jsonl.conf: unknown param "path"`,
		},
		{
			name:    "jsonl file with a directory",
			files:   map[string]string{"cdr_jsonl.conf.xml": "<configuration name=\"cdr_jsonl.conf\"><settings>\n<param name=\"file\" value=\"../x\"/></settings></configuration>"},
			wantErr: `cdr_jsonl.conf.xml:2: cdr_jsonl.conf: file "../x"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := load(t, tt.files)
			c, err := FromSnapshot(snap)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, snap, c)
		})
	}
}

func TestEmbeddedDefaultConfig(t *testing.T) {
	state := t.TempDir()
	snap, err := conf.Load(conf.Options{StateDir: state, Host: &conf.Host{Hostname: "h", IPv4: "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	if c.CSV == nil {
		t.Fatal("the default configuration writes no CSV CDRs")
	}
	if want := filepath.Join(state, "log", "cdr-csv"); c.CSV.Dir != want {
		t.Errorf("CSV directory %s, want %s (under the state directory)", c.CSV.Dir, want)
	}
	if c.CSV.DefaultTemplate != "example" || !c.CSV.RotateOnHUP || c.CSV.Legs != LegA {
		t.Errorf("default CSV configuration: %+v", c.CSV)
	}
}

// csvWriter returns a writer of CSV records into a temporary directory.
func csvWriter(t *testing.T, mod func(*CSVConfig)) (*Writer, string) {
	t.Helper()
	dir := t.TempDir()
	c := &CSVConfig{
		Dir:             dir,
		DefaultTemplate: "example",
		Templates: map[string]string{
			"default": BuiltinTemplate,
			"example": `"${caller_id_name}","${destination_number}","${start_stamp}","${answer_stamp}","${end_stamp}","${billsec}","${hangup_cause}"` + "\n",
			"vip":     `VIP ${uuid}` + "\n",
		},
		Legs:     LegA,
		Encoding: EncodingNone,
	}
	if mod != nil {
		mod(c)
	}
	return NewWriter(&Config{CSV: c}, Options{}), dir
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCSVRecords(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*CSVConfig)
		leg   *fakeLeg
		files map[string]string // file → content; others must not exist
	}{
		{
			name: "master only",
			leg:  newLeg("u1"),
			files: map[string]string{
				"Master.csv": `"Alice","9196","2026-03-01 12:00:00","2026-03-01 12:00:02","2026-03-01 12:00:12","10","NORMAL_CLEARING"` + "\n",
			},
		},
		{
			name: "a variable wins over the derived stamp",
			leg:  newLeg("u1", "start_stamp", "then", "answer_stamp", "later"),
			files: map[string]string{
				"Master.csv": `"Alice","9196","then","later","2026-03-01 12:00:12","10","NORMAL_CLEARING"` + "\n",
			},
		},
		{
			name: "account code with its own template",
			leg:  newLeg("u2", "accountcode", "vip"),
			files: map[string]string{
				"vip.csv":    "VIP u2\n",
				"Master.csv": `"Alice","9196","2026-03-01 12:00:00","2026-03-01 12:00:02","2026-03-01 12:00:12","10","NORMAL_CLEARING"` + "\n",
			},
		},
		{
			name: "account code without a template uses the default one",
			leg:  newLeg("u3", "accountcode", "acme"),
			files: map[string]string{
				"acme.csv":   `"Alice","9196","2026-03-01 12:00:00","2026-03-01 12:00:02","2026-03-01 12:00:12","10","NORMAL_CLEARING"` + "\n",
				"Master.csv": `"Alice","9196","2026-03-01 12:00:00","2026-03-01 12:00:02","2026-03-01 12:00:12","10","NORMAL_CLEARING"` + "\n",
			},
		},
		{
			name:  "master-file-only",
			mod:   func(c *CSVConfig) { c.MasterFileOnly = true; c.DefaultTemplate = "vip" },
			leg:   newLeg("u4", "accountcode", "vip"),
			files: map[string]string{"Master.csv": "VIP u4\n"},
		},
		{
			name:  "an account code that is a path stays out of the file system",
			mod:   func(c *CSVConfig) { c.DefaultTemplate = "vip" },
			leg:   newLeg("u5", "accountcode", "../../etc/x"),
			files: map[string]string{"Master.csv": "VIP u5\n"},
		},
		{
			name: "failed call: no answer stamp",
			leg: func() *fakeLeg {
				l := newLeg("u6", "hangup_cause", "USER_BUSY", "billsec", "0")
				l.profile.AnsweredTime = 0
				return l
			}(),
			files: map[string]string{
				"Master.csv": `"Alice","9196","2026-03-01 12:00:00","","2026-03-01 12:00:12","0","USER_BUSY"` + "\n",
			},
		},
		{
			name: "raw values break quoting as in FreeSWITCH",
			leg:  func() *fakeLeg { l := newLeg("u7"); l.profile.CallerIDName = `Bob "B"`; return l }(),
			files: map[string]string{
				"Master.csv": `"Bob "B"","9196","2026-03-01 12:00:00","2026-03-01 12:00:02","2026-03-01 12:00:12","10","NORMAL_CLEARING"` + "\n",
			},
		},
		{
			name: "encoding csv doubles quotes",
			mod:  func(c *CSVConfig) { c.Encoding = EncodingCSV },
			leg:  func() *fakeLeg { l := newLeg("u8"); l.profile.CallerIDName = `Bob "B"`; return l }(),
			files: map[string]string{
				"Master.csv": `"Bob ""B""","9196","2026-03-01 12:00:00","2026-03-01 12:00:02","2026-03-01 12:00:12","10","NORMAL_CLEARING"` + "\n",
			},
		},
		{
			name:  "b legs are skipped with legs=a",
			leg:   newLeg("u9", "originating_leg_uuid", "u1"),
			files: map[string]string{},
		},
		{
			name:  "b legs with legs=b",
			mod:   func(c *CSVConfig) { c.Legs = LegB; c.DefaultTemplate = "vip" },
			leg:   newLeg("u10", "originating_leg_uuid", "u1"),
			files: map[string]string{"Master.csv": "VIP u10\n"},
		},
		{
			name:  "a legs are skipped with legs=b",
			mod:   func(c *CSVConfig) { c.Legs = LegB },
			leg:   newLeg("u11"),
			files: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, dir := csvWriter(t, tt.mod)
			if err := w.Report(tt.leg); err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(tt.files) {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("files %v, want %d", names, len(tt.files))
			}
			for name, want := range tt.files {
				if got := read(t, filepath.Join(dir, name)); got != want {
					t.Errorf("%s:\n got %q\nwant %q", name, got, want)
				}
			}
		})
	}
}

func TestCSVBaseVariableAndAPI(t *testing.T) {
	w, _ := csvWriter(t, func(c *CSVConfig) { c.DefaultTemplate = "api"; c.Templates["api"] = "${upper(${uuid})}\n" })
	w.api = apiFunc(func(cmd, args string) (string, error) { return strings.ToUpper(cmd + ":" + args), nil })
	other := t.TempDir()
	if err := w.Report(newLeg("abc", "cdr_csv_base", other)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(other, "Master.csv")); got != "UPPER:ABC\n" {
		t.Errorf("got %q", got)
	}
}

type apiFunc func(cmd, args string) (string, error)

func (f apiFunc) Execute(cmd, args string) (string, error) { return f(cmd, args) }

func TestJSONLRecord(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "cdr.jsonl")
	w := NewWriter(&Config{JSONL: &JSONLConfig{Path: path, Legs: LegA | LegB}}, Options{})
	defer w.Close()
	answered := newLeg("a1", "sip_call_id", "abc@host")
	failed := newLeg("b1", "originating_leg_uuid", "a1", "hangup_cause", "NO_ANSWER", "hangup_cause_q850", "19")
	failed.profile.AnsweredTime = 0
	for _, l := range []*fakeLeg{answered, failed} {
		if err := w.Report(l); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(read(t, path), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	var a, b Record
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &b); err != nil {
		t.Fatal(err)
	}
	if a.UUID != "a1" || a.Leg != "a" || a.Direction != "inbound" || a.HangupCause != "NORMAL_CLEARING" || a.Q850 != 16 ||
		!a.Start.Equal(base) || a.Answer == nil || !a.Answer.Equal(base.Add(2*time.Second)) || !a.End.Equal(base.Add(12500*time.Millisecond)) ||
		a.DurationMS != 12500 || a.BillMS != 10500 {
		t.Errorf("answered leg: %s", lines[0])
	}
	if a.Variables["sip_call_id"] != "abc@host" || a.CallerProfile["destination_number"] != "9196" || a.CallerProfile["caller_id_name"] != "Alice" {
		t.Errorf("answered leg's variables or profile: %s", lines[0])
	}
	if b.Leg != "b" || b.Answer != nil || b.BillMS != 0 || b.HangupCause != "NO_ANSWER" || b.Q850 != 19 {
		t.Errorf("failed b leg: %s", lines[1])
	}
	if strings.Contains(lines[1], `"answer"`) {
		t.Errorf("an unanswered leg has an answer time: %s", lines[1])
	}

	// A variables list limits what is written.
	w.SetConfig(&Config{JSONL: &JSONLConfig{Path: path, Legs: LegA, Variables: []string{"sip_call_id", "missing"}}})
	if err := w.Report(answered); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(read(t, path), "\n"), "\n")
	var c Record
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Variables) != 1 || c.Variables["sip_call_id"] != "abc@host" {
		t.Errorf("variables %v, want only sip_call_id", c.Variables)
	}
}

func TestRotate(t *testing.T) {
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "j", "cdr.jsonl")
	now := time.Date(2026, 11, 25, 21, 0, 5, 0, time.Local)
	cfg := &Config{
		CSV: &CSVConfig{Dir: dir, DefaultTemplate: "default", Templates: map[string]string{"default": "${uuid}\n"},
			Legs: LegA, RotateOnHUP: true, Encoding: EncodingNone},
		JSONL: &JSONLConfig{Path: jsonl, Legs: LegA, RotateOnHUP: false},
	}
	w := NewWriter(cfg, Options{Now: func() time.Time { return now }})
	defer w.Close()
	if err := w.Report(newLeg("one", "accountcode", "acme")); err != nil {
		t.Fatal(err)
	}
	renamed, err := w.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "Master.csv.2026-11-25-21-00-05"), filepath.Join(dir, "acme.csv.2026-11-25-21-00-05")}
	if strings.Join(renamed, ",") != strings.Join(want, ",") {
		t.Errorf("renamed %v, want %v", renamed, want)
	}
	if got := read(t, want[0]); got != "one\n" {
		t.Errorf("rotated Master.csv holds %q", got)
	}
	if err := w.Report(newLeg("two")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "Master.csv")); got != "two\n" {
		t.Errorf("Master.csv after rotation holds %q, want only the new record", got)
	}
	// rotate-on-hup false: the JSON-lines file is reopened, not renamed.
	if got := strings.Count(read(t, jsonl), "\n"); got != 2 {
		t.Errorf("cdr.jsonl has %d records, want 2 (not rotated)", got)
	}
	if _, err := os.Stat(jsonl + ".2026-11-25-21-00-05"); !os.IsNotExist(err) {
		t.Errorf("cdr.jsonl was renamed without rotate-on-hup: %v", err)
	}
}

func TestReportAfterCloseReopens(t *testing.T) {
	w, dir := csvWriter(t, func(c *CSVConfig) { c.DefaultTemplate = "vip" })
	if err := w.Report(newLeg("x1")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Report(newLeg("x2")); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := read(t, filepath.Join(dir, "Master.csv")); got != "VIP x1\nVIP x2\n" {
		t.Errorf("got %q", got)
	}
}

func TestConcurrentRecordsStayWhole(t *testing.T) {
	w, dir := csvWriter(t, func(c *CSVConfig) { c.DefaultTemplate = "vip" })
	defer w.Close()
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Report(newLeg(fmt.Sprintf("leg-%03d", i))); err != nil {
				t.Error(err)
			}
		}()
		if i == n/2 {
			if _, err := w.Rotate(); err != nil {
				t.Error(err)
			}
		}
	}
	wg.Wait()
	seen := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		for _, line := range strings.Split(strings.TrimSuffix(read(t, filepath.Join(dir, e.Name())), "\n"), "\n") {
			if !strings.HasPrefix(line, "VIP leg-") || len(line) != len("VIP leg-000") || seen[line] {
				t.Errorf("bad or repeated record %q in %s", line, e.Name())
			}
			seen[line] = true
		}
	}
	if len(seen) != n {
		t.Errorf("%d records, want %d", len(seen), n)
	}
}

func TestWriteErrorIsReported(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The CSV directory is below a regular file: it cannot be created.
	w := NewWriter(&Config{CSV: &CSVConfig{Dir: filepath.Join(blocker, "cdr-csv"), DefaultTemplate: "default",
		Templates: map[string]string{"default": "x\n"}, Legs: LegA}}, Options{})
	if err := w.Report(newLeg("e1")); err == nil {
		t.Error("no error for an impossible CDR directory")
	}
}
