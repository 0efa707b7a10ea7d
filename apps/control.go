package apps

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/vars"
)

// The call-control family: transfer, execute_extension, park and
// sched_hangup.

func init() {
	for _, a := range []App{
		{Name: "transfer", Usage: "<exten> [<dialplan> <context>]", Description: "Route the call again to another extension", Run: transferApp},
		{Name: "execute_extension", Usage: "<extension> <dialplan> <context>", Description: "Run another extension's actions, then come back", Run: executeExtensionApp},
		{Name: "park", Description: "Park the call", Run: parkApp},
		{Name: "sched_hangup", Usage: "[+]<time> [<cause>]", Description: "Schedule a hangup", Run: schedHangupApp},
	} {
		a.Flags = SupportNoMedia
		Register(a)
	}
}

// arg returns argv[i], or "" past its end.
func arg(argv []string, i int) string {
	if i < len(argv) {
		return argv[i]
	}
	return ""
}

// transferApp is `transfer [-bleg|-both] <exten> [<dialplan> [<context>]]`
// (spec §2.9): the words are split as switch_separate_string splits them
// (at most four; quotes group) and Session.Transfer applies the defaults
// for missing parts. The action list stops once transfer returns.
//
// -bleg transfers the bridged leg instead and -both transfers both.
// Switchboard does not bridge calls yet, so there is never a bridged leg:
// as FreeSWITCH does when it finds none, -bleg only logs "No B-leg
// present." and -both transfers this call alone.
func transferApp(_ context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "transfer")
	if err != nil {
		return err
	}
	argv := vars.Separate(data, ' ', 4)
	if len(argv) == 0 {
		return &UsageError{App: "transfer", Usage: "<exten> [<dialplan> <context>]", Reason: "no extension specified"}
	}
	bleg, both := strings.EqualFold(argv[0], "-bleg"), strings.EqualFold(argv[0], "-both")
	if !bleg && !both {
		return transfer(s, arg(argv, 0), arg(argv, 1), arg(argv, 2))
	}
	s.Log(slog.LevelWarn, "No B-leg present.")
	if both {
		return transfer(s, arg(argv, 1), arg(argv, 2), arg(argv, 3))
	}
	return nil
}

// transfer calls Session.Transfer, wrapping its error.
func transfer(s Session, exten, dialplan, context string) error {
	if err := s.Transfer(exten, dialplan, context); err != nil {
		return fmt.Errorf("transfer to %s %s %s: %w", exten, dialplan, context, err)
	}
	return nil
}

// executeExtensionApp is `execute_extension <exten> [<dialplan>
// [<context>]]`: it hunts exten and runs its actions now, nested, then
// returns to the current list (spec §2.9). Missing parts are inherited
// from the call.
func executeExtensionApp(_ context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "execute_extension")
	if err != nil {
		return err
	}
	argv := vars.Separate(data, ' ', 4)
	if len(argv) == 0 {
		return &UsageError{App: "execute_extension", Usage: "<extension> <dialplan> <context>", Reason: "no extension specified"}
	}
	exten, dialplan, context := arg(argv, 0), arg(argv, 1), arg(argv, 2)
	if err := s.ExecuteExtension(exten, dialplan, context); err != nil {
		return fmt.Errorf("execute_extension %s %s %s: %w", exten, dialplan, context, err)
	}
	return nil
}

// parkApp parks the call: it stays up doing nothing until it is
// transferred or hung up, and the action list stops.
func parkApp(_ context.Context, ch Channel, _ string) error {
	s, err := sessionOf(ch, "park")
	if err != nil {
		return err
	}
	s.Park()
	return nil
}

// schedHangupApp is `sched_hangup [+]<time> [<cause>] [bleg]`.
func schedHangupApp(_ context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "sched_hangup")
	if err != nil {
		return err
	}
	return schedHangup(s, data, time.Now())
}

// schedHangup runs sched_hangup at time now, reading the data as
// FreeSWITCH does:
//
//   - "+<secs>" hangs up secs seconds from now; "<epoch>" at that Unix
//     time (C atol, so trailing junk is ignored).
//   - The cause is cause.Parse of the second word; ALLOTTED_TIMEOUT when
//     there is none.
//   - Quirk kept: FreeSWITCH reads the seconds from the first word minus
//     its first character whatever that character is, and hangs up at
//     once when they are 0. So "+0" hangs up now, and so does an absolute
//     time whose digits after the first are missing or all zeros ("5",
//     "10", "300").
//   - A time already past hangs up at once too (the scheduler runs the
//     task on its next tick).
//   - "bleg" as the third word hangs up the bridged leg instead; there is
//     never one (Switchboard does not bridge yet), so as in FreeSWITCH
//     nothing is scheduled and a warning is logged. The immediate hangup
//     of the quirk above still ends this call.
//
// A later sched_hangup replaces an earlier one (FreeSWITCH would keep
// both; the earlier would win).
func schedHangup(s Session, data string, now time.Time) error {
	argv := vars.Separate(data, ' ', 5)
	if len(argv) == 0 {
		return &UsageError{App: "sched_hangup", Usage: "[+]<time> [<cause>]", Reason: "no time specified"}
	}
	when := argv[0]
	secs := 0
	if when != "" {
		secs = catoi(when[1:])
	}
	c := cause.CAllottedTimeout
	if len(argv) > 1 {
		c = cause.Parse(argv[1])
	}
	if secs == 0 {
		s.Hangup(c)
		return nil
	}
	if strings.EqualFold(arg(argv, 2), "bleg") {
		s.Log(slog.LevelWarn, "sched_hangup: no bridged leg to hang up")
		return nil
	}
	var d time.Duration
	if when[0] == '+' {
		d = time.Duration(secs) * time.Second
	} else {
		d = time.Unix(int64(catoi(when)), 0).Sub(now)
	}
	if d <= 0 {
		s.Hangup(c)
		return nil
	}
	s.ScheduleHangup(d, c)
	return nil
}
