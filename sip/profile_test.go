package sip

import (
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/media"
)

func loadSofia(t *testing.T, profiles string) (*conf.Snapshot, error) {
	t.Helper()
	fsys := fstest.MapFS{"freeswitch.xml": {Data: []byte(`<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration">
    <configuration name="sofia.conf"><profiles>` + profiles + `</profiles></configuration>
  </section>
</document>
`)}}
	return conf.Load(conf.Options{FS: fsys, Dir: "/test", StateDir: t.TempDir()})
}

func TestDefaultConfigProfile(t *testing.T) {
	snap, err := conf.Load(conf.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := parseProfiles(snap, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("%d profiles", len(ps))
	}
	p := ps[0]
	if p.Name != "internal" || p.SIPIP.String() != "127.0.0.1" || p.SIPPort != 5060 || p.Context != "public" || !p.AuthCalls {
		t.Errorf("profile %+v", p)
	}
	if len(p.InboundACL) != 1 || p.InboundACL[0] != (aclRule{list: "loopback.auto", pass: "default"}) {
		t.Errorf("inbound ACL %+v", p.InboundACL)
	}
	if p.RTPTimeout != 300*time.Second || p.RTPHoldTimeout != 1800*time.Second || p.TEPayload != 101 || p.DTMFType != "rfc2833" {
		t.Errorf("media settings %+v", p)
	}
	if len(p.InboundCodecs) != 2 || p.InboundCodecs[0] != media.PCMU || p.Greedy {
		t.Errorf("codecs %v greedy %v", p.InboundCodecs, p.Greedy)
	}
}

func TestProfileParams(t *testing.T) {
	snap, err := loadSofia(t, `
<profile name="a">
  <settings>
    <param name="sip-ip" value="127.0.0.1"/>
    <param name="sip-port" value="5070"/>
    <param name="ext-sip-ip" value="203.0.113.4"/>
    <param name="ext-rtp-ip" value="auto-nat"/>
    <param name="Inbound-Codec-Prefs" value="G722,PCMA@20i,PCMU,PCMA"/>
    <param name="inbound-codec-negotiation" value="greedy"/>
    <param name="apply-inbound-acl" value="lan:default:public"/>
    <param name="apply-inbound-acl" value="10.0.0.0/8"/>
    <param name="apply-nat-acl" value="nat.auto"/>
    <param name="dtmf-type" value="info"/>
    <param name="rfc2833-pt" value="96"/>
    <param name="rtp-timeout-sec" value="30"/>
    <param name="dialplan" value="XML"/>
  </settings>
</profile>`)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := parseProfiles(snap, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	if p.SIPPort != 5070 || p.ExtSIPIP.String() != "203.0.113.4" || p.ExtRTPIP.IsValid() {
		t.Errorf("addresses %+v", p)
	}
	if len(p.InboundCodecs) != 2 || p.InboundCodecs[0] != media.PCMA || p.InboundCodecs[1] != media.PCMU || !p.Greedy {
		t.Errorf("codecs %v greedy %v", p.InboundCodecs, p.Greedy)
	}
	if len(p.InboundACL) != 2 || p.InboundACL[0] != (aclRule{"lan", "default", "public"}) || p.InboundACL[1].list != "10.0.0.0/8" {
		t.Errorf("acl %+v", p.InboundACL)
	}
	if p.Context != "default" {
		t.Errorf("context %q: FreeSWITCH's default is default", p.Context)
	}
	if p.DTMFType != "info" || p.TEPayload != 96 || p.RTPTimeout != 30*time.Second || p.RTPHoldTimeout != 300*time.Second {
		t.Errorf("dtmf %s pt %d timeouts %v %v", p.DTMFType, p.TEPayload, p.RTPTimeout, p.RTPHoldTimeout)
	}
}

func TestProfileErrors(t *testing.T) {
	tests := []struct{ name, settings, want string }{
		{"no sip-ip", ``, "no sip-ip"},
		{"foreign sip-ip", `<param name="sip-ip" value="192.0.2.77"/>`, "not an address of this machine"},
		{"not an address", `<param name="sip-ip" value="pbx.example.com"/>`, "not an IP address"},
		{"bad port", `<param name="sip-ip" value="127.0.0.1"/><param name="sip-port" value="70000"/>`, "bad sip-port"},
		{"bad rfc2833-pt", `<param name="sip-ip" value="127.0.0.1"/><param name="rfc2833-pt" value="8"/>`, "rfc2833-pt"},
		{"foreign rtp-ip", `<param name="sip-ip" value="127.0.0.1"/><param name="rtp-ip" value="192.0.2.77"/>`, "rtp-ip"},
		{"bad timeout", `<param name="sip-ip" value="127.0.0.1"/><param name="rtp-timeout-sec" value="-1"/>`, "rtp-timeout-sec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := loadSofia(t, `<profile name="x"><settings>`+tt.settings+`</settings></profile>`)
			if err != nil {
				t.Fatal(err)
			}
			_, err = parseProfiles(snap, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), `profile "x"`) || !strings.Contains(err.Error(), "freeswitch.xml") {
				t.Errorf("error %q should name the profile and where it is", err)
			}
		})
	}
	snap, err := loadSofia(t, `<profile name="x"><settings><param name="sip-ip" value="127.0.0.1"/></settings></profile><profile name="x"><settings><param name="sip-ip" value="127.0.0.1"/></settings></profile>`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseProfiles(snap, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate profile: %v", err)
	}
}

func TestStartFailsWhenPortTaken(t *testing.T) {
	env := newEnv(t, envOpts{})
	snap, err := loadSofia(t, `<profile name="clash"><settings><param name="sip-ip" value="127.0.0.1"/><param name="sip-port" value="`+
		strconv.Itoa(env.udp.Port)+`"/></settings></profile>`)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := New(Config{Snapshot: snap, Manager: env.mgr, Media: env.ep.cfg.Media, Logger: slog.New(slog.DiscardHandler), Timers: testTimers})
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "clash") {
		t.Fatalf("Start on a taken port: %v", err)
	}
}
