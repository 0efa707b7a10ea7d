package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/media"
)

// Limits on what a remote SDP may make us look at. Anything past them is
// ignored, so a body full of attributes costs a bounded amount of work.
const (
	maxSDPLines   = 2000
	maxSDPMedia   = 16
	maxSDPFormats = 64
)

// SDP directions (RFC 3264 §5.1).
const (
	dirSendRecv = "sendrecv"
	dirSendOnly = "sendonly"
	dirRecvOnly = "recvonly"
	dirInactive = "inactive"
)

// errSDP is wrapped by every reason a remote SDP cannot be used; the call
// is answered 488.
var errSDP = errors.New("unusable SDP")

// rtpmap is one a=rtpmap line.
type rtpmap struct {
	name     string
	rate     int
	channels int
}

// sdpMedia is one m= section of a remote SDP, as far as we understand it.
type sdpMedia struct {
	media   string // "audio", "video", ...
	port    int    // -1 when the port field is unusable
	proto   string
	formats []string // the format tokens, as written
	conn    netip.Addr
	connSet bool
	connBad bool // a c= line we cannot use (hostname, multicast, garbage)
	dir     string
	rtpmaps ptMaps
	ptime   int
}

// ptMaps are the a=rtpmap lines of an m= section: at most one per payload
// type (0-127), the first definition winning.
type ptMaps struct {
	defined [2]uint64 // bit pt: pt has an rtpmap
	list    []ptMap
}

type ptMap struct {
	pt int
	rtpmap
}

func (m *ptMaps) has(pt int) bool { return m.defined[pt>>6]&(1<<(pt&63)) != 0 }

func (m *ptMaps) add(pt int, rm rtpmap) {
	m.defined[pt>>6] |= 1 << (pt & 63)
	if m.list == nil {
		m.list = make([]ptMap, 0, 4) // an offer's usual rtpmaps in one allocation
	}
	m.list = append(m.list, ptMap{pt, rm})
}

func (m *ptMaps) get(pt int) (rtpmap, bool) {
	if !m.has(pt) {
		return rtpmap{}, false
	}
	for _, e := range m.list {
		if e.pt == pt {
			return e.rtpmap, true
		}
	}
	return rtpmap{}, false
}

// remoteSDP is a far end's session description, parsed leniently: lines
// we do not understand are skipped, numbers out of range mark the field
// unusable instead of failing the parse.
type remoteSDP struct {
	conn    netip.Addr
	connSet bool
	connBad bool
	dir     string
	media   []*sdpMedia
	sawV    bool
}

// parseSDP reads body line by line. It never panics and only fails when
// body does not look like SDP at all (no v= line).
func parseSDP(body []byte) (*remoteSDP, error) {
	r := &remoteSDP{}
	var cur *sdpMedia
	lines := 0
	rest := string(body) // one copy; the lines are slices of it
	for len(rest) > 0 && lines < maxSDPLines {
		var line string
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, ""
		}
		lines++
		s := strings.TrimRight(line, "\r \t")
		if len(s) < 2 || s[1] != '=' {
			continue
		}
		typ, val := s[0], strings.TrimSpace(s[2:])
		switch typ {
		case 'v':
			r.sawV = true
		case 'm':
			if len(r.media) >= maxSDPMedia {
				cur = nil
				continue
			}
			cur = parseMLine(val)
			r.media = append(r.media, cur)
		case 'c':
			addr, ok := parseConn(val)
			if cur != nil {
				cur.conn, cur.connSet, cur.connBad = addr, true, !ok
			} else {
				r.conn, r.connSet, r.connBad = addr, true, !ok
			}
		case 'a':
			parseAttr(r, cur, val)
		}
	}
	if !r.sawV {
		return nil, fmt.Errorf("%w: no v= line", errSDP)
	}
	return r, nil
}

func parseMLine(val string) *sdpMedia {
	m := &sdpMedia{port: -1}
	f := strings.Fields(val)
	if len(f) > 0 {
		m.media = strings.ToLower(f[0])
	}
	if len(f) > 1 {
		p, _, _ := strings.Cut(f[1], "/")
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 65535 {
			m.port = n
		}
	}
	if len(f) > 2 {
		m.proto = f[2]
	}
	if len(f) > 3 {
		fm := f[3:]
		if len(fm) > maxSDPFormats {
			fm = fm[:maxSDPFormats]
		}
		m.formats = fm
	}
	return m
}

// parseConn reads "IN IP4 192.0.2.1"; ok is false for anything we will
// not send media to: hostnames, multicast or broadcast addresses, garbage.
// 0.0.0.0 is accepted (the RFC 2543 way to put a call on hold).
func parseConn(val string) (netip.Addr, bool) {
	f := strings.Fields(val)
	if len(f) < 3 || !strings.EqualFold(f[0], "IN") {
		return netip.Addr{}, false
	}
	host, _, _ := strings.Cut(f[2], "/")
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return a, false
	}
	return a, true
}

func parseAttr(r *remoteSDP, cur *sdpMedia, val string) {
	name, rest, _ := strings.Cut(val, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	switch name {
	case dirSendRecv, dirSendOnly, dirRecvOnly, dirInactive:
		if cur != nil {
			cur.dir = name
		} else {
			r.dir = name
		}
	case "rtpmap":
		if cur == nil {
			return
		}
		ptStr, enc, ok := strings.Cut(strings.TrimSpace(rest), " ")
		if !ok {
			return
		}
		pt, err := strconv.Atoi(ptStr)
		if err != nil || pt < 0 || pt > 127 {
			return
		}
		if cur.rtpmaps.has(pt) {
			return // the first definition of a payload type stands
		}
		name, params, hasRate := strings.Cut(strings.TrimSpace(enc), "/")
		rm := rtpmap{name: name, channels: 1}
		if hasRate {
			rate, channels, hasChannels := strings.Cut(params, "/")
			rm.rate, _ = strconv.Atoi(rate)
			if hasChannels {
				channels, _, _ = strings.Cut(channels, "/")
				if n, err := strconv.Atoi(channels); err == nil {
					rm.channels = n
				}
			}
		}
		cur.rtpmaps.add(pt, rm)
	case "ptime":
		if cur == nil {
			return
		}
		if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && n > 0 && n <= 1000 {
			cur.ptime = n
		}
	}
}

// staticPT is the RFC 3551 table for the payload types we can code.
func staticPT(pt int) (rtpmap, bool) {
	switch pt {
	case 0:
		return rtpmap{name: "PCMU", rate: 8000, channels: 1}, true
	case 8:
		return rtpmap{name: "PCMA", rate: 8000, channels: 1}, true
	}
	return rtpmap{}, false
}

// offeredFormat is one usable payload type of an m= line.
type offeredFormat struct {
	pt int
	rtpmap
}

// formatsOf lists the payload types of m in order, each once, with what
// they mean (rtpmap, else the static table); unknown ones are skipped.
func formatsOf(m *sdpMedia) []offeredFormat {
	var seen [128]bool
	out := make([]offeredFormat, 0, len(m.formats))
	for _, tok := range m.formats {
		pt, err := strconv.Atoi(tok)
		if err != nil || pt < 0 || pt > 127 || seen[pt] {
			continue
		}
		seen[pt] = true
		rm, ok := m.rtpmaps.get(pt)
		if !ok {
			if rm, ok = staticPT(pt); !ok {
				continue
			}
		}
		out = append(out, offeredFormat{pt: pt, rtpmap: rm})
	}
	return out
}

// audioParams is the outcome of an offer/answer on the audio stream.
type audioParams struct {
	index  int // index of the audio m= line in the remote SDP
	codec  media.Codec
	tePT   int // telephone-event payload type, -1 without
	remote netip.AddrPort
	dir    string // the far end's direction
	hold   bool   // the far end does not want to receive (sendonly, inactive, c=0.0.0.0)
}

// negotiateOpts says what we accept.
type negotiateOpts struct {
	codecs []media.Codec // in preference order
	greedy bool          // our order decides; otherwise the offer's order does
	dtmf   bool          // negotiate telephone-event
}

// negotiate picks the audio stream of r and a codec for it. The error
// explains a 488.
func negotiate(r *remoteSDP, o negotiateOpts) (audioParams, error) {
	var lastErr error
	for i, m := range r.media {
		if m.media != "audio" {
			continue
		}
		p, err := negotiateMedia(r, m, o)
		if err != nil {
			lastErr = err
			continue
		}
		p.index = i
		return p, nil
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("%w: no audio stream", errSDP)
	}
	return audioParams{}, lastErr
}

func negotiateMedia(r *remoteSDP, m *sdpMedia, o negotiateOpts) (audioParams, error) {
	switch {
	case m.port <= 0:
		return audioParams{}, fmt.Errorf("%w: audio port %d", errSDP, m.port)
	case !strings.EqualFold(m.proto, "RTP/AVP") && !strings.EqualFold(m.proto, "RTP/AVPF"):
		return audioParams{}, fmt.Errorf("%w: transport %q", errSDP, m.proto)
	}
	addr, set, bad := r.conn, r.connSet, r.connBad
	if m.connSet {
		addr, set, bad = m.conn, true, m.connBad
	}
	if !set || bad {
		return audioParams{}, fmt.Errorf("%w: no usable c= address", errSDP)
	}
	offered := formatsOf(m)
	p := audioParams{tePT: -1, remote: netip.AddrPortFrom(addr, uint16(m.port))}
	match := func(f offeredFormat, c media.Codec) bool {
		return strings.EqualFold(f.name, c.Name) && f.rate == c.ClockRate && f.channels <= 1
	}
	found := false
	if o.greedy {
	prefs:
		for _, c := range o.codecs {
			for _, f := range offered {
				if match(f, c) {
					p.codec = media.Codec{Name: c.Name, PayloadType: uint8(f.pt), ClockRate: c.ClockRate}
					found = true
					break prefs
				}
			}
		}
	} else {
	offer:
		for _, f := range offered {
			for _, c := range o.codecs {
				if match(f, c) {
					p.codec = media.Codec{Name: c.Name, PayloadType: uint8(f.pt), ClockRate: c.ClockRate}
					found = true
					break offer
				}
			}
		}
	}
	if !found {
		return audioParams{}, fmt.Errorf("%w: no common codec", errSDP)
	}
	if o.dtmf {
		for _, f := range offered {
			if strings.EqualFold(f.name, "telephone-event") && f.rate == 8000 && f.pt != int(p.codec.PayloadType) {
				p.tePT = f.pt
				break
			}
		}
	}
	p.dir = r.dir
	if m.dir != "" {
		p.dir = m.dir
	}
	if p.dir == "" {
		p.dir = dirSendRecv
	}
	p.hold = p.dir == dirSendOnly || p.dir == dirInactive || addr.IsUnspecified()
	return p, nil
}

// answerDir is our direction for an answer to a far end with direction d.
func answerDir(d string, unspecified bool) string {
	switch {
	case d == dirSendOnly:
		return dirRecvOnly
	case d == dirRecvOnly:
		return dirSendOnly
	case d == dirInactive:
		return dirInactive
	case unspecified:
		return dirRecvOnly
	}
	return dirSendRecv
}

// sdpOrigin is our o= line state: a session id fixed for the call and a
// version that grows with every description we send.
type sdpOrigin struct {
	user    string
	id      uint64
	version uint64
}

// localMedia describes our side of the audio stream.
type localMedia struct {
	addr   netip.AddrPort // what we advertise (ext-rtp-ip applied)
	codecs []media.Codec  // the payload types we list, in order
	tePT   int            // -1 without telephone-event
	dir    string
}

func addrType(a netip.Addr) string {
	if a.Is4() || a.Is4In6() {
		return "IP4"
	}
	return "IP6"
}

// buildSDP writes our description. When remote is not nil it is an
// answer: the m= lines mirror the offer's, every one but the audio line at
// index audio rejected with port 0 (RFC 3264 §6). It writes the lines
// straight into one buffer, in the layout pion/sdp's Marshal produces.
func buildSDP(o *sdpOrigin, l localMedia, remote *remoteSDP, audio int) ([]byte, error) {
	o.version++
	ip := l.addr.Addr().Unmap()
	at := addrType(ip)
	b := make([]byte, 0, 320)
	b = append(b, "v=0\r\no="...)
	b = append(b, o.user...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, o.id, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, o.version, 10)
	b = append(b, " IN "...)
	b = append(b, at...)
	b = append(b, ' ')
	b = ip.AppendTo(b)
	b = append(b, "\r\ns="...)
	b = append(b, o.user...)
	b = append(b, "\r\nc=IN "...)
	b = append(b, at...)
	b = append(b, ' ')
	b = ip.AppendTo(b)
	b = append(b, "\r\nt=0 0\r\n"...)
	audioDesc := func(b []byte) []byte {
		b = append(b, "m=audio "...)
		b = strconv.AppendUint(b, uint64(l.addr.Port()), 10)
		b = append(b, " RTP/AVP"...)
		for _, c := range l.codecs {
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(c.PayloadType), 10)
		}
		if l.tePT >= 0 {
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(l.tePT), 10)
		}
		b = append(b, "\r\n"...)
		for _, c := range l.codecs {
			b = append(b, "a=rtpmap:"...)
			b = strconv.AppendUint(b, uint64(c.PayloadType), 10)
			b = append(b, ' ')
			b = append(b, c.Name...)
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(c.ClockRate), 10)
			b = append(b, "\r\n"...)
		}
		if l.tePT >= 0 {
			b = append(b, "a=rtpmap:"...)
			b = strconv.AppendInt(b, int64(l.tePT), 10)
			b = append(b, " telephone-event/8000\r\na=fmtp:"...)
			b = strconv.AppendInt(b, int64(l.tePT), 10)
			b = append(b, " 0-16\r\n"...)
		}
		b = append(b, "a=ptime:20\r\na="...)
		b = append(b, l.dir...)
		return append(b, "\r\n"...)
	}
	if remote == nil {
		return audioDesc(b), nil
	}
	for i, m := range remote.media {
		if i == audio {
			b = audioDesc(b)
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
		b = append(b, "m="...)
		b = append(b, name...)
		b = append(b, " 0 "...)
		b = append(b, proto...)
		b = append(b, ' ')
		b = append(b, format...)
		b = append(b, "\r\n"...)
	}
	return b, nil
}

// sdpToken reports whether s is safe to echo back in our SDP: a short
// run of letters, digits and a little punctuation.
func sdpToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '/', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// sdpWord reports whether s is a media name we can echo: letters only.
func sdpWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// answerFromOffer reads the answer to our offer (late offer, the SDP in
// the ACK): the codec is the first of the answer's formats that we
// offered.
func answerFromOffer(r *remoteSDP, offered []media.Codec, dtmf bool) (audioParams, error) {
	return negotiate(r, negotiateOpts{codecs: offered, greedy: false, dtmf: dtmf})
}
