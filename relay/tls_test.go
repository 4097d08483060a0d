package relay_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// selfSigned returns a certificate for 127.0.0.1 valid for an hour.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "turnkit test"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestTLS: TURN over TLS allocates and relays, and the relay advertises a
// turns: URL.
func TestTLS(t *testing.T) {
	cert := selfSigned(t)
	s := newRelay(t, func(c *relay.Config) {
		c.UDPAddrs, c.TCPAddrs = nil, nil
		c.TLSAddrs = []string{"127.0.0.1:0"}
		c.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	urls := s.URLs()
	if len(urls) != 1 || !strings.HasPrefix(urls[0], "turns:127.0.0.1:") || !strings.HasSuffix(urls[0], "?transport=tcp") {
		t.Fatalf("URLs = %v, want one turns: URL", urls)
	}
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool.AddCert(leaf)
	addr := s.TCPAddrs()[0].String()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("tls.Dial: %v", err)
	}
	user, pass := mint("tls", time.Minute)
	c := turntest.Dial(t, "", addr, conn, user, pass, s.Realm())
	rc, err := allocate(t, c)
	if err != nil {
		t.Fatalf("Allocate over TLS: %v", err)
	}
	peer := echoPeer(t)
	msg := []byte("over tls")
	if _, err := rc.WriteTo(msg, peer); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := rc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != string(msg) {
		t.Fatalf("echo over TLS: %q, %v", buf[:n], err)
	}
}

// echoPeer is a UDP echo server on 127.0.0.3, the address newRelay allows.
func echoPeer(t testing.TB) net.Addr {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	t.Cleanup(func() { _ = pc.Close() })
	return pc.LocalAddr()
}
