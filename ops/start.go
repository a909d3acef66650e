package ops

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/irflow/irflow/schemas"
	"github.com/irflow/irflow/tasks/incident"
)

// StartRequest is a console/CLI execution input (execution-input.v1).
type StartRequest struct {
	TaskArn     string `json:"taskArn"`
	Reason      string `json:"reason"`
	RequestedBy string `json:"requestedBy"`
	DryRun      bool   `json:"dryRun"`
	CaseID      string `json:"caseId,omitempty"`
}

// InputError names the field of an execution input that is wrong, as the
// state machine's first state would (InvalidInputError).
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Input is the request as the JSON an execution starts with, the same
// document a responder pastes into the console's "Start execution".
func (r StartRequest) Input() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r)
	return b.Bytes()
}

// Validate checks the input exactly as resolve-target will (incident.Normalize,
// which names the field) and against the execution-input schema.
func (r StartRequest) Validate() error {
	raw := r.Input()
	if _, err := incident.Normalize(raw, incident.Execution{Name: r.CaseID, StartTime: time.Now()}); err != nil {
		var fe *incident.FieldError
		if errors.As(err, &fe) {
			return &InputError{Field: fe.Field, Message: fe.Message}
		}
		return &InputError{Field: "input", Message: err.Error()}
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return &InputError{Field: "input", Message: err.Error()}
	}
	s, err := schemas.Compiled(schemas.ExecutionInputURL)
	if err != nil {
		return err
	}
	if err := s.Validate(doc); err != nil {
		return schemaInputError(err)
	}
	return nil
}

// schemaInputError reduces a schema error to its deepest leaf under the
// console branch, named by its location.
func schemaInputError(err error) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &InputError{Field: "input", Message: err.Error()}
	}
	for len(ve.Causes) > 0 {
		next := ve.Causes[0]
		for _, c := range ve.Causes {
			if strings.Contains(c.KeywordLocation, "consoleInput") {
				next = c
			}
		}
		ve = next
	}
	field := strings.ReplaceAll(strings.TrimPrefix(ve.InstanceLocation, "/"), "/", ".")
	if field == "" {
		field = "input"
	}
	return &InputError{Field: field, Message: ve.Message}
}

// NewCaseID returns case-<yyyymmdd-hhmmss>-<4 hex>, in UTC.
func NewCaseID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("case-%s-%s", now.UTC().Format("20060102-150405"), hex.EncodeToString(b[:]))
}

// sfnAPI is the part of Step Functions that starts executions.
type sfnAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// DuplicateCaseError says the state machine already has an execution
// named after the case.
type DuplicateCaseError struct {
	CaseID       string
	ExecutionArn string
	Status       string
}

func (e *DuplicateCaseError) Error() string {
	s := fmt.Sprintf("case %s already has an execution (%s)", e.CaseID, e.ExecutionArn)
	if e.Status != "" {
		s = fmt.Sprintf("case %s already has an execution, %s (%s)", e.CaseID, e.Status, e.ExecutionArn)
	}
	return s + ": executions are named after their case id; choose another --case-id or follow this one with irflow audit " + e.CaseID
}

// ExecutionARN is the ARN of the execution named name of a state machine.
func ExecutionARN(stateMachineArn, name string) string {
	return strings.Replace(stateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + name
}

// Start starts an execution named after the case. A case that already has
// an execution is refused: Step Functions itself would return the running
// execution for a repeat with the same input, and irflow wants a repeat to
// be visible, not silently merged.
func Start(ctx context.Context, c sfnAPI, stateMachineArn, caseID string, input []byte) (string, error) {
	execArn := ExecutionARN(stateMachineArn, caseID)
	prev, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(execArn)})
	var missing *sfntypes.ExecutionDoesNotExist
	switch {
	case err == nil:
		return "", &DuplicateCaseError{CaseID: caseID, ExecutionArn: execArn, Status: string(prev.Status)}
	case !errors.As(err, &missing):
		return "", fmt.Errorf("looking for an execution of case %s: %w", caseID, err)
	}
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(stateMachineArn), Name: aws.String(caseID), Input: aws.String(string(input)),
	})
	var exists *sfntypes.ExecutionAlreadyExists
	switch {
	case errors.As(err, &exists):
		return "", &DuplicateCaseError{CaseID: caseID, ExecutionArn: execArn}
	case err != nil:
		return "", fmt.Errorf("starting %s: %w", stateMachineArn, err)
	}
	return aws.ToString(out.ExecutionArn), nil
}
