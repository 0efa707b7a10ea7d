package session

import (
	"strconv"
	"strings"
	"time"
)

// stampFormat is how FreeSWITCH writes the *_stamp variables (local time).
const stampFormat = "2006-01-02 15:04:05"

// momentVars are the variable names of one moment of the call.
type momentVars struct{ stamp, epoch, uepoch string }

// The moments setTimestamps writes, in its order.
var (
	startVars         = momentVars{"start_stamp", "start_epoch", "start_uepoch"}
	profileStartVars  = momentVars{"profile_start_stamp", "profile_start_epoch", "profile_start_uepoch"}
	answerVars        = momentVars{"answer_stamp", "answer_epoch", "answer_uepoch"}
	progressVars      = momentVars{"progress_stamp", "progress_epoch", "progress_uepoch"}
	progressMediaVars = momentVars{"progress_media_stamp", "progress_media_epoch", "progress_media_uepoch"}
	endVars           = momentVars{"end_stamp", "end_epoch", "end_uepoch"}
)

// epochs returns the *_epoch and *_uepoch values of a moment (epoch
// microseconds): its whole seconds and its microseconds. From 1970-01-01
// 00:00:01 on, the seconds are the microseconds' digits but the last six,
// so both values share one string.
func epochs(us int64) (epoch, uepoch string) {
	uepoch = strconv.FormatInt(us, 10)
	if us >= 1e6 {
		return uepoch[:len(uepoch)-6], uepoch
	}
	return strconv.FormatInt(us/1e6, 10), uepoch
}

// writeInts writes vals to sb in decimal, recording where each ends in
// ends from index n on, and returns the index after the last.
func writeInts(sb *strings.Builder, vals []int64, ends []int32, n int) int {
	var tmp [20]byte
	for _, v := range vals {
		sb.Write(strconv.AppendInt(tmp[:0], v, 10))
		ends[n] = int32(sb.Len())
		n++
	}
	return n
}

// durationVars are the duration variables setTimestamps sets, in its
// order: seconds, milliseconds, then microseconds of duration, billsec,
// progresssec, answersec, waitsec, progress_mediasec and flow_billsec.
var durationVars = [21]string{
	"duration", "billsec", "progresssec", "answersec", "waitsec", "progress_mediasec", "flow_billsec",
	"mduration", "billmsec", "progressmsec", "answermsec", "waitmsec", "progress_mediamsec", "flow_billmsec",
	"uduration", "billusec", "progressusec", "answerusec", "waitusec", "progress_mediausec", "flow_billusec",
}

// setTimestamps sets the variables switch_channel_set_timestamps sets at
// hangup, from the caller profile's times (epoch microseconds): the
// *_stamp, *_epoch and *_uepoch of each moment the call reached, and the
// durations in seconds, milliseconds and microseconds (duration, billsec,
// answersec, progresssec, progress_mediasec, waitsec, flow_billsec and
// their msec/usec forms). As in FreeSWITCH, a seconds figure is the
// difference of the two moments' whole seconds.
//
// Every value is written into one buffer that becomes one string; the
// variables hold slices of it, so the forty-odd values cost a single
// allocation. The buffer is the string's own (a strings.Builder), not an
// array in the frame: growing the call goroutine's stack here would cost
// more than the allocations saved.
func (s *Session) setTimestamps() {
	s.mu.Lock()
	p := s.profile
	created, hungup, answered := p.CreatedTime, p.HungupTime, p.AnsweredTime
	moments := [6]struct {
		names *momentVars
		us    int64
	}{
		{&startVars, created},
		{&profileStartVars, p.ProfileCreatedTime},
		{&answerVars, answered},
		{&progressVars, p.ProgressTime},
		{&progressMediaVars, p.ProgressMediaTime},
		{&endVars, hungup},
	}
	cidName, cidNumber := p.CallerIDName, p.CallerIDNumber
	lastApp, lastArg := s.lastApp, s.lastData
	s.mu.Unlock()

	// since returns the seconds, milliseconds and microseconds from
	// created to t, or zeros when the call never reached t.
	since := func(t int64) (sec, msec, usec int64) {
		if t <= 0 {
			return 0, 0, 0
		}
		return t/1e6 - created/1e6, t/1e3 - created/1e3, t - created
	}
	dur, mdur, udur := since(hungup)
	var bill, billm, billu, flow, flowm, flowu int64
	if answered > 0 {
		bill, billm, billu = hungup/1e6-answered/1e6, hungup/1e3-answered/1e3, hungup-answered
		flow, flowm, flowu = dur, mdur, udur
	}
	ans, ansm, ansu := since(answered)
	prog, progm, progu := since(moments[3].us)
	pm, pmm, pmu := since(moments[4].us)
	durations := [len(durationVars)]int64{
		dur, bill, prog, ans, 0, pm, flow,
		mdur, billm, progm, ansm, 0, pmm, flowm,
		udur, billu, progu, ansu, 0, pmu, flowu,
	}

	// The values, in the order they are set; ends[i] is where value i
	// ends in the text.
	var sb strings.Builder
	sb.Grow(352 + len(cidName) + len(cidNumber))
	var tmp [32]byte
	var ends [len(moments)*3 + 1 + len(durationVars)]int32
	n := 0
	for _, m := range moments {
		if m.us > 0 {
			sb.Write(time.UnixMicro(m.us).Local().AppendFormat(tmp[:0], stampFormat))
			ends[n] = int32(sb.Len())
			n++
		}
	}
	var secs [2 * len(moments)]int64 // *_epoch, *_uepoch of each moment
	for i, m := range moments {
		secs[2*i], secs[2*i+1] = m.us/1e6, m.us
	}
	n = writeInts(&sb, secs[:], ends[:], n)
	sb.WriteByte('"')
	sb.WriteString(cidName)
	sb.WriteString(`" <`)
	sb.WriteString(cidNumber)
	sb.WriteByte('>')
	ends[n] = int32(sb.Len())
	n++
	writeInts(&sb, durations[:], ends[:], n)

	text := sb.String()
	i, from := 0, 0
	next := func() string {
		v := text[from:ends[i]]
		from = int(ends[i])
		i++
		return v
	}
	v := s.vars
	for _, m := range moments {
		if m.us > 0 {
			v.Set(m.names.stamp, next())
		}
	}
	for _, m := range moments {
		v.Set(m.names.epoch, next())
		v.Set(m.names.uepoch, next())
	}
	v.Set("last_app", lastApp)
	v.Set("last_arg", lastArg)
	v.Set("caller_id", next())
	for _, name := range durationVars {
		v.Set(name, next())
	}
}
