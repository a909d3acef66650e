package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/irflow/irflow/schemas"
	"github.com/irflow/irflow/tasks/finalize-case/report"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/start-api/start"
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
func (r StartRequest) Input() []byte { return report.IndentJSON(r) }

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
func NewCaseID(now time.Time) string { return start.NewCaseID(now) }

// StartClient calls the start API behind its Function URL with a
// SigV4-signed request (service "lambda"): the API takes the requester
// from the signature, never from the body, and seals the input so the
// execution can verify who asked.
type StartClient struct {
	// Endpoint is the Function URL (https://ID.lambda-url.REGION.on.aws/).
	Endpoint    string
	Credentials aws.CredentialsProvider
	// Region signs the request; the Function URL's own region wins when the
	// URL names one.
	Region string
	HTTP   *http.Client
	Now    func() time.Time
}

// Start asks the start API to start playbook for the request (whose
// RequestedBy is ignored: the API takes the caller). A refusal is a
// *RefusedError (409 duplicate-case for a case id already started).
func (c *StartClient) Start(ctx context.Context, playbook string, r StartRequest) (*start.Response, error) {
	return c.send(ctx, start.Request{Playbook: playbook, TaskArn: r.TaskArn, Reason: r.Reason, DryRun: r.DryRun, CaseID: r.CaseID})
}

// send posts one signed start request and reads the answer.
func (c *StartClient) send(ctx context.Context, req start.Request) (*start.Response, error) {
	body, _ := json.Marshal(req)
	s := signer{what: "start API", endpoint: c.Endpoint, credentials: c.Credentials, region: c.Region, http: c.HTTP, now: c.Now}
	raw, err := signedDo(ctx, s, http.MethodPost, strings.TrimRight(c.Endpoint, "/")+"/start", body)
	if err != nil {
		return nil, err
	}
	var res start.Response
	if err := json.Unmarshal(raw, &res); err != nil || res.ExecutionArn == "" {
		return nil, fmt.Errorf("the start API answered with an unreadable body: %v", err)
	}
	return &res, nil
}

// Release asks the start API to start the deployment's release state
// machine for the case: undo the changes of steps (none: all) after its
// approval gate, or with dryRun only check each undo. The API takes the
// requester from the signature and seals the input, as for a playbook.
func (c *StartClient) Release(ctx context.Context, caseID string, steps []string, dryRun bool, reason string) (*start.Response, error) {
	return c.send(ctx, start.Request{Playbook: start.ReleasePlaybook, CaseID: caseID, Steps: steps, DryRun: dryRun, Reason: reason})
}
