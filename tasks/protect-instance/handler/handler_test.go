package handler

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/ledger/ledgertest"
)

const (
	inst    = "i-0123456789abcdef0"
	ciArn   = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef"
	cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
	tgWeb   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
	tgAPI   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef"
	tgIP    = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tasks/0123456789abcdef"
	tgOther = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other-vpc/0123456789abcdef"
)

type fakes struct {
	log    *calls
	ec2    *fakeEC2
	asg    *fakeASG
	elb    *fakeELB
	ecs    *fakeECS
	ledger *ledgertest.Appender
}

// newTest is an instance InService in ecs-asg, registered in two instance
// target groups of its VPC (web on two dynamic ports, api on one), with an
// ip target group and another VPC's group that do not hold it, and an
// ACTIVE container instance whose agent is connected.
func newTest() (*Handler, fakes) {
	log := &calls{}
	f := fakes{log: log, ec2: &fakeEC2{log: log, attrs: map[string]bool{}}, asg: &fakeASG{log: log, group: "ecs-asg", state: "InService"},
		elb: &fakeELB{log: log, targets: map[string]map[string]elbtypes.TargetHealthDescription{}},
		ecs: &fakeECS{log: log, status: "ACTIVE", connected: true}, ledger: &ledgertest.Appender{OnAppend: func() { *log = append(*log, "LedgerAppend") }}}
	f.elb.register(tgWeb, "vpc-1", elbtypes.TargetTypeEnumInstance, inst, 32768, elbtypes.TargetHealthStateEnumHealthy)
	f.elb.register(tgWeb, "vpc-1", elbtypes.TargetTypeEnumInstance, inst, 32769, elbtypes.TargetHealthStateEnumHealthy)
	f.elb.register(tgWeb, "vpc-1", elbtypes.TargetTypeEnumInstance, "i-0fedcba9876543210", 32768, elbtypes.TargetHealthStateEnumHealthy)
	f.elb.register(tgAPI, "vpc-1", elbtypes.TargetTypeEnumInstance, inst, 8080, elbtypes.TargetHealthStateEnumUnhealthy)
	f.elb.register(tgIP, "vpc-1", elbtypes.TargetTypeEnumIp, "10.0.1.5", 8080, elbtypes.TargetHealthStateEnumHealthy)
	f.elb.register(tgOther, "vpc-2", elbtypes.TargetTypeEnumInstance, inst, 80, elbtypes.TargetHealthStateEnumHealthy)
	return &Handler{EC2: f.ec2, ASG: f.asg, ELB: f.elb, ECS: f.ecs, Ledger: f.ledger}, f
}

func payload(dry bool, with string) *contract.Payload {
	if with == "" {
		with = "{}"
	}
	return &contract.Payload{Action: "protect-instance", Step: "protect", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-2", DryRun: dry},
		Target: &incident.Target{LaunchType: "EC2", InstanceID: inst, ContainerInstanceArn: ciArn, ClusterArn: cluster, VpcID: "vpc-1",
			AutoScalingGroup: "ecs-asg", TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"}}
}

func ids(es []ledger.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestProtectsEverything(t *testing.T) {
	h, f := newTest()
	res, err := h.Handle(context.Background(), payload(false, ""))
	if err != nil {
		t.Fatal(err)
	}
	wantOrder := []string{"LedgerAppend", "ModifyInstanceAttribute", "ModifyInstanceAttribute", "EnterStandby",
		"DeregisterTargets", "DeregisterTargets", "DeregisterTargets", "UpdateContainerInstancesState"}
	if !reflect.DeepEqual([]string(*f.log), wantOrder) {
		t.Errorf("calls %v; want %v (ledger first, drain last)", *f.log, wantOrder)
	}
	if !f.ec2.attrs["disableApiTermination"] || !f.ec2.attrs["disableApiStop"] {
		t.Errorf("attributes %v", f.ec2.attrs)
	}
	sb := f.asg.standbys[0]
	if aws.ToString(sb.AutoScalingGroupName) != "ecs-asg" || aws.ToBool(sb.ShouldDecrementDesiredCapacity) || sb.ShouldDecrementDesiredCapacity == nil {
		t.Errorf("standby %+v; want the group, desired capacity kept", sb)
	}
	var dereg []string
	for _, d := range f.elb.derefs {
		dereg = append(dereg, aws.ToString(d.TargetGroupArn)[len(aws.ToString(d.TargetGroupArn))-len("api/0123456789abcdef")-1:]+
			":"+itoa(aws.ToInt32(d.Targets[0].Port)))
	}
	if want := []string{"/api/0123456789abcdef:8080", "/web/0123456789abcdef:32768", "/web/0123456789abcdef:32769"}; !reflect.DeepEqual(dereg, want) {
		t.Errorf("deregistered %v; want %v", dereg, want)
	}
	if len(f.elb.targets[tgWeb]) != 1 || len(f.elb.targets[tgOther]) != 1 {
		t.Error("deregistered another instance, or a group of another VPC")
	}
	if len(f.ecs.updates) != 1 || f.ecs.updates[0].Status != "DRAINING" || aws.ToString(f.ecs.updates[0].Cluster) != cluster {
		t.Errorf("drain %+v", f.ecs.updates)
	}
	wantIDs := []string{"protect:" + inst + ":disableApiTermination", "protect:" + inst + ":disableApiStop", "standby:" + inst,
		"tg:" + tgAPI + ":" + inst + ":8080", "tg:" + tgWeb + ":" + inst + ":32768", "tg:" + tgWeb + ":" + inst + ":32769", "drain:" + ciArn}
	if got := ids(f.ledger.Entries); !reflect.DeepEqual(got, wantIDs) {
		t.Errorf("ledger %v; want %v", got, wantIDs)
	}
	var tg ledger.TargetGroupData
	if err := f.ledger.Entries[3].Decode(&tg); err != nil || tg.Port != 8080 || tg.PreviousHealth != "unhealthy" || tg.TargetID != inst {
		t.Errorf("target-group record %+v %v", tg, err)
	}
	var dr ledger.DrainData
	if err := f.ledger.Entries[6].Decode(&dr); err != nil || dr.PreviousStatus != "ACTIVE" {
		t.Errorf("drain record %+v %v", dr, err)
	}
	if res.Outputs["standby"].(Standby).PreviousState != "InService" || len(res.Outputs["undo"].([]string)) != 7 ||
		!strings.Contains(res.Summary, "Standby in ecs-asg (desired capacity kept)") || !strings.Contains(res.Summary, "out of 3 target group registrations") {
		t.Errorf("result %q %v", res.Summary, res.Outputs)
	}
	if w, _ := res.Outputs["warning"].(string); !strings.Contains(w, "stops every task on the instance") {
		t.Errorf("warning %q", w)
	}

	// A second run finds everything done and changes nothing.
	*f.log = nil
	again, err := h.Handle(context.Background(), payload(false, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(*f.log) != 0 || !strings.Contains(again.Summary, "nothing to change") {
		t.Errorf("second run called %v: %q", *f.log, again.Summary)
	}
}

func TestProtectDryRun(t *testing.T) {
	h, f := newTest()
	res, err := h.Handle(context.Background(), payload(true, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(*f.log) != 0 || res.Status != contract.StatusDryRun || !strings.HasPrefix(res.Summary, "would protect") ||
		len(res.Outputs["targetGroups"].(*TargetGroups).Deregistered) != 3 {
		t.Errorf("dry run called %v: %s %q", *f.log, res.Status, res.Summary)
	}
}

func TestProtectFlagsOff(t *testing.T) {
	h, f := newTest()
	res, err := h.Handle(context.Background(), payload(false, `{"terminationProtection":false,"stopProtection":false,"standby":false,"deregisterTargets":false,"drain":false}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(*f.log) != 0 || f.ec2.describes != 0 || !strings.Contains(res.Summary, "nothing to change") {
		t.Errorf("flags off still called %v (%d describes): %q", *f.log, f.ec2.describes, res.Summary)
	}
}

func TestProtectStandbyStates(t *testing.T) {
	tests := []struct {
		name, group, state, wantNote string
		wantStandby                  bool
	}{
		{name: "no group", wantNote: "has left Auto Scaling group ecs-asg"},
		{name: "already standby", group: "ecs-asg", state: "Standby"},
		{name: "pending", group: "ecs-asg", state: "Pending", wantNote: "EnterStandby takes InService instances only"},
		{name: "in service", group: "ecs-asg", state: "InService", wantStandby: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f := newTest()
			f.asg.group, f.asg.state = tt.group, tt.state
			res, err := h.Handle(context.Background(), payload(false, ""))
			if err != nil {
				t.Fatal(err)
			}
			sb := res.Outputs["standby"].(Standby)
			if sb.Changed != tt.wantStandby || len(f.asg.standbys) != map[bool]int{true: 1}[tt.wantStandby] || !strings.Contains(sb.Note, tt.wantNote) {
				t.Errorf("standby %+v after %d calls", sb, len(f.asg.standbys))
			}
		})
	}
}

func TestProtectDrainNotes(t *testing.T) {
	h, f := newTest()
	f.ecs.connected = false
	res, err := h.Handle(context.Background(), payload(false, `{"standby":false}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Outputs["drain"].(Drain); !strings.Contains(d.Note, "agent is not connected") || !d.Changed {
		t.Errorf("drain %+v", d)
	}
	h, f = newTest()
	f.ecs.status = "DRAINING"
	res, err = h.Handle(context.Background(), payload(false, ""))
	if err != nil || len(f.ecs.updates) != 0 || !strings.Contains(res.Summary, "already: DRAINING") {
		t.Errorf("already draining: %v %q", err, res.Summary)
	}
}

func TestProtectErrors(t *testing.T) {
	tests := []struct {
		name    string
		fault   func(*fakes, *contract.Payload)
		wantErr string
	}{
		{name: "fargate", wantErr: "PreconditionFailedError", fault: func(_ *fakes, p *contract.Payload) { p.Target.InstanceID = "" }},
		{name: "bad instance id", wantErr: "InvalidInputError", fault: func(_ *fakes, p *contract.Payload) { p.Target.InstanceID = "i-$(reboot)" }},
		{name: "throttled describe", wantErr: "RetryableError", fault: func(f *fakes, _ *contract.Payload) { f.ec2.descErr = apiErr("RequestLimitExceeded") }},
		{name: "instance gone", wantErr: "TargetNotFoundError", fault: func(f *fakes, _ *contract.Payload) { f.ec2.descErr = apiErr("InvalidInstanceID.NotFound") }},
		{name: "container instance gone", wantErr: "TargetNotFoundError", fault: func(f *fakes, _ *contract.Payload) { f.ecs.status = "" }},
		{name: "drain refused", wantErr: "PreconditionFailedError", fault: func(f *fakes, _ *contract.Payload) { f.ecs.failure = "INACTIVE" }},
		{name: "standby denied", wantErr: "PreconditionFailedError", fault: func(f *fakes, _ *contract.Payload) { f.asg.err = apiErr("AccessDenied") }},
		{name: "ledger failing", wantErr: "RetryableError", fault: func(f *fakes, _ *contract.Payload) {
			f.ledger.Err = &contract.RetryableError{Op: "dynamodb:PutItem", Err: apiErr("ProvisionedThroughputExceededException")}
		}},
		{name: "unknown parameter", wantErr: "InvalidInputError", fault: func(_ *fakes, p *contract.Payload) { p.With = json.RawMessage(`{"asgProtection":true}`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f := newTest()
			p := payload(false, "")
			tt.fault(&f, p)
			_, err := h.Handle(context.Background(), p)
			if got := contract.ErrorName(err); got != tt.wantErr {
				t.Errorf("error %v (%s); want %s", err, got, tt.wantErr)
			}
			if tt.name == "ledger failing" && len(*f.log) != 1 {
				t.Errorf("changes made without the ledger record: %v", *f.log)
			}
		})
	}
}
