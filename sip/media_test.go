package sip

import (
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
)

var mAudio = regexp.MustCompile(`m=audio (\d+) `)

// rtpTarget is where our SDP says to send media.
func rtpTarget(t *testing.T, body []byte) *net.UDPAddr {
	t.Helper()
	m := mAudio.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no m=audio in\n%s", body)
	}
	port, _ := strconv.Atoi(string(m[1]))
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
}

func sendRTP(t *testing.T, conn *net.UDPConn, to *net.UDPAddr, p *rtp.Packet) {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteToUDP(b, to); err != nil {
		t.Fatal(err)
	}
}

func TestRFC4733DigitsReachTheSession(t *testing.T) {
	env := newEnv(t, envOpts{})
	u := newUAC(t, env, "udp")
	d := u.dialog("park")
	d.invite(d.offer("0"))
	res := d.expectAnswer()
	to := rtpTarget(t, res.Body())
	var s *session.Session
	waitFor(t, "session", func() bool { s = env.sessionFor(d.callID); return s != nil })
	hdr := rtp.Header{Version: 2, PayloadType: 101, SSRC: 0x1234, Timestamp: 8000, Marker: true}
	for i, end := range []bool{false, false, true, true, true} {
		hdr.SequenceNumber = uint16(100 + i)
		flags := byte(10)
		if end {
			flags |= 0x80
		}
		dur := uint16(160 * (i + 1))
		sendRTP(t, u.rtp, to, &rtp.Packet{Header: hdr, Payload: []byte{5, flags, byte(dur >> 8), byte(dur)}})
		hdr.Marker = false
	}
	waitFor(t, "the digit", func() bool { return s.DTMF().Len() > 0 })
	if dg, _ := s.DTMF().Pop(); dg != '5' {
		t.Errorf("digit %q", dg)
	}
	if s.DTMF().Len() != 0 {
		t.Error("one event must give one digit")
	}
	d.request("BYE", "")
	d.resp(sip.BYE, 200)
}

func TestEchoSendsMediaBack(t *testing.T) {
	env := newEnv(t, envOpts{})
	u := newUAC(t, env, "udp")
	d := u.dialog("echo")
	d.invite(d.offer("0"))
	res := d.expectAnswer()
	to := rtpTarget(t, res.Body())
	got := make(chan rtp.Packet, 16)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := u.rtp.Read(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) == nil {
				got <- p
			}
		}
	}()
	hdr := rtp.Header{Version: 2, PayloadType: 0, SSRC: 0x99, Timestamp: 0}
	payload := make([]byte, 160)
	deadline := time.After(5 * time.Second)
	for i := 0; ; i++ {
		hdr.SequenceNumber = uint16(i)
		hdr.Timestamp = uint32(160 * i)
		sendRTP(t, u.rtp, to, &rtp.Packet{Header: hdr, Payload: payload})
		select {
		case p := <-got:
			if p.PayloadType != 0 {
				t.Errorf("echoed payload type %d, want PCMU", p.PayloadType)
			}
			d.request("BYE", "")
			d.resp(sip.BYE, 200)
			return
		case <-deadline:
			t.Fatal("no media came back")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestMediaTimeout(t *testing.T) {
	env := newEnv(t, envOpts{})
	u := newUAC(t, env, "udp")
	d := u.dialog("mediatimeout")
	d.invite(d.offer("0"))
	d.expectAnswer()
	var s *session.Session
	waitFor(t, "session", func() bool { s = env.sessionFor(d.callID); return s != nil })
	bye := u.request(d.callID, sip.BYE)
	if r := header(bye, "Reason"); r != `SIP;cause=804;text="MEDIA_TIMEOUT"` {
		t.Errorf("Reason %q", r)
	}
	u.answerRequest(bye, 200)
	waitEnded(t, s)
	if s.HangupCause() != cause.CMediaTimeout {
		t.Errorf("cause %v", s.HangupCause())
	}
}
