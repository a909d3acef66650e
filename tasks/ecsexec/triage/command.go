package triage

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

//go:embed collect.sh
var collector string

// Shells are the interpreters Command can name, in the order to try them:
// /bin/sh (busybox, dash, bash) and /busybox/sh, where distroless debug
// images keep theirs. An image with neither has no way to run the
// collector; see the package doc.
var Shells = []string{"/bin/sh", "/busybox/sh"}

// Target is what a GuardDuty finding names: a process (its pid inside the
// container's pid namespace, the finding's namespacePid), an executable
// path, an executable's SHA-256. Zero values mean "not named".
type Target struct {
	PID            int    `json:"pid,omitempty"`
	ExecutablePath string `json:"executablePath,omitempty"`
	SHA256         string `json:"sha256,omitempty"`
}

// Limits bound the collection; zero fields take DefaultLimits.
type Limits struct {
	// MaxFileBytes bounds each /proc file read (cmdline, maps, net tables).
	MaxFileBytes int64
	// MaxBinaryBytes bounds each binary copied; larger ones are hashed
	// in the container and skipped.
	MaxBinaryBytes int64
	// MaxHashBytes bounds each file hashed in the container.
	MaxHashBytes int64
}

// DefaultLimits keep a run within a few minutes and tens of megabytes.
var DefaultLimits = Limits{MaxFileBytes: 256 << 10, MaxBinaryBytes: 16 << 20, MaxHashBytes: 256 << 20}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxFileBytes > 0 {
		d.MaxFileBytes = l.MaxFileBytes
	}
	if l.MaxBinaryBytes > 0 {
		d.MaxBinaryBytes = l.MaxBinaryBytes
	}
	if l.MaxHashBytes > 0 {
		d.MaxHashBytes = l.MaxHashBytes
	}
	return d
}

// InvalidTargetError says a target value cannot be passed to the collector.
type InvalidTargetError struct {
	Field string
	Value string
}

func (e *InvalidTargetError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return fmt.Sprintf("triage: invalid %s %q", e.Field, v)
}

var (
	sha256Pattern = regexp.MustCompile(`^[a-f0-9]{64}$`)
	noncePattern  = regexp.MustCompile(`^[a-f0-9]{16,64}$`)
)

// NewNonce returns the random token that marks one run's output lines.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Command returns the ecs:ExecuteCommand command string that runs the
// collector with shell. The collector is a constant; the target travels
// as separate, validated arguments ($6..$8 of the script), never as script
// text, and every word is quoted for the agent's shlex split, which hands
// them to the shell's exec unchanged (no shell parses them).
func Command(shell, nonce string, t Target, l Limits) (string, error) {
	return command(shell, nonce, "-", t, l)
}

func command(shell, nonce, root string, t Target, l Limits) (string, error) {
	l = l.withDefaults()
	if !noncePattern.MatchString(nonce) {
		return "", &InvalidTargetError{Field: "nonce", Value: nonce}
	}
	if !validShell(shell) {
		return "", &InvalidTargetError{Field: "shell", Value: shell}
	}
	pid, path, sum := "-", "-", "-"
	if t.PID != 0 {
		if t.PID < 1 || t.PID > 1<<22 {
			return "", &InvalidTargetError{Field: "pid", Value: strconv.Itoa(t.PID)}
		}
		pid = strconv.Itoa(t.PID)
	}
	if t.ExecutablePath != "" {
		if !validPath(t.ExecutablePath) {
			return "", &InvalidTargetError{Field: "executable path", Value: t.ExecutablePath}
		}
		path = t.ExecutablePath
	}
	if t.SHA256 != "" {
		if !sha256Pattern.MatchString(t.SHA256) {
			return "", &InvalidTargetError{Field: "sha256", Value: t.SHA256}
		}
		sum = t.SHA256
	}
	words := []string{shell, "-c", collector, "irflow-triage", nonce, root,
		strconv.FormatInt(l.MaxFileBytes, 10), strconv.FormatInt(l.MaxBinaryBytes, 10),
		strconv.FormatInt(l.MaxHashBytes, 10), pid, path, sum}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = quote(w)
	}
	return strings.Join(quoted, " "), nil
}

func validShell(s string) bool {
	for _, sh := range Shells {
		if s == sh {
			return true
		}
	}
	return false
}

// validPath accepts an absolute path of valid UTF-8 without control
// characters: GuardDuty reports paths as JSON strings, and a newline or an
// escape byte would not survive ExecuteCommand's parameters intact.
func validPath(p string) bool {
	if !strings.HasPrefix(p, "/") || len(p) > 1024 || !utf8.ValidString(p) || p == "-" {
		return false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// quote makes w one word for github.com/google/shlex, which the agent uses
// to split the command (agent shell_unix.go): inside single quotes shlex
// takes everything literally, and a single quote becomes '\” (close,
// escaped quote, reopen), which shlex joins into the same word.
func quote(w string) string {
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
