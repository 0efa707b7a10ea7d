//go:build !linux

package media

import "time"

// threadSleep sleeps for d; elsewhere than Linux with the runtime's own
// timer.
func threadSleep(d time.Duration) { time.Sleep(d) }
