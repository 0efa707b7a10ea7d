package apps

import (
	"context"
	"strings"
)

// The logging family: log, and the do-nothing eval and stop.

func init() {
	Register(App{
		Name:        "log",
		Usage:       "<log_level> <log_string>",
		Description: "Write a line to the log",
		Flags:       SupportNoMedia | RoutingExec | ZombieExec,
		Run:         logApp,
	})
	Register(App{
		Name:        "eval",
		Description: "Do nothing; the data is still expanded",
		Flags:       SupportNoMedia | RoutingExec | ZombieExec,
		Run:         nothing,
	})
	Register(App{
		Name:        "stop",
		Description: "Do nothing",
		Flags:       SupportNoMedia | RoutingExec,
		Run:         nothing,
	})
}

// logApp is `log [<level> ]<message>`, as FreeSWITCH's log_function: when
// the data holds a space, the text before the first space is the level
// (ParseLogLevel) and the rest is the message; otherwise the whole data is
// logged at debug. A first word that is not a level is still removed and
// the message goes out at debug, so `log Hello world` logs "world". An
// empty first word (data starting with a space) reads as level 0, console.
func logApp(_ context.Context, ch Channel, data string) error {
	level, msg := LogDebug, data
	if word, rest, ok := strings.Cut(data, " "); ok {
		level, msg = ParseLogLevel(word), rest
	}
	if level == LogInvalid {
		level = LogDebug
	}
	ch.Log(level.Slog(), msg)
	return nil
}

// nothing is eval and stop: the executor has already expanded the data,
// which is the point of eval (running ${api()} calls for their effect).
func nothing(context.Context, Channel, string) error { return nil }
