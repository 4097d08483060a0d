package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"time"

	"github.com/turnkit/turnkit/relay"
)

// relayConfig returns the relay's listeners: UDP and TCP on -turn and,
// with -tls or with -tls-cert and -tls-key, TURN over TLS on -turns, so
// that the credentials carry turns: URLs.
func (o options) relayConfig(log *slog.Logger) (relay.Config, error) {
	rc := relay.Config{UDPAddrs: []string{o.turnAddr}, TCPAddrs: []string{o.turnAddr}, AllowPeers: o.allowPeers}
	var cert tls.Certificate
	switch {
	case o.selfSignedTLS && (o.tlsCert != "" || o.tlsKey != ""):
		return rc, errors.New("-tls makes a certificate: give it or -tls-cert and -tls-key, not both")
	case o.selfSignedTLS:
		c, err := selfSigned(time.Now())
		if err != nil {
			return rc, fmt.Errorf("self-signed certificate: %w", err)
		}
		sum := sha256.Sum256(c.Certificate[0])
		log.Info("TURN over TLS with a self-signed certificate for loopback: clients must pin it", "sha256", hex.EncodeToString(sum[:]))
		cert = c
	case o.tlsCert != "" && o.tlsKey != "":
		c, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return rc, fmt.Errorf("-tls-cert and -tls-key: %w", err)
		}
		cert = c
	case o.tlsCert != "" || o.tlsKey != "":
		return rc, errors.New("-tls-cert and -tls-key go together")
	default:
		return rc, nil
	}
	rc.TLSAddrs = []string{o.turnsAddr}
	rc.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return rc, nil
}

// selfSigned makes, in memory, a certificate for 127.0.0.1, ::1 and
// localhost, valid for a year from now, with a new P-256 key.
func selfSigned(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "turnkit quickstart"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
