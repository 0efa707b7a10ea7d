package esl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
)

// loadConf loads a configuration tree whose configuration section holds
// the given <configuration> elements.
func loadConf(t *testing.T, configs string) *conf.Snapshot {
	t.Helper()
	dir := conftest.WriteTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml"><section name="configuration">` + configs + `</section></document>`,
	})
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func esConf(params string) string {
	return `<configuration name="event_socket.conf"><settings>` + params + `</settings></configuration>`
}

func param(name, value string) string {
	return fmt.Sprintf(`<param name=%q value=%q/>`, name, value)
}

func TestSettingsFromSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name, configs string
		want          Settings
		err           string
	}{
		{name: "no configuration", configs: "",
			want: Settings{Enabled: true, ListenIP: "127.0.0.1", ListenPort: 8021, Password: "ClueCon", InboundACL: []string{"loopback.auto"}}},
		{name: "everything", configs: esConf(param("listen-ip", "::") + param("listen-port", "8022") + param("password", "s3cret") +
			param("apply-inbound-acl", "lan") + param("apply-inbound-acl", "10.0.0.0/8") + param("nat-map", "false") + param("stop-on-bind-error", "true")),
			want: Settings{Enabled: true, ListenIP: "::", ListenPort: 8022, Password: "s3cret", InboundACL: []string{"lan", "10.0.0.0/8"}, StopOnBindError: true}},
		{name: "empty values keep the defaults", configs: esConf(param("listen-ip", "") + param("listen-port", "") + param("password", "")),
			want: Settings{Enabled: true, ListenIP: "127.0.0.1", ListenPort: 8021, Password: "ClueCon", InboundACL: []string{"loopback.auto"}}},
		{name: "bracketed IPv6 and port 0", configs: esConf(param("listen-ip", "[::1]") + param("listen-port", "0")),
			want: Settings{Enabled: true, ListenIP: "::1", ListenPort: 0, Password: "ClueCon", InboundACL: []string{"loopback.auto"}}},
		{name: "modules.conf without mod_event_socket", configs: `<configuration name="modules.conf"><modules><load module="mod_sofia"/></modules></configuration>`,
			want: Settings{Enabled: false, ListenIP: "127.0.0.1", ListenPort: 8021, Password: "ClueCon", InboundACL: []string{"loopback.auto"}}},
		{name: "modules.conf with it", configs: `<configuration name="modules.conf"><modules><load module="mod_event_socket"/></modules></configuration>`,
			want: Settings{Enabled: true, ListenIP: "127.0.0.1", ListenPort: 8021, Password: "ClueCon", InboundACL: []string{"loopback.auto"}}},
		{name: "bad port", configs: esConf(param("listen-port", "80211")), err: `freeswitch.xml:1: event_socket.conf: listen-port "80211" is not a port number`},
		{name: "not a number", configs: esConf(param("listen-port", "http")), err: `listen-port "http" is not a port number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SettingsFromSnapshot(loadConf(t, tc.configs))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestEmbeddedDefaultSettings: the default configuration listens on
// loopback with the default password, which Check accepts.
func TestEmbeddedDefaultSettings(t *testing.T) {
	snap, err := conf.Load(conf.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := SettingsFromSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Enabled || s.Addr() != "127.0.0.1:8021" || s.Password != DefaultPassword {
		t.Errorf("default settings %+v", s)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

func TestSettingsCheck(t *testing.T) {
	for _, tc := range []struct {
		ip, password string
		ok           bool
	}{
		{"127.0.0.1", "ClueCon", true},
		{"127.0.0.2", "ClueCon", true},
		{"::1", "ClueCon", true},
		{"localhost", "ClueCon", true},
		{"::", "ClueCon", false},
		{"0.0.0.0", "ClueCon", false},
		{"192.168.1.10", "ClueCon", false},
		{"example.com", "ClueCon", false},
		{"::", "long-and-private", true},
		{"0.0.0.0", "clueCon", true},
	} {
		err := Settings{Enabled: true, ListenIP: tc.ip, Password: tc.password}.Check()
		if (err == nil) != tc.ok {
			t.Errorf("%s with %s: %v", tc.ip, tc.password, err)
		}
	}
	if err := (Settings{Enabled: false, ListenIP: "::", Password: "ClueCon"}).Check(); err != nil {
		t.Errorf("a disabled socket: %v", err)
	}
}
