package strict

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/awsproxy"
)

// fakeMoto stands in for moto in unit tests: it answers the layer's
// look-ups and the forwarded requests from per-operation functions, and
// records which operations reached it.
type fakeMoto struct {
	srv *httptest.Server

	mu        sync.Mutex
	ecs       map[string]func(in map[string]any) any
	ec2       map[string]func(form url.Values) string
	forwarded []string
}

func newFakeMoto(t *testing.T) *fakeMoto {
	t.Helper()
	f := &fakeMoto{ecs: map[string]func(map[string]any) any{}, ec2: map[string]func(url.Values) string{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeMoto) onECS(op string, h func(in map[string]any) any) {
	f.mu.Lock()
	f.ecs[op] = h
	f.mu.Unlock()
}

func (f *fakeMoto) onEC2(op string, h func(form url.Values) string) {
	f.mu.Lock()
	f.ec2[op] = h
	f.mu.Unlock()
}

// saw counts the requests for op that reached the fake.
func (f *fakeMoto) saw(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, o := range f.forwarded {
		if o == op {
			n++
		}
	}
	return n
}

func (f *fakeMoto) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r, body, svc, _ := awsproxy.Prepare(r)
	f.mu.Lock()
	f.forwarded = append(f.forwarded, svc.Operation)
	ecsH, ec2H := f.ecs[svc.Operation], f.ec2[svc.Operation]
	f.mu.Unlock()
	switch {
	case svc.Name == "sts":
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
			`<Arn>arn:aws:sts::123456789012:user/moto</Arn><UserId>AKIAIOSFODNN7EXAMPLE</UserId><Account>123456789012</Account>`+
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	case svc.Name == "ecs" && ecsH != nil:
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		b, _ := json.Marshal(ecsH(in))
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write(b)
	case svc.Name == "ec2" && ec2H != nil:
		out := ec2H(awsproxy.Form(r, body))
		if rest, ok := strings.CutPrefix(out, "!error "); ok {
			code, msg, _ := strings.Cut(rest, " ")
			awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: http.StatusBadRequest, Code: code, Message: msg})
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, out)
	default:
		awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: http.StatusBadRequest, Code: "FakeNotServed", Message: svc.Operation + " not served by the fake"})
	}
}

// serve puts a Layer with cfg in front of the fake and returns it and its URL.
func serve(t *testing.T, backend string, cfg Config) (*Layer, string) {
	t.Helper()
	cfg.Backend = backend
	l, err := New(nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, srv.URL
}

// sdk is an SDK config aimed at url that makes one attempt per call.
func sdk(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// wantRefused checks that err is the API error code with HTTP status, as the
// real SDK client parsed it, and that the layer recorded it under rule.
func wantRefused(t *testing.T, l *Layer, err error, status int, code, rule string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code {
		t.Fatalf("error %v; want %s", err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("HTTP status of %v; want %d", err, status)
	}
	for _, r := range l.refusals.list() {
		if r.Rule == rule && r.Code == code && r.Doc != "" && strings.HasPrefix(r.Message, api.ErrorMessage()) {
			return
		}
	}
	t.Errorf("no refusal recorded under %s with code %s and message %q: %+v", rule, code, api.ErrorMessage(), l.refusals.list())
}

var ctx = context.Background()

func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
