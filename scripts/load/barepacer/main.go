// Command barepacer is the media baseline of scripts/load.sh: the least
// a Go program can do to send N streams of 20 ms G.711 packets. One
// goroutine, one time.Ticker, one UDP socket per stream (as the switch's
// media engine has), packets sent to a sink socket on loopback that
// counts what arrives.
//
// Lateness is measured the way media/pacer.go measures it: the period is
// cut into -slots slots (the engine uses 10), every stream belongs to
// one slot, and each packet's lateness is the time from its slot's
// absolute deadline to just before its write. The histogram uses the
// engine's bucket bounds and quantile rule, so the two p99 figures are
// comparable; a 10 µs fine histogram gives the exact p99 as well.
//
// The payload is precomputed (a µ-law tone): the switch also generates
// and encodes its tone, so the difference in CPU is what the engine
// adds on top of the syscalls and the timer.
//
//	barepacer -streams 1500 -duration 20s
//
// It prints one line of key=value pairs (or JSON with -json).
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchboard-voip/switchboard/media"
	"github.com/zaf/g711"
)

const (
	ptime       = 20 * time.Millisecond
	frameBytes  = 160 // 20 ms of 8 kHz G.711
	rtpHeader   = 12
	fineStep    = 10 * time.Microsecond
	fineBuckets = 25000 // 250 ms at 10 µs
)

// latenessBounds are media/stats.go's send-lateness bucket bounds;
// main_test.go checks that they still are.
var latenessBounds = []time.Duration{
	100 * time.Microsecond,
	250 * time.Microsecond,
	500 * time.Microsecond,
	1 * time.Millisecond,
	2 * time.Millisecond,
	3 * time.Millisecond,
	5 * time.Millisecond,
	7500 * time.Microsecond,
	10 * time.Millisecond,
	15 * time.Millisecond,
	20 * time.Millisecond,
	50 * time.Millisecond,
	100 * time.Millisecond,
	250 * time.Millisecond,
}

// lateness is a single-goroutine histogram: the engine's buckets plus a
// fine one for an exact quantile.
type lateness struct {
	coarse media.Histogram
	fine   []uint64 // fineStep buckets; the last one is unbounded
}

func newLateness() *lateness {
	return &lateness{
		coarse: media.Histogram{
			Bounds: latenessBounds,
			Counts: make([]uint64, len(latenessBounds)+1),
		},
		fine: make([]uint64, fineBuckets+1),
	}
}

func (l *lateness) observe(d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < len(l.coarse.Bounds) && d > l.coarse.Bounds[i] {
		i++
	}
	l.coarse.Counts[i]++
	l.coarse.Count++
	l.coarse.Sum += d
	l.coarse.Max = max(l.coarse.Max, d)
	l.fine[min(int(d/fineStep), fineBuckets)]++
}

// exact returns the upper edge of the fine bucket holding quantile q, or
// Max when it falls in the unbounded bucket.
func (l *lateness) exact(q float64) time.Duration {
	if l.coarse.Count == 0 {
		return 0
	}
	rank := max(uint64(math.Round(q*float64(l.coarse.Count))), 1)
	var seen uint64
	for i, c := range l.fine {
		seen += c
		if seen >= rank {
			if i == fineBuckets {
				return l.coarse.Max
			}
			return min(time.Duration(i+1)*fineStep, l.coarse.Max)
		}
	}
	return l.coarse.Max
}

// stream is one RTP sender.
type stream struct {
	conn *net.UDPConn
	seq  uint16
	ts   uint32
	ssrc uint32
	buf  [rtpHeader + frameBytes]byte
}

// result is what one run measured.
type result struct {
	Streams       int     `json:"streams"`
	Slots         int     `json:"slots"`
	DurationS     float64 `json:"duration_s"`
	Expected      uint64  `json:"expected"`
	Sent          uint64  `json:"sent"`
	SendErrors    uint64  `json:"send_errors"`
	Received      uint64  `json:"received"`
	SentPct       float64 `json:"sent_pct"`
	P50us         int64   `json:"p50_us"`
	P99us         int64   `json:"p99_us"`
	P99ExactUs    int64   `json:"p99_exact_us"`
	MaxUs         int64   `json:"max_us"`
	MeanUs        int64   `json:"mean_us"`
	CPUs          float64 `json:"cpu_s"`
	CPUPctOfCore  float64 `json:"cpu_pct_core"`
	CPUPerStreamS float64 `json:"cpu_us_per_stream_s"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("barepacer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("streams", 1000, "number of streams")
	dur := fs.Duration("duration", 20*time.Second, "how long to send")
	slots := fs.Int("slots", 10, "slots per 20 ms period (the ticker fires every 20ms/slots)")
	ip := fs.String("ip", "127.0.0.1", "loopback address to bind and send to")
	asJSON := fs.Bool("json", false, "print JSON instead of key=value")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n < 1 || *slots < 1 || *slots > 100 || *dur < ptime {
		fmt.Fprintln(stderr, "barepacer: need -streams >= 1, 1 <= -slots <= 100, -duration >= 20ms")
		return 2
	}
	addr, err := netip.ParseAddr(*ip)
	if err != nil || !addr.IsLoopback() {
		fmt.Fprintf(stderr, "barepacer: -ip %q is not a loopback address\n", *ip)
		return 2
	}
	res, err := pace(addr, *n, *slots, *dur)
	if err != nil {
		fmt.Fprintf(stderr, "barepacer: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(stderr, "barepacer: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(stdout, res.String())
	return 0
}

// String renders r as key=value pairs on one line.
func (r result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "streams=%d slots=%d duration_s=%.1f expected=%d sent=%d send_errors=%d received=%d sent_pct=%.3f",
		r.Streams, r.Slots, r.DurationS, r.Expected, r.Sent, r.SendErrors, r.Received, r.SentPct)
	fmt.Fprintf(&b, " p50_us=%d p99_us=%d p99_exact_us=%d max_us=%d mean_us=%d cpu_s=%.2f cpu_pct_core=%.1f cpu_us_per_stream_s=%.1f",
		r.P50us, r.P99us, r.P99ExactUs, r.MaxUs, r.MeanUs, r.CPUs, r.CPUPctOfCore, r.CPUPerStreamS)
	return b.String()
}

// pace runs n streams for dur and reports.
func pace(ip netip.Addr, n, slots int, dur time.Duration) (result, error) {
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return result{}, fmt.Errorf("sink: %w", err)
	}
	defer sink.Close()
	_ = sink.SetReadBuffer(4 << 20)
	var received atomic.Uint64
	sinkDone := make(chan struct{})
	go func() {
		defer close(sinkDone)
		buf := make([]byte, 2048)
		for {
			if _, _, err := sink.ReadFromUDPAddrPort(buf); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			received.Add(1)
		}
	}()
	dst := netip.MustParseAddrPort(sink.LocalAddr().String())

	payload := toneFrame()
	streams := make([]*stream, n)
	for i := range streams {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			for _, s := range streams[:i] {
				_ = s.conn.Close()
			}
			return result{}, fmt.Errorf("stream %d: %w", i, err)
		}
		s := &stream{conn: c, ssrc: uint32(0x5eed0000 + i)}
		s.buf[0] = 0x80 // version 2; payload type 0 (PCMU)
		binary.BigEndian.PutUint32(s.buf[8:12], s.ssrc)
		copy(s.buf[rtpHeader:], payload)
		streams[i] = s
	}
	defer func() {
		for _, s := range streams {
			_ = s.conn.Close()
		}
	}()
	wheel := make([][]*stream, slots)
	for i, s := range streams {
		wheel[i%slots] = append(wheel[i%slots], s)
	}

	slotDur := ptime / time.Duration(slots)
	periods := uint64(dur / ptime)
	total := periods * uint64(slots)
	late := newLateness()
	var sent, sendErrors uint64

	cpu0, err := cpuTime()
	if err != nil {
		return result{}, err
	}
	ticker := time.NewTicker(slotDur)
	defer ticker.Stop()
	start := time.Now()
	var k uint64
	for k < total {
		<-ticker.C
		// Serve every slot whose deadline has passed: a dropped tick
		// means late packets, never missing ones.
		for k < total {
			deadline := start.Add(time.Duration(k+1) * slotDur)
			if time.Now().Before(deadline) {
				break
			}
			for _, s := range wheel[k%uint64(slots)] {
				binary.BigEndian.PutUint16(s.buf[2:4], s.seq)
				binary.BigEndian.PutUint32(s.buf[4:8], s.ts)
				late.observe(time.Since(deadline))
				if _, err := s.conn.WriteToUDPAddrPort(s.buf[:], dst); err != nil {
					sendErrors++
				} else {
					sent++
				}
				s.seq++
				s.ts += frameBytes
			}
			k++
		}
	}
	elapsed := time.Since(start)
	cpu1, err := cpuTime()
	if err != nil {
		return result{}, err
	}
	time.Sleep(100 * time.Millisecond) // let the sink drain
	_ = sink.Close()
	<-sinkDone

	expected := periods * uint64(n)
	cpu := (cpu1 - cpu0).Seconds()
	h := late.coarse
	return result{
		Streams:       n,
		Slots:         slots,
		DurationS:     elapsed.Seconds(),
		Expected:      expected,
		Sent:          sent,
		SendErrors:    sendErrors,
		Received:      received.Load(),
		SentPct:       100 * float64(sent) / float64(expected),
		P50us:         h.Quantile(0.50).Microseconds(),
		P99us:         h.Quantile(0.99).Microseconds(),
		P99ExactUs:    late.exact(0.99).Microseconds(),
		MaxUs:         h.Max.Microseconds(),
		MeanUs:        h.Mean().Microseconds(),
		CPUs:          cpu,
		CPUPctOfCore:  100 * cpu / elapsed.Seconds(),
		CPUPerStreamS: 1e6 * cpu / elapsed.Seconds() / float64(n),
	}, nil
}

// toneFrame is 20 ms of a 1 kHz tone at about -10 dBm0, µ-law encoded.
func toneFrame() []byte {
	b := make([]byte, frameBytes)
	for i := range b {
		v := 3000 * math.Sin(2*math.Pi*1000*float64(i)/8000)
		b[i] = g711.EncodeUlawFrame(int16(v))
	}
	return b
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
