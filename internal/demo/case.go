package demo

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/taskrt"
)

// runCase responds to one case and judges what it left behind: the
// network from the flow model, the task from ECS, the evidence from the
// bucket, the audit chain from the table.
func runCase(ctx context.Context, out io.Writer, compiled *generator.Result, handlers simulate.Handlers, env *awsEnv,
	stores taskrt.Env, log io.Writer, c *Case) error {
	// The world's network, tasks and flows are read in the world's account
	// (the member account's credentials for an organization world).
	baseline, err := gatherNetwork(ctx, c.World.Cfg)
	if err != nil {
		return fmt.Errorf("the network before the response: %w", err)
	}
	c.Baseline = baseline
	mark, err := env.mark(ctx)
	if err != nil {
		return err
	}
	var trace io.Writer
	if !c.Brief {
		fmt.Fprintln(out, "  each state as it runs (virtual time; every Task state ran the real handler):")
		trace = &indenter{w: out, prefix: "  "}
	}
	run, err := simulate.Run(ctx, compiled, c.Input, simulate.Options{Handlers: handlers, Approver: approver(env.cfg, stores, log, c), Trace: trace})
	if err != nil {
		return err
	}
	c.Run = run
	// The path to containment is measured on one execution's requests (the
	// storm's concurrent executions have none).
	if env.layer != nil {
		reqs, err := env.requestsSince(ctx, mark)
		if err != nil {
			return err
		}
		if c.Path, err = containmentPath(compiled.ASL, run, reqs, stores.AuditTable, env.latency); err != nil {
			return err
		}
	}
	return finishCase(ctx, out, env, stores, c, mark)
}

// finishCase judges a case whose execution (c.Run) has run: its outcome,
// the world's final state, the audit chain, the approvals, the evidence.
func finishCase(ctx context.Context, out io.Writer, env *awsEnv, stores taskrt.Env, c *Case, mark callMark) error {
	run := c.Run
	if err := run.WriteSummary(&indenter{w: out, prefix: "  "}); err != nil {
		return err
	}
	if run.Outcome != c.Want {
		c.problem("the execution ended %s with outcome %s; want %s", run.Status, run.Outcome, c.Want)
	}
	if lt := c.World.Target.LaunchType; run.LaunchType != "" && run.LaunchType != lt {
		c.problem("the execution took the %s branch; want %s", run.LaunchType, lt)
	}
	if err := judgeCase(ctx, env, c, mark); err != nil {
		return err
	}
	printFlows(out, c)
	if !c.World.MemberStack() {
		if err := judgeNoStack(ctx, env, stores, c); err != nil {
			return err
		}
		printNoStack(out, stores, c)
		return nil
	}
	if c.World.ResponderAccount != "" {
		if err := judgeMemberNetwork(ctx, c); err != nil {
			return err
		}
		printMemberNetwork(out, c)
	}
	if c.CaseID == "" {
		return nil
	}
	var err error
	if c.Records, err = taskrt.NewChain(env.cfg, stores).Read(ctx, c.CaseID); err != nil {
		return err
	}
	c.ChainErr = audit.Verify(c.Records)
	if c.ChainErr != nil {
		c.problem("the audit chain does not verify: %v", c.ChainErr)
	}
	c.Caught = caughtSteps(run, c.Records, c.WorldName)
	noteGaps(c.Path, c.Caught)
	for _, s := range c.Caught {
		if s.Gap == "" && s.Expected == "" {
			c.problem("step %s (%s) failed and was caught: %s", s.Step, s.Action, s.Error)
		}
	}
	if err := readApprovals(ctx, env.cfg, stores, c); err != nil {
		return err
	}
	printApprovals(out, c)
	if err := checkEvidence(ctx, env.cfg, stores, c); err != nil {
		return err
	}
	printEvidence(out, stores, c)
	printAudit(out, stores, c)
	for _, p := range c.Problems {
		fmt.Fprintf(out, "  PROBLEM: %s\n", p)
	}
	return nil
}

// judgeCase reads the world's final state: every task's lastStatus from
// ECS, the EC2 calls moto accepted since mark, and the flows replayed
// through them.
func judgeCase(ctx context.Context, env *awsEnv, c *Case, mark callMark) error {
	stopped := map[string]bool{}
	ecsc := ecs.NewFromConfig(c.World.Cfg)
	tasks, err := ecsc.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(c.World.ClusterName), Tasks: c.World.TaskArns()})
	if err != nil {
		return fmt.Errorf("describing the world's tasks: %w", err)
	}
	for _, t := range tasks.Tasks {
		arn, st := aws.ToString(t.TaskArn), aws.ToString(t.LastStatus)
		stopped[arn] = st == "STOPPED"
		if arn == c.World.Target.Arn {
			c.TaskStatus = st
		}
	}
	calls, refusals, err := env.since(ctx, mark)
	if err != nil {
		return err
	}
	c.Refusals, c.EC2Calls = refusals, len(calls)
	changes, err := flowmodel.ChangesFromCalls(calls)
	if err != nil {
		return fmt.Errorf("the response's EC2 calls: %w", err)
	}
	c.Flows, c.replayed, err = judgeFlows(c.World, c.Baseline, changes, stopped)
	return err
}

// gatherNetwork reads the network as the handlers see it.
func gatherNetwork(ctx context.Context, cfg aws.Config) (*flowmodel.Network, error) {
	st, err := flowmodel.Gather(ctx, ec2.NewFromConfig(cfg))
	if err != nil {
		return nil, err
	}
	return flowmodel.FromEC2(st)
}

func (c *Case) problem(format string, args ...any) {
	c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
}

// caughtSteps are the run's CAUGHT task states, with the error their audit
// record names.
func caughtSteps(run *simulate.Execution, records []audit.Record, world string) []CaughtStep {
	var out []CaughtStep
	seen := map[string]bool{}
	for _, s := range run.Steps {
		if s.Result != simulate.ResultCaught || seen[s.Step] {
			continue
		}
		seen[s.Step] = true
		cs := CaughtStep{Step: s.Step, Action: s.Action}
		for _, r := range records {
			if r.Step == s.Step && r.Event == "error" {
				cs.Error = r.Summary
			}
		}
		cs.Gap = motoGap(cs.Action, cs.Error)
		cs.Expected = expectedFailure(world, cs.Action, cs.Error)
		out = append(out, cs)
	}
	return out
}
