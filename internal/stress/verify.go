package stress

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/internal/casecheck"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Loss is one thing a case lost: a missing or mismatched evidence object,
// a missing manifest, a broken audit chain, or an evidence step that did
// not complete.
type Loss struct {
	CaseID    string `json:"caseId"`
	Execution int    `json:"execution"`
	What      string `json:"what"`
}

// Checked counts what the verification read.
type Checked struct {
	Manifests, Objects, Chains, Records int
	Bytes                               int64
	// Contained counts the tasks stop-task stopped that ECS reports
	// stopped; Uncontained names the others.
	Contained   int
	Uncontained []string
	// Invocations are the task invocations the audit chains time (from an
	// action's start record to its result or error); Slowest is the
	// longest of each action, and Overtime lists those that took longer
	// than the action's Lambda timeout: in AWS they would have been killed.
	Invocations int
	Slowest     map[string]time.Duration
	Overtime    []string
}

// ssmActions end CAUGHT against moto, which never runs a command; every
// playbook runs them with onError: continue.
var ssmActions = map[string]bool{"capture-memory": true, "collect-host-artifacts": true, "capture-traffic": true}

// Verify checks every case that ran: its manifest (finalize-case's
// manifest.json) exists and names the case; every object it lists exists
// with the listed size and SHA-256, recomputed from the bytes; the audit
// chain verifies (audit.Verify) and holds the manifest's head hash; no step
// but the SSM ones ended CAUGHT. It also checks that every task stop-task
// stopped is stopped in ECS.
func Verify(ctx context.Context, cfg aws.Config, camp *Campaign, execs []*Execution) ([]Loss, Checked) {
	s3c := taskrt.NewS3(cfg)
	var (
		mu     sync.Mutex
		losses []Loss
		chk    = Checked{Slowest: map[string]time.Duration{}}
	)
	work := make(chan *Execution)
	// joined are the case ids given back by executions whose finding
	// joined a verified case (triggers.correlate), as that case's chain
	// records them (finding-joined).
	joined := map[string]string{}
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				env := camp.Env(e.Task)
				ls, c, js := verifyCase(ctx, s3c, taskrt.NewChain(cfg, env), env.EvidenceBucket, e)
				mu.Lock()
				for givenBack, caseID := range js {
					joined[givenBack] = caseID
				}
				losses = append(losses, ls...)
				chk.Manifests += c.Manifests
				chk.Objects += c.Objects
				chk.Bytes += c.Bytes
				chk.Chains += c.Chains
				chk.Records += c.Records
				chk.Invocations += c.Invocations
				for a, d := range c.Slowest {
					if d > chk.Slowest[a] {
						chk.Slowest[a] = d
					}
				}
				chk.Overtime = append(chk.Overtime, c.Overtime...)
				mu.Unlock()
			}
		}()
	}
	var correlated []*Execution
	for _, e := range execs {
		if e.Status == "" {
			continue // it never ended: counted as failed, not as lost
		}
		if e.Outcome == OutcomeCorrelated {
			correlated = append(correlated, e)
			continue
		}
		work <- e
	}
	close(work)
	wg.Wait()
	// A finding that joined an open case has no case of its own: it is
	// kept when the chain of a case verified above records it.
	for _, e := range correlated {
		if joined[e.CaseID] == "" {
			losses = append(losses, Loss{CaseID: e.CaseID, Execution: e.N,
				What: "CORRELATED, but no verified case's audit chain records its finding (finding-joined)"})
		}
	}
	chk.Contained, chk.Uncontained = contained(ctx, cfg, execs)
	return losses, chk
}

func verifyCase(ctx context.Context, s3c *s3.Client, chain *audit.Chain, bucket string, e *Execution) ([]Loss, Checked, map[string]string) {
	var (
		losses []Loss
		chk    Checked
		joined = map[string]string{}
	)
	lose := func(format string, args ...any) {
		losses = append(losses, Loss{CaseID: e.CaseID, Execution: e.N, What: fmt.Sprintf(format, args...)})
	}
	for _, st := range e.Steps {
		if st.Result == "CAUGHT" && !ssmActions[st.Action] || st.Result == "FAILED" {
			lose("step %s (%s) ended %s", st.Step, st.Action, st.Result)
		}
	}

	// The audit chain first: the manifest must be anchored in it
	// (casecheck.Check checks the evidence against it).
	recs, err := chain.Read(ctx, e.CaseID)
	chk.Chains++
	chk.Records += len(recs)
	switch {
	case err != nil:
		lose("audit chain unreadable: %v", err)
	case len(recs) == 0:
		lose("audit chain empty")
	default:
		if verr := audit.Verify(recs); verr != nil {
			lose("audit chain broken: %v", verr)
		}
		timeInvocations(recs, &chk)
		for _, r := range recs {
			var d struct {
				GivenBack string `json:"caseIdGivenBack"`
			}
			if r.Event == audit.EventFindingJoined && json.Unmarshal([]byte(r.Detail), &d) == nil && d.GivenBack != "" {
				joined[d.GivenBack] = e.CaseID
			}
		}
		if last := recs[len(recs)-1]; last.Action != "finalize-case" || last.Event != "result" {
			lose("audit chain ends with %s %s, not finalize-case's result", last.Action, last.Event)
		}
	}

	ev, err := casecheck.Check(ctx, s3c, bucket, e.CaseID, recs)
	if err != nil {
		lose("evidence: %v", err)
		return losses, chk, joined
	}
	for _, p := range ev.Problems {
		lose("%s", p)
	}
	steps := map[string]int{}
	if m := ev.Manifest; m != nil {
		chk.Manifests++
		for _, o := range m.Objects {
			chk.Objects++
			chk.Bytes += o.Bytes
			steps[o.Step]++
		}
	}
	// Steps that store evidence and completed must have it in the manifest.
	for _, st := range e.Steps {
		if st.Result == "OK" && (st.Action == "capture-task-metadata" || st.Action == "collect-logs") && steps[st.Step] == 0 {
			lose("step %s (%s) completed but the manifest lists none of its evidence", st.Step, st.Action)
		}
	}
	return losses, chk, joined
}

// timeInvocations pairs each start record with the next result or error
// record of the same step and action.
func timeInvocations(recs []audit.Record, chk *Checked) {
	if chk.Slowest == nil {
		chk.Slowest = map[string]time.Duration{}
	}
	open := map[string]time.Time{}
	for _, r := range recs {
		key := r.Step + "/" + r.Action
		at, err := time.Parse(time.RFC3339Nano, r.At)
		if err != nil {
			continue
		}
		switch r.Event {
		case "start":
			open[key] = at
		case "result", "error":
			began, ok := open[key]
			if !ok {
				continue
			}
			delete(open, key)
			d := at.Sub(began)
			chk.Invocations++
			if d > chk.Slowest[r.Action] {
				chk.Slowest[r.Action] = d
			}
			if a := catalog.Lookup(r.Action); a != nil && d > a.Timeout.D() {
				chk.Overtime = append(chk.Overtime, fmt.Sprintf("case %s: %s (%s) took %v; its Lambda times out after %v",
					r.CaseID, r.Step, r.Action, d.Round(time.Millisecond), a.Timeout.D()))
			}
		}
	}
}

// contained checks that every task whose stop-task step completed is
// stopped (desired status STOPPED) in ECS.
func contained(ctx context.Context, cfg aws.Config, execs []*Execution) (int, []string) {
	c := ecs.NewFromConfig(cfg)
	byCluster := map[string][]string{}
	for _, e := range execs {
		for _, st := range e.Steps {
			if st.Action == "stop-task" && st.Result == "OK" {
				byCluster[e.Task.ClusterArn] = append(byCluster[e.Task.ClusterArn], e.Task.Arn)
				break
			}
		}
	}
	n := 0
	var bad []string
	for cluster, arns := range byCluster {
		for i := 0; i < len(arns); i += 100 {
			batch := arns[i:min(i+100, len(arns))]
			out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: batch})
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", cluster, err))
				continue
			}
			stopped := map[string]bool{}
			for _, t := range out.Tasks {
				if aws.ToString(t.DesiredStatus) == "STOPPED" {
					stopped[aws.ToString(t.TaskArn)] = true
				}
			}
			for _, a := range batch {
				if stopped[a] {
					n++
				} else {
					bad = append(bad, a)
				}
			}
		}
	}
	return n, bad
}
