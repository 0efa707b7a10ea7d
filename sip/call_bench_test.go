package sip

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// benchUAC is a SIP caller for benchmarks: it writes the messages of a
// SIPp-like signalling call (scripts/load/sig_uac.xml) from byte templates
// and reads the answers with plain byte searches, so that it allocates
// (almost) nothing itself and the benchmark's allocations are the
// switch's.
type benchUAC struct {
	tb    testing.TB
	conn  *net.UDPConn
	local string
	dest  string // host:port of the switch
	rbuf  []byte
	wbuf  []byte
	n     int
}

func newBenchUAC(tb testing.TB, env *testEnv) *benchUAC {
	tb.Helper()
	conn, err := net.DialUDP("udp", nil, env.udp)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return &benchUAC{tb: tb, conn: conn, local: conn.LocalAddr().String(), dest: env.udp.String(), rbuf: make([]byte, 65535), wbuf: make([]byte, 0, 4096)}
}

const benchSDP = "v=0\r\no=sipp 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"

// call places one call to exten: INVITE, 200, ACK, then it waits for the
// switch's BYE and answers it.
func (u *benchUAC) call(exten string) {
	u.n++
	id := strconv.AppendInt(nil, int64(u.n), 10) // one small allocation per call
	b := u.wbuf[:0]
	head := func(method, cseq string, branch []byte, toTag []byte) {
		b = append(b, method...)
		b = append(b, " sip:"...)
		b = append(b, exten...)
		b = append(b, '@')
		b = append(b, u.dest...)
		b = append(b, " SIP/2.0\r\nVia: SIP/2.0/UDP "...)
		b = append(b, u.local...)
		b = append(b, ";branch=z9hG4bK-"...)
		b = append(b, branch...)
		b = append(b, "\r\nFrom: sipp <sip:sipp@"...)
		b = append(b, u.local...)
		b = append(b, ">;tag=bench"...)
		b = append(b, id...)
		b = append(b, "\r\nTo: <sip:"...)
		b = append(b, exten...)
		b = append(b, '@')
		b = append(b, u.dest...)
		b = append(b, '>')
		if toTag != nil {
			b = append(b, ";tag="...)
			b = append(b, toTag...)
		}
		b = append(b, "\r\nCall-ID: bench-"...)
		b = append(b, id...)
		b = append(b, "\r\nCSeq: 1 "...)
		b = append(b, cseq...)
		b = append(b, "\r\nContact: <sip:sipp@"...)
		b = append(b, u.local...)
		b = append(b, ">\r\nMax-Forwards: 70\r\n"...)
	}
	inviteBranch := append([]byte("i"), id...)
	head("INVITE", "INVITE", inviteBranch, nil)
	b = append(b, "Content-Type: application/sdp\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(benchSDP)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, benchSDP...)
	u.write(b)

	res := u.await(func(m []byte) bool {
		return bytes.HasPrefix(m, []byte("SIP/2.0 200 ")) && bytes.Contains(m, []byte(" INVITE\r\n"))
	}, "200 to the INVITE")
	toTag := headerParam(res, "\r\nTo:", ";tag=")
	if toTag == nil {
		u.tb.Fatalf("no To tag in the 200:\n%s", res)
	}
	toTag = append([]byte(nil), toTag...)
	b = b[:0]
	head("ACK", "ACK", append([]byte("a"), id...), toTag)
	b = append(b, "Content-Length: 0\r\n\r\n"...)
	u.write(b)

	bye := u.await(func(m []byte) bool { return bytes.HasPrefix(m, []byte("BYE ")) }, "BYE")
	b = append(b[:0], "SIP/2.0 200 OK\r\n"...)
	for _, name := range []string{"\r\nVia:", "\r\nFrom:", "\r\nTo:", "\r\nCall-ID:", "\r\nCSeq:"} {
		i := bytes.Index(bye, []byte(name))
		if i < 0 {
			u.tb.Fatalf("BYE without %s:\n%s", name[2:], bye)
		}
		line := bye[i+2:]
		line = line[:bytes.Index(line, []byte("\r\n"))+2]
		b = append(b, line...)
	}
	b = append(b, "Content-Length: 0\r\n\r\n"...)
	u.write(b)
	u.wbuf = b
}

func (u *benchUAC) write(b []byte) {
	if _, err := u.conn.Write(b); err != nil {
		u.tb.Fatalf("write: %v", err)
	}
}

// await reads until a message satisfies match; others (100 Trying,
// retransmissions) are skipped. The returned slice is valid until the
// next read.
func (u *benchUAC) await(match func([]byte) bool, what string) []byte {
	if err := u.conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		u.tb.Fatal(err)
	}
	for {
		n, err := u.conn.Read(u.rbuf)
		if err != nil {
			u.tb.Fatalf("waiting for %s: %v", what, err)
		}
		if m := u.rbuf[:n]; match(m) {
			return m
		}
	}
}

// headerParam returns the value of param (e.g. ";tag=") in the header line
// that starts with name.
func headerParam(m []byte, name, param string) []byte {
	i := bytes.Index(m, []byte(name))
	if i < 0 {
		return nil
	}
	line := m[i+len(name):]
	line = line[:bytes.Index(line, []byte("\r\n"))]
	j := bytes.Index(line, []byte(param))
	if j < 0 {
		return nil
	}
	v := line[j+len(param):]
	if k := bytes.IndexAny(v, ";>, "); k >= 0 {
		v = v[:k]
	}
	return v
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSignallingCall runs whole calls through the endpoint, one at a
// time, like the signalling load (scripts/load.sh signalling): INVITE with
// a G.711 offer, the dialplan answers (and hangs up at the end of its
// list), 200, ACK, the switch's BYE, 200. allocs/op and B/op are the
// process's (the caller's own share is a few small allocations);
// cpu-µs/call is the process's CPU time per call, the caller included.
func BenchmarkSignallingCall(b *testing.B) {
	// Logs as the load test runs the switch: text, warnings and up.
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := newEnv(b, envOpts{logger: log})
	u := newBenchUAC(b, env)
	for range 20 { // warm up: pools, the endpoint's goroutines, the first dialog
		u.call("answer")
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		u.call("answer")
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/call")
}

// TestBenchUACCall checks the benchmark's caller against the endpoint:
// a call placed with it completes and leaves nothing behind.
func TestBenchUACCall(t *testing.T) {
	env := newEnv(t, envOpts{})
	u := newBenchUAC(t, env)
	for range 3 {
		u.call("answer")
	}
	waitFor(t, "the sessions to end", func() bool { return env.mgr.Count() == 0 })
	waitFor(t, "the calls to end", func() bool { return env.ep.Calls() == 0 })
}
