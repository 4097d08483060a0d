//go:build !linux

package relay

import "net"

// defaultSocketsPerAddr is UDPSocketsPerAddr's default off Linux, where
// SO_REUSEPORT does not spread datagrams over the sockets of a port.
func defaultSocketsPerAddr() int { return 1 }

// listenUDP opens one UDP socket on addr: off Linux, UDPSocketsPerAddr is
// taken as 1.
func listenUDP(addr string, _ int) ([]net.PacketConn, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	return []net.PacketConn{pc}, nil
}
