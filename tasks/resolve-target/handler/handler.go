package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/mac"
	"github.com/irflow/irflow/tasks/taskrt"
)

// dynamoAPI is the part of DynamoDB the dedupe lock and the case claim use.
type dynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// ecsAPI is the part of ECS that describes the task and where it runs.
type ecsAPI interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, opts ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error)
}

// ec2API is the part of EC2 that describes ENIs and the container instance.
type ec2API interface {
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// asgAPI finds the Auto Scaling group of the container instance.
type asgAPI interface {
	DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
}

// auditChain appends a joining finding to an open case's audit chain.
type auditChain interface {
	AppendOpen(ctx context.Context, r audit.Record) (audit.Record, error)
}

// Handler resolves the execution input into an incident and its target.
type Handler struct {
	DB  dynamoAPI
	ECS ecsAPI
	EC2 ec2API
	ASG asgAPI
	// GuardDuty confirms findings (guardduty:GetFindings).
	GuardDuty guardDutyAPI
	// MAC verifies the start API's envelopes (IRFLOW_MAC_KEY_ARN).
	MAC *mac.Key
	// IncidentsTable holds the dedupe locks and case claims (IRFLOW_INCIDENTS_TABLE).
	IncidentsTable string
	// DetectorID is the GuardDuty detector that confirms findings
	// (IRFLOW_GUARDDUTY_DETECTOR_ID); "" uses the one the finding's ARN names.
	DetectorID string
	Now        func() time.Time
	// Chain is the audit chain a finding that joins an open case is
	// appended to (correlation); nil records the join nowhere but the
	// joining execution's own result.
	Chain auditChain
	// Targets gives the describe calls the target's account and region (the
	// member account's irflow-responder-resolve-target role); nil: ECS,
	// EC2 and ASG as they are. The locks, GuardDuty and the MAC key stay home.
	Targets *taskrt.Targets
}

// Params are the step's `with:` (tasks/catalog/params/resolve-target.json).
type Params struct {
	LockTTLMinutes int `json:"lockTtlMinutes"`
	// Manual is the playbook's triggers.manual (nil: true, the default).
	Manual *bool `json:"manual"`
	// Correlate is the playbook's triggers.correlate (nil: one case per task).
	Correlate *Correlate `json:"correlate"`
	// HostFindings admits findings on a container instance (incident.AdmitHost).
	HostFindings bool `json:"hostFindings"`
}

// ManualAllowed reports whether console and CLI inputs may start the playbook.
func (p Params) ManualAllowed() bool { return p.Manual == nil || *p.Manual }

// DefaultLockTTLMinutes is the catalog default of lockTtlMinutes.
const DefaultLockTTLMinutes = 1440

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc { return NewHandler(cfg, env).Handle }

// NewHandler is the handler New builds, for callers that replace a client
// (a GuardDuty served elsewhere until the strict AWS layer serves it).
func NewHandler(cfg aws.Config, env taskrt.Env) *Handler {
	h := &Handler{
		DB:             dynamodb.NewFromConfig(cfg),
		ECS:            ecs.NewFromConfig(cfg),
		EC2:            ec2.NewFromConfig(cfg),
		ASG:            autoscaling.NewFromConfig(cfg),
		GuardDuty:      guardduty.NewFromConfig(cfg),
		MAC:            taskrt.NewMACKey(cfg, env),
		IncidentsTable: env.IncidentsTable,
		DetectorID:     env.GuardDutyDetectorID,
		Targets:        taskrt.NewTargets(cfg, env),
	}
	if env.AuditTable != "" {
		h.Chain = taskrt.NewChain(cfg, env)
	}
	return h
}

// inTarget returns the handler whose ECS, EC2 and Auto Scaling clients act
// in the incident's account and region.
func (h *Handler) inTarget(ctx context.Context, inc *incident.Incident) (*Handler, error) {
	if h.Targets == nil {
		return h, nil
	}
	cfg, remote, err := h.Targets.Config(ctx, "resolve-target", inc.CaseID,
		taskrt.Target{Partition: inc.Partition, Account: inc.Account, Region: inc.Region})
	if err != nil || !remote {
		return h, err
	}
	c := *h
	c.ECS, c.EC2, c.ASG = ecs.NewFromConfig(cfg), ec2.NewFromConfig(cfg), autoscaling.NewFromConfig(cfg)
	return &c, nil
}

// Handle normalizes the input, establishes the requester, claims the case,
// takes the task's lock and describes the target.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	params, err := decodeParams(p)
	if err != nil {
		return nil, err
	}
	if p.Mode == ModeSibling {
		return h.sibling(ctx, p)
	}
	if h.IncidentsTable == "" {
		return nil, &contract.PreconditionFailedError{Reason: "no incidents table configured (IRFLOW_INCIDENTS_TABLE)"}
	}
	exec, err := execution(p.Execution)
	if err != nil {
		return nil, err
	}
	inc, err := incident.Normalize(p.Input, exec)
	if err != nil {
		return nil, invalid(err)
	}
	if err := incident.AdmitHost(inc, params.HostFindings); err != nil {
		return nil, invalid(err)
	}
	// The target is described while the requester is established and the
	// case and the lock are taken (reads only, in the target's account):
	// its answer is used only once they succeed, and the round trips to
	// containment are the longer of the two paths, not their sum.
	described := make(chan describedTarget, 1)
	service := make(chan [2]string, 1) // cluster, service; closed when DescribeTasks failed
	// GuardDuty is asked once DescribeTasks is about to go (in the home
	// account; in a member account at once, alongside AssumeRole): the
	// whole response waits for DescribeTasks' answer, not for GuardDuty's,
	// and the two are in flight together either way.
	describing := make(chan struct{})
	local := h.Targets == nil || (h.Targets.HomeAccount != "" && h.Targets.HomeAccount == inc.Account)
	go func() {
		var once sync.Once
		seen := func(cluster, svc string) { once.Do(func() { service <- [2]string{cluster, svc} }) }
		if !local {
			close(describing)
		}
		w, err := h.inTarget(ctx, inc)
		if local {
			close(describing)
		}
		var t *incident.Target
		if err == nil {
			t, err = w.describe(ctx, inc, seen)
		}
		once.Do(func() { close(service) })
		described <- describedTarget{t, err}
	}()
	<-describing
	if err := h.requester(ctx, p, inc, exec); err != nil {
		return nil, err
	}
	if err := incident.Admit(inc, params.ManualAllowed()); err != nil {
		return nil, invalid(err)
	}
	l := &lock{DB: h.DB, Table: h.IncidentsTable, Now: h.now}
	if h.Chain != nil {
		l.Audit = h.Chain
	}
	ttl := time.Duration(params.LockTTLMinutes) * time.Minute
	// The fast path: the case, the lock and the service's item at once
	// (take.go); anything else is told apart one by one below.
	var tk taken
	fast := false
	if svc, ok := <-service; ok || params.Correlate == nil {
		var err error
		if tk, fast, err = l.takeAll(ctx, inc, p.Execution.ID, ttl, params.Correlate, svc[1], svc[0]); err != nil {
			return nil, err
		}
	}
	caseRetaken, retaken := false, false
	if !fast {
		// The case first, then the task: an execution refused its case
		// never holds a task's lock, not even for a moment in which another
		// finding on that task would be taken for its duplicate.
		var err error
		if caseRetaken, err = l.claimCase(ctx, inc, p.Execution.ID); err != nil {
			return nil, err
		}
		retaken, err = l.acquire(ctx, inc, p.Execution.ID, ttl)
		if err != nil {
			if !caseRetaken {
				_ = l.releaseCase(ctx, inc, p.Execution.ID)
			}
			// Another case holds the task: this execution ends DUPLICATE
			// having done nothing under its case id, which a later
			// execution may use. With correlation, a finding on a task of a
			// service an open case covers joins that case instead (recorded
			// in its chain), even when the task's lock is held: by that
			// case, or by another finding's execution on its way to joining it.
			d := <-described
			var dup *contract.DuplicateIncidentError
			if params.Correlate != nil && !inc.DryRun && errors.As(err, &dup) && !dup.CaseTaken && d.err == nil {
				if joined := l.joinHeld(ctx, inc, d.target, p.Execution.ID, params.Correlate); joined != nil {
					return nil, joined
				}
			}
			return nil, err
		}
	}
	d := <-described
	target := d.target
	if err := d.err; err != nil {
		// Nothing will finalize this execution: give the task, the case
		// and the service's item back so a later execution is not taken
		// for a duplicate of this one. Best effort: the lock's TTL frees
		// the task anyway.
		_ = l.release(ctx, inc, p.Execution.ID)
		_ = l.releaseCase(ctx, inc, p.Execution.ID)
		if tk.correlated {
			_ = l.releaseCorrelation(ctx, tk, p.Execution.ID)
		}
		return nil, err
	}
	// takeAll took the service's item already, from the same DescribeTasks answer.
	if !tk.correlated {
		if err := l.correlate(ctx, inc, target, p.Execution.ID, params.Correlate); err != nil {
			// The finding joins the service's case (or the table failed):
			// this execution does nothing under its own case id.
			_ = l.release(ctx, inc, p.Execution.ID)
			if !caseRetaken {
				_ = l.releaseCase(ctx, inc, p.Execution.ID)
			}
			return nil, err
		}
	}
	if inc.LaunchType == "" {
		inc.LaunchType = target.LaunchType
	}
	return contract.OK(summary(inc, target, retaken)).With("incident", inc).With("target", target), nil
}

// describedTarget is describe's answer, from the goroutine that asked.
type describedTarget struct {
	target *incident.Target
	err    error
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func decodeParams(p *contract.Payload) (Params, error) {
	params := Params{LockTTLMinutes: DefaultLockTTLMinutes}
	if err := p.DecodeWith(&params); err != nil {
		return params, err
	}
	if params.LockTTLMinutes == 0 {
		params.LockTTLMinutes = DefaultLockTTLMinutes
	}
	if c := params.Correlate; c != nil && (c.By != "service" || c.WindowMinutes < 1 || c.WindowMinutes > 1440) {
		return params, &contract.InvalidInputError{Field: "with.correlate", Reason: "by must be service and windowMinutes between 1 and 1440"}
	}
	if params.LockTTLMinutes < 5 || params.LockTTLMinutes > 10080 {
		return params, &contract.InvalidInputError{Field: "with.lockTtlMinutes", Reason: fmt.Sprintf("%d is not between 5 and 10080", params.LockTTLMinutes)}
	}
	return params, nil
}

// execution converts $$.Execution for incident.Normalize. StartTime comes
// from Step Functions, so a retry of the state sees the same value and
// derives the same case id.
func execution(e contract.Execution) (incident.Execution, error) {
	out := incident.Execution{ID: e.ID, Name: e.Name}
	if e.StartTime == "" {
		return out, nil
	}
	t, err := time.Parse(time.RFC3339Nano, e.StartTime)
	if err != nil {
		return out, &contract.InvalidInputError{Field: "execution.StartTime", Reason: "is not an RFC 3339 time: " + err.Error()}
	}
	out.StartTime = t
	return out, nil
}

func summary(inc *incident.Incident, t *incident.Target, retaken bool) string {
	s := fmt.Sprintf("case %s: %s task %s (%s", inc.CaseID, t.LaunchType, shortID(t.TaskArn), t.NetworkMode)
	if inc.IsHost() {
		s = fmt.Sprintf("case %s: container instance %s in %s, %d task(s) on it (host finding", inc.CaseID, t.InstanceID, shortID(t.ClusterArn), len(t.HostTasks))
	}
	if n := len(t.ENIs); n == 1 {
		s += ", 1 ENI"
	} else {
		s += fmt.Sprintf(", %d ENIs", n)
	}
	if t.InstanceID != "" {
		s += " on " + t.InstanceID
	}
	s += ")"
	if t.LastStatus != "" && t.LastStatus != "RUNNING" {
		s += ", last status " + t.LastStatus
	}
	if r := inc.Requester; r != nil && r.Verified {
		s += fmt.Sprintf("; requested by %s (verified: %s)", r.ID, r.Via)
	} else {
		s += fmt.Sprintf("; requested by %s (claimed, not verified: every gate needs two approvers)", inc.RequestedBy)
	}
	if inc.DryRun {
		s += ", dry run"
	}
	if retaken {
		s += "; lock already held by this execution"
	}
	return s
}

func shortID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }
