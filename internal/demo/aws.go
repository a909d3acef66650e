package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/strict"
	"github.com/irflow/irflow/internal/worlds"
	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Refusal is one request the strict layer refused (or accepted without
// carrying it out, code ""), as it records it.
type Refusal = strict.Refusal

// strictControl is what the bench needs of the strict layer's control API.
type strictControl interface {
	// Register tells the layer the world's container-instance agents and
	// exec settings, and snapshots its network baseline.
	Register(ctx context.Context, w *worlds.World) error
	// Administer makes the account's detector in region the GuardDuty
	// administrator of member.
	Administer(ctx context.Context, account, region, detector, member string) error
	// AddFinding puts a finding in the account's GuardDuty detector.
	AddFinding(ctx context.Context, account, region string, finding []byte) error
	// Calls are the EC2 calls moto accepted through the layer, in order.
	Calls(ctx context.Context) ([]flowmodel.Call, error)
	// Refusals are the layer's refusals, in order.
	Refusals(ctx context.Context) ([]Refusal, error)
	// Requests are the AWS requests the layer served after number since,
	// and the latest number.
	Requests(ctx context.Context, since int64) (strict.RequestLog, error)
}

// awsEnv is the AWS side of a run: moto, the strict layer in front of it,
// and SDK configs for both.
type awsEnv struct {
	motoURL  string
	endpoint string     // what the handlers talk to: the layer, or moto
	cfg      aws.Config // through endpoint
	direct   aws.Config // moto itself
	layer    strictControl
	moto     *mototest.Server // nil when Options.Endpoint named one
	// strictPID is the detached strict layer's process (--keep).
	strictPID int
	// latency is the strict layer's request floor (Options.Latency).
	latency time.Duration
	stops   []func()
	kept    bool
}

// callMark is where a case's calls and refusals begin.
type callMark struct {
	calls, refusals int
	requests        int64
}

// startAWS starts moto (unless o.Endpoint names one) and the strict layer,
// and seeds irflow's stores into res.Env.
func startAWS(ctx context.Context, o *Options, res *Result) (*awsEnv, error) {
	env := &awsEnv{motoURL: o.Endpoint}
	if env.motoURL == "" {
		if os.Getenv("IRFLOW_MOTO_SERVER") == "" {
			os.Setenv("IRFLOW_MOTO_SERVER", filepath.Join(o.Root, ".venv", "bin", "moto_server"))
		}
		s, err := mototest.StartServer(o.Keep)
		if err != nil {
			return nil, err
		}
		env.moto, env.motoURL = s, s.Endpoint
		env.stops = append(env.stops, s.Stop)
	}
	if err := mototest.PinTaskLifecycle(env.motoURL); err != nil {
		env.close()
		return nil, err
	}
	env.endpoint = env.motoURL
	if err := env.startStrict(ctx, o, res); err != nil {
		env.close()
		return nil, err
	}
	env.cfg, env.direct = configFor(env.endpoint), configFor(env.motoURL)
	w, err := mototest.SeedStores(ctx, env.cfg)
	if err != nil {
		env.close()
		return nil, fmt.Errorf("seeding irflow's stores: %w", err)
	}
	// The CDK app gives the MAC key this alias; irflow audit --verify finds
	// the key by it when it cannot read the stack's outputs (as here).
	// A moto the bench did not start may have it from an earlier run: it
	// then names this run's key, as a redeployed stack's would.
	kc, alias := kms.NewFromConfig(env.cfg), aws.String(ops.MACKeyAlias(ops.DefaultStack))
	_, err = kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: alias, TargetKeyId: aws.String(w.Env.MACKeyArn)})
	var exists *kmstypes.AlreadyExistsException
	if errors.As(err, &exists) {
		_, err = kc.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: alias, TargetKeyId: aws.String(w.Env.MACKeyArn)})
	}
	if err != nil {
		env.close()
		return nil, fmt.Errorf("naming the MAC key %s: %w", ops.MACKeyAlias(ops.DefaultStack), err)
	}
	res.Env = w.Env
	// As the CDK app sets IRFLOW_HOME_ACCOUNT on every function (infra):
	// the handlers know their account without asking STS.
	res.Env.HomeAccount = w.Account
	res.Env.DefaultApprovers = []string{roleARN(w.Account, incidentCommander)}
	res.Env.AVMLURL, res.Env.AVMLSha256 = DemoAVMLURL, DemoAVMLSha256
	if o.Keep {
		res.Moto = &MotoInfo{Endpoint: env.endpoint, MotoURL: env.motoURL, Region: mototest.Region, Account: w.Account,
			Bucket: res.Env.EvidenceBucket}
		if env.moto != nil {
			res.Moto.PID = env.moto.PID
		}
		res.Moto.StrictPID = env.strictPID
		res.Moto.Tables.Audit, res.Moto.Tables.Approvals, res.Moto.Tables.Incidents = res.Env.AuditTable, res.Env.ApprovalsTable, res.Env.IncidentsTable
	}
	return env, nil
}

// register tells the strict layer about the case's world and finding.
func (e *awsEnv) register(ctx context.Context, w *worlds.World, c *Case) error {
	if e.layer == nil {
		return nil
	}
	if err := e.layer.Register(ctx, w); err != nil {
		return fmt.Errorf("registering world %s with the strict layer: %w", w.Name, err)
	}
	if w.ResponderAccount != "" {
		// The administrator's detector sees the member's findings
		// (GuardDuty delegated administrator); resolve-target asks it
		// (IRFLOW_GUARDDUTY_DETECTOR_ID = AdminDetector, set by Run).
		if err := e.layer.Administer(ctx, w.ResponderAccount, w.Region, AdminDetector, w.Account); err != nil {
			return fmt.Errorf("world %s: the GuardDuty administrator: %w", w.Name, err)
		}
	}
	if c.Finding != nil {
		return e.layer.AddFinding(ctx, w.Account, w.Region, c.Finding)
	}
	return nil
}

// mark notes where the next case's calls and refusals begin.
func (e *awsEnv) mark(ctx context.Context) (callMark, error) {
	if e.layer == nil {
		return callMark{}, nil
	}
	calls, err := e.layer.Calls(ctx)
	if err != nil {
		return callMark{}, err
	}
	refusals, err := e.layer.Refusals(ctx)
	if err != nil {
		return callMark{}, err
	}
	reqs, err := e.layer.Requests(ctx, 0)
	if err != nil {
		return callMark{}, err
	}
	return callMark{calls: len(calls), refusals: len(refusals), requests: reqs.Last}, nil
}

// since returns the calls and refusals after m.
func (e *awsEnv) since(ctx context.Context, m callMark) ([]flowmodel.Call, []Refusal, error) {
	if e.layer == nil {
		return nil, nil, nil
	}
	calls, err := e.layer.Calls(ctx)
	if err != nil {
		return nil, nil, err
	}
	refusals, err := e.layer.Refusals(ctx)
	if err != nil {
		return nil, nil, err
	}
	return calls[m.calls:], refusals[m.refusals:], nil
}

// requestsSince returns the AWS requests the layer served after m.
func (e *awsEnv) requestsSince(ctx context.Context, m callMark) ([]strict.LoggedRequest, error) {
	if e.layer == nil {
		return nil, nil
	}
	log, err := e.layer.Requests(ctx, m.requests)
	return log.Requests, err
}

// vars are the environment variables irflow needs to reach this moto.
func (e *awsEnv) vars(env taskrt.Env) map[string]string {
	out := map[string]string{
		"AWS_ENDPOINT_URL": e.endpoint, "AWS_REGION": mototest.Region, "AWS_DEFAULT_REGION": mototest.Region,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"IRFLOW_EVIDENCE_BUCKET": env.EvidenceBucket, "IRFLOW_AUDIT_TABLE": env.AuditTable,
		"IRFLOW_APPROVALS_TABLE": env.ApprovalsTable, "IRFLOW_INCIDENTS_TABLE": env.IncidentsTable,
		"IRFLOW_TOPIC_ARN": env.TopicArn, "IRFLOW_APPROVAL_URL": env.ApprovalURL,
		"IRFLOW_DEFAULT_APPROVERS": joinComma(env.DefaultApprovers), "IRFLOW_HOME_ACCOUNT": env.HomeAccount, "IRFLOW_AVML_URL": env.AVMLURL, "IRFLOW_AVML_SHA256": env.AVMLSha256,
		// The MAC key authenticates what a later command appends to a
		// case's chain (irflow release --simulate), as the handlers' records.
		"IRFLOW_MAC_KEY_ARN": env.MACKeyArn,
	}
	if env.GuardDutyDetectorID != "" {
		out["IRFLOW_GUARDDUTY_DETECTOR_ID"] = env.GuardDutyDetectorID
	}
	return out
}

func joinComma(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// keep leaves moto and the layer running when the run ends.
func (e *awsEnv) keep() { e.kept = true }

// close stops what this run started, unless kept.
func (e *awsEnv) close() {
	if e.kept {
		return
	}
	for i := len(e.stops) - 1; i >= 0; i-- {
		e.stops[i]()
	}
	e.stops = nil
}
