package session

import (
	"strconv"
	"time"
)

// stampFormat is how FreeSWITCH writes the *_stamp variables (local time).
const stampFormat = "2006-01-02 15:04:05"

// setTimestamps sets the variables switch_channel_set_timestamps sets at
// hangup, from the caller profile's times (epoch microseconds): the
// *_stamp, *_epoch and *_uepoch of each moment the call reached, and the
// durations in seconds, milliseconds and microseconds (duration, billsec,
// answersec, progresssec, progress_mediasec, waitsec, flow_billsec and
// their msec/usec forms). As in FreeSWITCH, a seconds figure is the
// difference of the two moments' whole seconds.
func (s *Session) setTimestamps() {
	s.mu.Lock()
	p := *s.profile
	lastApp, lastArg := s.lastApp, s.lastData
	s.mu.Unlock()
	v := s.vars
	set := func(name string, n int64) { v.Set(name, strconv.FormatInt(n, 10)) }
	stamp := func(name string, us int64) {
		if us > 0 {
			v.Set(name+"_stamp", time.UnixMicro(us).Local().Format(stampFormat))
		}
	}
	epochs := func(name string, us int64) {
		set(name+"_epoch", us/1e6)
		set(name+"_uepoch", us)
	}
	created, hungup := p.CreatedTime, p.HungupTime
	stamp("start", created)
	stamp("profile_start", p.ProfileCreatedTime)
	stamp("answer", p.AnsweredTime)
	stamp("progress", p.ProgressTime)
	stamp("progress_media", p.ProgressMediaTime)
	stamp("end", hungup)
	epochs("start", created)
	epochs("profile_start", p.ProfileCreatedTime)
	epochs("answer", p.AnsweredTime)
	epochs("progress", p.ProgressTime)
	epochs("progress_media", p.ProgressMediaTime)
	epochs("end", hungup)

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
	if p.AnsweredTime > 0 {
		bill, billm, billu = hungup/1e6-p.AnsweredTime/1e6, hungup/1e3-p.AnsweredTime/1e3, hungup-p.AnsweredTime
		flow, flowm, flowu = dur, mdur, udur
	}
	ans, ansm, ansu := since(p.AnsweredTime)
	prog, progm, progu := since(p.ProgressTime)
	pm, pmm, pmu := since(p.ProgressMediaTime)
	v.Set("last_app", lastApp)
	v.Set("last_arg", lastArg)
	v.Set("caller_id", `"`+p.CallerIDName+`" <`+p.CallerIDNumber+`>`)
	for _, f := range [...]struct {
		name string
		n    int64
	}{
		{"duration", dur}, {"billsec", bill}, {"progresssec", prog}, {"answersec", ans},
		{"waitsec", 0}, {"progress_mediasec", pm}, {"flow_billsec", flow},
		{"mduration", mdur}, {"billmsec", billm}, {"progressmsec", progm}, {"answermsec", ansm},
		{"waitmsec", 0}, {"progress_mediamsec", pmm}, {"flow_billmsec", flowm},
		{"uduration", udur}, {"billusec", billu}, {"progressusec", progu}, {"answerusec", ansu},
		{"waitusec", 0}, {"progress_mediausec", pmu}, {"flow_billusec", flowu},
	} {
		set(f.name, f.n)
	}
}
