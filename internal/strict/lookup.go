package strict

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/irflow/irflow/internal/awsproxy"
)

// caller is who a request came from, as moto sees it: the access key (moto
// maps it to an account) and the region. The layer's look-ups for a request
// are made as its caller, so they see the caller's account.
type caller struct{ AccessKey, Region string }

func callerOf(s awsproxy.Service) caller {
	c := caller{AccessKey: s.AccessKey, Region: s.Region}
	if c.AccessKey == "" {
		c.AccessKey = "testing"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	return c
}

// lookups are the layer's own calls to moto, made directly (never through
// the layer) and as the caller of the request being judged.
type lookups struct {
	backend string
	http    *http.Client

	mu       sync.Mutex
	ec2s     map[caller]*ec2.Client
	accounts map[caller]string
}

func newLookups(backend string, hc *http.Client) *lookups {
	return &lookups{backend: backend, http: hc, ec2s: map[caller]*ec2.Client{}, accounts: map[caller]string{}}
}

func (lk *lookups) config(c caller) aws.Config {
	return aws.Config{
		Region:       c.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKey, "irflow-strict", ""),
		BaseEndpoint: aws.String(lk.backend),
		HTTPClient:   lk.http,
	}
}

// ec2 returns an EC2 client to moto acting as c.
func (lk *lookups) ec2(c caller) *ec2.Client {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	cl := lk.ec2s[c]
	if cl == nil {
		cl = ec2.NewFromConfig(lk.config(c))
		lk.ec2s[c] = cl
	}
	return cl
}

// account returns the account moto gives c's access key.
func (lk *lookups) account(ctx context.Context, c caller) (string, error) {
	lk.mu.Lock()
	acct, ok := lk.accounts[c]
	lk.mu.Unlock()
	if ok {
		return acct, nil
	}
	out, err := sts.NewFromConfig(lk.config(c)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("strict: which account is %s: %w", c.AccessKey, err)
	}
	acct = aws.ToString(out.Account)
	lk.mu.Lock()
	lk.accounts[c] = acct
	lk.mu.Unlock()
	return acct, nil
}

// apiError is an error answer from moto to one of the layer's look-ups.
type apiError struct{ answer awsproxy.Error }

func (e *apiError) Error() string { return e.answer.Error() }

// ecs calls an ECS operation on moto as c with a JSON body and returns the
// raw JSON answer: the layer rewrites and returns ECS documents as moto
// wrote them, which the SDK's typed outputs would not allow. An error
// answer is an *apiError.
func (lk *lookups) ecs(ctx context.Context, c caller, op string, in any) (map[string]any, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, lk.backend+"/", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	// moto reads the account from the credential; it checks no signature.
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
		c.AccessKey, now.Format("20060102"), c.Region))
	resp, err := lk.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("strict: ecs:%s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	svc := awsproxy.Service{Name: "ecs", Protocol: awsproxy.ProtoJSON}
	if code, msg, bad := awsproxy.ParseError(svc, resp.StatusCode, resp.Header, body); bad {
		return nil, &apiError{awsproxy.Error{Status: resp.StatusCode, Code: code, Message: msg}}
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("strict: ecs:%s: HTTP %d", op, resp.StatusCode)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("strict: ecs:%s answer: %w", op, err)
	}
	return out, nil
}

// Small accessors for the generic JSON documents ECS answers with.

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func objs(m map[string]any, k string) []map[string]any {
	raw, _ := m[k].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

// ec2Raw calls an EC2 Query action on moto as c and returns the XML answer.
func (lk *lookups) ec2Raw(ctx context.Context, c caller, form url.Values) ([]byte, error) {
	form.Set("Version", "2016-11-15")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, lk.backend+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/ec2/aws4_request, SignedHeaders=host, Signature=0",
		c.AccessKey, now.Format("20060102"), c.Region))
	resp, err := lk.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("strict: ec2:%s: HTTP %d: %s", form.Get("Action"), resp.StatusCode, body)
	}
	return body, nil
}
