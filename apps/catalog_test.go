package apps

import (
	"strings"
	"testing"
)

func TestCatalogueSortedAndUnique(t *testing.T) {
	c := Catalogue()
	for i := 1; i < len(c); i++ {
		if a, b := strings.ToLower(c[i-1].Name), strings.ToLower(c[i].Name); a >= b {
			t.Errorf("catalogue out of order or duplicated: %q before %q", c[i-1].Name, c[i].Name)
		}
	}
}

func TestCatalogueEntries(t *testing.T) {
	const known = SupportNoMedia | RoutingExec | MediaTap | ZombieExec | NoLoopback | SupportTextOnly
	dptools := 0
	for _, e := range Catalogue() {
		if e.Name == "" || strings.ContainsAny(e.Name, " \t") {
			t.Errorf("bad name %q", e.Name)
		}
		if !strings.HasPrefix(e.Module, "mod_") {
			t.Errorf("%s: module %q", e.Name, e.Module)
		}
		if e.Description == "" {
			t.Errorf("%s: no description", e.Name)
		}
		if e.Flags&^known != 0 {
			t.Errorf("%s: unknown flag bits %#x", e.Name, uint(e.Flags&^known))
		}
		for _, n := range []string{e.Name, strings.ToUpper(e.Name), strings.ToLower(e.Name)} {
			got, ok := KnownApp(n)
			if !ok || got != e {
				t.Errorf("KnownApp(%q) = %v, %v", n, got, ok)
			}
		}
		if e.Module == "mod_dptools" {
			dptools++
		}
	}
	// mod_dptools registers 139 applications (system and bgsystem only
	// when system commands are allowed, which is the default).
	if dptools != 139 {
		t.Errorf("catalogue has %d mod_dptools applications, want 139", dptools)
	}
}

func TestKnown(t *testing.T) {
	tests := []struct {
		name   string
		want   Flags
		wantOK bool
	}{
		{"set", SupportNoMedia | RoutingExec | ZombieExec, true},
		{"bridge", SupportNoMedia | SupportTextOnly, true},
		{"playback", 0, true},
		{"echo", SupportTextOnly, true},
		{"record_session", MediaTap, true},
		{"hash", SupportNoMedia | ZombieExec, true},
		{"rxfax", SupportNoMedia | NoLoopback, true},
		{"conference", SupportTextOnly, true},
		{"dial", SupportNoMedia, true},
		{"", 0, false},
		{"foo", 0, false},
		{"skinny-process", 0, false}, // mod_skinny interprets it; it is not an application
	}
	for _, tt := range tests {
		got, ok := Known(tt.name)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Known(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
	if e, _ := KnownApp("voicemail"); e.Module != "mod_voicemail" || e.Usage != "[check] [auth] <profile_name> <domain_name> [<id>] [uuid]" {
		t.Errorf("KnownApp(voicemail) = %+v", e)
	}
}

// Every application registered here runs with the flags and usage
// FreeSWITCH gives it.
func TestRegisteredMatchCatalogue(t *testing.T) {
	for _, a := range List() {
		e, ok := KnownApp(a.Name)
		if !ok {
			t.Errorf("%s is registered but not catalogued", a.Name)
			continue
		}
		if a.Flags != e.Flags {
			t.Errorf("%s registered with flags %v, FreeSWITCH has %v", a.Name, a.Flags, e.Flags)
		}
		if a.Usage != e.Usage {
			t.Errorf("%s registered with usage %q, FreeSWITCH has %q", a.Name, a.Usage, e.Usage)
		}
		if a.Name != e.Name {
			t.Errorf("registered as %q, FreeSWITCH spells it %q", a.Name, e.Name)
		}
	}
}

// The applications usable with inline="true" (SAF_ROUTING_EXEC), and
// some notable ones that are not.
func TestRoutingExec(t *testing.T) {
	inline := []string{
		"check_acl", "verbose_events", "novideo", "cng_plc", "early_hangup", "eval", "set_media_stats",
		"stop", "set_zombie_exec", "presence", "log", "info", "event", "export", "bridge_export", "set",
		"multiset", "push", "unshift", "set_global", "set_profile_var", "unset", "multiunset", "set_user",
		"lua", "curl", "cidlookup", "enum", "lcr", "easyroute", "nibblebill", "translate", "distributor",
		"hiredis_raw", "osplookup", "smpp_send",
	}
	for _, n := range inline {
		if f, ok := FlagsOf(n); !ok || f&RoutingExec == 0 {
			t.Errorf("%s: flags %v, %v; want RoutingExec", n, f, ok)
		}
	}
	for _, n := range []string{"hash", "db", "answer", "transfer", "bridge", "playback", "sleep", "hangup", "javascript"} {
		if f, ok := FlagsOf(n); !ok || f&RoutingExec != 0 {
			t.Errorf("%s: flags %v, %v; want known and not RoutingExec", n, f, ok)
		}
	}
	n := 0
	for _, e := range Catalogue() {
		if e.Module == "mod_dptools" && e.Flags&RoutingExec != 0 {
			n++
		}
	}
	if n != 24 {
		t.Errorf("%d mod_dptools applications are RoutingExec, want 24", n)
	}
}

// The applications that still run after hangup (SAF_ZOMBIE_EXEC).
func TestZombieExec(t *testing.T) {
	zombie := []string{
		"log", "info", "event", "export", "bridge_export", "set", "multiset", "push", "unshift", "set_global",
		"set_profile_var", "unset", "multiunset", "eval", "set_media_stats", "rename", "transfer_vars",
		"system", "bgsystem", "hash", "db", "group", "lua",
	}
	for _, n := range zombie {
		if f, ok := FlagsOf(n); !ok || f&ZombieExec == 0 {
			t.Errorf("%s: flags %v, %v; want ZombieExec", n, f, ok)
		}
	}
	if f, _ := FlagsOf("stop"); f&ZombieExec != 0 {
		t.Error("stop is ZombieExec")
	}
}
