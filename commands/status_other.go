//go:build !unix

package commands

// stackSizes reports no stack limit where the system has no rlimits;
// status then leaves its last line out, as FreeSWITCH does.
func stackSizes() (soft, hard uint64, ok bool) { return 0, 0, false }
