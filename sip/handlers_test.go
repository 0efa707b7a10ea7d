package sip

import "testing"

// TestIsSDP: the media type, before any parameter, in any ASCII case.
func TestIsSDP(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/sdp": true, "Application/SDP": true, " application/sdp ; charset=x": true,
		"application/sdp;": true, "application/sdpx": false, "text/plain": false, "": false,
		"application/ſdp": false, // not ASCII: strings.ToLower would not make it "sdp" either
	} {
		if got := isSDP(ct); got != want {
			t.Errorf("isSDP(%q) = %v", ct, got)
		}
	}
}
