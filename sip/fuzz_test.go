package sip

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/switchboard-voip/switchboard/media"
	"github.com/switchboard-voip/switchboard/vars"
)

const seedInvite = "INVITE sip:1000@192.0.2.1 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 198.51.100.2:5062;branch=z9hG4bK776;rport\r\n" +
	"Max-Forwards: 70\r\n" +
	"From: \"Alice\" <sip:alice@example.com>;tag=abc\r\n" +
	"To: <sip:1000@192.0.2.1>\r\n" +
	"Call-ID: fuzz@example.com\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: <sip:alice@198.51.100.2:5062>\r\n" +
	"P-Asserted-Identity: \"A\" <tel:+15551234>\r\n" +
	"X-Thing: ${uuid}\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 129\r\n\r\n" +
	"v=0\r\no=- 1 1 IN IP4 198.51.100.2\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\n" +
	"m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"

// FuzzInviteToVars drives the path from a parsed INVITE to channel
// variables, caller profile and SDP answer: it must never panic, never
// store an expandable value, and always produce an answer that parses.
func FuzzInviteToVars(f *testing.F) {
	f.Add([]byte(seedInvite))
	f.Add([]byte(strings.Replace(seedInvite, "m=audio 4000", "m=audio 99999", 1)))
	f.Add([]byte(strings.Replace(seedInvite, "\"Alice\"", "\"${x}\\$\\{y}\"", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := sip.ParseMessage(data)
		if err != nil {
			return
		}
		req, ok := m.(*sip.Request)
		if !ok {
			return
		}
		info := inviteInfo(req, "internal", netip.MustParseAddrPort("198.51.100.2:5062"), "udp")
		info.vars.st.Range(func(name, value string) bool {
			if vars.HasReference(value) {
				t.Fatalf("variable %s stored with a reference: %q", name, value)
			}
			return true
		})
		p := info.profile
		for _, v := range []string{p.CallerIDName, p.CallerIDNumber, p.DestinationNumber, p.ANI, p.ANIII, p.Username, info.chanID} {
			if vars.HasReference(v) {
				t.Fatalf("profile field holds a reference: %q", v)
			}
		}
		checkAnswer(t, req.Body())
	})
}

// FuzzSDP feeds arbitrary bodies to the SDP parser and the negotiation.
func FuzzSDP(f *testing.F) {
	f.Add([]byte("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"))
	f.Add([]byte("v=0\nm=audio 4000/2 RTP/AVP 96 96 96\na=rtpmap:96 PCMU/8000/1\nc=IN IP6 ::1\na=inactive\n"))
	f.Add([]byte("v=0\r\nc=IN IP4 0.0.0.0\r\nm=video 1 RTP/AVP x\r\nm=audio 2 RTP/AVPF 8\r\na=rtpmap:8\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) { checkAnswer(t, body) })
}

func checkAnswer(t *testing.T, body []byte) {
	t.Helper()
	r, err := parseSDP(body)
	if err != nil {
		return
	}
	params, err := negotiate(r, negotiateOpts{codecs: []media.Codec{media.PCMU, media.PCMA}, dtmf: true})
	if err != nil {
		return
	}
	if !params.codec.Supported() || params.remote.Port() == 0 || !params.remote.Addr().IsValid() {
		t.Fatalf("negotiated an unusable stream: %+v", params)
	}
	lm := localMedia{addr: netip.MustParseAddrPort("192.0.2.1:16384"), codecs: []media.Codec{params.codec}, tePT: params.tePT, dir: answerDir(params.dir, params.remote.Addr().IsUnspecified())}
	out, err := buildSDP(&sdpOrigin{user: "Switchboard", id: 1}, lm, r, params.index)
	if err != nil {
		t.Fatalf("building the answer failed: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
		if len(line) < 3 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			t.Fatalf("bad line %q in our answer:\n%s", line, out)
		}
		for _, c := range line {
			if c < ' ' || c > '~' {
				t.Fatalf("unprintable %q in our answer:\n%s", c, out)
			}
		}
	}
	back, err := parseSDP(out)
	if err != nil {
		t.Fatalf("our answer does not parse back: %v\n%s", err, out)
	}
	if len(back.media) != len(r.media) {
		t.Fatalf("answer has %d m= lines for %d offered", len(back.media), len(r.media))
	}
	for i, m := range back.media {
		if (i == params.index) != (m.port != 0) {
			t.Fatalf("m= line %d has port %d:\n%s", i, m.port, out)
		}
	}
	if wellKnown(r) {
		var sd sdp.SessionDescription
		if err := sd.Unmarshal(out); err != nil {
			t.Fatalf("our answer to a well-formed offer does not parse: %v\n%s", err, out)
		}
	}
}

// wellKnown reports whether every m= line of r uses media names and
// transports pion/sdp knows, so its strict parser can judge our answer.
func wellKnown(r *remoteSDP) bool {
	for _, m := range r.media {
		switch m.media {
		case "audio", "video", "text", "application", "message":
		default:
			return false
		}
		for _, p := range strings.Split(m.proto, "/") {
			switch p {
			case "RTP", "AVP", "SAVP", "AVPF", "SAVPF", "UDP", "TLS", "DTLS", "SCTP", "TCP":
			default:
				return false
			}
		}
		if len(m.formats) == 0 || !sdpToken(m.formats[0]) {
			return false
		}
	}
	return true
}
