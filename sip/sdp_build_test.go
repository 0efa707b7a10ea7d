package sip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"

	"github.com/switchboard-voip/switchboard/media"
)

// buildSDPPion is the description buildSDP writes, built with pion/sdp's
// types and Marshal: the reference buildSDP's hand-written layout must
// match byte for byte.
// (buildSDP's former implementation.) When remote is not nil it is an
// answer: the m= lines mirror the offer's, every one but the audio line at
// index audio rejected with port 0 (RFC 3264 §6).
func buildSDPPion(o *sdpOrigin, l localMedia, remote *remoteSDP, audio int) ([]byte, error) {
	o.version++
	ip := l.addr.Addr().Unmap()
	conn := &sdp.ConnectionInformation{
		NetworkType: "IN",
		AddressType: addrType(ip),
		Address:     &sdp.Address{Address: ip.String()},
	}
	sd := &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{
			Username:       o.user,
			SessionID:      o.id,
			SessionVersion: o.version,
			NetworkType:    "IN",
			AddressType:    addrType(ip),
			UnicastAddress: ip.String(),
		},
		SessionName:           sdp.SessionName(o.user),
		ConnectionInformation: conn,
		TimeDescriptions:      []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
	audioDesc := func() *sdp.MediaDescription {
		md := &sdp.MediaDescription{
			MediaName: sdp.MediaName{
				Media:  "audio",
				Port:   sdp.RangedPort{Value: int(l.addr.Port())},
				Protos: []string{"RTP", "AVP"},
			},
		}
		for _, c := range l.codecs {
			md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(c.PayloadType)))
			md.WithValueAttribute("rtpmap", fmt.Sprintf("%d %s/%d", c.PayloadType, c.Name, c.ClockRate))
		}
		if l.tePT >= 0 {
			md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(l.tePT))
			md.WithValueAttribute("rtpmap", fmt.Sprintf("%d telephone-event/8000", l.tePT))
			md.WithValueAttribute("fmtp", fmt.Sprintf("%d 0-16", l.tePT))
		}
		md.WithValueAttribute("ptime", "20")
		md.WithPropertyAttribute(l.dir)
		return md
	}
	if remote == nil {
		sd.MediaDescriptions = []*sdp.MediaDescription{audioDesc()}
	} else {
		for i, m := range remote.media {
			if i == audio {
				sd.MediaDescriptions = append(sd.MediaDescriptions, audioDesc())
				continue
			}
			name := m.media
			if !sdpWord(name) {
				name = "audio"
			}
			proto := m.proto
			if !sdpToken(proto) {
				proto = "RTP/AVP"
			}
			format := "0"
			if len(m.formats) > 0 && sdpToken(m.formats[0]) {
				format = m.formats[0]
			}
			sd.MediaDescriptions = append(sd.MediaDescriptions, &sdp.MediaDescription{
				MediaName: sdp.MediaName{
					Media:   name,
					Port:    sdp.RangedPort{Value: 0},
					Protos:  strings.Split(proto, "/"),
					Formats: []string{format},
				},
			})
		}
	}
	return sd.Marshal()
}

func TestBuildSDPMatchesPion(t *testing.T) {
	offer := func(lines ...string) *remoteSDP {
		r, err := parseSDP([]byte(strings.Join(append([]string{"v=0", "c=IN IP4 192.0.2.1"}, lines...), "\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	locals := []localMedia{
		{addr: netip.MustParseAddrPort("127.0.0.1:16384"), codecs: []media.Codec{media.PCMU}, tePT: 101, dir: dirSendRecv},
		{addr: netip.MustParseAddrPort("203.0.113.9:20000"), codecs: []media.Codec{media.PCMA, media.PCMU}, tePT: -1, dir: dirRecvOnly},
		{addr: netip.MustParseAddrPort("[2001:db8::1]:30000"), codecs: []media.Codec{{Name: "PCMU", PayloadType: 96, ClockRate: 8000}}, tePT: 127, dir: dirInactive},
		{addr: netip.MustParseAddrPort("[::ffff:10.0.0.1]:1"), codecs: nil, tePT: 0, dir: dirSendOnly},
	}
	remotes := []struct {
		r     *remoteSDP
		audio int
	}{
		{nil, 0},
		{offer("m=audio 4000 RTP/AVP 0 8 101"), 0},
		{offer("m=video 5000 RTP/AVP 31", "m=audio 4000 RTP/AVP 0", "m=application 6000 UDP/BFCP *", "m=x\u00e9 1 ./- 9"), 1},
		{offer("m=audio 4000 RTP/SAVP 0", "m=audio 4002 RTP/AVP 0", "m=text", "m= 7"), 1},
	}
	for i, l := range locals {
		for j, rm := range remotes {
			t.Run(strconv.Itoa(i)+"/"+strconv.Itoa(j), func(t *testing.T) {
				o1 := &sdpOrigin{user: "Switchboard", id: 1<<62 + uint64(i), version: uint64(j)}
				o2 := *o1
				got, err := buildSDP(o1, l, rm.r, rm.audio)
				if err != nil {
					t.Fatal(err)
				}
				want, err := buildSDPPion(&o2, l, rm.r, rm.audio)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) || o1.version != o2.version {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
			})
		}
	}
}

func BenchmarkBuildSDP(b *testing.B) {
	r, err := parseSDP([]byte("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"))
	if err != nil {
		b.Fatal(err)
	}
	l := localMedia{addr: netip.MustParseAddrPort("127.0.0.1:16384"), codecs: []media.Codec{media.PCMU}, tePT: 101, dir: dirSendRecv}
	o := &sdpOrigin{user: "Switchboard", id: 42}
	for _, impl := range []struct {
		name  string
		build func(*sdpOrigin, localMedia, *remoteSDP, int) ([]byte, error)
	}{{"direct", buildSDP}, {"pion", buildSDPPion}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := impl.build(o, l, r, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
