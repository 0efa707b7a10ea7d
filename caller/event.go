package caller

import (
	"sort"
	"strconv"
)

// EventHeaders calls add for each header FreeSWITCH puts in an event for
// this profile (switch_caller_profile_event_set_data), named with prefix
// ("Caller" for the channel's own profile): the direction, the non-empty
// identity fields, the soft fields, the times and the privacy bits.
// direction is "inbound" or "outbound".
func (p *Profile) EventHeaders(prefix, direction string, add func(name, value string)) {
	h := func(suffix, v string) {
		if v != "" {
			add(prefix+"-"+suffix, v)
		}
	}
	add(prefix+"-Direction", direction)
	add(prefix+"-Logical-Direction", direction)
	h("Username", p.Username)
	h("Dialplan", p.Dialplan)
	h("Caller-ID-Name", p.CallerIDName)
	h("Caller-ID-Number", p.CallerIDNumber)
	// FreeSWITCH tests the current caller id, then writes the original.
	if p.CallerIDName != "" {
		h("Orig-Caller-ID-Name", p.OrigCallerIDName)
	}
	if p.CallerIDNumber != "" {
		h("Orig-Caller-ID-Number", p.OrigCallerIDNumber)
	}
	h("Callee-ID-Name", p.CalleeIDName)
	h("Callee-ID-Number", p.CalleeIDNumber)
	h("Network-Addr", p.NetworkAddr)
	h("ANI", p.ANI)
	h("ANI-II", p.ANIII)
	h("Destination-Number", p.DestinationNumber)
	h("Unique-ID", p.UUID)
	h("Source", p.Source)
	h("Transfer-Source", p.TransferSource)
	h("Context", p.Context)
	h("RDNIS", p.RDNIS)
	h("Channel-Name", p.ChanName)
	h("Profile-Index", p.ProfileIndex)
	for _, k := range sortedKeys(p.Soft) {
		add(k, p.Soft[k])
	}
	t := func(suffix string, v int64) { add(prefix+"-"+suffix, strconv.FormatInt(v, 10)) }
	t("Profile-Created-Time", p.ProfileCreatedTime)
	t("Channel-Created-Time", p.CreatedTime)
	t("Channel-Answered-Time", p.AnsweredTime)
	t("Channel-Progress-Time", p.ProgressTime)
	t("Channel-Progress-Media-Time", p.ProgressMediaTime)
	t("Channel-Hangup-Time", p.HungupTime)
	t("Channel-Transfer-Time", p.TransferredTime)
	t("Channel-Resurrect-Time", 0)
	t("Channel-Bridged-Time", 0)
	t("Channel-Last-Hold", 0)
	t("Channel-Hold-Accum", 0)
	add(prefix+"-Screen-Bit", strconv.FormatBool(p.ScreenBit))
	add(prefix+"-Privacy-Hide-Name", strconv.FormatBool(p.PrivacyHideName))
	add(prefix+"-Privacy-Hide-Number", strconv.FormatBool(p.PrivacyHideNumber))
}

func sortedKeys(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
