package hostcmd

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/irflow/irflow/tasks/contract"
)

// Manifest is what a host script reports on stdout.
type Manifest struct {
	// Files are the uploaded objects, in the order the script uploaded them.
	Files []File
	// Skipped are objects the script could not produce, with the reason.
	Skipped []Skip
	// Info holds the script's remarks (image hash, packet counts, ...).
	Info map[string]string
}

// File is one uploaded object as the host saw it.
type File struct {
	Name   string
	SHA256 string
	Bytes  int64
}

// Skip is an object the script did not upload, and why.
type Skip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// ManifestError says the command's output is not a complete manifest of the
// objects the start presigned.
type ManifestError struct {
	Reason string
}

func (e *ManifestError) Error() string { return "command output: " + e.Reason }

var (
	evidenceLine = regexp.MustCompile(`^IRFLOW-EVIDENCE ([A-Za-z0-9][A-Za-z0-9._-]{0,127}) ([a-f0-9]{64}) ([0-9]{1,15})$`)
	skipLine     = regexp.MustCompile(`^IRFLOW-SKIP ([A-Za-z0-9][A-Za-z0-9._-]{0,127}) ?(.{0,200})$`)
	infoLine     = regexp.MustCompile(`^IRFLOW-INFO ([A-Za-z0-9][A-Za-z0-9._-]{0,127}) ?(.{0,200})$`)
	doneLine     = regexp.MustCompile(`^IRFLOW-DONE ([0-9]{1,6})$`)
)

// ParseManifest reads a script's stdout. Lines that do not start with
// IRFLOW- are ignored; a malformed IRFLOW- line, a name the start did not
// presign (keys are the object keys), a duplicate, a missing IRFLOW-DONE
// (output truncated, or the script never ran) or a count that does not match
// is a ManifestError.
func ParseManifest(stdout string, keys []string) (*Manifest, error) {
	allowed := map[string]bool{}
	for _, k := range keys {
		allowed[path.Base(k)] = true
	}
	m := &Manifest{Info: map[string]string{}}
	seen := map[string]bool{}
	done := -1
	for _, ln := range strings.Split(stdout, "\n") {
		ln = strings.TrimRight(ln, "\r")
		if !strings.HasPrefix(ln, "IRFLOW-") {
			continue
		}
		if done >= 0 {
			return nil, &ManifestError{Reason: "lines after IRFLOW-DONE"}
		}
		switch {
		case evidenceLine.MatchString(ln):
			g := evidenceLine.FindStringSubmatch(ln)
			if err := admit(g[1], allowed, seen); err != nil {
				return nil, err
			}
			n, _ := strconv.ParseInt(g[3], 10, 64)
			m.Files = append(m.Files, File{Name: g[1], SHA256: g[2], Bytes: n})
		case skipLine.MatchString(ln):
			g := skipLine.FindStringSubmatch(ln)
			if err := admit(g[1], allowed, seen); err != nil {
				return nil, err
			}
			m.Skipped = append(m.Skipped, Skip{Name: g[1], Reason: strings.TrimSpace(g[2])})
		case infoLine.MatchString(ln):
			g := infoLine.FindStringSubmatch(ln)
			m.Info[g[1]] = strings.TrimSpace(g[2])
		case doneLine.MatchString(ln):
			done, _ = strconv.Atoi(doneLine.FindStringSubmatch(ln)[1])
		default:
			return nil, &ManifestError{Reason: fmt.Sprintf("malformed line %q", clip(ln, 120))}
		}
	}
	if done < 0 {
		return nil, &ManifestError{Reason: "no IRFLOW-DONE line: the script did not finish, or its output was truncated"}
	}
	if done != len(m.Files) {
		return nil, &ManifestError{Reason: fmt.Sprintf("IRFLOW-DONE counts %d objects but %d were listed", done, len(m.Files))}
	}
	return m, nil
}

func admit(name string, allowed, seen map[string]bool) error {
	if !allowed[name] {
		return &ManifestError{Reason: fmt.Sprintf("%s was not presigned by this step", name)}
	}
	if seen[name] {
		return &ManifestError{Reason: fmt.Sprintf("%s listed twice", name)}
	}
	seen[name] = true
	return nil
}

// Evidence returns the manifest's objects as evidence entries of a step
// whose objects live under the keys given (bucket s3://bucket/key).
func (m *Manifest) Evidence(bucket string, keys []string) []contract.Evidence {
	byName := map[string]string{}
	for _, k := range keys {
		byName[path.Base(k)] = k
	}
	out := make([]contract.Evidence, 0, len(m.Files))
	for _, f := range m.Files {
		out = append(out, contract.Evidence{URI: "s3://" + bucket + "/" + byName[f.Name], SHA256: f.SHA256, Bytes: f.Bytes})
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
