package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/internal/worlds"
)

// Options configure a bench run (cmd/irflow-demo's flags).
type Options struct {
	// Playbook is the playbook file; "" is workflows/crypto-mining.yaml.
	Playbook string
	// Worlds are the worlds to respond in, one case each; none is the
	// default demo (crypto-mining on fargate and ec2-bridge, then a
	// four-eyes case on fargate).
	Worlds []string
	// Input is a GuardDuty event or console input file retargeted to each
	// world's task; "" derives a GuardDuty finding from the examples with
	// the playbook's first finding type.
	Input string
	// Decide is how every gate is decided: approve (default), reject or
	// timeout.
	Decide string
	// Summary is where the JSON summary goes ("" writes none; make demo
	// writes build/demo/summary.json).
	Summary string
	// Keep leaves moto (and the strict layer in front of it) running
	// after the run; the summary's moto and env say how to reach it.
	Keep bool
	// Endpoint is a moto server to use instead of starting one (tests).
	Endpoint string
	// Latency is the strict layer's floor for every AWS request a handler makes
	// (strict.Config.Latency): make bench sets it so the round-trip count
	// does not move with the machine's load; 0 answers at moto's speed.
	Latency time.Duration
	// Out gets handlers.log and one folder per case; "" is build/demo.
	Out string
	// Irflow is the irflow CLI; when set, `irflow audit --verify` runs on
	// the first case, as an operator would.
	Irflow string
	// Root is the repository root; "" finds it from the working directory.
	Root string
	// Stdout gets the human report.
	Stdout io.Writer

	// resolved by check
	src   []byte
	input []byte
	// prepare, when set (tests), changes each case's world after it is
	// built and before anything reads it (e.g. tags one of its tasks).
	prepare func(ctx context.Context, w *worlds.World) error
}

// Decisions of Options.Decide.
const (
	DecideApprove = "approve"
	DecideReject  = "reject"
	DecideTimeout = "timeout"
)

// AdminDetector is the GuardDuty detector of the account irflow runs in
// when a run has an organization world: that account is the GuardDuty
// administrator of the member accounts, and resolve-target confirms their
// findings there (IRFLOW_GUARDDUTY_DETECTOR_ID, docs/deploy.md).
const AdminDetector = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

// organization reports whether a world of the run is in a member account.
func (o *Options) organization() bool {
	for _, w := range o.Worlds {
		if worlds.InMemberAccount(w) {
			return true
		}
	}
	return false
}

// DefaultPlaybook is the demo's playbook, relative to the repository root.
const DefaultPlaybook = "workflows/crypto-mining.yaml"

// UsageError is bad input to the bench: an unknown world, an unreadable or
// invalid playbook, an input that is neither a finding nor a console
// input. cmd/irflow-demo exits 2 on it, before moto starts.
type UsageError struct{ Message string }

func (e *UsageError) Error() string { return e.Message }

func usage(format string, a ...any) error { return &UsageError{Message: fmt.Sprintf(format, a...)} }

// check validates the options and reads the playbook and input, before
// anything starts.
func (o *Options) check() error {
	if o.Root == "" {
		root, err := findRoot()
		if err != nil {
			return usage("%v", err)
		}
		o.Root = root
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Latency < 0 || o.Latency > 10*time.Second {
		return usage("--latency %v: want a duration from 0 to 10s (a request's network round trip)", o.Latency)
	}
	switch o.Decide {
	case "":
		o.Decide = DecideApprove
	case DecideApprove, DecideReject, DecideTimeout:
	default:
		return usage("--decide %q: want approve, reject or timeout", o.Decide)
	}
	known := append(worlds.Names(), worlds.MemberNames()...)
	for _, w := range o.Worlds {
		if worlds.Describe(w) == "" {
			msg := fmt.Sprintf("--world %q: no such world", w)
			if s := diag.Suggest(w, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return usage("%s; worlds: %s", msg, strings.Join(known, ", "))
		}
	}
	if o.Playbook == "" {
		o.Playbook = filepath.Join(o.Root, DefaultPlaybook)
	}
	src, err := os.ReadFile(o.Playbook)
	if err != nil {
		return usage("--playbook: %v", err)
	}
	if r, ds := generator.Compile(src, o.Playbook, generator.Options{}); r == nil {
		var b strings.Builder
		_ = diag.WriteText(&b, ds)
		return usage("--playbook %s does not compile:\n%s", o.Playbook, strings.TrimRight(b.String(), "\n"))
	}
	o.src = src
	if o.Input != "" {
		in, err := os.ReadFile(o.Input)
		if err != nil {
			return usage("--input: %v", err)
		}
		// Any world will do to check the input's shape: an EC2 task's, so a
		// finding about its container instance (resourceType Instance) fits.
		probe := &worlds.World{Account: "123456789012", Region: "us-east-1", Target: worlds.Task{Arn: "arn:aws:ecs:us-east-1:123456789012:task/c/0",
			LaunchType: "EC2", Image: "x:1", Container: "x", InstanceID: "i-0123456789abcdef0"}}
		if _, _, _, err := probe.Retarget(in); err != nil {
			return usage("--input %s: %v", o.Input, err)
		}
		o.input = in
	}
	if o.Out == "" {
		o.Out = filepath.Join(o.Root, "build", "demo")
	}
	return nil
}
