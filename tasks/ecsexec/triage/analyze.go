package triage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options tune Analyze.
type Options struct {
	// Root is stripped from link targets: a test's fake /proc tree lives
	// under a directory that stands for the container's "/". Empty in
	// production.
	Root string
}

// Analyze turns one collector run's raw output into artifacts:
// stream.txt (the raw output, the primary evidence), processes.json,
// connections.json, open-files.json, executables.json, binaries/<sha256>
// and, last, triage.json, the Report that lists every other artifact's
// hash. The error is a *CollectorNotStartedError (then only stream.txt and
// triage.json are returned) or an *IncompleteError (the artifacts hold what
// arrived); artifacts are returned with both.
func Analyze(raw []byte, nonce string, t Target, o Options) (Report, []Artifact, error) {
	a := &analysis{opts: o, target: t, nonce: nonce, byPID: map[int]map[string]*Block{},
		report: Report{Problems: []string{}, FailedReads: map[string]int{}, Target: t,
			TargetPIDs: []int{}, Binaries: []Binary{}, Skipped: []Skip{}}}
	a.arts = append(a.arts, newArtifact("stream.txt", raw))
	s, err := Decode(raw, nonce)
	if err != nil {
		a.report.Problems = append(a.report.Problems, err.Error())
		return a.finish(err)
	}
	a.report.Problems = append(a.report.Problems, s.Problems...)
	a.report.Complete = s.Complete && len(s.Problems) == 0
	a.report.Encoding = s.Header["enc"]
	a.report.Tools = fmt.Sprintf("readlink=%s stat=%s sha256sum=%s", s.Header["rl"], s.Header["stat"], s.Header["sha"])
	a.report.Blocks = len(s.Blocks)
	a.viaLS = s.Header["rl"] != "1"
	a.index(s)
	procs := a.processes()
	a.arts = append(a.arts,
		jsonArtifact("processes.json", procs),
		jsonArtifact("connections.json", a.connections()),
		jsonArtifact("open-files.json", a.openFiles()),
		jsonArtifact("executables.json", a.executables(procs)))
	a.binaries()
	if !a.report.Complete {
		return a.finish(&IncompleteError{Problems: a.report.Problems})
	}
	return a.finish(nil)
}

type analysis struct {
	opts   Options
	target Target
	nonce  string
	viaLS  bool
	report Report
	arts   []Artifact
	blocks []*Block
	byPID  map[int]map[string]*Block
	pids   []int
	boot   int64
	hasBt  bool
	procs  map[int]*Process
}

func (a *analysis) finish(err error) (Report, []Artifact, error) {
	for _, art := range a.arts {
		a.report.Artifacts = append(a.report.Artifacts, ArtifactRef{Name: art.Name, SHA256: art.SHA256, Size: art.Size})
	}
	a.arts = append(a.arts, jsonArtifact("triage.json", a.report))
	return a.report, a.arts, err
}

func (a *analysis) index(s *Stream) {
	a.blocks = s.Blocks
	for _, b := range s.Blocks {
		if b.RC != "0" && b.Ended {
			a.report.FailedReads[b.Kind]++
		}
		if b.Kind == "procstat" {
			a.boot, a.hasBt = bootTime(b.Data)
		}
		pid, err := strconv.Atoi(b.Attrs["pid"])
		if err != nil || b.Kind == "bin" || b.Kind == "maps" {
			continue
		}
		if a.byPID[pid] == nil {
			a.byPID[pid] = map[string]*Block{}
			a.pids = append(a.pids, pid)
		}
		a.byPID[pid][b.Kind] = b
	}
	slices.Sort(a.pids)
}

func (a *analysis) link(b *Block) string {
	if b == nil || b.RC != "0" {
		return ""
	}
	return strings.TrimPrefix(linkTarget(b.Data, a.viaLS), a.opts.Root)
}

func (a *analysis) startTime(ticks uint64) string {
	if !a.hasBt {
		return ""
	}
	return time.Unix(a.boot+int64(ticks/userHZ), 0).UTC().Format(time.RFC3339)
}

func (a *analysis) processes() []Process {
	a.procs = map[int]*Process{}
	out := make([]Process, 0, len(a.pids))
	for _, pid := range a.pids {
		bl := a.byPID[pid]
		p := Process{PID: pid, PPID: -1, UID: -1, EUID: -1, GID: -1, ExeSize: -1, Cmdline: []string{}}
		if b := bl["stat"]; b != nil {
			if st, err := parseStat(b.Data); err == nil {
				p.Name, p.State, p.PPID, p.StartTicks = st.comm, st.state, st.ppid, st.startTicks
				p.StartTime = a.startTime(st.startTicks)
			}
		}
		if b := bl["status"]; b != nil {
			m := parseStatus(b.Data)
			p.UID, p.EUID = ids(m["Uid"])
			p.GID, _ = ids(m["Gid"])
		}
		if b := bl["cmdline"]; b != nil {
			p.Cmdline = parseCmdline(b.Data)
		}
		if b := bl["exe"]; b != nil {
			p.Exe = a.link(b)
			p.Exe, p.ExeDeleted = strings.CutSuffix(p.Exe, " (deleted)")
			p.ExeSize = atoi64(b.Attrs["size"])
			p.ExeSHA256 = hash(b.Attrs["sha256"])
		}
		p.Cwd = a.link(bl["cwd"])
		if b := bl["fds"]; b != nil {
			p.FDs = len(parseFDs(b.Data))
		}
		p.Collector = slices.Contains(p.Cmdline, a.nonce)
		t := a.target
		p.Target = (t.PID != 0 && pid == t.PID) || (t.ExecutablePath != "" && p.Exe == t.ExecutablePath) ||
			(t.SHA256 != "" && p.ExeSHA256 == t.SHA256)
		out = append(out, p)
	}
	// The collector's children (dd, base64, readlink...) run as other
	// programs: they are the collector's by ancestry.
	for changed := true; changed; {
		changed = false
		for i := range out {
			if !out[i].Collector {
				for _, q := range out {
					if q.PID == out[i].PPID && q.Collector {
						out[i].Collector, changed = true, true
					}
				}
			}
		}
	}
	for i := range out {
		a.procs[out[i].PID] = &out[i]
		if out[i].Target {
			a.report.TargetPIDs = append(a.report.TargetPIDs, out[i].PID)
		}
	}
	a.report.Processes = len(out)
	return out
}

func (a *analysis) connections() []Connection {
	owners := map[uint64][]int{}
	for _, pid := range a.pids {
		if b := a.byPID[pid]["fds"]; b != nil {
			for _, target := range parseFDs(b.Data) {
				if ino, ok := socketInode(target); ok && !slices.Contains(owners[ino], pid) {
					owners[ino] = append(owners[ino], pid)
				}
			}
		}
	}
	out := []Connection{}
	for _, b := range a.blocks {
		if b.Kind != "net" || !b.Ended {
			continue
		}
		rows, bad := parseNet(b.Data)
		if bad > 0 {
			a.report.Problems = append(a.report.Problems, fmt.Sprintf("%d unreadable rows in /proc/net/%s", bad, b.Attrs["proto"]))
		}
		for _, r := range rows {
			pids := append([]int{}, owners[r.inode]...)
			slices.Sort(pids)
			out = append(out, Connection{Proto: b.Attrs["proto"], Local: r.local.String(), Remote: r.remote.String(),
				State: r.state, UID: r.uid, Inode: r.inode, PIDs: pids})
		}
	}
	a.report.Connections = len(out)
	return out
}

func (a *analysis) openFiles() OpenFiles {
	of := OpenFiles{PIDs: a.report.TargetPIDs, Files: []OpenFile{}, Maps: []string{}}
	for _, pid := range a.report.TargetPIDs {
		if b := a.byPID[pid]["fds"]; b != nil {
			fds := parseFDs(b.Data)
			for _, fd := range slices.Sorted(maps.Keys(fds)) {
				of.Files = append(of.Files, OpenFile{PID: pid, FD: fd, Target: strings.TrimPrefix(fds[fd], a.opts.Root)})
			}
		}
	}
	for _, b := range a.blocks {
		if b.Kind == "maps" && b.Ended {
			of.Maps = strings.Split(strings.TrimSuffix(string(b.Data), "\n"), "\n")
		}
	}
	return of
}

func atoi64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// hash returns s when it is a lower-case hex SHA-256, else "".
func hash(s string) string {
	if sha256Pattern.MatchString(s) {
		return s
	}
	return ""
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
