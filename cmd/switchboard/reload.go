package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/scripting"

	"github.com/switchboard-voip/switchboard/cdr"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/sip"
	"github.com/switchboard-voip/switchboard/vars"
)

// loadConfig loads the configuration the flags name, with load-time notes
// going to log. A non-empty coreUUID is kept as core_uuid: a reload must
// not change the process's identity.
func loadConfig(cf *confFlags, coreUUID string, log *slog.Logger) (*conf.Snapshot, error) {
	set, err := cf.set.Map()
	if err != nil {
		return nil, err
	}
	return conf.Load(conf.Options{
		Dir:       cf.dir,
		Set:       set,
		StateDir:  cf.stateDir,
		AllowExec: cf.allowExec,
		AllowStun: cf.allowStun,
		CoreUUID:  coreUUID,
		Logger:    log,
	})
}

// Reload is reloadxml (commands.Reloader): the whole configuration is
// loaded and checked again and put in force only if all of it is good.
// notes lists, one per line, the settings that changed but wait for a
// restart.
func (sw *theSwitch) Reload(context.Context) (string, error) {
	notes, err := sw.reloadConfig("reloadxml")
	return strings.Join(notes, "\n"), err
}

// sighup is SIGHUP's work: reload the configuration, then rotate (or
// reopen) the CDR files, as mod_cdr_csv does on HUP — also when the
// reload was refused.
func (sw *theSwitch) sighup() {
	_, _ = sw.reloadConfig("SIGHUP")
	if _, err := sw.obs.cdr.Rotate(); err != nil {
		sw.log.Error("CDR rotation failed", "err", err.Error())
	}
}

// pendingReload is a new configuration checked against the running
// switch, ready to be put in force.
type pendingReload struct {
	snap   *conf.Snapshot
	sip    *sip.Reload
	esl    func() []string // puts the event socket's settings in force; returns its restart notes
	cdr    *cdr.Config
	limits session.Limits
	notes  []string // settings waiting for a restart
}

// reloadConfig loads, checks and puts in force a new configuration, one
// reload at a time; trigger ("reloadxml", "SIGHUP", "watch") is logged.
// Everything that can fail happens before anything changes: a refused
// configuration leaves the running one, its globals included, as it was,
// and the error names the file and line.
//
// What a reload changes: the dialplan, the directory and the global
// variables (--set values win again; runtime globals the new
// configuration defines are dropped so its values are seen), the ACLs,
// the session limits, the CDR settings and the event socket's password
// and ACLs. Listen addresses and ports (SIP profiles, RTP, the event
// socket) wait for a restart: they are returned, and logged, as notes.
func (sw *theSwitch) reloadConfig(trigger string) ([]string, error) {
	sw.reloads.Lock()
	defer sw.reloads.Unlock()
	o := sw.obs
	start := time.Now()
	old := sw.current.Load()
	p, err := sw.prepareReload()
	if err != nil {
		o.metrics.ReloadDone(false, time.Since(start))
		sw.log.Error("reloadxml failed; keeping the running configuration",
			"trigger", trigger, "err", err.Error(), "config_hash", old.Hash())
		if o.watch != nil {
			o.watch.sync(old)
		}
		return nil, err
	}
	if trigger == "watch" && p.snap.Hash() == old.Hash() {
		// An editor touched a file without changing what it says.
		o.metrics.ReloadDone(true, time.Since(start))
		sw.log.Debug("reloadxml: configuration unchanged", "trigger", trigger, "config_hash", old.Hash())
		o.watch.sync(old)
		return p.notes, nil
	}

	sw.current.Store(p.snap)
	sw.sip.ApplyReload(p.sip)
	p.notes = append(p.notes, p.esl()...)
	sw.mgr.SetLimits(p.limits)
	o.cdr.SetConfig(p.cdr)
	sw.streams.Configure(localStreamConfigs(p.snap, sw.log))
	scripting.Flush() // compiled scripts are read again from the new tree
	dropped := dropShadowedGlobals(sw.globals, p.snap)
	took := time.Since(start)
	o.metrics.ReloadDone(true, took)
	o.metrics.ConfigLoaded(p.snap.Hash(), time.Now())
	if o.watch != nil {
		o.watch.sync(p.snap)
	}
	for _, w := range p.snap.Warnings() {
		sw.log.Warn(w)
	}
	if len(dropped) > 0 {
		sw.log.Info("reloadxml: runtime globals replaced by the configuration's values", "names", strings.Join(dropped, ","))
	}
	for _, n := range p.notes {
		sw.log.Warn("reloadxml: setting changed; it takes effect after a restart", "setting", n)
	}
	sw.log.Info("reloadxml: configuration reloaded", "trigger", trigger, "config_hash", p.snap.Hash(),
		"previous_hash", old.Hash(), "took", took.Round(time.Microsecond).String())
	if bus := sw.events; bus != nil {
		bus.Fire(events.New("RELOADXML"))
	}
	return p.notes, nil
}

// prepareReload loads the configuration and checks every part a reload
// puts in force, changing nothing.
func (sw *theSwitch) prepareReload() (*pendingReload, error) {
	o := sw.obs
	snap, err := loadConfig(o.cf, o.coreUUID, sw.log)
	if err != nil {
		return nil, err
	}
	sp, err := sw.sip.PlanReload(snap)
	if err != nil {
		return nil, err
	}
	eslApply, err := sw.planESLReload(snap)
	if err != nil {
		return nil, err
	}
	c, err := cdr.FromSnapshot(snap)
	if err != nil {
		return nil, err
	}
	for _, d := range snap.StateDirs() {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
	}
	settings := snap.Settings("switch.conf")
	p := &pendingReload{
		snap: snap,
		sip:  sp,
		esl:  eslApply,
		cdr:  c,
		limits: session.Limits{
			MaxSessions:       atoiDefault(settings["max-sessions"], 1000),
			SessionsPerSecond: atoiDefault(settings["sessions-per-second"], 30),
		},
	}
	p.notes = append(restartNotes(o.boot, snap), sp.Restart...)
	return p, nil
}

// restartSettings are the settings outside SIP profiles and the event
// socket (which name their own) that are read once, when the switch
// starts.
var restartSettings = []struct{ conf, param string }{
	{"switch.conf", "rtp-start-port"},
	{"switch.conf", "rtp-end-port"},
}

// restartNotes names the restart-only settings whose value in next
// differs from the one the switch started with.
func restartNotes(boot, next *conf.Snapshot) []string {
	var notes []string
	for _, s := range restartSettings {
		was, now := boot.Settings(s.conf)[s.param], next.Settings(s.conf)[s.param]
		if was != now {
			notes = append(notes, fmt.Sprintf("%s: %s (running %q, configured %q)", s.conf, s.param, was, now))
		}
	}
	return notes
}

// dropShadowedGlobals removes from the runtime globals (global_setvar,
// set_global) every name the reloaded configuration defines: the runtime
// store is looked up first, so without this a reload could never change
// a global someone once set by hand. Runtime globals the configuration
// does not define survive. It returns the names removed.
func dropShadowedGlobals(rt *vars.Store, snap *conf.Snapshot) []string {
	var dropped []string
	for _, name := range rt.Names() {
		if _, ok := snap.Global(name); ok {
			rt.Unset(name)
			dropped = append(dropped, name)
		}
	}
	return dropped
}
