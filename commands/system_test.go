package commands

import (
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/vars"
)

func TestCreateUUID(t *testing.T) {
	env := newEnv(t)
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		u := run(env, "create_uuid", "")
		if !v4.MatchString(u) {
			t.Fatalf("create_uuid = %q, not a version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("create_uuid repeated %s", u)
		}
		seen[u] = true
	}
}

func TestHostname(t *testing.T) {
	if got := run(newEnv(t), "hostname", ""); got != "sb-test" {
		t.Errorf("hostname = %q, want the configuration's sb-test", got)
	}
	want, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	if got := run(&Host{Runtime: vars.NewStore()}, "hostname", ""); got != want {
		t.Errorf("hostname without a configuration = %q, want %q", got, want)
	}
}

func TestModuleExists(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ args, want string }{
		{"mod_dptools", "true"},
		{"mod_commands", "true"},
		{"mod_sofia", "true"},
		{"mod_dialplan_xml", "true"},
		{"mod_enum", "false"},
		{"mod_conference", "false"},
		{"MOD_SOFIA", "false"}, // module names are case-sensitive
		{"", ""},
	}
	for _, tt := range tests {
		if got := run(env, "module_exists", tt.args); got != tt.want {
			t.Errorf("module_exists %q = %q, want %q", tt.args, got, tt.want)
		}
	}
	// Every module an application or command is registered under exists.
	mods := strings.Join(Modules(), " ")
	for _, a := range apps.List() {
		if i, ok := apps.KnownApp(a.Name); ok && !strings.Contains(" "+mods+" ", " "+i.Module+" ") {
			t.Errorf("module %s of %s missing from %s", i.Module, a.Name, mods)
		}
	}
}

func TestVersionText(t *testing.T) {
	info := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/switchboard-voip/switchboard", Version: "v1.2.3-rc.1"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2024-03-04T07:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		info  *debug.BuildInfo
		short bool
		want  string
	}{
		{info, false, "Switchboard Version 1.2.3-rc.1 (git 0123456-dirty 2024-03-04T07:00:00Z go1.26.8 64bit)\n"},
		{info, true, "1.2.3\n"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, false, "Switchboard Version devel (go1.26.8 64bit)\n"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "0.0.0\n"},
		{nil, false, "Switchboard Version devel (64bit)\n"},
	}
	for _, tt := range tests {
		if got := versionText(tt.info, tt.short); got != tt.want {
			t.Errorf("versionText(short=%v) = %q, want %q", tt.short, got, tt.want)
		}
	}
	env := newEnv(t)
	if got := run(env, "version", ""); !strings.HasPrefix(got, "Switchboard Version ") || !strings.HasSuffix(got, "bit)\n") {
		t.Errorf("version = %q", got)
	}
	for _, arg := range []string{"short", "SHORT", "shortly extra"} {
		if got := run(env, "version", arg); !regexp.MustCompile(`^\d+\.\d+\.\d+\n$`).MatchString(got) {
			t.Errorf("version %s = %q", arg, got)
		}
	}
}
