package events

import (
	"sync"
	"testing"
	"time"
)

func testBus() *Bus {
	at := time.Date(2026, 11, 25, 21, 0, 0, 123456000, time.UTC)
	return NewBus(BusConfig{CoreUUID: "core-1", Hostname: "host", IPv4: "127.0.0.1", Now: func() time.Time { return at }})
}

func drain(s *Subscription) []string {
	var out []string
	for {
		select {
		case e, ok := <-s.C():
			if !ok {
				return out
			}
			n := e.Name()
			if sc := e.Subclass(); sc != "" {
				n += "/" + sc
			}
			out = append(out, n)
		default:
			return out
		}
	}
}

func TestDelivery(t *testing.T) {
	fire := []*Event{New("CHANNEL_ANSWER"), New("CHANNEL_HANGUP"), NewCustom("a::b"), NewCustom("c::d"), New("CUSTOM"), New("HEARTBEAT")}
	tests := []struct {
		name  string
		setup func(*Subscription) error
		want  []string
	}{
		{"nothing", func(*Subscription) error { return nil }, nil},
		{"names", func(s *Subscription) error { return s.Add("CHANNEL_ANSWER", "HEARTBEAT") }, []string{"CHANNEL_ANSWER", "HEARTBEAT"}},
		{"all", func(s *Subscription) error { return s.Add("ALL") }, []string{"CHANNEL_ANSWER", "CHANNEL_HANGUP", "CUSTOM/a::b", "CUSTOM/c::d", "CUSTOM", "HEARTBEAT"}},
		{"custom needs subclass", func(s *Subscription) error { return s.Add("CUSTOM") }, []string{"CUSTOM"}},
		{"subclass", func(s *Subscription) error { s.AddSubclass("c::d"); return nil }, []string{"CUSTOM/c::d", "CUSTOM"}},
		{"removed", func(s *Subscription) error {
			if err := s.Add("ALL", "CHANNEL_HANGUP"); err != nil {
				return err
			}
			s.Remove("ALL")
			return nil
		}, []string{"CHANNEL_HANGUP"}},
		{"filter", func(s *Subscription) error {
			s.SetFilter(func(e *Event) bool { return e.Name() != "HEARTBEAT" })
			return s.Add("ALL")
		}, []string{"CHANNEL_ANSWER", "CHANNEL_HANGUP", "CUSTOM/a::b", "CUSTOM/c::d", "CUSTOM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBus()
			s := b.Subscribe(16)
			defer s.Close()
			if err := tt.setup(s); err != nil {
				t.Fatal(err)
			}
			for _, e := range fire {
				b.Fire(e.Clone())
			}
			got := drain(s)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestStandardHeaders(t *testing.T) {
	b := testBus()
	s := b.Subscribe(4)
	if err := s.Add("ALL"); err != nil {
		t.Fatal(err)
	}
	e := NewCustom("x::y")
	e.Add("Mine", "1")
	b.Fire(e)
	got := <-s.C()
	hs := got.Headers()
	wantOrder := []string{"Event-Name", "Core-UUID", "FreeSWITCH-Hostname", "FreeSWITCH-Switchname", "FreeSWITCH-IPv4", "FreeSWITCH-IPv6", "Event-Date-Local", "Event-Date-GMT", "Event-Date-Timestamp", "Event-Calling-File", "Event-Calling-Function", "Event-Calling-Line-Number", "Event-Sequence", "Event-Subclass", "Mine"}
	if len(hs) != len(wantOrder) {
		t.Fatalf("headers %v", hs)
	}
	for i, n := range wantOrder {
		if hs[i].Name != n {
			t.Fatalf("header %d = %s, want %s (%v)", i, hs[i].Name, n, hs)
		}
	}
	checks := map[string]string{
		"Core-UUID": "core-1", "FreeSWITCH-Switchname": "host", "Event-Date-GMT": "Wed, 25 Nov 2026 21:00:00 GMT",
		"Event-Date-Timestamp": "1795640400123456", "Event-Sequence": "1", "Event-Calling-File": "bus_test.go",
		"Event-Calling-Function": "events.TestStandardHeaders",
	}
	for k, v := range checks {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
}

func TestSlowSubscriberIsDropped(t *testing.T) {
	b := testBus()
	slow := b.Subscribe(2)
	fast := b.Subscribe(100)
	for _, s := range []*Subscription{slow, fast} {
		if err := s.Add("ALL"); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		b.Fire(New("HEARTBEAT")) // must not block although slow never reads
	}
	if !slow.Overflowed() || fast.Overflowed() {
		t.Fatalf("overflowed: slow %v fast %v", slow.Overflowed(), fast.Overflowed())
	}
	if n := len(drain(slow)); n != 2 {
		t.Errorf("slow kept %d buffered events, want 2", n)
	}
	if n := len(drain(fast)); n != 10 {
		t.Errorf("fast got %d events, want 10", n)
	}
	if b.Subscribers() != 1 {
		t.Errorf("Subscribers = %d after the drop, want 1", b.Subscribers())
	}
	fast.Close()
	fast.Close()
	if b.Subscribers() != 0 || b.Wants("HEARTBEAT", "") {
		t.Error("closed subscription still counted")
	}
}

func TestConcurrentFireAndChange(t *testing.T) {
	b := testBus()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					b.Fire(New("CHANNEL_ANSWER"))
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		s := b.Subscribe(8)
		_ = s.Add("CHANNEL_ANSWER")
		drain(s)
		s.Remove("CHANNEL_ANSWER")
		s.Close()
	}
	close(stop)
	wg.Wait()
	var nilBus *Bus
	nilBus.Fire(New("ALL"))
	if nilBus.Wants("ALL", "") {
		t.Error("nil bus wants events")
	}
}
