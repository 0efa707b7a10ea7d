package sip

import (
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/vars"
)

func TestHasVarRef(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"plain", false},
		{"${x}", true},
		{"a${", true},
		{"$\\{x}", true}, // backslashes between $ and { do not help (FreeSWITCH's rule)
		{"$\\\\{x}", true},
		{"$ {x}", false},
		{"$x{", false},
		{"{x}$", false},
		{"$$${x}", true},
	}
	for _, tt := range tests {
		if got := vars.HasReference(tt.in); got != tt.want {
			t.Errorf("vars.HasReference(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCleanField(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice", "Alice"},
		{"${uuid}", "%{uuid}"},
		{"a$\\{b}", "a%\\{b}"},
		{"tab\there", "tab here"},
		{"nul\x00x", "nul x"},
		{"keep\r\nlines", "keep\r\nlines"},
		{"$5 and {x}", "$5 and {x}"},
	}
	for _, tt := range tests {
		got := cleanField(tt.in)
		if got != tt.want {
			t.Errorf("cleanField(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if vars.HasReference(got) {
			t.Errorf("cleanField(%q) = %q still holds a reference", tt.in, got)
		}
	}
}

func parseRequest(t testing.TB, text string) *sip.Request {
	t.Helper()
	m, err := sip.ParseMessage([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

func TestInviteInfo(t *testing.T) {
	req := parseRequest(t, `INVITE sip:%2B15551234@192.0.2.1:5080;user=phone SIP/2.0
Via: SIP/2.0/UDP 198.51.100.2:5062;branch=z9hG4bK776;rport
Max-Forwards: 69
From: "Bob Smith" <sip:+15550001@example.com;isup-oli=62>;tag=abc
To: <sip:+15551234@192.0.2.1>
Call-ID: call-1@example.com
CSeq: 7 INVITE
Contact: <sip:bob@198.51.100.2:5062>
User-Agent: Phone/1.0
P-Asserted-Identity: "Robert" <sip:+15550002@example.com>
X-Custom: one
X-Custom: two
P-Charging-Vector: icid-value=1
Content-Length: 0

`)
	info := inviteInfo(req, "internal", netip.MustParseAddrPort("198.51.100.2:5062"), "udp")
	want := map[string]string{
		"sip_from_user":           "+15550001",
		"sip_from_user_stripped":  "15550001",
		"sip_from_host":           "example.com",
		"sip_from_uri":            "+15550001@example.com",
		"sip_from_params":         "isup-oli=62",
		"sip_from_display":        "Bob Smith",
		"sip_from_tag":            "abc",
		"sip_to_user":             "+15551234",
		"sip_req_user":            "+15551234",
		"sip_req_host":            "192.0.2.1",
		"sip_req_port":            "5080",
		"sip_req_uri":             "+15551234@192.0.2.1:5080",
		"sip_contact_user":        "bob",
		"sip_call_id":             "call-1@example.com",
		"sip_cseq":                "7",
		"sip_user_agent":          "Phone/1.0",
		"sip_network_ip":          "198.51.100.2",
		"sip_network_port":        "5062",
		"sip_via_protocol":        "udp",
		"sip_via_host":            "198.51.100.2",
		"sip_h_X-Custom":          "one",
		"sip_h_X-Custom-1":        "two",
		"sip_h_P-Charging-Vector": "icid-value=1",
		"sip_P-Asserted-Identity": "+15550002",
		"sip_cid_type":            "pid",
		"max_forwards":            "69",
		"sofia_profile_name":      "internal",
	}
	for k, v := range want {
		if got := info.vars.get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	p := info.profile
	if p.DestinationNumber != "+15551234" || p.CallerIDNumber != "+15550002" || p.CallerIDName != "Robert" ||
		p.NetworkAddr != "198.51.100.2" || p.ANI != "+15550001" || p.ANIII != "62" || p.Source != "mod_sofia" {
		t.Errorf("profile %+v", p)
	}
	if info.chanID != "+15550001@example.com" {
		t.Errorf("chanID %q", info.chanID)
	}
}

func TestInviteInfoFallbacks(t *testing.T) {
	req := parseRequest(t, `INVITE sip:192.0.2.1 SIP/2.0
Via: SIP/2.0/TCP 198.51.100.2;branch=z9hG4bK1
From: <sip:198.51.100.2>;tag=1
To: <sip:192.0.2.1>
Call-ID: c
CSeq: 1 INVITE
Contact: <sip:198.51.100.2>
Content-Length: 0

`)
	info := inviteInfo(req, "p", netip.MustParseAddrPort("198.51.100.2:40000"), "tcp")
	if info.profile.DestinationNumber != "service" {
		t.Errorf("destination %q, want service", info.profile.DestinationNumber)
	}
	if got := info.vars.get("sip_from_user"); got != "nobody" {
		t.Errorf("sip_from_user %q", got)
	}
	if info.profile.CallerIDName != "unknown" {
		t.Errorf("caller id name %q", info.profile.CallerIDName)
	}
}

func TestIdentity(t *testing.T) {
	tests := []struct{ in, name, user string }{
		{`"Alice" <sip:alice@example.com>;party=calling`, "Alice", "alice"},
		{`<tel:+15551234>`, "", "+15551234"},
		{`sip:bob@example.com;tag=1`, "", "bob"},
		{`<sip:carol:secret@example.com>`, "", "carol"},
		{`"unterminated <sip:x@y`, "", ""},
		{``, "", ""},
		{`<sip:%24%7Bx%7D@h>`, "", "${x}"},
	}
	for _, tt := range tests {
		name, user := identity(tt.in)
		if name != tt.name || user != tt.user {
			t.Errorf("identity(%q) = %q, %q; want %q, %q", tt.in, name, user, tt.name, tt.user)
		}
	}
}

func TestInfoDigit(t *testing.T) {
	tests := []struct {
		ct, body string
		want     rune
		ok       bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', true},
		{"application/dtmf-relay; charset=x", "signal= #\r\n", '#', true},
		{"application/dtmf-relay", "Signal=11\r\n", '#', true},
		{"application/dtmf-relay", "Signal=10\r\n", '*', true},
		{"application/dtmf", "a", 'A', true},
		{"application/dtmf", "x", 0, false},
		{"application/dtmf-relay", "Duration=160", 0, false},
		{"text/plain", "5", 0, false},
	}
	for _, tt := range tests {
		got, ok := infoDigit(tt.ct, []byte(tt.body))
		if got != tt.want || ok != tt.ok {
			t.Errorf("infoDigit(%q, %q) = %q %v, want %q %v", tt.ct, tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func TestReasonHeader(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	tests := []struct {
		c    cause.Cause
		get  func(string) (string, bool)
		want string
	}{
		{cause.CNormalClearing, none, `Q.850;cause=16;text="NORMAL_CLEARING"`},
		{cause.CUserBusy, nil, `Q.850;cause=17;text="USER_BUSY"`},
		{cause.CMediaTimeout, none, `SIP;cause=804;text="MEDIA_TIMEOUT"`},
		{cause.CNormalClearing, func(n string) (string, bool) { return "true", n == "disable_q850_reason" }, ""},
		{cause.CNormalClearing, func(n string) (string, bool) { return "SIP;cause=600", n == "sip_reason" }, "SIP;cause=600"},
	}
	for _, tt := range tests {
		h := reasonHeader(tt.c, tt.get)
		got := ""
		if h != nil {
			got = h.Value()
		}
		if got != tt.want {
			t.Errorf("reason for %v = %q, want %q", tt.c, got, tt.want)
		}
	}
	for v, want := range map[string]cause.Cause{
		`Q.850;cause=17;text="USER_BUSY"`:   cause.CUserBusy,
		`SIP;cause=200, Q.850 ; cause = 31`: cause.CNormalUnspecified,
		`Q.850;cause=999`:                   0,
		`SIP;cause=487`:                     0,
		`Q.850;cause=abc`:                   0,
	} {
		got, ok := causeFromReason(v)
		if ok != (want != 0) || got != want {
			t.Errorf("causeFromReason(%q) = %v %v, want %v", v, got, ok, want)
		}
	}
}

func TestQuietWire(t *testing.T) {
	var buf strings.Builder
	base := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	l := sipgoLogger(base)
	l.Error("failed to parse", "data", "garbage")
	l.Error("listener broke", "err", "x")
	out := buf.String()
	if strings.Contains(out, "garbage") || !strings.Contains(out, "listener broke") || !strings.Contains(out, "component=sipgo") {
		t.Errorf("at info level, wire noise must be hidden and real errors kept:\n%s", out)
	}
	buf.Reset()
	dbg := sipgoLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	dbg.Error("failed to parse", "data", "garbage")
	if out := buf.String(); !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "data=garbage") {
		t.Errorf("at debug level, wire noise is logged at debug with its attributes:\n%s", out)
	}
}

// TestVarListItoa: itoa formats like strconv.Itoa, whatever it reuses.
func TestVarListItoa(t *testing.T) {
	l := newVarList(0)
	for _, n := range []int{5060, 5060, 40000, 5060, 0, 40000, -1, 99, 100, 65535, 5060} {
		if got := l.itoa(n); got != strconv.Itoa(n) {
			t.Errorf("itoa(%d) = %q", n, got)
		}
	}
}
