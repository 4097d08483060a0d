//go:build linux

package relay

// This file sends the fast path's datagrams (fastpath.go) with a raw
// sendto, and reads relayed sockets with a raw recvfrom: the system calls
// without the Go scheduler's entersyscall and exitsyscall around them,
// through the socket's syscall.RawConn.
//
// Why: a sendto on loopback runs the receiver's side of the stack too and
// can take tens of microseconds under virtualization. For a system call
// that long, the runtime's monitor (sysmon) takes the P away from the
// sending thread and wakes another thread to run it, and the sender must
// win a P back when the call returns: under the relay's load that was a
// fifth of its CPU time (sysmon polling at 20 µs, futex wake-ups, context
// switches). A sendto on a non-blocking UDP socket never blocks, so it can
// run as a raw system call like a short computation: RawConn.Write still
// holds the descriptor against Close and waits in Go's poller if the send
// buffer is full (EAGAIN), as net.UDPConn.WriteTo does.

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// errRawAddr is returned for a destination the raw sender cannot express
// (another family, an IPv6 zone); the caller then sends through the
// socket's WriteTo.
var errRawAddr = errors.New("turnkit: destination not sendable by raw sendto")

// rawSocket is a UDP socket's descriptor, for raw sends.
type rawSocket struct {
	rc     syscall.RawConn
	family int // unix.AF_INET or unix.AF_INET6
}

// newRawSocket returns uc's descriptor, or nil if it cannot be had.
func newRawSocket(uc *net.UDPConn) *rawSocket {
	if uc == nil {
		return nil
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &rawSocket{rc: rc}
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		s.family, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
	}); err != nil || gerr != nil || (s.family != unix.AF_INET && s.family != unix.AF_INET6) {
		return nil
	}
	return s
}

// rawSender is one goroutine's state for raw sends: the datagram and
// destination of the call in progress and its result, read by send, the
// function RawConn.Write calls (bound once, so that a send allocates
// nothing). A rawSender is not safe for concurrent use; the zero value is
// not usable: create one with newRawSender.
type rawSender struct {
	buf   []byte
	sa    unix.RawSockaddrInet6 // or a RawSockaddrInet4 in its first bytes
	salen uintptr
	n     int
	errno syscall.Errno
	send  func(fd uintptr) bool
}

func newRawSender() *rawSender {
	s := &rawSender{}
	s.send = s.sendto
	return s
}

func (s *rawSender) sendto(fd uintptr) bool {
	var p unsafe.Pointer
	if len(s.buf) > 0 {
		p = unsafe.Pointer(&s.buf[0])
	}
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(p), uintptr(len(s.buf)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&s.sa)), s.salen)
	s.n, s.errno = int(r), e
	return e != unix.EAGAIN && e != unix.EINTR // else wait until the socket is writable, and again
}

// sendTo sends p to ap on sock, as net.UDPConn.WriteTo would. It returns
// errRawAddr, having sent nothing, when s or sock is nil or ap is not an
// address sock's family can take.
func (s *rawSender) sendTo(sock *rawSocket, p []byte, ap netip.AddrPort) (int, error) {
	ip := ap.Addr()
	if s == nil || sock == nil || ip.Zone() != "" {
		return 0, errRawAddr
	}
	s.sa = unix.RawSockaddrInet6{}
	switch {
	case sock.family == unix.AF_INET && ip.Unmap().Is4():
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.sa))
		sa.Family = unix.AF_INET
		sa.Addr = ip.Unmap().As4()
		putPort((*[2]byte)(unsafe.Pointer(&sa.Port)), ap.Port())
		s.salen = unix.SizeofSockaddrInet4
	case sock.family == unix.AF_INET6:
		s.sa.Family = unix.AF_INET6
		s.sa.Addr = ip.As16() // an IPv4 address as ::ffff:a.b.c.d, as net does on a dual-stack socket
		putPort((*[2]byte)(unsafe.Pointer(&s.sa.Port)), ap.Port())
		s.salen = unix.SizeofSockaddrInet6
	default:
		return 0, errRawAddr
	}
	s.buf = p
	err := sock.rc.Write(s.send)
	s.buf = nil
	switch {
	case err != nil:
		return 0, err
	case s.errno != 0:
		return 0, s.errno
	}
	return s.n, nil
}

// putPort writes a port in network byte order.
func putPort(b *[2]byte, port uint16) { b[0], b[1] = byte(port>>8), byte(port) }

// rawReceiver is one goroutine's state for raw receives from one socket,
// as rawSender's for sends: a relayed socket's reader (pion's goroutine
// for the allocation) reads with it, without entersyscall, and waits in
// Go's poller when nothing is queued (EAGAIN), with the socket's read
// deadline, as net.UDPConn.ReadFromUDPAddrPort does.
type rawReceiver struct {
	sock  *rawSocket
	buf   []byte
	sa    unix.RawSockaddrInet6
	salen uint32
	n     int
	errno syscall.Errno
	recv  func(fd uintptr) bool
}

// newRawReceiver returns a receiver on sock, or nil if sock is nil.
func newRawReceiver(sock *rawSocket) *rawReceiver {
	if sock == nil {
		return nil
	}
	r := &rawReceiver{sock: sock}
	r.recv = r.recvfrom
	return r
}

func (r *rawReceiver) recvfrom(fd uintptr) bool {
	r.salen = unix.SizeofSockaddrInet6
	var p unsafe.Pointer
	if len(r.buf) > 0 {
		p = unsafe.Pointer(&r.buf[0])
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(p), uintptr(len(r.buf)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&r.sa)), uintptr(unsafe.Pointer(&r.salen)))
	r.n, r.errno = int(n), e
	return e != unix.EAGAIN && e != unix.EINTR // else wait until the socket is readable, and again
}

// readFrom reads one datagram into p, as net.UDPConn.ReadFromUDPAddrPort
// does.
func (r *rawReceiver) readFrom(p []byte) (int, netip.AddrPort, error) {
	r.buf = p
	err := r.sock.rc.Read(r.recv)
	r.buf = nil
	switch {
	case err != nil:
		return 0, netip.AddrPort{}, err
	case r.errno != 0:
		return 0, netip.AddrPort{}, r.errno
	}
	return r.n, r.from(), nil
}

// from decodes the source address of the last datagram.
func (r *rawReceiver) from() netip.AddrPort {
	switch r.sa.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&r.sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), portOf((*[2]byte)(unsafe.Pointer(&sa.Port))))
	case unix.AF_INET6:
		ip := netip.AddrFrom16(r.sa.Addr)
		if r.sa.Scope_id != 0 {
			ip = ip.WithZone(zoneName(int(r.sa.Scope_id)))
		}
		return netip.AddrPortFrom(ip, portOf((*[2]byte)(unsafe.Pointer(&r.sa.Port))))
	}
	return netip.AddrPort{} // refused by the peer rules as an invalid address
}

// portOf reads a port in network byte order.
func portOf(b *[2]byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

// zoneName names an IPv6 zone as net does: the interface's name, else the
// index in decimal.
func zoneName(index int) string {
	if ifi, err := net.InterfaceByIndex(index); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(index)
}
