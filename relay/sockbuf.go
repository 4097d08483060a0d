package relay

import "syscall"

// bufferSetter is what setBuffers needs of a socket.
type bufferSetter interface {
	SetReadBuffer(bytes int) error
	SetWriteBuffer(bytes int) error
	SyscallConn() (syscall.RawConn, error)
}

// SocketBuffer reports the buffer sizes one listener socket was granted.
type SocketBuffer struct {
	// Addr is the listener's local address.
	Addr string
	// Requested is the size asked for, in bytes.
	Requested int
	// Read and Write are the receive and send buffer sizes as the kernel
	// reports them after the request (Linux reports twice the usable size:
	// it counts its bookkeeping). Zero when the platform cannot tell.
	Read, Write int
}

// setBuffers asks for n-byte receive and send buffers and returns what the
// kernel granted. Errors are not fatal: the socket keeps working on the
// kernel's default buffers, which the returned sizes then show.
func setBuffers(c bufferSetter, n int) (read, write int) {
	_ = c.SetReadBuffer(n)
	_ = c.SetWriteBuffer(n)
	return grantedBuffers(c)
}
