package session

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
	"github.com/switchboard-voip/switchboard/vars"
)

func TestTimestamps(t *testing.T) {
	m := newTestManager(t)
	s := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}, Profile: &caller.Profile{CallerIDName: "Jane", CallerIDNumber: "1000"}})
	defer m.remove(s)
	base := time.Date(2026, 11, 25, 21, 0, 0, 999_000_000, time.Local).UnixMicro() // x.999 s
	s.profile.CreatedTime = base
	s.profile.ProfileCreatedTime = base
	s.profile.ProgressMediaTime = base + 500_000 // +0.5 s
	s.profile.AnsweredTime = base + 2_000_500    // +2.0005 s
	s.profile.HungupTime = base + 10_250_000     // +10.25 s
	s.lastApp, s.lastData = "playback", "x.wav"
	s.setTimestamps()
	want := map[string]string{
		"start_stamp":          "2026-11-25 21:00:00",
		"answer_stamp":         "2026-11-25 21:00:02",
		"end_stamp":            "2026-11-25 21:00:11",
		"progress_stamp":       "",
		"duration":             "11", // whole seconds: 21:00:11 - 21:00:00
		"mduration":            "10250",
		"uduration":            "10250000",
		"billsec":              "9",    // 11 - 2
		"billmsec":             "8250", // 11249 - 2999
		"billusec":             "8249500",
		"answersec":            "2",
		"progress_mediasec":    "1",
		"progress_mediamsec":   "500",
		"progresssec":          "0",
		"waitsec":              "0",
		"flow_billsec":         "11",
		"last_app":             "playback",
		"last_arg":             "x.wav",
		"caller_id":            `"Jane" <1000>`,
		"answer_uepoch":        "",
		"progress_media_epoch": "",
	}
	want["answer_uepoch"] = itoa(base + 2_000_500)
	want["progress_media_epoch"] = itoa((base + 500_000) / 1e6)
	for name, w := range want {
		got, ok := s.vars.Get(name)
		if w == "" {
			if ok {
				t.Errorf("%s = %q, want it unset", name, got)
			}
			continue
		}
		if got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// referenceTimestamps is switch_channel_set_timestamps written plainly,
// one variable at a time: what setTimestamps (which formats every value
// into one buffer) must match, name for name and in the same order.
func referenceTimestamps(p caller.Profile, lastApp, lastArg string) [][2]string {
	var out [][2]string
	set := func(name, value string) {
		if value != "" {
			out = append(out, [2]string{name, value})
		}
	}
	created, hungup := p.CreatedTime, p.HungupTime
	moments := []struct {
		name string
		us   int64
	}{
		{"start", created}, {"profile_start", p.ProfileCreatedTime}, {"answer", p.AnsweredTime},
		{"progress", p.ProgressTime}, {"progress_media", p.ProgressMediaTime}, {"end", hungup},
	}
	for _, m := range moments {
		if m.us > 0 {
			set(m.name+"_stamp", time.UnixMicro(m.us).Local().Format(stampFormat))
		}
	}
	for _, m := range moments {
		set(m.name+"_epoch", itoa(m.us/1e6))
		set(m.name+"_uepoch", itoa(m.us))
	}
	set("last_app", lastApp)
	set("last_arg", lastArg)
	set("caller_id", `"`+p.CallerIDName+`" <`+p.CallerIDNumber+`>`)
	since := func(t int64) [3]int64 {
		if t <= 0 {
			return [3]int64{}
		}
		return [3]int64{t/1e6 - created/1e6, t/1e3 - created/1e3, t - created}
	}
	dur := since(hungup)
	var bill, flow [3]int64
	if p.AnsweredTime > 0 {
		bill = [3]int64{hungup/1e6 - p.AnsweredTime/1e6, hungup/1e3 - p.AnsweredTime/1e3, hungup - p.AnsweredTime}
		flow = dur
	}
	ans, prog, pm := since(p.AnsweredTime), since(p.ProgressTime), since(p.ProgressMediaTime)
	for i, unit := range []string{"sec", "msec", "usec"} {
		d := "duration"
		switch unit {
		case "msec":
			d = "mduration"
		case "usec":
			d = "uduration"
		}
		set(d, itoa(dur[i]))
		set("bill"+unit, itoa(bill[i]))
		set("progress"+unit, itoa(prog[i]))
		set("answer"+unit, itoa(ans[i]))
		set("wait"+unit, "0")
		set("progress_media"+unit, itoa(pm[i]))
		set("flow_bill"+unit, itoa(flow[i]))
	}
	return out
}

// TestTimestampsMatchReference: for calls that reached different moments,
// setTimestamps sets exactly the reference's variables, values and order.
func TestTimestampsMatchReference(t *testing.T) {
	base := time.Date(2026, 3, 1, 8, 59, 59, 123_456_000, time.Local).UnixMicro()
	tests := []struct {
		name     string
		p        caller.Profile
		app, arg string
	}{
		{"answered", caller.Profile{CallerIDName: "Jane", CallerIDNumber: "1000", CreatedTime: base, ProfileCreatedTime: base,
			AnsweredTime: base + 1_000_001, HungupTime: base + 61_999_999}, "answer", ""},
		{"unanswered", caller.Profile{CallerIDNumber: "+4930", CreatedTime: base, ProfileCreatedTime: base + 7,
			ProgressTime: base + 250_000, HungupTime: base + 3_000_000}, "", ""},
		{"every moment", caller.Profile{CallerIDName: `A "B"`, CreatedTime: base, ProfileCreatedTime: base,
			ProgressTime: base + 1, ProgressMediaTime: base + 2, AnsweredTime: base + 3, HungupTime: base + 4_000_000_000}, "bridge", "user/1001@${domain}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestManager(t)
			s := m.NewInbound(Inbound{Endpoint: &fakeEndpoint{}, Profile: &caller.Profile{}})
			defer m.remove(s)
			s.vars = vars.NewStore()
			p := tc.p
			s.profile = &p
			s.lastApp, s.lastData = tc.app, tc.arg
			s.setTimestamps()
			var got [][2]string
			s.vars.Range(func(name, value string) bool {
				got = append(got, [2]string{name, value})
				return true
			})
			want := referenceTimestamps(tc.p, tc.app, tc.arg)
			if !slices.Equal(got, want) {
				t.Errorf("variables:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestEpochs: the seconds are the microseconds divided down, whether or
// not they share the microseconds' string.
func TestEpochs(t *testing.T) {
	for _, us := range []int64{0, 1, 999_999, 1_000_000, 1_000_001, 9_999_999_999, 1_764_100_000_123_456, time.Now().UnixMicro()} {
		epoch, uepoch := epochs(us)
		if epoch != itoa(us/1e6) || uepoch != itoa(us) {
			t.Errorf("epochs(%d) = %q, %q; want %q, %q", us, epoch, uepoch, itoa(us/1e6), itoa(us))
		}
	}
}
