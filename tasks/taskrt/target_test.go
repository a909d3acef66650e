package taskrt

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
)

// fakeSTS answers GetCallerIdentity with the home account and AssumeRole
// for the roles it knows, AccessDenied for any other (as STS does for a
// role that does not exist or does not trust the caller).
type fakeSTS struct {
	mu       sync.Mutex
	home     string
	roles    map[string]bool
	assumed  []sts.AssumeRoleInput
	identity int
}

func (f *fakeSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.identity++
	return &sts.GetCallerIdentityOutput{Account: aws.String(f.home)}, nil
}

func (f *fakeSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.assumed = append(f.assumed, *in)
	if !f.roles[aws.ToString(in.RoleArn)] {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: arn:aws:sts::111111111111:assumed-role/irflow-stop-task/x is not authorized to perform: sts:AssumeRole on resource: " + aws.ToString(in.RoleArn)}
	}
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{AccessKeyId: aws.String("ASIAMEMBER"), SecretAccessKey: aws.String("s"),
		SessionToken: aws.String("t"), Expiration: aws.Time(time.Now().Add(time.Hour))}}, nil
}

func TestSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"case-20260101-abc":     "case-20260101-abc",
		"a b/c:d":               "a-b-c-d",
		"x":                     "x-",
		strings.Repeat("z", 80): strings.Repeat("z", 64),
	} {
		if got := SessionName(in); got != want {
			t.Errorf("SessionName(%q) = %q; want %q", in, got, want)
		}
	}
	if got := ResponderRoleARN("aws-us-gov", "222222222222", "stop-task"); got != "arn:aws-us-gov:iam::222222222222:role/irflow/irflow-responder-stop-task" {
		t.Errorf("role ARN %s", got)
	}
}

func TestTargetsConfig(t *testing.T) {
	role := "arn:aws:iam::222222222222:role/irflow/irflow-responder-stop-task"
	f := &fakeSTS{home: "111111111111", roles: map[string]bool{role: true}}
	home := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
	tg := &Targets{Home: home, STS: f}
	ctx := context.Background()

	cfg, remote, err := tg.Config(ctx, "stop-task", "c1", Target{"aws", "111111111111", "us-east-1"})
	if err != nil || remote || cfg.Region != "us-east-1" || len(f.assumed) != 0 {
		t.Fatalf("home target: remote %v, region %s, err %v, assumed %d", remote, cfg.Region, err, len(f.assumed))
	}
	cfg, remote, err = tg.Config(ctx, "stop-task", "c1", Target{"aws", "111111111111", "eu-west-1"})
	if err != nil || !remote || cfg.Region != "eu-west-1" || len(f.assumed) != 0 {
		t.Fatalf("home account, other region: remote %v, region %s, err %v, assumed %d", remote, cfg.Region, err, len(f.assumed))
	}
	cfg, remote, err = tg.Config(ctx, "stop-task", "case with spaces", Target{"aws", "222222222222", "eu-west-1"})
	if err != nil || !remote || cfg.Region != "eu-west-1" {
		t.Fatalf("member target: remote %v, region %s, err %v", remote, cfg.Region, err)
	}
	if len(f.assumed) != 1 || aws.ToString(f.assumed[0].RoleArn) != role || aws.ToString(f.assumed[0].RoleSessionName) != "case-with-spaces" {
		t.Fatalf("assumed %+v", f.assumed)
	}
	// The credentials are cached: the handler's clients do not assume again.
	for range 3 {
		c, err := cfg.Credentials.Retrieve(ctx)
		if err != nil || c.AccessKeyID != "ASIAMEMBER" {
			t.Fatalf("credentials %+v, %v", c, err)
		}
	}
	if len(f.assumed) != 1 || f.identity != 1 {
		t.Errorf("AssumeRole %d times, GetCallerIdentity %d times; want 1 each", len(f.assumed), f.identity)
	}
	// A member account without the role: named, precondition failed.
	_, _, err = tg.Config(ctx, "stop-task", "c1", Target{"aws", "333333333333", "us-east-1"})
	if contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "account 333333333333") ||
		!strings.Contains(err.Error(), "arn:aws:iam::333333333333:role/irflow/irflow-responder-stop-task") {
		t.Errorf("missing role: %v", err)
	}
	// IRFLOW_HOME_ACCOUNT spares the look-up.
	f2 := &fakeSTS{}
	if a, err := (&Targets{HomeAccount: "444444444444", STS: f2}).Account(ctx); a != "444444444444" || err != nil || f2.identity != 0 {
		t.Errorf("home account %s, %v, %d look-ups", a, err, f2.identity)
	}
}

// TestRuntimeActsInTarget: a step whose incident is in a member account
// gets a handler built from the member config, with the stores' config in
// Env.Home; one without the member role fails before the handler runs.
func TestRuntimeActsInTarget(t *testing.T) {
	role := "arn:aws:iam::222222222222:role/irflow/irflow-responder-stop-task"
	f := &fakeSTS{home: "123456789012", roles: map[string]bool{role: true}}
	home := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
	var built []string
	ran := 0
	newHandler := func(cfg aws.Config, env Env) HandlerFunc {
		c, _ := cfg.Credentials.Retrieve(context.Background())
		built = append(built, c.AccessKeyID+"/"+cfg.Region+"/"+env.Home(cfg).Region+"/"+env.EvidenceBucket)
		return func(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
			ran++
			return contract.OK("done"), nil
		}
	}
	env := Env{EvidenceBucket: "ev"}
	rt := &Runtime{Action: "stop-task", Handle: newHandler(home, env), Log: NewLogger(nil),
		Targets: &Targets{Home: home, STS: f}, New: newHandler, Cfg: home, Env: env}
	built = nil
	ctx := context.Background()

	if _, err := rt.Invoke(ctx, json.RawMessage(deadlinePayload)); err != nil || len(built) != 0 || ran != 1 {
		t.Fatalf("home target: err %v, built %v, ran %d", err, built, ran)
	}
	member := strings.ReplaceAll(strings.ReplaceAll(deadlinePayload, "123456789012", "222222222222"), "us-east-1:222222222222:task", "eu-west-1:222222222222:task")
	member = strings.Replace(member, `"region":"us-east-1"`, `"region":"eu-west-1"`, 1)
	if _, err := rt.Invoke(ctx, json.RawMessage(member)); err != nil || len(built) != 1 || built[0] != "ASIAMEMBER/eu-west-1/us-east-1/ev" || ran != 2 {
		t.Fatalf("member target: err %v, built %v, ran %d", err, built, ran)
	}
	orphan := strings.ReplaceAll(deadlinePayload, "123456789012", "333333333333")
	_, err := rt.Invoke(ctx, json.RawMessage(orphan))
	if contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "333333333333") || !strings.Contains(err.Error(), "irflow-responder-stop-task") || ran != 2 {
		t.Errorf("no member role: err %v, ran %d", err, ran)
	}
}

// TestEvidenceNamesTarget: evidence written during an invocation carries
// the incident's account and region in its object metadata; the runtime
// puts the target in the handler's context.
func TestEvidenceNamesTarget(t *testing.T) {
	var meta map[string]string
	w := &EvidenceWriter{Bucket: "ev", S3: &fakeS3{put: func(in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		meta = in.Metadata
		return &s3.PutObjectOutput{}, nil
	}}}
	rt := &Runtime{Action: "stop-task", Log: NewLogger(io.Discard), Handle: func(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
		if _, err := w.Put(ctx, "case-1", "stop", "x.json", "application/json", []byte("{}")); err != nil {
			return nil, err
		}
		return contract.OK("done"), nil
	}}
	if _, err := rt.Invoke(context.Background(), json.RawMessage(deadlinePayload)); err != nil {
		t.Fatal(err)
	}
	if meta["irflow-target-account"] != "123456789012" || meta["irflow-target-region"] != "us-east-1" || meta["irflow-case-id"] != "case-1" {
		t.Errorf("metadata %v", meta)
	}
	if _, err := w.Put(context.Background(), "case-1", "stop", "y.json", "application/json", []byte("{}")); err != nil || meta["irflow-target-account"] != "" {
		t.Errorf("without a target: %v %v", meta, err)
	}
}
