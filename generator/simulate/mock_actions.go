package simulate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/incident"
)

type mockAction func(p *mockPayload) (*mockResult, error)

// action returns the mock of a catalog action.
func (m *mocker) action(a *catalog.Action) mockAction {
	var run mockAction
	switch a.Name {
	case "resolve-target":
		return m.resolveTarget
	case "tag-resources":
		run = mockTag
	case "capture-task-metadata":
		run = mockMetadata
	case "find-siblings":
		run = mockSiblings
	case "collect-logs":
		run = mockLogs
	case "enable-flow-logs":
		run = mockFlowLogs
	case "snapshot-volumes":
		run = mockSnapshots
	case "capture-memory", "collect-host-artifacts", "capture-traffic":
		run = mockSSM
	case "exec-triage":
		run = mockExecTriage
	case "isolate-network":
		run = mockIsolate
	case "protect-instance":
		run = mockProtect
	case "revoke-task-role-sessions":
		run = mockRevoke
	case "stop-task":
		run = mockStop
	case "scale-service":
		run = mockScale
	case "pin-service":
		run = mockPin
	case "release-containment":
		run = mockRelease
	case "notify":
		return mockNotify
	case "request-approval":
		return mockApproval
	case "finalize-case":
		return mockFinalize
	default:
		return func(p *mockPayload) (*mockResult, error) {
			return result("OK", "simulated %s", a.Name), nil
		}
	}
	return needsTask(a, mutating(a, run))
}

// needsTask refuses, as the real handlers do, an action that acts on the
// target task when the target is a host finding's container instance
// (no task): the compiler keeps such steps off that path (when:
// {target: task}, or a forEach over the host's tasks), so a simulated run
// that reaches one is a bug the run must show.
func needsTask(a *catalog.Action, run mockAction) mockAction {
	if !a.NeedsTask {
		return run
	}
	return func(p *mockPayload) (*mockResult, error) {
		if p.Target != nil && p.Target.TaskArn == "" {
			return nil, invalidInput("target.taskArn", a.Name+" needs a task; the target is a container instance (a host finding)")
		}
		return run(p)
	}
}

// mutating turns the result of a mutating action into DRY_RUN under dryRun
// (what it would do, nothing changed); SKIPPED stays SKIPPED.
func mutating(a *catalog.Action, run mockAction) mockAction {
	return func(p *mockPayload) (*mockResult, error) {
		r, err := run(p)
		if err != nil || !a.Mutating || !p.DryRun() || r.Status != "OK" {
			return r, err
		}
		r.Status, r.Summary = "DRY_RUN", "dry run, nothing changed: would have "+r.Summary
		r.Evidence = r.Evidence[:0]
		if a.Async {
			r.Outputs["done"] = true // nothing was started: nothing to poll
		}
		return r, nil
	}
}

func withString(p *mockPayload, key, def string) string {
	if s, ok := p.with[key].(string); ok && s != "" {
		return s
	}
	return def
}

func withBool(p *mockPayload, key string, def bool) bool {
	if b, ok := p.with[key].(bool); ok {
		return b
	}
	return def
}

func mockTag(p *mockPayload) (*mockResult, error) {
	t := p.Target
	res := []string{}
	if t.TaskArn != "" { // "" for a host finding's target
		res = append(res, t.TaskArn)
	}
	for _, e := range t.ENIs {
		res = append(res, e.ID)
	}
	for _, r := range []string{t.ContainerInstanceArn, t.InstanceID} {
		if r != "" {
			res = append(res, r)
		}
	}
	res = append(res, t.VolumeIDs...)
	tags := map[string]any{"irflow:case-id": p.caseID(), "irflow:status": withString(p, "status", "UNDER_INVESTIGATION")}
	if extra, ok := p.with["extraTags"].(map[string]any); ok {
		for k, v := range extra {
			tags[k] = v
		}
	}
	return result("OK", "tagged %d resources with case %s", len(res), p.caseID()).with("resources", res, "tags", tags), nil
}

func mockMetadata(p *mockPayload) (*mockResult, error) {
	t := p.Target
	r := result("OK", "stored the task, task definition and ENI descriptions")
	r.store(p, "task.json", mockJSON(t))
	r.store(p, "task-definition.json", mockJSON(map[string]any{"taskDefinitionArn": t.TaskDefinitionArn, "containerDefinitions": t.Containers,
		"taskRoleArn": t.TaskRoleArn, "executionRoleArn": t.ExecutionRoleArn, "networkMode": t.NetworkMode}))
	r.store(p, "enis.json", mockJSON(t.ENIs))
	if t.Service != "" && withBool(p, "includeService", true) {
		r.store(p, "service.json", mockJSON(map[string]any{"serviceName": t.Service, "clusterArn": t.ClusterArn, "desiredCount": 2}))
		r.Summary = "stored the task, task definition, service and ENI descriptions"
	}
	return r.with("objects", len(r.Evidence)), nil
}

// mockSiblingTags are the tags of the simulated world's siblings, the same
// for every playbook: the second task of the image is tagged irflow=ignore
// and the clean revision's task canary=blue, so a playbook that excludes
// them (README's example exclude: {taskTags: {irflow: ignore, canary: "*"}})
// shows in a simulation what its exclude: leaves alone.
var mockSiblingTags = map[string]map[string]string{
	"sibling-2":     {"irflow": "ignore"},
	"sibling-clean": {"canary": "blue"},
}

// mockSiblings finds, in the target's cluster, two tasks of its image
// digests and family (one on its container instance, on EC2) and one of its
// family on a clean revision; all three share its task role. Without a
// known digest the two are of unknown digest, as the real action says. A
// task carrying a tag of with.excludeTaskTags (mockSiblingTags) is in no
// list but excluded, as in the real action.
func mockSiblings(p *mockPayload) (*mockResult, error) {
	t := p.Target
	if p.Incident != nil && p.Incident.IsHost() {
		return mockHostSiblings(p)
	}
	arn, _ := incident.ParseTaskARN(t.TaskArn)
	sib := func(what string) string {
		return fmt.Sprintf("arn:%s:ecs:%s:%s:task/%s/%s", arn.Partition, arn.Region, arn.Account, arn.Cluster, mockID(32, t.TaskArn, what))
	}
	names := map[string]string{}
	for _, n := range []string{"sibling-1", "sibling-2", "sibling-clean"} {
		names[sib(n)] = n
	}
	twins := []string{sib("sibling-1"), sib("sibling-2")}
	sort.Strings(twins)
	family := append([]string{sib("sibling-clean")}, twins...)
	sort.Strings(family)
	digests := []string{}
	for _, c := range t.Containers {
		if c.ImageDigest != "" {
			digests = append(digests, c.ImageDigest)
		}
	}
	lists := map[string][]string{"sameImage": twins, "sameFamily": family, "sameRole": {}, "sameInstance": {}, "unknownDigest": {}}
	if len(digests) == 0 {
		lists["sameImage"], lists["unknownDigest"] = []string{}, twins
	}
	if t.TaskRoleArn != "" {
		lists["sameRole"] = family
	}
	if t.ContainerInstanceArn != "" {
		lists["sameInstance"] = twins[:1]
	}
	excluded, rules := mockExclude(p.with, lists, func(arn string) map[string]string { return mockSiblingTags[names[arn]] })
	counts := map[string]int{"described": 4, "clusters": 1}
	capped := map[string][]string{}
	limit, truncated := 50, false
	if f, ok := p.with["maxListed"].(float64); ok && f >= 1 {
		limit = int(f)
	}
	for k, v := range lists {
		counts[k] = len(v)
		if len(v) > limit {
			v, truncated = v[:limit], true
		}
		capped[k] = v
	}
	r := result("OK", "siblings of task %s: %d share its image digest, %d its family, %d its task role, %d its container instance, %d of unknown digest; 4 running task(s) described in 1 cluster(s)%s",
		arn.ID, counts["sameImage"], counts["sameFamily"], counts["sameRole"], counts["sameInstance"], counts["unknownDigest"], incident.LeftAlone(len(excluded), rules))
	r.store(p, "siblings.json", mockJSON(map[string]any{"target": map[string]any{"taskArn": t.TaskArn, "imageDigests": digests}, "siblings": lists}))
	return r.with("siblings", capped, "imageDigests", digests, "imageDigestsComplete", len(digests) > 0, "counts", counts,
		"truncated", truncated, "complete", true, "stoppedBy", ""), nil
}

// mockHostSiblings is find-siblings on a host finding's target: no task,
// so no image, family or role to compare; sameInstance lists the tasks on
// the container instance (the ones resolve-target found).
func mockHostSiblings(p *mockPayload) (*mockResult, error) {
	t := p.Target
	onHost := append([]string{}, t.HostTasks...)
	lists := map[string][]string{"sameImage": {}, "sameFamily": {}, "sameRole": {}, "sameInstance": onHost, "unknownDigest": {}}
	// The host's tasks carry no tags in the simulated world: none excluded.
	excluded, rules := mockExclude(p.with, lists, func(string) map[string]string { return nil })
	counts := map[string]int{"described": len(onHost), "clusters": 1}
	for k, v := range lists {
		counts[k] = len(v)
	}
	r := result("OK", "siblings of container instance %s: 0 share its image digest, 0 its family, 0 its task role, %d its container instance, 0 of unknown digest; %d running task(s) described in 1 cluster(s)%s",
		t.ContainerInstanceArn, len(lists["sameInstance"]), len(onHost), incident.LeftAlone(len(excluded), rules))
	r.store(p, "siblings.json", mockJSON(map[string]any{"target": map[string]any{"containerInstanceArn": t.ContainerInstanceArn, "imageDigests": []string{}}, "siblings": lists}))
	return r.with("siblings", lists, "imageDigests", []string{}, "imageDigestsComplete", false, "counts", counts,
		"truncated", false, "complete", true, "stoppedBy", ""), nil
}

// mockExclude moves every listed task that carries a tag of
// with.excludeTaskTags out of every list into lists["excluded"] (sorted),
// and returns it with the count of tasks per rule.
func mockExclude(with map[string]any, lists map[string][]string, tagsOf func(arn string) map[string]string) ([]string, map[string]int) {
	ex := incident.Exclusion{}
	if m, ok := with["excludeTaskTags"].(map[string]any); ok {
		for k, v := range m {
			ex[k], _ = v.(string)
		}
	}
	excluded, rules, seen := []string{}, map[string]int{}, map[string]bool{}
	for k, arns := range lists {
		kept := []string{}
		for _, a := range arns {
			rule := ex.Match(tagsOf(a))
			if rule == "" {
				kept = append(kept, a)
				continue
			}
			if !seen[a] {
				seen[a] = true
				excluded = append(excluded, a)
				rules[rule]++
			}
		}
		lists[k] = kept
	}
	sort.Strings(excluded)
	lists["excluded"] = excluded
	return excluded, rules
}

func mockLogs(p *mockPayload) (*mockResult, error) {
	r := result("OK", "")
	streams := 0
	for _, c := range p.Target.Containers {
		if c.LogDriver != "awslogs" {
			continue
		}
		streams++
		r.store(p, c.Name+".jsonl.gz", []byte(fmt.Sprintf("simulated log events of %s/%s/%s\n", c.LogGroup, c.LogStreamPrefix, c.Name)))
	}
	if streams == 0 {
		return result("SKIPPED", "no container logs to CloudWatch Logs (awslogs)"), nil
	}
	r.Summary = fmt.Sprintf("copied %d log stream(s) to the evidence bucket", streams)
	return r.with("streams", streams, "truncated", false), nil
}

func mockFlowLogs(p *mockPayload) (*mockResult, error) {
	if len(p.Target.ENIs) == 0 {
		return result("SKIPPED", "the task has no ENI to log"), nil
	}
	var ids []string
	for _, e := range p.Target.ENIs {
		ids = append(ids, "fl-"+mockID(17, e.ID, "flow-log"))
	}
	return result("OK", "enabled VPC flow logs on %d ENI(s)", len(ids)).with("flowLogIds", ids, "trafficType", withString(p, "trafficType", "ALL")), nil
}

func mockSnapshots(p *mockPayload) (*mockResult, error) {
	vols := p.Target.VolumeIDs
	if withBool(p, "excludeBootVolume", false) && len(vols) > 0 {
		vols = vols[1:]
	}
	if len(vols) == 0 {
		return result("SKIPPED", "the container instance has no EBS volumes to snapshot"), nil
	}
	var snaps []string
	for _, v := range vols {
		snaps = append(snaps, "snap-"+mockID(17, v, p.caseID()))
	}
	return result("OK", "started %d EBS snapshot(s) of %s", len(snaps), p.Target.InstanceID).with("snapshotIds", snaps, "volumeIds", vols), nil
}

// mockSSM is the async SSM actions: start sends the command (done false),
// check finds it finished and the evidence stored (done true). A tcpdump
// capture runs for its durationSeconds of virtual time: checks before its
// end find it still capturing.
func mockSSM(p *mockPayload) (*mockResult, error) {
	t := p.Target
	if t.InstanceID == "" {
		return result("SKIPPED", "no container instance to run SSM commands on").with("done", true), nil
	}
	cmd := mockID(8, p.caseID(), p.Action) + "-" + mockID(4, p.Action) + "-" + mockID(4, t.InstanceID) + "-" + mockID(4, p.Step) + "-" + mockID(12, t.TaskArn, p.Action)
	capture := time.Duration(0)
	if p.Action == "capture-traffic" && withString(p, "mode", "tcpdump") == "tcpdump" {
		secs, _ := p.with["durationSeconds"].(float64)
		capture = time.Duration(secs) * time.Second
	}
	if p.Mode != "check" {
		return result("OK", "sent SSM command %s (%s) to %s", cmd, p.Action, t.InstanceID).
			with("done", false, "commandId", cmd, "instanceId", t.InstanceID, "startedAt", p.now.UTC().Format(time.RFC3339)), nil
	}
	if p.Previous != nil {
		if prev, ok := p.Previous.Outputs["commandId"].(string); ok {
			cmd = prev
		}
		started, err := time.Parse(time.RFC3339, fmt.Sprint(p.Previous.Outputs["startedAt"]))
		if left := started.Add(capture).Sub(p.now); err == nil && left > 0 {
			return result("OK", "SSM command %s still capturing (%s left)", cmd, shortDuration(left)).
				with("done", false, "commandId", cmd, "instanceId", t.InstanceID, "startedAt", started.UTC().Format(time.RFC3339)), nil
		}
	}
	files := map[string]string{"capture-memory": "memory.lime", "collect-host-artifacts": "host-artifacts.tar.gz", "capture-traffic": "traffic.pcap"}
	r := result("OK", "SSM command %s finished; stored %s", cmd, files[p.Action])
	r.store(p, files[p.Action], []byte(fmt.Sprintf("simulated %s of %s (command %s)\n", p.Action, t.InstanceID, cmd)))
	r.with("done", true, "commandId", cmd, "commandStatus", "Success")
	if p.Action == "collect-host-artifacts" {
		// What the real collector looks at: the task's containers and, from
		// a finding, the process GuardDuty saw.
		var names []string
		for _, c := range t.Containers {
			names = append(names, c.Name)
		}
		r.with("containers", names)
		if p.Incident.Finding != nil && p.Incident.Finding.Process != nil {
			proc := p.Incident.Finding.Process
			r.with("process", map[string]any{"name": proc.Name, "pid": proc.Pid, "executablePath": proc.ExecutablePath})
			r.Summary += fmt.Sprintf(" (containers %s; process %s, pid %d)", strings.Join(names, ", "), proc.Name, proc.Pid)
		}
	}
	return r, nil
}

// mockExecTriage is exec-triage: ECS refuses a task started without
// enableExecuteCommand (SKIPPED, saying what was not collected); otherwise
// the first container of the target is triaged into simulated artifacts.
func mockExecTriage(p *mockPayload) (*mockResult, error) {
	t := p.Target
	ctr := "app"
	if len(t.Containers) > 0 {
		ctr = t.Containers[0].Name
	}
	if c := withString(p, "container", ""); c != "" {
		ctr = c
	}
	if !t.EnableExecuteCommand {
		reason := "ECS refused ExecuteCommand (InvalidParameterException): the task was not started with enableExecuteCommand"
		return result("SKIPPED", "ECS Exec triage not possible: %s", reason).
			with("notCollected", []map[string]any{{"container": ctr, "reason": reason}}), nil
	}
	run := "sim-" + mockID(8, p.caseID(), p.Step)
	r := result("OK", "triaged container %s through ECS Exec (/bin/sh): simulated artifacts", ctr)
	for _, f := range []string{"stream.txt", "processes.json", "connections.json", "open-files.json", "executables.json", "triage.json"} {
		r.store(p, run+"-"+ctr+"-"+f, []byte(fmt.Sprintf("simulated %s of container %s of %s\n", f, ctr, t.TaskArn)))
	}
	return r.with("runId", run, "complete", true, "artifacts", len(r.Evidence),
		"containers", []map[string]any{{"container": ctr, "shell": "/bin/sh", "complete": true}}, "notCollected", []any{}), nil
}

// mockIsolate follows isolate-network's output contract: awsvpc ENIs are
// ECS's (network ACL denies of their addresses), bridge/host acts on the
// instance's ENIs (the security-group swap); residuals say what stays open.
func mockIsolate(p *mockPayload) (*mockResult, error) {
	t := p.Target
	if len(t.ENIs) == 0 {
		return result("SKIPPED", "the task has no ENI to isolate (network mode %s)", t.NetworkMode).
			with("isolation", "none", "residuals", []any{}), nil
	}
	var enis, nacl []any
	residuals := []any{}
	residual := func(class, reason string, partial bool) {
		residuals = append(residuals, map[string]any{"flowClass": class, "reason": reason, "partial": partial})
	}
	if t.NetworkMode == "awsvpc" || t.NetworkMode == "" && t.LaunchType == "FARGATE" {
		acl := "acl-" + mockID(17, t.VpcID, "nacl")
		for _, e := range t.ENIs {
			enis = append(enis, map[string]any{"id": e.ID, "treatment": "nacl", "previousSecurityGroups": e.SecurityGroups, "securityGroups": e.SecurityGroups})
			for _, egress := range []bool{false, true} {
				nacl = append(nacl, map[string]any{"networkAclId": acl, "egress": egress, "ruleNumber": 99, "cidrBlock": e.PrivateIP + "/32", "address": e.PrivateIP})
			}
		}
		residual("same-subnet", "same-subnet peers cross no network ACL (simulated)", true)
		r := result("OK", "partial isolation of task (awsvpc, %d ENI): denied the task's addresses in network ACL %s", len(t.ENIs), acl)
		residual("dns", "the Route 53 Resolver is not filtered (simulated)", false)
		residual("container-credentials", "169.254.170.2 is not filtered (simulated)", false)
		return r.with("isolation", "partial", "residuals", residuals, "scope", "task", "enis", enis, "naclEntries", nacl,
			"allowSsm", withBool(p, "allowSsm", false)), nil
	}
	sg := "sg-" + mockID(17, t.VpcID, withString(p, "quarantineGroupName", "irflow-quarantine"))
	for _, e := range t.ENIs {
		enis = append(enis, map[string]any{"id": e.ID, "treatment": "security-groups", "previousSecurityGroups": e.SecurityGroups,
			"securityGroups": []string{sg}, "changed": true})
	}
	residual("nat-gateway-tracked", "tracked flows through a NAT gateway survive the swap (simulated)", true)
	residual("ecs-agent", "HTTPS to the ECS endpoints stays allowed (simulated)", false)
	residual("dns", "the Route 53 Resolver is not filtered (simulated)", false)
	residual("instance-metadata", "169.254.169.254 is not filtered (simulated)", false)
	residual("container-credentials", "169.254.170.2 is not filtered (simulated)", false)
	return result("OK", "partial isolation of instance %s: moved its ENIs through an all-traffic group to quarantine group %s", t.InstanceID, sg).
		with("isolation", "partial", "residuals", residuals, "scope", "instance", "instanceId", t.InstanceID, "enis", enis,
			"naclEntries", []any{}, "quarantineGroupId", sg, "allowSsm", withBool(p, "allowSsm", false)), nil
}

func mockProtect(p *mockPayload) (*mockResult, error) {
	t := p.Target
	if t.InstanceID == "" {
		return result("SKIPPED", "no EC2 instance to protect"), nil
	}
	return result("OK", "protected %s: termination and stop protection, Standby in its Auto Scaling group, drained", t.InstanceID).
		with("instanceId", t.InstanceID, "terminationProtection", withBool(p, "terminationProtection", true),
			"stopProtection", withBool(p, "stopProtection", true),
			"standby", map[string]any{"requested": withBool(p, "standby", true), "autoScalingGroup": t.AutoScalingGroup,
				"changed": t.AutoScalingGroup != "" && withBool(p, "standby", true)},
			"targetGroups", map[string]any{"requested": withBool(p, "deregisterTargets", true), "deregistered": []any{}},
			"drain", map[string]any{"requested": withBool(p, "drain", true), "changed": t.ContainerInstanceArn != "" && withBool(p, "drain", true)}), nil
}

func mockRevoke(p *mockPayload) (*mockResult, error) {
	t := p.Target
	scope := withString(p, "scope", "task")
	roles := []string{}
	if t.TaskRoleArn != "" {
		roles = append(roles, t.TaskRoleArn)
	}
	if t.ExecutionRoleArn != "" && withBool(p, "includeExecutionRole", false) {
		roles = append(roles, t.ExecutionRoleArn)
	}
	if len(roles) == 0 {
		return result("SKIPPED", "the task has no task role"), nil
	}
	taskID := t.TaskArn[strings.LastIndexByte(t.TaskArn, '/')+1:]
	if scope == "task" {
		return result("OK", "denied the task's own sessions (aws:userid ROLEID:%s) on %s", taskID, strings.Join(roles, ", ")).
			with("scope", scope, "roles", roles, "policyName", withString(p, "policyName", "irflow-deny-task")+"-"+taskID), nil
	}
	return result("OK", "denied sessions issued before now on %s", strings.Join(roles, ", ")).
		with("scope", scope, "roles", roles, "policyName", withString(p, "policyName", "irflow-revoke-older-sessions"), "issuedBefore", p.Execution.StartTime), nil
}

// mockStop is the async stop-task: start asks ECS to stop the task (done
// false), check finds it STOPPED and its network ACL entries removed.
func mockStop(p *mockPayload) (*mockResult, error) {
	reason := "irflow case " + p.caseID()
	if r := withString(p, "reason", ""); r != "" {
		reason += ": " + r
	}
	if p.Mode != "check" {
		return result("OK", "stop requested for task %s; waiting for STOPPED", p.Target.TaskArn).
			with("done", false, "taskArn", p.Target.TaskArn, "stoppedReason", reason, "lastStatus", "RUNNING", "desiredStatus", "STOPPED"), nil
	}
	return result("OK", "task %s is STOPPED", p.Target.TaskArn).
		with("done", true, "taskArn", p.Target.TaskArn, "stoppedReason", reason, "lastStatus", "STOPPED", "desiredStatus", "STOPPED",
			"naclEntriesRemoved", []any{}, "naclEntriesGone", []any{}), nil
}

func mockScale(p *mockPayload) (*mockResult, error) {
	t := p.Target
	if t.Service == "" {
		return result("SKIPPED", "the task belongs to no service"), nil
	}
	n := 0
	if f, ok := p.with["desiredCount"].(float64); ok {
		n = int(f)
	}
	return result("OK", "set the desired count of service %s from 2 to %d", t.Service, n).
		with("service", t.Service, "previousDesiredCount", 2, "desiredCount", n), nil
}

// mockRelease releases the case's containment. The simulation keeps no
// containment ledger, so the mock reports the release of the steps of the
// execution so far that made a change (status OK), newest first; `irflow
// release --simulate --aws-endpoint` runs the real action.
func mockRelease(p *mockPayload) (*mockResult, error) {
	entries := []any{}
	names := make([]string, 0, len(p.Steps))
	for k := range p.Steps {
		names = append(names, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	only := map[string]bool{}
	if l, ok := p.with["steps"].([]any); ok {
		for _, s := range l {
			if str, ok := s.(string); ok {
				only[str] = true
			}
		}
	}
	for _, k := range names {
		var r struct{ Status string }
		if json.Unmarshal(p.Steps[k], &r) != nil || r.Status != "OK" || (len(only) > 0 && !only[k]) {
			continue
		}
		entries = append(entries, map[string]any{"step": k, "outcome": "released"})
	}
	caseID := ""
	if p.Incident != nil {
		caseID = p.Incident.CaseID
	}
	return result("OK", "released case %s: %d changes undone", caseID, len(entries)).
		with("releaseStatus", "RELEASED", "entries", entries, "released", len(entries), "alreadyReleased", 0, "refused", 0), nil
}

// mockPin pins the target's service: rolled back to the revision before
// the target's (taken to pin other digests), or, in scale-to-zero mode or
// when the target's is the first revision and the fallback allows it,
// scaled from 2 to 0. The service's other task (find-siblings' first
// sibling) runs the compromised digest at pin time.
func mockPin(p *mockPayload) (*mockResult, error) {
	t := p.Target
	if t.Service == "" {
		return nil, &TaskError{Name: generator.ErrPreconditionFailed, Message: "precondition failed: standalone task: it has no service to pin; stop-task is the containment"}
	}
	arn, _ := incident.ParseTaskARN(t.TaskArn)
	svcArn := fmt.Sprintf("arn:%s:ecs:%s:%s:service/%s/%s", arn.Partition, arn.Region, arn.Account, arn.Cluster, t.Service)
	digests := []string{}
	for _, c := range t.Containers {
		if c.ImageDigest != "" {
			digests = append(digests, c.ImageDigest)
		}
	}
	requested, mode := withString(p, "mode", "rollback"), withString(p, "mode", "rollback")
	def, fallbackReason := t.TaskDefinitionArn, ""
	checked := []map[string]any{}
	i := strings.LastIndexByte(def, ':')
	rev, _ := strconv.Atoi(def[i+1:])
	if mode == "rollback" {
		if rev <= 1 || len(digests) == 0 {
			fallbackReason = "no earlier revision free of the compromised digest"
			if withString(p, "fallback", "none") != "scale-to-zero" {
				return nil, &TaskError{Name: generator.ErrPreconditionFailed, Message: "precondition failed: no safe revision to roll back to: " + fallbackReason}
			}
			mode = "scale-to-zero"
		} else {
			def = def[:i+1] + strconv.Itoa(rev-1)
			checked = append(checked, map[string]any{"taskDefinition": def, "safe": true, "tagOnly": false, "reason": "every image pinned to a digest other than the compromised"})
		}
	}
	sibling := fmt.Sprintf("arn:%s:ecs:%s:%s:task/%s/%s", arn.Partition, arn.Region, arn.Account, arn.Cluster, mockID(32, t.TaskArn, "sibling-1"))
	r := result("OK", "rolled service %s back from %s to %s, the newest earlier revision free of the compromised digest", t.Service, t.TaskDefinitionArn, def)
	count, undo, warnings := 2, map[string]any{"taskDefinition": t.TaskDefinitionArn}, []string{"the compromised tasks run until the new deployment replaces them"}
	if mode == "scale-to-zero" {
		r.Summary = fmt.Sprintf("scaled service %s from desired count 2 to 0", t.Service)
		count, undo, warnings = 0, map[string]any{"desiredCount": 2}, []string{}
	}
	deployments := []map[string]any{{"id": "ecs-svc/" + mockID(19, t.TaskArn, "deployment"), "status": "PRIMARY", "taskDefinition": t.TaskDefinitionArn,
		"rolloutState": "COMPLETED", "desiredCount": 2, "runningCount": 2, "pendingCount": 0, "failedTasks": 0}}
	return r.with("mode", mode, "requestedMode", requested, "fallbackReason", fallbackReason, "service", t.Service, "serviceArn", svcArn,
		"clusterArn", t.ClusterArn, "previousTaskDefinition", t.TaskDefinitionArn, "taskDefinition", def, "previousDesiredCount", 2,
		"desiredCount", count, "recorded", true, "changed", true, "tagOnly", false, "undo", undo, "compromisedDigests", digests,
		"revisionsChecked", checked, "deployments", deployments, "replacementsFromCompromisedDigest", []string{sibling},
		"replacementsUnknownDigest", []string{}, "replacementCounts", map[string]any{"fromCompromisedDigest": 1, "unknownDigest": 0, "serviceTasks": 1, "complete": true},
		"warnings", warnings), nil
}

func mockNotify(p *mockPayload) (*mockResult, error) {
	what := withString(p, "event", withString(p, "subject", "case update"))
	if p.Failure != nil {
		if s := p.Failure.Summary; s != "" {
			what += ": " + s
		}
	}
	return result("OK", "published %s for case %s", what, p.caseID()).
		with("messageId", mockID(8, p.caseID(), p.Folder(), what)+"-"+mockID(4, what)+"-"+mockID(4, p.Step)+"-"+mockID(4, p.Action)+"-"+mockID(12, what, p.caseID())), nil
}

func mockApproval(p *mockPayload) (*mockResult, error) {
	timeout, _ := p.with["timeoutSeconds"].(float64)
	onTimeout := withString(p, "onTimeout", generator.DefaultOnTimeout)
	if p.Mode == "timeout" {
		return result("OK", "nobody decided gate %s within %s; onTimeout: %s", p.Step, shortDuration(time.Duration(timeout)*time.Second), onTimeout).
			with("timedOut", true, "onTimeout", onTimeout), nil
	}
	approvers, _ := p.with["approvers"].([]any)
	start, _ := time.Parse(time.RFC3339Nano, p.Execution.StartTime)
	minApprovers, _ := p.with["minApprovers"].(float64)
	required := approval.RequiredApprovals(int(minApprovers), p.Incident != nil && p.Incident.RequesterVerified())
	return result("OK", "asked %d approver(s), %d approval(s) needed: %s", max(1, len(approvers)), required, withString(p, "prompt", "approve?")).
		with("approvalId", "appr-"+mockID(24, p.caseID(), p.Step, p.TaskToken), "approvers", approvers,
			"requiredApprovals", required,
			"expiresAt", start.Add(time.Duration(timeout)*time.Second).UTC().Format(time.RFC3339)), nil
}

func mockFinalize(p *mockPayload) (*mockResult, error) {
	evidence := 0
	for _, raw := range p.Steps {
		var s struct{ Evidence []any }
		if jsonUnmarshal(raw, &s) == nil {
			evidence += len(s.Evidence)
		}
	}
	report := map[string]any{"caseId": p.caseID(), "outcome": p.Outcome, "steps": p.Steps, "errors": p.Errors, "failure": p.Failure}
	r := result("OK", "case %s closed with outcome %s; report and manifest of %d evidence object(s) stored", p.caseID(), p.Outcome, evidence)
	r.store(p, "report.json", mockJSON(report))
	r.store(p, "report.md", []byte(fmt.Sprintf("# Case %s\n\nOutcome: %s\n", p.caseID(), p.Outcome)))
	r.store(p, "manifest.json", mockJSON(map[string]any{"caseId": p.caseID(), "objects": evidence}))
	return r.with("outcome", p.Outcome, "reportUri", r.Evidence[0].URI, "evidenceObjects", evidence), nil
}
