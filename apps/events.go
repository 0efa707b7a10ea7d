package apps

import (
	"context"
	"strings"

	"github.com/switchboard-voip/switchboard/vars"
)

// The events family: event fires an event, info logs the channel's data.
// Both may run inline and after hangup.

func init() {
	for _, a := range []App{
		{Name: "event", Description: "Fire an event", Run: eventApp},
		{Name: "info", Description: "Log the channel's data and variables", Run: infoApp},
	} {
		a.Flags = SupportNoMedia | RoutingExec | ZombieExec
		Register(a)
	}
}

// maxEventHeaders is how many comma-separated items event reads; the last
// keeps the rest of the data, commas included.
const maxEventHeaders = 25

// eventApp is `event <Header>=<value>[,<Header>=<value>...]`: it fires a
// CHANNEL_APPLICATION event carrying those headers, in order, plus the
// channel's data (Session.FireEvent adds that). Event-Name=<NAME> fires
// that event instead and Event-Subclass=<class> sets the subclass;
// FireEvent interprets both.
//
// The data is split on commas as switch_separate_string splits it (quotes
// group, "\," escapes); spaces around each name and value are removed;
// items without "=" are ignored. Empty data fires the event with no
// headers of its own.
func eventApp(_ context.Context, ch Channel, data string) error {
	s, err := sessionOf(ch, "event")
	if err != nil {
		return err
	}
	s.FireEvent(parseEventHeaders(data))
	return nil
}

// parseEventHeaders splits event's data into header name/value pairs.
func parseEventHeaders(data string) [][2]string {
	var headers [][2]string
	for _, item := range vars.Separate(data, ',', maxEventHeaders) {
		name, val, ok := strings.Cut(strings.TrimLeft(item, " "), "=")
		if !ok {
			continue
		}
		headers = append(headers, [2]string{strings.TrimRight(name, " "), strings.TrimLeft(val, " ")})
	}
	return headers
}

// infoApp is `info [<level>]`: it logs the channel's data at level
// (ParseLogLevel; INFO when the data is empty) as FreeSWITCH's
// CHANNEL_DATA dump: a "CHANNEL_DATA:" line, then "Header: value" lines.
// Headers are Channel-Name (when channel_name is set), and on a live
// call Unique-ID and Answer-State (ringing, early, answered or hangup),
// then every channel variable as "variable_<name>: <value>" in the order
// the variables were first set. Values are not URL-encoded.
func infoApp(_ context.Context, ch Channel, data string) error {
	level := LogInfo
	if data != "" {
		level = ParseLogLevel(data)
	}
	ch.Log(level.Slog(), channelData(ch))
	return nil
}

// channelData renders info's dump.
func channelData(ch Channel) string {
	var b strings.Builder
	b.WriteString("CHANNEL_DATA:\n")
	line := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteByte('\n')
	}
	v := ch.Vars()
	if name, ok := v.Get("channel_name"); ok {
		line("Channel-Name", name)
	}
	if s, ok := ch.(Session); ok {
		line("Unique-ID", s.UUID())
		line("Answer-State", answerState(s))
	}
	v.Range(func(name, value string) bool {
		line("variable_"+name, value)
		return true
	})
	return strings.TrimSuffix(b.String(), "\n")
}

// answerState is the call's Answer-State event header.
func answerState(s Session) string {
	switch {
	case !s.Ready():
		return "hangup"
	case s.Answered():
		return "answered"
	case mediaReady(s):
		return "early"
	}
	return "ringing"
}
