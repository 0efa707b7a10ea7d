package main

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/esl"
)

// eslConf is event_socket.conf on a free loopback port with password pw.
func eslConf(pw string) string {
	return `<configuration name="event_socket.conf"><settings>
  <param name="listen-ip" value="127.0.0.1"/>
  <param name="listen-port" value="0"/>
  <param name="password" value="` + pw + `"/>
</settings></configuration>
`
}

// TestESLStartsWithTheSwitch: the running switch serves the event socket
// with its commands and events, names it in the ready line, and a reload
// puts a new password in force for new connections.
func TestESLStartsWithTheSwitch(t *testing.T) {
	tree := maps.Clone(reloadTree)
	tree["autoload_configs/event_socket.conf.xml"] = eslConf("first")
	dir := conftest.WriteTree(t, tree)
	sw := startSwitchOn(t, dir, obsFlags{})
	if sw.esl == nil || sw.esl.Addr() == nil {
		t.Fatal("no event socket")
	}
	addr := sw.esl.Addr().String()
	if got := sw.eslListening(); len(got) != 1 || got[0] != "event_socket tcp/"+addr {
		t.Errorf("ready line part %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := esl.Dial(ctx, addr, "first")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// The switch's own Env: its runtime globals and configuration.
	if out, err := cl.API(ctx, "global_setvar esl_probe=yes"); err != nil {
		t.Fatal(out, err)
	}
	if v, _ := sw.globals.Get("esl_probe"); v != "yes" {
		t.Errorf("global_setvar over the event socket did not reach the switch's globals (%q)", v)
	}
	if out, err := cl.API(ctx, "global_getvar greeting"); err != nil || out != "hello" {
		t.Errorf("global_getvar greeting: %q %v", out, err)
	}

	conftest.AddFiles(t, dir, map[string]string{"autoload_configs/event_socket.conf.xml": eslConf("second")})
	snap, err := loadConfig(sw.obs.cf, "", sw.log)
	if err != nil {
		t.Fatal(err)
	}
	apply, err := sw.planESLReload(snap)
	if err != nil {
		t.Fatal(err)
	}
	if restart := apply(); len(restart) != 0 {
		t.Errorf("restart needed for %q", restart)
	}
	if _, err := esl.Dial(ctx, addr, "first"); err == nil || !strings.Contains(err.Error(), "-ERR invalid") {
		t.Errorf("the old password after the reload: %v", err)
	}
	cl2, err := esl.Dial(ctx, addr, "second")
	if err != nil {
		t.Fatalf("the new password after the reload: %v", err)
	}
	cl2.Close()
	// The connection made before the reload stays.
	if out, err := cl.API(ctx, "echo still"); err != nil || out != "still" {
		t.Errorf("the first connection after the reload: %q %v", out, err)
	}
}

// TestESLDefaultPasswordOffLoopback: `run` refuses to listen off
// loopback with the password every FreeSWITCH user knows.
func TestESLDefaultPasswordOffLoopback(t *testing.T) {
	tree := maps.Clone(reloadTree)
	tree["autoload_configs/event_socket.conf.xml"] = `<configuration name="event_socket.conf"><settings>
  <param name="listen-ip" value="::"/>
  <param name="listen-port" value="0"/>
</settings></configuration>
`
	dir := conftest.WriteTree(t, tree)
	r := runCLI(t, "run", "--conf", dir, "--state-dir", t.TempDir(), "--admin-addr", "off")
	if r.code != exitError || !strings.Contains(r.stderr, `listen-ip :: is not a loopback address and the password is the well-known default "ClueCon"`) {
		t.Errorf("want exit 1 naming the problem\n%s", r)
	}
}

// TestESLDisabledByModulesConf: no event socket when modules.conf leaves
// mod_event_socket out.
func TestESLDisabledByModulesConf(t *testing.T) {
	tree := maps.Clone(reloadTree)
	tree["autoload_configs/modules.conf.xml"] = `<configuration name="modules.conf"><modules><load module="mod_sofia"/></modules></configuration>`
	sw := startSwitchOn(t, conftest.WriteTree(t, tree), obsFlags{})
	if sw.esl != nil || sw.eslListening() != nil {
		t.Error("an event socket without mod_event_socket")
	}
}
