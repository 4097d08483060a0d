package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/turntest"
)

// TestQuickstartTLS runs the quickstart with -tls: the credentials carry a
// turns: URL, whose listener presents a self-signed certificate for
// 127.0.0.1, and a pion client allocates over TLS with them and relays to
// a peer.
func TestQuickstartTLS(t *testing.T) {
	db := filepath.Join(t.TempDir(), "turnkit.db")
	o := options{httpAddr: "127.0.0.1:0", turnAddr: "127.0.0.1:0", turnsAddr: "127.0.0.1:0", dbPath: db,
		selfSignedTLS: true, allowPeers: []string{"127.0.0.3"}}
	out, addr, stop := start(t, o)
	defer stop()
	m := regexp.MustCompile(`(?m)^api key: (tk_[a-z2-7]{32})$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no api key line in the output:\n%s", out)
	}
	// The Baton form on the same path: ttl in seconds, the four URLs.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/credentials", strings.NewReader(`{"ttl": 600}`))
	req.Header.Set("Authorization", "Bearer "+m[1])
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Username   string `json:"username"`
		Credential string `json:"credential"`
		IceServers []struct {
			URLs []string `json:"urls"`
		} `json:"iceServers"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(body.IceServers) != 1 {
		t.Fatalf("credentials: status %d, %+v", res.StatusCode, body)
	}
	var turns string
	for _, u := range body.IceServers[0].URLs {
		if strings.HasPrefix(u, "turns:127.0.0.1:") && strings.HasSuffix(u, "?transport=tcp") {
			turns = u
		}
	}
	if turns == "" {
		t.Fatalf("URLs %v: no turns: URL", body.IceServers[0].URLs)
	}
	hostPort := strings.TrimSuffix(strings.TrimPrefix(turns, "turns:"), "?transport=tcp")

	// The certificate is self-signed and covers 127.0.0.1: a client that
	// pins it verifies it against itself.
	conn, err := tls.Dial("tcp", hostPort, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec // verified below
	if err != nil {
		t.Fatalf("tls.Dial %s: %v", hostPort, err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("certificate: %v", err)
	}
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil ||
		string(leaf.RawIssuer) != string(leaf.RawSubject) {
		t.Errorf("certificate is not self-signed: %v", err)
	}
	if d := time.Until(leaf.NotAfter); d < 300*24*time.Hour {
		t.Errorf("certificate expires in %s, want about a year", d)
	}
	client := turntest.Dial(t, "", hostPort, conn, body.Username, body.Credential, "turnkit")
	rc, err := turntest.Allocate(t, client)
	if err != nil {
		t.Fatalf("Allocate over TLS: %v", err)
	}
	peer, err := net.ListenPacket("udp4", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := rc.WriteTo([]byte("over tls"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "over tls" {
		t.Fatalf("peer read %q, %v; want the relayed datagram", buf[:n], err)
	}
}

// TestQuickstartTLSFlags: the TLS flags refuse contradictory or partial
// settings before anything starts.
func TestQuickstartTLSFlags(t *testing.T) {
	for name, o := range map[string]options{
		"-tls with -tls-cert":      {selfSignedTLS: true, tlsCert: "c.pem", tlsKey: "k.pem"},
		"-tls-cert without a key":  {tlsCert: "c.pem"},
		"-tls-key without a cert":  {tlsKey: "k.pem"},
		"missing certificate file": {tlsCert: filepath.Join(t.TempDir(), "none.pem"), tlsKey: filepath.Join(t.TempDir(), "none.key")},
	} {
		if _, err := o.relayConfig(slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("%s: relayConfig succeeded, want an error", name)
		}
	}
	rc, err := options{turnAddr: "127.0.0.1:0"}.relayConfig(slog.New(slog.DiscardHandler))
	if err != nil || len(rc.TLSAddrs) != 0 || rc.TLSConfig != nil {
		t.Errorf("without TLS flags: %+v, %v; want no TLS listener", rc, err)
	}
	// A certificate and key from files.
	cert, err := selfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err = options{turnAddr: "127.0.0.1:0", turnsAddr: "127.0.0.1:0", tlsCert: certFile, tlsKey: keyFile}.relayConfig(slog.New(slog.DiscardHandler))
	if err != nil || len(rc.TLSAddrs) != 1 || rc.TLSConfig == nil || len(rc.TLSConfig.Certificates) != 1 ||
		string(rc.TLSConfig.Certificates[0].Certificate[0]) != string(cert.Certificate[0]) {
		t.Errorf("-tls-cert and -tls-key: %v; want the file's certificate on -turns", err)
	}
}
