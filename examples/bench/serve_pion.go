package main

// This file runs a bare pion/turn v5 relay: what turnkit is built on, with
// the same socket buffers and peer rule as turnkit's relay and nothing else
// (no admission, no quotas, no metering, no store).

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// The socket buffers turnkit's relay asks for by default (relay.Config's
// ListenerBufferBytes and RelayBufferBytes), asked of pion's sockets too.
const (
	listenerBufferBytes = 2 << 20
	relayedBufferBytes  = 512 << 10
)

// benchRealm is the TURN realm of every relay under test.
const benchRealm = "turnkit"

// pionRelay is a bare pion/turn server in server mode.
type pionRelay struct {
	srv    *turn.Server
	udp    net.PacketConn
	tcp    net.Listener
	secret string
}

func startPion() (*pionRelay, error) {
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	p := &pionRelay{secret: base64.RawURLEncoding.EncodeToString(secret)}
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pion: listen udp: %w", err)
	}
	setBuffers(udp, listenerBufferBytes)
	tcp, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("pion: listen tcp: %w", err)
	}
	p.udp, p.tcp = udp, tcp
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	gen := &bufferedGenerator{static: turn.RelayAddressGeneratorStatic{
		RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1",
	}}
	peer := net.ParseIP(echoPeerIP)
	permit := func(_ net.Addr, ip net.IP) bool { return ip.Equal(peer) }
	p.srv, err = turn.NewServer(turn.ServerConfig{
		Realm:         benchRealm,
		AuthHandler:   turn.LongTermTURNRESTAuthHandler(p.secret, quiet.NewLogger("auth")),
		LoggerFactory: quiet,
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: udp, RelayAddressGenerator: gen, PermissionHandler: permit,
		}},
		ListenerConfigs: []turn.ListenerConfig{{
			Listener: tcp, RelayAddressGenerator: gen, PermissionHandler: permit,
		}},
	})
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, fmt.Errorf("pion: turn.NewServer: %w", err)
	}
	return p, nil
}

func (p *pionRelay) info() readyInfo {
	return readyInfo{UDP: p.udp.LocalAddr().String(), TCP: p.tcp.Addr().String(), Secret: p.secret}
}

func (p *pionRelay) Close() error { return p.srv.Close() }

// bufferedGenerator is pion's static relay address generator with the
// relayed UDP sockets' buffers set as turnkit sets them.
type bufferedGenerator struct {
	static turn.RelayAddressGeneratorStatic
}

var _ turn.RelayAddressGenerator = (*bufferedGenerator)(nil)

func (g *bufferedGenerator) Validate() error { return g.static.Validate() }

func (g *bufferedGenerator) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	pc, addr, err := g.static.AllocatePacketConn(conf)
	if err == nil {
		setBuffers(pc, relayedBufferBytes)
	}
	return pc, addr, err
}

func (g *bufferedGenerator) AllocateListener(conf turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return g.static.AllocateListener(conf)
}

func (g *bufferedGenerator) AllocateConn(conf turn.AllocateConnConfig) (net.Conn, error) {
	return g.static.AllocateConn(conf)
}

// setBuffers asks for n-byte receive and send buffers on a UDP socket; the
// kernel may grant less (net.core.rmem_max and wmem_max).
func setBuffers(pc net.PacketConn, n int) {
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(n)
		_ = uc.SetWriteBuffer(n)
	}
}
