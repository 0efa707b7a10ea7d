package sip

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
)

// reloaded loads env's configuration with each old → new replacement
// made in its expanded text: what a reload of an edited file reads.
func reloaded(t *testing.T, env *testEnv, repl ...string) *conf.Snapshot {
	t.Helper()
	text := env.snap.Dump()
	for i := 0; i+1 < len(repl); i += 2 {
		if !strings.Contains(text, repl[i]) {
			t.Fatalf("the configuration has no %q", repl[i])
		}
		text = strings.Replace(text, repl[i], repl[i+1], 1)
	}
	dir := conftest.WriteTree(t, map[string]string{"freeswitch.xml": text})
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestPlanReload(t *testing.T) {
	env := newEnv(t, envOpts{acl: `<list name="lan" default="deny"><node type="allow" cidr="10.0.0.0/8"/></list>`})
	tests := []struct {
		name    string
		repl    []string
		restart []string
		wantErr string
	}{
		{name: "unchanged"},
		{
			name: "a changed ACL applies without a restart",
			repl: []string{`cidr="10.0.0.0/8"`, `cidr="192.168.0.0/16"`},
		},
		{
			name:    "listen port and context need a restart",
			repl:    []string{`<param name="sip-port" value="0"/>`, `<param name="sip-port" value="5099"/>`, `<param name="context" value="public"/>`, `<param name="context" value="default"/>`},
			restart: []string{"sofia.conf: profile internal: sip-port", "sofia.conf: profile internal: context"},
		},
		{
			name:    "a new profile needs a restart",
			repl:    []string{`</profiles>`, `<profile name="extra"><settings><param name="sip-ip" value="127.0.0.1"/></settings></profile></profiles>`},
			restart: []string{"sofia.conf: profile extra is new"},
		},
		{
			name:    "a removed profile needs a restart",
			repl:    []string{`<profile name="internal">`, `<profile name="renamed">`},
			restart: []string{"sofia.conf: profile renamed is new", "sofia.conf: profile internal was removed"},
		},
		{
			name:    "a bad ACL node refuses the reload",
			repl:    []string{`cidr="10.0.0.0/8"`, `cidr="10.0.0.0/99"`},
			wantErr: `freeswitch.xml:`,
		},
		{
			name:    "a profile that cannot work refuses the reload",
			repl:    []string{`<param name="sip-ip" value="127.0.0.1"/>`, `<param name="sip-ip" value="nonsense"/>`},
			wantErr: "sip: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := reloaded(t, env, tt.repl...)
			r, err := env.ep.PlanReload(snap)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Restart, tt.restart) {
				t.Errorf("restart %q, want %q", r.Restart, tt.restart)
			}
		})
	}
}

// TestApplyReloadACL: a new call is classified with the reloaded network
// lists; nothing else about the endpoint changes.
func TestApplyReloadACL(t *testing.T) {
	env := newEnv(t, envOpts{
		acl:      `<list name="lan" default="deny"><node type="allow" cidr="10.0.0.0/8"/></list>`,
		settings: `<param name="apply-inbound-acl" value="lan"/><param name="auth-calls" value="false"/>`,
	})
	u := newUAC(t, env, "udp")
	d := u.dialog("park")
	d.invite(d.offer("0"))
	if r := u.final(d.callID, sip.INVITE); r.StatusCode != 403 {
		t.Fatalf("before the reload: got %d, want 403", r.StatusCode)
	}

	r, err := env.ep.PlanReload(reloaded(t, env, `cidr="10.0.0.0/8"`, `cidr="127.0.0.0/8"`))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Restart) != 0 {
		t.Errorf("an ACL change asks for a restart: %q", r.Restart)
	}
	env.ep.ApplyReload(r)

	d = u.dialog("park")
	d.invite(d.offer("0"))
	d.expectAnswer()
	d.request("BYE", "")
	d.resp(sip.BYE, 200)
}

// TestProfileParamNames: every ProfileConfig field has its sofia.conf
// name, so a restart note never shows a Go field name.
func TestProfileParamNames(t *testing.T) {
	typ := reflect.TypeOf(ProfileConfig{})
	for i := 0; i < typ.NumField(); i++ {
		if _, ok := profileParamNames[typ.Field(i).Name]; !ok {
			t.Errorf("ProfileConfig.%s has no entry in profileParamNames", typ.Field(i).Name)
		}
	}
}
