package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/switchboard-voip/switchboard/e2e/harness"
	"github.com/switchboard-voip/switchboard/internal/priority"
)

// The kernel's policy numbers (x/sys/unix names SCHED_FIFO only).
const (
	schedOther = 0
	schedFIFO  = unix.SCHED_FIFO
)

// threadPolicies reads the scheduling policy of each of pid's threads.
func threadPolicies(t *testing.T, pid int) map[int]uint32 {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		t.Fatalf("threads of %d: %v", pid, err)
	}
	out := make(map[int]uint32)
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		a, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue // ended meanwhile
		}
		out[tid] = a.Policy
	}
	return out
}

// TestPriority checks run's --priority on the real binary: by default the
// media pacers, and only they, run at SCHED_FIFO (the rest of the switch
// stays an ordinary process); -np leaves every thread alone, as
// FreeSWITCH's -np does; a refusal (no permission) is a warning, and the
// switch still starts.
func TestPriority(t *testing.T) {
	requireRun(t)
	cases := []struct {
		name string
		args []string
		fifo bool // the pacers at SCHED_FIFO (when permitted)
	}{
		{"default", nil, true},
		{"np", []string{"-np"}, false},
		{"normal", []string{"--priority", "normal"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sw := harness.Start(t, harness.Options{
				Binary:  build.bin,
				ConfDir: filepath.Join("testdata", "conf"),
				Args:    c.args,
			})
			v, err := sw.Vars(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var m struct{ Pacers int }
			if err := json.Unmarshal(v.All["media"], &m); err != nil || m.Pacers < 1 {
				t.Fatalf("media pacers in /debug/vars: %d (%v)", m.Pacers, err)
			}
			pol := threadPolicies(t, sw.PID())
			fifo, other := 0, 0
			for _, p := range pol {
				switch p {
				case schedFIFO:
					fifo++
				case schedOther:
					other++
				}
			}
			switch {
			case c.fifo && priority.Probe() == nil: // the switch runs with our permissions
				if fifo != m.Pacers {
					t.Errorf("%d threads at SCHED_FIFO; want the %d pacers (policies %v)", fifo, m.Pacers, pol)
				}
			case c.fifo:
				if fifo != 0 || !strings.Contains(sw.Logs(), "media pacer thread setup") {
					t.Errorf("without permission: %d threads at SCHED_FIFO, want 0 and a warning; logs:\n%s", fifo, sw.Logs())
				}
			default:
				if fifo != 0 {
					t.Errorf("%s: %d threads at SCHED_FIFO; want none", c.name, fifo)
				}
			}
			if other < 3 {
				t.Errorf("only %d ordinary threads: the rest of the switch must stay SCHED_OTHER (policies %v)", other, pol)
			}
		})
	}
}
