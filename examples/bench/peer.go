package main

// This file runs coturn's turnutils_peer, the UDP echo peer the message
// loads relay to.

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"time"
)

// echoPeer is a running turnutils_peer on echoPeerIP.
type echoPeer struct {
	proc *child
	port int
}

// startPeer starts turnutils_peer on a free UDP port of echoPeerIP and
// waits until it echoes.
func startPeer(cs *children, path string) (*echoPeer, error) {
	pc, err := net.ListenPacket("udp4", echoPeerIP+":0")
	if err != nil {
		return nil, fmt.Errorf("find a free port on %s: %w", echoPeerIP, err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	p, err := cs.start("turnutils_peer", path, []string{"-L", echoPeerIP, "-p", strconv.Itoa(port)}, startOptions{})
	if err != nil {
		return nil, err
	}
	peer := &echoPeer{proc: p, port: port}
	if err := peer.check(5 * time.Second); err != nil {
		p.stop()
		return nil, p.failure("does not echo", err)
	}
	return peer, nil
}

// addr returns the peer's address.
func (p *echoPeer) addr() *net.UDPAddr {
	return &net.UDPAddr{IP: net.ParseIP(echoPeerIP), Port: p.port}
}

// check sends datagrams to the peer until one comes back, for at most
// wait.
func (p *echoPeer) check(wait time.Duration) error {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer conn.Close()
	probe := []byte("bench echo probe")
	buf := make([]byte, 64)
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if p.proc.exited() {
			return errStopped
		}
		if _, err := conn.WriteTo(probe, p.addr()); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _, err := conn.ReadFrom(buf)
		if err == nil && bytes.Equal(buf[:n], probe) {
			return nil
		}
	}
	return fmt.Errorf("no echo from %s within %s", p.addr(), wait)
}
