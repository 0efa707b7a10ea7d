// Package priority raises or lowers the CPU scheduling priority of the
// whole process at start-up, as FreeSWITCH does with its -rp, -np and -lp
// options: a media server has to send a packet every 20 ms for every
// call, and on a busy machine the kernel otherwise lets other processes
// run first and the packets go out late.
//
// FreeSWITCH's default (no option) and -rp ask for the real-time policy
// SCHED_FIFO at priority 1 for the whole process and fall back to nice
// -10 when that is refused; -np leaves the priority alone and -lp sets
// nice 19; its timer thread runs at real-time priority. Realtime, Normal
// and Low are those three. Auto, the switch's default, differs: only the
// threads that pace media (Thread) get SCHED_FIFO 1 and the rest of the
// process keeps its priority, because a whole Go process at SCHED_FIFO
// starves every other process on the machine — the runtime's idle
// threads spin before they sleep, and sched_yield does not give way to
// ordinary processes. Measured with SIPp on the same two CPUs (1,500
// media calls, in runs that other work on the machine disturbed too),
// the whole-process setting failed 11–27% of SIPp's calls.
package priority

import (
	"fmt"
	"strings"
)

// Mode is a scheduling choice for the process.
type Mode string

// The modes, named as the run command's --priority values.
const (
	// Auto gives SCHED_FIFO 1 to the media pacer threads only (Thread)
	// and leaves the rest of the process as it is.
	Auto Mode = "auto"
	// Realtime asks for SCHED_FIFO at the lowest real-time priority (1)
	// for the whole process and, when the kernel refuses it, for nice
	// -10 (FreeSWITCH's -rp and default).
	Realtime Mode = "realtime"
	// Normal leaves the scheduling as the process was started with
	// (FreeSWITCH's -np).
	Normal Mode = "normal"
	// Low sets nice 19 (FreeSWITCH's -lp).
	Low Mode = "low"
)

// ParseMode reads a --priority value; "high" is accepted for Realtime,
// as FreeSWITCH takes -hp for -rp.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "realtime", "rt", "high":
		return Realtime, nil
	case "normal":
		return Normal, nil
	case "low":
		return Low, nil
	}
	return "", fmt.Errorf("priority %q: want auto, realtime, normal or low", s)
}

// Result says what Apply did.
type Result struct {
	// Mode is the mode asked for.
	Mode Mode
	// Applied describes the scheduling now in force: "SCHED_FIFO 1",
	// "nice -10", "nice 19" or "unchanged".
	Applied string
	// Threads is the number of the process's threads that were set.
	Threads int
	// Refused is why the first choice (SCHED_FIFO for Realtime) or the
	// only one was refused; nil when it applied. When the fallback
	// applied, Applied names it and Refused still says why SCHED_FIFO
	// did not.
	Refused error
}

// String renders r for a log line.
func (r Result) String() string {
	s := fmt.Sprintf("%s: %s", r.Mode, r.Applied)
	if r.Refused != nil {
		s += fmt.Sprintf(" (%v)", r.Refused)
	}
	return s
}

// Apply sets the scheduling of every thread of the process for m. Threads
// the Go runtime starts later are cloned from these and inherit it.
func Apply(m Mode) Result {
	switch m {
	case Normal, Auto:
		return Result{Mode: m, Applied: "unchanged"}
	case Low:
		n, err := setNice(19)
		if err != nil {
			return Result{Mode: m, Applied: "unchanged", Threads: n, Refused: err}
		}
		return Result{Mode: m, Applied: "nice 19", Threads: n}
	default: // Realtime
		n, err := setFIFO(1)
		if err == nil {
			return Result{Mode: m, Applied: "SCHED_FIFO 1", Threads: n}
		}
		n2, err2 := setNice(-10)
		if err2 != nil {
			return Result{Mode: m, Applied: "unchanged", Threads: n2, Refused: fmt.Errorf("%v; %v", err, err2)}
		}
		return Result{Mode: m, Applied: "nice -10", Threads: n2, Refused: err}
	}
}

// Thread returns what each latency-critical thread — a media pacer,
// locked to its OS thread — runs on itself for m, nil for Normal and
// Low. Auto: SCHED_FIFO 1, above every ordinary thread. Realtime, where
// every thread is at SCHED_FIFO 1 already: SCHED_FIFO 2, so the pacers
// still go first (FreeSWITCH raises its own threads, its timer among
// them, above its real-time process), else 1 where the limit allows no
// more (RLIMIT_RTPRIO 1).
func Thread(m Mode) func() error {
	switch m {
	case Auto:
		return func() error { return threadFIFO(1) }
	case Realtime:
		return func() error {
			if err := threadFIFO(2); err != nil {
				return threadFIFO(1)
			}
			return nil
		}
	}
	return nil
}

// Probe reports whether this process may put a thread in SCHED_FIFO (it
// tries, on a thread of its own that then exits): nil when it may, the
// kernel's refusal otherwise. Root without CAP_SYS_NICE (a container's
// default) may not; an ordinary user with RLIMIT_RTPRIO 1 may.
func Probe() error { return probeFIFO() }
