package triage

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// executables lists each process binary once (by path and hash, with the
// processes running it) and every executable file found in the writable
// directories and the processes' working directories.
func (a *analysis) executables(procs []Process) []Executable {
	out := []Executable{}
	index := map[string]int{}
	for _, p := range procs {
		if p.Exe == "" {
			continue
		}
		key := p.Exe + "\x00" + p.ExeSHA256
		if i, ok := index[key]; ok {
			out[i].PIDs = append(out[i].PIDs, p.PID)
			continue
		}
		index[key] = len(out)
		e := Executable{Path: p.Exe, Source: "process", PIDs: []int{p.PID}, Size: p.ExeSize, SHA256: p.ExeSHA256, UID: -1}
		if e.SHA256 != "" {
			e.HashedBy = "container-sha256sum"
		}
		out = append(out, e)
	}
	start, known := a.containerStart()
	seen := map[string]bool{}
	for _, b := range a.blocks {
		if b.Kind != "xfile" || !b.Ended {
			continue
		}
		path := a.resolveCwd(string(b.Data))
		if seen[path] {
			continue
		}
		seen[path] = true
		e := Executable{Path: path, Source: "writable-dir", Size: atoi64(b.Attrs["size"]),
			SHA256: hash(b.Attrs["sha256"]), MTime: atoi64(b.Attrs["mtime"]), Mode: b.Attrs["mode"], UID: -1}
		if uid, err := strconv.Atoi(b.Attrs["uid"]); err == nil {
			e.UID = uid
		}
		if e.SHA256 != "" {
			e.HashedBy = "container-sha256sum"
		}
		if e.Mode == "-" {
			e.Mode = ""
		}
		if known && e.MTime > 0 {
			isNew := e.MTime >= start
			e.New = &isNew
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(x, y Executable) int { return strings.Compare(x.Path, y.Path) })
	return out
}

// containerStart is when the container's first process started, in epoch
// seconds.
func (a *analysis) containerStart() (int64, bool) {
	p := a.procs[1]
	if p == nil || !a.hasBt || p.StartTicks == 0 && p.Name == "" {
		return 0, false
	}
	return a.boot + int64(p.StartTicks/userHZ), true
}

// resolveCwd turns /proc/<pid>/cwd/<name>, as the working-directory walk
// reports files, into the directory's path when the collector read it.
func (a *analysis) resolveCwd(path string) string {
	rest, ok := strings.CutPrefix(path, "/proc/")
	if !ok {
		return path
	}
	pid, name, ok := strings.Cut(rest, "/cwd/")
	n, err := strconv.Atoi(pid)
	if !ok || err != nil || a.procs[n] == nil || a.procs[n].Cwd == "" {
		return path
	}
	return strings.TrimSuffix(a.procs[n].Cwd, "/") + "/" + name
}

// binaries stores each binary copy once, as binaries/<sha256> of the bytes
// received, and records the ones the collector skipped.
func (a *analysis) binaries() {
	stored := map[string]bool{}
	for _, b := range a.blocks {
		if b.Kind != "bin" {
			continue
		}
		from, path := a.origin(b)
		if reason := b.Attrs["skip"]; reason != "" || !b.Ended || b.RC != "0" || b.Corrupt {
			if reason == "" {
				reason = fmt.Sprintf("read failed (status %s, ended %v, corrupt %v)", b.RC, b.Ended, b.Corrupt)
			}
			a.report.Skipped = append(a.report.Skipped, Skip{From: from, Reason: reason,
				Size: b.Attrs["size"], ContainerSHA256: hash(b.Attrs["sha256"])})
			continue
		}
		h := sum(b.Data)
		if size := atoi64(b.Attrs["size"]); size != int64(len(b.Data)) {
			a.report.Problems = append(a.report.Problems,
				fmt.Sprintf("%s: %d bytes received, %d announced (changed while read?)", from, len(b.Data), size))
		}
		claimed := hash(b.Attrs["sha256"])
		a.report.Binaries = append(a.report.Binaries, Binary{Artifact: "binaries/" + h, From: from, Path: path,
			SHA256: h, Size: int64(len(b.Data)), ContainerSHA256: claimed, Verified: claimed == h})
		if !stored[h] {
			stored[h] = true
			a.arts = append(a.arts, newArtifact("binaries/"+h, b.Data))
		}
	}
}

func (a *analysis) origin(b *Block) (from, path string) {
	pid, _ := strconv.Atoi(b.Attrs["pid"])
	switch b.Attrs["from"] {
	case "exe":
		from = fmt.Sprintf("exe of pid %d (finding pid)", pid)
	case "sha256":
		from = fmt.Sprintf("exe of pid %d (finding sha256)", pid)
	default:
		return "finding executable path", a.target.ExecutablePath
	}
	if p := a.procs[pid]; p != nil {
		path = p.Exe
	}
	return from, path
}
