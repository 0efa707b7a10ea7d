package session

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/events"
)

// verboseEvents are the events FreeSWITCH gives every channel variable
// (switch_channel_event_set_extended_data without verbose-channel-events);
// the others carry the channel's basic data only.
var verboseEvents = map[string]bool{
	"CHANNEL_CREATE": true, "CHANNEL_ORIGINATE": true, "CHANNEL_UUID": true, "CHANNEL_ANSWER": true,
	"CHANNEL_PARK": true, "CHANNEL_UNPARK": true, "CHANNEL_BRIDGE": true, "CHANNEL_UNBRIDGE": true,
	"CHANNEL_PROGRESS": true, "CHANNEL_PROGRESS_MEDIA": true, "CHANNEL_HANGUP": true,
	"CHANNEL_HANGUP_COMPLETE": true, "REQUEST_PARAMS": true, "CHANNEL_DATA": true,
	"CHANNEL_EXECUTE": true, "CHANNEL_EXECUTE_COMPLETE": true, "CHANNEL_DESTROY": true,
	"SESSION_HEARTBEAT": true, "API": true, "RECORD_START": true, "RECORD_STOP": true,
	"PLAYBACK_START": true, "PLAYBACK_STOP": true, "CALL_UPDATE": true, "MEDIA_BUG_START": true,
	"MEDIA_BUG_STOP": true, "CHANNEL_HOLD": true, "CHANNEL_UNHOLD": true, "TEXT": true, "CUSTOM": true,
}

// CallState is the channel's call state as FreeSWITCH names it
// (Channel-Call-State): DOWN, RINGING, EARLY, ACTIVE, HELD, UNHELD or
// HANGUP.
func (s *Session) CallState() string {
	if s.hungup.Load() {
		return "HANGUP"
	}
	if h := s.holdCallState(); h != "" {
		return h
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.answered:
		return "ACTIVE"
	case s.early:
		return "EARLY"
	case s.ringing:
		return "RINGING"
	}
	return "DOWN"
}

// AnswerState is the channel's Answer-State: ringing, early, answered or
// hangup.
func (s *Session) AnswerState() string {
	if s.hungup.Load() {
		return "hangup"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.answered:
		return "answered"
	case s.early:
		return "early"
	}
	return "ringing"
}

// AddEventData adds the channel's headers to e as FreeSWITCH's
// switch_channel_event_set_data does: the basic data (Channel-State,
// Unique-ID, Answer-State, codecs, the Caller-* profile) and, when
// withVars is true, every channel variable as variable_<name>.
func (s *Session) AddEventData(e *events.Event, withVars bool) {
	st := s.State()
	e.Add("Channel-State", st.String())
	e.Add("Channel-Call-State", s.CallState())
	e.Add("Channel-State-Number", strconv.Itoa(int(st)))
	s.mu.Lock()
	p := s.profile.Clone()
	s.mu.Unlock()
	e.Add("Channel-Name", p.ChanName)
	e.Add("Unique-ID", s.uuid)
	e.Add("Call-Direction", "inbound")
	e.Add("Presence-Call-Direction", "inbound")
	e.Add("Channel-HIT-Dialplan", "true")
	if v, ok := s.vars.Get("presence_id"); ok {
		e.Add("Channel-Presence-ID", v)
	}
	if v, ok := s.vars.Get("call_uuid"); ok {
		e.Add("Channel-Call-UUID", v)
	} else {
		e.Add("Channel-Call-UUID", s.uuid)
	}
	e.Add("Answer-State", s.AnswerState())
	if s.hungup.Load() {
		e.Add("Hangup-Cause", s.HangupCause().String())
	}
	for _, dir := range [...]string{"Read", "Write"} {
		lc := "read"
		if dir == "Write" {
			lc = "write"
		}
		if codec, ok := s.vars.Get(lc + "_codec"); ok && codec != "" {
			rate, _ := s.vars.Get(lc + "_rate")
			e.Add("Channel-"+dir+"-Codec-Name", codec)
			e.Add("Channel-"+dir+"-Codec-Rate", rate)
			e.Add("Channel-"+dir+"-Codec-Bit-Rate", "64000")
		}
	}
	p.EventHeaders("Caller", "inbound", e.Add)
	if withVars {
		s.vars.Range(func(name, value string) bool {
			e.Add("variable_"+name, value)
			return true
		})
	}
}

// ChannelEvent returns an event called name carrying the channel's data,
// with the variables when FreeSWITCH gives that event them.
func (s *Session) ChannelEvent(name string) *events.Event {
	e := events.New(name)
	s.AddEventData(e, verboseEvents[name])
	return e
}

// fire fires a channel event when somebody listens; extra adds the
// event's own headers after the channel data.
func (s *Session) fire(name string, extra func(*events.Event)) {
	bus := s.m.cfg.Events
	if !bus.Wants(name, "") {
		return
	}
	e := s.ChannelEvent(name)
	if extra != nil {
		extra(e)
	}
	bus.Fire(e)
}

// FireEvent fires the event the `event` app describes: Event-Name picks
// the event (CUSTOM when absent or unknown), Event-Subclass the subclass,
// the other pairs become headers after the channel's data.
func (s *Session) FireEvent(headers [][2]string) {
	name, sub := "CUSTOM", ""
	for _, h := range headers {
		switch {
		case strings.EqualFold(h[0], "Event-Name") && events.Known(h[1]) && h[1] != "ALL":
			name = h[1]
		case strings.EqualFold(h[0], "Event-Subclass"):
			sub = h[1]
		}
	}
	bus := s.m.cfg.Events
	if !bus.Wants(name, sub) {
		s.log.Debug("event fired with no listener", "event", name, "subclass", sub)
		return
	}
	e := events.New(name)
	if sub != "" {
		e.Add("Event-Subclass", sub)
	}
	s.AddEventData(e, verboseEvents[name])
	for _, h := range headers {
		if strings.EqualFold(h[0], "Event-Name") || strings.EqualFold(h[0], "Event-Subclass") {
			continue
		}
		e.Add(h[0], h[1])
	}
	bus.Fire(e)
}

// report runs the Reporters (CDR writers, metrics) once for this leg.
func (s *Session) report() {
	for _, r := range s.m.cfg.Reporters {
		func() {
			defer func() {
				if p := recover(); p != nil {
					s.log.Error("reporter panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				}
			}()
			r(s)
		}()
	}
}
