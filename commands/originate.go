package commands

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
)

// The originate family: originate places a call from the switch itself.

func init() {
	Register(Command{
		Name:        "originate",
		Usage:       originateUsage,
		Description: "Originate a call",
		Run:         originate,
	})
}

const originateUsage = "<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]"

// OriginateRequest is what the originate command asks of the switch.
type OriginateRequest struct {
	// Dial is the FreeSWITCH dial string to call.
	Dial string
	// App and AppArgs, when App is set, run on the answered leg instead
	// of a dialplan (the "&app(args)" form); the leg hangs up after.
	App, AppArgs string
	// Exten, Dialplan and Context route the answered leg otherwise.
	Exten, Dialplan, Context string
	// CallerIDName and CallerIDNumber are the new leg's caller id.
	CallerIDName, CallerIDNumber string
	// Timeout is how long to wait for an answer; zero: the default.
	Timeout time.Duration
}

// Originator is the optional interface of an Env that can place calls.
type Originator interface {
	// OriginateCall places r.Dial and, once it is answered, runs r's
	// application or routes r's extension on the new leg. It returns the
	// leg's UUID, or the cause of the failure.
	OriginateCall(ctx context.Context, r OriginateRequest) (string, cause.Cause)
}

// originate is FreeSWITCH's originate command: "+OK <uuid>" once the leg
// is answered, "-ERR <CAUSE>" when it is not.
func originate(ctx context.Context, env Env, args string) (string, error) {
	f := strings.Fields(args)
	if len(f) < 2 {
		return "-USAGE: " + originateUsage + "\n", nil
	}
	o, ok := env.(Originator)
	if !ok {
		return "-ERR " + cause.CChanNotImplemented.String() + "\n", nil
	}
	r := OriginateRequest{Dial: f[0]}
	if dest, ok := strings.CutPrefix(f[1], "&"); ok {
		name, rest := dest, ""
		if i := strings.IndexByte(dest, '('); i >= 0 {
			name, rest = dest[:i], dest[i+1:]
			if j := strings.LastIndexByte(rest, ')'); j >= 0 {
				rest = rest[:j]
			}
		}
		if name == "" {
			return "-USAGE: " + originateUsage + "\n", nil
		}
		r.App, r.AppArgs = name, rest
	} else {
		r.Exten = f[1]
	}
	opt := func(i int) string {
		if i < len(f) && !strings.EqualFold(f[i], "undef") {
			return f[i]
		}
		return ""
	}
	r.Dialplan, r.Context = opt(2), opt(3)
	r.CallerIDName, r.CallerIDNumber = opt(4), opt(5)
	if t := opt(6); t != "" {
		if n, err := strconv.Atoi(t); err == nil && n > 0 {
			r.Timeout = time.Duration(n) * time.Second
		}
	}
	uuid, c := o.OriginateCall(ctx, r)
	if uuid == "" {
		if c == cause.CNone || c == cause.CSuccess {
			c = cause.CDestinationOutOfOrder
		}
		return "-ERR " + c.String() + "\n", nil
	}
	return "+OK " + uuid + "\n", nil
}
