package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestCheckAdminAddr(t *testing.T) {
	tests := []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:8080", false, true},
		{"[::1]:8080", false, true},
		{"localhost:8080", false, true},
		{"127.0.0.2:9000", false, true},
		{"0.0.0.0:8080", false, false},
		{":8080", false, false},
		{"192.0.2.10:8080", false, false},
		{"metrics.example.com:8080", false, false},
		{"0.0.0.0:8080", true, true},
		{":8080", true, true},
		{"nonsense", false, false},
	}
	for _, tt := range tests {
		err := checkAdminAddr(tt.addr, tt.remote)
		if (err == nil) != tt.ok {
			t.Errorf("checkAdminAddr(%q, %v) = %v, want ok=%v", tt.addr, tt.remote, err, tt.ok)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func TestAdminServer(t *testing.T) {
	of := obsFlags{}
	of.admin = addrFlag{addr: "127.0.0.1:0", set: true}
	sw, _ := startTestSwitch(t, of)
	base := "http://" + sw.obs.adminAt

	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		"switchboard_channels_active 0\n",
		`switchboard_config_info{hash="` + sw.ConfigHash() + `"} 1`,
		"switchboard_config_last_reload_successful 1\n",
		"go_goroutines ",
		"process_open_fds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	code, body = get(t, base+"/healthz")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz: %v: %s", err, body)
	}
	if code != http.StatusOK || h.Status != "ok" || h.ConfigHash != sw.ConfigHash() || h.Sessions != 0 {
		t.Errorf("/healthz: %d %+v", code, h)
	}

	sw.stoppingObs()
	code, body = get(t, base+"/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"shutting down"`) {
		t.Errorf("/healthz while stopping: %d %s", code, body)
	}
}

func TestAdminAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()

	// The default address taken: the switch runs without /metrics.
	of := obsFlags{}
	of.admin = addrFlag{addr: taken}
	sw, _ := startTestSwitch(t, of)
	if sw.obs.admin != nil {
		t.Error("serving on an address already in use")
	}

	// An address given on the command line must be bound.
	of.admin.set = true
	sw2, _ := startTestSwitch(t, obsFlags{})
	sw2.obs.flags = of
	if err := sw2.serveAdmin(); err == nil || !strings.Contains(err.Error(), "admin address") {
		t.Errorf("serveAdmin on a taken --admin-addr: %v", err)
	}

	// A non-loopback address is refused before anything is bound.
	sw2.obs.flags.admin = addrFlag{addr: "0.0.0.0:0", set: true}
	if err := sw2.serveAdmin(); err == nil || !strings.Contains(err.Error(), "--admin-allow-remote") {
		t.Errorf("serveAdmin on 0.0.0.0: %v", err)
	}
}
