//go:build !linux

package priority

import (
	"fmt"
	"runtime"
)

func setFIFO(uint32) (int, error) {
	return 0, fmt.Errorf("SCHED_FIFO not supported on %s", runtime.GOOS)
}

func setNice(int) (int, error) {
	return 0, fmt.Errorf("per-thread nice not supported on %s", runtime.GOOS)
}

func threadFIFO(uint32) error {
	return fmt.Errorf("SCHED_FIFO not supported on %s", runtime.GOOS)
}

func probeFIFO() error { return threadFIFO(1) }
