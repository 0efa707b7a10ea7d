package priority

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// setFIFO puts every thread in SCHED_FIFO at prio. When the kernel
// refuses it for one, the threads already moved go back to SCHED_OTHER,
// so a refusal leaves the process as it was.
func setFIFO(prio uint32) (int, error) {
	done, err := eachThread(func(tid int) error {
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: prio}
		if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
			return fmt.Errorf("SCHED_FIFO %d refused: %w", prio, err)
		}
		return nil
	})
	if err != nil {
		for _, tid := range done {
			attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: schedOther}
			_ = unix.SchedSetAttr(tid, &attr, 0)
		}
	}
	return len(done), err
}

// schedOther is SCHED_OTHER (SCHED_NORMAL), the time-sharing policy;
// x/sys/unix names only the others.
const schedOther = 0

// setNice gives every thread the nice value n. On Linux a nice value
// belongs to a thread, not to the process, so each is set by its id.
func setNice(n int) (int, error) {
	done, err := eachThread(func(tid int) error {
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, n); err != nil {
			return fmt.Errorf("nice %d refused: %w", n, err)
		}
		return nil
	})
	return len(done), err
}

// eachThread calls fn once for every thread of the process, reading
// /proc/self/task again until a pass finds no thread it has not seen: a
// thread started meanwhile by one not yet set would not have inherited
// the setting. It stops at the first error and returns the threads fn
// succeeded for.
func eachThread(fn func(tid int) error) ([]int, error) {
	seen := make(map[int]bool)
	var done []int
	for pass := 0; pass < 10; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return done, fmt.Errorf("listing threads: %w", err)
		}
		fresh := false
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || seen[tid] {
				continue
			}
			seen[tid], fresh = true, true
			if err := fn(tid); err != nil {
				if errors.Is(err, unix.ESRCH) { // the thread ended meanwhile
					continue
				}
				return done, err
			}
			done = append(done, tid)
		}
		if !fresh {
			break
		}
	}
	return done, nil
}

// threadFIFO puts the calling thread in SCHED_FIFO at prio.
func threadFIFO(prio uint32) error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: prio}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return fmt.Errorf("SCHED_FIFO %d for thread %d refused: %w", prio, unix.Gettid(), err)
	}
	return nil
}

// probeFIFO tries SCHED_FIFO 1 on a thread of its own, which exits with
// the goroutine and takes the policy with it.
func probeFIFO() error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends here
		errc <- threadFIFO(1)
	}()
	return <-errc
}
