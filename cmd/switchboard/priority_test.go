package main

import (
	"flag"
	"io"
	"testing"

	"github.com/switchboard-voip/switchboard/internal/priority"
)

// TestPriorityFlags: --priority and FreeSWITCH's -rp/-hp/-np/-lp set one
// mode, the last on the command line winning, as in FreeSWITCH.
func TestPriorityFlags(t *testing.T) {
	cases := []struct {
		args []string
		want priority.Mode
		err  bool
	}{
		{nil, priority.Auto, false},
		{[]string{"-np"}, priority.Normal, false},
		{[]string{"-rp"}, priority.Realtime, false},
		{[]string{"-hp"}, priority.Realtime, false},
		{[]string{"-lp"}, priority.Low, false},
		{[]string{"--priority", "LOW"}, priority.Low, false},
		{[]string{"--priority", "normal", "-rp"}, priority.Realtime, false},
		{[]string{"-rp", "--priority", "auto"}, priority.Auto, false},
		{[]string{"-rp", "-lp"}, priority.Low, false},
		{[]string{"-np=false"}, priority.Auto, false},
		{[]string{"--priority", "max"}, "", true},
	}
	for _, c := range cases {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var pf priorityFlags
		pf.register(fs)
		err := fs.Parse(c.args)
		if (err != nil) != c.err {
			t.Errorf("%v: error %v, want error %v", c.args, err, c.err)
			continue
		}
		if !c.err && pf.mode != c.want {
			t.Errorf("%v: mode %q, want %q", c.args, pf.mode, c.want)
		}
	}
}
