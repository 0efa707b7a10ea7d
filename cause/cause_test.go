package cause

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Cause
	}{
		{"USER_BUSY", CUserBusy},
		{"user_busy", CUserBusy},
		{"17", CUserBusy},
		{"", CNormalClearing},
		{"NO_SUCH_CAUSE", CNormalClearing}, // quirk: unknown name → NORMAL_CLEARING
		{"MEDIA_TIMEOUT", CMediaTimeout},
		{"487", COriginatorCancel},
	}
	for _, tt := range tests {
		if got := Parse(tt.in); got != tt.want {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSIPMappings(t *testing.T) {
	to := map[Cause]int{
		CNoRouteDestination:      404,
		CUserBusy:                486,
		CNormalClearing:          480,
		CDestinationOutOfOrder:   502,
		CExchangeRoutingError:    483,
		CIncompatibleDestination: 488,
		COriginatorCancel:        487,
		CCallRejected:            603,
		CNormalCircuitCongestion: 503,
		CMediaTimeout:            480,
		Cause(9999):              480,
	}
	for c, code := range to {
		if got := c.SIP(); got != code {
			t.Errorf("%v.SIP() = %d, want %d", c, got, code)
		}
	}
	from := map[int]Cause{
		404: CUnallocatedNumber, 486: CUserBusy, 600: CUserBusy, 603: CCallRejected,
		487: COriginatorCancel, 408: CRecoveryOnTimerExpire, 503: CNormalTemporaryFailure,
		488: CIncompatibleDestination, 699: CNormalUnspecified, 200: CNormalClearing,
	}
	for code, c := range from {
		if got := FromSIP(code); got != c {
			t.Errorf("FromSIP(%d) = %v, want %v", code, got, c)
		}
	}
}

func TestNamesRoundTrip(t *testing.T) {
	for _, n := range Names() {
		c, ok := Lookup(n)
		if !ok || c.String() != n {
			t.Errorf("Lookup(%q) = %v, %v", n, c, ok)
		}
	}
	if CNormalClearing.Q850() != 16 || CNormalClearing.String() != "NORMAL_CLEARING" {
		t.Error("NORMAL_CLEARING is 16")
	}
}
