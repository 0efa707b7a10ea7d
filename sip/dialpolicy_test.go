package sip

import (
	"net/netip"
	"strings"
	"testing"
)

func TestDialPolicy(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"198.51.100.77", false}, // a Via host from the wire (TEST-NET-2)
		{"203.0.113.5", false},
		{"8.8.8.8", false},
	} {
		if got := dialAllowed(netip.MustParseAddr(tt.addr)); got != tt.ok {
			t.Errorf("dialAllowed(%s) = %v, want %v", tt.addr, got, tt.ok)
		}
	}
	d := guardedTCP().DialerCreate(nil)
	if err := d.Control("tcp4", "198.51.100.77:5060", nil); err == nil || !strings.Contains(err.Error(), "refusing to dial") {
		t.Errorf("Control for an off-machine address = %v, want a refusal", err)
	}
	if err := d.Control("tcp4", "127.0.0.1:5060", nil); err != nil {
		t.Errorf("Control for loopback = %v", err)
	}
}
