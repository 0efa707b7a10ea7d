package commands

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
	"github.com/switchboard-voip/switchboard/vars"
)

// The call-control family: the uuid_* commands and hupall. They act on
// live calls through the Core of a running switch; under `switchboard
// api` they answer "-ERR <command> needs a running switch".

func init() {
	for _, c := range []Command{
		{Name: "uuid_kill", Usage: "<uuid> [cause]", Description: "Kill channel", Run: uuidKill},
		{Name: "uuid_transfer", Usage: transferUsage, Description: "Transfer a session", Run: uuidTransfer},
		{Name: "uuid_bridge", Usage: "<uuid> <other_uuid>", Description: "Bridge call legs", Run: uuidBridge},
		{Name: "uuid_getvar", Usage: "<uuid> <var>", Description: "Get a variable from a channel", Run: uuidGetvar},
		{Name: "uuid_setvar", Usage: setvarUsage, Description: "Set a variable", Run: uuidSetvar},
		{Name: "uuid_setvar_multi", Usage: setvarMultiUsage, Description: "Set multiple variables", Run: uuidSetvarMulti},
		{Name: "uuid_dump", Usage: "<uuid> [format]", Description: "Dump session vars", Run: uuidDump},
		{Name: "uuid_exists", Usage: "<uuid>", Description: "Check if a uuid exists", Run: uuidExists},
		{Name: "uuid_break", Usage: breakUsage, Description: "Break out of media sent to channel", Run: uuidBreak},
		{Name: "break", Usage: breakUsage, Description: "uuid_break", Run: uuidBreak},
		{Name: "uuid_broadcast", Usage: broadcastUsage, Description: "Execute dialplan application", Run: uuidBroadcast},
		{Name: "uuid_send_dtmf", Usage: sendDTMFUsage, Description: "Send dtmf digits", Run: uuidSendDTMF},
		{Name: "uuid_answer", Usage: "<uuid>", Description: "answer", Run: uuidAnswer},
		{Name: "uuid_park", Usage: "<uuid>", Description: "Park channel", Run: uuidPark},
		{Name: "uuid_hold", Usage: holdUsage, Description: "Place call on hold", Run: uuidHold},
		{Name: "hupall", Usage: "<cause> [<var> <value>] [<var2> <value2>]", Description: "hupall", Run: hupall},
	} {
		Register(c)
	}
}

const (
	transferUsage    = "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]"
	setvarUsage      = "<uuid> <var> [value]"
	setvarMultiUsage = "<uuid> <var>=<value>;<var>=<value>..."
	breakUsage       = "<uuid> [all]"
	broadcastUsage   = "<uuid> <path> [aleg|bleg|holdb|both]"
	sendDTMFUsage    = "<uuid> <dtmf_data>"
	holdUsage        = "[off|toggle] <uuid> [<display>]"
	noChannel        = "-ERR No such channel!\n"
)

// uuidKill is `uuid_kill <uuid> [<cause>]`: it hangs the call up with the
// cause (a name or a number; NORMAL_CLEARING by default and for a name it
// does not know).
func uuidKill(_ context.Context, env Env, args string) (string, error) {
	if args == "" {
		return "-USAGE: <uuid> [cause]\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_kill"), nil
	}
	id, why, _ := strings.Cut(args, " ")
	s := locate(c, id)
	if s == nil {
		return noChannel, nil
	}
	s.Hangup(cause.Parse(why))
	return "+OK\n", nil
}

// uuidTransfer is `uuid_transfer <uuid> [-bleg|-both] <dest> [<dialplan>
// [<context>]]`: the call stops what it is doing (a running playback or
// echo ends, a park is left) and is routed again to dest, as the transfer
// application would; missing parts take transfer's defaults.
//
// -bleg transfers the leg bridged to the call instead, -both both of
// them; a call bridged to nobody is transferred itself.
func uuidTransfer(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 5)
	if len(argv) < 2 {
		return "-USAGE: " + transferUsage + "\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_transfer"), nil
	}
	s := locate(c, argv[0])
	if s == nil {
		return noChannel, nil
	}
	dest, rest := argv[1], argv[2:]
	legs := []*session.Session{s}
	if strings.HasPrefix(dest, "-") {
		flag := dest
		dest, rest = arg(argv, 2), argv[min(3, len(argv)):]
		p := s.Partner()
		switch strings.ToLower(flag) {
		case "-bleg":
			// As in FreeSWITCH, a call bridged to nobody is itself
			// transferred.
			if p != nil {
				legs = []*session.Session{p}
			}
		case "-both":
			if p != nil {
				legs = append(legs, p)
			}
		}
	}
	for _, l := range legs {
		if err := l.Transfer(dest, arg(rest, 0), arg(rest, 1)); err != nil {
			return "-ERR\n", nil
		}
	}
	return "+OK\n", nil
}

// uuidBridge is `uuid_bridge <uuid> <other_uuid>`: both calls stop what
// they are doing and are bridged; the first one's action list ends with
// the bridge.
func uuidBridge(_ context.Context, env Env, args string) (string, error) {
	f := strings.Fields(args)
	if len(f) != 2 {
		return "-USAGE: <uuid> <other_uuid>\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_bridge"), nil
	}
	a, b := locate(c, f[0]), locate(c, f[1])
	if a == nil || b == nil {
		return "-ERR Invalid uuid\n", nil
	}
	if err := a.BridgeWith(b); err != nil {
		return "-ERR " + err.Error() + "\n", nil
	}
	return "+OK " + f[1] + "\n", nil
}

// arg returns argv[i], or "" past its end.
func arg(argv []string, i int) string {
	if i < len(argv) {
		return argv[i]
	}
	return ""
}

// uuidGetvar is `uuid_getvar <uuid> <var>`: the variable as the channel
// sees it (its own variables, then its caller-profile fields, then the
// globals), "_undef_" when it has none. "name[i]" reads element i of an
// array variable.
func uuidGetvar(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 4)
	if len(argv) < 2 || argv[0] == "" {
		return "-USAGE: <uuid> <var>\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_getvar"), nil
	}
	s := locate(c, argv[0])
	if s == nil {
		return noChannel, nil
	}
	name := argv[1]
	if name == "" {
		return "-ERR No variable name specified!\n", nil
	}
	if v, ok := arrayElement(s, name); ok {
		return v, nil
	}
	if v, ok := s.Get(name); ok {
		return v, nil
	}
	return "_undef_", nil
}

// arrayElement reads "name[i]": element i of the array variable name.
func arrayElement(s *session.Session, expr string) (string, bool) {
	open := strings.IndexByte(expr, '[')
	if open < 0 || !strings.Contains(expr[open:], "]") {
		return "", false
	}
	name := expr[:open]
	v, ok := s.Vars().Get(name)
	if !ok || !strings.HasPrefix(v, "ARRAY::") {
		return "", false
	}
	i := catoi(expr[open+1:])
	elems := s.Vars().Array(name)
	if i < 0 || i >= len(elems) {
		return "", false
	}
	return elems[i], true
}

// catoi reads a number like C's atoi: leading white space, an optional
// sign, then digits; anything else reads as 0.
func catoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

// uuidSetvar is `uuid_setvar <uuid> <var> [<value>]`: it sets the channel
// variable, or unsets it when the value is missing or empty. The value is
// the rest of the line, spaces included.
func uuidSetvar(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 3)
	if len(argv) < 2 || argv[0] == "" {
		return "-USAGE: " + setvarUsage + "\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_setvar"), nil
	}
	s := locate(c, argv[0])
	if s == nil {
		return noChannel, nil
	}
	if argv[1] == "" {
		return "-ERR No variable specified\n", nil
	}
	s.Vars().Set(argv[1], arg(argv, 2))
	return "+OK\n", nil
}

// uuidSetvarMulti is `uuid_setvar_multi <uuid> <var>=<value>[;...]`: it
// sets (or, for "<var>=" and "<var>", unsets) each variable. The
// assignments are split at ';' with switch_separate_string's rules (at
// most 64). Replies follow FreeSWITCH's, quirks included: "-ERR No
// variable specified" for each assignment without a name, "+OK" when one
// or more were made, and otherwise the usage line — also after "-ERR No
// such channel!"; nothing at all without a space after the uuid.
func uuidSetvarMulti(_ context.Context, env Env, args string) (string, error) {
	usage := "-USAGE: " + setvarMultiUsage + "\n"
	if args == "" {
		return usage, nil
	}
	id, assignments, ok := strings.Cut(args, " ")
	if !ok {
		return "", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_setvar_multi"), nil
	}
	s := locate(c, id)
	if s == nil {
		return noChannel + usage, nil
	}
	var out strings.Builder
	set := 0
	for _, a := range vars.Separate(assignments, ';', 64) {
		name, value, _ := strings.Cut(a, "=")
		if name == "" {
			out.WriteString("-ERR No variable specified\n")
			continue
		}
		s.Vars().Set(name, value)
		set++
	}
	if set > 0 {
		return out.String() + "+OK\n", nil
	}
	return out.String() + usage, nil
}

// uuidDump is `uuid_dump <uuid> [<format>]`: the channel's data as a
// CHANNEL_DATA event (Channel-State, Unique-ID, the Caller-* profile,
// every variable as variable_<name>): "Name: value" lines with URL-encoded
// values by default (txt), "Name: [value]" lines as they are with plain,
// or the event's json or xml form, with the standard event headers
// (Core-UUID, Event-Date-*, ...) when the switch has an event bus.
func uuidDump(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 2)
	if len(argv) == 0 || argv[0] == "" {
		return "-USAGE: <uuid> [format]\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_dump"), nil
	}
	s := locate(c, argv[0])
	if s == nil {
		return noChannel, nil
	}
	e := s.ChannelEvent("CHANNEL_DATA")
	if src, ok := env.(EventSource); ok {
		src.Events().Stamp(e)
	}
	switch format := arg(argv, 1); {
	case strings.EqualFold(format, "xml"):
		return string(e.XML()), nil
	case strings.EqualFold(format, "json"):
		return string(e.JSON()), nil
	case strings.EqualFold(format, "plain"):
		var b strings.Builder
		for _, h := range e.Headers() {
			b.WriteString(h.Name + ": [" + h.Value + "]\n")
		}
		b.WriteString("\n")
		return b.String(), nil
	}
	return string(e.Plain()), nil
}

// uuidExists is `uuid_exists <uuid>`: "true" when the call is live, else
// "false".
func uuidExists(_ context.Context, env Env, args string) (string, error) {
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_exists"), nil
	}
	if locate(c, args) != nil {
		return "true", nil
	}
	return "false", nil
}

// uuidBreak is `uuid_break <uuid> [all]` (also `break`): it cuts the
// call's current media operation short (playback, gentones, sleep with
// media, echo, a looping broadcast); with all, the applications queued
// for the call are dropped too. See session.Session.Break.
func uuidBreak(_ context.Context, env Env, args string) (string, error) {
	if args == "" {
		return "-USAGE: " + breakUsage + "\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_break"), nil
	}
	id, flag, _ := strings.Cut(args, " ")
	s := locate(c, id)
	if s == nil {
		return noChannel, nil
	}
	s.Break(strings.Contains(flag, "all"))
	return "+OK\n", nil
}

// uuidBroadcast is `uuid_broadcast <uuid> <path> [aleg|bleg|holdb|both]`:
// it queues playback of path on the call (or, for "<app>::<args>", that
// application; "<app>!<cause>::<args>" hangs up with cause afterwards, a
// bare "!" meaning NORMAL_CLEARING). The call runs it at once when parked
// or between applications; a running playback is suspended meanwhile and
// resumes afterwards (see session.Session.Enqueue).
//
// The legs: no word, aleg and both play to the call; bleg and holdb name
// only the bridged leg, which Switchboard never has yet, so nothing is
// queued for them (FreeSWITCH answers +OK there too).
//
// Deviation: an application that is not registered is refused with
// "-ERR no such application <app>"; FreeSWITCH queues it and hangs the
// call up when it fails to run.
func uuidBroadcast(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 4)
	if len(argv) < 2 {
		return "-USAGE: " + broadcastUsage + "\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_broadcast"), nil
	}
	s := locate(c, argv[0])
	if s == nil {
		return "-ERR invalid uuid\n", nil
	}
	legs := strings.ToLower(arg(argv, 2))
	aleg := legs == "" || strings.Contains(legs, "aleg") || strings.Contains(legs, "both")
	app, data := "playback", argv[1]
	if i := strings.IndexByte(data, ':'); i >= 0 && i+1 < len(data) && data[i+1] == ':' {
		app, data = data[:i], data[i+2:]
	}
	app, hangupCause, withCause := strings.Cut(app, "!")
	if withCause && hangupCause == "" {
		hangupCause = "normal_clearing"
	}
	if !aleg {
		return "+OK Message sent\n", nil
	}
	if err := s.Enqueue(app, data); err != nil {
		return enqueueError(app, err), nil
	}
	if withCause {
		if err := s.Enqueue("hangup", hangupCause); err != nil {
			return enqueueError("hangup", err), nil
		}
	}
	return "+OK Message sent\n", nil
}

// enqueueError is the reply for an application the call refused to
// queue.
func enqueueError(app string, err error) string {
	switch {
	case errors.Is(err, session.ErrUnknownApp):
		return "-ERR no such application " + app + "\n"
	case errors.Is(err, session.ErrHungUp):
		return "-ERR invalid uuid\n"
	}
	return "-ERR " + err.Error() + "\n"
}

// uuidSendDTMF is `uuid_send_dtmf <uuid> <dtmf_data>`: it sends the
// digits (send_dtmf's syntax: "1234", "12@500", "w" and "W" pauses) on
// the call's media. The digits are queued for the call and sent at once
// when it is parked or between applications; a running playback pauses
// for them. A call without media answers "-ERR Operation failed".
func uuidSendDTMF(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 2)
	if len(argv) < 2 || argv[0] == "" || argv[1] == "" {
		return "-USAGE: " + sendDTMFUsage + "\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_send_dtmf"), nil
	}
	s := locate(c, argv[0])
	if s == nil {
		return "-ERR Cannot locate session!\n", nil
	}
	if !s.MediaReady() || s.Enqueue("send_dtmf", argv[1]) != nil {
		return "-ERR Operation failed\n", nil
	}
	return "+OK " + argv[0] + " sent DTMF " + argv[1] + ".\n", nil
}

// uuidAnswer is `uuid_answer <uuid>`: it answers the call. The answer is
// queued for the call's own goroutine, which owns its signalling: it
// happens at once when the call is parked or between applications, and
// during a playback; "+OK" means it was queued.
func uuidAnswer(_ context.Context, env Env, args string) (string, error) {
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_answer"), nil
	}
	s := locate(c, args)
	if s == nil || s.Enqueue("answer", "") != nil {
		return "-ERROR\n", nil
	}
	return "+OK\n", nil
}

// uuidPark is `uuid_park <uuid>`: the call leaves its action list and
// waits, parked, for a transfer or a hangup. The park is queued for the
// call: a running playback or echo ends at once, any other application
// first returns.
func uuidPark(_ context.Context, env Env, args string) (string, error) {
	if args == "" {
		return "-USAGE: <uuid>\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_park"), nil
	}
	s := locate(c, args)
	if s == nil || s.Enqueue("park", "") != nil {
		return noChannel, nil
	}
	return "+OK\n", nil
}

// uuidHold is `uuid_hold [off|toggle] <uuid> [<display>]`: it puts the
// call on hold, takes it off (off), or switches (toggle: an ACTIVE or
// UNHELD call is held, a HELD one taken off, any other left alone). On
// hold the call's callstate is HELD, its media operation is suspended
// and no media is sent; see session.Session.Hold for what is partial.
// Holding a held call or taking off one that is not held answers "-ERR
// Operation failed", as in FreeSWITCH.
//
// Deviation: an unknown uuid also answers "-ERR Operation failed";
// FreeSWITCH answers "+OK Success".
func uuidHold(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 4)
	if len(argv) == 0 || argv[0] == "" {
		return "-USAGE: " + holdUsage + "\n", nil
	}
	c, ok := coreOf(env)
	if !ok {
		return needs("uuid_hold"), nil
	}
	const failed = "-ERR Operation failed\n"
	op, id := "", argv[0]
	if strings.EqualFold(argv[0], "off") || strings.EqualFold(argv[0], "toggle") {
		op, id = strings.ToLower(argv[0]), arg(argv, 1)
	}
	s := locate(c, id)
	if s == nil {
		return failed, nil
	}
	var err error
	switch op {
	case "off":
		err = s.Unhold()
	case "toggle":
		switch s.Info().CallState {
		case "ACTIVE", "UNHELD":
			err = s.Hold()
		case "HELD":
			err = s.Unhold()
		}
	default:
		err = s.Hold()
	}
	if err != nil {
		return failed, nil
	}
	return "+OK Success\n", nil
}

// hupall is `hupall [<cause> [<var> <value> ...]]`: it hangs up every
// call, or with pairs of variable names and values only the calls whose
// variables all have those values. The cause is read as uuid_kill reads
// it (NORMAL_CLEARING for a name it does not know); without one, or with
// NONE, it is MANAGER_REQUEST.
func hupall(_ context.Context, env Env, args string) (string, error) {
	c, ok := coreOf(env)
	if !ok {
		return needs("hupall"), nil
	}
	argv := vars.Separate(args, ' ', 11)
	why := cause.CManagerRequest
	if len(argv) > 0 {
		if why = cause.Parse(argv[0]); why == cause.CNone {
			why = cause.CManagerRequest
		}
	}
	type match struct{ name, value string }
	var want []match
	for i := 1; i+1 < len(argv); i += 2 {
		if argv[i] != "" && argv[i+1] != "" {
			want = append(want, match{argv[i], argv[i+1]})
		}
	}
	for _, s := range c.Sessions().List() {
		hit := true
		for _, m := range want {
			if v, ok := s.Get(m.name); !ok || v != m.value {
				hit = false
				break
			}
		}
		if hit {
			s.Hangup(why)
		}
	}
	switch len(want) {
	case 0:
		return "+OK hangup all channels with cause " + why.String() + "\n", nil
	case 1:
		return "+OK hangup all channels matching [" + argv[1] + "]=[" + argv[2] + "] with cause: " + why.String() + "\n", nil
	}
	return "+OK hangup all channels matching [" + argv[1] + "]=[" + argv[2] + "]... with cause: " + why.String() + "\n", nil
}
