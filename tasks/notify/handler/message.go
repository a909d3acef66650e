package handler

import (
	"encoding/json"
	"fmt"
	"strings"

	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/irflow/irflow/tasks/contract"
)

// notice is what a notification says, readable and as JSON.
type notice struct {
	Event       string `json:"event"`
	CaseID      string `json:"caseId,omitempty"`
	Playbook    string `json:"playbook,omitempty"`
	Execution   string `json:"execution,omitempty"`
	Step        string `json:"step,omitempty"`
	DryRun      bool   `json:"dryRun"`
	TaskArn     string `json:"taskArn,omitempty"`
	LaunchType  string `json:"launchType,omitempty"`
	NetworkMode string `json:"networkMode,omitempty"`
	Service     string `json:"service,omitempty"`
	InstanceID  string `json:"instanceId,omitempty"`
	Source      string `json:"source,omitempty"`
	Reason      string `json:"reason,omitempty"`
	RequestedBy string `json:"requestedBy,omitempty"`
	// RequesterVerified says resolve-target verified RequestedBy; otherwise
	// it is what the input claims.
	RequesterVerified bool                           `json:"requesterVerified"`
	Finding           *finding                       `json:"finding,omitempty"`
	Failure           *contract.Failure              `json:"failure,omitempty"`
	Error             *contract.StateError           `json:"error,omitempty"`
	Errors            map[string]contract.StateError `json:"errors,omitempty"`
	ApprovalURL       string                         `json:"approvalUrl,omitempty"`
	Message           string                         `json:"message,omitempty"`
}

// finding is the part of the GuardDuty finding a responder needs first.
type finding struct {
	ID       string  `json:"id,omitempty"`
	Type     string  `json:"type"`
	Severity float64 `json:"severity"`
	Level    string  `json:"level"`
	Title    string  `json:"title,omitempty"`
}

// build gathers the facts from whatever the payload has: the incident and
// target, or for a resolve failure only the raw input and the error.
func build(p *contract.Payload, params Params, approvalURL string) *notice {
	n := &notice{Event: params.Event, Step: p.Step, Execution: p.Execution.ID, Message: params.Message,
		Failure: p.Failure, Error: p.Error, Errors: p.Errors}
	if n.Event == "" {
		n.Event = EventNotification
	}
	n.Playbook = playbookOf(p.Execution.ID)
	if inc := p.Incident; inc != nil {
		n.CaseID, n.DryRun, n.TaskArn, n.LaunchType = inc.CaseID, inc.DryRun, inc.TaskArn, inc.LaunchType
		n.Source, n.Reason, n.RequestedBy, n.RequesterVerified = inc.Source, inc.Reason, inc.RequesterID(), inc.RequesterVerified()
		if f := inc.Finding; f != nil {
			n.Finding = &finding{ID: f.ID, Type: f.Type, Severity: f.Severity, Level: level(f.Severity), Title: f.Title}
		}
	}
	if t := p.Target; t != nil {
		if t.LaunchType != "" {
			n.LaunchType = t.LaunchType
		}
		if t.TaskArn != "" {
			n.TaskArn = t.TaskArn
		}
		n.NetworkMode, n.Service, n.InstanceID = t.NetworkMode, t.Service, t.InstanceID
	}
	if p.Incident == nil {
		fromRawInput(n, p.Input)
	}
	if n.Event == EventNotification && n.CaseID != "" {
		n.ApprovalURL = approvalURL
	}
	return n
}

// fromRawInput takes what it can from an input resolve-target rejected: the
// task ARN, the dry-run flag and a GuardDuty finding's type and severity.
// Nothing here was validated, so every value is clipped and cleaned.
func fromRawInput(n *notice, raw json.RawMessage) {
	var in map[string]any
	if json.Unmarshal(raw, &in) != nil {
		return
	}
	if s, ok := in["taskArn"].(string); ok {
		n.TaskArn = clean(s, 300)
	}
	if b, ok := in["dryRun"].(bool); ok {
		n.DryRun = b
	}
	detail, _ := in["detail"].(map[string]any)
	if detail == nil {
		return
	}
	res, _ := detail["resource"].(map[string]any)
	ecs, _ := res["ecsClusterDetails"].(map[string]any)
	td, _ := ecs["taskDetails"].(map[string]any)
	if s, ok := td["arn"].(string); ok {
		n.TaskArn = clean(s, 300)
	}
	if s, ok := td["launchType"].(string); ok {
		n.LaunchType = clean(s, 32)
	}
	typ, _ := detail["type"].(string)
	sev, ok := detail["severity"].(float64)
	if typ != "" && ok {
		n.Finding = &finding{Type: clean(typ, 200), Severity: sev, Level: level(sev)}
	}
}

// level is GuardDuty's name for a severity score.
func level(s float64) string {
	switch {
	case s >= 9:
		return "CRITICAL"
	case s >= 7:
		return "HIGH"
	case s >= 4:
		return "MEDIUM"
	}
	return "LOW"
}

// playbookOf reads the playbook from the execution ARN
// (arn:...:execution:irflow-<playbook>:<name>).
func playbookOf(execArn string) string {
	e, _ := contract.ParseExecutionARN(execArn)
	return strings.TrimPrefix(e.StateMachine, "irflow-")
}

func execName(execArn string) string {
	if i := strings.LastIndexByte(execArn, ':'); i >= 0 {
		return execArn[i+1:]
	}
	return execArn
}

// headline says in one line what happened.
func (n *notice) headline() string {
	switch n.Event {
	case EventStepFailed:
		if n.Failure != nil && n.Failure.Step != "" {
			return fmt.Sprintf("step %s failed", n.Failure.Step)
		}
		return "a step failed"
	case EventUnsupported:
		return fmt.Sprintf("launch type %s is not supported", orNone(n.LaunchType))
	case EventResolveFailed:
		return "could not resolve the target"
	case EventNotification:
		if n.Finding != nil {
			return n.Finding.Type
		}
		if n.Step != "" {
			return "step " + n.Step
		}
		return "notification"
	}
	return n.Event
}

// subject is with.subject or the default, as SNS wants it: printable
// ASCII, under 100 characters.
func (n *notice) subject(custom string) string {
	s := custom
	if s == "" {
		var where []string
		if n.Playbook != "" {
			where = append(where, n.Playbook)
		}
		if n.CaseID != "" {
			where = append(where, "case "+n.CaseID)
		} else if name := execName(n.Execution); name != "" {
			where = append(where, "execution "+name)
		}
		s = "irflow"
		if len(where) > 0 {
			s += " [" + strings.Join(where, ", ") + "]"
		}
		s += ": " + n.headline()
	}
	if n.DryRun {
		s = "[DRY RUN] " + s
	}
	return asciiLine(s, maxSubjectBytes)
}

// attributes are the SNS message attributes subscriptions filter on; SNS
// refuses empty values, so unknown ones are left out.
func (n *notice) attributes() map[string]snstypes.MessageAttributeValue {
	a := map[string]snstypes.MessageAttributeValue{"event": attr(n.Event), "dryRun": attr(fmt.Sprint(n.DryRun))}
	for k, v := range map[string]string{"caseId": n.CaseID, "launchType": n.LaunchType, "playbook": n.Playbook} {
		if v != "" {
			a[k] = attr(asciiLine(v, 256))
		}
	}
	if n.Finding != nil {
		a["severity"] = attr(n.Finding.Level)
	}
	return a
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
