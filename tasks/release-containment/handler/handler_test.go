package handler

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/ledger"
)

const (
	role   = "payments-task"
	sid    = "IrflowDenyTaskabc"
	svcArn = "arn:aws:ecs:us-east-1:123456789012:service/c/api"
	ciArn  = "arn:aws:ecs:us-east-1:123456789012:container-instance/c/1"
	tgArn  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1"
)

func entry(t *testing.T, id, kind, step, action string, data any) ledger.Entry {
	t.Helper()
	e, err := ledger.New(id, kind, step, action, "r", data, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func deny(egress bool, rule int32, cidr string) ec2types.NetworkAclEntry {
	return ec2types.NetworkAclEntry{Egress: aws.Bool(egress), RuleNumber: aws.Int32(rule), RuleAction: ec2types.RuleActionDeny,
		Protocol: aws.String("-1"), CidrBlock: aws.String(cidr)}
}

func taskDeny() string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"` + sid + `","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:userid":"AROA:abc"}}}]}`
}

// contained is a world after isolate (instance ENI swapped, two NACL
// denies), protect, revoke and scale, with the ledger those actions write.
func contained(t *testing.T) *world {
	w := &world{
		enis:     map[string][]string{"eni-1": {"sg-q"}},
		acls:     map[string][]ec2types.NetworkAclEntry{"acl-1": {deny(false, 1, "10.0.1.5/32"), deny(true, 1, "10.0.1.5/32")}},
		groups:   map[string]bool{"sg-q": true, "sg-t": true},
		attrs:    map[string]bool{"i-1:disableApiTermination": true},
		asg:      map[string]string{"i-1": "Standby"},
		ci:       map[string]string{ciArn: "DRAINING"},
		services: map[string]int32{svcArn: 0},
		policies: map[string]string{role + "/irflow-deny-abc": taskDeny()},
	}
	w.ledger = &ledger.Ledger{CaseID: "case-1", Version: 1, Entries: []ledger.Entry{
		entry(t, "nacl:acl-1:in:1", ledger.KindNACLEntry, "isolate", "isolate-network", ledger.NACLEntryData{NetworkAclID: "acl-1", RuleNumber: 1, CidrBlock: "10.0.1.5/32"}),
		entry(t, "nacl:acl-1:out:1", ledger.KindNACLEntry, "isolate", "isolate-network", ledger.NACLEntryData{NetworkAclID: "acl-1", RuleNumber: 1, Egress: true, CidrBlock: "10.0.1.5/32"}),
		entry(t, "sg:eni-1", ledger.KindSecurityGroups, "isolate", "isolate-network", ledger.SecurityGroupsData{ENI: "eni-1", PreviousGroups: []string{"sg-app", "sg-db"}, QuarantineGroup: "sg-q", TransitGroup: "sg-t"}),
		entry(t, "protect:i-1:disableApiTermination", ledger.KindInstanceProtection, "protect", "protect-instance", ledger.InstanceProtectionData{InstanceID: "i-1", Attribute: "disableApiTermination", Previous: false}),
		entry(t, "standby:i-1", ledger.KindStandby, "protect", "protect-instance", ledger.StandbyData{AutoScalingGroup: "asg", InstanceID: "i-1", PreviousState: "InService"}),
		entry(t, "tg:x", ledger.KindTargetGroup, "protect", "protect-instance", ledger.TargetGroupData{TargetGroupArn: tgArn, TargetID: "i-1", Port: 8080}),
		entry(t, "drain:ci", ledger.KindDrain, "protect", "protect-instance", ledger.DrainData{Cluster: "c", ContainerInstanceArn: ciArn, PreviousStatus: "ACTIVE"}),
		entry(t, "role-policy:x", ledger.KindRolePolicy, "revoke", "revoke-task-role-sessions", ledger.RolePolicyData{RoleName: role, PolicyName: "irflow-deny-abc", Sid: sid, Scope: "task"}),
		entry(t, "desired-count:x", ledger.KindDesiredCount, "scale", "scale-service", ledger.DesiredCountData{Cluster: "c", Service: "api", ServiceArn: svcArn, Previous: 3, DesiredCount: 0}),
	}}
	return w
}

func handlerOf(w *world) *Handler {
	return &Handler{EC2: w, ASG: w, ELB: w, ECS: w, IAM: w, Ledger: w}
}

func payload(dry bool, with string) *contract.Payload {
	return &contract.Payload{Action: "release-containment", Step: "release", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: "case-1", DryRun: dry}}
}

func release(t *testing.T, w *world, dry bool, with string) *contract.Result {
	t.Helper()
	r, err := handlerOf(w).Handle(context.Background(), payload(dry, with))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func outcomes(r *contract.Result) map[string]string {
	out := map[string]string{}
	for _, o := range r.Outputs["entries"].([]Outcome) {
		out[o.ID] = o.Outcome
	}
	return out
}

// TestReleaseAll: everything is undone, newest first, the groups irflow
// made are deleted once the ENI is off them, and the ledger is stamped.
func TestReleaseAll(t *testing.T) {
	w := contained(t)
	r := release(t, w, false, `{}`)
	want := []string{
		"UpdateService " + svcArn + " 3",
		"DeleteRolePolicy " + role + " irflow-deny-abc",
		"UpdateContainerInstancesState " + ciArn + " ACTIVE",
		"RegisterTargets " + tgArn + " i-1:8080",
		"ExitStandby asg i-1",
		"ModifyInstanceAttribute i-1 disableApiTermination=false",
		"ModifyNetworkInterfaceAttribute eni-1 sg-app,sg-db",
		"DeleteNetworkAclEntry acl-1 true 1",
		"DeleteNetworkAclEntry acl-1 false 1",
		"DeleteSecurityGroup sg-q",
		"DeleteSecurityGroup sg-t",
		"MarkRemoved release desired-count:x,drain:ci,nacl:acl-1:in:1,nacl:acl-1:out:1,protect:i-1:disableApiTermination,role-policy:x,sg:eni-1,standby:i-1,tg:x",
	}
	if !reflect.DeepEqual(w.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(w.calls, "\n"), strings.Join(want, "\n"))
	}
	if r.Status != contract.StatusOK || r.Outputs["releaseStatus"] != Released || r.Outputs["released"] != 9 {
		t.Errorf("result %s %v: %s", r.Status, r.Outputs["releaseStatus"], r.Summary)
	}

	// A second release changes nothing and says so.
	w.calls = nil
	r = release(t, w, false, `{}`)
	if len(w.calls) != 0 || r.Outputs["releaseStatus"] != Released || !strings.HasPrefix(r.Summary, "already released") || r.Outputs["alreadyReleased"] != 9 {
		t.Errorf("second release: calls %v, %v %q", w.calls, r.Outputs["releaseStatus"], r.Summary)
	}
}

// TestDryRun: every check runs, nothing changes, the ledger is untouched.
func TestDryRun(t *testing.T) {
	w := contained(t)
	r := release(t, w, true, `{}`)
	if len(w.calls) != 0 {
		t.Errorf("a dry run called %v", w.calls)
	}
	if r.Status != contract.StatusDryRun || r.Outputs["releaseStatus"] != Released || !reflect.DeepEqual(r.Outputs["securityGroupsDeleted"], []string{"sg-q", "sg-t"}) {
		t.Errorf("dry run: %s %v %v %q", r.Status, r.Outputs["releaseStatus"], r.Outputs["securityGroupsDeleted"], r.Summary)
	}
	for id, o := range outcomes(r) {
		if o != OutcomeWould {
			t.Errorf("%s: %s; want %s", id, o, OutcomeWould)
		}
	}
}

// TestWorldMovedOn: a hand-changed ENI and a service scaled by someone
// else are refused with their reasons; the rest is released, and the
// quarantine groups, on no ENI any more, are deleted.
func TestWorldMovedOn(t *testing.T) {
	w := contained(t)
	w.enis["eni-1"] = []string{"sg-other"}
	w.services[svcArn] = 5
	r := release(t, w, false, `{}`)
	got := outcomes(r)
	if got["sg:eni-1"] != OutcomeRefused || got["desired-count:x"] != OutcomeRefused || got["drain:ci"] != OutcomeReleased {
		t.Errorf("outcomes %v", got)
	}
	if r.Outputs["releaseStatus"] != PartiallyReleased || !strings.Contains(r.Summary, "ENI eni-1 has groups sg-other now") ||
		!strings.Contains(r.Summary, "desired count 5 now, not the 0 irflow set") {
		t.Errorf("%v: %s", r.Outputs["releaseStatus"], r.Summary)
	}
	if !reflect.DeepEqual(w.enis["eni-1"], []string{"sg-other"}) || w.services[svcArn] != 5 {
		t.Errorf("refused entries were changed: %v %d", w.enis["eni-1"], w.services[svcArn])
	}
	if w.groups["sg-q"] || !reflect.DeepEqual(r.Outputs["securityGroupsDeleted"], []string{"sg-q", "sg-t"}) {
		t.Errorf("the quarantine groups no ENI uses were not deleted: %v", r.Outputs["securityGroupsDeleted"])
	}
	if e := w.ledger.Find("sg:eni-1"); e.Removed() {
		t.Error("a refused entry was stamped removed")
	}
	// The ENI gone: refused too.
	delete(w.enis, "eni-1")
	r = release(t, w, false, `{}`)
	if o := r.Outputs["entries"].([]Outcome); r.Outputs["releaseStatus"] != PartiallyReleased || !strings.Contains(r.Summary, "ENI eni-1 no longer exists") {
		t.Errorf("ENI gone: %v %q %v", r.Outputs["releaseStatus"], r.Summary, o)
	}
}

// TestLaterStatementKept: only irflow's statement goes; a statement added
// to the policy since stays.
func TestLaterStatementKept(t *testing.T) {
	w := contained(t)
	later := `{"Sid":"Later","Effect":"Deny","Action":"s3:*","Resource":"*"}`
	w.policies[role+"/irflow-deny-abc"] = strings.Replace(taskDeny(), `}]}`, `},`+later+`]}`, 1)
	release(t, w, false, `{"steps":["revoke"]}`)
	doc := w.policies[role+"/irflow-deny-abc"]
	if strings.Contains(doc, sid) || !strings.Contains(doc, `"Sid":"Later"`) {
		t.Errorf("policy after release: %s", doc)
	}
	if len(w.calls) != 2 || !strings.HasPrefix(w.calls[0], "PutRolePolicy") {
		t.Errorf("calls %v", w.calls)
	}
	// A replaced revocation is put back.
	w = contained(t)
	w.ledger.Entries[7] = entry(t, "role-policy:x", ledger.KindRolePolicy, "revoke", "revoke-task-role-sessions",
		ledger.RolePolicyData{RoleName: role, PolicyName: "irflow-deny-abc", Sid: sid, PreviousDocument: `{"prev":1}`})
	release(t, w, false, `{"steps":["revoke"]}`)
	if w.policies[role+"/irflow-deny-abc"] != `{"prev":1}` {
		t.Errorf("replaced revocation not restored: %v", w.policies)
	}
}

// TestStepsSubset: with.steps releases only those steps' changes.
func TestStepsSubset(t *testing.T) {
	w := contained(t)
	r := release(t, w, false, `{"steps":["scale"]}`)
	if len(w.calls) != 2 || w.calls[0] != "UpdateService "+svcArn+" 3" || len(outcomes(r)) != 1 {
		t.Errorf("calls %v outcomes %v", w.calls, outcomes(r))
	}
}

// TestNACLEntryReplaced: another rule at irflow's number is left alone and
// the entry counts as released (irflow's deny is not there).
func TestNACLEntryReplaced(t *testing.T) {
	w := contained(t)
	allow := deny(false, 1, "10.9.9.9/32")
	allow.RuleAction = ec2types.RuleActionAllow
	w.acls["acl-1"][0] = allow
	r := release(t, w, false, `{"steps":["isolate"]}`)
	if outcomes(r)["nacl:acl-1:in:1"] != OutcomeAlready || len(w.acls["acl-1"]) != 1 || w.acls["acl-1"][0].RuleAction != ec2types.RuleActionAllow {
		t.Errorf("outcomes %v acl %v", outcomes(r), w.acls["acl-1"])
	}
}

// TestNoLedger: without an incidents table there is nothing to read.
func TestNoLedger(t *testing.T) {
	_, err := (&Handler{}).Handle(context.Background(), payload(false, `{}`))
	if contract.ErrorName(err) != "PreconditionFailedError" {
		t.Errorf("error %v", err)
	}
}

// TestCatalogDeclaresUndo: the catalog is the single source of truth of
// what is undone: every ledger kind this action undoes is declared by
// exactly one containment action's Undo, every kind declared is undone
// here, and every containment action says how it is undone.
func TestCatalogDeclaresUndo(t *testing.T) {
	declared := map[string]string{}
	for _, a := range catalog.All() {
		if a.Kind != catalog.KindContainment || a.Name == catalog.ReleaseAction {
			continue
		}
		if a.Undo == nil {
			t.Errorf("containment action %s declares no undo", a.Name)
			continue
		}
		if a.Undo.Action != catalog.ReleaseAction || catalog.Lookup(a.Undo.Action) == nil {
			t.Errorf("%s: undo action %q", a.Name, a.Undo.Action)
		}
		for _, k := range a.Undo.Ledger {
			if other, dup := declared[k]; dup {
				t.Errorf("ledger kind %s declared by %s and %s", k, other, a.Name)
			}
			declared[k] = a.Name
		}
	}
	var got []string
	for k := range declared {
		got = append(got, k)
	}
	want := append([]string(nil), Kinds...)
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("catalog declares %v; release undoes %v", got, want)
	}
	all := append([]string(nil), ledger.Kinds...)
	sort.Strings(all)
	if !reflect.DeepEqual(all, want) {
		t.Errorf("ledger kinds %v; release undoes %v", all, want)
	}
}

// TestPinUndone: a service pin-service rolled back goes back on the
// revision it ran before, once; a service someone deployed since is
// refused with the revisions named, and left alone.
func TestPinUndone(t *testing.T) {
	const pinned = "arn:aws:ecs:us-east-1:123456789012:service/c/web"
	pin := func(t *testing.T, now string) *world {
		w := contained(t)
		w.services[pinned], w.revisions = 2, map[string]string{pinned: now}
		w.ledger.Entries = append(w.ledger.Entries, entry(t, ledger.TaskDefinitionID(pinned), ledger.KindTaskDefinition, "pin", "pin-service",
			ledger.TaskDefinitionData{Cluster: "c", Service: "web", ServiceArn: pinned, Previous: "web:3", Pinned: "web:2"}))
		return w
	}
	w := pin(t, "web:2")
	if r := release(t, w, true, `{"steps":["pin"]}`); outcomes(r)[ledger.TaskDefinitionID(pinned)] != OutcomeWould || len(w.calls) != 0 {
		t.Errorf("dry run: %v calls %v", outcomes(r), w.calls)
	}
	r := release(t, w, false, `{"steps":["pin"]}`)
	if outcomes(r)[ledger.TaskDefinitionID(pinned)] != OutcomeReleased || w.revisions[pinned] != "web:3" || w.calls[0] != "UpdateService "+pinned+" web:3" {
		t.Errorf("release: %v revision %s calls %v", outcomes(r), w.revisions[pinned], w.calls)
	}
	w.calls = nil
	if r := release(t, w, false, `{"steps":["pin"]}`); outcomes(r)[ledger.TaskDefinitionID(pinned)] != OutcomeAlready || len(w.calls) != 0 {
		t.Errorf("second release: %v calls %v", outcomes(r), w.calls)
	}
	w = pin(t, "web:4")
	r = release(t, w, false, `{"steps":["pin"]}`)
	var o Outcome
	for _, x := range r.Outputs["entries"].([]Outcome) {
		o = x
	}
	if r.Outputs["releaseStatus"] != PartiallyReleased || o.Outcome != OutcomeRefused || !strings.Contains(o.Reason, "runs web:4 now, not web:2") ||
		w.revisions[pinned] != "web:4" {
		t.Errorf("deployed since: %v %+v revision %s", r.Outputs["releaseStatus"], o, w.revisions[pinned])
	}
}
