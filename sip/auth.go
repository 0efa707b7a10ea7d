package sip

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"

	"github.com/switchboard-voip/switchboard/conf"
)

// Digest authentication (RFC 2617 / RFC 7616 with MD5 and qop=auth), the
// way mod_sofia authenticates REGISTERs and, with auth-calls, INVITEs:
// the realm is the directory domain, the password is the user's password
// param or its a1-hash. Nonces carry their issue time and an HMAC under a
// key that lives only in this process, so they need no table, cannot be
// forged and expire (an expired but genuine nonce is answered with
// stale=true, so the phone retries without asking its user).
//
// A wrong password and an unknown user get the same 403 Forbidden, and
// every failure is logged on one line in mod_sofia's fail2ban format.
// Sources that fail too often are refused outright for a while.
//
// Credentials cannot be replayed: the authenticator remembers, for every
// nonce that has authenticated a request, the highest nonce count (nc)
// used with it, and a request whose nc is not above it is challenged
// afresh with stale=true, as mod_sofia does (its sip_authentication
// table's last_nc). Credentials without qop carry no nc, so their nonce
// authenticates one request only. The memory is bounded: entries go when
// their nonce expires, and when MaxNonces are held the oldest are
// dropped and every nonce issued before the last one dropped counts as
// used.

// Default limits of the authenticator.
const (
	// DefaultNonceTTL is how long a nonce is accepted (FreeSWITCH's
	// nonce-ttl defaults to 60 seconds).
	DefaultNonceTTL = 60 * time.Second
	// DefaultMaxAuthFailures is how many failures a source may have within
	// DefaultFailureWindow before it is refused.
	DefaultMaxAuthFailures = 10
	// DefaultFailureWindow is the period failures are counted over, and
	// how long a source that exceeded them is refused.
	DefaultFailureWindow = time.Minute
	// DefaultMaxNonces bounds the nonces whose last nonce count is
	// remembered.
	DefaultMaxNonces = 65536
)

// AuthConfig tunes an Authenticator. Zero fields take the defaults above.
type AuthConfig struct {
	NonceTTL      time.Duration
	MaxFailures   int
	FailureWindow time.Duration
	// MaxNonces bounds the replay memory (see DefaultMaxNonces).
	MaxNonces int
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Key is the nonce HMAC key; nil draws a random one.
	Key []byte
}

// Authenticator issues digest challenges and checks credentials against
// the directory. It is safe for concurrent use.
type Authenticator struct {
	ttl    time.Duration
	max    int
	window time.Duration
	now    func() time.Time
	key    []byte

	mu    sync.Mutex
	fails map[netip.Addr]*failures

	maxNonces int
	ncMu      sync.Mutex
	used      map[string]*nonceUse // by nonce: the nonces that authenticated a request
	usedOrder []string             // used's keys, oldest first (a queue; usedHead is its front)
	usedHead  int
	// usedFloor is the issue time of the newest nonce dropped from used
	// while it was still fresh: a nonce issued no later than that and not
	// in used may have been used, so it is refused as stale.
	usedFloor time.Time
}

// nonceUse is what the replay check keeps of a nonce.
type nonceUse struct {
	issued time.Time
	nc     int // the highest nonce count accepted; 0 for credentials without qop
}

type failures struct {
	times        []time.Time // failures within the window
	blockedUntil time.Time
}

// NewAuthenticator returns an authenticator configured by c.
func NewAuthenticator(c AuthConfig) (*Authenticator, error) {
	a := &Authenticator{ttl: c.NonceTTL, max: c.MaxFailures, window: c.FailureWindow, now: c.Now, key: c.Key,
		fails: map[netip.Addr]*failures{}, maxNonces: c.MaxNonces, used: map[string]*nonceUse{}}
	if a.maxNonces <= 0 {
		a.maxNonces = DefaultMaxNonces
	}
	if a.ttl <= 0 {
		a.ttl = DefaultNonceTTL
	}
	if a.max <= 0 {
		a.max = DefaultMaxAuthFailures
	}
	if a.window <= 0 {
		a.window = DefaultFailureWindow
	}
	if a.now == nil {
		a.now = time.Now
	}
	if len(a.key) == 0 {
		a.key = make([]byte, 32)
		if _, err := rand.Read(a.key); err != nil {
			return nil, fmt.Errorf("sip: nonce key: %w", err)
		}
	}
	return a, nil
}

// Nonce returns a fresh nonce for realm: 8 bytes of issue time (Unix
// nanoseconds), 8 random bytes and 16 bytes of HMAC over both and the
// realm, in hex.
func (a *Authenticator) Nonce(realm string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().UnixNano()))
	_, _ = rand.Read(b[8:])
	return hex.EncodeToString(b[:]) + hex.EncodeToString(a.mac(b[:], realm))
}

func (a *Authenticator) mac(b []byte, realm string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write(b)
	m.Write([]byte(strings.ToLower(realm)))
	return m.Sum(nil)[:16]
}

// nonceState says whether a nonce is ours for realm and still fresh.
type nonceState int

const (
	nonceBad nonceState = iota
	nonceStale
	nonceFresh
)

func (a *Authenticator) checkNonce(nonce, realm string) nonceState {
	state, _ := a.nonceIssued(nonce, realm)
	return state
}

// nonceIssued is checkNonce that also returns when a genuine nonce was
// issued.
func (a *Authenticator) nonceIssued(nonce, realm string) (nonceState, time.Time) {
	raw, err := hex.DecodeString(nonce)
	if err != nil || len(raw) != 32 {
		return nonceBad, time.Time{}
	}
	if !hmac.Equal(raw[16:], a.mac(raw[:16], realm)) {
		return nonceBad, time.Time{}
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	age := a.now().Sub(issued)
	if age < 0 || age > a.ttl {
		return nonceStale, issued
	}
	return nonceFresh, issued
}

// useNonce records that nonce (issued at issued) authenticated a request
// with nonce count nc, and reports false when that is a replay: the
// nonce already authenticated a request with the same or a higher count
// (or, for lack of memory, may have).
func (a *Authenticator) useNonce(nonce string, issued time.Time, nc int) bool {
	a.ncMu.Lock()
	defer a.ncMu.Unlock()
	if u := a.used[nonce]; u != nil {
		if nc <= u.nc {
			return false
		}
		u.nc = nc
		return true
	}
	if !issued.After(a.usedFloor) {
		return false
	}
	// Forget the nonces at the front of the queue that have expired (a
	// replay of those is refused as stale anyway), then make room.
	now := a.now()
	for a.usedHead < len(a.usedOrder) {
		front := a.usedOrder[a.usedHead]
		u := a.used[front]
		if now.Sub(u.issued) <= a.ttl && len(a.used) < a.maxNonces {
			break
		}
		if now.Sub(u.issued) <= a.ttl && u.issued.After(a.usedFloor) {
			a.usedFloor = u.issued
		}
		delete(a.used, front)
		a.usedOrder[a.usedHead] = ""
		a.usedHead++
	}
	if a.usedHead > len(a.usedOrder)/2 {
		a.usedOrder = append(a.usedOrder[:0], a.usedOrder[a.usedHead:]...)
		a.usedHead = 0
	}
	if !issued.After(a.usedFloor) {
		return false
	}
	a.used[nonce] = &nonceUse{issued: issued, nc: nc}
	a.usedOrder = append(a.usedOrder, nonce)
	return true
}

// Challenge is the value of a WWW-Authenticate or Proxy-Authenticate
// header for realm; stale marks the retry of a request whose nonce had
// expired.
func (a *Authenticator) Challenge(realm string, stale bool) string {
	c := digest.Challenge{Realm: realm, Nonce: a.Nonce(realm), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	return c.String()
}

// Blocked reports whether src has failed too often and is refused.
func (a *Authenticator) Blocked(src netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.fails[src]
	return f != nil && a.now().Before(f.blockedUntil)
}

// fail records a failure from src and reports whether src is now blocked.
func (a *Authenticator) fail(src netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	f := a.fails[src]
	if f == nil {
		// Forget sources whose failures are old, so the map stays small.
		for ip, g := range a.fails {
			if now.After(g.blockedUntil) && (len(g.times) == 0 || now.Sub(g.times[len(g.times)-1]) > a.window) {
				delete(a.fails, ip)
			}
		}
		f = &failures{}
		a.fails[src] = f
	}
	kept := f.times[:0]
	for _, t := range f.times {
		if now.Sub(t) < a.window {
			kept = append(kept, t)
		}
	}
	f.times = append(kept, now)
	if len(f.times) >= a.max {
		f.blockedUntil = now.Add(a.window)
		f.times = f.times[:0]
		return true
	}
	return false
}

// AuthResult is the outcome of checking a request's credentials.
type AuthResult int

// Outcomes of Check.
const (
	// AuthNone: the request carries no credentials for the realm, or
	// answers a nonce this process did not issue; challenge it.
	AuthNone AuthResult = iota
	// AuthStale: genuine credentials with an expired nonce, or a replay
	// (a nonce count not above the last one accepted for the nonce);
	// challenge with stale=true.
	AuthStale
	// AuthFailed: wrong password or unknown user; answer 403 (the same
	// for both, so users cannot be enumerated).
	AuthFailed
	// AuthOK: the user is authenticated.
	AuthOK
)

// Credentials are the parsed Authorization (or Proxy-Authorization)
// header of a request.
type Credentials = digest.Credentials

// ParseCredentials parses an Authorization header value; nil when it is
// not a digest.
func ParseCredentials(v string) *Credentials {
	if !digest.IsDigest(v) {
		return nil
	}
	c, err := digest.ParseCredentials(v)
	if err != nil {
		return nil
	}
	return c
}

// Check verifies creds for a request of method in realm against the
// directory domain d (nil: the realm is not ours, so every password is
// wrong). On AuthOK it returns the user.
func (a *Authenticator) Check(creds *Credentials, method, realm string, d *conf.Domain) (AuthResult, *conf.User) {
	if creds == nil || !strings.EqualFold(creds.Realm, realm) {
		return AuthNone, nil
	}
	state, issued := a.nonceIssued(creds.Nonce, realm)
	if state == nonceBad {
		// Not a nonce of ours (another process, before a restart, or
		// made up): no password was tried, so challenge afresh.
		return AuthNone, nil
	}
	var u *conf.User
	ha1 := ""
	if d != nil {
		u = d.User(creds.Username)
	}
	if u != nil {
		ha1 = strings.ToLower(u.Params["a1-hash"])
		if ha1 == "" {
			if pw, ok := u.Params["password"]; ok {
				ha1 = md5hex(creds.Username + ":" + realm + ":" + pw)
			}
		}
	}
	if ha1 == "" {
		// No such user (or no password): compute a response anyway so the
		// time taken tells nothing.
		ha1 = md5hex(creds.Username + ":" + realm + ":" + hex.EncodeToString(a.key))
		u = nil
	}
	want := DigestResponse(ha1, method, creds.URI, creds.Nonce, creds.QOP, creds.Cnonce, creds.Nc)
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(creds.Response))) == 1
	if algo := creds.Algorithm; algo != "" && !strings.EqualFold(algo, "MD5") {
		match = false
	}
	switch {
	case !match || u == nil:
		return AuthFailed, nil
	case state == nonceStale:
		return AuthStale, nil
	}
	nc := creds.Nc
	if creds.QOP == "" {
		nc = 0 // RFC 2069 credentials: the nonce is good for one request
	}
	if nc < 0 || !a.useNonce(creds.Nonce, issued, nc) {
		return AuthStale, nil
	}
	return AuthOK, u
}

// DigestResponse computes the request-digest of RFC 2617 §3.2.2.1 with
// MD5 from HA1 (hex MD5 of user:realm:password): with qop "auth" it
// covers nonce, nc, cnonce and qop, without qop (RFC 2069) only the nonce.
func DigestResponse(ha1, method, uri, nonce, qop, cnonce string, nc int) string {
	ha2 := md5hex(method + ":" + uri)
	if qop == "" {
		return md5hex(ha1 + ":" + nonce + ":" + ha2)
	}
	return md5hex(fmt.Sprintf("%s:%s:%08x:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2))
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}
