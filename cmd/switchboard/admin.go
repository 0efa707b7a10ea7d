package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// serveAdmin serves /metrics (Prometheus) and /healthz on --admin-addr.
// The address must be loopback unless --admin-allow-remote is given. When
// the default address is taken (another switch on the machine) the switch
// runs without it and says so; an address given on the command line that
// cannot be bound is an error.
func (sw *theSwitch) serveAdmin() error {
	o := sw.obs
	addr := o.flags.admin.addr
	if addr == "" || strings.EqualFold(addr, "off") {
		return nil
	}
	if err := checkAdminAddr(addr, o.flags.adminRemote); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if !o.flags.admin.set && errors.Is(err, syscall.EADDRINUSE) {
			sw.log.Warn("admin address in use; serving no /metrics (choose one with --admin-addr)", "addr", addr)
			return nil
		}
		return fmt.Errorf("admin address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", o.metrics.Handler())
	mux.HandleFunc("/healthz", sw.healthz)
	o.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	o.adminAt = ln.Addr().String()
	go func() { _ = o.admin.Serve(ln) }()
	sw.log.Info("admin server listening", "addr", ln.Addr().String(), "paths", "/metrics /healthz")
	return nil
}

// checkAdminAddr refuses an address other machines can reach (a
// non-loopback IP, a host name other than localhost, or none: all
// interfaces) unless allowRemote.
func checkAdminAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--admin-addr %q: %w", addr, err)
	}
	if allowRemote || strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--admin-addr %s is reachable from other machines: metrics and health are for the operator; use a loopback address, or add --admin-allow-remote (and a firewall)", addr)
}

// health is the body of /healthz.
type health struct {
	Status        string  `json:"status"` // "ok" or "shutting down"
	ConfigHash    string  `json:"config_hash"`
	Sessions      int     `json:"sessions"`
	UptimeSeconds float64 `json:"uptime_seconds"`
}

// healthz answers 200 with a small JSON status while the switch runs, and
// 503 once it is shutting down.
func (sw *theSwitch) healthz(w http.ResponseWriter, _ *http.Request) {
	h := health{
		Status:        "ok",
		ConfigHash:    sw.ConfigHash(),
		Sessions:      sw.mgr.Count(),
		UptimeSeconds: time.Since(sw.obs.started).Round(time.Millisecond).Seconds(),
	}
	code := http.StatusOK
	if sw.obs.stopping.Load() {
		h.Status, code = "shutting down", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}
