package media

// Source validation after RFC 3550 Appendix A.1.
const (
	seqMod        = 1 << 16
	maxDropout    = 3000
	maxMisorder   = 100
	minSequential = 2
)

// seqState tracks one SSRC's sequence numbers.
type seqState struct {
	active    bool
	ssrc      uint32
	maxSeq    uint16
	cycles    uint32 // wraps of the sequence number, times seqMod
	badSeq    uint32 // the sequence number that would confirm a jump
	probation int
}

func (s *seqState) init(seq uint16) {
	s.maxSeq = seq
	s.badSeq = seqMod + 1 // not a valid sequence number
	s.cycles = 0
}

// update reports whether a packet with sequence number seq is valid for
// this source: in order, a small gap, a duplicate or reordered within
// maxMisorder. A jump of maxDropout or more is accepted only when the
// next packet confirms it (the sender restarted).
func (s *seqState) update(seq uint16) bool {
	udelta := seq - s.maxSeq
	if s.probation > 0 {
		if seq == s.maxSeq+1 {
			s.probation--
			s.maxSeq = seq
			if s.probation == 0 {
				s.init(seq)
				return true
			}
		} else {
			s.probation = minSequential - 1
			s.maxSeq = seq
		}
		return false
	}
	switch {
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += seqMod
		}
		s.maxSeq = seq
	case uint32(udelta) <= seqMod-maxMisorder:
		if uint32(seq) == s.badSeq {
			s.init(seq)
		} else {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
	default:
		// duplicate or reordered packet: accepted
	}
	return true
}

// gateResult says why a packet was refused by the sourceGate.
type gateResult uint8

const (
	gateOK gateResult = iota
	gateBadSSRC
	gateBadSeq
)

// sourceGate decides which SSRC's packets a stream accepts. The first
// SSRC is accepted at once (the remote address was already checked); a
// different SSRC replaces it only after minSequential packets in
// sequence, so a stray packet cannot hijack the stream while a real
// change of source (a transfer on the far side) is followed quickly.
type sourceGate struct {
	cur, cand seqState
}

func (g *sourceGate) admit(ssrc uint32, seq uint16) gateResult {
	if !g.cur.active {
		g.cur = seqState{active: true, ssrc: ssrc}
		g.cur.init(seq)
		return gateOK
	}
	if ssrc == g.cur.ssrc {
		if g.cur.update(seq) {
			return gateOK
		}
		return gateBadSeq
	}
	if !g.cand.active || g.cand.ssrc != ssrc {
		g.cand = seqState{active: true, ssrc: ssrc, probation: minSequential}
		g.cand.init(seq)
		g.cand.maxSeq = seq - 1
	}
	if g.cand.update(seq) {
		g.cur = g.cand
		g.cand = seqState{}
		return gateOK
	}
	return gateBadSSRC
}

// reset forgets every source (a new remote).
func (g *sourceGate) reset() { *g = sourceGate{} }
