package e2e

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// The registrar and digest authentication of the SIP profile, driven by
// the Go SIP client against the real binary, checked through
// `switchboard cli -x`.

// startAuthSwitch starts a switch on testdata/conf with an event socket
// and the extra globals set.
func startAuthSwitch(t *testing.T, set map[string]string) (*eslSwitch, func(cmd string) string) {
	t.Helper()
	requireRun(t)
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	sounds, err := filepath.Abs(filepath.Join("testdata", "sounds"))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"test_sounds_dir": sounds, "esl_port": strconv.Itoa(port)}
	for k, v := range set {
		all[k] = v
	}
	sw := harness.Start(t, harness.Options{Binary: build.bin, ConfDir: filepath.Join("testdata", "conf"), Set: all})
	ts := &testSwitch{Switch: sw}
	ts.base, err = sw.Vars(t.Context())
	if err != nil {
		t.Fatalf("debug variables: %v", err)
	}
	t.Cleanup(func() { sw.CheckSettled(t, ts.base, perTestSlack, 15*time.Second) })
	home := []string{"HOME=" + t.TempDir()}
	cli := func(cmd string) string {
		t.Helper()
		r := runSwitchboard(t, home, "cli", "-P", strconv.Itoa(port), "-x", cmd)
		if r.code != 0 {
			t.Fatalf("cli -x %q:\n%s", cmd, r)
		}
		return r.stdout
	}
	return &eslSwitch{testSwitch: ts, eslAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), eslPort: port}, cli
}

func TestRegister(t *testing.T) {
	sw, cli := startAuthSwitch(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	server := sw.SIPAddr.String()
	reg := func(user, password, contact string, expires int) int {
		t.Helper()
		r, err := sipclient.Register(ctx, sipclient.RegisterOptions{Server: server, User: user, Password: password, Contact: contact, Expires: expires})
		if err != nil {
			t.Fatalf("register %s: %v", user, err)
		}
		return r.Code
	}
	const contact = "sip:1000@127.0.0.1:5999"
	if code := reg("1000", "1234", contact, 120); code != 200 {
		t.Fatalf("register 1000: %d", code)
	}
	out := cli("show registrations")
	if !strings.HasPrefix(out, "reg_user,realm,token,url,expires,network_ip,network_port,network_proto,hostname,metadata\n") ||
		!strings.Contains(out, "\n1000,127.0.0.1,") || !strings.Contains(out, ","+contact+",") || !strings.HasSuffix(out, "\n1 total.\n") {
		t.Errorf("show registrations:\n%s", out)
	}
	if got := cli("sofia_contact 1000@127.0.0.1"); strings.TrimSpace(got) != "sofia/internal/"+contact {
		t.Errorf("sofia_contact: %q", got)
	}
	for _, c := range []struct{ cmd, want string }{
		{"user_exists id 1000 127.0.0.1", "true"},
		{"user_exists id 1999 127.0.0.1", "false"},
		{"domain_exists 127.0.0.1", "true"},
		{"user_data 1000@127.0.0.1 var effective_caller_id_name", "Extension 1000"},
		{"user_data 1000@127.0.0.1 var default_areacode", "918"},
	} {
		if got := strings.TrimSpace(cli(c.cmd)); got != c.want {
			t.Errorf("%s: %q, want %q", c.cmd, got, c.want)
		}
	}

	// A wrong password and an unknown user: both refused alike, both logged
	// for fail2ban.
	if code := reg("1000", "4321", "sip:1000@127.0.0.1:5998", 120); code != 403 {
		t.Errorf("wrong password: %d, want 403", code)
	}
	if code := reg("1999", "1234", "sip:1999@127.0.0.1:5998", 120); code != 403 {
		t.Errorf("unknown user: %d, want 403", code)
	}
	// The switch logs the failure as it answers: the line may reach us a
	// moment after the response.
	for _, want := range []string{
		"SIP auth failure (REGISTER) on sofia profile 'internal' for [1000@127.0.0.1] from ip 127.0.0.1",
		"SIP auth failure (REGISTER) on sofia profile 'internal' for [1999@127.0.0.1] from ip 127.0.0.1",
	} {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(sw.Logs(), want) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(sw.Logs(), want) {
			t.Errorf("the logs lack %q", want)
		}
	}
	if got := cli("sofia_contact 1000@127.0.0.1"); strings.TrimSpace(got) != "sofia/internal/"+contact {
		t.Errorf("after the failures, sofia_contact: %q", got)
	}

	// Unregister every contact.
	if code := reg("1000", "1234", "*", 0); code != 200 {
		t.Fatalf("unregister: %d", code)
	}
	if got := strings.TrimSpace(cli("sofia_contact 1000@127.0.0.1")); got != "error/user_not_registered" {
		t.Errorf("after unregistering, sofia_contact: %q", got)
	}
}

func TestInviteChallenge(t *testing.T) {
	sw, cli := startAuthSwitch(t, map[string]string{"e2e_inbound_acl": "e2e_lan", "e2e_auth_calls": "true"})
	ctx := callCtx(t)

	t.Run("no credentials", func(t *testing.T) {
		c := sw.dial(t, ctx, "9196", sipclient.Options{From: "1000"})
		r, err := c.Final(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Code != 407 || r.Header("Proxy-Authenticate") == "" {
			t.Errorf("final %v, want a 407 challenge", r)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		c := sw.dial(t, ctx, "9196", sipclient.Options{From: "1000", Password: "4321"})
		r, err := c.Final(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Code != 403 {
			t.Errorf("final %v, want 403", r)
		}
	})
	t.Run("authenticated", func(t *testing.T) {
		c := sw.dial(t, ctx, "9196", sipclient.Options{From: "1000", Password: "1234"})
		if err := c.Answer(ctx); err != nil {
			t.Fatalf("answer: %v (%v)", err, c)
		}
		out := cli("show channels")
		lines := strings.Split(out, "\n")
		if len(lines) < 2 {
			t.Fatalf("show channels:\n%s", out)
		}
		uuid, _, _ := strings.Cut(lines[1], ",")
		for name, want := range map[string]string{
			"sip_authorized":           "true",
			"sip_auth_username":        "1000",
			"sip_auth_realm":           "127.0.0.1",
			"effective_caller_id_name": "Extension 1000",
			"toll_allow":               "domestic,international,local",
		} {
			if got := strings.TrimSpace(cli("uuid_getvar " + uuid + " " + name)); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if err := c.Hangup(ctx); err != nil {
			t.Error(err)
		}
	})
}

// TestRegistrationSurvivesRestart: the registrar lives in the switch's
// database, so a binding made before a restart is there after it.
func TestRegistrationSurvivesRestart(t *testing.T) {
	requireRun(t)
	dbDir := t.TempDir()
	start := func() (*harness.Switch, func(string) string) {
		port, err := harness.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		sw := harness.Start(t, harness.Options{Binary: build.bin, ConfDir: filepath.Join("testdata", "conf"),
			Set: map[string]string{"db_dir": dbDir, "esl_port": strconv.Itoa(port)}})
		home := []string{"HOME=" + t.TempDir()}
		return sw, func(cmd string) string {
			t.Helper()
			r := runSwitchboard(t, home, "cli", "-P", strconv.Itoa(port), "-x", cmd)
			if r.code != 0 {
				t.Fatalf("cli -x %q:\n%s", cmd, r)
			}
			return strings.TrimSpace(r.stdout)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	sw, cli := start()
	const contact = "sip:1001@127.0.0.1:5997"
	r, err := sipclient.Register(ctx, sipclient.RegisterOptions{Server: sw.SIPAddr.String(), User: "1001", Password: "1234", Contact: contact, Expires: 300})
	if err != nil || r.Code != 200 {
		t.Fatalf("register: %v %v", r, err)
	}
	if got := cli("sofia_contact 1001@127.0.0.1"); got != "sofia/internal/"+contact {
		t.Fatalf("before the restart: %q", got)
	}
	sw.Stop(t)
	_, cli = start()
	if got := cli("sofia_contact 1001@127.0.0.1"); got != "sofia/internal/"+contact {
		t.Errorf("after the restart: %q", got)
	}
}
