package simulate

import (
	"fmt"
	"strings"
	"time"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/tasks/catalog"
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
	case "collect-logs":
		run = mockLogs
	case "enable-flow-logs":
		run = mockFlowLogs
	case "snapshot-volumes":
		run = mockSnapshots
	case "capture-memory", "collect-host-artifacts", "capture-traffic":
		run = mockSSM
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
	return mutating(a, run)
}

// mutating turns the result of a mutating action into DRY_RUN under dryRun
// (what it would do, nothing changed); SKIPPED stays SKIPPED.
func mutating(a *catalog.Action, run mockAction) mockAction {
	return func(p *mockPayload) (*mockResult, error) {
		r, err := run(p)
		if err != nil || !a.Mutating || !p.dryRun() || r.Status != "OK" {
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
	if s, ok := p.With[key].(string); ok && s != "" {
		return s
	}
	return def
}

func withBool(p *mockPayload, key string, def bool) bool {
	if b, ok := p.With[key].(bool); ok {
		return b
	}
	return def
}

func mockTag(p *mockPayload) (*mockResult, error) {
	t := p.Target
	res := []string{t.TaskArn}
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
	if extra, ok := p.With["extraTags"].(map[string]any); ok {
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
		secs, _ := p.With["durationSeconds"].(float64)
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

func mockIsolate(p *mockPayload) (*mockResult, error) {
	t := p.Target
	if len(t.ENIs) == 0 {
		return result("SKIPPED", "the task has no ENI to isolate (network mode %s)", t.NetworkMode), nil
	}
	previous := map[string]any{}
	var enis []string
	for _, e := range t.ENIs {
		previous[e.ID] = e.SecurityGroups
		enis = append(enis, e.ID)
	}
	where := "the task ENI"
	if t.NetworkMode != "awsvpc" {
		where = "the ENIs of instance " + t.InstanceID
	}
	sg := "sg-" + mockID(17, t.VpcID, withString(p, "quarantineGroupName", "irflow-quarantine"))
	return result("OK", "put %s in quarantine group %s", where, sg).
		with("quarantineGroupId", sg, "enis", enis, "previousSecurityGroups", previous, "allowSsm", withBool(p, "allowSsm", false)), nil
}

func mockProtect(p *mockPayload) (*mockResult, error) {
	t := p.Target
	if t.InstanceID == "" {
		return result("SKIPPED", "no EC2 instance to protect"), nil
	}
	return result("OK", "protected %s from termination and scale-in and drained its container instance", t.InstanceID).
		with("instanceId", t.InstanceID, "terminationProtection", withBool(p, "terminationProtection", true),
			"stopProtection", withBool(p, "stopProtection", true),
			"asgProtection", t.AutoScalingGroup != "" && withBool(p, "asgProtection", true), "autoScalingGroup", t.AutoScalingGroup,
			"drained", t.ContainerInstanceArn != "" && withBool(p, "drain", true)), nil
}

func mockRevoke(p *mockPayload) (*mockResult, error) {
	t := p.Target
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
	return result("OK", "denied sessions issued before now on %s", strings.Join(roles, ", ")).
		with("roles", roles, "policyName", withString(p, "policyName", "irflow-revoke-older-sessions"), "issuedBefore", p.Execution.StartTime), nil
}

func mockStop(p *mockPayload) (*mockResult, error) {
	reason := "irflow case " + p.caseID()
	if r := withString(p, "reason", ""); r != "" {
		reason += ": " + r
	}
	return result("OK", "stopped task %s", p.Target.TaskArn).with("taskArn", p.Target.TaskArn, "stoppedReason", reason), nil
}

func mockScale(p *mockPayload) (*mockResult, error) {
	t := p.Target
	if t.Service == "" {
		return result("SKIPPED", "the task belongs to no service"), nil
	}
	n := 0
	if f, ok := p.With["desiredCount"].(float64); ok {
		n = int(f)
	}
	return result("OK", "set the desired count of service %s from 2 to %d", t.Service, n).
		with("service", t.Service, "previousDesiredCount", 2, "desiredCount", n), nil
}

func mockNotify(p *mockPayload) (*mockResult, error) {
	what := withString(p, "event", withString(p, "subject", "case update"))
	if p.Failure != nil {
		if s, ok := p.Failure["summary"].(string); ok {
			what += ": " + s
		}
	}
	return result("OK", "published %s for case %s", what, p.caseID()).
		with("messageId", mockID(8, p.caseID(), p.folder(), what)+"-"+mockID(4, what)+"-"+mockID(4, p.Step)+"-"+mockID(4, p.Action)+"-"+mockID(12, what, p.caseID())), nil
}

func mockApproval(p *mockPayload) (*mockResult, error) {
	timeout, _ := p.With["timeoutSeconds"].(float64)
	onTimeout := withString(p, "onTimeout", generator.DefaultOnTimeout)
	if p.Mode == "timeout" {
		return result("OK", "nobody decided gate %s within %s; onTimeout: %s", p.Step, shortDuration(time.Duration(timeout)*time.Second), onTimeout).
			with("timedOut", true, "onTimeout", onTimeout), nil
	}
	approvers, _ := p.With["approvers"].([]any)
	start, _ := time.Parse(time.RFC3339Nano, p.Execution.StartTime)
	return result("OK", "asked %d approver(s): %s", max(1, len(approvers)), withString(p, "prompt", "approve?")).
		with("approvalId", "appr-"+mockID(24, p.caseID(), p.Step, p.TaskToken), "approvers", approvers,
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
