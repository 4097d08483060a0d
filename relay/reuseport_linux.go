//go:build linux

package relay

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// defaultSocketsPerAddr is UDPSocketsPerAddr's default on Linux: one
// socket per P, so that pion runs one read loop per core.
func defaultSocketsPerAddr() int { return runtime.GOMAXPROCS(0) }

// listenUDP opens n UDP sockets on addr. With n > 1 they share the port
// through SO_REUSEPORT, and the kernel spreads datagrams over them by a
// hash of the source address and port, so a client's datagrams always
// reach the same socket while the set of sockets stays the same (Linux
// 3.9+).
//
// A plain socket binds addr first (a port of 0 picks one) and is closed
// before the shared ones bind its address: the bind fails, as it would for
// one socket, when anything holds the port, and another relay started on
// the port later fails the same way, since its plain socket cannot join
// sockets that set SO_REUSEPORT. Only a process of the same user that sets
// SO_REUSEPORT itself can join them.
func listenUDP(addr string, n int) ([]net.PacketConn, error) {
	probe, err := net.ListenPacket("udp", addr)
	if err != nil || n <= 1 {
		if err != nil {
			return nil, err
		}
		return []net.PacketConn{probe}, nil
	}
	bound := probe.LocalAddr().String()
	if err := probe.Close(); err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); cerr != nil {
			return cerr
		}
		if err != nil {
			return fmt.Errorf("set SO_REUSEPORT: %w", err)
		}
		return nil
	}}
	pcs := make([]net.PacketConn, 0, n)
	for range n {
		pc, err := lc.ListenPacket(context.Background(), "udp", bound)
		if err != nil {
			for _, p := range pcs {
				_ = p.Close()
			}
			return nil, err
		}
		pcs = append(pcs, pc)
	}
	return pcs, nil
}
