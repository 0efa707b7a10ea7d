package sip

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

const testDirectory = `
    <domain name="127.0.0.1">
      <variables><variable name="domain_var" value="from-domain"/></variables>
      <users>
        <user id="1000">
          <params><param name="password" value="secret"/></params>
          <variables>
            <variable name="user_context" value="default"/>
            <variable name="effective_caller_id_name" value="Extension 1000"/>
            <variable name="toll_allow" value="local"/>
          </variables>
        </user>
      </users>
    </domain>`

// register sends a REGISTER for user from u; contacts are Contact header
// values, auth an Authorization value ("" for none).
func register(u *uac, callID string, seq int, user string, expires string, auth string, contacts ...string) *sip.Response {
	u.t.Helper()
	return registerAt(u, "127.0.0.1", callID, seq, user, expires, auth, contacts...)
}

// registerAt is register with host as the domain of the REGISTER.
func registerAt(u *uac, host, callID string, seq int, user string, expires string, auth string, contacts ...string) *sip.Response {
	u.t.Helper()
	branch := newBranch()
	head := fmt.Sprintf(`REGISTER sip:%s SIP/2.0
Via: SIP/2.0/%s %s;branch=%s;rport
Max-Forwards: 70
From: <sip:%s@%s>;tag=regtag
To: <sip:%s@%s>
Call-ID: %s
CSeq: %d REGISTER
User-Agent: switchboard-test
`, host, u.transport(), u.local, branch, user, host, user, host, callID, seq)
	for _, c := range contacts {
		head += "Contact: " + c + "\n"
	}
	if expires != "" {
		head += "Expires: " + expires + "\n"
	}
	if auth != "" {
		head += "Authorization: " + auth + "\n"
	}
	u.send(head, "")
	return u.finalSeq(callID, uint32(seq), sip.REGISTER)
}

// respond answers a challenge header's value as a phone would.
func respond(t *testing.T, challenge, method, uri, user, password string) string {
	t.Helper()
	chal, err := digest.ParseChallenge(challenge)
	if err != nil {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	creds, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return creds.String()
}

func headerValue(m *sip.Response, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

func TestRegister(t *testing.T) {
	env := newEnv(t, envOpts{directory: testDirectory})
	u := newUAC(t, env, "udp")
	callID := "reg-1@test"
	c1 := "<sip:1000@127.0.0.1:5070>"
	c2 := "<sip:1000@127.0.0.1:5071;transport=tcp>"
	r := register(u, callID, 1, "1000", "120", "", c1)
	if r.StatusCode != 401 {
		t.Fatalf("no credentials: %d, want 401", r.StatusCode)
	}
	chal := headerValue(r, "WWW-Authenticate")
	if !strings.Contains(chal, `realm="127.0.0.1"`) || !strings.Contains(chal, "qop=") {
		t.Fatalf("challenge %q", chal)
	}
	// One challenge answers them all, with the nonce count going up as a
	// phone's does (the same count twice is a replay).
	nc := 0
	auth := func() string { nc++; return respondCount(t, chal, "REGISTER", "sip:127.0.0.1", "1000", "secret", nc) }
	tests := []struct {
		name     string
		expires  string
		contacts []string
		code     int
		want     []string // the registrar's contacts afterwards
	}{
		{"first contact", "120", []string{c1}, 200, []string{"sip:1000@127.0.0.1:5070"}},
		{"second contact", "", []string{c2 + ";expires=300"}, 200, []string{"sip:1000@127.0.0.1:5070", "sip:1000@127.0.0.1:5071;transport=tcp"}},
		{"too brief", "10", []string{c1}, 423, []string{"sip:1000@127.0.0.1:5070", "sip:1000@127.0.0.1:5071;transport=tcp"}},
		{"query", "", nil, 200, []string{"sip:1000@127.0.0.1:5070", "sip:1000@127.0.0.1:5071;transport=tcp"}},
		{"unregister one", "0", []string{c1}, 200, []string{"sip:1000@127.0.0.1:5071;transport=tcp"}},
		{"wildcard needs expires 0", "60", []string{"*"}, 400, []string{"sip:1000@127.0.0.1:5071;transport=tcp"}},
		{"unregister all", "0", []string{"*"}, 200, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := register(u, callID, i+2, "1000", tt.expires, auth(), tt.contacts...)
			if r.StatusCode != tt.code {
				t.Fatalf("got %d, want %d", r.StatusCode, tt.code)
			}
			got := uris(env.ep.Registrar().Contacts("1000", "127.0.0.1"))
			sort.Strings(got)
			if !equalStrings(got, tt.want) {
				t.Fatalf("contacts %v, want %v", got, tt.want)
			}
			if tt.code == 200 && len(r.GetHeaders("Contact")) != len(tt.want) {
				t.Errorf("the 200 lists %d contacts, want %d", len(r.GetHeaders("Contact")), len(tt.want))
			}
			if tt.code == 423 && headerValue(r, "Min-Expires") != "60" {
				t.Errorf("Min-Expires %q", headerValue(r, "Min-Expires"))
			}
		})
	}
	if v := headerValue(register(u, callID, 50, "1000", "120", auth(), c1), "Contact"); !strings.Contains(v, "expires=120") {
		t.Errorf("200's Contact %q lacks expires=120", v)
	}
}

// TestRegisterNoEnumeration: an unknown user and a known user with a
// wrong password get the same answer at every step.
func TestRegisterNoEnumeration(t *testing.T) {
	env := newEnv(t, envOpts{directory: testDirectory})
	u := newUAC(t, env, "udp")
	shape := func(user string, seq int) []string {
		r := register(u, "enum@test", seq, user, "120", "", "<sip:x@127.0.0.1:5070>")
		chal := headerValue(r, "WWW-Authenticate")
		first := normalize(r)
		r = register(u, "enum@test", seq+1, user, "120", respond(t, chal, "REGISTER", "sip:127.0.0.1", user, "wrong"), "<sip:x@127.0.0.1:5070>")
		if r.StatusCode != 403 {
			t.Errorf("%s with a wrong password: %d, want 403", user, r.StatusCode)
		}
		return append(first, normalize(r)...)
	}
	known, unknown := shape("1000", 1), shape("9999", 10)
	if !equalStrings(known, unknown) {
		t.Errorf("known and unknown users are told apart:\n%q\n%q", known, unknown)
	}
}

// normalize keeps what a response says, not what it echoes: status,
// and every header but the ones copied from the request, with nonces
// masked.
func normalize(r *sip.Response) []string {
	out := []string{fmt.Sprint(r.StatusCode, " ", r.Reason)}
	for _, h := range r.Headers() {
		switch strings.ToLower(h.Name()) {
		case "via", "from", "to", "call-id", "cseq", "content-length":
			continue
		}
		v := h.Value()
		if i := strings.Index(v, `nonce="`); i >= 0 {
			j := strings.Index(v[i+7:], `"`)
			v = v[:i+7] + "N" + v[i+7+j:]
		}
		out = append(out, h.Name()+": "+v)
	}
	return out
}

func TestAuthThrottle(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	env := newEnv(t, envOpts{directory: testDirectory, auth: AuthConfig{MaxFailures: 3, Now: clk.now}})
	u := newUAC(t, env, "udp")
	r := register(u, "thr@test", 1, "1000", "120", "", "<sip:1000@127.0.0.1:5070>")
	chal := headerValue(r, "WWW-Authenticate")
	for i := 0; i < 3; i++ {
		if r := register(u, "thr@test", 2+i, "1000", "120", respond(t, chal, "REGISTER", "sip:127.0.0.1", "1000", "guess"), "<sip:1000@127.0.0.1:5070>"); r.StatusCode != 403 {
			t.Fatalf("failure %d: %d", i, r.StatusCode)
		}
	}
	good := func(seq int) int {
		return register(u, "thr@test", seq, "1000", "120", respond(t, chal, "REGISTER", "sip:127.0.0.1", "1000", "secret"), "<sip:1000@127.0.0.1:5070>").StatusCode
	}
	if code := good(10); code != 403 {
		t.Fatalf("throttled source with the right password: %d, want 403", code)
	}
	clk.advance(DefaultFailureWindow + time.Second)
	r = register(u, "thr@test", 11, "1000", "120", "", "<sip:1000@127.0.0.1:5070>")
	chal = headerValue(r, "WWW-Authenticate")
	if code := good(12); code != 200 {
		t.Fatalf("after the window: %d, want 200", code)
	}
}

func TestInviteAuth(t *testing.T) {
	lan := `<list name="lan" default="deny"><node type="allow" cidr="10.0.0.0/8"/></list>`
	env := newEnv(t, envOpts{acl: lan, directory: testDirectory, settings: `<param name="apply-inbound-acl" value="lan"/>`})
	u := newUAC(t, env, "udp")

	t.Run("wrong password", func(t *testing.T) {
		d := u.dialog("park")
		d.invite(d.offer("0"))
		r := u.final(d.callID, sip.INVITE)
		if r.StatusCode != 407 {
			t.Fatalf("got %d, want 407", r.StatusCode)
		}
		d.ack(r, "")
		d.cseq++
		d.invite(d.offer("0"), "Proxy-Authorization: "+respond(t, headerValue(r, "Proxy-Authenticate"), "INVITE", d.target(), "1000", "guess"))
		r = u.finalSeq(d.callID, uint32(d.cseq), sip.INVITE)
		if r.StatusCode != 403 {
			t.Fatalf("got %d, want 403", r.StatusCode)
		}
		d.ack(r, "")
	})
	t.Run("authenticated", func(t *testing.T) {
		d := u.dialog("park")
		d.invite(d.offer("0"))
		r := u.final(d.callID, sip.INVITE)
		if r.StatusCode != 407 {
			t.Fatalf("got %d, want 407", r.StatusCode)
		}
		d.ack(r, "")
		d.cseq++
		d.invite(d.offer("0"), "Proxy-Authorization: "+respond(t, headerValue(r, "Proxy-Authenticate"), "INVITE", d.target(), "1000", "secret"))
		if r := u.finalSeq(d.callID, uint32(d.cseq), sip.INVITE); r.StatusCode != 200 {
			t.Fatalf("got %d, want 200", r.StatusCode)
		} else {
			d.toTag, _ = r.To().Params.Get("tag")
			d.ack(r, "")
		}
		s := env.sessionFor(d.callID)
		if s == nil {
			t.Fatal("no session")
		}
		if c := s.Profile().Context; c != "default" {
			t.Errorf("context %q, want the user_context", c)
		}
		for k, want := range map[string]string{
			"sip_authorized": "true", "sip_auth_username": "1000", "sip_auth_realm": "127.0.0.1",
			"effective_caller_id_name": "Extension 1000", "toll_allow": "local", "domain_var": "from-domain", "user_name": "1000",
		} {
			if v, _ := s.Vars().Get(k); v != want {
				t.Errorf("%s = %q, want %q", k, v, want)
			}
		}
		d.request("BYE", "")
		d.resp(sip.BYE, 200)
	})
}

func TestRegisterProfileParams(t *testing.T) {
	t.Run("force-register-domain", func(t *testing.T) {
		env := newEnv(t, envOpts{directory: testDirectory, settings: `<param name="force-register-domain" value="127.0.0.1"/>`})
		u := newUAC(t, env, "udp")
		r := registerAt(u, "pbx.alias", "frd@test", 1, "1000", "120", "", "<sip:1000@127.0.0.1:5070>")
		chal := headerValue(r, "WWW-Authenticate")
		if r.StatusCode != 401 || !strings.Contains(chal, `realm="pbx.alias"`) {
			t.Fatalf("got %d %q, want a challenge for the To host", r.StatusCode, chal)
		}
		r = registerAt(u, "pbx.alias", "frd@test", 2, "1000", "120", respond(t, chal, "REGISTER", "sip:pbx.alias", "1000", "secret"), "<sip:1000@127.0.0.1:5070>")
		if r.StatusCode != 200 {
			t.Fatalf("got %d, want 200", r.StatusCode)
		}
		if got := uris(env.ep.Registrar().Contacts("1000", "127.0.0.1")); len(got) != 1 {
			t.Errorf("contacts under the forced domain: %v", got)
		}
	})
	t.Run("disable-register", func(t *testing.T) {
		env := newEnv(t, envOpts{directory: testDirectory, settings: `<param name="disable-register" value="true"/>`})
		u := newUAC(t, env, "udp")
		if r := register(u, "dr@test", 1, "1000", "120", "", "<sip:1000@127.0.0.1:5070>"); r.StatusCode != 403 {
			t.Errorf("got %d, want 403", r.StatusCode)
		}
	})
	t.Run("unknown domain is challenged all the same", func(t *testing.T) {
		env := newEnv(t, envOpts{directory: testDirectory})
		u := newUAC(t, env, "udp")
		r := registerAt(u, "nowhere.test", "ud@test", 1, "1000", "120", "", "<sip:1000@127.0.0.1:5070>")
		if r.StatusCode != 401 {
			t.Fatalf("got %d, want 401", r.StatusCode)
		}
		r = registerAt(u, "nowhere.test", "ud@test", 2, "1000", "120", respond(t, headerValue(r, "WWW-Authenticate"), "REGISTER", "sip:nowhere.test", "1000", "secret"), "<sip:1000@127.0.0.1:5070>")
		if r.StatusCode != 403 {
			t.Fatalf("got %d, want 403", r.StatusCode)
		}
	})
}

// TestChallengeUsesNoCallSlot: with one session per second, a challenge
// and a refusal leave the slot to the authenticated INVITE.
func TestChallengeUsesNoCallSlot(t *testing.T) {
	lan := `<list name="lan" default="deny"><node type="allow" cidr="10.0.0.0/8"/></list>`
	env := newEnv(t, envOpts{acl: lan, directory: testDirectory, sps: 1, settings: `<param name="apply-inbound-acl" value="lan"/>`})
	u := newUAC(t, env, "udp")
	d := u.dialog("park")
	d.invite(d.offer("0"))
	r := u.final(d.callID, sip.INVITE)
	if r.StatusCode != 407 {
		t.Fatalf("got %d, want 407", r.StatusCode)
	}
	d.ack(r, "")
	chal := headerValue(r, "Proxy-Authenticate")
	d.cseq++
	d.invite(d.offer("0"), "Proxy-Authorization: "+respond(t, chal, "INVITE", d.target(), "1000", "guess"))
	r = u.finalSeq(d.callID, uint32(d.cseq), sip.INVITE)
	if r.StatusCode != 403 {
		t.Fatalf("got %d, want 403", r.StatusCode)
	}
	d.ack(r, "")
	d.cseq++
	d.invite(d.offer("0"), "Proxy-Authorization: "+respond(t, chal, "INVITE", d.target(), "1000", "secret"))
	r = u.finalSeq(d.callID, uint32(d.cseq), sip.INVITE)
	if r.StatusCode != 200 {
		t.Fatalf("got %d, want 200", r.StatusCode)
	}
	d.toTag, _ = r.To().Params.Get("tag")
	d.ack(r, "")
	d.request("BYE", "")
	d.resp(sip.BYE, 200)
}
