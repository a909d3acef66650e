package faultproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/awsproxy"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// backend counts the requests that get through.
func backend(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("X-Backend", "yes")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func proxyFor(t *testing.T, cfg Config) (*Proxy, string, *atomic.Int64) {
	t.Helper()
	be, hits := backend(t)
	fwd, err := awsproxy.NewForwarder(be.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(fwd, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL, hits
}

// cfgFor is an SDK config aimed at the proxy that makes exactly one attempt,
// so the first fault comes back as the error.
func cfgFor(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// calls is one representative operation of every service irflow calls,
// with the service and protocol the proxy must see in it.
func calls(cfg aws.Config) []struct {
	service, protocol string
	call              func(context.Context) error
} {
	return []struct {
		service, protocol string
		call              func(context.Context) error
	}{
		{"dynamodb", awsproxy.ProtoJSON, func(ctx context.Context) error {
			_, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"),
				Key: map[string]ddbtypes.AttributeValue{"k": &ddbtypes.AttributeValueMemberS{Value: "v"}}})
			return err
		}},
		{"ecs", awsproxy.ProtoJSON, func(ctx context.Context) error {
			_, err := ecs.NewFromConfig(cfg).DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: []string{"x"}})
			return err
		}},
		{"ssm", awsproxy.ProtoJSON, func(ctx context.Context) error {
			_, err := ssm.NewFromConfig(cfg).GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String("c"), InstanceId: aws.String("i")})
			return err
		}},
		{"logs", awsproxy.ProtoJSON, func(ctx context.Context) error {
			_, err := cloudwatchlogs.NewFromConfig(cfg).FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g")})
			return err
		}},
		{"states", awsproxy.ProtoJSON, func(ctx context.Context) error {
			_, err := sfn.NewFromConfig(cfg).SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("t"), Output: aws.String("{}")})
			return err
		}},
		{"ec2", awsproxy.ProtoEC2, func(ctx context.Context) error {
			_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		}},
		{"sns", awsproxy.ProtoQuery, func(ctx context.Context) error {
			_, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:t"), Message: aws.String("m")})
			return err
		}},
		{"iam", awsproxy.ProtoQuery, func(ctx context.Context) error {
			_, err := iam.NewFromConfig(cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p")})
			return err
		}},
		{"autoscaling", awsproxy.ProtoQuery, func(ctx context.Context) error {
			_, err := autoscaling.NewFromConfig(cfg).SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{
				AutoScalingGroupName: aws.String("g"), InstanceIds: []string{"i-1"}, ProtectedFromScaleIn: aws.Bool(true)})
			return err
		}},
		{"s3", awsproxy.ProtoRESTXML, func(ctx context.Context) error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("evidence")})
			return err
		}},
	}
}

// TestFaultShapes: for every service irflow calls, a throttle and a 500 come
// back in the service's own error shape, parsed by the real SDK client into
// the expected error code, classified as retryable by irflow's retryer (and
// as a throttle, for throttles), and turned into RetryableError by
// contract.AWSError once the retries are spent. No faulted request reaches the
// backend.
func TestFaultShapes(t *testing.T) {
	for _, kind := range []string{KindThrottle, KindServer} {
		cfg := Config{ThrottleRate: 1}
		if kind == KindServer {
			cfg = Config{ServerErrorRate: 1}
		}
		p, url, hits := proxyFor(t, cfg)
		var seen []awsproxy.Service
		p.observe = func(s awsproxy.Service) { seen = append(seen, s) }
		retryer := taskrt.NewRetryer()
		for _, c := range calls(cfgFor(url)) {
			t.Run(kind+"/"+c.service, func(t *testing.T) {
				seen = nil
				err := c.call(context.Background())
				if err == nil {
					t.Fatal("no error")
				}
				if len(seen) != 1 {
					t.Fatalf("the proxy saw %d requests: %v", len(seen), err)
				}
				if got := seen[0]; got.Name != c.service || got.Protocol != c.protocol {
					t.Errorf("identified %+v; want %s over %s", got, c.service, c.protocol)
				}
				want := ServerFault(seen[0])
				if kind == KindThrottle {
					want = ThrottleFault(seen[0])
				}
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != want.Code {
					t.Errorf("error %v; want code %s", err, want.Code)
				}
				if !retryer.IsErrorRetryable(err) {
					t.Errorf("irflow's retryer does not retry %v", err)
				}
				if kind == KindThrottle {
					if retry.IsErrorThrottles(throttles()).IsErrorThrottle(err) != aws.TrueTernary {
						t.Errorf("irflow's retryer does not see %v as a throttle (it would back off like a 5xx)", err)
					}
				}
				var re *contract.RetryableError
				if !errors.As(contract.AWSError("op", err), &re) {
					t.Errorf("contract.AWSError(%v) is %T; want *RetryableError", err, contract.AWSError("op", err))
				}
			})
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("%s: %d faulted requests reached the backend", kind, n)
		}
		st := p.Stats()
		if st.Faults != int64(len(calls(aws.Config{}))) || st.Requests != st.Faults {
			t.Errorf("%s: stats %+v; want %d faults", kind, st, len(calls(aws.Config{})))
		}
		if st.ByService["ec2"][kind] != 1 || st.ByService["s3"][kind] != 1 {
			t.Errorf("%s: by service %v", kind, st.ByService)
		}
	}
}

// throttles is how irflow's retryer recognises throttles (for the throttle
// backoff base), as set up in taskrt.NewRetryer.
func throttles() []retry.IsErrorThrottle {
	return append([]retry.IsErrorThrottle{}, append(retry.DefaultThrottles, retry.ThrottleErrorCode{Codes: contract.ExtraThrottleCodes})...)
}

// TestRetriesThroughFaults: with irflow's retryer the SDK gets through a
// proxy that faults half of the requests, for every service.
func TestRetriesThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("backoff takes seconds")
	}
	p, url, _ := proxyFor(t, Config{ThrottleRate: 0.2, ServerErrorRate: 0.1, Seed: 7})
	cfg := cfgFor(url)
	cfg.Retryer = taskrt.NewRetryer
	for _, c := range calls(cfg) {
		if c.service == "s3" || c.service == "states" {
			continue // their success responses need more than "{}"
		}
		if err := c.call(context.Background()); err != nil {
			var api smithy.APIError
			if errors.As(err, &api) && (api.ErrorCode() == ThrottleFault(awsproxy.Service{Name: c.service, Protocol: c.protocol}).Code) {
				t.Errorf("%s: throttled through every attempt: %v", c.service, err)
			}
		}
	}
	if p.Stats().Faults == 0 {
		t.Error("no faults injected")
	}
}

// TestMotoAPINeverFaulted: moto's control API (and the strict layer's)
// always gets through, untouched.
func TestMotoAPINeverFaulted(t *testing.T) {
	p, url, hits := proxyFor(t, Config{ThrottleRate: 0.5, ServerErrorRate: 0.5, MinLatency: time.Second})
	start := time.Now()
	for _, path := range []string{"/moto-api/reset", "/moto-api/state-manager/set-transition", "/moto-api/", "/irflow-strict/refusals"} {
		resp, err := http.Post(url+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Backend") != "yes" {
			t.Errorf("%s: HTTP %d, backend %q", path, resp.StatusCode, resp.Header.Get("X-Backend"))
		}
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("moto-api calls were delayed: %v", time.Since(start))
	}
	if hits.Load() != 4 || p.Stats().Requests != 0 || p.Stats().Faults != 0 {
		t.Errorf("hits %d, stats %+v", hits.Load(), p.Stats())
	}
}

// TestRatesAndSeed: the fault mix follows the configured rates, and one
// seed gives one sequence of decisions.
func TestRatesAndSeed(t *testing.T) {
	cfg := Config{ThrottleRate: 0.2, ServerErrorRate: 0.05, LostReplyRate: 0.05, Seed: 42, MaxLatency: 30 * time.Millisecond}
	seq := func() []decision {
		p, err := New(http.NotFoundHandler(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]decision, 20000)
		for i := range out {
			out[i] = p.decide()
		}
		return out
	}
	a, b := seq(), seq()
	counts := map[string]int{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("decision %d differs between two runs with seed 42: %+v vs %+v", i, a[i], b[i])
		}
		counts[a[i].kind]++
		if a[i].latency < 0 || a[i].latency > cfg.MaxLatency {
			t.Fatalf("latency %v outside [0, %v]", a[i].latency, cfg.MaxLatency)
		}
	}
	near := func(kind string, rate float64) {
		got := float64(counts[kind]) / float64(len(a))
		if got < rate*0.85 || got > rate*1.15 {
			t.Errorf("%s: rate %.3f; want about %.2f", kind, got, rate)
		}
	}
	near(KindThrottle, 0.2)
	near(KindServer, 0.05)
	near(KindLostReply, 0.05)
}

// TestLostReply: the request reaches the backend, the client gets a 500.
func TestLostReply(t *testing.T) {
	p, url, hits := proxyFor(t, Config{LostReplyRate: 1})
	_, err := ecs.NewFromConfig(cfgFor(url)).StopTask(context.Background(), &ecs.StopTaskInput{Task: aws.String("t")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ServerException" {
		t.Errorf("error %v; want ServerException", err)
	}
	if hits.Load() != 1 {
		t.Errorf("backend saw %d requests; want 1 (the reply is lost, not the request)", hits.Load())
	}
	if p.Stats().ByService["ecs"][KindLostReply] != 1 {
		t.Errorf("stats %+v", p.Stats())
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []Config{{ThrottleRate: -0.1}, {ThrottleRate: 0.7, ServerErrorRate: 0.4}, {LostReplyRate: 2}} {
		if _, err := New(http.NotFoundHandler(), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := awsproxy.NewForwarder("127.0.0.1:1", nil); err == nil {
		t.Error("a backend without scheme accepted")
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("a proxy without a next handler accepted")
	}
}
