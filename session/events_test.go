package session

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/conf/conftest"
	"github.com/switchboard-voip/switchboard/events"
)

func TestChannelEvents(t *testing.T) {
	dir := conftest.WriteTree(t, map[string]string{
		"freeswitch.xml": `<document type="freeswitch/xml"><section name="dialplan"><context name="default">
  <extension name="ev"><condition field="destination_number" expression="^120$">
    <action application="answer"/>
    <action application="event" data="Event-Subclass=my::sub,foo=bar"/>
    <action application="test_hangup" data="USER_BUSY"/>
  </condition></extension>
</context></section></document>`,
	})
	snap, err := conf.Load(conf.Options{Dir: dir, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	bus := events.NewBus(events.BusConfig{CoreUUID: "core", Hostname: "h"})
	sub := bus.Subscribe(1000)
	if err := sub.Add("ALL"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reported []string
	m := NewManager(Config{
		Snapshot: func() *conf.Snapshot { return snap },
		Logger:   slog.New(slog.DiscardHandler),
		Events:   bus,
		Reporters: []func(*Session){
			func(s *Session) {
				mu.Lock()
				defer mu.Unlock()
				v, _ := s.Vars().Get("hangup_cause")
				reported = append(reported, s.UUID()+":"+v)
			},
			func(*Session) { panic("a broken reporter") },
		},
	})
	s, _ := call(t, m, "120")
	sub.Close()
	var got []*events.Event
	for e := range sub.C() {
		if e.Name() != "CHANNEL_STATE" {
			got = append(got, e)
		}
	}
	var names []string
	for _, e := range got {
		n := e.Name()
		if e.Name() == "CHANNEL_EXECUTE" || e.Name() == "CHANNEL_EXECUTE_COMPLETE" {
			n += "(" + e.Get("Application") + ")"
		}
		if sc := e.Subclass(); sc != "" {
			n += "/" + sc
		}
		names = append(names, n)
	}
	want := []string{
		"CHANNEL_CREATE",
		"CHANNEL_EXECUTE(answer)", "CHANNEL_ANSWER", "CHANNEL_EXECUTE_COMPLETE(answer)",
		"CHANNEL_EXECUTE(event)", "CUSTOM/my::sub", "CHANNEL_EXECUTE_COMPLETE(event)",
		"CHANNEL_EXECUTE(test_hangup)", "CHANNEL_EXECUTE_COMPLETE(test_hangup)",
		"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	byName := map[string]*events.Event{}
	for _, e := range got {
		byName[e.Name()] = e
	}
	checks := []struct{ event, header, want string }{
		{"CHANNEL_CREATE", "Unique-ID", s.UUID()},
		{"CHANNEL_CREATE", "Caller-Destination-Number", "120"},
		{"CHANNEL_CREATE", "Answer-State", "ringing"},
		{"CHANNEL_CREATE", "variable_direction", "inbound"},
		{"CHANNEL_ANSWER", "Answer-State", "answered"},
		{"CHANNEL_ANSWER", "Channel-Call-State", "ACTIVE"},
		{"CUSTOM", "foo", "bar"},
		{"CUSTOM", "Core-UUID", "core"},
		{"CHANNEL_HANGUP", "Hangup-Cause", "USER_BUSY"},
		{"CHANNEL_HANGUP_COMPLETE", "variable_hangup_cause", "USER_BUSY"},
		{"CHANNEL_HANGUP_COMPLETE", "variable_hangup_cause_q850", "17"},
		{"CHANNEL_HANGUP_COMPLETE", "Channel-State", "CS_REPORTING"},
		{"CHANNEL_DESTROY", "Channel-State", "CS_DESTROY"},
	}
	for _, c := range checks {
		if v := byName[c.event].Get(c.header); v != c.want {
			t.Errorf("%s %s = %q, want %q", c.event, c.header, v, c.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || reported[0] != s.UUID()+":USER_BUSY" {
		t.Errorf("reporters saw %v, want one report with USER_BUSY", reported)
	}
}

func TestNoEventsWithoutListeners(t *testing.T) {
	m := newTestManager(t)
	m.cfg.Events = events.NewBus(events.BusConfig{})
	sub := m.cfg.Events.Subscribe(10)
	if err := sub.Add("HEARTBEAT"); err != nil {
		t.Fatal(err)
	}
	call(t, m, "100")
	sub.Close()
	if n := len(sub.C()); n != 0 {
		t.Errorf("a HEARTBEAT subscriber got %d channel events", n)
	}
}
