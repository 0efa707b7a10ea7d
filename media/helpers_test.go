package media

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// quiet discards logs.
var quiet = slog.New(slog.DiscardHandler)

// sine returns n samples of a sine at freq Hz, amplitude amp, at rate.
func sine(n, rate int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// chunk is a RIFF chunk for wavFile.
type chunk struct {
	id   string
	data []byte
}

// fmtChunk builds a WAV fmt chunk.
func fmtChunk(tag uint16, channels, rate, bits int) chunk {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], tag)
	binary.LittleEndian.PutUint16(b[2:], uint16(channels))
	binary.LittleEndian.PutUint32(b[4:], uint32(rate))
	binary.LittleEndian.PutUint32(b[8:], uint32(rate*channels*bits/8))
	binary.LittleEndian.PutUint16(b[12:], uint16(channels*bits/8))
	binary.LittleEndian.PutUint16(b[14:], uint16(bits))
	return chunk{"fmt ", b}
}

// riff assembles a RIFF WAVE file from chunks (odd sizes padded).
func riff(chunks ...chunk) []byte {
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, c := range chunks {
		body.WriteString(c.id)
		_ = binary.Write(&body, binary.LittleEndian, uint32(len(c.data)))
		body.Write(c.data)
		if len(c.data)%2 == 1 {
			body.WriteByte(0)
		}
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

func pcm16Bytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// wav16 is a mono or interleaved PCM16 WAV file.
func wav16(rate, channels int, pcm []int16) []byte {
	return riff(fmtChunk(wavPCM, channels, rate, 16), chunk{"data", pcm16Bytes(pcm)})
}

// newTestEngine returns an engine on 127.0.0.1 with kernel-chosen ports.
func newTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(Config{IP: netip.MustParseAddr("127.0.0.1"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func openStream(t testing.TB, e *Engine) *Stream {
	t.Helper()
	s, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// peer is a bare UDP socket standing in for the far end: it records the
// RTP packets it receives and sends whatever a test wants.
type peer struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []rtp.Packet
	raw  int
	wake chan struct{}
}

func newPeer(t testing.TB) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{conn: c, wake: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			var pkt rtp.Packet
			ok := pkt.Unmarshal(append([]byte(nil), buf[:n]...)) == nil
			p.mu.Lock()
			p.raw++
			if ok {
				p.pkts = append(p.pkts, pkt)
			}
			p.mu.Unlock()
			select {
			case p.wake <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { _ = c.Close(); <-done })
	return p
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *peer) packets() []rtp.Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rtp.Packet(nil), p.pkts...)
}

// waitPackets waits until at least n packets arrived (or a generous
// deadline passes) and returns them.
func (p *peer) waitPackets(t testing.TB, n int) []rtp.Packet {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if pk := p.packets(); len(pk) >= n {
			return pk
		}
		select {
		case <-p.wake:
		case <-deadline:
			t.Fatalf("peer got %d packets, want %d", len(p.packets()), n)
		}
	}
}

func (p *peer) send(t testing.TB, to netip.AddrPort, b []byte) {
	t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		t.Fatal(err)
	}
}

// rtpBytes marshals an RTP packet.
func rtpBytes(t testing.TB, pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{
		Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, Marker: marker,
	}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dtmfPayload is an RFC 4733 payload.
func dtmfPayload(code uint8, end bool, dur uint16) []byte {
	b := []byte{code, 10, byte(dur >> 8), byte(dur)}
	if end {
		b[1] |= 0x80
	}
	return b
}

// decodeAll decodes the audio payloads of pkts with c.
func decodeAll(c Codec, pkts []rtp.Packet) []int16 {
	var out []int16
	for _, p := range pkts {
		if p.PayloadType != c.PayloadType {
			continue
		}
		buf := make([]int16, len(p.Payload))
		c.Decode(buf, p.Payload)
		out = append(out, buf...)
	}
	return out
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
