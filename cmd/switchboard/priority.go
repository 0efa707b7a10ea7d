package main

import (
	"flag"
	"fmt"
	"log/slog"

	"github.com/switchboard-voip/switchboard/internal/priority"
)

// priorityFlags are run's scheduling options: --priority and FreeSWITCH's
// own -rp/-hp, -np and -lp spellings of it.
type priorityFlags struct {
	value          string
	rp, hp, np, lp bool
}

func (f *priorityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.value, "priority", "auto", "CPU scheduling: auto (media pacer threads SCHED_FIFO 1), realtime (the whole process SCHED_FIFO 1, else nice -10: FreeSWITCH's default, which starves other processes under load), normal (leave it) or low (nice 19)")
	fs.BoolVar(&f.rp, "rp", false, "as FreeSWITCH's -rp: --priority realtime")
	fs.BoolVar(&f.hp, "hp", false, "as FreeSWITCH's -hp: --priority realtime")
	fs.BoolVar(&f.np, "np", false, "as FreeSWITCH's -np: --priority normal")
	fs.BoolVar(&f.lp, "lp", false, "as FreeSWITCH's -lp: --priority low")
}

// mode is the mode the flags ask for; two different ones are an error.
func (f *priorityFlags) mode() (priority.Mode, error) {
	m, err := priority.ParseMode(f.value)
	if err != nil {
		return "", err
	}
	set := f.value != "auto" && f.value != ""
	for _, alias := range []struct {
		on   bool
		mode priority.Mode
		name string
	}{{f.rp, priority.Realtime, "-rp"}, {f.hp, priority.Realtime, "-hp"}, {f.np, priority.Normal, "-np"}, {f.lp, priority.Low, "-lp"}} {
		if !alias.on {
			continue
		}
		if set && alias.mode != m {
			return "", fmt.Errorf("%s contradicts --priority %s", alias.name, m)
		}
		m, set = alias.mode, true
	}
	return m, nil
}

// applyPriority sets the process's scheduling for m and logs what
// applied; a refusal is a warning, as FreeSWITCH prints one, never fatal.
// It returns what the media pacer threads run on themselves (nil: they
// are left alone; a pacer logs its own refusal).
func applyPriority(m priority.Mode, log *slog.Logger) func() error {
	r := priority.Apply(m)
	thread := priority.Thread(m)
	pacers := "unchanged"
	if thread != nil {
		pacers = "SCHED_FIFO 1"
	}
	switch {
	case r.Refused != nil && r.Applied == "unchanged":
		log.Warn("process priority unchanged", "priority", string(m), "err", r.Refused, "media_pacers", pacers)
	case r.Refused != nil:
		log.Warn("process priority: fell back", "priority", string(m), "applied", r.Applied, "err", r.Refused, "media_pacers", pacers)
	default:
		log.Info("process priority", "priority", string(m), "applied", r.Applied, "threads", r.Threads, "media_pacers", pacers)
	}
	return thread
}
