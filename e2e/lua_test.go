package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// The pure-Go SQLite driver, to read what the Dbh script wrote.
	_ "modernc.org/sqlite"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/e2e/sipclient"
)

// These tests call Lua scripts (testdata/scripts) through extension
// lua_<name> of testdata/conf and check what the caller hears and what
// the scripts wrote. After each script the dialplan plays 200 Hz: the
// script's end does not hang the call up.

// luaSwitch is a switch on testdata/conf with script_dir on
// testdata/scripts and lua_out_dir a fresh directory the scripts write
// their results to.
type luaSwitch struct {
	*testSwitch
	out string
}

func startLuaSwitch(t *testing.T) *luaSwitch {
	t.Helper()
	requireRun(t)
	sounds, err := filepath.Abs(filepath.Join("testdata", "sounds"))
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := filepath.Abs(filepath.Join("testdata", "scripts"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sw := harness.Start(t, harness.Options{
		Binary:  build.bin,
		ConfDir: filepath.Join("testdata", "conf"),
		Set:     map[string]string{"test_sounds_dir": sounds, "script_dir": scripts, "lua_out_dir": out},
	})
	ts := &testSwitch{Switch: sw}
	ts.base, err = sw.Vars(t.Context())
	if err != nil {
		t.Fatalf("debug variables: %v", err)
	}
	t.Cleanup(func() { sw.CheckSettled(t, ts.base, perTestSlack, 15*time.Second) })
	return &luaSwitch{testSwitch: ts, out: out}
}

// TestLuaMenu: playAndGetDigits answered by DTMF, each outcome heard as
// its own tone, then the dialplan's 200 Hz after the script.
func TestLuaMenu(t *testing.T) {
	sw := startLuaSwitch(t)
	tests := []struct {
		name  string
		steps func(ctx context.Context, t *testing.T, c *sipclient.Call)
		want  float64
	}{
		{"valid choice", func(ctx context.Context, t *testing.T, c *sipclient.Call) {
			waitTone(ctx, t, c, 350)
			sendDTMF(ctx, t, c, "2")
		}, 900},
		{"invalid then valid", func(ctx context.Context, t *testing.T, c *sipclient.Call) {
			waitTone(ctx, t, c, 350)
			sendDTMF(ctx, t, c, "9")
			waitTone(ctx, t, c, 480)
			sendDTMF(ctx, t, c, "1")
		}, 700},
		{"no input", func(ctx context.Context, t *testing.T, c *sipclient.Call) {
			waitTone(ctx, t, c, 350)
			waitTone(ctx, t, c, 480)
		}, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := callCtx(t)
			c := sw.dial(t, ctx, "lua_menu", sipclient.Options{})
			if err := c.Answer(ctx); err != nil {
				t.Fatal(err)
			}
			tt.steps(ctx, t, c)
			waitTone(ctx, t, c, tt.want)
			waitTone(ctx, t, c, 200) // the dialplan went on after the script
			if _, err := c.WaitBye(ctx); err != nil {
				t.Fatalf("no BYE after the dialplan's end: %v", err)
			}
		})
	}
}

// TestLuaInputCallback: a digit the callback answers "true" lets the
// minute-long prompt go on; 5 ("break") stops it, and streamFile's 0 is
// heard as 700 Hz.
func TestLuaInputCallback(t *testing.T) {
	sw := startLuaSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "lua_callback", sipclient.Options{})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, c, 350)
	sendDTMF(ctx, t, c, "1")
	sendDTMF(ctx, t, c, "5")
	waitTone(ctx, t, c, 700)
	waitTone(ctx, t, c, 200)
	_ = c.Hangup(ctx)
}

// TestLuaHangupHook: the caller hangs up during the script's loop; the
// hook runs at the loop's next session call and writes how the call
// ended.
func TestLuaHangupHook(t *testing.T) {
	sw := startLuaSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "lua_hook", sipclient.Options{From: "hooker"})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, c, 600) // the hook is armed
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sw.out, "hooker.hook")
	var got []byte
	waitUntilTrue(ctx, t, "the hook's file", func() bool {
		b, err := os.ReadFile(path)
		got = b
		return err == nil && len(b) > 0
	})
	if string(got) != "hangup NORMAL_CLEARING armed hangup" {
		t.Errorf("the hook wrote %q", got)
	}
}

// TestLuaAPI: API():executeString("show channels as json") lists the
// script's own call.
func TestLuaAPI(t *testing.T) {
	sw := startLuaSwitch(t)
	ctx := callCtx(t)
	c := sw.dial(t, ctx, "lua_api", sipclient.Options{From: "apicaller"})
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, c, 700)
	b, err := os.ReadFile(filepath.Join(sw.out, "apicaller.channels"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		RowCount int `json:"row_count"`
		Rows     []struct {
			Dest        string `json:"dest"`
			CIDNum      string `json:"cid_num"`
			Application string `json:"application"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if got.RowCount != 1 || len(got.Rows) != 1 || got.Rows[0].Dest != "lua_api" || got.Rows[0].CIDNum != "apicaller" || got.Rows[0].Application != "lua" {
		t.Errorf("show channels as json: %s", b)
	}
	waitTone(ctx, t, c, 200)
	_ = c.Hangup(ctx)
}

// TestLuaDbh: two calls write to one SQLite file through freeswitch.Dbh;
// each reads the count back (700 Hz for one row, 900 Hz for two), and the
// file holds both callers.
func TestLuaDbh(t *testing.T) {
	sw := startLuaSwitch(t)
	for i, want := range []float64{700, 900} {
		ctx := callCtx(t)
		from := []string{"first", "second"}[i]
		c := sw.dial(t, ctx, "lua_dbh", sipclient.Options{From: from})
		if err := c.Answer(ctx); err != nil {
			t.Fatal(err)
		}
		waitTone(ctx, t, c, want)
		waitTone(ctx, t, c, 200)
		_ = c.Hangup(ctx)
	}
	db, err := sql.Open("sqlite", filepath.Join(sw.out, "e2e_lua.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT number FROM callers ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if strings.Join(got, ",") != "first,second" {
		t.Errorf("callers in the database: %v", got)
	}
}

// TestLuaDemoIVR calls 5000 of the embedded default configuration: the
// demo IVR (conf/default/scripts/demo_ivr.lua) greets the caller, takes a
// number with playAndGetDigits, says it back and transfers to the hold
// music.
func TestLuaDemoIVR(t *testing.T) {
	requireRun(t)
	sw := harness.Start(t, harness.Options{Binary: build.bin})
	base, err := sw.Vars(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sw.CheckSettled(t, base, perTestSlack, 15*time.Second) })
	ctx := callCtx(t)
	c, err := sipclient.Dial(ctx, sipclient.Options{Target: sw.SIPURI("5000")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Answer(ctx); err != nil {
		t.Fatal(err)
	}
	// The welcome and the prompt: the digits may come during either.
	if err := c.WaitAudio(ctx, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sendDTMF(ctx, t, c, "42#")
	waitUntilTrue(ctx, t, "the IVR to take the number", func() bool {
		return strings.Contains(sw.Logs(), "demo_ivr: caller entered 42")
	})
	waitUntilTrue(ctx, t, "the transfer to the hold music", func() bool {
		return strings.Contains(sw.Logs(), "demo_ivr: call ended by transfer")
	})
	if strings.Contains(sw.Logs(), `"lua" is not implemented`) {
		t.Errorf("the default configuration still warns:\n%s", sw.Logs())
	}
	_ = c.Hangup(ctx)
}

// waitUntilTrue polls cond until it holds or ctx ends.
func waitUntilTrue(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
