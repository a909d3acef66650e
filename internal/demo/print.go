package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/taskrt"
)

func printWorld(out io.Writer, w *mototest.World, env taskrt.Env, took time.Duration) {
	fmt.Fprintf(out, "\n== Seeded ECS world in moto (%s) ==\n", took.Round(time.Millisecond))
	fmt.Fprintf(out, "  account %s, region %s, %s with subnet %s and security group %s\n", w.Account, mototest.Region, w.VpcID, w.SubnetID, w.AppSG)
	fmt.Fprintf(out, "  cluster %s\n", w.ClusterArn)
	fmt.Fprintf(out, "  Fargate task %s (awsvpc, ENI %s, service %s)\n", w.FargateTaskArn, w.FargateENI, w.ServiceName)
	fmt.Fprintf(out, "  EC2 task     %s (bridge, on %s in Auto Scaling group %s, volumes %s)\n", w.EC2TaskArn, w.InstanceID, w.ASGName, strings.Join(w.VolumeIDs, ", "))
	fmt.Fprintf(out, "  log group %s with the tasks' awslogs streams; task role %s\n", w.LogGroup, w.TaskRoleArn)
	fmt.Fprintf(out, "  irflow's stores: evidence bucket %s (Object Lock), tables %s (audit), %s (approvals), %s (incidents), topic %s\n",
		env.EvidenceBucket, env.AuditTable, env.ApprovalsTable, env.IncidentsTable, env.TopicArn)
	fmt.Fprintf(out, "  IRFLOW_DEFAULT_APPROVERS=%s (the shipped playbooks name no approvers)\n", strings.Join(env.DefaultApprovers, ","))
	fmt.Fprintf(out, "  IRFLOW_AVML_SHA256=%s… a placeholder pin: moto runs no SSM command, so no AVML is ever fetched\n", env.AVMLSha256[:16])
}

// printApprovals shows every decision the approval API received for the
// case and the gates as the approvals table holds them afterwards.
func printApprovals(out io.Writer, c *Case) {
	fmt.Fprintln(out, "\n  approvals through the approval API (tasks/approval-api Handler.Decide, answering the gate's task token):")
	for _, at := range c.Attempts {
		var ok approval.DecisionResponse
		var refused approval.ErrorResponse
		switch {
		case at.Status == 200 && json.Unmarshal(at.Body, &ok) == nil:
			fmt.Fprintf(out, "    %s: %d %s  %s %s, audit record %d\n", at.Step, at.Status, strings.ToLower(ok.Status), at.Who, at.Decision, ok.AuditSeq)
		case json.Unmarshal(at.Body, &refused) == nil:
			fmt.Fprintf(out, "    %s: %d %s  %s %s\n      %s\n", at.Step, at.Status, refused.Code, at.Who, at.Decision, refused.Message)
		default:
			fmt.Fprintf(out, "    %s: %d  %s %s: %s\n", at.Step, at.Status, at.Who, at.Decision, clip(string(at.Body), 200))
		}
	}
	if len(c.Attempts) == 0 {
		fmt.Fprintln(out, "    (no gate opened)")
	}
	fmt.Fprintln(out, "  read back from the approvals table:")
	for _, a := range c.Approvals {
		fmt.Fprintf(out, "    %s (%s): %s by %s at %s\n", a.ID, a.Step, a.Status, a.DecidedBy, a.DecidedAt)
		fmt.Fprintf(out, "      reason %q; requested by %s; approvers %s\n", a.Reason, a.RequestedBy, strings.Join(a.Approvers, ", "))
	}
}

func printEvidence(out io.Writer, env taskrt.Env, c *Case) {
	prefix := "cases/" + c.CaseID + "/"
	fmt.Fprintf(out, "\n  evidence in s3://%s/%s, SHA-256 recomputed from each object's bytes:\n", env.EvidenceBucket, prefix)
	w := 0
	for _, o := range c.Evidence {
		w = max(w, len(strings.TrimPrefix(o.Key, prefix)))
	}
	for _, o := range c.Evidence {
		verdict := "matches " + strings.Join(o.Checked, ", ")
		if len(o.Problems) > 0 {
			verdict = "MISMATCH: " + strings.Join(o.Problems, "; ")
		}
		fmt.Fprintf(out, "    %-*s %7d B  %s  %s\n", w, strings.TrimPrefix(o.Key, prefix), o.Bytes, o.SHA256, verdict)
	}
}

func printAudit(out io.Writer, env taskrt.Env, c *Case) {
	if !c.Brief {
		fmt.Fprintf(out, "\n  audit trail (table %s, case %s):\n", env.AuditTable, c.CaseID)
		fmt.Fprintf(out, "    %3s  %-18s %-20s %-22s %-9s %-70s %s\n", "seq", "event", "step", "action", "status", "summary", "hash")
		for _, r := range c.Records {
			step := r.Step
			if step == "" {
				step = "-"
			}
			status := r.Status
			if status == "" {
				status = "-"
			}
			fmt.Fprintf(out, "    %3d  %-18s %-20s %-22s %-9s %-70s %s\n", r.Seq, r.Event, step, r.Action, status, clip(r.Summary, 70), r.Hash[:12])
		}
	}
	if c.ChainErr != nil {
		fmt.Fprintf(out, "  audit chain BROKEN: %v\n", c.ChainErr)
		return
	}
	head := ""
	if n := len(c.Records); n > 0 {
		head = ", head " + c.Records[n-1].Hash[:16] + "…"
	}
	fmt.Fprintf(out, "  audit chain verified: %d records%s (audit.Verify recomputed every hash and link)\n", len(c.Records), head)
}

// gapText explains each moto gap once.
var gapText = map[string][]string{
	GapSSM: {
		"moto does not run SSM commands: it accepts ssm:SendCommand and at once reports Success with no output,",
		"so the check finds no IRFLOW-DONE manifest and the step fails rather than report evidence that does not",
		"exist. The host scripts are tested with fakes and a script harness that runs them (tasks/hostcmd/hostcmdtest).",
	},
	GapFlowLogs: {
		"moto 5.2 reads the S3 flow-log destination arn:aws:s3:::BUCKET/cases/CASE/flow-logs/ as a bucket named",
		"\"BUCKET/cases/…\" and refuses it; AWS accepts a prefix. (The handler's moto test shims the prefix away.)",
	},
	GapTagCI: {
		"moto 5.2 has no ecs:TagResource for container instances (HTTP 500). The handler takes that for a transient",
		"fault (RetryableError): the state machine tries 5 times, then catches it. The task was tagged; the instance,",
		"its ENIs and volumes come after the container instance in the handler, so they were not.",
	},
}

// printGaps says once per gap why steps ended CAUGHT: what moto does not emulate.
func printGaps(out io.Writer, cases []*Case) {
	var order []string
	byGap := map[string][]string{}
	for _, c := range cases {
		for _, s := range c.Caught {
			if s.Gap == "" {
				continue
			}
			if byGap[s.Gap] == nil {
				order = append(order, s.Gap)
			}
			byGap[s.Gap] = append(byGap[s.Gap], fmt.Sprintf("%s %s (%s): %s", c.CaseID, s.Step, s.Action, clip(s.Error, 110)))
		}
	}
	if len(order) == 0 {
		return
	}
	fmt.Fprintln(out, "\n== What moto does not emulate ==")
	fmt.Fprintln(out, "  These steps ended CAUGHT (onError: continue: the error is kept and the response goes on), as on AWS")
	fmt.Fprintln(out, "  when such a call fails. Nothing was faked: each error is the handler's own, from the audit chain.")
	for _, g := range order {
		fmt.Fprintln(out)
		for _, l := range byGap[g] {
			fmt.Fprintf(out, "  CAUGHT %s\n", l)
		}
		for _, l := range gapText[g] {
			fmt.Fprintf(out, "    %s\n", l)
		}
	}
}

func printSummary(out io.Writer, res *Result, dir string) {
	fmt.Fprintln(out, "\n== Summary ==")
	for _, c := range res.Cases {
		approvers := map[string]bool{}
		for _, a := range c.Approvals {
			if a.DecidedBy != "" {
				approvers[a.Status+" by "+a.DecidedBy] = true
			}
		}
		var decided []string
		for a := range approvers {
			decided = append(decided, a)
		}
		sort.Strings(decided)
		chain := "verified"
		if c.ChainErr != nil {
			chain = "BROKEN"
		}
		bad := 0
		for _, o := range c.Evidence {
			if len(o.Problems) > 0 {
				bad++
			}
		}
		lt := c.Run.LaunchType
		fmt.Fprintf(out, "  %-7s %-42s %s/%s, %d transitions; %s; %d evidence objects, %d mismatched; audit chain %d records %s\n",
			lt, c.CaseID, c.Run.Status, c.Run.Outcome, c.Run.Transitions, strings.Join(decided, ", "), len(c.Evidence), bad, len(c.Records), chain)
		for _, p := range c.Problems {
			fmt.Fprintf(out, "          PROBLEM: %s\n", p)
		}
	}
	fmt.Fprintf(out, "  each case's report, manifest, audit chain and run are in %s/<case>/; handler logs in %s\n", dir, res.LogPath)
	fmt.Fprintf(out, "  demo time %s\n", res.Elapsed.Round(100*time.Millisecond))
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
