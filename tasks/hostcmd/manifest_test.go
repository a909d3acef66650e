package hostcmd

import (
	"errors"
	"strings"
	"testing"
)

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

var keys = []string{"cases/c1/mem/a.txt", "cases/c1/mem/b.txt"}

func TestParseManifest(t *testing.T) {
	out := "noise from a tool\nIRFLOW-EVIDENCE a.txt " + sha + " 4\nIRFLOW-SKIP b.txt container not running\nIRFLOW-INFO parts 1\nIRFLOW-DONE 1\n"
	m, err := ParseManifest(out, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 1 || m.Files[0] != (File{Name: "a.txt", SHA256: sha, Bytes: 4}) {
		t.Errorf("files = %+v", m.Files)
	}
	if len(m.Skipped) != 1 || m.Skipped[0].Reason != "container not running" {
		t.Errorf("skipped = %+v", m.Skipped)
	}
	if m.Info["parts"] != "1" {
		t.Errorf("info = %v", m.Info)
	}
	ev := m.Evidence("bkt", keys)
	if len(ev) != 1 || ev[0].URI != "s3://bkt/cases/c1/mem/a.txt" || ev[0].SHA256 != sha || ev[0].Bytes != 4 {
		t.Errorf("evidence = %+v", ev)
	}
}

func TestParseManifestRejects(t *testing.T) {
	ev := "IRFLOW-EVIDENCE a.txt " + sha + " 4\n"
	tests := []struct {
		name, out, want string
	}{
		{"empty (moto)", "", "no IRFLOW-DONE"},
		{"truncated", ev, "no IRFLOW-DONE"},
		{"not presigned", "IRFLOW-EVIDENCE other.txt " + sha + " 4\nIRFLOW-DONE 1\n", "not presigned"},
		{"path in name", "IRFLOW-EVIDENCE ../a.txt " + sha + " 4\nIRFLOW-DONE 1\n", "malformed"},
		{"bad hash", "IRFLOW-EVIDENCE a.txt XYZ 4\nIRFLOW-DONE 1\n", "malformed"},
		{"twice", ev + ev + "IRFLOW-DONE 2\n", "twice"},
		{"count", ev + "IRFLOW-DONE 2\n", "counts 2"},
		{"after done", ev + "IRFLOW-DONE 1\nIRFLOW-INFO x y\n", "after IRFLOW-DONE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest(tt.out, keys)
			var me *ManifestError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want ManifestError containing %q", err, tt.want)
			}
		})
	}
}
