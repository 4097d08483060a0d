//go:build linux

package relay_test

// This file drives the relay in the test process with coturn's
// turnutils_uclient and turnutils_peer, each in processes of their own, so
// that the process's CPU time and a -cpuprofile are the relay's alone.

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/turnkit/turnkit/relay"
)

// uclientLoad is one message load: sessions of turnutils_uclient, each
// sending one message a millisecond over a channel to turnutils_peer, which
// echoes it back through the relay.
type uclientLoad struct {
	sessions   int           // 1,000 messages/s offered each
	perProcess int           // sessions per uclient process
	payload    int           // message bytes
	window     time.Duration // the measured plateau
}

// uclientResult is what one load measured over its window.
type uclientResult struct {
	delivered float64       // messages/s back at the clients (uclient's counts)
	relayed   float64       // messages/s the relay sent to the clients (Stats)
	cpuPerMsg time.Duration // process CPU time per relayed message
	loss      float64       // 1 - delivered/offered
}

// requireCoturnTools returns the paths of turnutils_uclient and
// turnutils_peer, or skips (fails with TURNKIT_REQUIRE_ALL=1).
func requireCoturnTools(b *testing.B) (uclient, peer string) {
	b.Helper()
	for _, name := range []string{"turnutils_uclient", "turnutils_peer"} {
		path, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("TURNKIT_REQUIRE_ALL") == "1" {
				b.Fatalf("%s is not installed and TURNKIT_REQUIRE_ALL=1 (apt-get install coturn)", name)
			}
			b.Skipf("%s is not installed (apt-get install coturn); skipping", name)
		}
		if name == "turnutils_uclient" {
			uclient = path
		} else {
			peer = path
		}
	}
	return uclient, peer
}

// startTool starts a process that the benchmark stops (by its PID) at
// cleanup. Its output goes to onLine, line by line, if set.
func startTool(b *testing.B, path string, args []string, onLine func(string)) *exec.Cmd {
	b.Helper()
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the benchmark, however it ends
	var out io.ReadCloser
	if onLine != nil {
		var err error
		if out, err = cmd.StdoutPipe(); err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", path, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if out != nil {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				onLine(sc.Text())
			}
		}
		_ = cmd.Wait()
	}()
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd
}

// startEchoPeer starts turnutils_peer on a free port of 127.0.0.3.
func startEchoPeer(b *testing.B, path string) int {
	b.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.3:0")
	if err != nil {
		b.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	_ = pc.Close()
	startTool(b, path, []string{"-L", "127.0.0.3", "-p", strconv.Itoa(port)}, nil)
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 64)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3), Port: port}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		_, _ = conn.WriteTo([]byte("probe"), to)
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, _, err := conn.ReadFrom(buf); err == nil {
			return port
		}
	}
	b.Fatalf("turnutils_peer on port %d does not echo", port)
	return 0
}

var (
	uclientConnected = regexp.MustCompile(`Total connect time is \d+`)
	uclientCounts    = regexp.MustCompile(`tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`)
)

// uclientProc follows one uclient process's count lines.
type uclientProc struct {
	mu        sync.Mutex
	connected bool
	samples   []uclientSample
}

type uclientSample struct {
	at   time.Time
	recv int64
}

func (u *uclientProc) onLine(line string) {
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	if uclientConnected.MatchString(line) {
		u.connected = true
	}
	if m := uclientCounts.FindStringSubmatch(line); m != nil {
		recv, _ := strconv.ParseInt(m[2], 10, 64)
		u.samples = append(u.samples, uclientSample{now, recv})
	}
}

// rate returns the messages/s received between the first count lines at or
// after from and at or after to.
func (u *uclientProc) rate(from, to time.Time) (float64, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var a, z *uclientSample
	for i := range u.samples {
		s := &u.samples[i]
		if a == nil && !s.at.Before(from) {
			a = s
		}
		if z == nil && !s.at.Before(to) {
			z = s
		}
	}
	if a == nil || z == nil || !z.at.After(a.at) {
		return 0, false
	}
	return float64(z.recv-a.recv) / z.at.Sub(a.at).Seconds(), true
}

func (u *uclientProc) isConnected() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.connected
}

// waitLong polls cond every 10 ms for at most 20 seconds: uclient's
// processes compete for the CPU with the load they make.
func waitLong(b *testing.B, what string, cond func() bool) {
	b.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processCPU returns the process's user and system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runUclient runs one load against a fresh relay configured by mod.
func runUclient(b *testing.B, load uclientLoad, mod func(*relay.Config)) uclientResult {
	b.Helper()
	uclient, peerTool := requireCoturnTools(b)
	peerPort := startEchoPeer(b, peerTool)
	s := newRelay(b, func(c *relay.Config) {
		c.TCPAddrs = nil
		c.MaxAllocationsPerUser = 1000 // uclient shares one credential among its sessions
		c.Sink = &recordingSink{}
		if mod != nil {
			mod(c)
		}
	})
	port := strconv.Itoa(s.UDPAddrs()[0].(*net.UDPAddr).Port)
	const ramp = 6200 * time.Millisecond // uclient starts each session 1 to 6 s after connecting
	connectMax := time.Duration(load.perProcess) * 150 * time.Millisecond
	messages := int((ramp + load.window + connectMax + 3*time.Second).Seconds() * 1000)
	var procs []*uclientProc
	for left := load.sessions; left > 0; left -= load.perProcess {
		n := min(left, load.perProcess)
		user, pass := mint("uclient", time.Hour)
		u := &uclientProc{}
		startTool(b, uclient, []string{"-c", "-m", strconv.Itoa(n), "-n", strconv.Itoa(messages),
			"-l", strconv.Itoa(load.payload), "-z", "1", "-e", "127.0.0.3", "-r", strconv.Itoa(peerPort),
			"-L", "127.0.0.1", "-u", user, "-w", pass, "-p", port, "127.0.0.1"}, u.onLine)
		procs = append(procs, u)
	}
	for _, u := range procs {
		waitLong(b, "uclient to connect its sessions", u.isConnected)
	}
	time.Sleep(ramp) // the load's own schedule, not a wait for the relay
	st0, cpu0, t0 := s.Stats(), processCPU(), time.Now()
	time.Sleep(load.window)
	st1, cpu1, t1 := s.Stats(), processCPU(), time.Now()
	var r uclientResult
	secs := t1.Sub(t0).Seconds()
	relayed := st1.PacketsToClient - st0.PacketsToClient
	r.relayed = float64(relayed) / secs
	if relayed > 0 {
		r.cpuPerMsg = (cpu1 - cpu0) / time.Duration(relayed)
	}
	for _, u := range procs {
		waitLong(b, "a count line after the window", func() bool { _, ok := u.rate(t0, t1); return ok })
		v, _ := u.rate(t0, t1)
		r.delivered += v
	}
	r.loss = max(0, 1-r.delivered/float64(load.sessions*1000))
	return r
}

// The loads of BenchmarkRelayUclient: 10, 50 and 100 sessions.
var (
	load10k  = uclientLoad{sessions: 10, perProcess: 10, payload: 1000, window: 3 * time.Second}
	load50k  = uclientLoad{sessions: 50, perProcess: 10, payload: 1000, window: 3 * time.Second}
	load100k = uclientLoad{sessions: 100, perProcess: 10, payload: 1000, window: 3 * time.Second}
)

// BenchmarkRelayUclient measures the relay under coturn's own load tools:
// turnutils_uclient in channel mode, 1000-byte messages, one message a
// millisecond per session, echoed by turnutils_peer on 127.0.0.3, at 10k,
// 50k and 100k messages/s offered. The relay runs with its defaults
// (admission, bitrate cap, metering to a Sink, the fast path, a listener
// socket per core read in batches), and with each of the last three off
// to measure what it brings. Only the relay runs in this process,
// so -cpuprofile profiles it alone and cpu-us/msg is its CPU time per
// message relayed back to a client. Each iteration starts a fresh relay;
// run with -benchtime=1x and compare variants run in alternation.
func BenchmarkRelayUclient(b *testing.B) {
	for _, tc := range []struct {
		name string
		load uclientLoad
		mod  func(*relay.Config)
	}{
		{"rate=10k", load10k, nil},
		{"rate=50k", load50k, nil},
		{"rate=100k", load100k, nil},
		{"rate=50k,fastpath=off", load50k, func(c *relay.Config) { c.DisableFastPath = true }},
		{"rate=50k,sockets=1", load50k, func(c *relay.Config) { c.UDPSocketsPerAddr = 1 }},
		{"rate=50k,batch=off", load50k, func(c *relay.Config) { c.UDPReadBatch = 1 }},
		{"rate=50k,all=off", load50k, func(c *relay.Config) {
			c.DisableFastPath, c.UDPSocketsPerAddr, c.UDPReadBatch = true, 1, 1
		}},
		{"rate=100k,sockets=1", load100k, func(c *relay.Config) { c.UDPSocketsPerAddr = 1 }},
		{"rate=100k,all=off", load100k, func(c *relay.Config) {
			c.DisableFastPath, c.UDPSocketsPerAddr, c.UDPReadBatch = true, 1, 1
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var sum uclientResult
			for range b.N {
				r := runUclient(b, tc.load, tc.mod)
				sum.delivered += r.delivered
				sum.relayed += r.relayed
				sum.cpuPerMsg += r.cpuPerMsg
				sum.loss += r.loss
			}
			n := float64(b.N)
			b.ReportMetric(sum.delivered/n, "delivered/s")
			b.ReportMetric(sum.relayed/n, "relayed/s")
			b.ReportMetric(float64(sum.cpuPerMsg)/1e3/n, "cpu-us/msg")
			b.ReportMetric(100*sum.loss/n, "loss-%")
			b.ReportMetric(0, "ns/op")
		})
	}
}
