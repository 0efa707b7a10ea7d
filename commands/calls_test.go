package commands

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-voip/switchboard/apps"
	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/session"
)

// noted records the data of test_cmd_note, by channel.
var noted sync.Map // uuid → []string (guarded by notedMu)
var notedMu sync.Mutex

func init() {
	apps.Register(apps.App{Name: "test_cmd_note", Flags: apps.SupportNoMedia, Run: func(_ context.Context, ch apps.Channel, data string) error {
		s := ch.(apps.Session)
		notedMu.Lock()
		old, _ := noted.Load(s.UUID())
		l, _ := old.([]string)
		noted.Store(s.UUID(), append(l, data))
		notedMu.Unlock()
		return nil
	}})
}

func notes(uuid string) []string {
	notedMu.Lock()
	defer notedMu.Unlock()
	l, _ := noted.Load(uuid)
	out, _ := l.([]string)
	return append([]string(nil), out...)
}

func TestCallCommandsNeedARunningSwitch(t *testing.T) {
	env := newEnv(t)
	for _, tt := range []struct{ cmd, args string }{
		{"uuid_kill", "x"}, {"uuid_transfer", "x 100"}, {"uuid_getvar", "x v"}, {"uuid_setvar", "x v 1"},
		{"uuid_setvar_multi", "x a=1"}, {"uuid_dump", "x"}, {"uuid_exists", "x"}, {"uuid_break", "x"},
		{"uuid_broadcast", "x y"}, {"uuid_send_dtmf", "x 1"}, {"uuid_answer", "x"}, {"uuid_park", "x"},
		{"uuid_hold", "x"}, {"hupall", ""}, {"fsctl", "pause"}, {"fsctl", "loglevel"}, {"console", "loglevel"},
		{"sched_api", "+1 g status"}, {"sched_hangup", "+1 x"}, {"sched_del", "1"}, {"hash", "select/a/b"},
		{"db", "select/a/b"},
	} {
		name := strings.Fields(tt.cmd + " " + tt.args)
		want := "-ERR " + tt.cmd + " needs a running switch\n"
		if tt.cmd == "fsctl" || tt.cmd == "console" {
			want = "-ERR " + tt.cmd + " " + name[1] + " needs a running switch\n"
		}
		if got := run(env, tt.cmd, tt.args); got != want {
			t.Errorf("%s %s offline = %q, want %q", tt.cmd, tt.args, got, want)
		}
	}
}

func TestUUIDKill(t *testing.T) {
	env := newLive(t)
	tests := []struct {
		args  string
		want  string
		cause cause.Cause
	}{
		{"", "-USAGE: <uuid> [cause]\n", 0},
		{"nosuch", noChannel, 0},
		{"{uuid}", "+OK\n", cause.CNormalClearing},
		{"{uuid} USER_BUSY", "+OK\n", cause.CUserBusy},
		{"{uuid} 17", "+OK\n", cause.CUserBusy},
		{"{uuid} no_such_cause", "+OK\n", cause.CNormalClearing},
	}
	for _, tt := range tests {
		var s *session.Session
		args := tt.args
		if strings.Contains(args, "{uuid}") {
			s, _ = startCall(t, env, "park", "1000", session.CSPark)
			args = strings.Replace(args, "{uuid}", s.UUID(), 1)
		}
		if got := run(env, "uuid_kill", args); got != tt.want {
			t.Errorf("uuid_kill %s = %q, want %q", tt.args, got, tt.want)
		}
		if s != nil {
			waitEnded(t, s)
			if s.HangupCause() != tt.cause {
				t.Errorf("uuid_kill %s: cause %v, want %v", tt.args, s.HangupCause(), tt.cause)
			}
		}
	}
}

func TestUUIDVariables(t *testing.T) {
	env := newLive(t)
	s, _ := startCall(t, env, "park", "1000", session.CSPark)
	id := s.UUID()
	s.Vars().SetArray("list", []string{"x", "y"})
	steps := []struct{ cmd, args, want string }{
		{"uuid_getvar", "", "-USAGE: <uuid> <var>\n"},
		{"uuid_getvar", id, "-USAGE: <uuid> <var>\n"},
		{"uuid_getvar", "nosuch v", noChannel},
		{"uuid_getvar", id + " nosuch", "_undef_"},
		{"uuid_setvar", id + " greeting hello big world", "+OK\n"},
		{"uuid_getvar", id + " greeting", "hello big world"},
		{"uuid_getvar", id + " GREETING", "hello big world"},
		{"uuid_getvar", id + " destination_number", "park"},
		{"uuid_getvar", id + " domain", "example.com"},
		{"uuid_getvar", id + " list[1]", "y"},
		{"uuid_getvar", id + " list[5]", "_undef_"},
		{"uuid_getvar", id + " greeting[0]", "_undef_"},
		{"uuid_setvar", id + " greeting", "+OK\n"},
		{"uuid_getvar", id + " greeting", "_undef_"},
		{"uuid_setvar", id, "-USAGE: " + setvarUsage + "\n"},
		{"uuid_setvar", "nosuch a b", noChannel},
		{"uuid_setvar", id + " '' x", "-ERR No variable specified\n"},
		{"uuid_setvar_multi", "", "-USAGE: " + setvarMultiUsage + "\n"},
		{"uuid_setvar_multi", id, ""},
		{"uuid_setvar_multi", "nosuch a=1", noChannel + "-USAGE: " + setvarMultiUsage + "\n"},
		{"uuid_setvar_multi", id + " a=1;b=two words;c", "+OK\n"},
		{"uuid_getvar", id + " b", "two words"},
		{"uuid_setvar_multi", id + " =1;a=", "-ERR No variable specified\n+OK\n"},
		{"uuid_getvar", id + " a", "_undef_"},
		{"uuid_setvar_multi", id + " =1", "-ERR No variable specified\n-USAGE: " + setvarMultiUsage + "\n"},
		{"uuid_exists", id, "true"},
		{"uuid_exists", "nosuch", "false"},
		{"uuid_exists", "", "false"},
	}
	for _, st := range steps {
		if got := run(env, st.cmd, st.args); got != st.want {
			t.Errorf("%s %s = %q, want %q", st.cmd, st.args, got, st.want)
		}
	}
}

func TestUUIDDump(t *testing.T) {
	env := newLive(t)
	s, _ := startCall(t, env, "park", "1000", session.CSPark)
	id := s.UUID()
	s.Vars().Set("note", "a b&c")
	txt := run(env, "uuid_dump", id)
	for _, want := range []string{"Event-Name: CHANNEL_DATA\n", "Unique-ID: " + id + "\n", "Caller-Destination-Number: park\n", "variable_note: a%20b%26c\n"} {
		if !strings.Contains(txt, want) {
			t.Errorf("uuid_dump has no %q:\n%s", want, txt)
		}
	}
	if !strings.HasSuffix(txt, "\n\n") {
		t.Errorf("uuid_dump does not end with a blank line: %q", txt[max(0, len(txt)-20):])
	}
	if plain := run(env, "uuid_dump", id+" plain"); !strings.Contains(plain, "variable_note: [a b&c]\n") {
		t.Errorf("uuid_dump plain:\n%s", plain)
	}
	var obj map[string]string
	if err := json.Unmarshal([]byte(run(env, "uuid_dump", id+" json")), &obj); err != nil || obj["Unique-ID"] != id || obj["variable_note"] != "a b&c" {
		t.Errorf("uuid_dump json: %v %v", err, obj)
	}
	if x := run(env, "uuid_dump", id+" XML"); !strings.Contains(x, "<Unique-ID>"+id+"</Unique-ID>") {
		t.Errorf("uuid_dump xml:\n%s", x)
	}
	for args, want := range map[string]string{"": "-USAGE: <uuid> [format]\n", "nosuch": noChannel} {
		if got := run(env, "uuid_dump", args); got != want {
			t.Errorf("uuid_dump %q = %q, want %q", args, got, want)
		}
	}
}

func TestUUIDBreak(t *testing.T) {
	env := newLive(t)
	s, m := startCall(t, env, "play", "1000", session.CSExecute)
	waitFor(t, "the playback", m.isPlaying)
	for args, want := range map[string]string{"": "-USAGE: " + breakUsage + "\n", "nosuch": noChannel} {
		if got := run(env, "uuid_break", args); got != want {
			t.Errorf("uuid_break %q = %q, want %q", args, got, want)
		}
	}
	if got := run(env, "uuid_break", s.UUID()); got != "+OK\n" {
		t.Fatalf("uuid_break = %q", got)
	}
	waitFor(t, "the park after the playback", func() bool { return s.State() == session.CSPark })
	if v, _ := s.Vars().Get("after_play"); v != "FILE PLAYED" {
		t.Errorf("after the break, current_application_response was %q", v)
	}
	// break all also drops what was queued.
	if err := s.Enqueue("test_cmd_note", "first"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the queued note", func() bool { return len(notes(s.UUID())) == 1 })
	if got := run(env, "break", s.UUID()+" all"); got != "+OK\n" {
		t.Errorf("break all = %q", got)
	}
}

func TestUUIDBroadcast(t *testing.T) {
	env := newLive(t)
	s, m := startCall(t, env, "park", "1000", session.CSPark)
	id := s.UUID()
	tests := []struct {
		args  string
		want  string
		notes []string
		plays int
	}{
		{"", "-USAGE: " + broadcastUsage + "\n", nil, 0},
		{id, "-USAGE: " + broadcastUsage + "\n", nil, 0},
		{"nosuch silence_stream://20", "-ERR invalid uuid\n", nil, 0},
		{id + " silence_stream://20", "+OK Message sent\n", nil, 1},
		{id + " silence_stream://20 both", "+OK Message sent\n", nil, 2},
		{id + " silence_stream://20 bleg", "+OK Message sent\n", nil, 2},
		// The third word names the legs: "two" names none.
		{id + " test_cmd_note::one two aleg", "+OK Message sent\n", nil, 2},
		{id + " 'test_cmd_note::one two' aleg", "+OK Message sent\n", []string{"one two"}, 2},
		{id + " no_such_app::x", "-ERR no such application no_such_app\n", []string{"one two"}, 2},
	}
	for _, tt := range tests {
		if got := run(env, "uuid_broadcast", tt.args); got != tt.want {
			t.Errorf("uuid_broadcast %s = %q, want %q", tt.args, got, tt.want)
		}
		settled := func() bool {
			m.mu.Lock()
			plays := m.plays
			m.mu.Unlock()
			return s.QueueLen() == 0 && !m.isPlaying() && plays == tt.plays &&
				strings.Join(notes(id), "|") == strings.Join(tt.notes, "|")
		}
		if !eventually(settled) {
			m.mu.Lock()
			t.Errorf("after uuid_broadcast %s: notes %q and %d playbacks, want %q and %d", tt.args, notes(id), m.plays, tt.notes, tt.plays)
			m.mu.Unlock()
		}
	}
	if got := run(env, "uuid_broadcast", id+" test_cmd_note!user_busy::last"); got != "+OK Message sent\n" {
		t.Errorf("broadcast with a hangup cause = %q", got)
	}
	waitEnded(t, s)
	if c := s.HangupCause(); c != cause.CUserBusy {
		t.Errorf("hangup cause %v after app!cause, want USER_BUSY", c)
	}
	if got := notes(id); got[len(got)-1] != "last" {
		t.Errorf("the application before the hangup did not run: %q", got)
	}
}

func TestUUIDAnswerAndDTMF(t *testing.T) {
	env := newLive(t)
	s, m := startCall(t, env, "park", "1000", session.CSPark)
	id := s.UUID()
	steps := []struct{ cmd, args, want string }{
		{"uuid_send_dtmf", "", "-USAGE: " + sendDTMFUsage + "\n"},
		{"uuid_send_dtmf", id, "-USAGE: " + sendDTMFUsage + "\n"},
		{"uuid_send_dtmf", "nosuch 1", "-ERR Cannot locate session!\n"},
		{"uuid_send_dtmf", id + " 123", "-ERR Operation failed\n"}, // no media before the answer
		{"uuid_answer", "nosuch", "-ERROR\n"},
		{"uuid_answer", id, "+OK\n"},
	}
	for _, st := range steps {
		if got := run(env, st.cmd, st.args); got != st.want {
			t.Errorf("%s %s = %q, want %q", st.cmd, st.args, got, st.want)
		}
	}
	waitFor(t, "the answer", s.Answered)
	if got := run(env, "uuid_send_dtmf", id+" 12#@300"); got != "+OK "+id+" sent DTMF 12#@300.\n" {
		t.Errorf("uuid_send_dtmf = %q", got)
	}
	waitFor(t, "the digits", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return strings.Join(m.dtmf, ",") == "12#"
	})
}

func TestUUIDHold(t *testing.T) {
	env := newLive(t)
	s, _ := startCall(t, env, "play", "1000", session.CSExecute)
	id := s.UUID()
	waitFor(t, "the answer", s.Answered)
	steps := []struct{ args, want, state string }{
		{"", "-USAGE: " + holdUsage + "\n", "ACTIVE"},
		{"nosuch", "-ERR Operation failed\n", "ACTIVE"},
		{"off " + id, "-ERR Operation failed\n", "ACTIVE"},
		{id, "+OK Success\n", "HELD"},
		{id, "-ERR Operation failed\n", "HELD"},
		{"toggle " + id, "+OK Success\n", "UNHELD"},
		{"toggle " + id, "+OK Success\n", "HELD"},
		{"off " + id, "+OK Success\n", "UNHELD"},
	}
	for _, st := range steps {
		if got := run(env, "uuid_hold", st.args); got != st.want {
			t.Errorf("uuid_hold %s = %q, want %q", st.args, got, st.want)
		}
		if cs := s.Info().CallState; cs != st.state {
			t.Errorf("after uuid_hold %s: callstate %s, want %s", st.args, cs, st.state)
		}
	}
}

func TestUUIDTransferAndPark(t *testing.T) {
	env := newLive(t)
	s, m := startCall(t, env, "play", "1000", session.CSExecute)
	id := s.UUID()
	waitFor(t, "the playback", m.isPlaying)
	for args, want := range map[string]string{
		"":                   "-USAGE: " + transferUsage + "\n",
		id:                   "-USAGE: " + transferUsage + "\n",
		"a b c d e f":        noChannel, // five words at most: the last is "e f"
		"nosuch moved":       noChannel,
		id + " -bleg moved":  "+OK\n", // no bridged leg: the call itself moves
		"nosuch -both moved": noChannel,
	} {
		if got := run(env, "uuid_transfer", args); got != want {
			t.Errorf("uuid_transfer %q = %q, want %q", args, got, want)
		}
	}
	waitFor(t, "the transfer", func() bool { v, _ := s.Vars().Get("moved"); return v == "yes" })
	waitFor(t, "the park", func() bool { return s.State() == session.CSPark })
	if info := s.Info(); info.Dest != "moved" || info.InitialDest != "play" {
		t.Errorf("after the transfer: dest %q, initial %q", info.Dest, info.InitialDest)
	}

	// uuid_park ends a playback and parks the call.
	p, pm := startCall(t, env, "play", "1001", session.CSExecute)
	waitFor(t, "the second playback", pm.isPlaying)
	for args, want := range map[string]string{"": "-USAGE: <uuid>\n", "nosuch": noChannel, p.UUID(): "+OK\n"} {
		if got := run(env, "uuid_park", args); got != want {
			t.Errorf("uuid_park %q = %q, want %q", args, got, want)
		}
	}
	waitFor(t, "the park", func() bool { return p.State() == session.CSPark })
	if _, ok := p.Vars().Get("after_play"); ok {
		t.Error("uuid_park let the action list go on")
	}
}

func TestHupall(t *testing.T) {
	env := newLive(t)
	var calls []*session.Session
	for i, group := range []string{"a", "a", "b"} {
		s, _ := startCall(t, env, "park", "100"+string(rune('0'+i)), session.CSPark)
		s.Vars().Set("group", group)
		calls = append(calls, s)
	}
	if got := run(env, "hupall", "USER_BUSY group a"); got != "+OK hangup all channels matching [group]=[a] with cause: USER_BUSY\n" {
		t.Errorf("hupall with a variable = %q", got)
	}
	waitEnded(t, calls[0])
	waitEnded(t, calls[1])
	if !calls[2].Ready() {
		t.Fatal("hupall hung up a call whose variable did not match")
	}
	if got := run(env, "hupall", "normal_clearing group b destination_number park"); got != "+OK hangup all channels matching [group]=[b]... with cause: NORMAL_CLEARING\n" {
		t.Errorf("hupall with two variables = %q", got)
	}
	waitEnded(t, calls[2])
	s, _ := startCall(t, env, "park", "1009", session.CSPark)
	if got := run(env, "hupall", ""); got != "+OK hangup all channels with cause MANAGER_REQUEST\n" {
		t.Errorf("hupall = %q", got)
	}
	waitEnded(t, s)
	if s.HangupCause() != cause.CManagerRequest {
		t.Errorf("hupall cause %v", s.HangupCause())
	}
}

func TestEvalInAChannel(t *testing.T) {
	env := newLive(t)
	s, _ := startCall(t, env, "park", "1000", session.CSPark)
	s.Vars().Set("team", "blue")
	id := s.UUID()
	tests := []struct{ cmd, args, want string }{
		{"eval", "uuid:" + id + " ${variable_team}/${caller-destination-number}/${domain}/${team}", "blue/park/example.com/"},
		{"eval", "uuid:nosuch ${variable_team}${domain}", "example.com"},
		{"expand", "uuid:" + id + " echo ${variable_team}", "blue"},
	}
	for _, tt := range tests {
		if got := run(env, tt.cmd, tt.args); got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.cmd, tt.args, got, tt.want)
		}
	}
}
