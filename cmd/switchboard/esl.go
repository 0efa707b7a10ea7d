package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-voip/switchboard/acl"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/esl"
)

// The event socket of the running switch: started after the SIP endpoint,
// stopped after the calls have hung up, so that clients see the last
// events before their disconnect notice.

// withLogTee returns log with its handler wrapped in the event socket's
// log tee, so that `log <level>` clients get the switch's records.
func withLogTee(log *slog.Logger) *slog.Logger {
	return slog.New(esl.NewLogTee(log.Handler()))
}

// startESL reads event_socket.conf and starts the event socket (unless
// modules.conf leaves mod_event_socket out). It refuses a listen address
// other than loopback with the well-known default password. An address
// in use is retried in the background, as FreeSWITCH does, unless
// stop-on-bind-error is set.
func (sw *theSwitch) startESL(snap *conf.Snapshot) error {
	set, err := esl.SettingsFromSnapshot(snap)
	if err != nil {
		return err
	}
	if !set.Enabled {
		sw.log.Info("event socket disabled: modules.conf does not load mod_event_socket")
		return nil
	}
	if err := set.Check(); err != nil {
		return err
	}
	lists, err := acl.FromSnapshot(snap, acl.Options{Logger: sw.log})
	if err != nil {
		return fmt.Errorf("event socket: %w", err)
	}
	tee, _ := sw.log.Handler().(*esl.LogTee)
	srv := esl.NewServer(esl.Config{
		Settings: set,
		ACLs:     lists,
		Env:      sw, // the running switch: its calls, globals, configuration
		Events:   sw.events,
		Logs:     tee,
		Lookup: func(uuid string) esl.Channel {
			if s := sw.mgr.Get(uuid); s != nil {
				return s
			}
			return nil
		},
		Logger:          sw.log,
		HandleSocketApp: true,
	})
	if err := srv.Start(time.Second); err != nil {
		return fmt.Errorf("%w (event_socket.conf listen-ip/listen-port; stop-on-bind-error is set)", err)
	}
	sw.esl = srv
	return nil
}

// eslListening names the event socket's address for the ready line.
func (sw *theSwitch) eslListening() []string {
	if sw.esl == nil {
		return nil
	}
	a := sw.esl.Addr()
	if a == nil {
		return []string{"event_socket tcp/" + sw.esl.Settings().Addr() + " (not listening yet)"}
	}
	return []string{fmt.Sprintf("event_socket %s/%s", a.Network(), a.String())}
}

// planESLReload checks a reloaded configuration's event_socket.conf and
// returns what puts its password and ACLs in force (the listen address
// waits for a restart; reload.go names it). A configuration that would
// pair the running non-loopback address with the default password is
// refused.
func (sw *theSwitch) planESLReload(snap *conf.Snapshot) (apply func() []string, err error) {
	if sw.esl == nil {
		return func() []string { return nil }, nil
	}
	set, err := esl.SettingsFromSnapshot(snap)
	if err != nil {
		return nil, err
	}
	running := set
	running.ListenIP = sw.esl.Settings().ListenIP
	if err := running.Check(); err != nil {
		return nil, err
	}
	lists, err := acl.FromSnapshot(snap, acl.Options{Logger: sw.log})
	if err != nil {
		return nil, fmt.Errorf("event socket: %w", err)
	}
	return func() []string { return sw.esl.Reconfigure(set, lists) }, nil
}

// stopESL sends the event socket's clients the disconnect notice and
// closes it.
func (sw *theSwitch) stopESL(ctx context.Context) error {
	if sw.esl == nil {
		return nil
	}
	return sw.esl.Shutdown(ctx)
}
