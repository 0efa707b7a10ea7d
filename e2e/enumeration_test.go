package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// Enumeration and password guessing with sipvicious (Debian package
// sipvicious) against the internal profile of the default configuration,
// which has users 1000-1019. The switch trusts no network
// (internal_inbound_acl=none), so every INVITE is challenged as well as
// every REGISTER: nothing tells a known user from an unknown one.
//
// sipvicious is UDP only and always sends from 127.0.0.1 here (svcrack
// ignores -b), so the throttling, which counts per source address, is
// tested with one switch per svcrack run.

// scanFirst and scanLast bound the extensions scanned: the default users
// 1000-1019 and unknown numbers on both sides.
const scanFirst, scanLast = 990, 1030

// requireSipvicious returns the path of a sipvicious program (svwar,
// svcrack), under its Debian name or the sipvicious_ name pip installs.
// A missing one skips the test, or fails it under
// SWITCHBOARD_E2E_STRICT=1.
func requireSipvicious(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath("sipvicious_" + name); err == nil {
		return p
	}
	return requireTool(t, name)
}

// startEnumSwitch starts the default configuration as it is (an empty
// overlay) trusting no network; auth-calls stays on, as in the default.
func startEnumSwitch(t *testing.T) *testSwitch {
	t.Helper()
	return startOverlaySwitch(t, t.TempDir(), map[string]string{"internal_inbound_acl": "none"})
}

// runTool runs a sipvicious program with args for at most limit; when
// the limit passes it is interrupted (SIGINT), on which sipvicious prints
// its results and exits. It returns stdout and stderr together.
func runTool(t *testing.T, limit time.Duration, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) && ctx.Err() == nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// toolPort returns a free local port for a sipvicious program (each run
// gets its own: a later run on the same port would read the responses
// the switch retransmits to an earlier one).
func toolPort(t *testing.T) string { return strconv.Itoa(freePorts(t, 1)[0]) }

// debugStatus matches the status lines svwar --debug prints of each
// response it reads (Python bytes reprs).
var debugStatus = regexp.MustCompile(`b'SIP/2\.0 (\d{3} [^\\]*)\\r\\n`)

// TestEnumerationSvwar: svwar, with --force and without, with each of
// its methods over 990-1030, finds no extension; every response it read
// has the same status line. Without --force it stops at the first
// challenge, which is for an extension that does not exist.
func TestEnumerationSvwar(t *testing.T) {
	svwar := requireSipvicious(t, "svwar")
	sw := startEnumSwitch(t)
	port := strconv.Itoa(int(sw.SIPAddr.Port()))
	ext := fmt.Sprintf("%d-%d", scanFirst, scanLast)

	out := runTool(t, 30*time.Second, svwar, "-e", ext, "-m", "REGISTER", "-p", port, "-x", "127.0.0.1", "-P", toolPort(t), "127.0.0.1")
	if !strings.Contains(out, "authentication request for an unknown extension") {
		t.Errorf("svwar without --force did not stop at the challenge for its random extension:\n%s", out)
	}

	for _, method := range []string{"REGISTER", "INVITE", "OPTIONS"} {
		t.Run(method, func(t *testing.T) {
			out := runTool(t, 60*time.Second, svwar, "--force", "--debug", "-e", ext, "-m", method,
				"-p", port, "-x", "127.0.0.1", "-P", toolPort(t), "127.0.0.1")
			if !strings.Contains(out, "found nothing") || strings.Contains(out, "| Extension") ||
				regexp.MustCompile(`reqauth|noauth|weird|exists`).MatchString(out) {
				t.Errorf("svwar -m %s found extensions:\n%s", method, out)
			}
			statuses := map[string]int{}
			for _, m := range debugStatus.FindAllStringSubmatch(out, -1) {
				statuses[m[1]]++
			}
			if len(statuses) != 1 {
				t.Errorf("svwar -m %s read %d kinds of response, want one: %v\n%s", method, len(statuses), statuses, out)
			}
			t.Logf("svwar -m %s: responses %v", method, statuses)
		})
	}
}

// TestEnumerationIdenticalResponses checks what svwar relies on for every
// extension of the range, not only those it reads before giving up:
// REGISTER, INVITE and OPTIONS for a known and an unknown user get the
// same response — status, reason and headers, less what they echo and
// the nonce.
func TestEnumerationIdenticalResponses(t *testing.T) {
	sw := startEnumSwitch(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, method := range []string{"REGISTER", "INVITE", "OPTIONS"} {
		t.Run(method, func(t *testing.T) {
			u := newRawUAC(t, sw.SIPAddr)
			shapes := map[string][]string{}
			for n := scanFirst; n <= scanLast; n++ {
				user := strconv.Itoa(n)
				d := u.newDialog(user)
				d.u.send(d.headers(method, d.cseq), "")
				res := d.waitFinal(ctx, method)
				if method == "INVITE" {
					d.ackFailure(res)
				}
				shape := strings.Join(normalizeResponse(res), "\n")
				shapes[shape] = append(shapes[shape], user)
			}
			if len(shapes) != 1 {
				var b strings.Builder
				for shape, users := range shapes {
					fmt.Fprintf(&b, "--- %s:\n%s\n", strings.Join(users, ","), shape)
				}
				t.Errorf("%s: known and unknown users get different responses:\n%s", method, b.String())
			}
			for shape := range shapes {
				t.Logf("%s: every user gets:\n%s", method, shape)
			}
		})
	}
}

// TestEnumerationWrongPassword: the second step of a guess — credentials
// with a wrong password — gets the same answer for known users (1000,
// 1019) and unknown ones (1020, 1999).
func TestEnumerationWrongPassword(t *testing.T) {
	sw := startEnumSwitch(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	u := newRawUAC(t, sw.SIPAddr)
	shapes := map[string][]string{}
	for _, user := range []string{"1000", "1019", "1020", "1999"} {
		d := u.newDialog(user)
		r := d.register(ctx, "")
		if r.StatusCode != 401 {
			t.Fatalf("%s: %d, want 401", user, r.StatusCode)
		}
		r = d.register(ctx, digestAnswer(t, user, "wrong", r.GetHeader("WWW-Authenticate").Value(), d.target, 1))
		shape := strings.Join(normalizeResponse(r), "\n")
		shapes[shape] = append(shapes[shape], user)
	}
	if len(shapes) != 1 {
		t.Errorf("a wrong password tells known users from unknown ones: %v", shapes)
	}
	for shape := range shapes {
		if !strings.HasPrefix(shape, "403 ") {
			t.Errorf("a wrong password gets %q, want 403", shape)
		}
	}
}

// register sends a REGISTER in the dialog (a new CSeq) with an
// Authorization value ("" for none) and returns the final response.
func (d *rawDialog) register(ctx context.Context, auth string) *sip.Response {
	d.cseq++
	head := d.headers("REGISTER", d.cseq) + "Expires: 60\n"
	if auth != "" {
		head += "Authorization: " + auth + "\n"
	}
	d.u.send(head, "")
	return d.waitFinal(ctx, "REGISTER")
}

// normalizeResponse keeps what a response says, not what it echoes: its
// status line and every header but those copied from the request, with
// tags and nonces masked.
func normalizeResponse(r *sip.Response) []string {
	out := []string{fmt.Sprint(r.StatusCode, " ", r.Reason)}
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	for _, h := range r.Headers() {
		switch strings.ToLower(h.Name()) {
		case "via", "from", "to", "call-id", "cseq", "content-length":
			continue
		}
		out = append(out, h.Name()+": "+nonce.ReplaceAllString(h.Value(), `nonce="N"`))
	}
	sort.Strings(out[1:])
	return out
}

// ackFailure acknowledges a failure response to the dialog's INVITE
// (same transaction), so the switch stops retransmitting it.
func (d *rawDialog) ackFailure(res *sip.Response) {
	tag, _ := res.To().Params.Get("tag")
	via := res.Via()
	branch, _ := via.Params.Get("branch")
	d.u.send(fmt.Sprintf(`ACK sip:%s@%s SIP/2.0
Via: SIP/2.0/UDP %s;branch=%s;rport
Max-Forwards: 70
From: "Extension 1000" <sip:1000@127.0.0.1>;tag=%s
To: <sip:%s@%s>;tag=%s
Call-ID: %s
CSeq: %d ACK
`, d.dest, d.u.server, d.u.local, branch, d.fromTag, d.dest, d.u.server, tag, d.callID, d.cseq), "")
}

// authFailureLine is the fail2ban-readable line of a failed REGISTER for
// user 1000 from 127.0.0.1 (mod_sofia's format).
const authFailureLine = "SIP auth failure (REGISTER) on sofia profile 'internal' for [1000@127.0.0.1] from ip 127.0.0.1"

// throttleLine starts the line a source's refusal is logged with.
const throttleLine = "SIP auth throttled: ip 127.0.0.1 refused"

// maxAuthFailures is the switch's limit of failures per source and
// minute (sip.DefaultMaxAuthFailures), after which the source is refused
// for a minute.
const maxAuthFailures = 10

// logsWith returns the switch's logs once they hold want, or after two
// seconds (its output reaches the harness through a pipe, a moment after
// the fact it logs).
func logsWith(sw *testSwitch, want string) string {
	deadline := time.Now().Add(2 * time.Second)
	for {
		logs := sw.Logs()
		if strings.Contains(logs, want) || time.Now().After(deadline) {
			return logs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// passwordList writes a svcrack dictionary: wrong guesses, and the
// user's password at position at (1-based; 0 leaves it out).
func passwordList(t *testing.T, wrong, at int) string {
	t.Helper()
	var words []string
	for i := range wrong {
		words = append(words, fmt.Sprintf("guess%02d-%04d", i, rand.IntN(10000)))
	}
	if at > 0 {
		words = append(words[:at-1], append([]string{defaultPassword}, words[at-1:]...)...)
	}
	p := filepath.Join(t.TempDir(), "passwords.txt")
	if err := os.WriteFile(p, []byte(strings.Join(words, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPasswordGuessingThrottled: svcrack guesses user 1000's password
// with REGISTERs. The switch checks at most 10 guesses a minute from one
// source, logging each in the fail2ban format, then refuses the source
// (403 to everything, the right password included) for a minute and
// logs that. So:
//   - a list without the password: 10 failures logged, then the
//     refusal, and nothing found;
//   - a short list with the password 5th: svcrack finds it (it works
//     against this switch);
//   - a list with the password 20th: svcrack never gets to try it — 10
//     failures, the refusal, nothing found — and the right password from
//     the same address is refused, while another address still
//     registers.
func TestPasswordGuessingThrottled(t *testing.T) {
	svcrack := requireSipvicious(t, "svcrack")
	crack := func(t *testing.T, sw *testSwitch, list string, limit time.Duration) string {
		t.Helper()
		return runTool(t, limit, svcrack, "-u", "1000", "-d", list, "-p", strconv.Itoa(int(sw.SIPAddr.Port())),
			"-x", "127.0.0.1", "-P", toolPort(t), "127.0.0.1")
	}
	// svcrack prints what it found as a table: | 1000 | 1234 |.
	cracked := regexp.MustCompile(`\|\s*1000\s*\|\s*` + defaultPassword + `\s*\|`)
	// checkThrottled: exactly maxAuthFailures failure lines, then the
	// refusal line.
	checkThrottled := func(t *testing.T, sw *testSwitch, out string) {
		t.Helper()
		if cracked.MatchString(out) || !strings.Contains(out, "found nothing") {
			t.Errorf("svcrack found the password:\n%s", out)
		}
		logs := logsWith(sw, throttleLine)
		if n := strings.Count(logs, authFailureLine); n != maxAuthFailures {
			t.Errorf("%d failed guesses logged, want %d (the limit)\n%s", n, maxAuthFailures, logs)
		}
		if !strings.Contains(logs, throttleLine) {
			t.Errorf("no log of the refusal (%q)", throttleLine)
		}
	}

	t.Run("password not in the list", func(t *testing.T) {
		sw := startEnumSwitch(t)
		checkThrottled(t, sw, crack(t, sw, passwordList(t, 30, 0), 4*time.Second))
	})

	t.Run("password 5th", func(t *testing.T) {
		sw := startEnumSwitch(t)
		out := crack(t, sw, passwordList(t, 4, 5), 20*time.Second)
		if !cracked.MatchString(out) {
			t.Errorf("svcrack did not find the password within the limit of guesses:\n%s", out)
		}
		logs := logsWith(sw, "sip: registered")
		if n := strings.Count(logs, authFailureLine); n != 4 {
			t.Errorf("%d failed guesses logged, want 4", n)
		}
		if strings.Contains(logs, throttleLine) {
			t.Error("the source was refused after 4 failures")
		}
	})

	t.Run("password 20th", func(t *testing.T) {
		sw := startEnumSwitch(t)
		checkThrottled(t, sw, crack(t, sw, passwordList(t, 19, 20), 4*time.Second))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for _, c := range []struct {
			ip   string
			want int
		}{{"127.0.0.1", 403}, {"127.0.0.2", 200}} {
			r, err := sipclient.Register(ctx, sipclient.RegisterOptions{Server: sw.SIPAddr.String(), Domain: "127.0.0.1",
				User: "1000", Password: defaultPassword, Expires: 60, LocalIP: c.ip})
			if err != nil {
				t.Fatalf("register from %s: %v", c.ip, err)
			}
			if r.Code != c.want {
				t.Errorf("1000 with the right password from %s: %v, want %d", c.ip, r, c.want)
			}
		}
	})
}

// TestReplayedCredentials: a REGISTER's Authorization sent again as it
// was (same nonce, same nonce count) is a replay: it gets a fresh
// challenge with stale=true, not a registration.
func TestReplayedCredentials(t *testing.T) {
	sw := startEnumSwitch(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	u := newRawUAC(t, sw.SIPAddr)
	d := u.newDialog("1000")
	r := d.register(ctx, "")
	if r.StatusCode != 401 {
		t.Fatalf("first REGISTER: %d, want 401", r.StatusCode)
	}
	auth := digestAnswer(t, "1000", defaultPassword, r.GetHeader("WWW-Authenticate").Value(), d.target, 1)
	if r := d.register(ctx, auth); r.StatusCode != 200 {
		t.Fatalf("REGISTER with the password: %d %s, want 200", r.StatusCode, r.Reason)
	}
	if r := d.register(ctx, digestAnswer(t, "1000", defaultPassword, r.GetHeader("WWW-Authenticate").Value(), d.target, 2)); r.StatusCode != 200 {
		t.Fatalf("the same nonce with the next count: %d %s, want 200", r.StatusCode, r.Reason)
	}
	r = d.register(ctx, auth)
	if h := r.GetHeader("WWW-Authenticate"); r.StatusCode != 401 || h == nil || !strings.Contains(strings.ReplaceAll(h.Value(), " ", ""), "stale=true") {
		t.Errorf("the same Authorization again: %d %s %v, want 401 with stale=true", r.StatusCode, r.Reason, h)
	}
}

// digestAnswer is the Authorization value user sends for a challenge
// with password, with nonce count nc.
func digestAnswer(t *testing.T, user, password, challenge, uri string, nc int) string {
	t.Helper()
	get := func(name string) string {
		m := regexp.MustCompile(name + `="?([^",]*)"?`).FindStringSubmatch(challenge)
		if m == nil {
			t.Fatalf("challenge %q has no %s", challenge, name)
		}
		return m[1]
	}
	realm, nonce := get("realm"), get("nonce")
	cnonce := fmt.Sprintf("%08x", rand.Uint32())
	ha1 := md5Hex(user + ":" + realm + ":" + password)
	ha2 := md5Hex("REGISTER:" + uri)
	resp := md5Hex(fmt.Sprintf("%s:%s:%08x:%s:auth:%s", ha1, nonce, nc, cnonce, ha2))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=%08x, cnonce="%s"`,
		user, realm, nonce, uri, resp, nc, cnonce)
}

// md5Hex is the hex MD5 of s, as digest authentication uses it.
func md5Hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}
