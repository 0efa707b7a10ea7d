// Package acl holds FreeSWITCH's named network lists (acl.conf): lists of
// CIDRs that allow or deny an address, the built-in *.auto lists, and the
// check the SIP profiles and the check_acl application use.
//
// A check follows switch_network_list_validate_ip_port_token: the list
// answers with its default unless a node matches the address; among the
// matching nodes the most specific (longest prefix) wins, and between
// equally specific nodes the one defined first wins. IPv4 addresses are
// tested against IPv4 nodes only and IPv6 addresses against IPv6 nodes
// only; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as IPv4.
package acl

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/conf"
)

// Names of the lists that always exist (switch_load_network_lists). A list
// of the same name in acl.conf replaces the built-in one, as in FreeSWITCH.
const (
	Loopback = "loopback.auto" // 127.0.0.0/8 and ::1
	LocalNet = "localnet.auto" // this machine's interface networks
	RFC1918  = "rfc1918.auto"  // the private IPv4 ranges and fe80::/10
	RFC6598  = "rfc6598.auto"  // carrier-grade NAT space, 100.64.0.0/10
	NAT      = "nat.auto"      // private ranges minus this machine's networks
	WAN      = "wan.auto"      // everything but private and link-local space
	WANv4    = "wan_v4.auto"   // wan.auto with every IPv6 address denied
	WANv6    = "wan_v6.auto"   // IPv6 but link-local; every IPv4 address denied
	AnyV4    = "any_v4.auto"   // every IPv4 address
	AnyV6    = "any_v6.auto"   // every IPv6 address
)

// PortRange limits a node to some source ports (the node attributes port,
// ports and port-min/port-max). The zero value matches every port.
type PortRange struct {
	Port     int   // exactly this port, when not 0
	Ports    []int // one of these ports, when not empty
	Min, Max int   // within [Min, Max], when either is not 0
}

func (r PortRange) match(port int) bool {
	if port == 0 {
		return true
	}
	if r.Port != 0 && r.Port != port {
		return false
	}
	if len(r.Ports) > 0 {
		for _, p := range r.Ports {
			if p == port {
				return true
			}
		}
		return false
	}
	if r.Min != 0 || r.Max != 0 {
		return port >= r.Min && port <= r.Max
	}
	return true
}

// Node is one entry of a list.
type Node struct {
	Prefix netip.Prefix // masked; IPv4 prefixes are plain IPv4, never mapped
	Allow  bool
	// Token names the directory user (id@domain) a domain node was made
	// from; empty for cidr and host/mask nodes.
	Token string
	Ports PortRange
}

// List is one named network list.
type List struct {
	Name    string
	Default bool   // the answer when no node matches: true allows
	Nodes   []Node // in definition order
}

// Match checks ip (and port, 0 for any) against the list and returns the
// answer and the token of the deciding node ("" when the default decided or
// the node carries none).
func (l *List) Match(ip netip.Addr, port int) (ok bool, token string) {
	ip = ip.Unmap()
	ok = l.Default
	best := -1
	for i := range l.Nodes {
		n := &l.Nodes[i]
		if n.Prefix.Addr().Is4() != ip.Is4() {
			continue
		}
		// Strictly longer wins: of equally long prefixes the first defined
		// stays, which is what FreeSWITCH's reversed node list with its >=
		// comparison amounts to.
		if n.Prefix.Bits() > best && n.Prefix.Contains(ip) && n.Ports.match(port) {
			ok, token, best = n.Allow, n.Token, n.Prefix.Bits()
		}
	}
	return ok, token
}

// Lists is an immutable set of named lists. Names are case-sensitive, as
// in FreeSWITCH's hash.
type Lists struct {
	m map[string]*List
}

// Options configures Parse.
type Options struct {
	// LocalNets are this machine's interface networks, used by
	// localnet.auto (allowed) and nat.auto (denied). nil detects them from
	// the interfaces (loopback networks excluded).
	LocalNets []netip.Prefix
	// Domain finds a directory domain for <node domain="...">: each of its
	// users with a cidr attribute adds a node whose token is id@domain.
	// nil, or a domain it cannot find, skips the node with a warning.
	Domain func(name string) *conf.Domain
	// Pos describes where an element was written (file:line), for errors.
	Pos func(*etree.Element) string
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

// FromSnapshot builds the lists of snap's acl.conf (none is fine: only the
// built-in lists exist then), resolving domain nodes in snap's directory.
func FromSnapshot(snap *conf.Snapshot, opts Options) (*Lists, error) {
	if opts.Domain == nil {
		opts.Domain = snap.Domain
	}
	if opts.Pos == nil {
		opts.Pos = func(el *etree.Element) string { return snap.Pos(el).String() }
	}
	return Parse(snap.Configuration("acl.conf"), opts)
}

// Parse builds the built-in lists plus the <network-lists> of cfg, the
// <configuration name="acl.conf"> element (nil means none). An unusable
// node (a bad CIDR, mask or port) is an error naming where it was written.
func Parse(cfg *etree.Element, opts Options) (*Lists, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	local := opts.LocalNets
	if local == nil {
		local = InterfaceNets()
	}
	ls := &Lists{m: make(map[string]*List)}
	ls.builtins(local)
	if cfg == nil {
		return ls, nil
	}
	pos := func(el *etree.Element) string {
		if opts.Pos != nil {
			if p := opts.Pos(el); p != "" {
				return p + ": "
			}
		}
		return ""
	}
	for _, lists := range cfg.SelectElements("network-lists") {
		for _, lel := range lists.SelectElements("list") {
			name := lel.SelectAttrValue("name", "")
			if name == "" {
				continue
			}
			l := &List{Name: name, Default: true}
			if d := lel.SelectAttr("default"); d != nil {
				l.Default = caller.True(d.Value)
			}
			for _, nel := range lel.SelectElements("node") {
				nodes, err := parseNode(nel, l.Default, opts, log)
				if err != nil {
					return nil, fmt.Errorf("%sacl.conf list %q: %w", pos(nel), name, err)
				}
				l.Nodes = append(l.Nodes, nodes...)
			}
			ls.m[name] = l
		}
	}
	return ls, nil
}

func parseNode(el *etree.Element, dflt bool, opts Options, log *slog.Logger) ([]Node, error) {
	allow := dflt
	if t := el.SelectAttr("type"); t != nil {
		allow = caller.True(t.Value)
	}
	ports, err := parsePorts(el)
	if err != nil {
		return nil, err
	}
	attr := func(n string) (string, bool) {
		a := el.SelectAttr(n)
		if a == nil {
			return "", false
		}
		return a.Value, true
	}
	if domain, ok := attr("domain"); ok {
		var d *conf.Domain
		if opts.Domain != nil {
			d = opts.Domain(domain)
		}
		if d == nil {
			log.Warn("acl: cannot locate domain", "domain", domain)
			return nil, nil
		}
		var out []Node
		for _, u := range d.Users {
			if u.Cidr == "" || u.ID == "" {
				continue
			}
			token := u.ID + "@" + domain
			for _, c := range splitList(u.Cidr) {
				p, err := ParseCIDR(c)
				if err != nil {
					log.Warn("acl: bad cidr on a directory user", "user", token, "cidr", c, "err", err)
					continue
				}
				out = append(out, Node{Prefix: p, Allow: allow, Token: token, Ports: ports})
			}
		}
		return out, nil
	}
	if cidr, ok := attr("cidr"); ok {
		var out []Node
		for _, c := range splitList(cidr) {
			p, err := ParseCIDR(c)
			if err != nil {
				return nil, err
			}
			out = append(out, Node{Prefix: p, Allow: allow, Ports: ports})
		}
		return out, nil
	}
	host, hok := attr("host")
	mask, mok := attr("mask")
	if hok && mok {
		p, err := hostMask(host, mask)
		if err != nil {
			return nil, err
		}
		return []Node{{Prefix: p, Allow: allow, Ports: ports}}, nil
	}
	log.Warn("acl: node without cidr, host/mask or domain ignored")
	return nil, nil
}

func parsePorts(el *etree.Element) (PortRange, error) {
	var r PortRange
	num := func(name, v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 65535 {
			return 0, fmt.Errorf("bad %s %q", name, v)
		}
		return n, nil
	}
	var err error
	if a := el.SelectAttr("port"); a != nil {
		if r.Port, err = num("port", a.Value); err != nil {
			return r, err
		}
	}
	if a := el.SelectAttr("ports"); a != nil {
		for _, p := range splitList(a.Value) {
			n, err := num("ports", p)
			if err != nil {
				return r, err
			}
			r.Ports = append(r.Ports, n)
		}
	}
	if a := el.SelectAttr("port-min"); a != nil {
		if r.Min, err = num("port-min", a.Value); err != nil {
			return r, err
		}
	}
	if a := el.SelectAttr("port-max"); a != nil {
		if r.Max, err = num("port-max", a.Value); err != nil {
			return r, err
		}
	}
	return r, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseCIDR parses "addr/bits" the way acl.conf takes it: the address is
// masked to the prefix, an IPv4-mapped IPv6 address counts as IPv4, and
// the /bits part is required.
func ParseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "::ffff:") && strings.Contains(s[7:], ".") {
		s = s[7:]
	}
	addr, bits, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, fmt.Errorf("bad cidr %q: no /bits", s)
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad cidr %q: %w", s, err)
	}
	ip = ip.Unmap().WithZone("")
	n, err := strconv.Atoi(bits)
	if err != nil || n < 0 || n > ip.BitLen() {
		return netip.Prefix{}, fmt.Errorf("bad cidr %q: bad prefix length", s)
	}
	return netip.PrefixFrom(ip, n).Masked(), nil
}

// hostMask turns host="a.b.c.d" mask="255.255.255.0" into a prefix.
func hostMask(host, mask string) (netip.Prefix, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(host))
	if err != nil || !ip.Unmap().Is4() {
		return netip.Prefix{}, fmt.Errorf("bad host %q", host)
	}
	m, err := netip.ParseAddr(strings.TrimSpace(mask))
	if err != nil || !m.Is4() {
		return netip.Prefix{}, fmt.Errorf("bad mask %q", mask)
	}
	b := m.As4()
	ones, bits := net.IPMask(b[:]).Size()
	if bits == 0 {
		return netip.Prefix{}, fmt.Errorf("mask %q is not contiguous", mask)
	}
	return netip.PrefixFrom(ip.Unmap(), ones).Masked(), nil
}

func mustNodes(allow bool, cidrs ...string) []Node {
	out := make([]Node, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := ParseCIDR(c)
		if err != nil {
			panic(err) // the built-in tables below are constants
		}
		out = append(out, Node{Prefix: p, Allow: allow})
	}
	return out
}

// builtins adds the lists FreeSWITCH creates before reading acl.conf.
func (ls *Lists) builtins(local []netip.Prefix) {
	add := func(name string, dflt bool, nodes ...[]Node) {
		l := &List{Name: name, Default: dflt}
		for _, n := range nodes {
			l.Nodes = append(l.Nodes, n...)
		}
		ls.m[name] = l
	}
	private := []string{"0.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"}
	add(RFC6598, false, mustNodes(true, "100.64.0.0/10"))
	add(RFC1918, false, mustNodes(true, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fe80::/10"))
	add(WAN, true, mustNodes(false, append(private, "fe80::/10")...))
	add(WANv6, true, mustNodes(false, "0.0.0.0/0", "fe80::/10"))
	add(WANv4, true, mustNodes(false, append(private, "::/0")...))
	add(AnyV6, true, mustNodes(false, "0.0.0.0/0"))
	add(AnyV4, true, mustNodes(false, "::/0"))
	var localNodes, natLocal []Node
	for _, p := range local {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked()
		if !p.IsValid() {
			continue
		}
		localNodes = append(localNodes, Node{Prefix: p, Allow: true})
		natLocal = append(natLocal, Node{Prefix: p, Allow: false})
	}
	add(NAT, false, natLocal, mustNodes(true, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))
	add(Loopback, false, mustNodes(true, "127.0.0.0/8", "::1/128"))
	add(LocalNet, false, localNodes)
}

// InterfaceNets returns the networks of this machine's up, non-loopback
// interfaces (what localnet.auto allows). FreeSWITCH takes only the
// interface of its guessed local address; every interface is the useful
// generalisation on multi-homed hosts.
func InterfaceNets() []netip.Prefix {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok || ip.IsLoopback() {
				continue
			}
			ones, _ := ipn.Mask.Size()
			out = append(out, netip.PrefixFrom(ip.Unmap(), ones).Masked())
		}
	}
	return out
}

// Get returns the list called name, or nil.
func (ls *Lists) Get(name string) *List {
	if ls == nil {
		return nil
	}
	return ls.m[name]
}

// Has reports whether a list called name exists.
func (ls *Lists) Has(name string) bool { return ls.Get(name) != nil }

// Names returns every list name, sorted.
func (ls *Lists) Names() []string {
	out := make([]string, 0, len(ls.m))
	for n := range ls.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Check reports whether ip is allowed by the list called name. As in
// switch_check_network_list_ip, a name that is no list but contains '/'
// is taken as one or more comma-separated CIDRs that allow what they
// contain; any other unknown name denies.
func (ls *Lists) Check(name string, ip netip.Addr) bool {
	ok, _ := ls.CheckToken(name, ip, 0)
	return ok
}

// CheckToken is Check with a source port (0: any) that also returns the
// token (id@domain) of the deciding node.
func (ls *Lists) CheckToken(name string, ip netip.Addr, port int) (ok bool, token string) {
	if !ip.IsValid() {
		return false, ""
	}
	if l := ls.Get(name); l != nil {
		return l.Match(ip, port)
	}
	if !strings.Contains(name, "/") {
		return false, ""
	}
	ip = ip.Unmap()
	for _, c := range splitList(name) {
		p, err := ParseCIDR(c)
		if err != nil {
			continue
		}
		if p.Addr().Is4() == ip.Is4() && p.Contains(ip) {
			return true, ""
		}
	}
	return false, ""
}
