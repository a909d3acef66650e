package hostcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
)

// SSMAPI is the part of SSM an async host action calls.
type SSMAPI interface {
	SendCommand(ctx context.Context, in *ssm.SendCommandInput, opts ...func(*ssm.Options)) (*ssm.SendCommandOutput, error)
	GetCommandInvocation(ctx context.Context, in *ssm.GetCommandInvocationInput, opts ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error)
}

// History reads a case's audit chain (*audit.Chain), where every earlier
// start of the step left its command id.
type History = audit.Reader

// Runner starts host scripts and polls them.
type Runner struct {
	SSM SSMAPI
	// History finds a command this step already sent; nil disables reuse.
	History History
	// Objects reads the host's uploads back to bind them to their hash (Bind).
	Objects ObjectReader
	// MaxHashBytes bounds what one check call hashes (0: until shortly
	// before the call's deadline).
	MaxHashBytes int64
	Now          func() time.Time
}

// Document is the SSM document every host action runs.
const Document = "AWS-RunShellScript"

// invisibleGrace is how long a just-sent command may be unknown to
// GetCommandInvocation (eventual consistency) before it counts as gone.
const invisibleGrace = 2 * time.Minute

// statusGone marks a command SSM no longer knows (or never knew).
const statusGone = "Gone"

var commandID = regexp.MustCompile(`^[A-Za-z0-9-]{36}$`)

// Command is one script to run on one instance.
type Command struct {
	InstanceID string
	Script     string
	// Keys are the evidence keys the script may upload (it was given a
	// presigned URL for each).
	Keys []string
	// Timeout is the step timeout; SSM kills the script after it.
	Timeout time.Duration
}

// Started is the outcome of Start.
type Started struct {
	State
	// Reused is true when the step had already sent a command that has not
	// failed, so nothing was sent this time.
	Reused bool
}

// Start sends the command, unless this case's step already sent one that
// is pending, running or done.
func (r *Runner) Start(ctx context.Context, p *contract.Payload, c Command) (*Started, error) {
	if err := Check("instance id", InstanceID, c.InstanceID); err != nil {
		return nil, &contract.InvalidInputError{Field: "target.instanceId", Reason: err.Error()}
	}
	if prior, err := r.prior(ctx, p, c.InstanceID); err != nil {
		return nil, err
	} else if prior != nil {
		status, _, err := r.invocation(ctx, *prior)
		if err != nil {
			return nil, err
		}
		if !failed(status) {
			return &Started{State: *prior, Reused: true}, nil
		}
	}
	secs := int(c.Timeout / time.Second)
	if secs < 30 {
		secs = 30
	}
	out, err := r.SSM.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName:   aws.String(Document),
		InstanceIds:    []string{c.InstanceID},
		Comment:        aws.String(Comment(p)),
		TimeoutSeconds: aws.Int32(int32(secs)),
		Parameters: map[string][]string{
			"commands":         Lines(c.Script),
			"executionTimeout": {strconv.Itoa(secs)},
		},
	})
	if err != nil {
		return nil, sendError(c.InstanceID, err)
	}
	if out.Command == nil || !commandID.MatchString(aws.ToString(out.Command.CommandId)) {
		return nil, &contract.RetryableError{Op: "ssm:SendCommand", Err: errors.New("no command id in the response")}
	}
	return &Started{State: State{CommandID: aws.ToString(out.Command.CommandId), InstanceID: c.InstanceID,
		StartedAt: r.now().UTC().Format(time.RFC3339Nano), Keys: c.Keys}}, nil
}

// Comment is the SSM command comment of a step: "irflow <caseId> <step>",
// so a responder finds the command in the SSM console.
func Comment(p *contract.Payload) string {
	c := "irflow " + p.CaseID() + " " + p.Folder()
	if len(c) > 100 {
		c = c[:100]
	}
	return c
}

// Progress is what Poll found.
type Progress struct {
	State
	// Status is the SSM invocation status.
	Status string
	Done   bool
	// Manifest is set when Done.
	Manifest *Manifest
}

// Poll reads the command of the previous result. Success gives the
// manifest; Failed, Cancelled and TimedOut are a PreconditionFailedError
// with the tail of stderr; a command still pending or running after the
// step timeout is a StepTimeoutError.
func (r *Runner) Poll(ctx context.Context, p *contract.Payload) (*Progress, error) {
	st, err := StateFrom(p.Previous)
	if err != nil {
		return nil, err
	}
	status, inv, err := r.invocation(ctx, st)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("command %s on %s", st.CommandID, st.InstanceID)
	switch ssmtypes.CommandInvocationStatus(status) {
	case ssmtypes.CommandInvocationStatusSuccess:
		m, err := ParseManifest(aws.ToString(inv.StandardOutputContent), st.Keys)
		if err != nil {
			return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("%s reported Success but its %v", where, err)}
		}
		return &Progress{State: st, Status: status, Done: true, Manifest: m}, nil
	case ssmtypes.CommandInvocationStatusFailed, ssmtypes.CommandInvocationStatusCancelled, ssmtypes.CommandInvocationStatusTimedOut:
		return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("%s %s (%s, exit %d): %s", where, status,
			aws.ToString(inv.StatusDetails), inv.ResponseCode, Tail(aws.ToString(inv.StandardErrorContent), 400))}
	case ssmtypes.CommandInvocationStatusPending, ssmtypes.CommandInvocationStatusInProgress,
		ssmtypes.CommandInvocationStatusDelayed, ssmtypes.CommandInvocationStatusCancelling:
		timeout := StepTimeout(p)
		started, _ := st.Started()
		if r.now().Sub(started) > timeout {
			return nil, &contract.StepTimeoutError{Step: p.Folder(), After: timeout}
		}
		return &Progress{State: st, Status: status}, nil
	case statusGone:
		return nil, &contract.PreconditionFailedError{Reason: where + " is unknown to SSM (expired, or never delivered)"}
	}
	return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("%s has an unknown status %q", where, status)}
}

// invocation returns the invocation's status; statusGone when SSM does not
// know the command past the grace a just-sent command gets.
func (r *Runner) invocation(ctx context.Context, st State) (string, *ssm.GetCommandInvocationOutput, error) {
	out, err := r.SSM.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{
		CommandId: aws.String(st.CommandID), InstanceId: aws.String(st.InstanceID)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "InvocationDoesNotExist" || api.ErrorCode() == "InvalidCommandId") {
			if started, perr := st.Started(); perr == nil && r.now().Sub(started) < invisibleGrace {
				return string(ssmtypes.CommandInvocationStatusPending), &ssm.GetCommandInvocationOutput{}, nil
			}
			return statusGone, &ssm.GetCommandInvocationOutput{}, nil
		}
		return "", nil, contract.AWSError("ssm:GetCommandInvocation "+st.CommandID, err)
	}
	return string(out.Status), out, nil
}

func failed(status string) bool {
	switch ssmtypes.CommandInvocationStatus(status) {
	case ssmtypes.CommandInvocationStatusFailed, ssmtypes.CommandInvocationStatusCancelled, ssmtypes.CommandInvocationStatusTimedOut, statusGone:
		return true
	}
	return false
}

// prior returns the last command this case's step sent to the instance,
// from the outputs of the step's earlier results in the audit chain.
func (r *Runner) prior(ctx context.Context, p *contract.Payload, instanceID string) (*State, error) {
	if r.History == nil || p.CaseID() == "" {
		return nil, nil
	}
	records, err := r.History.Read(ctx, p.CaseID())
	if err != nil {
		return nil, err
	}
	var last *State
	for _, rec := range records {
		if rec.Event != "result" || rec.Step != p.Step || rec.Action != p.Action {
			continue
		}
		var d struct {
			Outputs State `json:"outputs"`
		}
		if json.Unmarshal([]byte(rec.Detail), &d) != nil || !commandID.MatchString(d.Outputs.CommandID) ||
			d.Outputs.InstanceID != instanceID || len(d.Outputs.Keys) == 0 {
			continue
		}
		if _, err := d.Outputs.Started(); err != nil {
			continue
		}
		s := d.Outputs
		last = &s
	}
	return last, nil
}

func sendError(instanceID string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "InvalidInstanceId":
			return &contract.PreconditionFailedError{Reason: fmt.Sprintf("instance %s is not managed by SSM (no agent, no instance profile permission, or not running): %s", instanceID, api.ErrorMessage())}
		case "UnsupportedPlatformType":
			return &contract.PreconditionFailedError{Reason: fmt.Sprintf("instance %s cannot run %s: %s", instanceID, Document, api.ErrorMessage())}
		}
	}
	return contract.AWSError("ssm:SendCommand "+instanceID, err)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

var presignParts = regexp.MustCompile(`(?i)(x-amz-(signature|credential|security-token)=)[^&\s'"]*`)

// Tail returns the last n bytes of a command's stderr as one printable line,
// with anything that looks like a presigned URL's credentials redacted. The
// host may be compromised: its text is data, never markup.
func Tail(s string, n int) string {
	s = presignParts.ReplaceAllString(s, "${1}REDACTED")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + strings.ToValidUTF8(s[len(s)-n:], "")
	}
	if s == "" {
		return "(no stderr)"
	}
	return s
}
