package demo

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/irflow/irflow/internal/worlds"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/taskrt"
)

// printWorld says what the case's world holds.
func printWorld(out io.Writer, w *worlds.World) {
	t := w.Target
	fmt.Fprintf(out, "  world %s: %s\n", w.Name, worlds.Describe(w.Name))
	fmt.Fprintf(out, "  account %s, %s (subnets public %s, app %s, lb %s), cluster %s\n", w.Account, w.VpcID,
		w.Subnets["public"], w.Subnets["app"], w.Subnets["lb"], w.ClusterName)
	if w.ResponderAccount != "" {
		stack := fmt.Sprintf("its member stack: %d responder roles", len(w.ResponderRoles))
		if len(w.ResponderRoles) == 0 {
			stack = "no irflow member stack"
		}
		fmt.Fprintf(out, "  member account %s (%s); irflow responds from the administrator account %s, which keeps its stores\n",
			w.Account, stack, w.ResponderAccount)
	}
	where := "ENI " + t.ENI
	if t.ENI == "" {
		where = "on instance " + t.InstanceID
	}
	fmt.Fprintf(out, "  target %s (%s, %s, %s)\n", t.Arn, t.LaunchType, t.NetworkMode, where)
	for _, o := range w.Others {
		fmt.Fprintf(out, "  %-16s %s (%s, %s)\n", o.Role, o.Arn, o.LaunchType, o.NetworkMode)
	}
}

// printFlows shows every flow of the world before and after the response,
// as the flow model judges them.
func printFlows(out io.Writer, c *Case) {
	if len(c.Flows) == 0 {
		return
	}
	fmt.Fprintf(out, "\n  flows, judged by the flow model over the world's state before and after (target task %s):\n", c.TaskStatus)
	for _, f := range c.Flows {
		kind := "new"
		if f.Established {
			kind = "established"
		}
		why := f.Reason
		if f.After == Allowed && f.Residual != "" {
			why = "residual: " + f.Residual
		}
		fmt.Fprintf(out, "    %-17s %-11s %-7s -> %-7s %s\n", f.Name, kind, f.Before, f.After, clip(why, 110))
	}
	for _, r := range c.Refusals {
		fmt.Fprintf(out, "    strict layer refused %s:%s (%s): %s\n", r.Service, r.Operation, r.Rule, clip(r.Message, 100))
	}
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
			fmt.Fprintf(out, "    %3d  %-18s %-20s %-22s %-9s %-70s %s\n", r.Seq, r.Event, cmp.Or(r.Step, "-"), r.Action, cmp.Or(r.Status, "-"), clip(r.Summary, 70), r.Hash[:12])
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

// printGaps says once per gap why steps ended CAUGHT: what moto does not
// emulate; then the failures a world is built to cause.
func printGaps(out io.Writer, cases []*Case) {
	defer printExpected(out, cases)
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
		gates := strings.Join(decided, ", ")
		if gates == "" {
			gates = "no gate decided"
		}
		if !c.World.MemberStack() {
			// A member account without the member stack: nothing to verify.
			fmt.Fprintf(out, "  %-7s %-42s %s/%s, %d transitions; account %s has no member stack: nothing changed, no evidence, %d audit records\n",
				"-", c.CaseID, c.Run.Status, c.Run.Outcome, c.Run.Transitions, c.World.Account, len(c.Records))
		} else {
			fmt.Fprintf(out, "  %-7s %-42s %s/%s, %d transitions; %s; %d evidence objects, %d mismatched; audit chain %d records %s\n",
				lt, c.CaseID, c.Run.Status, c.Run.Outcome, c.Run.Transitions, gates, len(c.Evidence), bad, len(c.Records), chain)
		}
		if p := c.Path; p != nil && p.Step != "" {
			fmt.Fprintf(out, "          contained by %s after %d sequential AWS round trips (%d requests)\n", p.Step, p.RoundTrips, p.Requests)
		} else if p != nil {
			fmt.Fprintf(out, "          not contained by isolation: %s\n", p.Reason)
		}
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

// printExpected lists the steps that failed as their world is built to
// make them fail (AWS's behaviour, which the response must survive).
func printExpected(out io.Writer, cases []*Case) {
	var lines []string
	for _, c := range cases {
		for _, s := range c.Caught {
			if s.Expected != "" {
				lines = append(lines, fmt.Sprintf("  CAUGHT %s %s (%s) in %s, %s as designed: %s", c.CaseID, s.Step, s.Action, c.WorldName, s.Expected, clip(s.Error, 140)))
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(out, "\n== Failing as the world is built to make it fail ==")
	fmt.Fprintln(out, "  nacl-full's network ACLs allow everything at rule 1: no deny can go ahead of it, so isolate-network")
	fmt.Fprintln(out, "  refuses before changing anything (fail closed) and the playbook goes on to the approval and the stop.")
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
}
