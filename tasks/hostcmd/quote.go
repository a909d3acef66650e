package hostcmd

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/irflow/irflow/tasks/textmatch"
)

// Patterns every value spliced into a host script must match. They are
// deliberately narrower than what AWS accepts where irflow never needs more.
var (
	// InstanceID is an EC2 instance id.
	InstanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)
	// RuntimeID is a Docker (or containerd) container id, short or full.
	RuntimeID = regexp.MustCompile(`^[a-f0-9]{12,64}$`)
	// TaskArn is an ECS task ARN, old (task/<id>) or new (task/<cluster>/<id>) format.
	TaskArn = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task/([A-Za-z0-9_-]{1,255}/)?[A-Za-z0-9-]{1,64}$`)
	// ContainerName is an ECS container name: ^[A-Za-z0-9_-]{1,255}$.
	ContainerName = textmatch.NewSpan(`[A-Za-z0-9_-]`, 1, 255)
	// URL is a presigned S3 URL or a tool download URL: no quotes, spaces
	// or shell metacharacters beyond what URLs use.
	URL = regexp.MustCompile(`^https?://[A-Za-z0-9._~:/?&=%+-]+$`)
	// SHA256 is a lower-case hex SHA-256.
	SHA256 = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// FileName is an evidence object's file name (the last part of its
	// key): ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$.
	FileName = textmatch.AfterPrefix{Prefix: regexp.MustCompile(`^[A-Za-z0-9]`), Rest: textmatch.NewSpan(`[A-Za-z0-9._-]`, 0, 127)}
	// Word is a plain token: numbers, flags, modes, host paths without
	// spaces: ^[A-Za-z0-9_./:-]{1,255}$.
	Word = textmatch.NewSpan(`[A-Za-z0-9_./:-]`, 1, 255)

	varName  = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
	funcName = regexp.MustCompile(`^irflow_[a-z_]{1,40}$`)
	caseID   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$`)
	stepID   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)
)

// UnsafeValueError says a value would have been spliced into a host script
// although it does not match its pattern. It is a bug or an attack, never
// something to retry.
type UnsafeValueError struct {
	What  string
	Value string
}

func (e *UnsafeValueError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return fmt.Sprintf("refusing to put %s %q into a host script", e.What, v)
}

// Quote returns s as one single-quoted shell word. Inside single quotes the
// shell interprets nothing, so the only character to handle is the quote
// itself, which becomes close-quote, backslash-quote, reopen. Values with control
// characters are refused: a newline would end a line of the SSM command.
func Quote(s string) (string, error) {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", &UnsafeValueError{What: "a value with control characters", Value: s}
		}
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// Check returns an UnsafeValueError unless v matches re.
func Check(what string, re textmatch.Matcher, v string) error {
	if !re.MatchString(v) {
		return &UnsafeValueError{What: what, Value: v}
	}
	return nil
}
