package media

import (
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"
)

// latenessBounds are the upper bounds of the send-lateness histogram's
// buckets; a last, unbounded bucket follows.
var latenessBounds = [...]time.Duration{
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

// histogram counts durations into latenessBounds buckets; safe for
// concurrent use without locks.
type histogram struct {
	counts [len(latenessBounds) + 1]atomic.Uint64
	sum    atomic.Int64
	max    atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := 0
	for i < len(latenessBounds) && d > latenessBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

func (h *histogram) snapshot() Histogram {
	s := Histogram{
		Bounds: append([]time.Duration(nil), latenessBounds[:]...),
		Counts: make([]uint64, len(h.counts)),
		Max:    time.Duration(h.max.Load()),
		Sum:    time.Duration(h.sum.Load()),
	}
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
		s.Count += s.Counts[i]
	}
	s.P50 = s.Quantile(0.50)
	s.P99 = s.Quantile(0.99)
	return s
}

// Histogram is a snapshot of the pacer's send lateness: how long after
// its slot's deadline each packet was handed to the kernel.
type Histogram struct {
	// Bounds are the buckets' upper bounds (inclusive); Counts has one
	// more entry, for the values above the last bound.
	Bounds []time.Duration
	Counts []uint64
	Count  uint64        // packets observed
	Sum    time.Duration // total lateness
	Max    time.Duration // largest lateness seen
	P50    time.Duration // Quantile(0.50)
	P99    time.Duration // Quantile(0.99)
}

// Quantile returns the upper bound of the bucket holding the q-th
// quantile (0 < q <= 1) — an upper estimate, never below the truth by
// more than one bucket. For the unbounded bucket it returns Max. It
// returns 0 for an empty histogram.
func (h Histogram) Quantile(q float64) time.Duration {
	if h.Count == 0 {
		return 0
	}
	rank := uint64(q*float64(h.Count) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			if i < len(h.Bounds) {
				return min(h.Bounds[i], h.Max)
			}
			return h.Max
		}
	}
	return h.Max
}

// Mean is the average lateness.
func (h Histogram) Mean() time.Duration {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / time.Duration(h.Count)
}

// String renders the histogram on one line per non-empty bucket, for
// status output.
func (h Histogram) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "packets=%d p50<=%v p99<=%v max=%v mean=%v\n", h.Count, h.P50, h.P99, h.Max, h.Mean())
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		if i < len(h.Bounds) {
			fmt.Fprintf(&b, "  <=%-8v %d\n", h.Bounds[i], c)
		} else {
			fmt.Fprintf(&b, "  >%-9v %d\n", h.Bounds[len(h.Bounds)-1], c)
		}
	}
	return b.String()
}

// counters are the packet counters an Engine and each Stream keep.
type counters struct {
	sent, sentBytes  atomic.Uint64
	recv, recvBytes  atomic.Uint64
	sendErrors       atomic.Uint64
	foreign          atomic.Uint64
	malformed        atomic.Uint64
	unknownPT        atomic.Uint64
	badSSRC          atomic.Uint64
	badSeq           atomic.Uint64
	discarded        atomic.Uint64 // frames paced while the stream had no remote
	underruns        atomic.Uint64
	dtmfIn, dtmfOut  atomic.Uint64
	accepted         atomic.Uint64
	acceptedAudio    atomic.Uint64
	acceptedDTMFPkts atomic.Uint64
	relayed          atomic.Uint64 // bridged audio packets sent
	relayDropped     atomic.Uint64 // bridged audio packets not sent
}

// PacketStats counts packets.
type PacketStats struct {
	Sent          uint64 // RTP packets written
	SentBytes     uint64
	SendErrors    uint64 // writes the kernel refused
	Received      uint64 // datagrams read, before any check
	ReceivedBytes uint64
	Accepted      uint64 // packets that passed every check
	// Dropped, by reason.
	Foreign   uint64 // from an address other than the remote's
	Malformed uint64 // not RTP v2, truncated, bad padding or extension
	UnknownPT uint64 // a payload type the SDP did not negotiate
	BadSSRC   uint64 // a new SSRC still on probation (RFC 3550 §A.1)
	BadSeq    uint64 // a sequence jump not (yet) confirmed
	// Discarded counts frames a producer queued while the stream had no
	// usable remote address: they were paced but not sent.
	Discarded uint64
	// Underruns counts pacer visits that found a producer running but its
	// queue empty: a packet that should have been sent was not.
	Underruns  uint64
	DTMFIn     uint64 // telephone events reported by OnDTMF
	DTMFOut    uint64 // telephone events sent
	AudioIn    uint64 // accepted audio packets
	DTMFPktsIn uint64 // accepted telephone-event packets
	// Relayed counts the audio packets a Bridge sent on this stream (the
	// bridged peer's audio; they are also counted in Sent).
	Relayed uint64
	// RelayDropped counts the peer's audio packets a Bridge did not send
	// on this stream: no usable remote address (not yet known, or hold),
	// or the stream's own producer (Play, Echo, SendDTMF) had the output.
	RelayDropped uint64
}

func (c *counters) snapshot() PacketStats {
	return PacketStats{
		Sent: c.sent.Load(), SentBytes: c.sentBytes.Load(), SendErrors: c.sendErrors.Load(),
		Received: c.recv.Load(), ReceivedBytes: c.recvBytes.Load(), Accepted: c.accepted.Load(),
		Foreign: c.foreign.Load(), Malformed: c.malformed.Load(), UnknownPT: c.unknownPT.Load(),
		BadSSRC: c.badSSRC.Load(), BadSeq: c.badSeq.Load(), Discarded: c.discarded.Load(),
		Underruns: c.underruns.Load(), DTMFIn: c.dtmfIn.Load(), DTMFOut: c.dtmfOut.Load(),
		AudioIn: c.acceptedAudio.Load(), DTMFPktsIn: c.acceptedDTMFPkts.Load(),
		Relayed: c.relayed.Load(), RelayDropped: c.relayDropped.Load(),
	}
}

// Stats is a snapshot of an Engine.
type Stats struct {
	Streams    int // open streams
	PortsInUse int // ports bound from the range
	PortsTotal int // usable (even) ports in the range; 0 with ephemeral ports
	Pacers     int // pacer goroutines
	// PacerSkips counts periods a pacer skipped because it fell more than
	// maxBehind behind its clock (the machine was starved); the streams'
	// timestamps jump over the skipped periods.
	PacerSkips   uint64
	Packets      PacketStats
	SendLateness Histogram
	// WakeLateness is how late the pacers woke for each slot: the part
	// of SendLateness due to scheduling rather than to sending.
	WakeLateness Histogram
}

// StreamStats is a snapshot of one Stream.
type StreamStats struct {
	Local      netip.AddrPort
	Remote     netip.AddrPort // where packets are sent (after latching)
	SDPRemote  netip.AddrPort // the address SetRemote was given
	Latched    bool           // the remote address was learnt from the first packet
	SSRC       uint32         // our SSRC
	RemoteSSRC uint32         // the far end's current SSRC (0 before any packet)
	Packets    PacketStats
}
