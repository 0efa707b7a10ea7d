package acl

import (
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/conf"
)

func parseXML(t *testing.T, text string) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(text); err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

var local = []netip.Prefix{netip.MustParsePrefix("192.168.7.0/24"), netip.MustParsePrefix("2001:db8:1::/64")}

func TestBuiltins(t *testing.T) {
	ls, err := Parse(nil, Options{LocalNets: local})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		list, ip string
		want     bool
	}{
		{Loopback, "127.0.0.1", true},
		{Loopback, "127.9.9.9", true},
		{Loopback, "::1", true},
		{Loopback, "::ffff:127.0.0.1", true},
		{Loopback, "10.0.0.1", false},
		{Loopback, "::2", false},
		{LocalNet, "192.168.7.44", true},
		{LocalNet, "192.168.8.44", false},
		{LocalNet, "2001:db8:1::5", true},
		{LocalNet, "127.0.0.1", false},
		{RFC1918, "10.1.2.3", true},
		{RFC1918, "172.31.255.255", true},
		{RFC1918, "172.32.0.1", false},
		{RFC1918, "fe80::1", true},
		{RFC1918, "100.64.0.1", false},
		{RFC6598, "100.64.0.1", true},
		{NAT, "10.1.2.3", true},
		{NAT, "100.100.1.1", true},
		{NAT, "192.168.7.10", false}, // our own network is not behind NAT
		{NAT, "192.168.9.10", true},
		{NAT, "8.8.8.8", false},
		{WAN, "8.8.8.8", true},
		{WAN, "10.0.0.1", false},
		{WAN, "2001:db8::1", true},
		{WAN, "fe80::1", false},
		{WANv4, "8.8.8.8", true},
		{WANv4, "2001:db8::1", false},
		{WANv6, "8.8.8.8", false},
		{WANv6, "2001:db8::1", true},
		{AnyV4, "1.2.3.4", true},
		{AnyV4, "::1", false},
		{AnyV6, "1.2.3.4", false},
		{AnyV6, "::1", true},
		{"no-such-list", "127.0.0.1", false},
		{"10.0.0.0/8", "10.9.9.9", true},
		{"10.0.0.0/8", "11.0.0.1", false},
		{"10.0.0.0/8,192.0.2.0/24", "192.0.2.9", true},
		{"10.0.0.0/8", "::1", false},
	}
	for _, tt := range tests {
		if got := ls.Check(tt.list, netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("Check(%q, %s) = %v, want %v", tt.list, tt.ip, got, tt.want)
		}
	}
	if ls.Check(Loopback, netip.Addr{}) {
		t.Error("the zero address must be denied")
	}
}

func TestLongestMatchAndDefaults(t *testing.T) {
	cfg := parseXML(t, `<configuration name="acl.conf"><network-lists>
  <list name="lan" default="deny">
    <node type="allow" cidr="10.0.0.0/8"/>
    <node type="deny" cidr="10.1.0.0/16"/>
    <node type="allow" cidr="10.1.2.3/32"/>
  </list>
  <list name="open" default="allow">
    <node type="deny" cidr="192.0.2.0/24, 198.51.100.0/24"/>
  </list>
  <list name="ties" default="deny">
    <node type="allow" cidr="10.0.0.0/8"/>
    <node type="deny" cidr="10.0.0.0/8"/>
  </list>
  <list name="masked">
    <node type="deny" host="203.0.113.0" mask="255.255.255.0"/>
  </list>
  <list name="ports" default="deny">
    <node type="allow" cidr="10.0.0.0/8" port="5060"/>
    <node type="allow" cidr="172.16.0.0/12" ports="5060,5080"/>
    <node type="allow" cidr="192.168.0.0/16" port-min="5000" port-max="5100"/>
  </list>
  <list name="v6" default="deny">
    <node type="allow" cidr="2001:db8::/32"/>
    <node type="allow" cidr="::ffff:198.18.0.0/15"/>
  </list>
  <list name="nodefault">
    <node type="allow" cidr="10.0.0.0/8"/>
  </list>
  <list name="Case" default="allow"/>
</network-lists></configuration>`)
	ls, err := Parse(cfg, Options{LocalNets: local})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		list, ip string
		port     int
		want     bool
	}{
		{"lan", "10.9.9.9", 0, true},
		{"lan", "10.1.9.9", 0, false},
		{"lan", "10.1.2.3", 0, true},
		{"lan", "11.0.0.1", 0, false},
		{"open", "8.8.8.8", 0, true},
		{"open", "192.0.2.1", 0, false},
		{"open", "198.51.100.200", 0, false},
		{"open", "2001:db8::1", 0, true},
		{"ties", "10.0.0.1", 0, true}, // equal prefixes: the first defined wins
		{"masked", "203.0.113.77", 0, false},
		{"masked", "203.0.114.77", 0, true}, // default is allow when omitted
		{"ports", "10.0.0.1", 5060, true},
		{"ports", "10.0.0.1", 5061, false},
		{"ports", "10.0.0.1", 0, true}, // port 0 means "any"
		{"ports", "172.16.0.1", 5080, true},
		{"ports", "172.16.0.1", 5070, false},
		{"ports", "192.168.0.1", 5050, true},
		{"ports", "192.168.0.1", 5101, false},
		{"v6", "2001:db8:ffff::1", 0, true},
		{"v6", "2001:db9::1", 0, false},
		{"v6", "198.19.0.1", 0, true},
		{"v6", "::ffff:198.19.0.1", 0, true},
		{"nodefault", "8.8.8.8", 0, true},
		{"Case", "8.8.8.8", 0, true},
		{"case", "8.8.8.8", 0, false}, // names are case-sensitive
	}
	for _, tt := range tests {
		got, _ := ls.CheckToken(tt.list, netip.MustParseAddr(tt.ip), tt.port)
		if got != tt.want {
			t.Errorf("CheckToken(%q, %s, %d) = %v, want %v", tt.list, tt.ip, tt.port, got, tt.want)
		}
	}
}

func TestOverrideBuiltin(t *testing.T) {
	cfg := parseXML(t, `<configuration name="acl.conf"><network-lists>
  <list name="loopback.auto" default="allow"/>
</network-lists></configuration>`)
	ls, err := Parse(cfg, Options{LocalNets: local})
	if err != nil {
		t.Fatal(err)
	}
	if !ls.Check(Loopback, netip.MustParseAddr("8.8.8.8")) {
		t.Error("a list in acl.conf must replace the built-in list of the same name")
	}
}

func TestBadNodes(t *testing.T) {
	for _, node := range []string{
		`<node type="allow" cidr="10.0.0.0"/>`,
		`<node type="allow" cidr="10.0.0.0/33"/>`,
		`<node type="allow" cidr="nonsense/8"/>`,
		`<node type="allow" cidr="::1/129"/>`,
		`<node type="allow" host="10.0.0.1" mask="255.0.255.0"/>`,
		`<node type="allow" host="fe80::1" mask="255.255.255.0"/>`,
		`<node type="allow" cidr="10.0.0.0/8" port="70000"/>`,
		`<node type="allow" cidr="10.0.0.0/8" ports="5060,x"/>`,
	} {
		cfg := parseXML(t, `<configuration name="acl.conf"><network-lists><list name="x">`+node+`</list></network-lists></configuration>`)
		if _, err := Parse(cfg, Options{LocalNets: local}); err == nil {
			t.Errorf("%s: want an error", node)
		} else if !strings.Contains(err.Error(), `list "x"`) {
			t.Errorf("%s: error %q does not name the list", node, err)
		}
	}
}

func TestDomainNodesFromSnapshot(t *testing.T) {
	fsys := fstest.MapFS{
		"freeswitch.xml": {Data: []byte(`<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="set" data="domain=example.test"/>
  <section name="configuration">
    <configuration name="acl.conf">
      <network-lists>
        <list name="domains" default="deny">
          <node type="allow" domain="$${domain}"/>
          <node type="allow" domain="missing.test"/>
        </list>
      </network-lists>
    </configuration>
  </section>
  <section name="directory">
    <domain name="$${domain}">
      <users>
        <user id="1000" cidr="192.0.2.10/32"/>
        <user id="1001" cidr="198.51.100.0/24,203.0.113.0/24"/>
        <user id="1002"/>
      </users>
    </domain>
  </section>
</document>
`)},
	}
	snap, err := conf.Load(conf.Options{FS: fsys, Dir: "/test", StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := FromSnapshot(snap, Options{LocalNets: local})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip, token string
		ok        bool
	}{
		{"192.0.2.10", "1000@example.test", true},
		{"192.0.2.11", "", false},
		{"203.0.113.9", "1001@example.test", true},
		{"198.51.100.1", "1001@example.test", true},
	}
	for _, tt := range tests {
		ok, tok := ls.CheckToken("domains", netip.MustParseAddr(tt.ip), 0)
		if ok != tt.ok || tok != tt.token {
			t.Errorf("%s: got (%v, %q), want (%v, %q)", tt.ip, ok, tok, tt.ok, tt.token)
		}
	}
	if !ls.Has(Loopback) || !ls.Has("domains") {
		t.Errorf("lists: %v", ls.Names())
	}
}

func TestParseCIDR(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.1.2.3/8", "10.0.0.0/8"},
		{" 192.168.1.1/32 ", "192.168.1.1/32"},
		{"::ffff:10.0.0.1/8", "10.0.0.0/8"},
		{"2001:db8::1/32", "2001:db8::/32"},
		{"0.0.0.0/0", "0.0.0.0/0"},
	}
	for _, tt := range tests {
		p, err := ParseCIDR(tt.in)
		if err != nil || p.String() != tt.want {
			t.Errorf("ParseCIDR(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}

func TestInterfaceNetsExcludeLoopback(t *testing.T) {
	for _, p := range InterfaceNets() {
		if p.Addr().IsLoopback() {
			t.Errorf("loopback network %s in InterfaceNets", p)
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("10.0.0.0/8,::1/128", "10.1.1.1")
	f.Add("nonsense", "::ffff:1.2.3.4")
	ls, err := Parse(nil, Options{LocalNets: local})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, ip string) {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return
		}
		ls.Check(name, a)
		_, _ = ParseCIDR(name)
	})
}
