package apps

import (
	"log/slog"
	"strings"
)

// LogLevel is a FreeSWITCH log level (switch_log_level_t): 0 is the most
// severe, 7 is debug. The log application, info, session_loglevel and the
// scripting log functions name levels this way; Slog maps them onto
// log/slog.
type LogLevel int

// FreeSWITCH log levels.
const (
	LogDisable LogLevel = -1 // "disable": FreeSWITCH still prints a line logged at it
	LogConsole LogLevel = 0
	LogAlert   LogLevel = 1
	LogCrit    LogLevel = 2
	LogErr     LogLevel = 3
	LogWarning LogLevel = 4
	LogNotice  LogLevel = 5
	LogInfo    LogLevel = 6
	LogDebug   LogLevel = 7
	// LogInvalid is what ParseLogLevel returns for a name it does not know.
	LogInvalid LogLevel = 64
)

// logNames are the level names in FreeSWITCH's order, starting at
// LogDisable.
var logNames = [...]string{"DISABLE", "CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG"}

// slog levels for the FreeSWITCH levels that log/slog does not name. Debug,
// info, warning and err are slog's own Debug, Info, Warn and Error.
const (
	SlogNotice  = slog.Level(2)
	SlogCrit    = slog.Level(10)
	SlogAlert   = slog.Level(12)
	SlogConsole = slog.Level(14)
)

// ParseLogLevel reads a level the way switch_log_str2level does:
//
//   - A number (optional sign, then digits and dots; the empty string
//     counts) is read like C's atoi; below 0 gives LogConsole, above 64
//     gives 63, anything else is taken as it is (8 to 63 are levels finer
//     than debug, and 64 is LogInvalid).
//   - Otherwise a name, ignoring case: disable, console, alert, crit, err,
//     warning, notice, info, debug. Note that "error" and "warn" are not
//     names; they give LogInvalid.
func ParseLogLevel(s string) LogLevel {
	if isNumber(s) {
		switch n := atoi(s); {
		case n > int(LogInvalid):
			return LogInvalid - 1
		case n < 0:
			return LogConsole
		default:
			return LogLevel(n)
		}
	}
	for i, name := range logNames {
		if strings.EqualFold(name, s) {
			return LogLevel(i) + LogDisable
		}
	}
	return LogInvalid
}

// String returns the level's FreeSWITCH name; levels finer than debug are
// "DEBUG" (as switch_log_level2str has it) and out-of-range values are
// "INVALID".
func (l LogLevel) String() string {
	switch {
	case l > LogDebug && l < LogInvalid:
		return "DEBUG"
	case l >= LogDisable && l <= LogDebug:
		return logNames[l-LogDisable]
	}
	return "INVALID"
}

// Slog maps the level onto log/slog: debug, info, warning and err become
// slog's Debug, Info, Warn and Error; notice, crit, alert and console sit
// between and above them (SlogNotice ... SlogConsole). Levels finer than
// debug (8 and up) go below slog.LevelDebug, one step per level, so the
// usual handlers drop them as FreeSWITCH does. LogDisable, which
// FreeSWITCH prints regardless of the configured level, maps to
// SlogConsole; LogInvalid maps to debug.
func (l LogLevel) Slog() slog.Level {
	switch l {
	case LogDisable, LogConsole:
		return SlogConsole
	case LogAlert:
		return SlogAlert
	case LogCrit:
		return SlogCrit
	case LogErr:
		return slog.LevelError
	case LogWarning:
		return slog.LevelWarn
	case LogNotice:
		return SlogNotice
	case LogInfo:
		return slog.LevelInfo
	case LogDebug, LogInvalid:
		return slog.LevelDebug
	}
	if l > LogDebug && l < LogInvalid {
		return slog.LevelDebug - slog.Level(l-LogDebug)
	}
	return slog.LevelDebug
}

// LogLevelOf maps a slog level back to the FreeSWITCH level it stands for
// (the most severe FreeSWITCH level whose Slog is at or below s), for
// handlers that print FreeSWITCH-style "[WARNING]" tags. Levels below
// slog.LevelDebug map to LogDebug.
func LogLevelOf(s slog.Level) LogLevel {
	for l := LogConsole; l <= LogDebug; l++ {
		if l.Slog() <= s {
			return l
		}
	}
	return LogDebug
}

// isNumber is switch_is_number: an optional sign followed by nothing but
// digits and dots.
func isNumber(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// atoi reads an optionally signed decimal prefix of s like C's atoi; it
// saturates instead of overflowing.
func atoi(s string) int {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < 1<<31 {
			n = n*10 + int(s[i]-'0')
		}
	}
	if neg {
		return -n
	}
	return n
}
