package main

import (
	"flag"
	"log/slog"

	"github.com/switchboard-voip/switchboard/internal/priority"
)

// priorityFlags are run's scheduling options: --priority and FreeSWITCH's
// own -rp/-hp, -np and -lp spellings of it. As in FreeSWITCH, the last
// one on the command line wins.
type priorityFlags struct {
	mode priority.Mode
}

// priorityValue is --priority.
type priorityValue struct{ f *priorityFlags }

func (v priorityValue) String() string {
	if v.f == nil {
		return ""
	}
	return string(v.f.mode)
}

func (v priorityValue) Set(s string) error {
	m, err := priority.ParseMode(s)
	if err != nil {
		return err
	}
	v.f.mode = m
	return nil
}

// priorityAlias is one of -rp, -hp, -np, -lp: a boolean flag that sets
// the mode.
type priorityAlias struct {
	f    *priorityFlags
	mode priority.Mode
}

func (a priorityAlias) IsBoolFlag() bool { return true }
func (a priorityAlias) String() string   { return "false" }

func (a priorityAlias) Set(s string) error {
	if s == "true" {
		a.f.mode = a.mode
	}
	return nil
}

func (f *priorityFlags) register(fs *flag.FlagSet) {
	f.mode = priority.Auto
	fs.Var(priorityValue{f}, "priority", "CPU scheduling: auto (the media pacer threads at SCHED_FIFO 1, the rest left alone), realtime (the whole process at SCHED_FIFO 1, else nice -10: FreeSWITCH's default, which starves other processes under load), normal (leave it) or low (nice 19)")
	fs.Var(priorityAlias{f, priority.Realtime}, "rp", "as FreeSWITCH's -rp: --priority realtime")
	fs.Var(priorityAlias{f, priority.Realtime}, "hp", "as FreeSWITCH's -hp: --priority realtime")
	fs.Var(priorityAlias{f, priority.Normal}, "np", "as FreeSWITCH's -np: --priority normal")
	fs.Var(priorityAlias{f, priority.Low}, "lp", "as FreeSWITCH's -lp: --priority low")
}

// applyPriority sets the process's scheduling for m and logs what
// applied; a refusal is a warning, as FreeSWITCH prints one, never fatal.
// It returns what the media pacer threads run on themselves (nil: they
// are left alone; the media engine logs a pacer's refusal).
func applyPriority(m priority.Mode, log *slog.Logger) func() error {
	r := priority.Apply(m)
	thread := priority.Thread(m)
	pacers := "left alone"
	if thread != nil {
		pacers = "SCHED_FIFO requested"
	}
	switch {
	case r.Refused != nil && r.Applied == "unchanged":
		log.Warn("process priority unchanged", "priority", string(m), "err", r.Refused, "media_pacers", pacers)
	case r.Refused != nil:
		log.Warn("process priority: fell back", "priority", string(m), "applied", r.Applied, "err", r.Refused, "media_pacers", pacers)
	case r.Threads > 0:
		log.Info("process priority", "priority", string(m), "applied", r.Applied, "threads", r.Threads, "media_pacers", pacers)
	default:
		log.Info("process priority", "priority", string(m), "process", "left alone", "media_pacers", pacers)
	}
	return thread
}
