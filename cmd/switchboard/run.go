package main

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	apicmd "github.com/switchboard-voip/switchboard/commands"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/esl"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/loopback"
	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/scripting"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/sip"
	"github.com/switchboard-voip/switchboard/vars"
)

// runRun starts the switch and serves until SIGINT/SIGTERM. SIGHUP
// reloads the configuration (the dialplan and globals apply to the next
// hunt; listeners and ports keep what they started with).
func runRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr, "[flags]")
	var cf confFlags
	cf.register(fs)
	var of obsFlags
	of.register(fs)
	debugAddr := fs.String("debug-addr", "", "serve expvar (/debug/vars) and pprof (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060")
	t1 := fs.Duration("sip-t1", 0, "SIP timer T1 (default 500ms); the other SIP timers scale from it")
	linger := fs.Duration("sip-linger", 0, "how long finished SIP transactions are kept for retransmissions: timers J, L and D (default 64*T1)")
	shutdownWait := fs.Duration("shutdown-timeout", 10*time.Second, "how long SIGTERM waits for calls to hang up")
	var pf priorityFlags
	pf.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 0 {
		fs.Usage()
		return exitUsage
	}
	log, level, err := of.logger(&cf, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitUsage
	}
	log = withLogTee(log) // the event socket's `log` streams (esl.go)
	snap, err := loadConfig(&cf, "", log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	for _, w := range snap.Warnings() {
		log.Warn(w)
	}
	for _, d := range snap.StateDirs() {
		if err := os.MkdirAll(d, 0o750); err != nil {
			fmt.Fprintf(stderr, "switchboard: state directory: %v\n", err)
			return exitError
		}
	}
	// Signals are caught before anything starts: a SIGHUP sent as soon
	// as the switch says it is ready must reload, not kill it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	obs, err := newObservability(&cf, of, level, snap)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitError
	}
	sw, err := startSwitch(snap, log, startOptions{
		timers:      sip.Timers{T1: *t1, Linger: *linger},
		pacerThread: applyPriority(pf.mode, log),
	}, obs)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitError
	}
	if err := sw.startObs(); err != nil {
		sw.stop(context.Background())
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return exitError
	}
	var dbg *http.Server
	if *debugAddr != "" {
		dbg, err = sw.serveDebug(*debugAddr)
		if err != nil {
			sw.stop(context.Background())
			fmt.Fprintf(stderr, "switchboard: debug address: %v\n", err)
			return exitError
		}
	}
	var listening []string
	for name, addrs := range sw.sip.Addrs() {
		for _, a := range addrs {
			listening = append(listening, fmt.Sprintf("%s %s/%s", name, a.Network(), a.String()))
		}
	}
	listening = append(listening, sw.eslListening()...)
	log.Info("switchboard ready", "listening", strings.Join(listening, ", "), "config", snap.ConfDir(), "config_hash", snap.Hash())
	fmt.Fprintf(stderr, "switchboard ready: %s\n", strings.Join(listening, ", "))
	// lua.conf's startup-script entries run in the background once the
	// switch is up, as mod_lua starts them when it loads.
	scripting.Startup(sw)

wait:
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				sw.sighup()
				continue
			}
			log.Info("shutting down", "signal", sig.String())
		case mode := <-sw.ctl.quit: // fsctl shutdown (control.go)
			log.Info("shutting down", "fsctl_shutdown", string(mode))
		}
		break wait
	}
	sw.stoppingObs()
	ctx, cancel := context.WithTimeout(context.Background(), sw.ctl.stopTimeout(*shutdownWait))
	defer cancel()
	code := exitOK
	if err := sw.stop(ctx); err != nil {
		log.Error("shutdown incomplete", "err", err)
		code = exitError
	}
	if err := sw.closeObs(); err != nil {
		log.Error("closing the CDR files", "err", err)
	}
	if dbg != nil {
		_ = dbg.Close()
	}
	log.Info("switchboard stopped")
	return code
}

// theSwitch is a running switch: the configuration in force, the call
// core, media and the SIP endpoint.
type theSwitch struct {
	log     *slog.Logger
	current atomic.Pointer[conf.Snapshot]
	reloads sync.Mutex
	media   *media.Engine
	streams *media.LocalStreams // local_stream:// music on hold
	events  *events.Bus
	mgr     *session.Manager
	sip     *sip.Endpoint
	esl     *esl.Server    // the event socket (esl.go); nil when disabled
	globals *vars.Store    // runtime globals (global_setvar, set_global)
	obs     *observability // reloads, CDRs, metrics, admin server (obs.go)
	ctl     *switchControl // the API commands' capabilities (control.go)
}

// startOptions are the run command's settings that are not in the
// configuration.
type startOptions struct {
	timers sip.Timers
	// pacerThread is run on each media pacer's own OS thread before it
	// starts (applyPriority's real-time pacers); nil leaves them as the
	// runtime schedules them.
	pacerThread func() error
}

func startSwitch(snap *conf.Snapshot, log *slog.Logger, opts startOptions, obs *observability) (*theSwitch, error) {
	sw := &theSwitch{log: log}
	sw.current.Store(snap)
	settings := snap.Settings("switch.conf")
	lo, hi, err := rtpPorts(settings)
	if err != nil {
		return nil, err
	}
	sw.media, err = media.NewEngine(media.Config{IP: rtpBindIP(snap, log), PortMin: lo, PortMax: hi, Logger: log,
		ThreadSetup: opts.pacerThread})
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	globals := vars.NewStore()
	sw.globals = globals
	sw.events = newEventBus(snap, log)
	sw.ctl = newSwitchControl(snap, sw.events, log)
	sw.streams = media.NewLocalStreams(log)
	sw.streams.Configure(localStreamConfigs(snap, log))
	host := &apicmd.Host{Runtime: globals, Config: sw.current.Load}
	obs.attach(sw, apicmd.AsAPI(context.Background(), host))
	sw.mgr = session.NewManager(session.Config{
		Snapshot:          sw.current.Load,
		Globals:           globals,
		API:               apicmd.AsAPI(context.Background(), sw),
		Stores:            sw,
		MaxSessions:       atoiDefault(settings["max-sessions"], 1000),
		SessionsPerSecond: atoiDefault(settings["sessions-per-second"], 30),
		Logger:            log,
		Events:            sw.events,
		LocalStreams:      sw.streams.Open,
		Reporters:         obs.reporters(),
		Observer:          obs.metrics,
	})
	sw.startHeartbeat(settings)
	reg, err := openRegistrar(sw.ctl, log)
	if err != nil {
		sw.media.Close()
		_ = sw.ctl.close()
		return nil, err
	}
	sw.sip, err = sip.New(sip.Config{Snapshot: snap, Manager: sw.mgr, Media: sw.media, Logger: log, Timers: opts.timers, Registrar: reg, Events: sw.events})
	if err != nil {
		sw.media.Close()
		_ = sw.ctl.close()
		return nil, err
	}
	sw.mgr.SetDialer("sofia", sw.sip) // sofia/<profile>/..., sofia/gateway/...
	sw.mgr.SetDialer("loopback", loopback.New(loopback.Config{Manager: sw.mgr, Media: sw.media, Logger: log}))
	if err := sw.sip.Start(context.Background()); err != nil {
		sw.media.Close()
		_ = sw.ctl.close()
		return nil, err
	}
	if err := sw.startESL(snap); err != nil {
		_ = sw.stop(context.Background())
		return nil, err
	}
	return sw, nil
}

// stop refuses new calls, hangs up the calls in progress (BYE), waits for
// them, closes the listeners and releases every RTP port.
func (sw *theSwitch) stop(ctx context.Context) error {
	// New INVITEs get 503 from here on; the ones already admitted have
	// their sessions started when this returns.
	_ = sw.sip.StopAccepting(ctx)
	errc := make(chan error, 1)
	go func() { errc <- sw.sip.Shutdown(ctx) }()
	err := sw.mgr.Shutdown(ctx)
	err = errors.Join(err, <-errc)
	sw.streams.Close()
	return errors.Join(err, sw.media.Close(), sw.stopESL(ctx), sw.ctl.close())
}

// serveDebug serves expvar and pprof on a loopback address.
func (sw *theSwitch) serveDebug(addr string) (*http.Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		if host != "localhost" {
			return nil, fmt.Errorf("%s is not a loopback address", addr)
		}
	}
	mux := http.NewServeMux()
	vars := map[string]func() any{
		"goroutines":     func() any { return runtime.NumGoroutine() },
		"sessions":       func() any { return sw.mgr.Count() },
		"sessions_total": func() any { return sw.mgr.Created() },
		"sip_calls":      func() any { return sw.sip.Calls() },
		"rtp_ports_open": func() any { return sw.media.Stats().PortsInUse },
		"media":          func() any { return sw.media.Stats() },
		"config_hash":    func() any { return sw.current.Load().Hash() },
	}
	mux.HandleFunc("/debug/vars", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprint(w, "{")
		first := true
		write := func(k string, v fmt.Stringer) {
			if !first {
				fmt.Fprint(w, ",")
			}
			first = false
			fmt.Fprintf(w, "%q: %s", k, v.String())
		}
		for k, f := range vars {
			write(k, expvar.Func(f))
		}
		expvar.Do(func(kv expvar.KeyValue) { write(kv.Key, kv.Value) })
		fmt.Fprint(w, "}")
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	sw.log.Info("debug server listening", "addr", ln.Addr().String())
	return srv, nil
}

func rtpPorts(settings map[string]string) (int, int, error) {
	lo := atoiDefault(settings["rtp-start-port"], 16384)
	hi := atoiDefault(settings["rtp-end-port"], 32768)
	if lo < 0 || hi > 65535 || (lo > 0 && hi < lo) {
		return 0, 0, fmt.Errorf("switch.conf: bad RTP port range %d-%d", lo, hi)
	}
	return lo, hi, nil
}

// rtpBindIP is the address RTP sockets bind to: the profiles' rtp-ip (or
// sip-ip) when they all agree, otherwise every interface.
func rtpBindIP(snap *conf.Snapshot, log *slog.Logger) netip.Addr {
	var ips []netip.Addr
	if sofia := snap.Configuration("sofia.conf"); sofia != nil {
		for _, p := range sofia.FindElements(".//profiles/profile") {
			s := conf.Params(p, "settings")
			v := s["rtp-ip"]
			if v == "" {
				v = s["sip-ip"]
			}
			if a, err := netip.ParseAddr(v); err == nil {
				ips = append(ips, a.Unmap())
			}
		}
	}
	if len(ips) == 0 {
		return netip.Addr{}
	}
	for _, a := range ips[1:] {
		if a != ips[0] {
			log.Warn("SIP profiles use different rtp-ip addresses; RTP binds every interface", "addresses", fmt.Sprint(ips))
			return netip.Addr{}
		}
	}
	return ips[0]
}

func atoiDefault(s string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n
	}
	return def
}
