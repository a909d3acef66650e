package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/finalize-case/report"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/registry"
	release "github.com/irflow/irflow/tasks/release-containment/handler"
	"github.com/irflow/irflow/tasks/taskrt"
	"github.com/irflow/irflow/tasks/termsafe"
)

func init() {
	register(command{name: "release", summary: "undo a case's containment (release-containment), after an approval", run: runRelease})
}

const releaseHelp = `irflow release undoes what a case's containment changed, newest change
first, from the case's containment ledger: groups back on each ENI, irflow's
network ACL denies and quarantine groups removed, the instance back in
service, irflow's deny statements removed, the service's desired count
restored. A change the world has moved on from (the ENI is gone or carries
other groups, the service was rescaled by someone) is refused with the
reason and the rest is released.

Without --simulate it starts the deployment's release state machine
(<prefix>-release) through the start API, as irflow start does: the API
takes you, the requester, from your signed request and seals the input.
The machine loads the case, asks the deployment's approvers (four eyes;
you may not approve your own release), undoes, and writes the release's
case report (RELEASED or PARTIALLY_RELEASED, what was refused and why).
Decide its gate with irflow approvals / irflow approve; follow it with
irflow audit CASE. Exit 0 when it started.

--simulate runs the release locally with the real handlers against
--aws-endpoint (moto server locally), audited like Lambdas, configured by
the IRFLOW_* environment as irflow simulate --aws-endpoint is. Its gate is
decided as approved only with --approve, by you: the approver recorded in
the case's audit chain is the identity sts:GetCallerIdentity gives for
your credentials, marked SIMULATED. Without --approve nothing changes.
Exit 0 when everything is released or already was, 1 when the release was
partial, refused or not approved.`

// releaseCaseRE is a case id (schemas/task-payload.v1: incident.caseId).
var releaseCaseRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$`)

func runRelease(args []string, stdout, stderr io.Writer) int {
	var o ops.Options
	fs := newOpsFlags("release", "CASE [--dry-run] [--steps a,b] [--reason TEXT] [--format text|json] [--endpoint URL] [AWS flags] | CASE --simulate --aws-endpoint URL [--approve]", releaseHelp, &o, stderr)
	dry := fs.Bool("dry-run", false, "check every undo and change nothing")
	steps := fs.String("steps", "", "release only the changes of these playbook `steps` (comma separated)")
	reason := fs.String("reason", "", "why the containment is released; goes into the case report")
	format := fs.String("format", "text", "output format: text or json")
	startURL := fs.String("endpoint", "", "the start API's Function URL (default: the stack's "+ops.OutputStartURL+" output)")
	sim := fs.Bool("simulate", false, "run the release locally with the real handlers against --aws-endpoint")
	endpoint := fs.String("aws-endpoint", "", "the AWS-compatible endpoint `URL` of --simulate")
	approve := fs.Bool("approve", false, "with --simulate: decide the release gate as approved, as yourself (sts:GetCallerIdentity)")
	caseID, help, err := parseOne(fs, args, "case id", format, "text", "json")
	if help {
		return exitOK
	}
	switch {
	case err != nil:
	case !releaseCaseRE.MatchString(caseID):
		err = fmt.Errorf("case id %s: 1 to 80 letters, digits, _ and -, starting with a letter or digit", termsafe.Line(caseID))
	case !*sim && (*approve || *endpoint != ""):
		err = errors.New("--approve and --aws-endpoint go with --simulate: a deployed release is approved by the deployment's approvers (irflow approvals, irflow approve)")
	case *sim && *endpoint == "":
		err = errors.New("--simulate needs --aws-endpoint")
	case *sim && *startURL != "":
		err = errors.New("--endpoint is the start API of a deployed release; --simulate runs locally against --aws-endpoint")
	}
	var only []string
	for _, s := range strings.Split(*steps, ",") {
		if s = strings.TrimSpace(s); s != "" {
			only = append(only, s)
		}
	}
	if err == nil {
		// The check the start API and the state machine's first state make.
		if verr := (incident.ReleaseInput{CaseID: caseID, Steps: only, Reason: *reason}).Validate(); verr != nil {
			err = fmt.Errorf("invalid input: %s", verr)
		}
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	if !*sim {
		return startRelease(o, *startURL, caseID, only, *dry, *reason, *format, stdout, stderr)
	}
	if !*approve {
		fmt.Fprintf(stderr, "irflow release: the release of case %s needs an approval: nothing was changed (pass --approve to decide the simulated gate as approved)\n", caseID)
		return exitPlaybook
	}
	for _, v := range requiredStores {
		if os.Getenv(v) == "" {
			fmt.Fprintf(stderr, "irflow release: the real handlers need irflow's stores: set %s\n", v)
			return exitUsage
		}
	}
	ctx := rootCtx
	res, err := simulateRelease(ctx, *endpoint, caseID, *dry, only, *reason)
	if err != nil {
		fmt.Fprintf(stderr, "irflow release: %v\n", err)
		return exitPlaybook
	}
	if *format == "json" {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(termsafe.JSON(b)))
	} else {
		printRelease(stdout, res)
	}
	if res.Release.Outputs["releaseStatus"] != release.Released {
		return exitPlaybook
	}
	return exitOK
}

// startRelease starts the deployed release state machine through the
// start API (the path irflow start uses).
func startRelease(o ops.Options, endpoint, caseID string, steps []string, dry bool, reason, format string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(rootCtx, opTimeout)
	defer cancel()
	client, err := startClient(ctx, o, endpoint)
	if err != nil {
		fmt.Fprintf(stderr, "irflow release: %v\n", err)
		return exitError
	}
	res, err := client.Release(ctx, caseID, steps, dry, reason)
	if code := startRefused("release", err, stderr); code != exitOK {
		return code
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return exitOK
	}
	mode := ""
	if dry {
		mode = " (dry run)"
	}
	if len(steps) > 0 {
		mode += " of steps " + strings.Join(steps, ",")
	}
	line := termsafe.Line
	fmt.Fprintf(stdout, "started the release of case %s%s on %s\n  execution:    %s\n  requested by: %s (verified: the start API took it from your credentials)\n",
		line(res.CaseID), line(mode), line(res.StateMachineArn), line(res.ExecutionArn), line(res.RequestedBy))
	fmt.Fprintf(stdout, "Its gate needs the deployment's approvers (not you): irflow approvals; follow it with: irflow audit %s\n", line(res.CaseID))
	return exitOK
}

// simulatedGate is the release gate as --simulate --approve decides it:
// approved by the local operator, whose identity is what STS says of the
// credentials irflow runs with (sts:GetCallerIdentity), never a name typed
// in. The audit chain records it as simulated.
type simulatedGate struct {
	Approver string `json:"approver"`
	Record   int64  `json:"auditRecord"`
}

// releaseRun is what a simulated release did: the gate, the release
// step's result, and the case report the finalize step wrote.
type releaseRun struct {
	Gate    *simulatedGate   `json:"approval,omitempty"`
	Release *contract.Result `json:"release"`
	Report  *contract.Result `json:"report,omitempty"`
}

// The gate of irflow-release (generator.CompileRelease names it so too).
const (
	releaseGateStep   = generator.ReleaseStepGate
	releaseStep       = generator.ReleaseStepRelease
	releaseReportStep = generator.ReleaseStepFinalize
)

// simulateRelease resolves the case from its claim in the incidents table,
// records the simulated gate's decision on the case's audit chain, runs
// release-containment on it in process (audited), then finalize-case for
// the release: the case report of the release (outcome RELEASED or
// PARTIALLY_RELEASED, every entry with what could not be undone and why).
func simulateRelease(ctx context.Context, endpoint, caseID string, dry bool, steps []string, reason string) (*releaseRun, error) {
	cfg, err := registry.ConfigFor(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	env := registry.EnvFromOS()
	inc, err := release.ResolveCase(ctx, dynamodb.NewFromConfig(cfg), env.IncidentsTable, caseID, dry)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		inc.Reason = reason
	}
	with := map[string]any{}
	if len(steps) > 0 {
		with["steps"] = steps
	}
	name := fmt.Sprintf("%s-release-%d", caseID, time.Now().Unix())
	exec := map[string]any{"Id": fmt.Sprintf("arn:%s:states:%s:%s:execution:%s:%s", inc.Partition, inc.Region, inc.Account, generator.ReleaseStateMachineName, name),
		"Name": name, "StartTime": time.Now().UTC().Format(time.RFC3339)}
	run := &releaseRun{}
	if run.Gate, err = recordSimulatedApproval(ctx, cfg, env, inc, exec["Id"].(string)); err != nil {
		return nil, err
	}
	// The release reads the case's ledger, not the task: the target is the
	// case's task as the claim names it (its launch type is not recorded
	// there, and a stopped task may be gone from ECS).
	target := map[string]any{"taskArn": inc.TaskArn, "launchType": inc.LaunchType, "clusterArn": inc.ClusterArn}
	handlers := registry.Handlers(ctx, cfg, env)
	payload, _ := json.Marshal(map[string]any{
		"action": catalog.ReleaseAction, "step": releaseStep, "with": with, "incident": inc, "target": target, "execution": exec,
	})
	if run.Release, err = invokeResult(ctx, handlers[catalog.ReleaseAction], payload); err != nil {
		return nil, err
	}
	// The case report of the release, as the state machine's last step
	// writes it: finalize-case on the release's steps.
	gate, _ := json.Marshal(map[string]any{"status": "OK", "summary": "approved by " + run.Gate.Approver + " (simulated gate)",
		"evidence": []any{}, "outputs": map[string]any{"approved": true, "approver": run.Gate.Approver, "simulated": true}})
	rel, _ := json.Marshal(run.Release)
	status, _ := run.Release.Outputs["releaseStatus"].(string)
	payload, _ = json.Marshal(map[string]any{
		"action": "finalize-case", "step": releaseReportStep, "with": map[string]any{}, "incident": inc, "target": target, "execution": exec,
		"outcome": status, "errors": map[string]any{}, "steps": map[string]json.RawMessage{releaseGateStep: gate, releaseStep: rel},
	})
	if run.Report, err = invokeResult(ctx, handlers["finalize-case"], payload); err != nil {
		return nil, fmt.Errorf("the release ran (%s) but its case report was not written: %w", status, err)
	}
	return run, nil
}

// invokeResult runs one audited handler and decodes its result.
func invokeResult(ctx context.Context, invoke registry.Invoker, payload []byte) (*contract.Result, error) {
	out, err := invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	var r contract.Result
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// recordSimulatedApproval asks STS who the local operator is and appends
// the simulated gate to the case's audit chain: approval-requested, then
// approval-decided naming that identity as the approver, marked simulated.
// finalize-case's report and irflow audit read them like any gate's.
func recordSimulatedApproval(ctx context.Context, cfg aws.Config, env taskrt.Env, inc *incident.Incident, execID string) (*simulatedGate, error) {
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("the simulated approver is the local operator as sts:GetCallerIdentity names it: %w", err)
	}
	who := aws.ToString(id.Arn)
	if who == "" {
		return nil, errors.New("sts:GetCallerIdentity returned no ARN: the simulated approver cannot be named")
	}
	if env.AuditTable == "" {
		return nil, errors.New("the simulated approval goes on the case's audit chain: set IRFLOW_AUDIT_TABLE")
	}
	chain := taskrt.NewChain(cfg, env)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	const prompt = "Release the containment of this case (simulated gate: irflow release --simulate --approve)?"
	req, _ := json.Marshal(map[string]any{"prompt": prompt, "requestedBy": who, "requiredApprovals": 1, "simulated": true,
		"approvers": []string{who}})
	if _, err := chain.Append(ctx, audit.Record{CaseID: inc.CaseID, ExecutionID: execID, Step: releaseGateStep, Action: "request-approval",
		Event: report.EventApprovalRequested, Status: "PENDING", Summary: "release gate (simulated): decided locally by the operator running irflow release --simulate --approve",
		Detail: string(req)}); err != nil {
		return nil, fmt.Errorf("recording the simulated gate: %w", err)
	}
	dec, _ := json.Marshal(map[string]any{"approver": who, "decision": "approve", "decidedAt": now, "simulated": true,
		"identitySource": "sts:GetCallerIdentity", "reason": "simulated gate: irflow release --simulate --approve by the local operator",
		"approvals": []map[string]string{{"by": who}}})
	rec, err := chain.Append(ctx, audit.Record{CaseID: inc.CaseID, ExecutionID: execID, Step: releaseGateStep, Action: "request-approval",
		Event: report.EventApprovalDecided, Status: "APPROVED",
		Summary: fmt.Sprintf("approved by %s (SIMULATED gate: the local operator's identity from sts:GetCallerIdentity, irflow release --simulate --approve)", who),
		Detail:  string(dec)})
	if err != nil {
		return nil, fmt.Errorf("recording the simulated approval: %w", err)
	}
	return &simulatedGate{Approver: who, Record: rec.Seq}, nil
}

func printRelease(w io.Writer, run *releaseRun) {
	r := run.Release
	fmt.Fprintf(w, "%s: %s\n", r.Outputs["releaseStatus"], termsafe.Line(r.Summary))
	entries, _ := json.Marshal(r.Outputs["entries"])
	var outcomes []release.Outcome
	_ = json.Unmarshal(entries, &outcomes)
	for _, o := range outcomes {
		line := fmt.Sprintf("  %-16s %-20s %s (%s)", o.Outcome, o.Kind, o.ID, o.Step)
		if o.Reason != "" {
			line += ": " + o.Reason
		}
		fmt.Fprintln(w, termsafe.Line(line))
	}
	if run.Gate != nil {
		fmt.Fprintln(w, termsafe.Line(fmt.Sprintf("approved by %s (SIMULATED gate: the local operator, from sts:GetCallerIdentity; audit record %d)",
			run.Gate.Approver, run.Gate.Record)))
	}
	if run.Report != nil {
		fmt.Fprintln(w, termsafe.Line(fmt.Sprintf("case report: %v", run.Report.Outputs["report"])))
	}
}
