package handler

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
)

// TestIsolateBridgeActsOnInstance: the instance's own ENIs pass through
// the all-traffic transit group to the quarantine group (the runbook's
// untracking step), their originals tagged and in the ledger first; ENIs
// ECS manages on the instance are left alone and listed.
func TestIsolateBridgeActsOnInstance(t *testing.T) {
	for _, mode := range []string{"bridge", "host", ""} {
		t.Run("mode="+mode, func(t *testing.T) {
			s := newVPC()
			s.enis["eni-task"].Attachment = &ec2types.NetworkInterfaceAttachment{InstanceId: aws.String("i-1")} // another task's awsvpc ENI
			s.enis["eni-trunk"] = &ec2types.NetworkInterface{NetworkInterfaceId: aws.String("eni-trunk"), VpcId: aws.String("vpc-1"),
				InterfaceType: ec2types.NetworkInterfaceTypeTrunk, Attachment: &ec2types.NetworkInterfaceAttachment{InstanceId: aws.String("i-1")}}
			p := payload(mode, false, `{"quarantineGroupName":"ir-q"}`)
			if mode == "" {
				p.Target.LaunchType, p.Target.InstanceID = "EC2", "i-1"
			}
			f := newFake(s)
			res, err := handler(f).Handle(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			qid := aws.ToString(s.named("ir-q")[0].GroupId)
			tid := aws.ToString(s.named("ir-q-transit")[0].GroupId)
			for _, id := range []string{"eni-inst0", "eni-inst1"} {
				if got := s.groupsOf(id); !reflect.DeepEqual(got, []string{qid}) {
					t.Errorf("%s groups %v; want [%s]", id, got, qid)
				}
			}
			// Each ENI through the transit group to the quarantine; the
			// ENIs move at once, so only each one's own order counts.
			for _, id := range []string{"eni-inst0", "eni-inst1"} {
				var moves []string
				for _, m := range f.modify {
					if strings.HasPrefix(m, id+"=") {
						moves = append(moves, m)
					}
				}
				if want := []string{id + "=" + tid, id + "=" + qid}; !reflect.DeepEqual(moves, want) {
					t.Errorf("%s moves %v; want %v", id, moves, want)
				}
			}
			if len(f.modify) != 4 {
				t.Errorf("moves %v; want 4", f.modify)
			}
			transit := s.named("ir-q-transit")[0]
			if got := ruleStrings(explode(transit.IpPermissions)); !reflect.DeepEqual(got, []string{"all/all to 0.0.0.0/0", "all/all to ::/0"}) {
				t.Errorf("transit ingress %v", got)
			}
			if got := tagValue(s.enis["eni-inst0"].TagSet, tagPrevious); got != "sg-app,sg-ops" {
				t.Errorf("eni-inst0 previous tag %q", got)
			}
			if s.groupsOf("eni-task")[0] != "sg-app" || eniNamed(t, res, "eni-task").Treatment != untouchedECS || eniNamed(t, res, "eni-trunk").Treatment != untouchedTrunk {
				t.Error("instance isolation touched an ENI ECS manages")
			}
			var d ledger.SecurityGroupsData
			if len(f.ledger) != 2 || f.ledger[0].ID != "sg:eni-inst0" || f.ledger[0].Decode(&d) != nil ||
				!reflect.DeepEqual(d.PreviousGroups, []string{"sg-app", "sg-ops"}) || d.QuarantineGroup != qid || d.TransitGroup != tid {
				t.Errorf("ledger %+v data %+v", f.ledger, d)
			}
			if !strings.Contains(res.Summary, "every task on the instance") || res.Outputs["instanceId"] != "i-1" || res.Outputs["scope"] != scopeInstance {
				t.Errorf("summary %q outputs %v", res.Summary, res.Outputs)
			}
			if got := classes(res); !reflect.DeepEqual(got, []string{flowNATTracked, flowECSAgent, flowDNS, flowMetadata, flowCredentials}) {
				t.Errorf("residual classes %v", got)
			}
		})
	}
}

// TestIsolateKeepsTheAgent: with ECS interface endpoints, the quarantine
// allows HTTPS to them (stops and drains reach the agent); the deny-all
// variant then has exactly those rules.
func TestIsolateKeepsTheAgent(t *testing.T) {
	s := newVPC().withEndpoints(ecsAll...)
	res, err := handler(newFake(s)).Handle(context.Background(), payload("bridge", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	q := s.named("irflow-quarantine")[0]
	want := []string{"tcp/443 to 10.0.1.10/32", "tcp/443 to 10.0.1.11/32", "tcp/443 to 10.0.1.12/32"}
	if got := ruleStrings(explode(q.IpPermissionsEgress)); !reflect.DeepEqual(got, want) || len(q.IpPermissions) != 0 {
		t.Errorf("quarantine egress %v ingress %v; want %v", got, q.IpPermissions, want)
	}
	rs := res.Outputs["residuals"].([]residual)
	if rs[1].FlowClass != flowECSAgent || !strings.Contains(rs[1].Reason, "ecs, ecs-agent, ecs-telemetry") || rs[1].Partial {
		t.Errorf("agent residual %+v", rs[1])
	}
	if !strings.Contains(res.Summary, "HTTPS to the ECS endpoints") {
		t.Errorf("summary %q", res.Summary)
	}
}

func TestIsolateAllowSsm(t *testing.T) {
	s := newVPC().withEndpoints(ssmAndS3...)
	f := newFake(s)
	res, err := handler(f).Handle(context.Background(), payload("bridge", false, `{"allowSsm":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.named("irflow-quarantine")) != 0 || len(s.named("irflow-quarantine-ssm")) != 1 {
		t.Fatal("allowSsm did not use the -ssm group")
	}
	q := s.named("irflow-quarantine-ssm")[0]
	got := ruleStrings(explode(q.IpPermissionsEgress))
	want := []string{"tcp/443 to 10.0.1.10/32", "tcp/443 to 10.0.1.11/32", "tcp/443 to 10.0.1.12/32", "tcp/443 to pl-63a5400a"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("egress %v; want %v", got, want)
	}
	if tagValue(q.Tags, tagVariant) != "allow-ssm" || !strings.Contains(res.Summary, "ssm, ssmmessages and ec2messages endpoints") || res.Outputs["ssmFallback"] != nil {
		t.Errorf("tags %v summary %q", q.Tags, res.Summary)
	}

	// Tightening after the SSM evidence: the deny-all run keeps the originals.
	res, err = handler(f).Handle(context.Background(), payload("bridge", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if e := eniNamed(t, res, "eni-inst0"); !e.Changed || !reflect.DeepEqual(e.Previous, []string{"sg-app", "sg-ops"}) {
		t.Errorf("deny-all after allow-ssm: %+v", e)
	}
	if tagValue(s.enis["eni-inst0"].TagSet, tagPrevious) != "sg-app,sg-ops" {
		t.Error("the previous-groups tag lost the originals")
	}
}

// TestIsolateAllowSsmFallsBack: without SSM endpoints (or with private DNS
// off) allowSsm is not a failure: the instance gets the deny-all
// quarantine and outputs.ssmFallback says what is missing.
func TestIsolateAllowSsmFallsBack(t *testing.T) {
	tests := []struct {
		name    string
		state   func() *vpcState
		missing []string
	}{
		{"no endpoints", newVPC, []string{"ssm", "ssmmessages", "ec2messages"}},
		{"two missing", func() *vpcState { return newVPC().withEndpoints("ssm", "s3") }, []string{"ssmmessages", "ec2messages"}},
		{"private DNS off", func() *vpcState {
			s := newVPC().withEndpoints(ssmAndS3...)
			s.endpoints[0].PrivateDnsEnabled = aws.Bool(false)
			return s
		}, []string{"ssm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.state()
			res, err := handler(newFake(s)).Handle(context.Background(), payload("bridge", false, `{"allowSsm":true}`))
			if err != nil {
				t.Fatal(err)
			}
			fb, _ := res.Outputs["ssmFallback"].([]ssmFallback)
			if len(fb) != 1 || !reflect.DeepEqual(fb[0].Missing, tt.missing) || len(s.named("irflow-quarantine")) != 1 || len(s.named("irflow-quarantine-ssm")) != 0 {
				t.Errorf("fallback %+v", fb)
			}
			if !strings.Contains(res.Summary, "allowSsm fell back to deny-all") || res.Status != contract.StatusOK {
				t.Errorf("summary %q", res.Summary)
			}
		})
	}
}

func TestIsolateAllowSsmWithoutS3(t *testing.T) {
	s := newVPC().withEndpoints("ssm", "ssmmessages", "ec2messages")
	res, err := handler(newFake(s)).Handle(context.Background(), payload("bridge", false, `{"allowSsm":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Summary, "no S3 endpoint") {
		t.Errorf("summary %q does not warn about S3", res.Summary)
	}
}

// TestIsolateResumesFromTransit: an ENI left on the transit group by a run
// cut short goes straight to the quarantine, keeping the tagged originals.
func TestIsolateResumesFromTransit(t *testing.T) {
	s := newVPC()
	delete(s.enis, "eni-inst1")
	f := newFake(s)
	modify := f.modifyNI
	f.modifyNI = func(in *ec2.ModifyNetworkInterfaceAttributeInput) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
		if len(f.modify) == 2 {
			return nil, apiErr("InternalError") // cut short on the transit group
		}
		return modify(in)
	}
	if _, err := handler(f).Handle(context.Background(), payload("bridge", false, `{}`)); contract.ErrorName(err) != contract.ErrRetryable {
		t.Fatalf("first run: %v", err)
	}
	tid := aws.ToString(s.named("irflow-quarantine-transit")[0].GroupId)
	if got := s.groupsOf("eni-inst0"); !reflect.DeepEqual(got, []string{tid}) {
		t.Fatalf("after the cut: %v", got)
	}
	f.modifyNI, f.modify = modify, nil
	res, err := handler(f).Handle(context.Background(), payload("bridge", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	qid := aws.ToString(s.named("irflow-quarantine")[0].GroupId)
	if !reflect.DeepEqual(f.modify, []string{"eni-inst0=" + qid}) {
		t.Errorf("moves %v; want straight to the quarantine", f.modify)
	}
	if e := eniNamed(t, res, "eni-inst0"); !reflect.DeepEqual(e.Previous, []string{"sg-app", "sg-ops"}) {
		t.Errorf("previous %v", e.Previous)
	}
}
