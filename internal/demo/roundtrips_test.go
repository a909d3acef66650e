package demo

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/internal/strict"
)

// at is an interval in milliseconds from an origin.
func at(start, end int) interval {
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	return interval{t0.Add(time.Duration(start) * time.Millisecond), t0.Add(time.Duration(end) * time.Millisecond)}
}

// TestSequentialRoundTrips: concurrent requests count once, requests sent
// one after the other each count, a chain of overlaps is as long as its
// longest run of disjoint requests.
func TestSequentialRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name string
		iv   []interval
		want int
	}{
		{"none", nil, 0},
		{"one", []interval{at(0, 10)}, 1},
		{"one after the other", []interval{at(0, 10), at(11, 20), at(21, 30)}, 3},
		{"sent on the answer (touching)", []interval{at(0, 10), at(10, 20)}, 2},
		{"all at once", []interval{at(0, 10), at(1, 12), at(2, 9), at(0, 11)}, 1},
		{"fan-out between two sequential calls", []interval{at(0, 5), at(6, 10), at(6, 11), at(7, 12), at(13, 20)}, 3},
		{"nested", []interval{at(0, 100), at(10, 20), at(30, 40)}, 2},
		{"overlap chain: a and c are sequential", []interval{at(0, 10), at(5, 20), at(15, 25)}, 2},
		{"out of order", []interval{at(21, 30), at(0, 10), at(11, 20)}, 3},
	} {
		if got := sequentialRoundTrips(tc.iv); got != tc.want {
			t.Errorf("%s: sequentialRoundTrips = %d; want %d", tc.name, got, tc.want)
		}
	}
}

// pathASL is a definition: Resolve target, a Parallel of a two-step
// sequence and one step, the isolation, a stop.
const pathASL = `{"StartAt":"Resolve target","States":{
 "Resolve target":{"Type":"Task","Parameters":{"Payload":{"action":"resolve-target","step":""}},"Next":"P"},
 "P":{"Type":"Parallel","Branches":[
   {"StartAt":"A1","States":{"A1":{"Type":"Task","Parameters":{"Payload":{"action":"collect-logs","step":"a1"}},"Next":"A2"},
                             "A2":{"Type":"Task","Parameters":{"Payload":{"action":"tag-resources","step":"a2"}},"End":true}}},
   {"StartAt":"B","States":{"B":{"Type":"Task","Parameters":{"Payload":{"action":"capture-memory","step":"b"}},"Next":"B wait"},
                            "B wait":{"Type":"Wait","Seconds":5,"Next":"B check"},
                            "B check":{"Type":"Task","Parameters":{"Payload":{"action":"capture-memory","step":"b"}},"End":true}}}],
  "Next":"G"},
 "G":{"Type":"Task","Parameters":{"Payload":{"action":"request-approval","step":"gate"}},"Next":"Iso"},
 "Iso":{"Type":"Task","Parameters":{"Payload":{"action":"isolate-network","step":"iso"}},"Next":"Stop"},
 "Stop":{"Type":"Task","Parameters":{"Payload":{"action":"stop-task","step":"stop"}},"End":true}}}`

func req(step, svc, op string, iv interval) strict.LoggedRequest {
	return strict.LoggedRequest{Step: step, Service: svc, Operation: op, Status: 200, Start: iv.start, End: iv.end}
}

func TestContainmentPath(t *testing.T) {
	run := &simulate.Execution{Steps: []simulate.Step{
		{Step: "resolve-target", Action: "resolve-target", State: "Resolve target", Result: "OK"},
		{Step: "a1", Action: "collect-logs", State: "A1", Result: "OK"},
		{Step: "a2", Action: "tag-resources", State: "A2", Result: "OK"},
		{Step: "b", Action: "capture-memory", State: "B", Result: "OK"},
		{Step: "b", Action: "capture-memory", State: "B check", Result: "OK"},
		{Step: "iso", Action: "isolate-network", State: "Iso", Result: "OK"},
		{Step: "stop", Action: "stop-task", State: "Stop", Result: "OK"},
		{Step: "gate", Action: "request-approval", State: "G", Result: "APPROVED"},
	}}
	audit := func(step string, iv interval) strict.LoggedRequest {
		r := req(step, "dynamodb", "PutItem", iv)
		r.Resource = "audit"
		return r
	}
	reqs := []strict.LoggedRequest{
		req("resolve-target", "ecs", "DescribeTasks", at(0, 10)), audit("resolve-target", at(11, 20)), // 2
		req("", "dynamodb", "GetItem", at(21, 22)),                                                    // no step: not counted
		req("a1", "logs", "FilterLogEvents", at(30, 40)), req("a2", "ecs", "TagResource", at(41, 50)), // branch 1: 2
		req("b", "ssm", "SendCommand", at(51, 60)), req("b", "ssm", "GetCommandInvocation", at(61, 70)), // branch 2: 3
		audit("b", at(71, 80)),
		req("gate", "sns", "Publish", at(81, 84)), req("", "dynamodb", "UpdateItem", at(85, 89)), // the approver's answer: not counted
		audit("iso", at(90, 95)), req("iso", "ec2", "DescribeNetworkAcls", at(96, 100)), // 2
		req("iso", "ec2", "CreateNetworkAclEntry", at(101, 110)), req("iso", "ec2", "CreateNetworkAclEntry", at(102, 111)), // 1
		audit("iso", at(112, 120)), req("stop", "ecs", "StopTask", at(121, 130)), // after containment
	}
	p, err := containmentPath([]byte(pathASL), run, reqs, "audit", 0)
	if err != nil {
		t.Fatal(err)
	}
	// 2 + max(2, 3) + 1 + 3: the Parallel's branches count once, by the longest.
	if p.Step != "iso" || p.RoundTrips != 9 || p.Requests != 12 || p.AuditRoundTrips != 3 {
		t.Errorf("path = step %q, %d round trips, %d requests, %d audit; want iso, 9, 12, 3", p.Step, p.RoundTrips, p.Requests, p.AuditRoundTrips)
	}
	if p.AfterDecision == nil || *p.AfterDecision != 3 {
		t.Errorf("after the decision: %v; want 3 (the isolation's)", p.AfterDecision)
	}
	if p.AfterTriage != nil {
		t.Errorf("after the triage: %v; want nil (no exec-triage ran)", *p.AfterTriage)
	}
	if p.AfterMemory != nil {
		t.Errorf("after the memory capture: %v; want nil (memory was taken before the decision)", *p.AfterMemory)
	}
	// The same run without a gate (g a notification): the memory capture
	// comes before containment with no decision before it, so it is
	// counted after b's last request.
	ungated := slices.Clone(run.Steps)
	for i := range ungated {
		if ungated[i].Step == "gate" {
			ungated[i].Action = "notify"
		}
	}
	if mp, err := containmentPath([]byte(pathASL), &simulate.Execution{Steps: ungated}, reqs, "audit", 0); err != nil || mp.AfterMemory == nil || *mp.AfterMemory != 4 || mp.AfterDecision != nil {
		t.Errorf("after the memory capture: %v (after the decision %v), %v; want 4 (g's 1 and the isolation's 3) and no decision", mp.AfterMemory, mp.AfterDecision, err)
	}
	// The same run with b an ECS Exec triage: counted after its last request.
	triaged := slices.Clone(run.Steps)
	for i := range triaged {
		if triaged[i].Step == "b" {
			triaged[i].Action = "exec-triage"
		}
	}
	if tp, err := containmentPath([]byte(pathASL), &simulate.Execution{Steps: triaged}, reqs, "audit", 0); err != nil || tp.AfterTriage == nil || *tp.AfterTriage != 4 {
		t.Errorf("after the triage: %v, %v; want 4 (the gate's 1 and the isolation's 3)", tp.AfterTriage, err)
	}
	var steps []string
	for _, s := range p.Steps {
		steps = append(steps, s.Step+"/"+s.Parallel)
	}
	if got := strings.Join(steps, " "); got != "resolve-target/ a1/P a2/P b/P gate/ iso/" {
		t.Errorf("steps = %s", got)
	}
	// A step the definition does not name counts one after the other.
	p, _ = containmentPath([]byte(pathASL), run, append([]strict.LoggedRequest{req("elsewhere", "sts", "GetCallerIdentity", at(-10, -5))}, reqs...), "audit", 0)
	if p.RoundTrips != 10 {
		t.Errorf("with an unknown step's request: %d round trips; want 10", p.RoundTrips)
	}

	// An isolation that was caught contained nothing.
	run.Steps[5].Result = simulate.ResultCaught
	p, _ = containmentPath([]byte(pathASL), run, reqs, "audit", 0)
	if p.Step != "" || p.RoundTrips != 0 || !strings.Contains(p.Reason, "iso ended CAUGHT") {
		t.Errorf("caught isolation: %+v", p)
	}
	// An isolation that changed nothing contained nothing either.
	run.Steps[5].Result = "OK"
	var noEntries []strict.LoggedRequest
	for _, r := range reqs {
		if r.Operation != "CreateNetworkAclEntry" {
			noEntries = append(noEntries, r)
		}
	}
	p, _ = containmentPath([]byte(pathASL), run, noEntries, "audit", 0)
	if p.Step != "" || !strings.Contains(p.Reason, "changed no network ACL entry") {
		t.Errorf("isolation without changes: %+v", p)
	}
	// The path says what floor the layer held requests to.
	if p, _ = containmentPath([]byte(pathASL), run, reqs, "audit", 50*time.Millisecond); p.LatencyMs != 50 {
		t.Errorf("latencyMs = %d; want 50", p.LatencyMs)
	}
}
