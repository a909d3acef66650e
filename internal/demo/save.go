package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/irflow/irflow/internal/casecheck"
	"github.com/irflow/irflow/tasks/taskrt"
)

// saveCase writes what a reviewer may want to open after the demo (moto is
// gone by then): the execution input, the run, the audit chain, and the
// case report, its Markdown and the manifest copied from the bucket.
func saveCase(ctx context.Context, cfg aws.Config, env taskrt.Env, dir string, c *Case) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var run bytes.Buffer
	if err := c.Run.WriteJSON(&run); err != nil {
		return err
	}
	audit, err := json.MarshalIndent(c.Records, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{"input.json": c.Input, "run.json": run.Bytes(), "audit.json": append(audit, '\n')}
	s3c := taskrt.NewS3(cfg)
	for _, o := range c.Evidence {
		name := path.Base(o.Key)
		if !strings.Contains(o.Key, "/finalize-case/") {
			continue
		}
		body, _, err := casecheck.Get(ctx, s3c, env.EvidenceBucket, o.Key)
		if err != nil {
			return err
		}
		files[name] = body
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CLIRun is `irflow audit` as the demo ran it.
type CLIRun struct {
	Args   []string
	Output string
	Err    error
}

// runAuditCLI runs `irflow audit CASE --verify` against moto, the command
// an operator uses on a deployed stack, and prints its head and verdict.
func runAuditCLI(ctx context.Context, out io.Writer, bin, endpoint string, env taskrt.Env, caseID string) *CLIRun {
	args := []string{"audit", caseID, "--verify", "--table", env.AuditTable, "--bucket", env.EvidenceBucket,
		"--mac-key", env.MACKeyArn, "--endpoint-url", endpoint, "--region", "us-east-1"}
	fmt.Fprintln(out, "\n== The operator's view: irflow audit ==")
	fmt.Fprintf(out, "  $ %s %s\n", bin, strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// Fake credentials: whatever the caller has, nothing real goes to moto.
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_SESSION_TOKEN=",
		"AWS_PROFILE=", "AWS_EC2_METADATA_DISABLED=true")
	b, err := cmd.CombinedOutput()
	r := &CLIRun{Args: args, Output: string(b), Err: err}
	lines := strings.Split(strings.TrimRight(r.Output, "\n"), "\n")
	const head = 4
	if len(lines) > head+2 {
		for _, l := range lines[:head] {
			fmt.Fprintf(out, "  %s\n", l)
		}
		fmt.Fprintf(out, "  … %d more lines of the timeline …\n", len(lines)-head-1)
		fmt.Fprintf(out, "  %s\n", lines[len(lines)-1])
	} else {
		for _, l := range lines {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	if err != nil {
		fmt.Fprintf(out, "  PROBLEM: irflow audit: %v\n", err)
	} else {
		fmt.Fprintln(out, "  exit 0: the chain verifies from the table alone, with no irflow state but the case id")
	}
	return r
}
