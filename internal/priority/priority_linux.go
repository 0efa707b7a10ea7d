package priority

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// setFIFO puts every thread in SCHED_FIFO at prio.
func setFIFO(prio uint32) (int, error) {
	return eachThread(func(tid int) error {
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: prio}
		if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
			return fmt.Errorf("SCHED_FIFO %d refused: %w", prio, err)
		}
		return nil
	})
}

// setNice gives every thread the nice value n. On Linux a nice value
// belongs to a thread, not to the process, so each is set by its id.
func setNice(n int) (int, error) {
	return eachThread(func(tid int) error {
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, n); err != nil {
			return fmt.Errorf("nice %d refused: %w", n, err)
		}
		return nil
	})
}

// eachThread calls fn once for every thread of the process, reading
// /proc/self/task again until a pass finds no thread it has not seen: a
// thread started meanwhile by one not yet set would not have inherited
// the setting. It stops at the first error.
func eachThread(fn func(tid int) error) (int, error) {
	done := make(map[int]bool)
	for pass := 0; pass < 10; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return len(done), fmt.Errorf("listing threads: %w", err)
		}
		fresh := false
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			fresh = true
			if err := fn(tid); err != nil {
				if errors.Is(err, unix.ESRCH) { // the thread ended meanwhile
					continue
				}
				return len(done), err
			}
			done[tid] = true
		}
		if !fresh {
			return len(done), nil
		}
	}
	return len(done), nil
}

// threadFIFO puts the calling thread in SCHED_FIFO at prio.
func threadFIFO(prio uint32) error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: prio}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return fmt.Errorf("SCHED_FIFO %d for thread %d refused: %w", prio, unix.Gettid(), err)
	}
	return nil
}
