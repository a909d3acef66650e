package strict

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/irflow/irflow/internal/flowmodel"
)

// Client calls a layer's control API, for harnesses and tests.
type Client struct {
	// URL is the layer's base URL (what Start returned).
	URL string
	// HTTP is the client to use; nil is http.DefaultClient.
	HTTP *http.Client
}

// NewClient returns a Client for the layer at url.
func NewClient(url string) *Client { return &Client{URL: strings.TrimSuffix(url, "/")} }

// RegisterWorld registers a seeded world; with agents, the layer takes the
// flow model's baseline now, so call it after seeding and before the run.
func (c *Client) RegisterWorld(ctx context.Context, w World) error {
	return c.do(ctx, http.MethodPost, "world", w, nil)
}

// PutFindings stores GuardDuty findings (EventBridge event details).
func (c *Client) PutFindings(ctx context.Context, findings ...json.RawMessage) error {
	return c.do(ctx, http.MethodPost, "findings", Findings{Findings: findings}, nil)
}

// PutAdministrator makes an account's detector in a region the GuardDuty
// administrator of member accounts: GetFindings there returns their
// findings too.
func (c *Client) PutAdministrator(ctx context.Context, a Administrator) error {
	return c.do(ctx, http.MethodPost, "guardduty-administrator", a, nil)
}

// Refusals returns every refusal recorded since the last reset.
func (c *Client) Refusals(ctx context.Context) ([]Refusal, error) {
	var out struct {
		StrictRefusals []Refusal `json:"strictRefusals"`
	}
	err := c.do(ctx, http.MethodGet, "refusals", nil, &out)
	return out.StrictRefusals, err
}

// EC2Calls returns every mutating EC2 request moto accepted through the
// layer since the last reset, in order.
func (c *Client) EC2Calls(ctx context.Context) ([]RecordedCall, error) {
	var out struct {
		EC2Calls []RecordedCall `json:"ec2Calls"`
	}
	err := c.do(ctx, http.MethodGet, "ec2-calls", nil, &out)
	return out.EC2Calls, err
}

// RequestLog is the answer of GET /irflow-strict/requests.
type RequestLog struct {
	Requests []LoggedRequest `json:"requests"`
	// Last is the number of the latest request the layer has seen: pass
	// it as since to read only what follows.
	Last int64 `json:"last"`
}

// Requests returns every AWS request the layer served after request number
// since (0: all since the last reset), in arrival order, and the latest
// number, a mark for the next call.
func (c *Client) Requests(ctx context.Context, since int64) (RequestLog, error) {
	var out RequestLog
	err := c.do(ctx, http.MethodGet, "requests?since="+strconv.FormatInt(since, 10), nil, &out)
	return out, err
}

// Reset forgets refusals, findings, learned tasks, pending stops, recorded
// calls and the registered world. moto's own state is untouched.
func (c *Client) Reset(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "reset", struct{}{}, nil)
}

func (c *Client) do(ctx context.Context, method, what string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+controlPrefix+what, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("strict control %s: %w", what, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("strict control %s: HTTP %d: %s", what, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// RecordedCall is one EC2 request moto accepted through the layer, for a
// bench that replays them on its own flow model.
type RecordedCall struct {
	AccessKey string     `json:"accessKey"`
	Region    string     `json:"region"`
	Action    string     `json:"action"`
	Params    url.Values `json:"params"`
	Response  string     `json:"response"`
	At        time.Time  `json:"at"`
}

// Call returns the flow model's view of the call.
func (rc RecordedCall) Call() flowmodel.Call {
	return flowmodel.Call{Action: rc.Action, Params: rc.Params, Response: []byte(rc.Response), At: rc.At}
}
