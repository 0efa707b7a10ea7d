package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/apps"
	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// The running switch as the API commands see it: theSwitch implements the
// commands' Env and its optional capabilities (commands.Core, Stores,
// Scheduling, EventSource; LogLevels is in obs.go), and apps.DataStores for
// the db and hash applications.

var (
	_ apicmd.Env         = (*theSwitch)(nil)
	_ apicmd.Core        = (*theSwitch)(nil)
	_ apicmd.Stores      = (*theSwitch)(nil)
	_ apicmd.Scheduling  = (*theSwitch)(nil)
	_ apicmd.EventSource = (*theSwitch)(nil)
	_ apicmd.LogLevels   = (*theSwitch)(nil)
	_ apps.DataStores    = (*theSwitch)(nil)
)

// switchControl is the state behind the commands' capabilities.
type switchControl struct {
	log     *slog.Logger
	started time.Time
	cpu     *apicmd.IdleMeter
	hash    *apicmd.Hash
	db      *apicmd.DB // nil when the database could not be opened
	sched   *apicmd.Scheduler

	ctx    context.Context // done when the switch stops
	cancel context.CancelFunc
	wg     sync.WaitGroup // the scheduler and a pending shutdown's wait

	quit chan apicmd.ShutdownMode // fsctl shutdown asks runRun to stop

	mu        sync.Mutex
	pending   bool          // an elegant or asap shutdown waits for calls to end
	abandon   chan struct{} // closed by fsctl shutdown cancel
	stopNow   bool          // the stop was asked for with "now"
	pausedFor bool          // asap paused new calls: cancel resumes them
}

// newSwitchControl sets up the commands' capabilities: the in-memory hash
// store, the persistent db store in db_dir (an error there is logged and
// the db commands refuse), and the scheduler, which starts running.
func newSwitchControl(snap *conf.Snapshot, bus *events.Bus, log *slog.Logger) *switchControl {
	ctx, cancel := context.WithCancel(context.Background())
	c := &switchControl{
		log:     log,
		started: time.Now(),
		cpu:     apicmd.NewIdleMeter(nil),
		hash:    apicmd.NewHash(),
		sched:   apicmd.NewScheduler(apicmd.SchedulerConfig{Logger: log, Events: bus}),
		ctx:     ctx,
		cancel:  cancel,
		quit:    make(chan apicmd.ShutdownMode, 1),
	}
	if dir, ok := snap.Global("db_dir"); ok && dir != "" {
		host, _ := os.Hostname()
		if name, ok := snap.Global("switchname"); ok && name != "" {
			host = name
		}
		path := filepath.Join(dir, apicmd.DBFile)
		db, err := apicmd.OpenDB(path, host)
		if err != nil {
			log.Error("the db store is unavailable", "path", path, "err", err)
		} else {
			c.db = db
		}
	} else {
		log.Error("the db store is unavailable: db_dir is not set")
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.sched.Run(ctx)
	}()
	return c
}

// close stops the scheduler and any pending shutdown's wait, and closes
// the database.
func (c *switchControl) close() error {
	c.cancel()
	c.wg.Wait()
	if c.db != nil {
		return c.db.Close()
	}
	return nil
}

// requestQuit asks runRun to stop the switch.
func (c *switchControl) requestQuit(mode apicmd.ShutdownMode) {
	c.mu.Lock()
	c.stopNow = c.stopNow || mode == apicmd.ShutdownNow
	c.mu.Unlock()
	select {
	case c.quit <- mode:
	default: // a stop is already requested
	}
}

// stopTimeout is how long the stop waits for calls to hang up: def, or a
// second after `fsctl shutdown now`, which hangs them up without waiting
// for them beyond their BYEs.
func (c *switchControl) stopTimeout(def time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopNow {
		return min(def, time.Second)
	}
	return def
}

// Globals returns the runtime global variables.
func (sw *theSwitch) Globals() *vars.Store { return sw.globals }

// Snapshot returns the configuration in force.
func (sw *theSwitch) Snapshot() *conf.Snapshot { return sw.current.Load() }

// Sessions returns the call core.
func (sw *theSwitch) Sessions() *session.Manager { return sw.mgr }

// Started returns when the switch started.
func (sw *theSwitch) Started() time.Time { return sw.ctl.started }

// IdleCPU returns the machine's idle CPU since the previous call.
func (sw *theSwitch) IdleCPU() float64 { return sw.ctl.cpu.Idle() }

// Events returns the switch's event bus.
func (sw *theSwitch) Events() *events.Bus { return sw.events }

// Hash returns the in-memory data store.
func (sw *theSwitch) Hash() *apicmd.Hash { return sw.ctl.hash }

// DB returns the persistent data store, or nil when it could not be
// opened.
func (sw *theSwitch) DB() *apicmd.DB { return sw.ctl.db }

// DataStore returns the store the db and hash applications use.
func (sw *theSwitch) DataStore(name string) apps.DataStore {
	switch name {
	case apps.StoreHash:
		return sw.ctl.hash
	case apps.StoreDB:
		if sw.ctl.db != nil {
			return sw.ctl.db
		}
	}
	return nil
}

// Scheduler returns the switch's task scheduler.
func (sw *theSwitch) Scheduler() *apicmd.Scheduler { return sw.ctl.sched }

// ShutdownPending reports whether an elegant or asap shutdown waits for
// the calls to end.
func (sw *theSwitch) ShutdownPending() bool {
	sw.ctl.mu.Lock()
	defer sw.ctl.mu.Unlock()
	return sw.ctl.pending
}

// Shutdown is fsctl shutdown: normal and now stop the switch at once
// (runRun hangs the calls up and waits up to --shutdown-timeout for them,
// or a second for now); elegant waits until no call is left, still taking
// new ones, asap refuses new calls and waits; cancel calls a waiting
// shutdown off and takes new calls again.
func (sw *theSwitch) Shutdown(mode apicmd.ShutdownMode) error {
	c := sw.ctl
	switch mode {
	case apicmd.ShutdownNormal, apicmd.ShutdownNow:
		sw.log.Info("shutdown requested", "mode", string(mode))
		c.requestQuit(mode)
		return nil
	case apicmd.ShutdownCancel:
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.pending {
			close(c.abandon)
			c.pending = false
			if c.pausedFor {
				sw.mgr.Pause(session.AllTraffic, false)
				c.pausedFor = false
			}
			sw.log.Info("Shutdown Cancelled")
		}
		return nil
	case apicmd.ShutdownElegant, apicmd.ShutdownASAP:
	default:
		return fmt.Errorf("unknown shutdown mode %q", mode)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if mode == apicmd.ShutdownASAP && !sw.mgr.Paused(session.AllTraffic) {
		sw.mgr.Pause(session.AllTraffic, true)
		c.pausedFor = true
	}
	if c.pending {
		return nil // already waiting; asap has now paused new calls too
	}
	c.pending = true
	c.abandon = make(chan struct{})
	abandon := c.abandon
	sw.log.Info("shutdown requested: waiting for the calls to end", "mode", string(mode), "calls", sw.mgr.Count())
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		sw.waitForCalls(mode, abandon)
	}()
	return nil
}

// waitForCalls asks runRun to stop once no call is left, unless the
// shutdown is cancelled or the switch stops first. It looks twice a
// second and logs the calls left every ten seconds, as FreeSWITCH does.
func (sw *theSwitch) waitForCalls(mode apicmd.ShutdownMode, abandon <-chan struct{}) {
	c := sw.ctl
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		left := sw.mgr.Count()
		if left == 0 {
			c.mu.Lock()
			c.pending = false
			c.mu.Unlock()
			c.requestQuit(mode)
			return
		}
		if n > 0 && n%20 == 0 {
			sw.log.Warn(fmt.Sprintf("Shutdown in progress, %d session(s) remain.", left), "mode", string(mode))
		}
		select {
		case <-tick.C:
		case <-abandon:
			return
		case <-c.ctx.Done():
			return
		}
	}
}
