package relay

import "encoding/binary"

// padChannelData returns p padded to a multiple of four bytes when p is one
// whole ChannelData message whose length is not: over TCP and TLS, RFC 8656
// section 12.5 requires the padding, and pion's server leaves it out, which
// breaks the client's framing after the first odd-sized payload. Anything
// else is returned as is. buf is scratch space that is reused when large
// enough.
func padChannelData(p, buf []byte) []byte {
	if !needsPadding(p) {
		return p
	}
	padded := (len(p) + 3) &^ 3 // len(p) = 4 + the payload's length
	if cap(buf) < padded {
		buf = make([]byte, padded)
	}
	buf = buf[:padded]
	copy(buf, p)
	clear(buf[len(p):])
	return buf
}

// needsPadding reports whether padChannelData would pad p.
func needsPadding(p []byte) bool {
	if len(p) < 4 || p[0]&0xC0 != 0x40 {
		return false // not ChannelData (channel numbers are 0x4000-0x7FFF)
	}
	n := int(binary.BigEndian.Uint16(p[2:4]))
	return len(p) == 4+n && n%4 != 0
}
