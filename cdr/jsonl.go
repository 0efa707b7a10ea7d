package cdr

import (
	"encoding/json"
	"strconv"
	"time"
)

// Record is one line of a JSON-lines CDR file: a finished call leg.
type Record struct {
	// UUID is the leg's unique id.
	UUID string `json:"uuid"`
	// Leg is "a" or "b" (see Legs).
	Leg string `json:"leg"`
	// Direction is the leg's direction variable: inbound or outbound.
	Direction string `json:"direction,omitempty"`
	// Start is when the leg was created; Answer when it was answered
	// (absent for an unanswered leg); End when it hung up.
	Start  time.Time  `json:"start"`
	Answer *time.Time `json:"answer,omitempty"`
	End    time.Time  `json:"end"`
	// DurationMS is End-Start and BillMS End-Answer (0 unanswered), in
	// milliseconds.
	DurationMS int64 `json:"duration_ms"`
	BillMS     int64 `json:"bill_ms"`
	// HangupCause is FreeSWITCH's cause name (NORMAL_CLEARING, ...) and
	// Q850 its Q.850 value.
	HangupCause string `json:"hangup_cause"`
	Q850        int    `json:"hangup_cause_q850"`
	// CallerProfile holds the caller-profile fields under FreeSWITCH's
	// variable names (caller_id_number, destination_number, context, ...).
	CallerProfile map[string]string `json:"caller_profile"`
	// Variables are the channel variables (all, or those cdr_jsonl.conf
	// lists), arrays in their ARRAY:: form.
	Variables map[string]string `json:"variables"`
}

// profileFields are the caller-profile fields a record carries.
var profileFields = []string{
	"username", "dialplan", "caller_id_name", "caller_id_number", "callee_id_name", "callee_id_number",
	"ani", "aniii", "network_addr", "rdnis", "destination_number", "uuid", "source", "context", "chan_name",
	"transfer_source",
}

// NewRecord builds leg's record; vars, when not empty, limits the
// variables to those names.
func NewRecord(leg Leg, names []string) Record {
	p := leg.Profile()
	r := Record{
		UUID:          leg.UUID(),
		Leg:           "a",
		Start:         time.UnixMicro(p.CreatedTime).UTC(),
		End:           time.UnixMicro(p.HungupTime).UTC(),
		CallerProfile: make(map[string]string, len(profileFields)),
		Variables:     map[string]string{},
	}
	vs := leg.Vars()
	if v, _ := vs.Get("originating_leg_uuid"); v != "" {
		r.Leg = "b"
	}
	r.Direction, _ = vs.Get("direction")
	r.HangupCause, _ = vs.Get("hangup_cause")
	if v, ok := vs.Get("hangup_cause_q850"); ok {
		r.Q850, _ = strconv.Atoi(v)
	}
	if p.HungupTime > 0 && p.CreatedTime > 0 {
		r.DurationMS = (p.HungupTime - p.CreatedTime) / 1000
	}
	if p.AnsweredTime > 0 {
		a := time.UnixMicro(p.AnsweredTime).UTC()
		r.Answer = &a
		if p.HungupTime > p.AnsweredTime {
			r.BillMS = (p.HungupTime - p.AnsweredTime) / 1000
		}
	}
	for _, f := range profileFields {
		if v, ok := p.Get(f); ok && v != "" {
			r.CallerProfile[f] = v
		}
	}
	if len(names) == 0 {
		vs.Range(func(n, v string) bool {
			r.Variables[n] = v
			return true
		})
	} else {
		for _, n := range names {
			if v, ok := vs.Get(n); ok {
				r.Variables[n] = v
			}
		}
	}
	return r
}

// writeJSONL appends leg's record to the JSON-lines file.
func (w *Writer) writeJSONL(c *JSONLConfig, leg Leg) error {
	b, err := json.Marshal(NewRecord(leg, c.Variables))
	if err != nil {
		return err
	}
	return w.write(c.Path, append(b, '\n'))
}
