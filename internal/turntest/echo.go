package turntest

import (
	"net"
	"testing"
)

// Echo starts a UDP peer on ip, on a port the system picks, that sends
// every datagram back to where it came from until the test ends, and
// returns its address. Tests relay to it through a TURN server: on a
// loopback address other than the relay's (127.0.0.3, say), a relay's
// peer policy can allow it and nothing else.
func Echo(t testing.TB, ip string) net.Addr {
	t.Helper()
	pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	t.Cleanup(func() { _ = pc.Close(); <-done })
	return pc.LocalAddr()
}
