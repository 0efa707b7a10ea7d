package conf

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"strings"
)

// Host describes the machine for the built-in globals hostname,
// local_ip_v4, local_mask_v4 and local_ip_v6.
type Host struct {
	Hostname string
	IPv4     string // e.g. "192.168.1.20"
	MaskV4   string // dotted, e.g. "255.255.255.0"
	IPv6     string
}

// DetectHost reads the host name and the addresses of this machine's
// network interfaces. It makes no network request (FreeSWITCH's guess
// routes a socket towards a public address; reading the interfaces needs
// nothing of the network). The IPv4 address is taken from the interface of
// the default route when the system tells (Linux /proc/net/route), else from
// the first interface that is up and not loopback; without one it is
// 127.0.0.1. IPv6 likewise falls back to ::1.
func DetectHost() Host {
	h := Host{IPv4: "127.0.0.1", MaskV4: "255.0.0.0", IPv6: "::1"}
	if name, err := os.Hostname(); err == nil {
		h.Hostname = name
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return h
	}
	ifaces = preferDefaultRoute(ifaces, defaultRouteInterface())
	v4, v6 := false, false
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() {
				continue
			}
			if ip4 := n.IP.To4(); ip4 != nil {
				if !v4 && len(n.Mask) >= net.IPv4len {
					h.IPv4 = ip4.String()
					h.MaskV4 = net.IP(n.Mask[len(n.Mask)-net.IPv4len:]).String()
					v4 = true
				}
			} else if !v6 && n.IP.IsGlobalUnicast() {
				h.IPv6 = n.IP.String()
				v6 = true
			}
		}
	}
	return h
}

// preferDefaultRoute moves the interface named name, if any, to the front.
func preferDefaultRoute(ifaces []net.Interface, name string) []net.Interface {
	if name == "" {
		return ifaces
	}
	out := make([]net.Interface, 0, len(ifaces))
	for _, ifc := range ifaces {
		if ifc.Name == name {
			out = append(out, ifc)
		}
	}
	for _, ifc := range ifaces {
		if ifc.Name != name {
			out = append(out, ifc)
		}
	}
	return out
}

// defaultRouteInterface names the interface of the IPv4 default route from
// /proc/net/route, or returns "" where that file does not exist.
func defaultRouteInterface() string {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return ""
	}
	defer f.Close()
	return parseRouteTable(bufio.NewScanner(f))
}

// parseRouteTable finds the first route with destination and mask 0 in the
// /proc/net/route format: "Iface Destination Gateway Flags ... Mask ...".
func parseRouteTable(sc *bufio.Scanner) string {
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) < 8 {
			continue
		}
		if f[1] == "00000000" && f[7] == "00000000" {
			return f[0]
		}
	}
	return ""
}

// newUUID returns a random (version 4) UUID in its canonical text form.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
