package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/internal/worlds"
	"github.com/irflow/irflow/tasks/approval-api/approval"
)

// The example findings inputs are made from when none is given.
const (
	FargateFinding = "examples/inputs/guardduty-fargate-cryptominer.json"
	EC2Finding     = "examples/inputs/guardduty-ec2-reverse-shell.json"
)

// People of the bench sign in through IAM Identity Center: each session is
// the user's e-mail on the role of a permission set, so the approval API can
// tell alice from bob on the same role (sessions of a role anyone may assume
// under any name count as one person). Approvers are the IncidentCommander
// permission set's role (IRFLOW_DEFAULT_APPROVERS), which admits its
// sessions; developers have their own set.
const (
	incidentCommander = "AWSReservedSSO_IncidentCommander_3f2b8c9d0e1a4b5c"
	developer         = "AWSReservedSSO_Developer_8a7b6c5d4e3f2a1b"
)

// roleARN is a permission set's role: Identity Center creates them under
// the aws-reserved/sso.amazonaws.com/ path.
func roleARN(account, role string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/%s", account, role)
}

func session(account, role, user string) string {
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", account, role, user)
}

const (
	alice   = "alice@example.com"
	bob     = "bob@example.com"
	carol   = "carol@example.com"
	mallory = "mallory@example.com"
)

// plan is one case to run: a world to build and how to start the response.
type plan struct {
	world string
	title string
	// console makes a console input requested by requestedBy (dry run).
	console     bool
	requestedBy string
	// refusals are decisions tried (and refused) before the deciders.
	refusals []func(account string) Decider
}

// plans are the cases of the run: one per --world, or the default demo.
func (o *Options) plans() []plan {
	if len(o.Worlds) > 0 {
		var out []plan
		for _, name := range o.Worlds {
			// An organization world is a case per launch type in the
			// member account (worlds.Cases).
			for _, w := range worlds.Cases(name) {
				out = append(out, plan{world: w, title: w})
			}
		}
		return out
	}
	notApprover := func(acct string) Decider {
		return Decider{Who: session(acct, developer, mallory), Decision: approval.DecisionApprove, Reason: "looks fine to me",
			WantStatus: http.StatusForbidden}
	}
	selfApproval := func(acct string) Decider {
		return Decider{Who: session(acct, incidentCommander, alice), Decision: approval.DecisionApprove,
			Reason: "my own request, approving it myself", WantStatus: http.StatusForbidden}
	}
	return []plan{
		{world: "fargate", title: "fargate: a GuardDuty finding on a Fargate task", refusals: []func(string) Decider{notApprover}},
		{world: "ec2-bridge", title: "ec2-bridge: a GuardDuty finding on an EC2 task"},
		{world: "fargate", title: "four eyes: alice's own dry run on a Fargate task", console: true, requestedBy: alice,
			refusals: []func(string) Decider{selfApproval}},
	}
}

// build seeds the plan's world and makes its case.
func (p plan) build(ctx context.Context, o *Options, env *awsEnv, compiled *generator.Result) (*Case, error) {
	w, err := worlds.Build(ctx, env.cfg, env.direct, p.world)
	if err != nil {
		return nil, err
	}
	if o.prepare != nil {
		if err := o.prepare(ctx, w); err != nil {
			return nil, err
		}
	}
	input := o.input
	switch {
	case p.console:
		// A case id of its own, as irflow start names one (else the
		// case is named after the execution, which the bench cannot know
		// before it starts).
		input, _ = json.Marshal(map[string]any{"taskArn": w.Target.Arn, "dryRun": true, "requestedBy": p.requestedBy,
			"caseId": "rehearsal-" + path.Base(w.Target.Arn)[:8],
			"reason": "rehearse the response on this task before anyone touches it"})
	case input == nil:
		if input, err = exampleFinding(o.Root, w, compiled); err != nil {
			return nil, err
		}
	}
	in, kind, finding, err := w.Retarget(input)
	if err != nil {
		return nil, err
	}
	c := &Case{Title: p.title, WorldName: p.world, World: w, Kind: kind, Input: in, Finding: finding, Brief: p.console}
	if c.CaseID, err = caseIDOf(in); err != nil {
		// Invalid input runs, and must end INVALID_INPUT in resolve-target.
		c.CaseID = ""
	}
	// People sign in to the account irflow runs in: the administrator's
	// for a member account's case.
	people := w.Account
	if w.ResponderAccount != "" {
		people = w.ResponderAccount
	}
	for _, r := range p.refusals {
		c.Deciders = append(c.Deciders, r(people))
	}
	for _, d := range deciders(o.Decide, people) {
		// The requester's own decision is a refusal above, not a decider.
		if p.requestedBy == "" || !strings.HasSuffix(d.Who, "/"+p.requestedBy) {
			c.Deciders = append(c.Deciders, d)
		}
	}
	c.Want = map[string]string{DecideApprove: generator.OutcomeCompleted, DecideReject: generator.OutcomeRejected,
		DecideTimeout: generator.OutcomeRejected}[o.Decide]
	if !w.MemberStack() {
		// A member account without irflow's member stack: resolve-target
		// cannot assume its responder role, and the execution fails
		// before any step changes anything (judgeNoStack).
		c.Want = generator.OutcomeFailed
	}
	if err := env.register(ctx, w, c); err != nil {
		return nil, err
	}
	return c, nil
}

// deciders are the approvers who decide every gate as --decide says: for
// approve, alice, then bob and carol for gates that need more than one
// person (a requester GuardDuty did not confirm, minApprovers); for reject,
// alice; for timeout, nobody.
func deciders(decide, account string) []Decider {
	ic := func(user, decision, reason string) Decider {
		return Decider{Who: session(account, incidentCommander, user), Decision: decision, Reason: reason, WantStatus: http.StatusOK}
	}
	switch decide {
	case DecideApprove:
		return []Decider{
			ic(alice, approval.DecisionApprove, "confirmed in the task's logs and flow logs: contain"),
			ic(bob, approval.DecisionApprove, "second pair of eyes: agreed"),
			ic(carol, approval.DecisionApprove, "third approval: agreed"),
		}
	case DecideReject:
		return []Decider{ic(alice, approval.DecisionReject, "a pen test we scheduled: release it")}
	}
	return nil
}

// exampleFinding is the example GuardDuty event of the target's launch
// type with the playbook's first finding type (a concrete type for a
// pattern).
func exampleFinding(root string, w *worlds.World, compiled *generator.Result) ([]byte, error) {
	path := FargateFinding
	if w.Target.LaunchType == "EC2" {
		path = EC2Finding
	}
	raw, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		return nil, err
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if types := compiled.Triggers.FindingTypes; len(types) > 0 {
		t := types[0]
		if strings.HasSuffix(t, "*") {
			if m := generator.MatchFindingTypes(t); len(m) > 0 {
				t = m[0]
			}
		}
		if d, ok := ev["detail"].(map[string]any); ok {
			d["type"] = t
		}
	}
	// A finding of its own per world (GuardDuty ids are 32 hex digits),
	// so cases in several worlds are several cases.
	if d, ok := ev["detail"].(map[string]any); ok {
		sum := sha256.Sum256([]byte(w.ClusterArn + "|" + w.Target.Arn))
		id := hex.EncodeToString(sum[:16])
		if old, _ := d["id"].(string); old != "" {
			if arn, _ := d["arn"].(string); arn != "" {
				d["arn"] = strings.Replace(arn, old, id, 1)
			}
		}
		d["id"] = id
	}
	return json.Marshal(ev)
}
