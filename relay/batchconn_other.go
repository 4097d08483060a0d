//go:build !linux

package relay

import "net"

// newDatagramBatch returns nil: batched reads are implemented with
// recvmmsg, on Linux only.
func newDatagramBatch(*net.UDPConn, int) datagramBatch { return nil }
