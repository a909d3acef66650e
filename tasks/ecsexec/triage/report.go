package triage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Artifact is one evidence object, ready for the caller to write to S3:
// its SHA-256 and size are computed here, over the bytes stored.
type Artifact struct {
	Name   string
	Body   []byte
	SHA256 string
	Size   int64
}

func newArtifact(name string, body []byte) Artifact {
	sum := sha256.Sum256(body)
	return Artifact{Name: name, Body: body, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(body))}
}

func jsonArtifact(name string, v any) Artifact {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil { // only plain structs go in: a bug
		panic(err)
	}
	return newArtifact(name, append(b, '\n'))
}

// Process is one entry of processes.json.
type Process struct {
	PID        int      `json:"pid"`
	PPID       int      `json:"ppid"`
	UID        int      `json:"uid"`
	EUID       int      `json:"euid"`
	GID        int      `json:"gid"`
	Name       string   `json:"name"`
	State      string   `json:"state"`
	Cmdline    []string `json:"cmdline"`
	StartTicks uint64   `json:"startTicks"`
	// StartTime is the start in UTC, from the boot time and StartTicks.
	StartTime string `json:"startTime,omitempty"`
	Exe       string `json:"exe,omitempty"`
	// ExeDeleted: the binary was removed after the process started it.
	ExeDeleted bool   `json:"exeDeleted,omitempty"`
	ExeSize    int64  `json:"exeSize"`
	ExeSHA256  string `json:"exeSha256,omitempty"`
	Cwd        string `json:"cwd,omitempty"`
	FDs        int    `json:"fds"`
	// Target: the finding names this process (pid, exe path or hash).
	Target bool `json:"target,omitempty"`
	// Collector: one of irflow's own collector processes.
	Collector bool `json:"collector,omitempty"`
}

// Connection is one entry of connections.json.
type Connection struct {
	Proto  string `json:"proto"`
	Local  string `json:"local"`
	Remote string `json:"remote"`
	State  string `json:"state"`
	UID    int    `json:"uid"`
	Inode  uint64 `json:"inode"`
	PIDs   []int  `json:"pids"`
}

// OpenFile is one descriptor of a target process, in open-files.json.
type OpenFile struct {
	PID    int    `json:"pid"`
	FD     int    `json:"fd"`
	Target string `json:"target"`
}

// OpenFiles is open-files.json: the target processes' descriptors and,
// for the finding's pid, its memory map (mapped and deleted files).
type OpenFiles struct {
	PIDs  []int      `json:"pids"`
	Files []OpenFile `json:"files"`
	Maps  []string   `json:"maps"`
}

// Executable is one entry of executables.json. Its hash was computed by
// sha256sum in the container: a claim, unless a binary copy confirms it.
type Executable struct {
	Path     string `json:"path"`
	Source   string `json:"source"` // "process" or "writable-dir"
	PIDs     []int  `json:"pids,omitempty"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256,omitempty"`
	HashedBy string `json:"hashedBy,omitempty"`
	MTime    int64  `json:"mtime,omitempty"`
	Mode     string `json:"mode,omitempty"`
	UID      int    `json:"uid"`
	// New: modified after the container's first process started.
	New *bool `json:"new,omitempty"`
}

// Binary is a copied binary, stored as binaries/<sha256>.
type Binary struct {
	Artifact string `json:"artifact"`
	From     string `json:"from"`
	Path     string `json:"path,omitempty"`
	SHA256   string `json:"sha256"`
	Size     int64  `json:"size"`
	// ContainerSHA256 is what sha256sum said in the container; Verified
	// is true when it matches the bytes received.
	ContainerSHA256 string `json:"containerSha256,omitempty"`
	Verified        bool   `json:"verified"`
}

// Skip is a binary the finding named that was not copied.
type Skip struct {
	From            string `json:"from"`
	Reason          string `json:"reason"`
	Size            string `json:"size,omitempty"`
	ContainerSHA256 string `json:"containerSha256,omitempty"`
}

// ArtifactRef names a stored artifact in the report.
type ArtifactRef struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Report is triage.json, the last artifact: what was collected, what was
// not and why, and the hash of every other artifact.
type Report struct {
	Complete    bool           `json:"complete"`
	Problems    []string       `json:"problems"`
	Encoding    string         `json:"encoding,omitempty"`
	Tools       string         `json:"tools,omitempty"`
	Blocks      int            `json:"blocks"`
	FailedReads map[string]int `json:"failedReads"`
	Target      Target         `json:"target"`
	TargetPIDs  []int          `json:"targetPids"`
	Processes   int            `json:"processes"`
	Connections int            `json:"connections"`
	Binaries    []Binary       `json:"binaries"`
	Skipped     []Skip         `json:"skipped"`
	Artifacts   []ArtifactRef  `json:"artifacts"`
}

// IncompleteError says the stream was cut or damaged: the artifacts
// returned with it hold what did arrive, and Problems says what did not.
type IncompleteError struct {
	Problems []string
}

func (e *IncompleteError) Error() string {
	return "triage: incomplete collection: " + strings.Join(e.Problems[:min(3, len(e.Problems))], "; ") +
		fmt.Sprintf(" (%d problems)", len(e.Problems))
}
