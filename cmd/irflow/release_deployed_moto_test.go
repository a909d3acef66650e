package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

// TestMotoReleaseDeployed: `irflow release CASE` (no --simulate) starts
// the deployment's irflow-release through the start API found from the
// stack's outputs, the path irflow start takes: moto's Step Functions gets
// StartExecution on <prefix>release, named after the case and the time,
// with incident.ReleaseInput sealed for the signed caller. That very input
// then runs through the compiled irflow-release (generator.CompileRelease)
// in the simulator with the real handlers against moto: Load case verifies
// the seal and takes the caller for a verified requester, the gate is
// approved, the containment is undone (read back from moto), and the
// release's case report says RELEASED. A changed input (its seal no longer
// verifies) is refused before the gate; --dry-run --steps --format json
// start a dry run of those steps; --approve without --simulate is a usage
// error.
func TestMotoReleaseDeployed(t *testing.T) {
	ctx := context.Background()
	ep, w, caseID := containedEC2Case(t, "case-rel-dep")

	// The deployment: irflow-release in moto's Step Functions (moto keeps
	// executions and their input; it does not run them), the start API
	// sealing with the deployment's MAC key, the stack naming it.
	asl, err := generator.CompileRelease(generator.ReleaseOptions{Approvers: []string{"arn:aws:iam::123456789012:role/IncidentCommander"}})
	if err != nil {
		t.Fatal(err)
	}
	c := sfn.NewFromConfig(opsMotoConfig(ep))
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(generator.ReleaseStateMachineName),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/irflow-release")})
	if err != nil {
		t.Fatal(err)
	}
	smArn := aws.ToString(sm.StateMachineArn)
	const alice = "arn:aws:sts::123456789012:assumed-role/Responder/alice"
	api := startAPIKey(t, ep, strings.TrimSuffix(smArn, "release"), alice, w.Env.MACKeyArn)
	stack := opsStack(t, ep, map[string]string{ops.OutputStartURL: api.URL + "/"})
	common := []string{"--endpoint-url", ep, "--region", "us-east-1", "--stack", stack}

	code, out, errOut := runCLI(append([]string{"release", caseID, "--reason", "the finding was our pen test"}, common...)...)
	if code != exitOK || !strings.Contains(out, "started the release of case "+caseID) || !strings.Contains(out, "requested by: "+alice+" (verified") {
		t.Fatalf("irflow release: exit %d\n%s%s", code, out, errOut)
	}
	execArn := ""
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "execution:" {
			execArn = f[1]
		}
	}
	d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(execArn)})
	if err != nil {
		t.Fatalf("execution %q: %v", execArn, err)
	}
	raw := []byte(aws.ToString(d.Input))
	in, env, _, err := incident.ParseReleaseInput(raw)
	if err != nil || in.CaseID != caseID || in.RequestedBy != alice || in.DryRun || len(in.Steps) != 0 || env == nil || env.Caller != alice ||
		!strings.HasPrefix(aws.ToString(d.Name), caseID+"-release-") {
		t.Fatalf("StartExecution %s input %s: %+v %v", aws.ToString(d.Name), raw, in, err)
	}

	// The same input through the compiled machine, as Step Functions
	// would run it.
	handlers, err := realHandlers(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	runRelease := func(input []byte) *simulate.Execution {
		t.Helper()
		run, err := simulate.Run(ctx, &generator.Result{Name: "release", ASL: asl}, input, simulate.Options{Handlers: handlers,
			ExecutionName: aws.ToString(d.Name), StartTime: aws.ToTime(d.StartDate), Region: "us-east-1", Account: "123456789012"})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	// A changed input: the seal no longer verifies, nothing is asked.
	forged := strings.Replace(string(raw), `"dryRun":false`, `"dryRun":true`, 1)
	if forged == string(raw) {
		t.Fatalf("cannot change the input %s", raw)
	}
	if run := runRelease([]byte(forged)); run.Status != "FAILED" || run.Error != "ReleaseRefused" || len(run.Steps) != 1 {
		t.Errorf("forged input: %s %s %+v", run.Status, run.Error, run.Steps)
	}
	run := runRelease(raw)
	results := map[string]string{}
	for _, s := range run.Steps {
		results[s.Step] = s.Result
	}
	if run.Status != "SUCCEEDED" || results["load-case"] != "OK" || results["approve-release"] != "APPROVED" || results["release"] != "OK" ||
		results["finalize-release"] != "OK" {
		t.Fatalf("release: %s %s %s %+v", run.Status, run.Error, run.Cause, run.Steps)
	}
	pols, err := iam.NewFromConfig(w.Cfg).ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(w.TaskRoleName)})
	if err != nil || len(pols.PolicyNames) != 0 {
		t.Errorf("task role policies after the release: %v %v", pols, err)
	}
	instanceENIRestored(t, w)
	// The chain: the requester verified from the seal, the gate asked
	// with it (so alice cannot approve her own release), the release, the
	// report.
	recs, err := taskrt.NewChain(w.Cfg, w.Env).Read(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(recs); err != nil {
		t.Fatal(err)
	}
	var sawRequest, sawFinal bool
	for _, r := range recs {
		if r.Step == "approve-release" && r.Event == "approval-requested" {
			var d struct {
				RequestedBy       string `json:"requestedBy"`
				RequesterVerified bool   `json:"requesterVerified"`
			}
			_ = json.Unmarshal([]byte(r.Detail), &d)
			sawRequest = d.RequestedBy == alice && d.RequesterVerified
		}
		if r.Step == "finalize-release" && r.Event == "case-finalized" {
			sawFinal = r.Status == "RELEASED"
		}
	}
	if !sawRequest || !sawFinal {
		t.Errorf("audit chain: gate asked for verified %s %v, finalized RELEASED %v", alice, sawRequest, sawFinal)
	}
	obj, err := s3.NewFromConfig(w.Cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(w.Env.EvidenceBucket), Key: aws.String("cases/" + caseID + "/finalize-release/report.json")})
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Outcome string `json:"outcome"`
	}
	if err := json.NewDecoder(obj.Body).Decode(&rep); err != nil || rep.Outcome != "RELEASED" {
		t.Errorf("release report: %+v %v", rep, err)
	}

	// A dry run of some steps, in JSON; a second later so its execution
	// has a name of its own.
	time.Sleep(1100 * time.Millisecond)
	code, out, errOut = runCLI(append([]string{"release", caseID, "--dry-run", "--steps", "isolate, revoke", "--format", "json"}, common...)...)
	var res struct{ CaseID, ExecutionArn, RequestedBy string }
	if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil || res.CaseID != caseID || res.RequestedBy != alice {
		t.Fatalf("dry run: exit %d %v\n%s%s", code, err, out, errOut)
	}
	d, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(res.ExecutionArn)})
	if err != nil {
		t.Fatal(err)
	}
	if in, _, _, err := incident.ParseReleaseInput([]byte(aws.ToString(d.Input))); err != nil || !in.DryRun || strings.Join(in.Steps, ",") != "isolate,revoke" {
		t.Errorf("dry-run input %s: %+v %v", aws.ToString(d.Input), in, err)
	}
	// --approve decides only a simulated gate.
	if code, _, errOut := runCLI(append([]string{"release", caseID, "--approve"}, common...)...); code != exitUsage || !strings.Contains(errOut, "--simulate") {
		t.Errorf("--approve without --simulate: exit %d %s", code, errOut)
	}
}
