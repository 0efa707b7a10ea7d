package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/switchboard-voip/switchboard/cdr"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/metrics"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// defaultAdminAddr is where /metrics and /healthz are served unless
// --admin-addr says otherwise.
const defaultAdminAddr = "127.0.0.1:8080"

// obsFlags are the flags of `switchboard run` for logging, reloading and
// the admin HTTP address.
type obsFlags struct {
	logFormat     string
	admin         addrFlag
	adminRemote   bool
	watch         bool
	watchDebounce time.Duration
}

// addrFlag is a string flag that remembers whether it was given.
type addrFlag struct {
	addr string
	set  bool
}

func (a *addrFlag) String() string { return a.addr }

func (a *addrFlag) Set(s string) error {
	a.addr, a.set = s, true
	return nil
}

func (o *obsFlags) register(fs *flag.FlagSet) {
	o.admin.addr = defaultAdminAddr
	fs.StringVar(&o.logFormat, "log-format", logFormatFS, "log line format: fs (FreeSWITCH's console lines), text or json (slog's)")
	fs.Var(&o.admin, "admin-addr", "serve Prometheus /metrics and /healthz on this address (\"off\" disables them); a non-loopback address needs --admin-allow-remote")
	fs.BoolVar(&o.adminRemote, "admin-allow-remote", false, "allow --admin-addr to be an address other machines can reach")
	fs.BoolVar(&o.watch, "watch", false, "reload the configuration when a file in its directories changes (needs --conf)")
	fs.DurationVar(&o.watchDebounce, "watch-debounce", 250*time.Millisecond, "with --watch, reload once the files have been quiet this long")
}

// logger returns the switch's logger in --log-format, at --log-level,
// and the variable that changes its level at run time.
func (o *obsFlags) logger(cf *confFlags, stderr io.Writer) (*slog.Logger, *slog.LevelVar, error) {
	level := new(slog.LevelVar)
	level.Set(cf.logLevel)
	h, err := newLogHandler(stderr, o.logFormat, level)
	if err != nil {
		return nil, nil, err
	}
	return slog.New(h), level, nil
}

// observability is the running switch's reload, CDR, metrics and admin
// state (theSwitch.obs).
type observability struct {
	flags    obsFlags
	cf       *confFlags
	coreUUID string         // core_uuid of the first load, kept by every reload
	boot     *conf.Snapshot // the configuration listeners and ports started with
	level    *slog.LevelVar
	started  time.Time

	cdrConf  *cdr.Config
	cdr      *cdr.Writer
	metrics  *metrics.Metrics
	stopping atomic.Bool // /healthz says 503 once set
	admin    *http.Server
	adminAt  string // the address admin listens on
	watch    *watcher
}

// newObservability checks what the first configuration says about CDRs
// and the flags say about watching; attach completes it once the switch
// exists.
func newObservability(cf *confFlags, of obsFlags, level *slog.LevelVar, snap *conf.Snapshot) (*observability, error) {
	if of.watch && snap.Embedded() {
		return nil, fmt.Errorf("--watch needs --conf: the embedded configuration never changes")
	}
	if of.watch && of.watchDebounce <= 0 {
		return nil, fmt.Errorf("--watch-debounce %v: want a positive duration", of.watchDebounce)
	}
	c, err := cdr.FromSnapshot(snap)
	if err != nil {
		return nil, err
	}
	coreUUID, _ := snap.Global("core_uuid")
	return &observability{
		flags:    of,
		cf:       cf,
		coreUUID: coreUUID,
		boot:     snap,
		level:    level,
		started:  time.Now(),
		cdrConf:  c,
	}, nil
}

// attach makes o sw's: the CDR writer expands templates with api, and the
// metrics read sw's session manager (at scrape time, so sw.mgr may be set
// later).
func (o *observability) attach(sw *theSwitch, api vars.API) {
	sw.obs = o
	o.cdr = cdr.NewWriter(o.cdrConf, cdr.Options{API: api, Logger: sw.log.With("subsystem", "cdr")})
	o.metrics = metrics.New(metrics.Options{
		ActiveChannels:  func() int { return sw.mgr.Count() },
		SessionsCreated: func() uint64 { return sw.mgr.Created() },
	})
	o.metrics.ConfigLoaded(o.boot.Hash(), time.Now())
}

// reporters are the session manager's Reporters: the leg's CDRs, then
// its count by hangup cause.
func (o *observability) reporters() []func(*session.Session) {
	return []func(*session.Session){
		func(s *session.Session) { _ = o.cdr.Report(s) },
		func(s *session.Session) { o.metrics.CallEnded(s.HangupCause().String()) },
	}
}

// startObs starts what serves while the switch runs: the admin HTTP
// address and the --watch watcher.
func (sw *theSwitch) startObs() error {
	o := sw.obs
	if err := sw.serveAdmin(); err != nil {
		return err
	}
	if o.flags.watch {
		w, err := newWatcher(o.flags.watchDebounce, sw.log.With("subsystem", "watch"), func() {
			_, _ = sw.reloadConfig("watch")
		})
		if err != nil {
			return fmt.Errorf("--watch: %w", err)
		}
		w.sync(sw.current.Load())
		o.watch = w
		go w.run()
	}
	return nil
}

// stoppingObs is called when shutdown begins: /healthz turns 503 and the
// watcher stops, so no reload races the shutdown.
func (sw *theSwitch) stoppingObs() {
	o := sw.obs
	o.stopping.Store(true)
	if o.watch != nil {
		o.watch.close()
	}
}

// closeObs is called once the calls are over (their CDRs written): the
// CDR files and the admin server close.
func (sw *theSwitch) closeObs() error {
	o := sw.obs
	err := o.cdr.Close()
	if o.admin != nil {
		_ = o.admin.Close()
	}
	return err
}

// LogLevel returns the variable holding the switch's log level
// (commands.LogLevels): `console loglevel` and `fsctl loglevel` set it, in
// apps.LogLevel's mapping of FreeSWITCH's levels onto slog's, and it
// takes effect on the next log line.
func (sw *theSwitch) LogLevel() *slog.LevelVar { return sw.obs.level }

// ConfigHash returns the SHA-256 of the configuration in force.
func (sw *theSwitch) ConfigHash() string { return sw.current.Load().Hash() }

// Metrics returns the switch's Prometheus metrics.
func (sw *theSwitch) Metrics() *metrics.Metrics { return sw.obs.metrics }

// CDRs returns the switch's CDR writer (`cdr_csv rotate`).
func (sw *theSwitch) CDRs() *cdr.Writer { return sw.obs.cdr }
