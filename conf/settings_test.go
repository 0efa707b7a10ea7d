package conf

import "testing"

func TestSettings(t *testing.T) {
	s := load(t, Options{})
	sw := s.Settings("switch.conf")
	if sw["max-sessions"] == "" || sw["rtp-start-port"] == "" {
		t.Fatalf("switch.conf settings = %v", sw)
	}
	if got := s.Settings("no-such.conf"); len(got) != 0 {
		t.Errorf("missing configuration gave %v", got)
	}
}
