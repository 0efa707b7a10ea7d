//go:build unix

package commands

import "syscall"

// stackSizes returns the process's stack size limit (current and maximum,
// in bytes), as status prints it.
func stackSizes() (soft, hard uint64, ok bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_STACK, &r); err != nil {
		return 0, 0, false
	}
	return uint64(r.Cur), uint64(r.Max), true
}
