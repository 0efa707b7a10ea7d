package commands

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/switchboard-voip/switchboard/session"
)

// The channel reports of `show`: channels and calls, with FreeSWITCH's
// columns (its channels table and basic_calls view), built from the live
// sessions.

func init() {
	RegisterShow("channels", showChannels)
	RegisterShow("calls", showCalls)
}

// channelColumns are the columns of FreeSWITCH's channels table, in order.
var channelColumns = []string{
	"uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
	"ip_addr", "dest", "application", "application_data", "dialplan", "context",
	"read_codec", "read_rate", "read_bit_rate", "write_codec", "write_rate", "write_bit_rate",
	"secure", "hostname", "presence_id", "presence_data", "accountcode", "callstate",
	"callee_name", "callee_num", "callee_direction", "call_uuid", "sent_callee_name",
	"sent_callee_num", "initial_cid_name", "initial_cid_num", "initial_ip_addr", "initial_dest",
	"initial_dialplan", "initial_context",
}

// callColumns are the columns of FreeSWITCH's basic_calls view: the
// A-leg's, then the B-leg's (b_*), then the call's creation time.
var callColumns = []string{
	"uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
	"ip_addr", "dest", "presence_id", "presence_data", "accountcode", "callstate",
	"callee_name", "callee_num", "callee_direction", "call_uuid", "hostname",
	"sent_callee_name", "sent_callee_num",
	"b_uuid", "b_direction", "b_created", "b_created_epoch", "b_name", "b_state",
	"b_cid_name", "b_cid_num", "b_ip_addr", "b_dest", "b_presence_id", "b_presence_data",
	"b_accountcode", "b_callstate", "b_callee_name", "b_callee_num", "b_callee_direction",
	"b_sent_callee_name", "b_sent_callee_num", "call_created_epoch",
}

// errNoCore is what a report that needs a running switch fails with under
// `switchboard api`; show answers "-ERR show <report> needs a running
// switch" for it.
var errNoCore = errors.New("needs a running switch")

// showChannels is `show channels [count|like <match>]`: one row per live
// channel, oldest first, or their count. With like, only the channels
// whose uuid, name, cid_name, cid_num, presence_data or accountcode
// matches <match> as an SQL LIKE pattern (case-insensitive): wrapped in
// '%' unless it has a '%' of its own, with "'" and ";" read as spaces, as
// FreeSWITCH's query does.
func showChannels(_ context.Context, env Env, args []string) (*Table, error) {
	c, ok := coreOf(env)
	if !ok {
		return nil, errNoCore
	}
	list := c.Sessions().List()
	if len(args) > 0 && strings.EqualFold(args[0], "count") {
		return &Table{CountOnly: true, Count: len(list)}, nil
	}
	var match string
	if len(args) > 1 && strings.EqualFold(args[0], "like") {
		match = strings.Map(func(r rune) rune {
			if r == '\'' || r == ';' {
				return ' '
			}
			return r
		}, args[1])
		if !strings.Contains(match, "%") {
			match = "%" + match + "%"
		}
	}
	host := switchName(env)
	t := &Table{Columns: channelColumns}
	for _, s := range list {
		i := s.Info()
		if match != "" && !anyLike(match, i.UUID, i.Name, i.CIDName, i.CIDNum, i.PresenceData, i.Accountcode) {
			continue
		}
		t.Rows = append(t.Rows, channelRow(env, i, host))
	}
	return t, nil
}

// channelRow is a channel's row of show channels.
func channelRow(env Env, i session.ChannelInfo, host string) []string {
	return []string{
		i.UUID, i.Direction, createdText(env, i), strconv.FormatInt(i.Created.Unix(), 10), i.Name,
		i.State.String(), i.CIDName, i.CIDNum, i.IPAddr, i.Dest, i.Application, i.ApplicationData,
		i.Dialplan, i.Context,
		i.ReadCodec, rateText(i.ReadRate), rateText(i.ReadBitRate),
		i.WriteCodec, rateText(i.WriteRate), rateText(i.WriteBitRate),
		"", host, i.PresenceID, i.PresenceData, i.Accountcode, i.CallState,
		i.CalleeName, i.CalleeNum, "", i.CallUUID, "", "",
		i.InitialCIDName, i.InitialCIDNum, i.InitialIPAddr, i.InitialDest, i.InitialDialplan, i.InitialContext,
	}
}

// showCalls is `show calls [count]`: one row per call, oldest first, or
// their count. Two bridged legs are one call: the leg that bridged (the
// A-leg) fills the first columns and its partner the b_* ones; a leg
// bridged to nobody is a call of its own with empty b_* columns.
func showCalls(_ context.Context, env Env, args []string) (*Table, error) {
	c, ok := coreOf(env)
	if !ok {
		return nil, errNoCore
	}
	var list []*session.Session
	for _, s := range c.Sessions().List() {
		if s.BridgedAsB() {
			continue
		}
		list = append(list, s)
	}
	if len(args) > 0 && strings.EqualFold(args[0], "count") {
		return &Table{CountOnly: true, Count: len(list)}, nil
	}
	host := switchName(env)
	t := &Table{Columns: callColumns}
	for _, s := range list {
		i := s.Info()
		row := []string{
			i.UUID, i.Direction, createdText(env, i), strconv.FormatInt(i.Created.Unix(), 10), i.Name,
			i.State.String(), i.CIDName, i.CIDNum, i.IPAddr, i.Dest, i.PresenceID, i.PresenceData,
			i.Accountcode, i.CallState, i.CalleeName, i.CalleeNum, "", i.CallUUID, host, "", "",
		}
		if p := s.Partner(); p != nil {
			b := p.Info()
			row = append(row,
				b.UUID, b.Direction, createdText(env, b), strconv.FormatInt(b.Created.Unix(), 10), b.Name,
				b.State.String(), b.CIDName, b.CIDNum, b.IPAddr, b.Dest, b.PresenceID, b.PresenceData,
				b.Accountcode, b.CallState, b.CalleeName, b.CalleeNum, "", "", "")
		}
		row = append(row, make([]string, len(callColumns)-1-len(row))...)
		row = append(row, strconv.FormatInt(i.Created.Unix(), 10))
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// createdText is the created column: the channel's creation time in the
// switch's local time, as Event-Date-Local spells it.
func createdText(env Env, i session.ChannelInfo) string {
	return i.Created.In(now(env).Location()).Format("2006-01-02 15:04:05")
}

// rateText prints a rate column: empty before media.
func rateText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// switchName is the hostname column: the switchname global, or else the
// host name.
func switchName(env Env) string {
	if snap := env.Snapshot(); snap != nil {
		if v, ok := snap.Global("switchname"); ok && v != "" {
			return v
		}
	}
	h, _ := hostname(context.Background(), env, "")
	return h
}

// anyLike reports whether one of values matches the LIKE pattern.
func anyLike(pattern string, values ...string) bool {
	for _, v := range values {
		if like(pattern, v) {
			return true
		}
	}
	return false
}

// like matches s against an SQL LIKE pattern as SQLite does: '%' matches
// any run of characters, '_' any one character, and ASCII letters match
// regardless of case.
func like(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	// Iterative matching with backtracking to the last '%'.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && p[pi] == '%':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '_' || foldASCII(p[pi]) == foldASCII(str[si])):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

func foldASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}
