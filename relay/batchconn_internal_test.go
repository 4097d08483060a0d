package relay

import (
	"bytes"
	"net"
	"runtime"
	"testing"
	"time"
)

// countingBatch counts the batched reads of the batch beneath it.
type countingBatch struct {
	datagramBatch
	reads int
}

func (b *countingBatch) readBatch() (int, error) {
	b.reads++
	return b.datagramBatch.readBatch()
}

// TestBatchConnReads sends 20 datagrams of different sizes from two
// sources to a socket read in batches of 8, all queued before the first
// read (a loopback send returns once the datagram is in the receiver's
// queue): ReadFrom returns each datagram once, in order, with its source,
// in 3 system calls; a datagram larger than the caller's buffer is cut to
// it, as a plain read cuts it.
func TestBatchConnReads(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("batched reads are implemented on Linux only")
	}
	rx, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	pc := newBatchConn(rx, 8)
	bc, ok := pc.(*batchConn)
	if !ok {
		t.Fatalf("newBatchConn returned %T, want a *batchConn", pc)
	}
	counter := &countingBatch{datagramBatch: bc.batch}
	bc.batch = counter
	var txs []net.PacketConn
	for range 2 {
		tx, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Close()
		txs = append(txs, tx)
	}
	var sent [][]byte
	for i := range 20 {
		msg := bytes.Repeat([]byte{byte(i)}, 1+i*97) // 1 to 1844 bytes
		if _, err := txs[i%2].WriteTo(msg, rx.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, msg)
	}
	buf := make([]byte, 1600)
	for i, msg := range sent {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		want := msg[:min(len(msg), len(buf))]
		if !bytes.Equal(buf[:n], want) {
			t.Fatalf("datagram %d: %d bytes, want %d", i, n, len(want))
		}
		if from.String() != txs[i%2].LocalAddr().String() {
			t.Fatalf("datagram %d from %v, want %v", i, from, txs[i%2].LocalAddr())
		}
	}
	if counter.reads != 3 {
		t.Fatalf("%d batched reads for 20 datagrams in batches of 8, want 3", counter.reads)
	}
	_ = rx.Close()
	if _, _, err := pc.ReadFrom(buf); err == nil {
		t.Fatal("ReadFrom after Close succeeded")
	}
}

// TestBatchConnOff: a batch size below 2, or a socket that is not a
// *net.UDPConn, reads one datagram per call as before.
func TestBatchConnOff(t *testing.T) {
	rx, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if pc := newBatchConn(rx, 1); pc != rx {
		t.Fatalf("batch size 1: %T, want the socket itself", pc)
	}
	fixed := &fixedConn{}
	if pc := newBatchConn(fixed, 16); pc != net.PacketConn(fixed) {
		t.Fatalf("a socket that is not a *net.UDPConn: %T, want it unwrapped", pc)
	}
}

// TestListenerSocketsPerAddr: a relay opens UDPSocketsPerAddr sockets on
// one port, GOMAXPROCS of them by default on Linux, serves each with pion's
// read loop (every socket's allocations relay), reports the address once,
// and reads them in batches.
func TestListenerSocketsPerAddr(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		want int
	}{
		{"default", 0, defaultSocketsPerAddr()},
		{"one", 1, 1},
		{"three", 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS != "linux" && tc.want > 1 {
				tc.want = 1
			}
			s := newFastRelay(t, func(c *Config) { c.UDPSocketsPerAddr = tc.n })
			if runtime.GOOS == "linux" && tc.name == "default" && tc.want != runtime.GOMAXPROCS(0) {
				t.Fatalf("default sockets per address %d, want GOMAXPROCS %d", tc.want, runtime.GOMAXPROCS(0))
			}
			if len(s.packetConns) != tc.want {
				t.Fatalf("%d sockets, want %d", len(s.packetConns), tc.want)
			}
			for _, pc := range s.packetConns {
				if pc.LocalAddr().String() != s.UDPAddrs()[0].String() {
					t.Fatalf("socket on %v, want all on %v", pc.LocalAddr(), s.UDPAddrs()[0])
				}
			}
			if got := s.UDPAddrs(); len(got) != 1 {
				t.Fatalf("UDPAddrs = %v, want the address once", got)
			}
			if got := s.SocketBuffers(); len(got) != 1 {
				t.Fatalf("SocketBuffers = %v, want one", got)
			}
			// The kernel spreads clients over the sockets by a hash of their
			// address: with 12 clients, a socket left unserved would fail
			// about one client in tc.want.
			peer := newUDPEcho(t)
			buf := make([]byte, 64)
			served := map[*guardedPacketConn]bool{}
			for i := range 12 {
				rc := dialFast(t, s, "sockets")
				if _, err := rc.WriteTo([]byte("ping"), peer.pc.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
				if _, _, err := rc.ReadFrom(buf); err != nil {
					t.Fatalf("client %d: echo: %v", i, err)
				}
				if c := s.connAt(rc.LocalAddr()); c != nil && c.listener != nil {
					served[c.listener] = true
					if _, batched := c.listener.PacketConn.(*batchConn); runtime.GOOS == "linux" && !batched {
						t.Fatalf("listener socket read by %T, want batches", c.listener.PacketConn)
					}
				}
			}
			t.Logf("%d sockets, %d of them held the 12 clients' allocations", tc.want, len(served))
		})
	}
}

// TestUDPSocketsPortTaken: sharing a port among a relay's own sockets does
// not let a second relay, or anything else, share it: a relay on a port
// another socket holds fails to start, and so does a second relay on the
// first one's port.
func TestUDPSocketsPortTaken(t *testing.T) {
	held, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cfg := func(addr string) Config {
		return Config{UDPAddrs: []string{addr}, UDPSocketsPerAddr: 2, Secrets: NewStaticSecrets("k1", fastSecret)}
	}
	if s, err := New(cfg(held.LocalAddr().String())); err == nil {
		s.Close()
		t.Fatal("a relay started on a port another socket holds")
	}
	first, err := New(cfg("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if len(first.packetConns) != 2 {
		t.Fatalf("%d sockets, want 2", len(first.packetConns))
	}
	if s, err := New(cfg(first.UDPAddrs()[0].String())); err == nil {
		s.Close()
		t.Fatal("a second relay started on the first one's port")
	}
}
