package commands

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/session"
)

func TestHeartbeat(t *testing.T) {
	e := newLive(t)
	startCall(t, e, "park", "1000", session.CSPark)
	ev, ok := Heartbeat(e, DefaultHeartbeat)
	if !ok {
		t.Fatal("no heartbeat from a running switch")
	}
	want := map[string]string{
		"Event-Name": "HEARTBEAT", "Event-Info": "System Ready", "Session-Count": "1",
		"Max-Sessions": "200", "Session-Since-Startup": "1", "Idle-CPU": "97.500000",
		"Heartbeat-Interval": "20", "Session-Peak-Max": "1",
	}
	for k, v := range want {
		if got := ev.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"Up-Time", "FreeSWITCH-Version", "Uptime-msec", "Session-Per-Sec"} {
		if ev.Get(k) == "" {
			t.Errorf("no %s", k)
		}
	}
	if _, ok := Heartbeat(&Host{Runtime: e.Runtime}, time.Second); ok {
		t.Error("a heartbeat without a running switch")
	}
}

func TestRunHeartbeat(t *testing.T) {
	e := newLive(t)
	bus := events.NewBus(events.BusConfig{CoreUUID: "c"})
	sub := bus.Subscribe(4)
	if err := sub.Add("HEARTBEAT"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { RunHeartbeat(ctx, e, bus, 10*time.Millisecond); close(done) }()
	select {
	case ev := <-sub.C():
		if ev.Get("Heartbeat-Interval") != "0" || ev.Get("Core-UUID") != "c" {
			t.Errorf("heartbeat %v", ev.Headers())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no HEARTBEAT fired")
	}
	cancel()
	<-done
}
