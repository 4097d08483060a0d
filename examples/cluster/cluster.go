package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/pgtest"
)

// nodeEnv marks the environment of a node process, so that a test binary
// re-executed as a node runs main.
const nodeEnv = "TURNKIT_CLUSTER_NODE"

// child is a node process the cluster started.
type child struct {
	name  string
	cmd   *exec.Cmd
	ready string // the node's "ready" line
	done  chan error
}

// runCluster starts the database (unless given), the four nodes and the
// demonstration, and serves until ctx is done (or, with -demo, returns
// after the demonstration). It stops every process it started, by PID.
func runCluster(ctx context.Context, o options, stdout io.Writer, log *slog.Logger) (err error) {
	if o.db == "" {
		say(stdout, "starting a throwaway PostgreSQL server...")
		srv, err := pgtest.Start(ctx, pgtest.Config{Durable: true})
		if err != nil {
			return fmt.Errorf("start PostgreSQL (or pass -db): %w", err)
		}
		defer func() { err = errors.Join(err, srv.Stop()) }()
		name, err := srv.CreateDatabase(ctx)
		if err != nil {
			return err
		}
		o.db = srv.DSN(name)
		say(stdout, "PostgreSQL   %s (data in %s)", o.db, srv.Dir())
	}
	// The parent opens the database first: the schema is applied once, and
	// the demo app is created here.
	admin, err := turnkit.Open(ctx, turnkit.Config{PostgresDSN: o.db, NoRelay: true, Logger: log})
	if err != nil {
		return err
	}
	defer admin.Close()
	app, err := admin.CreateApp(ctx, turnkit.NewApp{Name: "cluster demo"})
	if err != nil {
		return err
	}

	var children []*child
	defer func() {
		for _, c := range children {
			c.stop()
		}
	}()
	for _, n := range []struct{ name, role, region string }{
		{"relay 1", "relay", "eu-central"}, {"relay 2", "relay", "us-east"},
		{"issuer 1", "issuer", ""}, {"issuer 2", "issuer", ""},
	} {
		c, err := startChild(ctx, o, n.name, n.role, n.region)
		if err != nil {
			return err
		}
		children = append(children, c)
	}
	issuers := map[string]string{}
	for _, c := range children {
		say(stdout, "%-12s %s (pid %d)", c.name, strings.TrimPrefix(c.ready, "ready "), c.cmd.Process.Pid)
		if f := strings.Fields(c.ready); f[1] == "issuer" {
			issuers[c.name] = f[3]
		}
	}
	say(stdout, "demo app     %s, API key %s", app.App.ID, app.Key)
	if err := demonstrate(ctx, stdout, admin, app, []string{issuers["issuer 1"], issuers["issuer 2"]}); err != nil {
		return err
	}
	if o.demoOnly {
		return nil
	}
	say(stdout, "the fleet is running; stop it with Ctrl-C")
	<-ctx.Done()
	return nil
}

// startChild starts a node process and waits for its ready line.
func startChild(ctx context.Context, o options, name, role, region string) (*child, error) {
	args := []string{"-role", role, "-db", o.db, "-region", region}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), nodeEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "ready ") {
				lines <- s.Text()
			}
		}
		c.done <- cmd.Wait()
	}()
	timer := time.NewTimer(o.wait)
	defer timer.Stop()
	select {
	case c.ready = <-lines:
		return c, nil
	case err := <-c.done:
		c.done <- err
		return nil, fmt.Errorf("%s exited before it was ready: %v", name, err)
	case <-timer.C:
		c.stop()
		return nil, fmt.Errorf("%s not ready within %s", name, o.wait)
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

// stop ends the node: SIGTERM by its PID, SIGKILL after 10 seconds.
func (c *child) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case err := <-c.done:
		c.done <- err
	case <-timer.C:
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}
