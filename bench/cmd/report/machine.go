package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine is where and when the benchmarks ran.
type Machine struct {
	Date        string  `json:"date"` // RFC 3339, UTC, of the start of the run
	CPU         string  `json:"cpu"`
	Cores       int     `json:"cores"`
	MemoryGiB   float64 `json:"memoryGiB"`
	OS          string  `json:"os"`
	Kernel      string  `json:"kernel"`
	Arch        string  `json:"arch"`
	Go          string  `json:"go"`
	Node        string  `json:"node"`
	Python      string  `json:"python"`
	Commit      string  `json:"commit"`
	Dirty       bool    `json:"dirty"`
	LoadAtStart string  `json:"loadAtStart"` // /proc/loadavg: 1, 5 and 15 minutes
	LoadAtEnd   string  `json:"loadAtEnd,omitempty"`
	WallSeconds float64 `json:"wallSeconds,omitempty"`
}

// probeMachine describes this machine now.
func probeMachine(root string) Machine {
	m := Machine{
		Date:        time.Now().UTC().Format(time.RFC3339),
		CPU:         cpuModel(),
		Cores:       runtime.NumCPU(),
		MemoryGiB:   memGiB(),
		OS:          osName(),
		Kernel:      strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		Arch:        runtime.GOOS + "/" + runtime.GOARCH,
		Go:          runtime.Version(),
		Node:        firstLine(run(root, "node", "--version")),
		Python:      strings.TrimPrefix(firstLine(run(root, "python3", "--version")), "Python "),
		Commit:      firstLine(run(root, "git", "rev-parse", "HEAD")),
		LoadAtStart: loadAvg(),
	}
	m.Dirty = strings.TrimSpace(run(root, "git", "status", "--porcelain", "--untracked-files=no")) != ""
	return m
}

func loadAvg() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	for _, l := range strings.Split(readFile("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memGiB() float64 {
	for _, l := range strings.Split(readFile("/proc/meminfo"), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / (1 << 20)
		}
	}
	return 0
}

func osName() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// run returns a command's output, or "unknown" when it fails.
func run(dir, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return string(out)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
