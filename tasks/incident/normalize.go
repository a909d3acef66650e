package incident

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/tasks/termsafe"
	"github.com/irflow/irflow/tasks/textmatch"
)

// MaxInputBytes bounds the execution input; Step Functions itself allows 256 KiB.
const MaxInputBytes = 256 * 1024

// FieldError is an input the response cannot run on. Field names the
// offending field as a dotted path (detail.resource.resourceType), or
// "input" for the document as a whole.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Admit refuses what a playbook whose triggers.manual is false does not
// start from: anything but a GuardDuty finding that GuardDuty confirmed
// (inc.Requester verified through GetFindings). Console and CLI inputs are
// refused, and so is a finding-shaped input nobody confirmed. Shared by
// resolve-target and irflow simulate, so both refuse alike.
func Admit(inc *Incident, manualAllowed bool) error {
	if manualAllowed {
		return nil
	}
	if inc.Source == SourceManual {
		return &FieldError{Field: "input", Message: "this playbook starts only from GuardDuty findings (triggers.manual is false); console and CLI inputs are refused"}
	}
	if r := inc.Requester; r == nil || !r.Verified || r.Via != ViaGuardDuty {
		return &FieldError{Field: "detail.id", Message: "this playbook starts only from GuardDuty findings that GuardDuty confirms (triggers.manual is false)"}
	}
	return nil
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

var (
	caseIDRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$`)
	requestedByRE = textmatch.NewSpan(`[A-Za-z0-9+=,.@_:/-]`, 1, 512)
	launchTypeRE  = regexp.MustCompile(`^[A-Z0-9_]{1,32}$`)
)

// consoleKeys are the keys a console/CLI input may have.
var consoleKeys = []string{"taskArn", "reason", "requestedBy", "dryRun", "caseId", StartKey}

// Normalize validates an execution input (an EventBridge GuardDuty finding
// about an ECS task, or a console/CLI request) and returns the incident.
// Anything else is a *FieldError naming the offending field. It is pure:
// resolve-target and irflow simulate both call it, so bad input fails the
// same way locally and in AWS.
func Normalize(raw []byte, exec Execution) (*Incident, error) {
	if len(raw) > MaxInputBytes {
		return nil, fieldErr("input", "is %d bytes; at most %d", len(raw), MaxInputBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fieldErr("input", "is not JSON: %v", err)
	}
	if dec.More() {
		return nil, fieldErr("input", "has more than one JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fieldErr("input", "must be a JSON object, not %s", kind(v))
	}
	_, hasSource := m["source"]
	_, hasDetailType := m["detail-type"]
	switch {
	case hasSource || hasDetailType:
		return fromEvent(m, exec)
	case len(m) == 0:
		return nil, fieldErr("taskArn", "is required (the input is an empty object)")
	default:
		return fromConsole(m, exec)
	}
}

func fromConsole(m map[string]any, exec Execution) (*Incident, error) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !contains(consoleKeys, k) {
			msg := "is not a field of a console input (taskArn, reason, requestedBy, dryRun, caseId, irflowStart)"
			if c := diag.Suggest(k, consoleKeys); c != "" {
				msg = fmt.Sprintf("is not a field of a console input; did you mean %q?", c)
			}
			field := k
			if field == "" {
				field = `""` // an empty key still needs a visible name
			}
			return nil, fieldErr(clip(field), "%s", msg)
		}
	}
	arnText, err := str(m, "taskArn", true)
	if err != nil {
		return nil, err
	}
	arn, perr := ParseTaskARN(arnText)
	if perr != nil {
		return nil, fieldErr("taskArn", "%v", perr)
	}
	reason, err := text(m, "reason", 1000)
	if err != nil {
		return nil, err
	}
	by, err := str(m, "requestedBy", true)
	if err != nil {
		return nil, err
	}
	if !requestedByRE.MatchString(by) {
		return nil, fieldErr("requestedBy", "must be an IAM ARN or an e-mail address (letters, digits and +=,.@_:/-)")
	}
	if _, ok := m[StartKey]; ok {
		if _, err := envelopeOf(m); err != nil {
			return nil, err
		}
	}
	inc := &Incident{Source: SourceManual, Reason: reason, RequestedBy: by}
	if d, ok := m["dryRun"]; ok {
		b, isBool := d.(bool)
		if !isBool {
			return nil, fieldErr("dryRun", "must be true or false, not %s", kind(d))
		}
		inc.DryRun = b
	}
	caseID, err := str(m, "caseId", false)
	if err != nil {
		return nil, err
	}
	if caseID != "" && !caseIDRE.MatchString(caseID) {
		return nil, fieldErr("caseId", "must be 1 to 80 letters, digits, _ or -, starting with a letter or digit")
	}
	if caseID == "" {
		caseID = consoleCaseID(arnText, by, reason, exec)
	}
	inc.CaseID = caseID
	setTask(inc, arn, arnText)
	inc.ReceivedAt = received(exec)
	return inc, nil
}

func fromEvent(m map[string]any, exec Execution) (*Incident, error) {
	if src, _ := m["source"].(string); src != "aws.guardduty" {
		return nil, fieldErr("source", "is %s; irflow responds to aws.guardduty events", quoteOrKind(m["source"]))
	}
	if dt, _ := m["detail-type"].(string); dt != "GuardDuty Finding" {
		return nil, fieldErr("detail-type", "is %s; expected \"GuardDuty Finding\"", quoteOrKind(m["detail-type"]))
	}
	detail, ok := m["detail"].(map[string]any)
	if !ok {
		return nil, fieldErr("detail", "must be an object")
	}
	res, ok := detail["resource"].(map[string]any)
	if !ok {
		return nil, fieldErr("detail.resource", "must be an object")
	}
	switch rt, _ := res["resourceType"].(string); rt {
	case "ECSCluster":
	case ResourceInstance:
		return fromHostFinding(detail, res, exec)
	default:
		return nil, fieldErr("detail.resource.resourceType", "is %s; irflow responds to findings about ECS tasks (ECSCluster) and container instances (Instance)", quoteOrKind(res["resourceType"]))
	}
	ecs, ok := res["ecsClusterDetails"].(map[string]any)
	if !ok {
		return nil, fieldErr("detail.resource.ecsClusterDetails", "must be an object")
	}
	td, ok := ecs["taskDetails"].(map[string]any)
	if !ok {
		return nil, fieldErr("detail.resource.ecsClusterDetails.taskDetails", "is missing: the finding names no task")
	}
	const tdField = "detail.resource.ecsClusterDetails.taskDetails"
	arnText, err := str(td, "arn", true)
	if err != nil {
		return nil, prefixed(tdField, err)
	}
	arn, perr := ParseTaskARN(arnText)
	if perr != nil {
		return nil, fieldErr(tdField+".arn", "%v", perr)
	}
	lt, err := str(td, "launchType", true)
	if err != nil {
		return nil, prefixed(tdField, err)
	}
	if !launchTypeRE.MatchString(lt) {
		return nil, fieldErr(tdField+".launchType", "%q is not an ECS launch type", clip(lt))
	}
	f, ferr := finding(detail)
	if ferr != nil {
		return nil, ferr
	}
	f.Containers = containerNames(td)
	if acct, _ := detail["accountId"].(string); acct != "" && acct != arn.Account {
		return nil, fieldErr(tdField+".arn", "is in account %s but the finding is from account %s", arn.Account, clip(acct))
	}
	if region, _ := detail["region"].(string); region != "" && region != arn.Region {
		return nil, fieldErr(tdField+".arn", "is in region %s but the finding is from region %s", arn.Region, clip(region))
	}
	inc := &Incident{Source: SourceGuardDuty, LaunchType: lt, Finding: f,
		Reason: "GuardDuty " + f.Type, RequestedBy: "aws.guardduty"}
	inc.CaseID = clipID("gd-" + f.ID)
	setTask(inc, arn, arnText)
	inc.ReceivedAt = received(exec)
	return inc, nil
}

func finding(detail map[string]any) (*Finding, error) {
	id, err := str(detail, "id", true)
	if err != nil {
		return nil, prefixed("detail", err)
	}
	if !caseIDRE.MatchString("gd-" + id) {
		return nil, fieldErr("detail.id", "must be letters, digits, _ or - (a GuardDuty finding id)")
	}
	typ, err := str(detail, "type", true)
	if err != nil {
		return nil, prefixed("detail", err)
	}
	if len(typ) > 200 || !utf8.ValidString(typ) || strings.ContainsAny(typ, "\x00\n\r") {
		return nil, fieldErr("detail.type", "is not a finding type")
	}
	sev, ok := detail["severity"].(json.Number)
	if !ok {
		return nil, fieldErr("detail.severity", "must be a number")
	}
	s, err2 := sev.Float64()
	if err2 != nil || math.IsNaN(s) || s < 0 || s > 10 {
		return nil, fieldErr("detail.severity", "must be between 0 and 10")
	}
	f := &Finding{ID: id, Type: typ, Severity: s}
	f.Arn, _ = detail["arn"].(string)
	f.Title, _ = detail["title"].(string)
	f.Description, _ = detail["description"].(string)
	f.CreatedAt, _ = detail["createdAt"].(string)
	f.UpdatedAt, _ = detail["updatedAt"].(string)
	if svc, ok := detail["service"].(map[string]any); ok {
		if rd, ok := svc["runtimeDetails"].(map[string]any); ok {
			if p, ok := rd["process"].(map[string]any); ok {
				f.Process = &Process{}
				f.Process.Name, _ = p["name"].(string)
				f.Process.ExecutablePath, _ = p["executablePath"].(string)
				f.Process.ExecutableSha256, _ = p["executableSha256"].(string)
				if n, ok := p["pid"].(json.Number); ok {
					f.Process.Pid, _ = n.Int64()
				}
				if n, ok := p["namespacePid"].(json.Number); ok {
					f.Process.NamespacePid, _ = n.Int64()
				}
			}
		}
	}
	return f, nil
}

// containerNameRE is an ECS container name (RegisterTaskDefinition: up to
// 255 letters, digits, hyphens and underscores).
var containerNameRE = textmatch.NewSpan(`[A-Za-z0-9_-]`, 1, 255)

// containerNames are the names of the containers a finding's taskDetails
// lists, in order; names that no ECS container can have are left out
// rather than failing the finding: they only guide where exec-triage looks.
func containerNames(td map[string]any) []string {
	cs, _ := td["containers"].([]any)
	var out []string
	for _, c := range cs {
		m, _ := c.(map[string]any)
		if name, _ := m["name"].(string); containerNameRE.MatchString(name) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

func setTask(inc *Incident, arn TaskARN, text string) {
	inc.TaskArn = text
	inc.ClusterArn = arn.ClusterArn()
	inc.Region, inc.Account, inc.Partition = arn.Region, arn.Account, arn.Partition
}

// consoleCaseID is the execution name when irflow start named it after the
// case, else a digest of what identifies the request.
func consoleCaseID(arn, by, reason string, exec Execution) string {
	if caseIDRE.MatchString(exec.Name) && !looksLikeUUID(exec.Name) {
		return exec.Name
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{arn, by, reason, exec.ID, exec.StartTime.UTC().Format(time.RFC3339Nano)}, "|")))
	return "case-" + hex.EncodeToString(sum[:8])
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// looksLikeUUID spots the random names the console and EventBridge give executions.
func looksLikeUUID(s string) bool { return uuidRE.MatchString(s) }

func received(exec Execution) string {
	if exec.StartTime.IsZero() {
		return ""
	}
	return exec.StartTime.UTC().Format(time.RFC3339Nano)
}

func clipID(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

func str(m map[string]any, key string, required bool) (string, *FieldError) {
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			return "", fieldErr(key, "is required")
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fieldErr(key, "must be a string, not %s", kind(v))
	}
	if required && strings.TrimSpace(s) == "" {
		return "", fieldErr(key, "must not be empty")
	}
	return s, nil
}

// text is a required free-text field: bounded, valid UTF-8, no control characters but tab and newline.
func text(m map[string]any, key string, max int) (string, *FieldError) {
	s, err := str(m, key, true)
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(s) {
		return "", fieldErr(key, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", fieldErr(key, "has %d characters; at most %d", n, max)
	}
	// C0, C1 and bidirectional controls would act on the terminals and
	// pages that show the reason (approvals, reports, mail).
	if r, _, bad := termsafe.First(s); bad {
		return "", fieldErr(key, "contains control character %s", termsafe.Name(r))
	}
	return s, nil
}

func prefixed(prefix string, err *FieldError) *FieldError {
	return &FieldError{Field: prefix + "." + err.Field, Message: err.Message}
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func quoteOrKind(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", clip(s))
	}
	if v == nil {
		return "missing"
	}
	return kind(v)
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}
