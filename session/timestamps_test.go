package session

import (
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/caller"
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
