package media

import "net/netip"

// cgnat is RFC 6598 shared address space, used by carrier-grade NAT.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// ShouldLatch reports whether a call's media should be latched
// (RemoteParams.Latch): when the address in the far end's SDP is private
// (RFC 1918, RFC 6598 shared space, link-local, IPv6 ULA), unspecified, or
// differs from the address its signalling came from. That is the case of
// a phone behind NAT, which advertises an address nobody can reach.
func ShouldLatch(sdp, signalling netip.Addr) bool {
	sdp, signalling = sdp.Unmap(), signalling.Unmap()
	if !sdp.IsValid() || sdp.IsUnspecified() {
		return true
	}
	if sdp.IsPrivate() || sdp.IsLinkLocalUnicast() || cgnat.Contains(sdp) {
		return true
	}
	return signalling.IsValid() && sdp != signalling
}
