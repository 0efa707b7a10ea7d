package sip

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/switchboard-voip/switchboard/conf"
)

// fakeClock is a settable clock for the authenticator and registrar,
// safe to read from the endpoint's goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestDigestResponseVectors(t *testing.T) {
	tests := []struct {
		name                                       string
		ha1, method, uri, nonce, qop, cnonce, want string
		nc                                         int
	}{
		{
			// RFC 2617 §3.5.
			name: "rfc2617 qop=auth",
			ha1:  md5hex("Mufasa:testrealm@host.com:Circle Of Life"), method: "GET", uri: "/dir/index.html",
			nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", qop: "auth", cnonce: "0a4f113b", nc: 1,
			want: "6629fae49393a05397450978507c4ef1",
		},
		{
			// RFC 7616 §3.9.1, MD5.
			name: "rfc7616 md5",
			ha1:  md5hex("Mufasa:http-auth@example.org:Circle of Life"), method: "GET", uri: "/dir/index.html",
			nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", qop: "auth",
			cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nc: 1,
			want: "8ca523f5e9506fed4657c9700eebdbec",
		},
		{
			// RFC 2069 (no qop): MD5(HA1:nonce:HA2).
			name: "no qop",
			ha1:  "939e7578ed9e3c518a452acee763bce9", method: "GET", uri: "/dir/index.html",
			nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
			want:  md5hex("939e7578ed9e3c518a452acee763bce9:dcd98b7102dd2f0e8b11d0f600bfb0c093:" + md5hex("GET:/dir/index.html")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DigestResponse(tt.ha1, tt.method, tt.uri, tt.nonce, tt.qop, tt.cnonce, tt.nc); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func testDomain() *conf.Domain {
	return &conf.Domain{Name: "pbx.test", Users: []conf.User{
		{ID: "1000", Domain: "pbx.test", Params: map[string]string{"password": "secret"}},
		{ID: "1001", Domain: "pbx.test", Params: map[string]string{"a1-hash": md5hex("1001:pbx.test:hashed")}},
	}}
}

// answer builds the credentials a phone sends for a challenge's nonce.
func answer(user, realm, password, method, nonce string) *Credentials {
	c := &Credentials{Username: user, Realm: realm, Nonce: nonce, URI: "sip:" + realm, QOP: "auth", Cnonce: "abcdef", Nc: 1, Algorithm: "MD5"}
	c.Response = DigestResponse(md5hex(user+":"+realm+":"+password), method, c.URI, nonce, c.QOP, c.Cnonce, c.Nc)
	return c
}

func TestAuthenticatorCheck(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a, err := NewAuthenticator(AuthConfig{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewAuthenticator(AuthConfig{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	d := testDomain()
	tests := []struct {
		name  string
		creds func() *Credentials
		realm string
		age   time.Duration
		want  AuthResult
		user  string
	}{
		{"no credentials", func() *Credentials { return nil }, "pbx.test", 0, AuthNone, ""},
		{"good password", func() *Credentials { return answer("1000", "pbx.test", "secret", "REGISTER", a.Nonce("pbx.test")) }, "pbx.test", 0, AuthOK, "1000"},
		{"a1-hash", func() *Credentials { return answer("1001", "pbx.test", "hashed", "REGISTER", a.Nonce("pbx.test")) }, "pbx.test", 0, AuthOK, "1001"},
		{"wrong password", func() *Credentials { return answer("1000", "pbx.test", "guess", "REGISTER", a.Nonce("pbx.test")) }, "pbx.test", 0, AuthFailed, ""},
		{"unknown user", func() *Credentials { return answer("2000", "pbx.test", "secret", "REGISTER", a.Nonce("pbx.test")) }, "pbx.test", 0, AuthFailed, ""},
		{"wrong method", func() *Credentials { return answer("1000", "pbx.test", "secret", "INVITE", a.Nonce("pbx.test")) }, "pbx.test", 0, AuthFailed, ""},
		{"other realm's credentials", func() *Credentials { return answer("1000", "elsewhere", "secret", "REGISTER", a.Nonce("elsewhere")) }, "pbx.test", 0, AuthNone, ""},
		{"nonce for another realm", func() *Credentials { return answer("1000", "pbx.test", "secret", "REGISTER", a.Nonce("elsewhere")) }, "pbx.test", 0, AuthNone, ""},
		{"nonce of another server", func() *Credentials { return answer("1000", "pbx.test", "secret", "REGISTER", other.Nonce("pbx.test")) }, "pbx.test", 0, AuthNone, ""},
		{"forged nonce", func() *Credentials { return answer("1000", "pbx.test", "secret", "REGISTER", "deadbeef") }, "pbx.test", 0, AuthNone, ""},
		{"expired nonce", func() *Credentials { return answer("1000", "pbx.test", "secret", "REGISTER", a.Nonce("pbx.test")) }, "pbx.test", DefaultNonceTTL + time.Second, AuthStale, ""},
		{"expired nonce, wrong password", func() *Credentials { return answer("1000", "pbx.test", "guess", "REGISTER", a.Nonce("pbx.test")) }, "pbx.test", DefaultNonceTTL + time.Second, AuthFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := tt.creds()
			clk.advance(tt.age)
			defer clk.advance(-tt.age)
			got, u := a.Check(creds, "REGISTER", tt.realm, d)
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if (u == nil) != (tt.user == "") || (u != nil && u.ID != tt.user) {
				t.Errorf("user %v, want %q", u, tt.user)
			}
		})
	}
}

func TestChallengeHeader(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a, err := NewAuthenticator(AuthConfig{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, stale := range []bool{false, true} {
		h := a.Challenge("pbx.test", stale)
		c := ParseCredentials(h) // same key=value syntax
		if c == nil || c.Realm != "pbx.test" || c.Algorithm != "MD5" || c.QOP != "auth" {
			t.Fatalf("challenge %q", h)
		}
		if a.checkNonce(c.Nonce, "pbx.test") != nonceFresh {
			t.Errorf("our own nonce is refused: %q", h)
		}
		if got := containsStale(h); got != stale {
			t.Errorf("stale=%v in %q", got, h)
		}
	}
}

func containsStale(h string) bool {
	for i := 0; i+10 <= len(h); i++ {
		if h[i:i+10] == "stale=true" || h[i:i+10] == "stale=TRUE" {
			return true
		}
	}
	return false
}

func TestThrottle(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a, err := NewAuthenticator(AuthConfig{Now: clk.now, MaxFailures: 3, FailureWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	bad := netip.MustParseAddr("192.0.2.1")
	good := netip.MustParseAddr("192.0.2.2")
	steps := []struct {
		fail    bool
		advance time.Duration
		blocked bool
	}{
		{fail: true, blocked: false},
		{fail: true, blocked: false},
		{advance: 61 * time.Second, blocked: false}, // the first two age out
		{fail: true, blocked: false},
		{fail: true, blocked: false},
		{fail: true, blocked: true}, // three within the minute
		{advance: 30 * time.Second, blocked: true},
		{advance: 31 * time.Second, blocked: false},
	}
	for i, s := range steps {
		clk.advance(s.advance)
		if s.fail {
			a.fail(bad)
		}
		if got := a.Blocked(bad); got != s.blocked {
			t.Fatalf("step %d: blocked=%v, want %v", i, got, s.blocked)
		}
		if a.Blocked(good) {
			t.Fatalf("step %d: an innocent source is blocked", i)
		}
	}
}

func ExampleDigestResponse() {
	fmt.Println(DigestResponse(md5hex("Mufasa:testrealm@host.com:Circle Of Life"), "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "auth", "0a4f113b", 1))
	// Output: 6629fae49393a05397450978507c4ef1
}

// withNC is answer with another nonce count (and cnonce), as a phone
// re-using a nonce sends it.
func withNC(c *Credentials, password, method string, nc int) *Credentials {
	d := *c
	d.Nc = nc
	d.Response = DigestResponse(md5hex(d.Username+":"+d.Realm+":"+password), method, d.URI, d.Nonce, d.QOP, d.Cnonce, d.Nc)
	return &d
}

// withoutQOP is answer in RFC 2069 form: no qop, cnonce or nc.
func withoutQOP(c *Credentials, password, method string) *Credentials {
	d := *c
	d.QOP, d.Cnonce, d.Nc = "", "", 0
	d.Response = DigestResponse(md5hex(d.Username+":"+d.Realm+":"+password), method, d.URI, d.Nonce, "", "", 0)
	return &d
}

func TestAuthenticatorReplay(t *testing.T) {
	const realm, pw = "pbx.test", "secret"
	d := testDomain()
	type step struct {
		nc      int // nonce count to send; 0 sends no qop
		nonce   int // which nonce (index into the ones drawn for the case)
		advance time.Duration
		want    AuthResult
	}
	tests := []struct {
		name      string
		maxNonces int
		nonces    int
		steps     []step
	}{
		{"counts that go up are accepted", 0, 1, []step{
			{nc: 1, want: AuthOK}, {nc: 2, want: AuthOK}, {nc: 7, want: AuthOK},
		}},
		{"the same request again is a replay", 0, 1, []step{
			{nc: 1, want: AuthOK}, {nc: 1, want: AuthStale},
		}},
		{"a lower count is a replay", 0, 1, []step{
			{nc: 1, want: AuthOK}, {nc: 5, want: AuthOK}, {nc: 3, want: AuthStale}, {nc: 5, want: AuthStale}, {nc: 6, want: AuthOK},
		}},
		{"without qop a nonce serves once", 0, 1, []step{
			{nc: 0, want: AuthOK}, {nc: 0, want: AuthStale},
		}},
		{"nonces are counted apart", 0, 2, []step{
			{nc: 1, nonce: 0, want: AuthOK}, {nc: 1, nonce: 1, want: AuthOK}, {nc: 1, nonce: 0, want: AuthStale}, {nc: 2, nonce: 1, want: AuthOK},
		}},
		{"an expired nonce stays stale", 0, 1, []step{
			{nc: 1, want: AuthOK}, {nc: 2, advance: DefaultNonceTTL + time.Second, want: AuthStale},
		}},
		{"when memory is full the oldest nonces count as used", 2, 4, []step{
			// Nonces 0..3 are issued a second apart; each authenticates once.
			{nc: 1, nonce: 0, want: AuthOK}, {nc: 1, nonce: 1, want: AuthOK},
			{nc: 1, nonce: 2, want: AuthOK}, // drops nonce 0
			{nc: 2, nonce: 0, want: AuthStale},
			{nc: 1, nonce: 1, want: AuthStale}, // still remembered: a replay
			{nc: 2, nonce: 2, want: AuthOK},
			{nc: 1, nonce: 3, want: AuthOK}, // drops nonce 1
			{nc: 2, nonce: 1, want: AuthStale},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			a, err := NewAuthenticator(AuthConfig{Now: clk.now, MaxNonces: tt.maxNonces})
			if err != nil {
				t.Fatal(err)
			}
			var first []*Credentials
			for range tt.nonces {
				first = append(first, answer("1000", realm, pw, "REGISTER", a.Nonce(realm)))
				clk.advance(time.Second)
			}
			for i, s := range tt.steps {
				clk.advance(s.advance)
				creds := withNC(first[s.nonce], pw, "REGISTER", s.nc)
				if s.nc == 0 {
					creds = withoutQOP(first[s.nonce], pw, "REGISTER")
				}
				got, u := a.Check(creds, "REGISTER", realm, d)
				if got != s.want {
					t.Fatalf("step %d (nonce %d, nc %d): got %v, want %v", i, s.nonce, s.nc, got, s.want)
				}
				if (got == AuthOK) != (u != nil) {
					t.Fatalf("step %d: result %v with user %v", i, got, u)
				}
			}
		})
	}
}

// TestAuthenticatorReplayNeedsPassword: a wrong response does not touch
// the nonce's count, so a guess with a high nc cannot lock the real
// phone out of its nonce.
func TestAuthenticatorReplayNeedsPassword(t *testing.T) {
	const realm = "pbx.test"
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a, err := NewAuthenticator(AuthConfig{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	c := answer("1000", realm, "secret", "REGISTER", a.Nonce(realm))
	if got, _ := a.Check(withNC(c, "guess", "REGISTER", 99), "REGISTER", realm, testDomain()); got != AuthFailed {
		t.Fatalf("wrong password: %v, want AuthFailed", got)
	}
	if got, _ := a.Check(c, "REGISTER", realm, testDomain()); got != AuthOK {
		t.Fatalf("the phone's own nc=1 after the guess: %v, want AuthOK", got)
	}
}

// TestAuthenticatorReplayMemoryBounded: however many nonces authenticate,
// no more than MaxNonces are kept.
func TestAuthenticatorReplayMemoryBounded(t *testing.T) {
	const realm, limit = "pbx.test", 16
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a, err := NewAuthenticator(AuthConfig{Now: clk.now, MaxNonces: limit})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 * limit {
		c := answer("1000", realm, "secret", "REGISTER", a.Nonce(realm))
		clk.advance(time.Millisecond)
		if got, _ := a.Check(c, "REGISTER", realm, testDomain()); got != AuthOK {
			t.Fatalf("nonce %d: %v", i, got)
		}
		a.ncMu.Lock()
		n, q := len(a.used), len(a.usedOrder)-a.usedHead
		a.ncMu.Unlock()
		if n > limit || q != n {
			t.Fatalf("after %d nonces: %d remembered, %d queued (limit %d)", i+1, n, q, limit)
		}
	}
	// Expired nonces are forgotten as new ones come.
	clk.advance(DefaultNonceTTL + time.Second)
	c := answer("1000", realm, "secret", "REGISTER", a.Nonce(realm))
	if got, _ := a.Check(c, "REGISTER", realm, testDomain()); got != AuthOK {
		t.Fatalf("after expiry: %v", got)
	}
	a.ncMu.Lock()
	defer a.ncMu.Unlock()
	if len(a.used) != 1 {
		t.Errorf("%d nonces remembered after the others expired, want 1", len(a.used))
	}
}

// respondCount answers a challenge header's value as a phone re-using
// the nonce does: with nonce count nc.
func respondCount(t *testing.T, challenge, method, uri, user, password string, nc int) string {
	t.Helper()
	chal, err := digest.ParseChallenge(challenge)
	if err != nil {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	creds, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: user, Password: password, Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	return creds.String()
}
