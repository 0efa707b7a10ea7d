// Package caller defines the caller profile: the fixed set of named fields
// FreeSWITCH keeps for every call leg (destination_number, caller_id_number,
// network_addr, ...), which dialplan conditions read by bare field name.
package caller

import (
	"strconv"
	"strings"
)

// Profile is a call leg's caller profile. Field names and meanings follow
// FreeSWITCH's switch_caller_profile_t.
type Profile struct {
	Username           string
	Dialplan           string
	CallerIDName       string
	CallerIDNumber     string
	OrigCallerIDName   string
	OrigCallerIDNumber string
	CalleeIDName       string
	CalleeIDNumber     string
	NetworkAddr        string
	ANI                string
	ANIII              string
	RDNIS              string
	DestinationNumber  string
	Source             string
	ChanName           string
	UUID               string
	Context            string
	ProfileIndex       string
	TransferSource     string
	CallerTON          int
	CallerNumplan      int
	DestinationTON     int
	DestinationNumplan int
	ANITON             int
	ANINumplan         int
	RDNISTON           int
	RDNISNumplan       int
	ScreenBit          bool
	PrivacyHideName    bool
	PrivacyHideNumber  bool
	ProfileCreatedTime int64 // epoch microseconds
	CreatedTime        int64
	AnsweredTime       int64
	ProgressTime       int64
	ProgressMediaTime  int64
	HungupTime         int64
	TransferredTime    int64
	Soft               map[string]string // "soft" profile variables, lower-case names
}

// Get returns the field called name (case-insensitive), and whether name is
// a caller-profile field at all. Unknown names that are not soft variables
// return ("", false): FreeSWITCH does not fall back to channel variables for
// bare condition fields.
func (p *Profile) Get(name string) (string, bool) {
	if p == nil {
		return "", false
	}
	switch strings.ToLower(name) {
	case "destination_number":
		return p.DestinationNumber, true
	case "caller_id_name":
		return p.CallerIDName, true
	case "caller_id_number":
		return p.CallerIDNumber, true
	case "orig_caller_id_name":
		return p.OrigCallerIDName, true
	case "orig_caller_id_number":
		return p.OrigCallerIDNumber, true
	case "callee_id_name":
		return p.CalleeIDName, true
	case "callee_id_number":
		return p.CalleeIDNumber, true
	case "ani":
		return p.ANI, true
	case "aniii":
		return p.ANIII, true
	case "network_addr":
		return p.NetworkAddr, true
	case "rdnis":
		return p.RDNIS, true
	case "dialplan":
		return p.Dialplan, true
	case "username":
		return p.Username, true
	case "uuid":
		return p.UUID, true
	case "source":
		return p.Source, true
	case "transfer_source":
		return p.TransferSource, true
	case "context":
		return p.Context, true
	case "chan_name":
		return p.ChanName, true
	case "profile_index":
		return p.ProfileIndex, true
	case "caller_ton":
		return strconv.Itoa(p.CallerTON), true
	case "caller_numplan":
		return strconv.Itoa(p.CallerNumplan), true
	case "destination_number_ton":
		return strconv.Itoa(p.DestinationTON), true
	case "destination_number_numplan":
		return strconv.Itoa(p.DestinationNumplan), true
	case "ani_ton":
		return strconv.Itoa(p.ANITON), true
	case "ani_numplan":
		return strconv.Itoa(p.ANINumplan), true
	case "rdnis_ton":
		return strconv.Itoa(p.RDNISTON), true
	case "rdnis_numplan":
		return strconv.Itoa(p.RDNISNumplan), true
	case "screen_bit":
		return strconv.FormatBool(p.ScreenBit), true
	case "privacy_hide_name":
		return strconv.FormatBool(p.PrivacyHideName), true
	case "privacy_hide_number":
		return strconv.FormatBool(p.PrivacyHideNumber), true
	case "profile_created_time":
		return strconv.FormatInt(p.ProfileCreatedTime, 10), true
	case "created_time":
		return strconv.FormatInt(p.CreatedTime, 10), true
	case "answered_time":
		return strconv.FormatInt(p.AnsweredTime, 10), true
	case "progress_time":
		return strconv.FormatInt(p.ProgressTime, 10), true
	case "progress_media_time":
		return strconv.FormatInt(p.ProgressMediaTime, 10), true
	case "hungup_time":
		return strconv.FormatInt(p.HungupTime, 10), true
	case "transferred_time":
		return strconv.FormatInt(p.TransferredTime, 10), true
	}
	if v, ok := p.Soft[strings.ToLower(name)]; ok {
		return v, true
	}
	return "", false
}

// Set assigns the field called name (case-insensitive). Unknown names become
// soft variables. Numeric and boolean fields parse value leniently (invalid
// numbers become 0; booleans use FreeSWITCH's switch_true).
func (p *Profile) Set(name, value string) {
	atoi := func() int { n, _ := strconv.Atoi(strings.TrimSpace(value)); return n }
	atoi64 := func() int64 { n, _ := strconv.ParseInt(strings.TrimSpace(value), 10, 64); return n }
	switch strings.ToLower(name) {
	case "destination_number":
		p.DestinationNumber = value
	case "caller_id_name":
		p.CallerIDName = value
	case "caller_id_number":
		p.CallerIDNumber = value
	case "orig_caller_id_name":
		p.OrigCallerIDName = value
	case "orig_caller_id_number":
		p.OrigCallerIDNumber = value
	case "callee_id_name":
		p.CalleeIDName = value
	case "callee_id_number":
		p.CalleeIDNumber = value
	case "ani":
		p.ANI = value
	case "aniii":
		p.ANIII = value
	case "network_addr":
		p.NetworkAddr = value
	case "rdnis":
		p.RDNIS = value
	case "dialplan":
		p.Dialplan = value
	case "username":
		p.Username = value
	case "uuid":
		p.UUID = value
	case "source":
		p.Source = value
	case "transfer_source":
		p.TransferSource = value
	case "context":
		p.Context = value
	case "chan_name":
		p.ChanName = value
	case "profile_index":
		p.ProfileIndex = value
	case "caller_ton":
		p.CallerTON = atoi()
	case "caller_numplan":
		p.CallerNumplan = atoi()
	case "destination_number_ton":
		p.DestinationTON = atoi()
	case "destination_number_numplan":
		p.DestinationNumplan = atoi()
	case "ani_ton":
		p.ANITON = atoi()
	case "ani_numplan":
		p.ANINumplan = atoi()
	case "rdnis_ton":
		p.RDNISTON = atoi()
	case "rdnis_numplan":
		p.RDNISNumplan = atoi()
	case "screen_bit":
		p.ScreenBit = True(value)
	case "privacy_hide_name":
		p.PrivacyHideName = True(value)
	case "privacy_hide_number":
		p.PrivacyHideNumber = True(value)
	case "profile_created_time":
		p.ProfileCreatedTime = atoi64()
	case "created_time":
		p.CreatedTime = atoi64()
	case "answered_time":
		p.AnsweredTime = atoi64()
	case "progress_time":
		p.ProgressTime = atoi64()
	case "progress_media_time":
		p.ProgressMediaTime = atoi64()
	case "hungup_time":
		p.HungupTime = atoi64()
	case "transferred_time":
		p.TransferredTime = atoi64()
	default:
		if p.Soft == nil {
			p.Soft = make(map[string]string)
		}
		p.Soft[strings.ToLower(name)] = value
	}
}

// Clone returns a deep copy of p.
func (p *Profile) Clone() *Profile {
	c := *p
	if p.Soft != nil {
		c.Soft = make(map[string]string, len(p.Soft))
		for k, v := range p.Soft {
			c.Soft[k] = v
		}
	}
	return &c
}

// True reports whether s is true in FreeSWITCH's sense (switch_true):
// yes, on, true, t, enabled, active, allow (any case), or a non-zero integer.
func True(s string) bool {
	if s == "" {
		return false
	}
	switch strings.ToLower(s) {
	case "yes", "on", "true", "t", "enabled", "active", "allow":
		return true
	}
	if !isInteger(s) {
		return false // what Atoi refuses, without the error it would allocate
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n != 0
	}
	return false
}

// isInteger reports whether s has strconv.Atoi's syntax: an optional
// sign and at least one decimal digit.
func isInteger(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
