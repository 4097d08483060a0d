//go:build !linux

package relay

import (
	"errors"
	"net"
	"net/netip"
)

// errRawAddr is returned by every raw send off Linux: the caller sends
// through the socket's WriteTo.
var errRawAddr = errors.New("turnkit: raw sends are implemented on Linux only")

// rawSocket is not available off Linux.
type rawSocket struct{}

func newRawSocket(*net.UDPConn) *rawSocket { return nil }

// rawSender sends nothing off Linux.
type rawSender struct{}

func newRawSender() *rawSender { return nil }

func (*rawSender) sendTo(*rawSocket, []byte, netip.AddrPort) (int, error) { return 0, errRawAddr }

// rawReceiver receives nothing off Linux.
type rawReceiver struct{}

func newRawReceiver(*rawSocket) *rawReceiver { return nil }

func (*rawReceiver) readFrom([]byte) (int, netip.AddrPort, error) {
	return 0, netip.AddrPort{}, errRawAddr
}
