package session

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/conf"
	"github.com/switchboard-voip/switchboard/media"
)

// Bridged calls with real RTP streams: each leg's stream talks to a UDP
// socket standing for its phone, so the tests see what each phone hears.

const holdDialplan = `<include>
  <context name="default">
    <extension name="bridge">
      <condition field="destination_number" expression="^100$">
        <action application="bridge" data="hb/b"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="target">
      <condition field="destination_number" expression="^9000$">
        <action application="test_note" data="transferred"/>
        <action application="park"/>
      </condition>
    </extension>
  </context>
</include>
`

// rtpPhone is the far end of one leg: it receives the leg's RTP and can
// send it packets whose payload is one repeated byte.
type rtpPhone struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []byte // the first payload byte of every packet received
}

func newRTPPhone(t *testing.T) *rtpPhone {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPhone{conn: conn}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			var pkt rtp.Packet
			if pkt.Unmarshal(buf[:n]) != nil || len(pkt.Payload) == 0 {
				continue
			}
			p.mu.Lock()
			p.got = append(p.got, pkt.Payload[0])
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return p
}

func (p *rtpPhone) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// count returns how many packets arrived so far.
func (p *rtpPhone) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.got)
}

// since returns the first payload bytes of the packets after the first n.
func (p *rtpPhone) since(n int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.got[n:]...)
}

// talk sends 20 ms PCMU packets filled with b to to until ctx ends.
func (p *rtpPhone) talk(ctx context.Context, to netip.AddrPort, b byte) {
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = b
	}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: uint32(b) * 7919}, Payload: payload}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	dst := net.UDPAddrFromAddrPort(to)
	for {
		pkt.SequenceNumber++
		pkt.Timestamp += 160
		raw, _ := pkt.Marshal()
		_, _ = p.conn.WriteToUDP(raw, dst)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// waitHears waits until the phone receives packets whose payload byte
// satisfies ok, after mark packets.
func (p *rtpPhone) waitHears(t *testing.T, what string, mark int, ok func(byte) bool) {
	t.Helper()
	waitFor(t, what, func() bool {
		n := 0
		for _, b := range p.since(mark) {
			if ok(b) {
				n++
			}
		}
		return n >= 5
	})
}

// streamLeg is a call leg with a real RTP stream: an inbound Endpoint
// or, placed by holdDialer, an OutboundCall. It records its hangups and
// the holds it is asked to signal.
type streamLeg struct {
	stream   *media.Stream
	progress chan Progress
	sessp    chan *Session

	mu      sync.Mutex
	hangups []cause.Cause
	holds   []bool
}

func newStreamLeg(t *testing.T, eng *media.Engine, phone *rtpPhone) *streamLeg {
	t.Helper()
	st, err := eng.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetRemote(media.RemoteParams{Addr: phone.addr(), Codec: media.PCMU}); err != nil {
		t.Fatal(err)
	}
	st.Start()
	return &streamLeg{stream: st, progress: make(chan Progress, 2), sessp: make(chan *Session, 1)}
}

func (l *streamLeg) Name() string                               { return "stream/test" }
func (l *streamLeg) Answer(context.Context) error               { return nil }
func (l *streamLeg) PreAnswer(context.Context) error            { return nil }
func (l *streamLeg) RingReady(context.Context, bool) error      { return nil }
func (l *streamLeg) Respond(context.Context, int, string) error { return nil }
func (l *streamLeg) Redirect(context.Context, string) error     { return nil }
func (l *streamLeg) Media() Media                               { return l.stream }
func (l *streamLeg) Progress() <-chan Progress                  { return l.progress }
func (l *streamLeg) Bind(s *Session)                            { l.sessp <- s }
func (l *streamLeg) Hangup(c cause.Cause) {
	l.mu.Lock()
	l.hangups = append(l.hangups, c)
	l.mu.Unlock()
	_ = l.stream.Close()
}

func (l *streamLeg) SignalHold(_ context.Context, hold bool) error {
	l.mu.Lock()
	l.holds = append(l.holds, hold)
	l.mu.Unlock()
	return nil
}

func (l *streamLeg) hangupCauses() []cause.Cause {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]cause.Cause(nil), l.hangups...)
}

func (l *streamLeg) signalled() []bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]bool(nil), l.holds...)
}

// holdDialer places one streamLeg per Dial, answered at once.
type holdDialer struct {
	t     *testing.T
	eng   *media.Engine
	phone *rtpPhone
	legs  chan *streamLeg
}

func (d *holdDialer) Dial(context.Context, DialRequest) (OutboundCall, error) {
	l := newStreamLeg(d.t, d.eng, d.phone)
	l.progress <- Progress{Kind: ProgressAnswered, Code: 200}
	close(l.progress)
	d.legs <- l
	return l, nil
}

// bridgedPair is A (inbound, running the bridge) and B (placed by it),
// bridged, each with its phone.
type bridgedPair struct {
	a, b           *Session
	aLeg, bLeg     *streamLeg
	aPhone, bPhone *rtpPhone
}

func newBridgedPair(t *testing.T, aVars map[string]string) *bridgedPair {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	eng, err := media.NewEngine(media.Config{IP: netip.MustParseAddr("127.0.0.1"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	snap := loadDialplan(t, holdDialplan)
	m := NewManager(Config{Snapshot: func() *conf.Snapshot { return snap }, Logger: log})
	bp := &bridgedPair{aPhone: newRTPPhone(t), bPhone: newRTPPhone(t)}
	d := &holdDialer{t: t, eng: eng, phone: bp.bPhone, legs: make(chan *streamLeg, 4)}
	m.SetDialer("hb", d)
	bp.aLeg = newStreamLeg(t, eng, bp.aPhone)
	bp.a = m.NewInbound(Inbound{Endpoint: bp.aLeg, Profile: &caller.Profile{DestinationNumber: "100", Context: "default", CallerIDNumber: "1000"}})
	for k, v := range aVars {
		bp.a.Vars().Set(k, v)
	}
	t.Cleanup(func() {
		m.HangupAll(cause.CNormalClearing)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.Shutdown(ctx)
	})
	bp.a.Start()
	select {
	case bp.bLeg = <-d.legs:
	case <-time.After(5 * time.Second):
		t.Fatal("no B-leg placed")
	}
	bp.b = <-bp.bLeg.sessp
	waitFor(t, "the bridge", func() bool { return bp.a.Partner() == bp.b && bp.b.Partner() == bp.a })
	return bp
}

// phones returns, for a hold by the leg named holder ("a" or "b"), the
// holder's session and phone, and the other leg's session, endpoint
// and phone.
func (bp *bridgedPair) sides(holder string) (h *Session, hPhone *rtpPhone, hLeg *streamLeg, o *Session, oLeg *streamLeg, oPhone *rtpPhone) {
	if holder == "a" {
		return bp.a, bp.aPhone, bp.aLeg, bp.b, bp.bLeg, bp.bPhone
	}
	return bp.b, bp.bPhone, bp.bLeg, bp.a, bp.aLeg, bp.aPhone
}

func TestFarEndHoldPlaysMusicToTheOtherLeg(t *testing.T) {
	for _, holder := range []string{"a", "b"} {
		t.Run("holder "+holder, func(t *testing.T) {
			bp := newBridgedPair(t, nil)
			h, hPhone, hLeg, o, oLeg, oPhone := bp.sides(holder)
			// µ-law silence is 0xFF; the holder's phone says 0x55.
			h.Vars().Set("hold_music", "silence_stream://-1")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go hPhone.talk(ctx, hLeg.stream.LocalAddr(), 0x55)
			oPhone.waitHears(t, "the holder's audio relayed", 0, func(b byte) bool { return b == 0x55 })

			release := h.FarEndHold("tone_stream://%(100,0,440)")
			if !h.Held() || h.CallState() != "HELD" {
				t.Fatalf("holder: held %v, callstate %s", h.Held(), h.CallState())
			}
			mark := oPhone.count()
			oPhone.waitHears(t, "the hold music", mark, func(b byte) bool { return b == 0xFF })
			// While the music plays, the holder's audio does not reach
			// the other leg.
			time.Sleep(100 * time.Millisecond)
			mark = oPhone.count()
			time.Sleep(200 * time.Millisecond)
			for _, b := range oPhone.since(mark) {
				if b == 0x55 {
					t.Fatal("the other leg heard the holder during the hold music")
				}
			}

			release()
			if h.Held() || h.CallState() != "UNHELD" {
				t.Fatalf("after release: held %v, callstate %s", h.Held(), h.CallState())
			}
			mark = oPhone.count()
			oPhone.waitHears(t, "the holder's audio again", mark, func(b byte) bool { return b == 0x55 })
			if got := oLeg.signalled(); len(got) != 0 {
				t.Errorf("the other leg was asked to signal hold %v; the music should do", got)
			}
			if o.Partner() != h {
				t.Error("the bridge did not survive the hold")
			}
		})
	}
}

func TestFarEndHoldRelays(t *testing.T) {
	tests := []struct {
		name    string
		music   string // hold_music of the holder
		profile string // the profile's hold-music
		want    []bool // what the other leg signals
	}{
		{"no hold music", "", "", []bool{true, false}},
		{"indicate_hold", "indicate_hold", "local_stream://moh", []bool{true, false}},
		{"silence", "silence", "", nil},
	}
	for _, tc := range tests {
		for _, holder := range []string{"a", "b"} {
			t.Run(tc.name+" holder "+holder, func(t *testing.T) {
				bp := newBridgedPair(t, nil)
				h, _, _, _, oLeg, _ := bp.sides(holder)
				if tc.music != "" {
					h.Vars().Set("hold_music", tc.music)
				}
				release := h.FarEndHold(tc.profile)
				if len(tc.want) > 0 {
					waitFor(t, "the hold signalled", func() bool { return len(oLeg.signalled()) == 1 })
				}
				release()
				got := oLeg.signalled()
				if len(got) != len(tc.want) {
					t.Fatalf("signalled %v, want %v", got, tc.want)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Fatalf("signalled %v, want %v", got, tc.want)
					}
				}
			})
		}
	}
}

// A relayed hold is undone when the bridge ends under it: the other
// leg's phone must not stay on hold.
func TestFarEndHoldRelayEndsWithTheBridge(t *testing.T) {
	bp := newBridgedPair(t, nil)
	release := bp.b.FarEndHold("")
	defer release()
	waitFor(t, "the hold signalled", func() bool { return len(bp.aLeg.signalled()) == 1 })
	bp.b.Hangup(cause.CNormalClearing) // A parks after the bridge
	waitFor(t, "the unhold signalled", func() bool { return len(bp.aLeg.signalled()) == 2 })
	if got := bp.aLeg.signalled(); got[1] {
		t.Fatalf("signalled %v", got)
	}
	if !bp.a.Ready() {
		t.Fatal("A hung up")
	}
}

func TestFarEndHoldUnbridged(t *testing.T) {
	m := newTestManager(t)
	ep := &fakeEndpoint{}
	s := m.NewInbound(Inbound{Endpoint: ep, Profile: &caller.Profile{DestinationNumber: "108", Context: "default"}})
	s.Start()
	defer s.Hangup(cause.CNormalClearing)
	release := s.FarEndHold("tone_stream://%(100,0,440)")
	if s.CallState() != "HELD" {
		t.Fatalf("callstate %s", s.CallState())
	}
	release()
	if s.CallState() != "UNHELD" {
		t.Fatalf("callstate %s", s.CallState())
	}
}

func TestBlindTransfer(t *testing.T) {
	for _, referrer := range []string{"a", "b"} {
		t.Run("referrer "+referrer, func(t *testing.T) {
			bp := newBridgedPair(t, nil)
			r, rPhone, rLeg, o, oLeg, oPhone := bp.sides(referrer)
			// As on a real call, the transfer comes once the call is up
			// and talking, not as it is being bridged.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go rPhone.talk(ctx, rLeg.stream.LocalAddr(), 0x55)
			oPhone.waitHears(t, "the referrer's audio", 0, func(b byte) bool { return b == 0x55 })
			var notified bool
			var readyAtNotify bool
			got, err := r.BlindTransfer(BlindTransferOptions{
				Exten:       "9000",
				PartnerVars: [][2]string{{"sip_refer_to", "<sip:9000@example.com>"}},
				Notify:      func() { notified, readyAtNotify = true, r.Ready() },
			})
			if err != nil {
				t.Fatalf("%v (transferee cause %s, endpoint hangups %v)", err, o.HangupCause(), oLeg.hangupCauses())
			}
			if got != o {
				t.Fatal("BlindTransfer returned another leg than the transferee")
			}
			if !notified || !readyAtNotify {
				t.Errorf("notify ran %v, with the referrer up %v", notified, readyAtNotify)
			}
			waitFor(t, "the transferee routed to 9000", func() bool {
				for _, n := range ranFor(o.UUID()) {
					if n == "note(transferred)" {
						return true
					}
				}
				return false
			})
			select {
			case <-r.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the referrer did not hang up")
			}
			if c := r.HangupCause(); c != cause.CBlindTransfer {
				t.Errorf("referrer cause %s", c)
			}
			if c := rLeg.hangupCauses(); len(c) != 1 || c[0] != cause.CBlindTransfer {
				t.Errorf("referrer endpoint hangups %v", c)
			}
			if !o.Ready() || len(oLeg.hangupCauses()) != 0 {
				t.Fatalf("transferee hung up: %v", oLeg.hangupCauses())
			}
			if p := o.Profile(); p.DestinationNumber != "9000" || p.Context != "default" {
				t.Errorf("transferee profile %s@%s", p.DestinationNumber, p.Context)
			}
			if v, _ := o.Vars().Get("sip_refer_to"); v != "<sip:9000@example.com>" {
				t.Errorf("sip_refer_to %q", v)
			}
			if o.Partner() != nil {
				t.Error("the transferee is still bridged")
			}
		})
	}
}

func TestBlindTransferNotBridged(t *testing.T) {
	m := newTestManager(t)
	s := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}, Profile: &caller.Profile{DestinationNumber: "108", Context: "default"}})
	s.Start()
	defer s.Hangup(cause.CNormalClearing)
	if _, err := s.BlindTransfer(BlindTransferOptions{Exten: "9000"}); !errors.Is(err, ErrNotBridged) {
		t.Fatalf("err %v", err)
	}
	if !s.Ready() {
		t.Fatal("the channel hung up")
	}
}
