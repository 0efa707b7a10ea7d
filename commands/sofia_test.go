package commands

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateSofia = flag.Bool("update-sofia", false, "rewrite testdata/sofia/*.golden")

// sofiaEnv is an Env with a fake SIP endpoint: two profiles, three
// gateways, two registrations.
type sofiaEnv struct {
	*Host
	profiles  []SofiaProfile
	regs      []Registration
	reloads   int
	reloadErr error

	killed     []string
	started    []string
	rescanned  []string
	registered []string
}

var (
	_ Sofia         = (*sofiaEnv)(nil)
	_ Registrations = (*sofiaEnv)(nil)
	_ Reloader      = (*sofiaEnv)(nil)
)

func (e *sofiaEnv) SofiaProfiles() []SofiaProfile { return e.profiles }
func (e *sofiaEnv) Registrations() []Registration { return e.regs }
func (e *sofiaEnv) Reload(context.Context) (string, error) {
	e.reloads++
	return "", e.reloadErr
}

func (e *sofiaEnv) gateway(name string) (*SofiaGateway, bool) { return findGateway(e.profiles, name) }

func (e *sofiaEnv) SofiaKillGateway(profile, gw string) error {
	if gw != "_all_" {
		if _, ok := e.gateway(gw); !ok {
			return ErrSofiaNoGateway
		}
	}
	e.killed = append(e.killed, profile+"/"+gw)
	return nil
}

func (e *sofiaEnv) SofiaStartGateway(profile, gw string) ([]string, error) {
	if gw == "missing" {
		return nil, ErrSofiaNotConfigured
	}
	e.started = append(e.started, profile+"/"+gw)
	return []string{gw}, nil
}

func (e *sofiaEnv) SofiaRescan(profile string) ([]string, error) {
	e.rescanned = append(e.rescanned, profile)
	return nil, nil
}

func (e *sofiaEnv) SofiaRegister(profile, gw string, register bool) error {
	if gw != "all" {
		g, ok := e.gateway(gw)
		if !ok {
			return ErrSofiaNoGateway
		}
		if g.State == "NOREG" {
			return ErrSofiaNoRegister
		}
	}
	verb := "unregister"
	if register {
		verb = "register"
	}
	e.registered = append(e.registered, verb+" "+profile+"/"+gw)
	return nil
}

func newSofiaEnv(t *testing.T) *sofiaEnv {
	t.Helper()
	env := &sofiaEnv{Host: newEnv(t)}
	env.profiles = []SofiaProfile{
		{
			Name: "internal", URL: "sip:mod_sofia@127.0.0.1:5060", BindURL: "sip:mod_sofia@127.0.0.1:5060;transport=udp,tcp",
			Running: true, Calls: 2, Registrations: 1, Dialplan: "XML", Context: "public", ChallengeRealm: "auto_from",
			SIPIP: "127.0.0.1", RTPIP: "127.0.0.1", CodecsIn: "PCMU,PCMA", CodecsOut: "PCMU,PCMA", TelEvent: 101, DTMFMode: "rfc2833",
		},
		{
			Name: "external", URL: "sip:mod_sofia@203.0.113.5:5080", BindURL: "sip:mod_sofia@203.0.113.5:5080;maddr=10.0.0.5;transport=udp,tcp",
			Running: true, Dialplan: "XML", Context: "public", SIPIP: "10.0.0.5", ExtSIPIP: "203.0.113.5",
			RTPIP: "10.0.0.5", ExtRTPIP: "203.0.113.5", CodecsIn: "PCMA", CodecsOut: "PCMA", TelEvent: 101, DTMFMode: "info",
			Gateways: []SofiaGateway{
				{
					Name: "carrier", Profile: "external", Scheme: "Digest", Realm: "sip.carrier.example", Username: "acct100",
					Password: true, From: "<sip:acct100@sip.carrier.example>", Contact: "<sip:gw+carrier@203.0.113.5:5080;transport=udp;gw=carrier>",
					Exten: "acct100", To: "sip:acct100@sip.carrier.example", Proxy: "sip:sip.carrier.example", Context: "public",
					Expires: "3600", Freq: 3600, PingAt: 1709535630, PingFreq: 30, PingTime: 12.345, PingMin: 1, PingCount: 1, PingMax: 3,
					State: "REGED", Up: true, Uptime: 3725 * time.Second, Retry: -1,
					CallsIn: 7, CallsOut: 12, FailedCallsIn: 1, FailedCallsOut: 3,
					InboundVariables:  [][2]string{{"both", "1"}, {"in_only", "a&b"}},
					OutboundVariables: [][2]string{{"both", "1"}, {"out_only", "2"}},
				},
				{
					Name: "backup", Profile: "external", Scheme: "Digest", Realm: "backup.example", Username: "u2", Password: true,
					From: "<sip:u2@backup.example>", Contact: "<sip:gw+backup@203.0.113.5:5080;transport=udp;gw=backup>", Exten: "u2",
					To: "sip:u2@backup.example", Proxy: "sip:backup.example", Context: "public", Expires: "600", Freq: 600,
					PingMin: 1, PingMax: 1, State: "FAIL_WAIT", Retry: 57*time.Second + 300*time.Millisecond,
				},
				{
					Name: "peer", Profile: "external", Scheme: "Digest", Realm: "192.0.2.9", Username: "FreeSWITCH",
					From: "<sip:FreeSWITCH@192.0.2.9>", Contact: "<sip:gw+peer@203.0.113.5:5080;transport=udp;gw=peer>", Exten: "FreeSWITCH",
					To: "sip:FreeSWITCH@192.0.2.9", Proxy: "sip:192.0.2.9", Context: "from-peer", Expires: "3600", Freq: 3600,
					PingMin: 1, PingMax: 1, State: "NOREG", Up: true, Uptime: 90 * time.Second, Retry: -1, Pinging: true,
				},
			},
		},
		{Name: "stopped", URL: "sip:mod_sofia@127.0.0.1:5099"},
	}
	env.regs = []Registration{
		{User: "1000", Realm: "sb.example", Token: "abc123@phone", URL: "sip:1000@192.0.2.50:5062", Expires: testNow.Add(300 * time.Second),
			NetworkIP: "192.0.2.50", NetworkPort: 5062, Transport: "udp", Profile: "internal", UserAgent: "Phone/1.0"},
		{User: "1001", Realm: "sb.example", Token: "def456", URL: "sip:1001@192.0.2.51", Expires: testNow.Add(60 * time.Second),
			NetworkIP: "192.0.2.51", NetworkPort: 5060, Transport: "tcp", Profile: "external", UserAgent: "Other"},
	}
	return env
}

// golden compares out with testdata/sofia/<name>.golden (rewritten with
// -update-sofia).
func golden(t *testing.T, name, out string) {
	t.Helper()
	path := filepath.Join("testdata", "sofia", name+".golden")
	if *updateSofia {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("%s:\n--- got\n%s\n--- want\n%s", name, out, want)
	}
}

func TestSofiaStatusGolden(t *testing.T) {
	env := newSofiaEnv(t)
	cases := []struct{ golden, args string }{
		{"status", "status"},
		{"status_gateways", "status gateway"},
		{"status_gateway", "status gateway carrier"},
		{"status_gateway_scoped", "status gateway external::backup"},
		{"status_profile", "status profile external"},
		{"status_profile_reg", "status profile internal reg"},
		{"xmlstatus", "xmlstatus"},
		{"xmlstatus_gateways", "xmlstatus gateway"},
		{"xmlstatus_gateway", "xmlstatus gateway carrier"},
		{"xmlstatus_profile", "xmlstatus profile internal"},
		{"xmlstatus_profile_reg", "xmlstatus profile internal reg"},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			golden(t, c.golden, run(env, "sofia", c.args))
		})
	}
}

// TestSofiaStatusLayout checks the table layout against FreeSWITCH's
// printf formats independently of the golden files.
func TestSofiaStatusLayout(t *testing.T) {
	env := newSofiaEnv(t)
	lines := strings.Split(run(env, "sofia", "status"), "\n")
	if len(sofiaLine) != 97 || lines[1] != sofiaLine {
		t.Errorf("rule %q", lines[1])
	}
	// "%25s\t%s\t  %40s\t%s"
	header := strings.Repeat(" ", 21) + "Name\t   Type\t  " + strings.Repeat(" ", 36) + "Data\tState"
	if lines[0] != header {
		t.Errorf("header %q", lines[0])
	}
	wantRows := []string{
		strings.Repeat(" ", 17) + "internal\tprofile\t  " + strings.Repeat(" ", 12) + "sip:mod_sofia@127.0.0.1:5060\tRUNNING (2)",
		strings.Repeat(" ", 17) + "external\tprofile\t  " + strings.Repeat(" ", 10) + "sip:mod_sofia@203.0.113.5:5080\tRUNNING (0)",
		strings.Repeat(" ", 8) + "external::carrier\tgateway\t  " + strings.Repeat(" ", 9) + "sip:acct100@sip.carrier.example\tREGED",
		strings.Repeat(" ", 9) + "external::backup\tgateway\t  " + strings.Repeat(" ", 19) + "sip:u2@backup.example\tFAIL_WAIT (retry: 57s)",
		strings.Repeat(" ", 11) + "external::peer\tgateway\t  " + strings.Repeat(" ", 16) + "sip:FreeSWITCH@192.0.2.9\tNOREG",
	}
	for i, w := range wantRows {
		if lines[2+i] != w {
			t.Errorf("row %d = %q\nwant      %q", i, lines[2+i], w)
		}
	}
	if got := lines[len(lines)-2]; got != "2 profiles 0 aliases" {
		t.Errorf("summary %q", got)
	}
	sum := strings.Split(run(env, "sofia", "status gateway"), "\n")
	if got := sum[len(sum)-2]; got != "3 gateways: Inbound(Failed/Total): 1/7,Outbound(Failed/Total):3/12" {
		t.Errorf("gateway summary %q", got)
	}
}

func TestSofiaStatusErrors(t *testing.T) {
	env := newSofiaEnv(t)
	cases := []struct{ args, want string }{
		{"status gateway nosuch", "Invalid Gateway!\n"},
		{"status gateway internal::carrier", "Invalid Gateway!\n"},
		{"status profile nosuch", "Invalid Profile!\n"},
		{"status foo bar", "Invalid Syntax!\n"},
		{"xmlstatus gateway nosuch", "Invalid Gateway!\n"},
		{"frobnicate", "Unknown Command [frobnicate]\n"},
		{"loglevel all 9", "-ERR sofia loglevel is not supported\n"},
		{"", sofiaUsage},
		{"help", sofiaUsage},
	}
	for _, c := range cases {
		if got := run(env, "sofia", c.args); got != c.want {
			t.Errorf("sofia %s = %q, want %q", c.args, got, c.want)
		}
	}
	if got := run(newEnv(t), "sofia", "status"); got != "-ERR sofia needs a running switch\n" {
		t.Errorf("without an endpoint: %q", got)
	}
}

func TestSofiaProfileCommands(t *testing.T) {
	env := newSofiaEnv(t)
	cases := []struct{ args, want string }{
		{"profile external", "Invalid Args!\n"},
		{"profile nosuch killgw x", "Invalid Profile [nosuch]"},
		{"profile external killgw", "-ERR missing gw name\n"},
		{"profile external killgw carrier", "+OK gateway marked for deletion.\n"},
		{"profile external killgw _all_", "+OK every gateway marked for deletion.\n"},
		{"profile external killgw nosuch", "-ERR no such gateway.\n"},
		{"profile external startgw", "-ERR missing gw name\n"},
		{"profile external startgw newgw", "Reload XML [Success]\n+OK start gateway newgw complete\n"},
		{"profile external startgw missing", "Reload XML [Success]\n-ERR cannot add gateway missing for profile external\n"},
		{"profile EXTERNAL rescan", "Reload XML [Success]\n+OK scan complete\n"},
		{"profile external register", "No gateway name provided!\n"},
		{"profile external register carrier", "+OK\n"},
		{"profile external unregister all", "+OK\n"},
		{"profile external register peer", "-ERR NOREG gateway [peer] can't be registered!\n"},
		{"profile external unregister peer", "-ERR NOREG gateway [peer] can't be unregistered!\n"},
		{"profile external register nosuch", "Invalid gateway!\n"},
		{"profile external gwlist", "carrier peer "},
		{"profile external gwlist down", "backup "},
		{"profile internal gwlist", ""},
		{"profile external siptrace on", "-ERR sofia profile siptrace is not supported\n"},
		{"profile external bogus", "-ERR Unknown command!\n"},
		{"profile external start", "-ERR profiles start and stop with switchboard; restart it to add or restart one\n"},
	}
	for _, c := range cases {
		if got := run(env, "sofia", c.args); got != c.want {
			t.Errorf("sofia %s = %q, want %q", c.args, got, c.want)
		}
	}
	if got, want := strings.Join(env.killed, ","), "external/carrier,external/_all_"; got != want {
		t.Errorf("killed %s, want %s", got, want)
	}
	if got, want := strings.Join(env.started, ","), "external/newgw"; got != want {
		t.Errorf("started %s, want %s", got, want)
	}
	if got, want := strings.Join(env.rescanned, ","), "external"; got != want {
		t.Errorf("rescanned %s, want %s", got, want)
	}
	if got, want := strings.Join(env.registered, ","), "register external/carrier,unregister external/all"; got != want {
		t.Errorf("registered %s, want %s", got, want)
	}
	if env.reloads != 3 {
		t.Errorf("%d reloads, want 3 (startgw twice, rescan)", env.reloads)
	}

	env.reloadErr = errors.New("conf/sip_profiles/external/bad.xml:4: ping \"x\" is not a number")
	want := "Reload XML [conf/sip_profiles/external/bad.xml:4: ping \"x\" is not a number]\n+OK scan complete\n"
	if got := run(env, "sofia", "profile external rescan"); got != want {
		t.Errorf("rescan after a refused reload = %q, want %q", got, want)
	}
}

func TestSofiaGatewayData(t *testing.T) {
	env := newSofiaEnv(t)
	cases := []struct{ args, want string }{
		{"carrier ivar in_only", "a&b"},
		{"carrier ovar in_only", ""},
		{"carrier ovar out_only", "2"},
		{"carrier var out_only", "2"},
		{"carrier var both", "1"},
		{"external::carrier var both", "1"},
		{"nosuch var both", ""},
		{"carrier var", ""},
		{"", "-ERR Parameter missing\n"},
	}
	for _, c := range cases {
		if got := run(env, "sofia_gateway_data", c.args); got != c.want {
			t.Errorf("sofia_gateway_data %s = %q, want %q", c.args, got, c.want)
		}
	}
}
