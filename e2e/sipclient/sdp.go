package sipclient

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// format is one payload type of an SDP m= line.
type format struct {
	PT    uint8
	Codec Codec
	Rate  int
}

// mediaDesc is the audio stream an SDP body describes.
type mediaDesc struct {
	Addr      netip.AddrPort
	Formats   []format // in m= line order
	Direction string   // sendrecv, sendonly, recvonly or inactive
}

// parseSDP reads the first audio stream of an SDP body. It is lenient
// about line order (c= may follow m=) and line endings, and fills in the
// codec of static payload types that carry no rtpmap.
func parseSDP(body []byte) (mediaDesc, error) {
	var (
		md          mediaDesc
		sessionAddr netip.Addr
		mediaAddr   netip.Addr
		inAudio     bool
		seenAudio   bool
		port        int
		rtpmap      = map[uint8]format{}
		pts         []uint8
	)
	md.Direction = "sendrecv"
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		key, val := line[0], line[2:]
		switch key {
		case 'm':
			if seenAudio {
				inAudio = false
				continue
			}
			fields := strings.Fields(val)
			if len(fields) < 4 || fields[0] != "audio" {
				inAudio = false
				continue
			}
			p, err := strconv.Atoi(fields[1])
			if err != nil || p < 0 || p > 65535 {
				return md, fmt.Errorf("sdp: bad media port in %q", line)
			}
			port = p
			for _, f := range fields[3:] {
				n, err := strconv.ParseUint(f, 10, 7)
				if err != nil {
					return md, fmt.Errorf("sdp: bad payload type %q in %q", f, line)
				}
				pts = append(pts, uint8(n))
			}
			inAudio, seenAudio = true, true
		case 'c':
			fields := strings.Fields(val)
			if len(fields) < 3 {
				return md, fmt.Errorf("sdp: bad connection line %q", line)
			}
			addr, err := netip.ParseAddr(strings.SplitN(fields[2], "/", 2)[0])
			if err != nil {
				return md, fmt.Errorf("sdp: bad connection address in %q: %w", line, err)
			}
			if inAudio {
				mediaAddr = addr
			} else if !seenAudio {
				sessionAddr = addr
			}
		case 'a':
			if seenAudio && !inAudio {
				continue
			}
			name, rest, _ := strings.Cut(val, ":")
			switch name {
			case "rtpmap":
				ptStr, enc, ok := strings.Cut(rest, " ")
				if !ok {
					continue
				}
				pt, err := strconv.ParseUint(ptStr, 10, 7)
				if err != nil {
					continue
				}
				parts := strings.Split(enc, "/")
				rate := SampleRate
				if len(parts) > 1 {
					if r, err := strconv.Atoi(parts[1]); err == nil {
						rate = r
					}
				}
				rtpmap[uint8(pt)] = format{PT: uint8(pt), Codec: Codec(parts[0]), Rate: rate}
			case "sendrecv", "sendonly", "recvonly", "inactive":
				if inAudio || !seenAudio {
					md.Direction = name
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return md, fmt.Errorf("sdp: %w", err)
	}
	if !seenAudio {
		return md, fmt.Errorf("sdp: no audio stream")
	}
	addr := mediaAddr
	if !addr.IsValid() {
		addr = sessionAddr
	}
	if !addr.IsValid() {
		return md, fmt.Errorf("sdp: no connection address")
	}
	md.Addr = netip.AddrPortFrom(addr, uint16(port))
	for _, pt := range pts {
		if f, ok := rtpmap[pt]; ok {
			md.Formats = append(md.Formats, f)
			continue
		}
		md.Formats = append(md.Formats, format{PT: pt, Codec: staticCodec(pt), Rate: SampleRate})
	}
	return md, nil
}

// staticCodec names the codec of a static payload type, or "" when the
// client does not know it.
func staticCodec(pt uint8) Codec {
	for _, c := range []Codec{PCMU, PCMA, G722, G729} {
		if p, _ := c.staticPT(); p == pt {
			return c
		}
	}
	return ""
}

// find returns the first format of md whose codec is c.
func (md mediaDesc) find(c Codec) (format, bool) {
	for _, f := range md.Formats {
		if strings.EqualFold(string(f.Codec), string(c)) {
			return f, true
		}
	}
	return format{}, false
}

// offerFormats turns the codec list of Options into payload types: static
// ones where the codec has one, dynamic ones from 96 otherwise, then
// telephone-event at dtmfPT when dtmfPT is not zero.
func offerFormats(codecs []Codec, dtmfPT uint8) []format {
	var out []format
	next := uint8(96)
	for _, c := range codecs {
		if pt, ok := c.staticPT(); ok {
			out = append(out, format{PT: pt, Codec: c, Rate: SampleRate})
			continue
		}
		if next == dtmfPT {
			next++
		}
		out = append(out, format{PT: next, Codec: c, Rate: SampleRate})
		next++
	}
	if dtmfPT != 0 {
		out = append(out, format{PT: dtmfPT, Codec: TelephoneEvent, Rate: SampleRate})
	}
	return out
}

// buildSDP writes a one-stream audio SDP body.
func buildSDP(sessID uint64, version int, addr netip.AddrPort, formats []format) []byte {
	return buildSDPDir(sessID, version, addr, formats, "sendrecv")
}

// buildSDPDir is buildSDP with the given direction attribute (sendrecv,
// sendonly, recvonly, inactive).
func buildSDPDir(sessID uint64, version int, addr netip.AddrPort, formats []format, dir string) []byte {
	var b strings.Builder
	ip := addr.Addr()
	fam := "IP4"
	if ip.Is6() && !ip.Is4In6() {
		fam = "IP6"
	}
	fmt.Fprintf(&b, "v=0\r\n")
	fmt.Fprintf(&b, "o=e2e %d %d IN %s %s\r\n", sessID, version, fam, ip)
	fmt.Fprintf(&b, "s=switchboard-e2e\r\n")
	fmt.Fprintf(&b, "c=IN %s %s\r\n", fam, ip)
	fmt.Fprintf(&b, "t=0 0\r\n")
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", addr.Port())
	for _, f := range formats {
		fmt.Fprintf(&b, " %d", f.PT)
	}
	b.WriteString("\r\n")
	for _, f := range formats {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", f.PT, f.Codec, f.Rate)
		if f.Codec == TelephoneEvent {
			fmt.Fprintf(&b, "a=fmtp:%d 0-16\r\n", f.PT)
		}
	}
	b.WriteString("a=ptime:20\r\n")
	b.WriteString("a=" + dir + "\r\n")
	return []byte(b.String())
}

// negotiated is the outcome of an offer/answer exchange.
type negotiated struct {
	remote netip.AddrPort
	audio  format
	dtmf   format // PT 0 when the far end takes no telephone events
}

// negotiate picks, from the far end's SDP, the first audio format that is
// also in ours (so a received offer keeps its order, and an answer is
// checked against our offer), and the telephone-event type.
func negotiate(theirs mediaDesc, ours []format) (negotiated, error) {
	n := negotiated{remote: theirs.Addr}
	wantDTMF := false
	for _, o := range ours {
		wantDTMF = wantDTMF || o.Codec == TelephoneEvent
	}
	found := false
	for _, f := range theirs.Formats {
		if strings.EqualFold(string(f.Codec), string(TelephoneEvent)) {
			if wantDTMF && n.dtmf.PT == 0 {
				n.dtmf = f
			}
			continue
		}
		if found {
			continue
		}
		for _, o := range ours {
			if strings.EqualFold(string(o.Codec), string(f.Codec)) && f.Codec != "" {
				n.audio, found = f, true
				break
			}
		}
	}
	if !found {
		return n, fmt.Errorf("sdp: no common audio codec (theirs %v)", theirs.Formats)
	}
	return n, nil
}

// dtmfPayloadType is the telephone-event payload type a leg offers:
// pt, 101 by default, 0 (none) with noDTMF.
func dtmfPayloadType(pt uint8, noDTMF bool) uint8 {
	switch {
	case noDTMF:
		return 0
	case pt == 0:
		return 101
	}
	return pt
}
