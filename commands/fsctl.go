package commands

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// The control family: fsctl and console.

func init() {
	Register(Command{Name: "fsctl", Usage: fsctlUsage, Description: "FS control messages", Run: fsctl})
	Register(Command{Name: "console", Usage: "loglevel [level]|colorize [on|toggle|off]|uuid [on|toggle|off]|json [on|toggle|off]", Description: "Console", Module: "mod_console", Run: console})
}

const fsctlUsage = "[api_expansion [on|off]|recover|send_sighup|hupall|pause [inbound|outbound]|resume [inbound|outbound]|shutdown [cancel|elegant|asap|now|restart]|uuid_version [4|7]|sps|sps_peak_reset|sync_clock|sync_clock_when_idle|reclaim_mem|max_sessions|min_dtmf_duration [num]|max_dtmf_duration [num]|default_dtmf_duration [num]|min_idle_cpu|loglevel [level]|debug_level [level]|mdns_resolve [enable|disable]]"

// fsctlUnsupported are the fsctl subcommands FreeSWITCH has that
// Switchboard does not implement.
var fsctlUnsupported = []string{
	"recover", "flush_db_handles", "send_sighup", "calibrate_clock", "crash", "verbose_events",
	"api_expansion", "threaded_system_exec", "save_history", "debug_pool", "debug_sql", "sql",
	"min_idle_cpu", "max_dtmf_duration", "min_dtmf_duration", "default_dtmf_duration",
	"debug_level", "uuid_version", "sync_clock", "sync_clock_when_idle", "mdns_resolve",
}

// fsctl is `fsctl <subcommand> [args]`, FreeSWITCH's core controls:
//
//   - shutdown [elegant|asap|now|cancel]: stop the switch (see
//     ShutdownMode); "+OK". restart and "reincarnate now" are refused:
//     restarting is the service manager's job.
//   - pause|resume [inbound|outbound]: stop or start admitting new calls
//     (all of them without a word); "+OK". pause_check [inbound|outbound],
//     ready_check, shutdown_check: "true" or "false".
//   - hupall: hang up every call with MANAGER_REQUEST; "+OK".
//   - max_sessions [n], sps [n]: set (n > 0) and show the session limits
//     ("+OK max sessions: n", "+OK sessions per second: n"); last_sps;
//     sps_peak_reset. A configuration reload applies switch.conf's limits
//     again.
//   - loglevel [level]: set the log level (a name or 0-7; finer levels
//     count as debug) and show it: "+OK log level: DEBUG [7]".
//   - reclaim_mem: return freed memory to the operating system; "+OK".
//
// The other subcommands FreeSWITCH knows answer "-ERR fsctl <name> is not
// supported"; unknown ones get FreeSWITCH's "-ERR Invalid command" and
// usage.
//
// Deviation: `fsctl loglevel` without a level shows the level; FreeSWITCH
// sets it to DISABLE (-1) then.
func fsctl(_ context.Context, env Env, args string) (string, error) {
	if args == "" {
		return "-USAGE: " + fsctlUsage + "\n", nil
	}
	argv := vars.Separate(args, ' ', 6)
	sub := strings.ToLower(argv[0])
	invalid := "-ERR Invalid command\nUSAGE: fsctl " + fsctlUsage + "\n"
	for _, u := range fsctlUnsupported {
		if sub == u {
			return "-ERR fsctl " + sub + " is not supported\n", nil
		}
	}
	if sub == "loglevel" {
		return fsctlLogLevel(env, arg(argv, 1)), nil
	}
	if sub == "reclaim_mem" {
		debug.FreeOSMemory()
		return "+OK\n", nil
	}
	known := map[string]bool{
		"hupall": true, "pause": true, "resume": true, "pause_check": true, "ready_check": true,
		"shutdown_check": true, "shutdown": true, "max_sessions": true, "sps": true, "last_sps": true,
		"sps_peak_reset": true,
	}
	if !known[sub] {
		return invalid, nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("fsctl " + sub), nil
	}
	m := c.Sessions()
	switch sub {
	case "hupall":
		m.HangupAll(cause.CManagerRequest)
		return "+OK\n", nil
	case "pause", "resume":
		m.Pause(traffic(arg(argv, 1)), sub == "pause")
		return "+OK\n", nil
	case "pause_check":
		return fmt.Sprint(m.Paused(traffic(arg(argv, 1)))), nil
	case "ready_check":
		return fmt.Sprint(m.Ready()), nil
	case "shutdown_check":
		return fmt.Sprint(c.ShutdownPending()), nil
	case "shutdown":
		return fsctlShutdown(env, c, argv[1:]), nil
	case "max_sessions":
		lim := m.Limits()
		if n := catoi(arg(argv, 1)); n > 0 {
			lim.MaxSessions = n
			m.SetLimits(lim)
		}
		return fmt.Sprintf("+OK max sessions: %d\n", lim.MaxSessions), nil
	case "sps":
		lim := m.Limits()
		if n := catoi(arg(argv, 1)); n > 0 {
			lim.SessionsPerSecond = n
			m.SetLimits(lim)
		}
		return fmt.Sprintf("+OK sessions per second: %d\n", lim.SessionsPerSecond), nil
	case "last_sps":
		return fmt.Sprintf("+OK last sessions per second: %d\n", m.Stats().LastSPS), nil
	default: // sps_peak_reset
		m.ResetPeakSPS()
		return "+OK max sessions per second counter reset\n", nil
	}
}

// traffic reads pause's word: inbound, outbound, or anything else for all
// traffic.
func traffic(word string) session.Traffic {
	switch strings.ToLower(word) {
	case "inbound":
		return session.InboundTraffic
	case "outbound":
		return session.OutboundTraffic
	}
	return session.AllTraffic
}

// fsctlShutdown reads fsctl shutdown's words as FreeSWITCH does (the last
// of elegant, asap and now wins; cancel wins over all) and asks the switch
// to stop.
func fsctlShutdown(env Env, c Core, words []string) string {
	mode := ShutdownNormal
	for i, w := range words {
		switch strings.ToLower(w) {
		case "cancel":
			mode = ShutdownCancel
		case "elegant":
			mode = ShutdownElegant
		case "asap":
			mode = ShutdownASAP
		case "now":
			mode = ShutdownNow
		case "restart":
			return "-ERR fsctl shutdown restart is not supported: restart the service instead\n"
		case "reincarnate":
			if i+1 < len(words) && strings.EqualFold(words[i+1], "now") {
				return "-ERR fsctl shutdown reincarnate is not supported: restart the service instead\n"
			}
		}
		if mode == ShutdownCancel {
			break
		}
	}
	if mode == ShutdownElegant || mode == ShutdownASAP {
		if bus := busOf(env); bus.Wants("SHUTDOWN_REQUESTED", "") {
			e := events.New("SHUTDOWN_REQUESTED")
			info := "elegant"
			if mode == ShutdownASAP {
				info = "ASAP"
			}
			e.Add("Event-Info", info)
			bus.Fire(e)
		}
	}
	if err := c.Shutdown(mode); err != nil {
		return "-ERR " + err.Error() + "\n"
	}
	return "+OK\n"
}

// parseLevel reads a log level as fsctl and console do: a word starting
// with a digit is a number (C atoi), anything else a level name
// (apps.ParseLogLevel).
func parseLevel(word string) apps.LogLevel {
	if word != "" && word[0] >= '0' && word[0] <= '9' {
		return apps.LogLevel(catoi(word))
	}
	return apps.ParseLogLevel(word)
}

// fsctlLogLevel is `fsctl loglevel [level]`.
func fsctlLogLevel(env Env, word string) string {
	ll, ok := env.(LogLevels)
	if !ok || ll.LogLevel() == nil {
		return needs("fsctl loglevel")
	}
	lv := ll.LogLevel()
	if word != "" {
		l := parseLevel(word)
		if l == apps.LogInvalid {
			return "-ERR syntax error, log level not set!\n"
		}
		lv.Set(min(l, apps.LogDebug).Slog())
	}
	l := apps.LogLevelOf(lv.Level())
	return fmt.Sprintf("+OK log level: %s [%d]\n", l, int(l))
}

// consoleUsage and consoleLevelUsage are the console command's help texts,
// FreeSWITCH's own.
const (
	consoleRule  = "--------------------------------------------------------------------------------\n"
	consoleUsage = "USAGE:\n" + consoleRule +
		"console help\n" +
		"console loglevel [[0-7] | <loglevel_string>]\n" +
		"console uuid [on|off|toggle]\n" +
		"console json [on|off|toggle]\n" +
		"console colorize [on|off|toggle]\n" + consoleRule
	consoleLevelUsage = "USAGE:\n" + consoleRule +
		"console loglevel [[0-7] | <loglevel_string>]\n" +
		"\n" +
		"Set the logging verbosity of the console from 0 (least verbose) to\n" +
		"7 (debugging), or specify the loglevel as a string:\n" +
		"\n" +
		"  0 console\n  1 alert\n  2 crit\n  3 err\n  4 warning\n  5 notice\n  6 info\n  7 debug\n" + consoleRule
)

// console is `console loglevel [level]` (and `console help`): it sets the
// console's log level — the switch's log level, since Switchboard has one
// — and answers "+OK console log level set to INFO"; without a level it
// shows the level. "console loglevel help" prints the levels.
//
// colorize, uuid and json answer "-ERR console <word> is not supported".
func console(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 3)
	if len(argv) == 0 {
		return consoleUsage, nil
	}
	switch strings.ToLower(argv[0]) {
	case "loglevel":
	case "colorize", "uuid", "json":
		return "-ERR console " + strings.ToLower(argv[0]) + " is not supported\n", nil
	default:
		return consoleUsage, nil
	}
	ll, ok := env.(LogLevels)
	if !ok || ll.LogLevel() == nil {
		return needs("console loglevel"), nil
	}
	level := apps.LogLevelOf(ll.LogLevel().Level())
	if len(argv) > 1 {
		if strings.EqualFold(argv[1], "help") {
			return consoleLevelUsage, nil
		}
		level = parseLevel(argv[1])
	}
	if level == apps.LogInvalid {
		return "-ERR Invalid console loglevel (" + arg(argv, 1) + ")!\n\n", nil
	}
	ll.LogLevel().Set(level.Slog())
	return "+OK console log level set to " + level.String() + "\n", nil
}
