// Package cause holds FreeSWITCH's hangup causes: their names, Q.850
// values, and the mappings to and from SIP response codes that mod_sofia
// uses.
package cause

import (
	"strconv"
	"strings"
)

// Cause is a hangup cause, valued by its Q.850 code (FreeSWITCH-private
// causes use values of 487 and above).
type Cause int

type entry struct {
	c     Cause
	name  string
	sip   int   // the SIP response sent for this cause on an unanswered call
	fromS []int // SIP final responses from a far end mapped to this cause
}

var (
	byCause = map[Cause]*entry{}
	byName  = map[string]*entry{}
	bySIP   = map[int]Cause{}
)

func init() {
	for i := range table {
		e := &table[i]
		byCause[e.c] = e
		byName[e.name] = e
		for _, code := range e.fromS {
			bySIP[code] = e.c
		}
	}
}

// String returns the cause's name, e.g. "NORMAL_CLEARING"; an unknown
// value renders as its number.
func (c Cause) String() string {
	if e, ok := byCause[c]; ok {
		return e.name
	}
	return strconv.Itoa(int(c))
}

// Q850 returns the numeric value (hangup_cause_q850).
func (c Cause) Q850() int { return int(c) }

// Known reports whether c is in FreeSWITCH's cause chart.
func (c Cause) Known() bool { _, ok := byCause[c]; return ok }

// SIP returns the response code sent when this cause ends an unanswered
// inbound call (mod_sofia's hangup_cause_to_sip; 480 for anything else).
func (c Cause) SIP() int {
	if e, ok := byCause[c]; ok {
		return e.sip
	}
	return 480
}

// Parse reads a cause the way switch_channel_str2cause does: a name
// (case-insensitive) or a number; anything else is NORMAL_CLEARING.
func Parse(s string) Cause {
	s = strings.TrimSpace(s)
	if s == "" {
		return CNormalClearing
	}
	if n, err := strconv.Atoi(s); err == nil {
		return Cause(n)
	}
	if e, ok := byName[strings.ToUpper(s)]; ok {
		return e.c
	}
	return CNormalClearing
}

// Lookup returns the cause with the given name (case-insensitive) and
// whether it exists.
func Lookup(name string) (Cause, bool) {
	e, ok := byName[strings.ToUpper(strings.TrimSpace(name))]
	if !ok {
		return 0, false
	}
	return e.c, true
}

// FromSIP maps a far end's final SIP response code to a cause
// (sofia_glue_sip_cause_to_freeswitch; NORMAL_UNSPECIFIED for anything
// not in the chart).
func FromSIP(code int) Cause {
	if c, ok := bySIP[code]; ok {
		return c
	}
	return CNormalUnspecified
}

// Names returns every cause name in chart order.
func Names() []string {
	out := make([]string, len(table))
	for i, e := range table {
		out[i] = e.name
	}
	return out
}
