package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// testSessionUnit makes RFC 4028 seconds 20 ms long: Session-Expires 90
// refreshes after 0.9 s and expires (less a tenth) after 1.62 s.
const testSessionUnit = 20 * time.Millisecond

func TestReadTimerHeaders(t *testing.T) {
	tests := []struct {
		name string
		hdrs []sip.Header
		want timerHeaders
	}{
		{"none", nil, timerHeaders{}},
		{"full", []sip.Header{
			sip.NewHeader("Session-Expires", "1800;refresher=UAC"),
			sip.NewHeader("Min-SE", "90"),
			sip.NewHeader("Supported", "replaces, timer"),
			sip.NewHeader("Require", "timer"),
		}, timerHeaders{expires: 1800, refresher: "uac", minSE: 90, supported: true, required: true}},
		{"compact", []sip.Header{sip.NewHeader("x", " 600 ; refresher = uas"), sip.NewHeader("k", "timer")}, timerHeaders{expires: 600, refresher: "uas", supported: true}},
		{"other option tags", []sip.Header{sip.NewHeader("Supported", "timers, 100rel")}, timerHeaders{}},
		{"bad", []sip.Header{sip.NewHeader("Session-Expires", "soon"), sip.NewHeader("Min-SE", "-1")}, timerHeaders{bad: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "example.com"})
			for _, h := range tt.hdrs {
				req.AppendHeader(h)
			}
			if got := readTimerHeaders(req); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNegotiateUAS(t *testing.T) {
	def := timerPrefs{enabled: true, minSE: 120}
	tests := []struct {
		name string
		tp   timerPrefs
		th   timerHeaders
		want timerDeal
	}{
		{"nothing asked, nothing offered", def, timerHeaders{}, timerDeal{}},
		{"UAC asks, supports: the UAC refreshes", def, timerHeaders{expires: 1800, supported: true}, timerDeal{interval: 1800, uacRefreshes: true}},
		{"UAC names itself", def, timerHeaders{expires: 1800, refresher: "uac", supported: true}, timerDeal{interval: 1800, uacRefreshes: true}},
		{"UAC names us", def, timerHeaders{expires: 1800, refresher: "uas", supported: true}, timerDeal{interval: 1800, weRefresh: true}},
		{"Require without refresher: we refresh", def, timerHeaders{expires: 1800, supported: true, required: true}, timerDeal{interval: 1800, weRefresh: true}},
		{"UAC without support: we refresh", def, timerHeaders{expires: 1800}, timerDeal{interval: 1800, weRefresh: true}},
		{"below Min-SE without support: raised", def, timerHeaders{expires: 60}, timerDeal{interval: 120, weRefresh: true}},
		{"their Min-SE counts", def, timerHeaders{expires: 150, minSE: 200, supported: true}, timerDeal{interval: 200, uacRefreshes: true}},
		{"ours caps theirs", timerPrefs{enabled: true, expires: 600, minSE: 120}, timerHeaders{expires: 1800, supported: true}, timerDeal{interval: 600, uacRefreshes: true}},
		{"ours when they ask none", timerPrefs{enabled: true, expires: 600, minSE: 120}, timerHeaders{}, timerDeal{interval: 600, weRefresh: true}},
		{"ours, they support", timerPrefs{enabled: true, expires: 600, minSE: 120}, timerHeaders{supported: true}, timerDeal{interval: 600, uacRefreshes: true}},
		{"disabled", timerPrefs{expires: 600, minSE: 120}, timerHeaders{expires: 1800, supported: true}, timerDeal{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tp.negotiateUAS(tt.th); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNegotiateUAC(t *testing.T) {
	tp := timerPrefs{enabled: true, expires: 1800, minSE: 90}
	tests := []struct {
		name  string
		th    timerHeaders // of the 2xx
		asked int
		want  timerDeal
	}{
		{"the UAS ignores timers: we refresh what we asked", timerHeaders{}, 1800, timerDeal{interval: 1800, weRefresh: true, uacRefreshes: true}},
		{"refresher=uac", timerHeaders{expires: 900, refresher: "uac", required: true}, 1800, timerDeal{interval: 900, weRefresh: true, uacRefreshes: true}},
		{"refresher=uas", timerHeaders{expires: 900, refresher: "uas", supported: true}, 1800, timerDeal{interval: 900}},
		{"no timer asked or answered", timerHeaders{}, 0, timerDeal{interval: 1800, weRefresh: true, uacRefreshes: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tp.negotiateUAC(tt.th, tt.asked); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := (timerPrefs{enabled: true, minSE: 90}).negotiateUAC(timerHeaders{}, 0); got != (timerDeal{}) {
		t.Errorf("no interval anywhere: %+v", got)
	}
}

// TestSessionTimerInvite: what an INVITE's Session-Expires gets, per
// profile settings: 422 with Min-SE, or a 200 naming the interval and
// the refresher.
func TestSessionTimerInvite(t *testing.T) {
	tests := []struct {
		name     string
		settings string
		extra    []string
		code     int
		minSE    string // Min-SE of a 422
		se       string // Session-Expires of the 200 ("" none)
		require  bool   // Require: timer in the 200
	}{
		{"too brief", "", []string{"Session-Expires: 60", "Supported: timer"}, 422, "120", "", false},
		{"too brief, timers unsupported: raised, we refresh", "", []string{"Session-Expires: 60"}, 200, "", "120;refresher=uas", false},
		{"Min-SE never below 90", `<param name="minimum-session-expires" value="30"/>`, []string{"Session-Expires: 60", "Supported: timer"}, 422, "90", "", false},
		{"minimum-session-expires set: 422 even unsupported", `<param name="minimum-session-expires" value="100"/>`, []string{"Session-Expires: 60"}, 422, "100", "", false},
		{"accepted, the UAC refreshes", "", []string{"Session-Expires: 1800", "Supported: timer"}, 200, "", "1800;refresher=uac", true},
		{"the UAC asks us to refresh", "", []string{"Session-Expires: 1800;refresher=uas", "Supported: timer"}, 200, "", "1800;refresher=uas", false},
		{"Require: timer is understood", "", []string{"Session-Expires: 1800", "Supported: timer", "Require: timer"}, 200, "", "1800;refresher=uas", false},
		{"session-timeout caps it", `<param name="session-timeout" value="600"/>`, []string{"Session-Expires: 1800", "Supported: timer"}, 200, "", "600;refresher=uac", true},
		{"session-timeout when none asked", `<param name="session-timeout" value="600"/>`, nil, 200, "", "600;refresher=uas", false},
		{"no timer at all", "", nil, 200, "", "", false},
		{"enable-timer=false ignores it", `<param name="enable-timer" value="false"/>`, []string{"Session-Expires: 60", "Supported: timer"}, 200, "", "", false},
		{"enable-timer=false: Require: timer is unsupported", `<param name="enable-timer" value="false"/>`, []string{"Require: timer"}, 420, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, envOpts{settings: tt.settings})
			u := newUAC(t, env, "udp")
			d := u.dialog("park")
			d.invite(d.offer("0"), tt.extra...)
			res := d.u.final(d.callID, sip.INVITE)
			if res.StatusCode != tt.code {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.code)
			}
			if tt.code != 200 {
				d.ack(res, "")
				if got := header(res, "Min-SE"); got != tt.minSE {
					t.Errorf("Min-SE %q, want %q", got, tt.minSE)
				}
				if tt.code == 422 && env.mgr.Count() != 0 {
					t.Error("a 422 left a session behind")
				}
				return
			}
			d.toTag, _ = res.To().Params.Get("tag")
			d.ack(res, "")
			if got := header(res, "Session-Expires"); got != tt.se {
				t.Errorf("Session-Expires %q, want %q", got, tt.se)
			}
			if got := hasOptionTag(header(res, "Require"), "timer"); got != tt.require {
				t.Errorf("Require: timer %v, want %v", got, tt.require)
			}
			if tt.se != "" && !hasOptionTag(header(res, "Supported"), "timer") {
				t.Error("no Supported: timer")
			}
			d.request("BYE", "")
			d.resp(sip.BYE, 200)
		})
	}
}

// pendingRequest reports whether u has already received (and kept) a
// request of method in the call.
func pendingRequest(u *uac, callID string, method sip.RequestMethod) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, m := range u.pending {
		if r, ok := m.(*sip.Request); ok && r.Method == method && r.CallID() != nil && r.CallID().Value() == callID {
			return true
		}
	}
	return false
}

// TestSessionTimerFarEndRefreshes: the far end refreshes with re-INVITEs
// (each answered with the interval); once it stops, we send BYE before
// the session expires.
func TestSessionTimerFarEndRefreshes(t *testing.T) {
	env := newEnv(t, envOpts{sessionUnit: testSessionUnit, settings: `<param name="minimum-session-expires" value="90"/>`})
	u := newUAC(t, env, "udp")
	d := u.dialog("park")
	d.invite(d.offer("0"), "Session-Expires: 90", "Supported: timer")
	res := d.expectAnswer()
	if got := header(res, "Session-Expires"); got != "90;refresher=uac" {
		t.Fatalf("Session-Expires %q", got)
	}
	s := env.sessionFor(d.callID)
	if s == nil {
		t.Fatal("no session")
	}
	// Refresh three times, 30 units apart: 90 units in all, past the 81
	// the first interval would have allowed.
	for i := 0; i < 3; i++ {
		time.Sleep(30 * testSessionUnit)
		d.request("INVITE", d.offer("0"), "Session-Expires: 90;refresher=uac", "Supported: timer")
		r := d.resp(sip.INVITE, 200)
		if got := header(r, "Session-Expires"); got != "90;refresher=uac" {
			t.Errorf("refresh %d: Session-Expires %q", i, got)
		}
		d.ack(r, "")
		if pendingRequest(u, d.callID, sip.BYE) {
			t.Fatalf("BYE during the refreshes (refresh %d)", i)
		}
	}
	bye := u.request(d.callID, sip.BYE)
	if r := header(bye, "Reason"); r != sessionTimeoutReason {
		t.Errorf("BYE Reason %q", r)
	}
	u.answerRequest(bye, 200)
	waitEnded(t, s)
	if c := s.HangupCause(); c != cause.CNormalClearing {
		t.Errorf("cause %s", c)
	}
}

// TestSessionTimerWeRefresh: with session-timeout and a caller that does
// not do timers, we refresh at half the interval with the SDP we sent
// (same version); a 481 to the refresh ends the call.
func TestSessionTimerWeRefresh(t *testing.T) {
	env := newEnv(t, envOpts{sessionUnit: testSessionUnit, settings: `<param name="session-timeout" value="90"/><param name="minimum-session-expires" value="90"/>`})
	u := newUAC(t, env, "udp")
	d := u.dialog("park")
	d.invite(d.offer("0"))
	res := d.expectAnswer()
	if got := header(res, "Session-Expires"); got != "90;refresher=uas" {
		t.Fatalf("Session-Expires %q", got)
	}
	s := env.sessionFor(d.callID)
	for i := 0; i < 2; i++ {
		re := u.request(d.callID, sip.INVITE)
		if string(re.Body()) != string(res.Body()) {
			t.Errorf("refresh %d offers another SDP:\n%s\nthan the 200's:\n%s", i, re.Body(), res.Body())
		}
		if got := header(re, "Session-Expires"); got != "90;refresher=uac" {
			t.Errorf("refresh %d: Session-Expires %q", i, got)
		}
		if tag, _ := re.From().Params.Get("tag"); tag != d.toTag {
			t.Errorf("refresh From tag %q, want %q", tag, d.toTag)
		}
		if i == 1 {
			u.answerRequest(re, 481)
			break
		}
		ok := sip.NewResponseFromRequest(re, 200, "OK", []byte(d.offer("0")))
		ok.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		ok.AppendHeader(sip.NewHeader("Session-Expires", "90;refresher=uac"))
		ok.AppendHeader(sip.NewHeader("Contact", "<sip:1000@"+u.local.String()+">"))
		u.rawSend([]byte(ok.String()))
		ack := u.request(d.callID, sip.ACK)
		if ack.CSeq().SeqNo != re.CSeq().SeqNo {
			t.Errorf("ACK CSeq %d, re-INVITE %d", ack.CSeq().SeqNo, re.CSeq().SeqNo)
		}
	}
	bye := u.request(d.callID, sip.BYE)
	u.answerRequest(bye, 200)
	waitEnded(t, s)
	if c := s.HangupCause(); c != cause.CNormalTemporaryFailure {
		t.Errorf("cause %s", c)
	}
}

// legOf finds the leg of an inbound call by its Call-ID.
func legOf(t *testing.T, env *testEnv, callID string) *leg {
	t.Helper()
	var found *leg
	for _, p := range env.ep.profiles {
		p.calls.Range(func(_, v any) bool {
			if c, ok := v.(*call); ok && c.callID == callID {
				found = &c.leg
				return false
			}
			return true
		})
	}
	if found == nil {
		t.Fatalf("no call %s", callID)
	}
	return found
}

// TestSessionTimerReinvite: a re-INVITE asking for too brief a session
// gets 422 and changes nothing; one asking for none turns the timer off.
func TestSessionTimerReinvite(t *testing.T) {
	env := newEnv(t, envOpts{settings: `<param name="minimum-session-expires" value="90"/>`})
	u := newUAC(t, env, "udp")
	d := u.dialog("park")
	d.invite(d.offer("0"), "Session-Expires: 1800", "Supported: timer")
	d.expectAnswer()
	l := legOf(t, env, d.callID)
	if iv, we := l.st.current(); iv != 1800 || we {
		t.Fatalf("timer %d (we refresh %v)", iv, we)
	}
	d.request("INVITE", d.offer("0"), "Session-Expires: 30", "Supported: timer")
	r := d.final(sip.INVITE)
	if r.StatusCode != 422 || header(r, "Min-SE") != "90" {
		t.Fatalf("%d, Min-SE %q", r.StatusCode, header(r, "Min-SE"))
	}
	d.ack(r, "")
	if iv, _ := l.st.current(); iv != 1800 {
		t.Errorf("timer %d after a 422", iv)
	}
	d.request("INVITE", d.offer("0"), "Session-Expires: 600;refresher=uas", "Supported: timer")
	r = d.resp(sip.INVITE, 200)
	d.ack(r, "")
	if se := header(r, "Session-Expires"); se != "600;refresher=uas" {
		t.Errorf("Session-Expires %q", se)
	}
	if iv, we := l.st.current(); iv != 600 || !we {
		t.Errorf("timer %d (we refresh %v), want 600 by us", iv, we)
	}
	d.request("INVITE", d.offer("0"))
	r = d.resp(sip.INVITE, 200)
	d.ack(r, "")
	if se := header(r, "Session-Expires"); se != "" {
		t.Errorf("Session-Expires %q after a re-INVITE without one", se)
	}
	if iv, _ := l.st.current(); iv != 0 {
		t.Errorf("timer %d after a re-INVITE without Session-Expires", iv)
	}
	d.request("BYE", "")
	d.resp(sip.BYE, 200)
}

// TestSessionTimerOutbound: an outbound leg asks for session-timeout and
// follows the refresher the 2xx names: it refreshes (refresher=uac), or
// sends BYE when the far end does not (refresher=uas). A 422 is retried
// once with the far end's Min-SE.
func TestSessionTimerOutbound(t *testing.T) {
	settings := `<param name="session-timeout" value="90"/><param name="minimum-session-expires" value="90"/>`
	t.Run("we refresh", func(t *testing.T) {
		env := newEnv(t, envOpts{sessionUnit: testSessionUnit, settings: settings})
		uas := newFakeUAS(t, "udp")
		oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000")})
		inv := uas.request(sip.INVITE)
		if got := header(inv, "Session-Expires"); got != "90;refresher=uac" {
			t.Errorf("INVITE Session-Expires %q", got)
		}
		if header(inv, "Min-SE") != "90" || !hasOptionTag(header(inv, "Supported"), "timer") {
			t.Errorf("INVITE Min-SE %q Supported %q", header(inv, "Min-SE"), header(inv, "Supported"))
		}
		uas.respond(inv, 200, uas.sdp("0"), sip.NewHeader("Session-Expires", "90;refresher=uac"), sip.NewHeader("Require", "timer"))
		uas.request(sip.ACK)
		if p := nextProgress(t, oc); p.Kind != session.ProgressAnswered {
			t.Fatalf("progress %+v", p)
		}
		re := uas.request(sip.INVITE)
		if re.CSeq().SeqNo <= inv.CSeq().SeqNo || header(re, "Session-Expires") != "90;refresher=uac" {
			t.Errorf("refresh CSeq %d (INVITE %d), Session-Expires %q", re.CSeq().SeqNo, inv.CSeq().SeqNo, header(re, "Session-Expires"))
		}
		if !strings.Contains(string(re.Body()), "a=sendrecv") || string(re.Body()) != string(inv.Body()) {
			t.Errorf("refresh SDP:\n%s\nINVITE SDP:\n%s", re.Body(), inv.Body())
		}
		uas.respond(re, 200, uas.sdp("0"), sip.NewHeader("Session-Expires", "90;refresher=uac"))
		if ack := uas.request(sip.ACK); ack.CSeq().SeqNo != re.CSeq().SeqNo {
			t.Errorf("ACK CSeq %d, refresh %d", ack.CSeq().SeqNo, re.CSeq().SeqNo)
		}
		hangupAnswered(t, oc, uas)
	})
	t.Run("they refresh, then stop", func(t *testing.T) {
		env := newEnv(t, envOpts{sessionUnit: testSessionUnit, settings: settings})
		uas := newFakeUAS(t, "udp")
		st := vars.NewStore()
		oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000"), Vars: st})
		s := env.mgr.NewInbound(session.Inbound{Endpoint: oc, Store: st, Profile: &caller.Profile{DestinationNumber: "park", Context: "default"}})
		oc.Bind(s)
		s.Start()
		inv := uas.request(sip.INVITE)
		uas.respond(inv, 200, uas.sdp("0"), sip.NewHeader("Session-Expires", "90;refresher=uas"), sip.NewHeader("Supported", "timer"))
		uas.request(sip.ACK)
		bye := uas.request(sip.BYE)
		if r := header(bye, "Reason"); r != sessionTimeoutReason {
			t.Errorf("BYE Reason %q", r)
		}
		uas.respond(bye, 200, "")
		waitEnded(t, s)
		if c := s.HangupCause(); c != cause.CNormalClearing {
			t.Errorf("cause %s", c)
		}
	})
	t.Run("422", func(t *testing.T) {
		env := newEnv(t, envOpts{sessionUnit: testSessionUnit, settings: settings})
		uas := newFakeUAS(t, "udp")
		oc := outDial(t, env.ep, session.DialRequest{Target: uas.target("internal", "1000")})
		inv := uas.request(sip.INVITE)
		uas.respond(inv, 422, "", sip.NewHeader("Min-SE", "300"))
		uas.request(sip.ACK)
		again := uas.request(sip.INVITE)
		if got := header(again, "Session-Expires"); got != "300;refresher=uac" || header(again, "Min-SE") != "300" {
			t.Errorf("second INVITE Session-Expires %q Min-SE %q", got, header(again, "Min-SE"))
		}
		if again.CSeq().SeqNo != inv.CSeq().SeqNo+1 || len(again.GetHeaders("Supported")) != 1 {
			t.Errorf("second INVITE CSeq %d (first %d), Supported %v", again.CSeq().SeqNo, inv.CSeq().SeqNo, again.GetHeaders("Supported"))
		}
		uas.respond(again, 486, "")
		uas.request(sip.ACK)
		if p := nextProgress(t, oc); p.Kind != session.ProgressFailed || p.Code != 486 {
			t.Fatalf("progress %+v", p)
		}
	})
}
