package media

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadSleep blocks the calling OS thread for d with nanosleep, which
// the kernel times to the microsecond (to the timer slack, 50 µs for an
// ordinary thread, none for a real-time one). The runtime hands the
// goroutine's processor to other goroutines meanwhile, as for any
// blocking system call, and the goroutine needs one back when it wakes:
// when every processor is busy, that wait is its lateness.
func threadSleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for {
		var left unix.Timespec
		if err := unix.Nanosleep(&ts, &left); err != unix.EINTR {
			return
		}
		ts = left // a signal (the runtime's preemption) cut it short
	}
}
