//go:build linux

package relay

import "testing"

// TestUDPReadBatchConfig: UDPReadBatch 1 reads the listener one datagram
// at a time, and the default reads in batches of 16 (on Linux).
func TestUDPReadBatchConfig(t *testing.T) {
	for _, tc := range []struct {
		batch   int
		batched bool
	}{{0, true}, {1, false}, {-1, false}} {
		s := newFastRelay(t, func(c *Config) { c.UDPReadBatch = tc.batch })
		c := s.udpServed[0]
		bc, batched := c.PacketConn.(*batchConn)
		if batched != tc.batched {
			t.Fatalf("UDPReadBatch %d: listener read by %T, batched %v; want %v", tc.batch, c.PacketConn, batched, tc.batched)
		}
		if batched && len(bc.batch.(*mmsgBatch).msgs) != defaultReadBatch {
			t.Fatalf("default batch of %d datagrams, want %d", len(bc.batch.(*mmsgBatch).msgs), defaultReadBatch)
		}
	}
}
