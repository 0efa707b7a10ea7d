package sip

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Outbound connections. Over TCP, sipgo sends a response on the request's
// connection, but when that connection is gone it dials the address in the
// request's Via header — an address any sender can write. The endpoint
// dials only addresses of this machine and the destinations of the
// outbound calls it places (for as long as each call lasts), so wire data
// can never make it send traffic elsewhere (no reflection, nothing off the
// machine the operator did not configure).

// dialAllowed reports whether the endpoint may open a connection to ip.
func dialAllowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || isLocalAddr(ip)
}

// guardedTCP is a TCP transport whose dials are checked by dialAllowed
// before any packet leaves.
func guardedTCP() *sip.TransportTCP { return guardedTCPWith(nil) }

// guardedTCPWith is guardedTCP that also lets through the destinations
// extra allows: the far ends of our outbound calls (nil allows none).
func guardedTCPWith(extra func(netip.AddrPort) bool) *sip.TransportTCP {
	return &sip.TransportTCP{
		DialerCreate: func(laddr net.Addr) net.Dialer {
			return net.Dialer{
				Timeout:   5 * time.Second,
				LocalAddr: laddr,
				Control: func(network, address string, _ syscall.RawConn) error {
					ap, err := netip.ParseAddrPort(address)
					if err != nil {
						return fmt.Errorf("sip: refusing to dial %q: %w", address, err)
					}
					if !dialAllowed(ap.Addr()) && (extra == nil || !extra(ap)) {
						return fmt.Errorf("sip: refusing to dial %s: outbound connections go only to this machine's addresses", address)
					}
					return nil
				},
			}
		},
	}
}
