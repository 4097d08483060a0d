package main

// This file describes the machine and the software a run measured on.

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// machineInfo is what the report says about where it ran.
type machineInfo struct {
	cpus    int
	model   string
	kernel  string
	goVer   string
	coturn  string // turnserver --version, or empty
	bufMax  string // net.core.rmem_max / wmem_max
	release string // the OS, from /etc/os-release
	// revision is the turnkit commit the bench was built from, with
	// "+changes" when the working tree had uncommitted changes.
	revision string
}

func describeMachine(turnserver string) machineInfo {
	m := machineInfo{cpus: runtime.NumCPU(), goVer: runtime.Version()}
	m.model = firstField("/proc/cpuinfo", "model name")
	m.kernel = strings.TrimSpace(readText("/proc/sys/kernel/osrelease"))
	m.release = strings.Trim(firstField("/etc/os-release", "PRETTY_NAME"), `"`)
	r := strings.TrimSpace(readText("/proc/sys/net/core/rmem_max"))
	w := strings.TrimSpace(readText("/proc/sys/net/core/wmem_max"))
	if r != "" || w != "" {
		m.bufMax = r + " / " + w
	}
	m.revision = revision()
	if turnserver != "" {
		out, _ := exec.Command(turnserver, "--version").Output()
		m.coturn = strings.TrimSpace(firstLine(string(out)))
	}
	return m
}

func (m machineInfo) String() string {
	var parts []string
	if m.model != "" {
		parts = append(parts, m.model)
	}
	parts = append(parts, strconv.Itoa(m.cpus)+" CPUs (runtime.NumCPU)")
	if m.kernel != "" {
		parts = append(parts, "Linux "+m.kernel)
	}
	if m.release != "" {
		parts = append(parts, m.release)
	}
	return strings.Join(parts, ", ")
}

func readText(path string) string {
	raw, _ := os.ReadFile(path)
	return string(raw)
}

// firstField returns the value of the first "key: value" or "key=value"
// line of a file.
func firstField(path, key string) string {
	sc := bufio.NewScanner(strings.NewReader(readText(path)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, key) {
			continue
		}
		rest := strings.TrimSpace(strings.TrimPrefix(line, key))
		if rest != "" && (rest[0] == ':' || rest[0] == '=') {
			return strings.TrimSpace(rest[1:])
		}
	}
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// loadAverage returns the 1, 5 and 15 minute load averages of
// /proc/loadavg, or "" where there is none.
func loadAverage() string {
	f := strings.Fields(readText("/proc/loadavg"))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// revision returns the commit the binary was built from: from its build
// information when go build stamped it, else from git in the working
// directory; "" when neither knows.
func revision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if len(rev) >= 12 {
			if modified == "true" {
				return rev[:12] + "+changes"
			}
			return rev[:12]
		}
	}
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += "+changes"
	}
	return rev
}
