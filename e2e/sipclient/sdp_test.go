package sipclient

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseSDP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		want    mediaDesc
		wantErr string
	}{
		{
			name: "FreeSWITCH-like answer",
			body: "v=0\r\no=FreeSWITCH 1 2 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
				"m=audio 24000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n",
			want: mediaDesc{
				Addr:      netip.MustParseAddrPort("127.0.0.1:24000"),
				Formats:   []format{{0, PCMU, 8000}, {101, TelephoneEvent, 8000}},
				Direction: "sendrecv",
			},
		},
		{
			name: "c= after m=, no rtpmap for static types, LF endings, video first",
			body: "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nt=0 0\nm=video 5000 RTP/AVP 96\nc=IN IP4 10.9.9.9\na=sendonly\n" +
				"m=audio 6000 RTP/AVP 8 0\nc=IN IP4 127.0.0.2\na=recvonly\n",
			want: mediaDesc{
				Addr:      netip.MustParseAddrPort("127.0.0.2:6000"),
				Formats:   []format{{8, PCMA, 8000}, {0, PCMU, 8000}},
				Direction: "recvonly",
			},
		},
		{
			name: "session-level connection, dynamic type",
			body: "v=0\r\nc=IN IP4 127.0.0.3\r\nm=audio 7000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n",
			want: mediaDesc{
				Addr:      netip.MustParseAddrPort("127.0.0.3:7000"),
				Formats:   []format{{96, "opus", 48000}},
				Direction: "sendrecv",
			},
		},
		{name: "no audio", body: "v=0\r\nc=IN IP4 127.0.0.1\r\nm=video 5000 RTP/AVP 96\r\n", wantErr: "no audio"},
		{name: "no address", body: "v=0\r\nm=audio 5000 RTP/AVP 0\r\n", wantErr: "no connection"},
		{name: "bad port", body: "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 99999 RTP/AVP 0\r\n", wantErr: "bad media port"},
		{name: "bad payload type", body: "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 5000 RTP/AVP 200\r\n", wantErr: "bad payload type"},
		{name: "bad address", body: "v=0\r\nc=IN IP4 nowhere\r\nm=audio 5000 RTP/AVP 0\r\n", wantErr: "bad connection address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSDP([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestBuildParseRoundTrip(t *testing.T) {
	offer := offerFormats([]Codec{PCMU, PCMA, "L16"}, 101)
	want := []format{{0, PCMU, 8000}, {8, PCMA, 8000}, {96, "L16", 8000}, {101, TelephoneEvent, 8000}}
	if !reflect.DeepEqual(offer, want) {
		t.Fatalf("offerFormats = %+v, want %+v", offer, want)
	}
	addr := netip.MustParseAddrPort("127.0.0.1:31000")
	md, err := parseSDP(buildSDP(42, 1, addr, offer))
	if err != nil {
		t.Fatal(err)
	}
	if md.Addr != addr || !reflect.DeepEqual(md.Formats, offer) {
		t.Errorf("round trip gave %+v", md)
	}
	if got := offerFormats([]Codec{"X", "Y"}, 96); got[0].PT != 97 || got[1].PT != 98 || got[2].PT != 96 {
		t.Errorf("dynamic types collide with the DTMF type: %+v", got)
	}
}

func TestNegotiate(t *testing.T) {
	ours := offerFormats([]Codec{PCMU, PCMA}, 101)
	addr := netip.MustParseAddrPort("127.0.0.1:5000")
	for _, tc := range []struct {
		name      string
		theirs    []format
		ours      []format
		wantAudio Codec
		wantDTMF  uint8
		wantErr   bool
	}{
		{"their order wins", []format{{8, PCMA, 8000}, {0, PCMU, 8000}, {100, TelephoneEvent, 8000}}, ours, PCMA, 100, false},
		{"unknown first", []format{{18, G729, 8000}, {0, PCMU, 8000}}, ours, PCMU, 0, false},
		{"nothing common", []format{{18, G729, 8000}}, ours, "", 0, true},
		{"no events offered by us", []format{{0, PCMU, 8000}, {101, TelephoneEvent, 8000}}, offerFormats([]Codec{PCMU}, 0), PCMU, 0, false},
	} {
		n, err := negotiate(mediaDesc{Addr: addr, Formats: tc.theirs}, tc.ours)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v", tc.name, err)
			continue
		}
		if tc.wantErr {
			continue
		}
		if n.audio.Codec != tc.wantAudio || n.dtmf.PT != tc.wantDTMF || n.remote != addr {
			t.Errorf("%s: got %+v", tc.name, n)
		}
	}
}
