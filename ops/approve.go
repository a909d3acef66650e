package ops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/irflow/irflow/tasks/approval-api/approval"
)

// ApprovalClient calls the approval API behind its Function URL with a
// SigV4-signed request (service "lambda"): the API reads who decides from
// the signature, never from the body.
type ApprovalClient struct {
	// Endpoint is the Function URL (https://ID.lambda-url.REGION.on.aws/).
	Endpoint    string
	Credentials aws.CredentialsProvider
	// Region signs the request; the Function URL's own region wins when the
	// URL names one.
	Region string
	HTTP   *http.Client
	Now    func() time.Time
}

// RefusedError is an answer of the approval or start API other than 200
// or 202: its HTTP status, its code, its message (shown to people as they
// are) and the input field at fault, when the API names one.
type RefusedError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *RefusedError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Decide sends a decision ("approve" or "reject") with its reason.
func (c *ApprovalClient) Decide(ctx context.Context, id, decision, reason string) (*approval.DecisionResponse, error) {
	if !approval.ValidID(id) {
		return nil, fmt.Errorf("%q is not an approval id (apr- and 20 hex digits; see irflow approvals)", id)
	}
	body, _ := json.Marshal(approval.DecisionRequest{Decision: decision, Reason: reason})
	raw, err := signedDo(ctx, c.signer(), http.MethodPost, approval.DecisionURL(c.Endpoint, id), body)
	if err != nil {
		return nil, err
	}
	var res approval.DecisionResponse
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("the approval API answered 200 with an unreadable body: %v", err)
	}
	return &res, nil
}

// signer is what a signed call to one of irflow's Function URLs needs.
type signer struct {
	what        string // "approval API", "start API"
	endpoint    string
	credentials aws.CredentialsProvider
	region      string
	http        *http.Client
	now         func() time.Time
}

func (c *ApprovalClient) signer() signer {
	return signer{what: "approval API", endpoint: c.Endpoint, credentials: c.Credentials, region: c.Region, http: c.HTTP, now: c.Now}
}

// signedDo sends one SigV4-signed request (service lambda) and returns the
// body of a 200 or 202, or a RefusedError.
func signedDo(ctx context.Context, c signer, method, target string, body []byte) ([]byte, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s endpoint %q is not an http(s) URL", c.what, c.endpoint)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := c.sign(ctx, req, body); err != nil {
		return nil, err
	}
	hc := c.http
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling the %s: %w", c.what, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the %s's answer: %w", c.what, err)
	}
	// 202: recorded, not (known to be) the gate's answer yet: an approval
	// waiting for another approver, or a delivery whose fate is unknown.
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusAccepted {
		return raw, nil
	}
	r := refused(resp.StatusCode, raw)
	// A misconfigured proxy's error page may echo the request: what the
	// user sees never carries the session token or the signature.
	r.Message = redact(r.Message, req.Header.Get("X-Amz-Security-Token"), req.Header.Get("Authorization"))
	return nil, r
}

// maxRefusalText bounds a refusal body shown as is (an HTML error page).
const maxRefusalText = 2000

// redact replaces every non-empty secret in s, then bounds its length.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	if len(s) > maxRefusalText {
		s = s[:maxRefusalText] + "… (truncated)"
	}
	return s
}

// refused reads an error body: the API's own {"error","message","field"},
// or whatever the Function URL itself answered (an IAM auth failure is
// {"Message":"Forbidden"}), shown as is.
func refused(status int, raw []byte) *RefusedError {
	var er struct {
		Code    string `json:"error"`
		Message string `json:"message"`
		Field   string `json:"field"`
	}
	if json.Unmarshal(raw, &er) == nil && er.Code != "" && er.Message != "" {
		return &RefusedError{Status: status, Code: er.Code, Message: er.Message, Field: er.Field}
	}
	msg := strings.TrimSpace(string(raw))
	if msg == "" {
		msg = "(empty body)"
	}
	if status == http.StatusForbidden {
		msg += " (the Function URL refused the request: check that your credentials are valid and allow lambda:InvokeFunctionUrl)"
	}
	return &RefusedError{Status: status, Message: msg}
}

// sign adds the SigV4 headers (Authorization, X-Amz-Date, and
// X-Amz-Security-Token for temporary credentials).
func (c signer) sign(ctx context.Context, req *http.Request, body []byte) error {
	if c.credentials == nil {
		return fmt.Errorf("no AWS credentials to sign the request with")
	}
	creds, err := c.credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	region := FunctionURLRegion(req.URL.Host)
	if region == "" {
		region = c.region
	}
	if region == "" {
		return fmt.Errorf("no region to sign the request for: pass --region")
	}
	return v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", region, now().UTC())
}

// FunctionURLRegion is REGION of ID.lambda-url.REGION.on.aws, or "".
func FunctionURLRegion(host string) string {
	host = strings.Split(host, ":")[0]
	parts := strings.Split(host, ".")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "lambda-url" {
			return parts[i+1]
		}
	}
	return ""
}
