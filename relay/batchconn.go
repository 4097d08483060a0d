package relay

// This file reads UDP listener sockets in batches: pion's read loop takes
// one datagram per ReadFrom, and batchConn serves those calls from the
// datagrams one system call read (recvmmsg on Linux, batchconn_linux.go).

import "net"

const (
	// defaultReadBatch is UDPReadBatch's default.
	defaultReadBatch = 16
	// batchDatagram is the size of each datagram buffer of a batch. It is
	// larger than pion's read buffer (1600 bytes), which pion drops a
	// datagram for filling, so a datagram pion would drop still fills
	// pion's buffer when it is copied there.
	batchDatagram = 2048
)

// datagramBatch is what batchConn reads with: a socket that reads several
// datagrams at once into msgs' buffers and returns how many it read, each
// with its length and source address.
type datagramBatch interface {
	readBatch() (int, error)
	datagram(i int) ([]byte, net.Addr)
}

// batchConn is a UDP listener socket whose ReadFrom returns, one by one,
// the datagrams that one batched read returned, copied into the caller's
// buffer; a datagram longer than the buffer is cut to it, as a plain read
// cuts it. Every other method is the socket's. ReadFrom is not safe for
// concurrent use: the relay's listener sockets have one reader, pion's
// read loop.
type batchConn struct {
	*net.UDPConn
	batch   datagramBatch
	next, n int // batch datagrams [next, n) are not returned yet
}

// newBatchConn returns pc reading up to size datagrams per system call,
// or pc itself where batches are not available (size below 2, a socket
// that is not a *net.UDPConn, a platform without recvmmsg).
func newBatchConn(pc net.PacketConn, size int) net.PacketConn {
	uc, ok := pc.(*net.UDPConn)
	if !ok || size < 2 {
		return pc
	}
	b := newDatagramBatch(uc, size)
	if b == nil {
		return pc
	}
	return &batchConn{UDPConn: uc, batch: b}
}

// ReadFrom returns the next datagram of the current batch, reading a new
// batch when it is spent.
func (c *batchConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for c.next == c.n {
		n, err := c.batch.readBatch()
		if err != nil {
			return 0, nil, err
		}
		c.next, c.n = 0, n
	}
	d, addr := c.batch.datagram(c.next)
	c.next++
	return copy(p, d), addr, nil
}
