package demo

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/catalog"
)

// TestHostFinding runs the shipped container-escape with the real handlers
// on moto, through the AWS-strict layer, on a GuardDuty finding about the
// container instance of the ec2-bridge world
// (examples/inputs/guardduty-ec2-host-escape.json retargeted to it),
// approved: COMPLETED with no strict refusal and no problem; every step
// whose action needs a task SKIPPED by its when: {target: task}; the host
// path's isolation and protection OK; the forEach revoked and stopped the
// tasks on the host, the world's task among them (STOPPED, its flows
// blocked); the instance's ENI, read back from moto, off its own groups
// (the quarantine).
func TestHostFinding(t *testing.T) {
	ep := mototest.DirectEndpoint(t)
	s := benchRunOptions(t, Options{Endpoint: ep, Decide: DecideApprove,
		Playbook: filepath.Join(repoRoot(t), "workflows", "container-escape.yaml"), Worlds: []string{"ec2-bridge"},
		Input: filepath.Join(repoRoot(t), "examples", "inputs", "guardduty-ec2-host-escape.json")})
	c := s.Cases[0]
	checkApproved(t, c)
	results := map[string][]string{}
	for _, st := range c.Steps {
		results[st.ID] = append(results[st.ID], st.Result)
		if a := catalog.Lookup(st.Action); a != nil && a.NeedsTask && !slices.Contains([]string{"revoke-host-task", "stop-host-task"}, st.ID) && st.Result != "SKIPPED" {
			t.Errorf("step %s (%s) needs a task and ended %s on a host finding; want SKIPPED", st.ID, st.Action, st.Result)
		}
	}
	for _, id := range []string{"host-tasks", "isolate-keep-ssm", "protect", "contain-host-tasks", "revoke-host-task", "stop-host-task"} {
		if len(results[id]) == 0 || slices.ContainsFunc(results[id], func(r string) bool { return r != "OK" }) {
			t.Errorf("step %s: %v; want OK", id, results[id])
		}
	}
	if c.Task.LastStatus != "STOPPED" {
		t.Errorf("the world's task, on the host, is %s; want STOPPED by the forEach", c.Task.LastStatus)
	}
	enis, err := ec2.NewFromConfig(mototest.ConfigFor(ep)).DescribeNetworkInterfaces(context.Background(),
		&ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: c.Target.ENIIDs})
	if err != nil || len(enis.NetworkInterfaces) == 0 {
		t.Fatalf("the instance's ENIs %v: %v", c.Target.ENIIDs, err)
	}
	for _, e := range enis.NetworkInterfaces {
		id := *e.NetworkInterfaceId
		for _, g := range e.Groups {
			if slices.Contains(c.Target.OriginalSecurityGroups[id], *g.GroupId) {
				t.Errorf("instance ENI %s is still in its own group %s; want it quarantined", id, *g.GroupId)
			}
		}
	}
}
