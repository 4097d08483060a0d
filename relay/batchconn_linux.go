//go:build linux

package relay

import (
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// mmsgBatch reads datagrams with recvmmsg through golang.org/x/net's
// ReadBatch. x/net parses each source address into a new *net.UDPAddr
// (two allocations a datagram, as net.UDPConn.ReadFrom makes); pion keeps
// the address of a request, so it must be new anyway for what goes to
// pion.
type mmsgBatch struct {
	read func([]ipv4.Message, int) (int, error)
	msgs []ipv4.Message // ipv4.Message and ipv6.Message are one type
}

// newDatagramBatch returns a batch of size datagrams on uc.
func newDatagramBatch(uc *net.UDPConn, size int) datagramBatch {
	b := &mmsgBatch{msgs: make([]ipv4.Message, size)}
	if ap, ok := addrPortOf(uc.LocalAddr()); ok && ap.Addr().Is4() {
		b.read = ipv4.NewPacketConn(uc).ReadBatch
	} else {
		b.read = ipv6.NewPacketConn(uc).ReadBatch
	}
	bufs := make([]byte, size*batchDatagram)
	for i := range b.msgs {
		b.msgs[i].Buffers = [][]byte{bufs[i*batchDatagram : (i+1)*batchDatagram : (i+1)*batchDatagram]}
	}
	return b
}

func (b *mmsgBatch) readBatch() (int, error) { return b.read(b.msgs, 0) }

func (b *mmsgBatch) datagram(i int) ([]byte, net.Addr) {
	m := &b.msgs[i]
	return m.Buffers[0][:m.N], m.Addr
}
