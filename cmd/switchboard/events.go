package main

import (
	"log/slog"
	"os"
	"time"

	apicmd "github.com/switchboard-voip/switchboard/commands"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/session"
)

// newEventBus returns the switch's event bus: a fresh Core-UUID for this
// run, the host name, and the address the profiles' media binds as
// FreeSWITCH-IPv4 (never found by sending traffic anywhere).
func newEventBus(snap *conf.Snapshot, log *slog.Logger) *events.Bus {
	host, _ := os.Hostname()
	// The same Core-UUID as $${core_uuid}, so events and the
	// configuration name this run alike.
	id, ok := snap.Get("core_uuid")
	if !ok || id == "" {
		id = session.NewUUID()
	}
	cfg := events.BusConfig{CoreUUID: id, Hostname: host, Logger: log}
	if name, ok := snap.Get("switchname"); ok && name != "" {
		cfg.Switchname = name
	}
	if ip := rtpBindIP(snap, slog.New(slog.DiscardHandler)); ip.IsValid() {
		if ip.Is4() {
			cfg.IPv4 = ip.String()
		} else {
			cfg.IPv6 = ip.String()
		}
	}
	if cfg.IPv4 == "" {
		if v, ok := snap.Get("local_ip_v4"); ok {
			cfg.IPv4 = v
		}
	}
	return events.NewBus(cfg)
}

// startHeartbeat fires HEARTBEAT every switch.conf event-heartbeat-interval
// seconds (default 20) until the switch stops.
func (sw *theSwitch) startHeartbeat(settings map[string]string) {
	interval := apicmd.DefaultHeartbeat
	if n := atoiDefault(settings["event-heartbeat-interval"], 0); n > 0 {
		interval = time.Duration(n) * time.Second
	}
	c := sw.ctl
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		apicmd.RunHeartbeat(c.ctx, sw, sw.events, interval)
	}()
}
