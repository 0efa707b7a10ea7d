package conf

import (
	"bufio"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/vars"
)

func TestGlobals(t *testing.T) {
	g := NewGlobals(nil)
	g.Set("Domain", "a")
	g.Set("domain", "b") // same variable: names are case-insensitive
	if v, ok := g.Get("DOMAIN"); !ok || v != "b" {
		t.Errorf("Get(DOMAIN) = %q, %v", v, ok)
	}
	if m := g.Map(); len(m) != 1 || m["Domain"] != "b" {
		t.Errorf("Map = %v, want the first spelling with the last value", m)
	}

	g.Lock("pw", "cli")
	g.Set("PW", "from-vars")
	if v, _ := g.Get("pw"); v != "cli" || !g.Locked("Pw") || g.Locked("domain") {
		t.Errorf("locked pw = %q", v)
	}
	if _, ok := g.Get("missing"); ok {
		t.Error("Get(missing) reports set")
	}
}

func TestDisableVarRefs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"$${x}", "$%{x}"},
		{"${x}", "%{x}"},
		{"a ${b} ${c}", "a %{b} %{c}"},
		{`$\{x}`, `%\{x}`},
		{"$ {x}", "$ {x}"},
		{"cost $5 {x}", "cost $5 {x}"},
		{"$1 and $", "$1 and $"},
		{"{a=b}sofia/x", "{a=b}sofia/x"},
	}
	for _, tt := range tests {
		if got := vars.Defuse(tt.in); got != tt.want {
			t.Errorf("vars.Defuse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseRouteTable(t *testing.T) {
	tests := []struct{ table, want string }{
		{"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
			"docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n" +
			"eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n", "eth0"},
		{"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n" +
			"eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := parseRouteTable(bufio.NewScanner(strings.NewReader(tt.table))); got != tt.want {
			t.Errorf("parseRouteTable = %q, want %q", got, tt.want)
		}
	}
}

func TestDetectHost(t *testing.T) {
	h := DetectHost()
	for name, v := range map[string]string{"IPv4": h.IPv4, "MaskV4": h.MaskV4, "IPv6": h.IPv6} {
		if v == "" {
			t.Errorf("%s is empty", name)
		}
	}
}

func TestNewUUID(t *testing.T) {
	a, b := newUUID(), newUUID()
	if a == b || len(a) != 36 || a[14] != '4' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("newUUID = %q, %q", a, b)
	}
}

func TestRelToConf(t *testing.T) {
	tests := []struct {
		conf, name, want string
		ok               bool
	}{
		{"/etc/sb", "/etc/sb/scripts/x.lua", "scripts/x.lua", true},
		{"/etc/sb", "/etc/sb", ".", true},
		{"/etc/sb", "/etc/sb/../other/x", "", false},
		{"/etc/sb", "/etc/sbx/y", "", false},
		{"/etc/sb", "/tmp/rec.wav", "", false},
		{"/etc/sb", "sounds/a.wav", "sounds/a.wav", true},
		{"/etc/sb", "../a.wav", "../a.wav", true},
		{EmbeddedConfDir, EmbeddedConfDir + "/scripts/x.lua", "scripts/x.lua", true},
		{EmbeddedConfDir, EmbeddedConfDir, ".", true},
		{EmbeddedConfDir, "/tmp/rec.wav", "", false},
		{EmbeddedConfDir, "a/./b", "a/b", true},
	}
	for _, tt := range tests {
		got, ok := relToConf(tt.conf, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("relToConf(%q, %q) = %q, %v; want %q, %v", tt.conf, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
