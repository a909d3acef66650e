package triage

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Block is one @B ... @E section of the collector's output: the decoded
// bytes of one file or command, with the attributes the collector put on
// its @B line and the exit status on its @E line.
type Block struct {
	ID    string
	Kind  string
	Attrs map[string]string
	Data  []byte
	// RC is the producing command's exit status ("0" is success).
	RC string
	// Ended is false when the stream stopped inside the block; Corrupt
	// when a line of it was not valid encoding.
	Ended   bool
	Corrupt bool
}

// Stream is the decoded output of one collector run.
type Stream struct {
	Header map[string]string
	Blocks []*Block
	// Complete is true when the trailer arrived.
	Complete bool
	// Problems lists everything that makes the stream less than whole.
	Problems []string
	// Noise counts lines outside blocks that were not the collector's.
	Noise int
}

// CollectorNotStartedError says the output has no collector header: the
// shell could not be started (an image without it), the command failed
// before printing, or the session carried something else. Output is the
// start of what arrived, with control bytes escaped.
type CollectorNotStartedError struct {
	Output string
}

func (e *CollectorNotStartedError) Error() string {
	return fmt.Sprintf("triage: the collector did not start; output began %q", e.Output)
}

// Decode parses the collector's output as it came through the pty: "\r"
// is dropped (the pty's ONLCR adds it), lines that do not carry the run's
// nonce are noise outside blocks and corruption inside them, and every
// block is decoded and checked for its end line. Only a missing header is
// an error; everything else is in Stream.Problems.
func Decode(raw []byte, nonce string) (*Stream, error) {
	s := &Stream{}
	var cur *Block
	var enc string
	var data bytes.Buffer
	seen := map[string]bool{}
	text := strings.ReplaceAll(string(raw), "\r", "")
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		ours := len(f) >= 2 && strings.HasPrefix(f[0], "@") && f[1] == nonce
		switch {
		case !ours && cur != nil:
			if !validData(line, enc) {
				cur.Corrupt = true
			}
			data.WriteString(line)
		case !ours:
			if strings.TrimSpace(line) != "" {
				s.Noise++
			}
		case s.Complete:
			s.problem("a record after the trailer: %.40q", line)
		case f[0] == "@H" && s.Header == nil:
			s.Header = attrs(f[2:])
			enc = s.Header["enc"]
		case s.Header == nil:
			s.problem("a record before the header: %.40q", line)
		case f[0] == "@B" && len(f) >= 4:
			if cur != nil {
				s.problem("block %s (%s) has no end", cur.ID, cur.Kind)
			}
			cur = &Block{ID: f[2], Kind: f[3], Attrs: attrs(f[4:])}
			data.Reset()
			if seen[cur.ID] {
				s.problem("block id %s repeats", cur.ID)
			}
			seen[cur.ID] = true
			s.Blocks = append(s.Blocks, cur)
		case f[0] == "@E" && len(f) == 4 && cur != nil && f[2] == cur.ID:
			cur.RC, cur.Ended = f[3], true
			if !cur.Corrupt {
				var err error
				if cur.Data, err = decodeData(data.String(), enc); err != nil {
					cur.Corrupt = true
				}
			}
			if cur.Corrupt {
				s.problem("block %s (%s) is not valid %s", cur.ID, cur.Kind, enc)
			}
			cur = nil
		case f[0] == "@T" && cur == nil:
			s.Complete = true
		default:
			s.problem("unexpected record %.40q", line)
		}
	}
	if s.Header == nil {
		return s, &CollectorNotStartedError{Output: fmt.Sprintf("%.200q", strings.TrimSpace(text))}
	}
	if cur != nil {
		s.problem("the output stops inside block %s (%s)", cur.ID, cur.Kind)
	}
	if !s.Complete {
		s.problem("no trailer: the collector did not finish")
	}
	return s, nil
}

func (s *Stream) problem(format string, args ...any) {
	if len(s.Problems) < 100 {
		s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
	}
}

func attrs(f []string) map[string]string {
	m := make(map[string]string, len(f))
	for _, kv := range f {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// validData accepts the characters base64 or od -An -tx1 print.
func validData(line, enc string) bool {
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c == ' ':
		case enc == "b64" && (c >= 'A' && c <= 'Z' || c >= 'g' && c <= 'z' || c == '+' || c == '/' || c == '='):
		default:
			return false
		}
	}
	return true
}

func decodeData(s, enc string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	switch enc {
	case "b64":
		return base64.StdEncoding.DecodeString(s)
	case "hex":
		return hex.DecodeString(s)
	}
	return nil, fmt.Errorf("unknown encoding %q", enc)
}
