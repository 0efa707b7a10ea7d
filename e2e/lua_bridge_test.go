package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// Lua scripts that place calls (issue 7 with the B2BUA): FreeSWITCH-style
// scripts in testdata/lua_bridge/scripts answer the caller (phone 1000),
// call phone 1001 with freeswitch.Session or session:execute("bridge"),
// and bridge the two. The switch runs the default configuration (its
// directory and phones) with testdata/lua_bridge/conf laid over it. The
// scripts write what they see to key=value files in lua_out_dir.

// luaBridgeSwitch is a switch for these tests and the directory its
// scripts write to.
type luaBridgeSwitch struct {
	*bridgeSwitch
	out string
}

// startLuaBridgeSwitch copies conf/default, lays
// testdata/lua_bridge/conf over it, adds extra (relative path → content),
// and starts the switch with script_dir on testdata/lua_bridge/scripts.
func startLuaBridgeSwitch(t *testing.T, extra map[string]string) *luaBridgeSwitch {
	t.Helper()
	requireRun(t)
	conf := filepath.Join(t.TempDir(), "conf")
	if err := harness.CopyTree(filepath.Join(build.root, "conf", "default"), conf); err != nil {
		t.Fatalf("copying the default configuration: %v", err)
	}
	if err := overlay(filepath.Join("testdata", "lua_bridge", "conf"), conf); err != nil {
		t.Fatalf("laying testdata/lua_bridge/conf over it: %v", err)
	}
	for rel, content := range extra {
		if err := os.WriteFile(filepath.Join(conf, filepath.FromSlash(rel)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scripts, err := filepath.Abs(filepath.Join("testdata", "lua_bridge", "scripts"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sw := harness.Start(t, harness.Options{
		Binary:  build.bin,
		ConfDir: conf,
		Set: map[string]string{
			"script_dir":        scripts,
			"lua_out_dir":       out,
			"event_socket_port": "0",
		},
	})
	ts := &testSwitch{Switch: sw}
	ts.base, err = sw.Vars(t.Context())
	if err != nil {
		t.Fatalf("debug variables: %v", err)
	}
	t.Cleanup(func() { sw.CheckSettled(t, ts.base, perTestSlack, 15*time.Second) })
	return &luaBridgeSwitch{bridgeSwitch: &bridgeSwitch{testSwitch: ts}, out: out}
}

// results waits until the script wrote "end" to file and returns what
// it wrote (the last value of each key).
func (s *luaBridgeSwitch) results(t *testing.T, ctx context.Context, file string) map[string]string {
	t.Helper()
	var got map[string]string
	err := waitFor(ctx, func() bool {
		got = readRecord(filepath.Join(s.out, file))
		_, done := got["end"]
		return done
	})
	if err != nil {
		t.Fatalf("%s: the script did not finish (%v); it wrote %v\nlog:\n%s", file, err, got, s.Logs())
	}
	return got
}

// readRecord reads a key=value file; a missing file reads as empty.
func readRecord(path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = v
		}
	}
	return out
}

// wantRecord checks a script's results.
func wantRecord(t *testing.T, file string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q (all: %v)", file, k, got[k], v, got)
		}
	}
}

// talk has each side send a tone while the other listens: the caller
// 700 Hz, the callee 1200 Hz, for a second, and checks what each heard.
func talk(t *testing.T, ctx context.Context, c *sipclient.Call, in *sipclient.Incoming) {
	t.Helper()
	const sent = time.Second
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() { errs <- c.SendTone(ctx, 700, sent) })
	wg.Go(func() { errs <- in.SendTone(ctx, 1200, sent) })
	if _, err := in.WaitTone(ctx, 700, sent/2); err != nil {
		t.Errorf("1001 does not hear the caller: %v", err)
	}
	if _, err := c.WaitTone(ctx, 1200, sent/2); err != nil {
		t.Errorf("the caller does not hear 1001: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("sending a tone: %v", err)
		}
	}
	settle, cancel := context.WithTimeout(ctx, time.Second)
	_, _ = in.WaitTone(settle, 700, sent-40*time.Millisecond)
	_, _ = c.WaitTone(settle, 1200, sent-40*time.Millisecond)
	cancel()
	others := []float64{700, 1200, 440, 480}
	checkTone(t, "1001", in.Recording(), 700, sent, others...)
	checkTone(t, "the caller", c.Recording(), 1200, sent, others...)
	if s, ok := sipclient.FindTone(c.Recording().Samples, sipclient.SampleRate, 700, others...); ok {
		t.Errorf("the caller hears itself: 700 Hz for %v", s.Duration)
	}
}

// checkWatch checks what watch.lua saw from outside during the bridge:
// both legs bridged to each other, and both listed by "show channels as
// json".
func (s *luaBridgeSwitch) checkWatch(t *testing.T, ctx context.Context, aUUID, bUUID string) {
	t.Helper()
	w := s.results(t, ctx, "watch.txt")
	wantRecord(t, "watch.txt", w, map[string]string{"a_bridged": "true", "b_bridged": "true", "b_partner": aUUID})
	if bUUID != "" && w["b_uuid"] != bUUID {
		t.Errorf("watch.txt: the caller is bridged to %q, want %q", w["b_uuid"], bUUID)
	}
	b, err := os.ReadFile(filepath.Join(s.out, "channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var channels struct {
		RowCount int `json:"row_count"`
		Rows     []struct {
			UUID      string `json:"uuid"`
			Direction string `json:"direction"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(b, &channels); err != nil {
		t.Fatalf("show channels as json: %v\n%s", err, b)
	}
	dirs := map[string]string{}
	for _, r := range channels.Rows {
		dirs[r.UUID] = r.Direction
	}
	if channels.RowCount != 2 || dirs[aUUID] != "inbound" || dirs[w["b_uuid"]] != "outbound" {
		t.Errorf("show channels as json during the bridge lists %v (row_count %d), want the caller %s inbound and 1001's leg %s outbound",
			dirs, channels.RowCount, aUUID, w["b_uuid"])
	}
}

// TestLuaSessionBridge: the script answers 1000, places a call to 1001
// (freeswitch.Session with and without an A-leg, or session:originate on
// an empty object), 1001 answers, and freeswitch.bridge connects them:
// each hears the other, the legs are bridged (session:bridged() seen
// from a second script) and both listed by show channels; a hangup on
// either side ends the other one with NORMAL_CLEARING. When 1001 hangs
// up, the script goes on with the caller.
func TestLuaSessionBridge(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ext           func(callee *sipclient.Phone) string
		how           string
		calleeHangsUp bool
	}{
		{"Session(user/1001)", func(*sipclient.Phone) string { return "3101" }, "new", false},
		{"Session(sofia/internal/1001@host:port, session)", func(p *sipclient.Phone) string {
			return "3102_" + strconv.Itoa(int(p.Addr().Port()))
		}, "aleg", true},
		{"session:originate", func(*sipclient.Phone) string { return "3103" }, "originate", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := startLuaBridgeSwitch(t, nil)
			ctx := callCtx(t)
			caller := sw.phone(t, ctx, "1000")
			callee := sw.phone(t, ctx, "1001")
			c := sw.dialFrom(t, ctx, caller, tc.ext(callee), sipclient.Options{DisplayName: "Extension 1000"})
			if err := c.Answer(ctx); err != nil {
				t.Fatalf("the script did not answer: %v (%v)", err, c)
			}
			in := ringing(t, ctx, callee, c)
			if err := in.Ring(); err != nil {
				t.Fatal(err)
			}
			if err := in.Answer(ctx); err != nil {
				t.Fatalf("1001 answering: %v (%v)", err, in)
			}
			if err := waitFor(ctx, func() bool {
				_, ok := readRecord(filepath.Join(sw.out, "watch.txt"))["end"]
				return ok
			}); err != nil {
				t.Fatalf("the bridge was not seen: %v\nlog:\n%s", err, sw.Logs())
			}
			before := readRecord(filepath.Join(sw.out, "bridge.txt"))
			aUUID := before["a_uuid"]
			want := map[string]string{
				"ready": "true", "answered": "true", "cause": "SUCCESS", "leg_direction": "outbound",
				"bridged_before": "false", "a_disposition": "nil", "originate_result": "nil", "leg_originator": "nil",
			}
			if tc.how != "new" {
				// With an A-leg the originate's result is set on it and
				// the new leg knows its originator.
				want["a_disposition"] = "call accepted"
				want["leg_originator"] = aUUID
			}
			if tc.how == "originate" {
				want["originate_result"] = "0"
			}
			wantRecord(t, "bridge.txt", before, want)
			if before["leg_uuid"] == "" || before["leg_uuid"] == "nil" || before["uuid_var"] != before["leg_uuid"] {
				t.Errorf("bridge.txt: the new leg's uuid %q, getVariable(\"uuid\") %q", before["leg_uuid"], before["uuid_var"])
			}
			sw.checkWatch(t, ctx, aUUID, before["leg_uuid"])

			talk(t, ctx, c, in)

			normal := sipclient.Cause{Protocol: "Q.850", Code: 16, Text: "NORMAL_CLEARING"}
			if tc.calleeHangsUp {
				if err := in.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				// The script goes on with the caller: 500 Hz, then the
				// dialplan ends.
				if _, err := c.WaitTone(ctx, 500, 300*time.Millisecond); err != nil {
					t.Errorf("the script did not go on after the bridge: %v", err)
				}
				cause, err := c.WaitBye(ctx)
				if err != nil {
					t.Fatalf("the caller after the script: %v (%v)", err, c)
				}
				if cause != normal {
					t.Errorf("the caller's BYE gave cause %+v, want %+v", cause, normal)
				}
			} else {
				if err := c.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
				cause, err := in.WaitBye(ctx)
				if err != nil {
					t.Fatalf("1001 after the caller hung up: %v", err)
				}
				if cause != normal {
					t.Errorf("1001's BYE gave cause %+v, want %+v", cause, normal)
				}
			}
			after := sw.results(t, ctx, "bridge.txt")
			wantRecord(t, "bridge.txt", after, map[string]string{
				"bridged_after": "false", "leg_ready_after": "false", "end": "bridged",
				"a_ready_after": strconv.FormatBool(tc.calleeHangsUp), "last_bridge_to": before["leg_uuid"],
			})
		})
	}
}

// TestLuaSessionDropped: a Session the script does not bridge is hung up
// (NORMAL_CLEARING) when the script ends, the object's auto-hangup.
func TestLuaSessionDropped(t *testing.T) {
	sw := startLuaBridgeSwitch(t, nil)
	ctx := callCtx(t)
	caller := sw.phone(t, ctx, "1000")
	callee := sw.phone(t, ctx, "1001")
	c := sw.dialFrom(t, ctx, caller, "3104", sipclient.Options{DisplayName: "Extension 1000"})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	in := ringing(t, ctx, callee, c)
	if err := in.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	cause, err := in.WaitBye(ctx)
	if err != nil {
		t.Fatalf("1001 was not hung up when the script ended: %v", err)
	}
	if cause != (sipclient.Cause{Protocol: "Q.850", Code: 16, Text: "NORMAL_CLEARING"}) {
		t.Errorf("1001's BYE gave cause %+v, want NORMAL_CLEARING", cause)
	}
	got := sw.results(t, ctx, "bridge.txt")
	wantRecord(t, "bridge.txt", got, map[string]string{"ready": "true", "cause": "SUCCESS", "end": "no bridge"})
	if _, err := c.WaitBye(ctx); err != nil {
		t.Errorf("the caller was not hung up at the end of its dialplan: %v", err)
	}
}

// TestLuaSessionBusy: 1001 refuses with 486. The object is not ready,
// its hangupCause() is USER_BUSY, it has no channel (getState ERROR), and
// the caller's originate_disposition and DIALSTATUS say so; the script
// goes on (900 Hz to the caller).
func TestLuaSessionBusy(t *testing.T) {
	sw := startLuaBridgeSwitch(t, nil)
	ctx := callCtx(t)
	caller := sw.phone(t, ctx, "1000")
	callee := sw.phone(t, ctx, "1001")
	c := sw.dialFrom(t, ctx, caller, "3105", sipclient.Options{DisplayName: "Extension 1000"})
	in := ringing(t, ctx, callee, c)
	if err := in.Ring(); err != nil {
		t.Fatal(err)
	}
	if err := in.Reject(486, "Busy Here"); err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(ctx); err != nil {
		t.Fatalf("the script did not go on after the refusal: %v (%v)", err, c)
	}
	waitTone(ctx, t, c, 900)
	got := sw.results(t, ctx, "busy.txt")
	wantRecord(t, "busy.txt", got, map[string]string{
		"ready": "false", "cause": "USER_BUSY", "leg_uuid": "nil", "state": "ERROR",
		"a_disposition": "USER_BUSY", "a_dialstatus": "BUSY",
	})
	if _, err := c.WaitBye(ctx); err != nil {
		t.Errorf("the caller was not hung up at the end of its dialplan: %v", err)
	}
}

// TestLuaExecuteBridge: session:execute("bridge", "user/1001") runs the
// bridge application from the script: 1001 rings, answers, both sides
// hear each other; when 1001 hangs up the application returns and the
// script goes on with the caller (no hangup_after_bridge on this
// channel).
func TestLuaExecuteBridge(t *testing.T) {
	sw := startLuaBridgeSwitch(t, nil)
	ctx := callCtx(t)
	caller := sw.phone(t, ctx, "1000")
	callee := sw.phone(t, ctx, "1001")
	c := sw.dialFrom(t, ctx, caller, "3106", sipclient.Options{DisplayName: "Extension 1000"})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	in := ringing(t, ctx, callee, c)
	if err := in.Ring(); err != nil {
		t.Fatal(err)
	}
	if err := in.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	w := sw.results(t, ctx, "watch.txt")
	aUUID := readRecord(filepath.Join(sw.out, "execute.txt"))["a_uuid"]
	sw.checkWatch(t, ctx, aUUID, "")
	talk(t, ctx, c, in)
	if err := in.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitTone(ctx, 500, 300*time.Millisecond); err != nil {
		t.Errorf("the script did not go on after the bridge: %v", err)
	}
	got := sw.results(t, ctx, "execute.txt")
	wantRecord(t, "execute.txt", got, map[string]string{
		"a_ready_after": "true", "last_bridge_to": w["b_uuid"], "bridge_hangup_cause": "NORMAL_CLEARING",
		"a_disposition": "call accepted",
	})
	if _, err := c.WaitBye(ctx); err != nil {
		t.Errorf("the caller was not hung up at the end of its dialplan: %v", err)
	}
}

// TestLuaStartupScript: lua.conf's startup-script runs once when the
// switch starts, in the background, with its arguments in argv and no
// session; reloadxml does not run it again (FreeSWITCH reads it when
// mod_lua loads).
func TestLuaStartupScript(t *testing.T) {
	sw := startLuaBridgeSwitch(t, map[string]string{"autoload_configs/lua.conf.xml": `<configuration name="lua.conf" description="Lua scripts">
  <settings>
    <param name="script-directory" value="$${script_dir}/?.lua"/>
    <param name="startup-script" value="startup.lua one 'two words'"/>
  </settings>
</configuration>
`})
	ctx := callCtx(t)
	path := filepath.Join(sw.out, "startup.txt")
	if err := waitFor(ctx, func() bool { _, ok := readRecord(path)["running"]; return ok }); err != nil {
		t.Fatalf("the start-up script did not run: %v\nlog:\n%s", err, sw.Logs())
	}
	wantRecord(t, "startup.txt", readRecord(path), map[string]string{
		"argv": "startup.lua|one|two words", "session": "nil", "running": "true",
	})
	if err := sw.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, func() bool { return strings.Contains(sw.Logs(), "reloadxml: configuration reloaded") }); err != nil {
		t.Fatalf("no reload: %v\nlog:\n%s", err, sw.Logs())
	}
	// A start-up script is announced in the log before it starts; the
	// reload has finished, so one started by it would be announced by now.
	if n := strings.Count(sw.Logs(), "running start-up script startup.lua"); n != 1 {
		t.Errorf("the start-up script was started %d times, want once (not again on reloadxml)\nlog:\n%s", n, sw.Logs())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "running="); n != 1 {
		t.Errorf("startup.txt holds %d runs, want 1:\n%s", n, b)
	}
}
