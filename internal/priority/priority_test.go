package priority

import (
	"errors"
	"testing"
)

func TestParseMode(t *testing.T) {
	cases := []struct {
		in   string
		want Mode
		err  bool
	}{
		{"", Auto, false},
		{"auto", Auto, false},
		{"realtime", Realtime, false},
		{"RT", Realtime, false},
		{"high", Realtime, false},
		{" normal ", Normal, false},
		{"low", Low, false},
		{"max", "", true},
	}
	for _, c := range cases {
		got, err := ParseMode(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, error %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestResultString(t *testing.T) {
	cases := []struct {
		r    Result
		want string
	}{
		{Result{Mode: Auto, Applied: "SCHED_FIFO 1"}, "auto: SCHED_FIFO 1"},
		{Result{Mode: Realtime, Applied: "nice -10", Refused: errors.New("SCHED_FIFO 1 refused: operation not permitted")}, "realtime: nice -10 (SCHED_FIFO 1 refused: operation not permitted)"},
	}
	for _, c := range cases {
		if got := c.r.String(); got != c.want {
			t.Errorf("String() = %q; want %q", got, c.want)
		}
	}
}
