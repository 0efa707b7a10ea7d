package sip

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"

	"github.com/switchboard-voip/switchboard/acl"
	"github.com/switchboard-voip/switchboard/media"
)

func sdpText(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

var (
	pcmuPCMA = negotiateOpts{codecs: []media.Codec{media.PCMU, media.PCMA}, dtmf: true}
	greedy   = negotiateOpts{codecs: []media.Codec{media.PCMU, media.PCMA}, dtmf: true, greedy: true}
)

func TestNegotiate(t *testing.T) {
	head := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"}
	tests := []struct {
		name     string
		body     []string
		opts     negotiateOpts
		codec    string
		pt       uint8
		te       int
		remote   string
		dir      string
		hold     bool
		errMatch string
	}{
		{name: "static PCMU", body: append(head, "m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"), opts: pcmuPCMA, codec: "PCMU", pt: 0, te: 101, remote: "192.0.2.1:4000", dir: "sendrecv"},
		{name: "generous takes the offer's order", body: append(head, "m=audio 4000 RTP/AVP 8 0"), opts: pcmuPCMA, codec: "PCMA", pt: 8, te: -1, remote: "192.0.2.1:4000", dir: "sendrecv"},
		{name: "greedy takes ours", body: append(head, "m=audio 4000 RTP/AVP 8 0"), opts: greedy, codec: "PCMU", pt: 0, te: -1, remote: "192.0.2.1:4000", dir: "sendrecv"},
		{name: "dynamic PT by rtpmap", body: append(head, "m=audio 4000 RTP/AVP 96 97", "a=rtpmap:96 opus/48000/2", "a=rtpmap:97 PCMA/8000"), opts: pcmuPCMA, codec: "PCMA", pt: 97, te: -1, remote: "192.0.2.1:4000", dir: "sendrecv"},
		{name: "media-level c= wins", body: []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 4000 RTP/AVP 0", "c=IN IP4 198.51.100.7"}, opts: pcmuPCMA, codec: "PCMU", te: -1, remote: "198.51.100.7:4000", dir: "sendrecv"},
		{name: "c= only at media level", body: []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0", "c=IN IP4 198.51.100.7"}, opts: pcmuPCMA, codec: "PCMU", te: -1, remote: "198.51.100.7:4000", dir: "sendrecv"},
		{name: "IPv6", body: []string{"v=0", "o=- 1 1 IN IP6 2001:db8::1", "s=-", "c=IN IP6 2001:db8::1", "t=0 0", "m=audio 4000 RTP/AVP 0"}, opts: pcmuPCMA, codec: "PCMU", te: -1, remote: "[2001:db8::1]:4000", dir: "sendrecv"},
		{name: "duplicate codecs and rtpmaps", body: append(head, "m=audio 4000 RTP/AVP 0 0 0 101 101", "a=rtpmap:101 telephone-event/8000", "a=rtpmap:101 telephone-event/8000", "a=rtpmap:0 PCMA/8000"), opts: pcmuPCMA, codec: "PCMA", pt: 0, te: 101, remote: "192.0.2.1:4000", dir: "sendrecv"},
		{name: "hold sendonly", body: append(head, "m=audio 4000 RTP/AVP 0", "a=sendonly"), opts: pcmuPCMA, codec: "PCMU", te: -1, remote: "192.0.2.1:4000", dir: "sendonly", hold: true},
		{name: "session-level direction", body: append(append([]string{}, head...), "a=inactive", "m=audio 4000 RTP/AVP 0"), opts: pcmuPCMA, codec: "PCMU", te: -1, remote: "192.0.2.1:4000", dir: "inactive", hold: true},
		{name: "hold c=0.0.0.0", body: []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0", "m=audio 4000 RTP/AVP 0"}, opts: pcmuPCMA, codec: "PCMU", te: -1, remote: "0.0.0.0:4000", dir: "sendrecv", hold: true},
		{name: "video first, then audio", body: append(head, "m=video 5000 RTP/AVP 96", "m=audio 4000 RTP/AVP 0"), opts: pcmuPCMA, codec: "PCMU", te: -1, remote: "192.0.2.1:4000", dir: "sendrecv"},
		{name: "rejected audio then usable audio", body: append(head, "m=audio 0 RTP/AVP 0", "m=audio 4002 RTP/AVP 8"), opts: pcmuPCMA, codec: "PCMA", pt: 8, te: -1, remote: "192.0.2.1:4002", dir: "sendrecv"},
		{name: "no common codec", body: append(head, "m=audio 4000 RTP/AVP 9 18"), opts: pcmuPCMA, errMatch: "no common codec"},
		{name: "PCMU at 16 kHz is not PCMU", body: append(head, "m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMU/16000"), opts: pcmuPCMA, errMatch: "no common codec"},
		{name: "no media", body: head, opts: pcmuPCMA, errMatch: "no audio"},
		{name: "port out of range", body: append(head, "m=audio 70000 RTP/AVP 0"), opts: pcmuPCMA, errMatch: "port"},
		{name: "negative port", body: append(head, "m=audio -5 RTP/AVP 0"), opts: pcmuPCMA, errMatch: "port"},
		{name: "port zero", body: append(head, "m=audio 0 RTP/AVP 0"), opts: pcmuPCMA, errMatch: "port"},
		{name: "SRTP only", body: append(head, "m=audio 4000 RTP/SAVP 0"), opts: pcmuPCMA, errMatch: "transport"},
		{name: "no c= line", body: []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0"}, opts: pcmuPCMA, errMatch: "c="},
		{name: "hostname c=", body: []string{"v=0", "s=-", "c=IN IP4 pbx.example.com", "t=0 0", "m=audio 4000 RTP/AVP 0"}, opts: pcmuPCMA, errMatch: "c="},
		{name: "multicast c=", body: []string{"v=0", "s=-", "c=IN IP4 224.2.1.1/127", "t=0 0", "m=audio 4000 RTP/AVP 0"}, opts: pcmuPCMA, errMatch: "c="},
		{name: "broadcast c=", body: []string{"v=0", "s=-", "c=IN IP4 255.255.255.255", "t=0 0", "m=audio 4000 RTP/AVP 0"}, opts: pcmuPCMA, errMatch: "c="},
		{name: "telephone-event ignored without dtmf", body: append(head, "m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"), opts: negotiateOpts{codecs: []media.Codec{media.PCMU}}, codec: "PCMU", te: -1, remote: "192.0.2.1:4000", dir: "sendrecv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseSDP(sdpText(tt.body...))
			if err != nil {
				t.Fatal(err)
			}
			p, err := negotiate(r, tt.opts)
			if tt.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.errMatch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.codec.Name != tt.codec || p.codec.PayloadType != tt.pt || p.tePT != tt.te {
				t.Errorf("codec %s/%d te %d, want %s/%d te %d", p.codec.Name, p.codec.PayloadType, p.tePT, tt.codec, tt.pt, tt.te)
			}
			if p.remote.String() != tt.remote {
				t.Errorf("remote %s, want %s", p.remote, tt.remote)
			}
			if p.dir != tt.dir || p.hold != tt.hold {
				t.Errorf("dir %s hold %v, want %s %v", p.dir, p.hold, tt.dir, tt.hold)
			}
		})
	}
}

func TestParseSDPRejectsNonSDP(t *testing.T) {
	for _, b := range []string{"", "hello", "\x00\x01\x02", "m=audio 4000 RTP/AVP 0"} {
		if _, err := parseSDP([]byte(b)); err == nil {
			t.Errorf("parseSDP(%q) accepted", b)
		}
	}
}

func TestBuildAnswerMirrorsOffer(t *testing.T) {
	offer := sdpText("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
		"m=video 5000 RTP/AVP 96", "a=rtpmap:96 H264/90000",
		"m=audio 4000 RTP/AVP 8 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly",
		"m=application 6000 UDP/BFCP *")
	r, err := parseSDP(offer)
	if err != nil {
		t.Fatal(err)
	}
	p, err := negotiate(r, pcmuPCMA)
	if err != nil {
		t.Fatal(err)
	}
	o := &sdpOrigin{user: "Switchboard", id: 42}
	lm := localMedia{addr: netip.MustParseAddrPort("203.0.113.5:16384"), codecs: []media.Codec{p.codec}, tePT: p.tePT, dir: answerDir(p.dir, false)}
	body, err := buildSDP(o, lm, r, p.index)
	if err != nil {
		t.Fatal(err)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		t.Fatalf("our answer does not parse: %v\n%s", err, body)
	}
	if len(sd.MediaDescriptions) != 3 {
		t.Fatalf("answer has %d m= lines, want 3 (one per offered stream)", len(sd.MediaDescriptions))
	}
	video, audio, app := sd.MediaDescriptions[0], sd.MediaDescriptions[1], sd.MediaDescriptions[2]
	if video.MediaName.Port.Value != 0 || app.MediaName.Port.Value != 0 {
		t.Error("streams we do not take must be rejected with port 0")
	}
	if app.MediaName.Formats[0] != "0" {
		t.Errorf("an unsafe format token was echoed: %q", app.MediaName.Formats[0])
	}
	if audio.MediaName.Port.Value != 16384 || strings.Join(audio.MediaName.Formats, " ") != "8 101" {
		t.Errorf("audio line %v", audio.MediaName)
	}
	if _, ok := audio.Attribute("recvonly"); !ok {
		t.Error("an answer to sendonly must be recvonly")
	}
	if sd.ConnectionInformation.Address.Address != "203.0.113.5" || sd.Origin.SessionVersion != 1 {
		t.Errorf("c=%s version %d", sd.ConnectionInformation.Address.Address, sd.Origin.SessionVersion)
	}
	if _, err := buildSDP(o, lm, r, p.index); err != nil || o.version != 2 {
		t.Errorf("the o= version must grow with every description (got %d)", o.version)
	}
}

func TestBuildOffer(t *testing.T) {
	o := &sdpOrigin{user: "Switchboard", id: 7}
	lm := localMedia{addr: netip.MustParseAddrPort("[2001:db8::5]:4000"), codecs: []media.Codec{media.PCMU, media.PCMA}, tePT: 101, dir: dirSendRecv}
	body, err := buildSDP(o, lm, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	for _, want := range []string{"c=IN IP6 2001:db8::5", "m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=fmtp:101 0-16", "a=sendrecv"} {
		if !strings.Contains(s, want) {
			t.Errorf("offer lacks %q:\n%s", want, s)
		}
	}
	// Our own offer, read back as an answer, negotiates.
	r, err := parseSDP(body)
	if err != nil {
		t.Fatal(err)
	}
	p, err := answerFromOffer(r, lm.codecs, true)
	if err != nil || p.codec.Name != "PCMU" || p.tePT != 101 {
		t.Errorf("round trip: %+v %v", p, err)
	}
}

func TestAnswerDir(t *testing.T) {
	tests := []struct {
		in   string
		zero bool
		want string
	}{
		{dirSendRecv, false, dirSendRecv},
		{dirSendOnly, false, dirRecvOnly},
		{dirRecvOnly, false, dirSendOnly},
		{dirInactive, false, dirInactive},
		{dirSendRecv, true, dirRecvOnly},
	}
	for _, tt := range tests {
		if got := answerDir(tt.in, tt.zero); got != tt.want {
			t.Errorf("answerDir(%s, %v) = %s, want %s", tt.in, tt.zero, got, tt.want)
		}
	}
}

func TestShouldLatch(t *testing.T) {
	lists, err := acl.Parse(nil, acl.Options{LocalNets: []netip.Prefix{}})
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	tests := []struct {
		nat      bool
		sdp, sig string
		want     bool
	}{
		{false, "192.168.1.10", "203.0.113.9", true}, // LAN address behind a NAT
		{false, "192.168.1.10", "192.168.1.10", false},
		{false, "100.64.3.3", "203.0.113.9", true},
		{false, "203.0.113.9", "203.0.113.9", false},
		{false, "198.51.100.1", "203.0.113.9", false}, // public media elsewhere: trust the SDP
		{false, "0.0.0.0", "203.0.113.9", true},
		{true, "203.0.113.9", "203.0.113.9", true},
	}
	for _, tt := range tests {
		if got := shouldLatch(tt.nat, a(tt.sdp), a(tt.sig), lists); got != tt.want {
			t.Errorf("shouldLatch(%v, %s, %s) = %v, want %v", tt.nat, tt.sdp, tt.sig, got, tt.want)
		}
	}
}
