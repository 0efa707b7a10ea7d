package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// ErrNoPorts is returned by Engine.Open when every port of the range is in
// use (or cannot be bound).
var ErrNoPorts = errors.New("media: no free RTP port in range")

// portAllocator hands out even UDP ports from [min, max] round-robin, so a
// port just released is reused last: a late packet of the previous call
// is less likely to reach the next one. With min == max == 0 it binds
// ephemeral ports chosen by the kernel.
type portAllocator struct {
	mu    sync.Mutex
	ip    netip.Addr
	first int    // lowest even port
	inUse []bool // indexed by (port-first)/2
	next  int    // index to try first
	used  int
}

func newPortAllocator(ip netip.Addr, lo, hi int) (*portAllocator, error) {
	a := &portAllocator{ip: ip}
	if lo == 0 && hi == 0 {
		return a, nil
	}
	if lo < 1 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("media: bad RTP port range %d-%d", lo, hi)
	}
	first := lo + lo%2
	if first > hi {
		return nil, fmt.Errorf("media: RTP port range %d-%d has no even port", lo, hi)
	}
	a.first = first
	a.inUse = make([]bool, (hi-first)/2+1)
	return a, nil
}

// total is the number of ports in the range (0 when ephemeral).
func (a *portAllocator) total() int { return len(a.inUse) }

func (a *portAllocator) inUseCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

func (a *portAllocator) network() string {
	switch {
	case !a.ip.IsValid():
		return "udp"
	case a.ip.Is4() || a.ip.Is4In6():
		return "udp4"
	default:
		return "udp6"
	}
}

func (a *portAllocator) listen(port int) (*net.UDPConn, error) {
	addr := &net.UDPAddr{Port: port}
	if a.ip.IsValid() {
		addr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(a.ip.Unmap(), uint16(port)))
	}
	return net.ListenUDP(a.network(), addr)
}

// acquire binds the next free port of the range and returns the socket
// and the port; release must be called with that port when done.
func (a *portAllocator) acquire() (*net.UDPConn, int, error) {
	if a.inUse == nil {
		c, err := a.listen(0)
		if err != nil {
			return nil, 0, fmt.Errorf("media: bind RTP socket: %w", err)
		}
		a.mu.Lock()
		a.used++
		a.mu.Unlock()
		return c, c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var lastErr error
	n := len(a.inUse)
	for i := range n {
		idx := (a.next + i) % n
		if a.inUse[idx] {
			continue
		}
		port := a.first + 2*idx
		c, err := a.listen(port)
		if err != nil {
			lastErr = err
			continue
		}
		a.inUse[idx] = true
		a.used++
		a.next = (idx + 1) % n
		return c, port, nil
	}
	if lastErr != nil {
		return nil, 0, fmt.Errorf("%w (%d ports; last error: %v)", ErrNoPorts, n, lastErr)
	}
	return nil, 0, fmt.Errorf("%w (%d ports, all in use)", ErrNoPorts, n)
}

func (a *portAllocator) release(port int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.used--
	if a.inUse == nil {
		return
	}
	if idx := (port - a.first) / 2; idx >= 0 && idx < len(a.inUse) {
		a.inUse[idx] = false
	}
}
