package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/internal/benchdoc"
	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/worlds"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/resolve-target/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

// StormWorld is the world whose case is a finding storm.
const StormWorld = "storm"

// The storm's findings: the first alone (GuardDuty's first finding on the
// service), then StormBursts bursts of StormBurstSize findings over the
// compromised tasks, round robin, each burst's executions started at once
// while the case waits for its approval.
const (
	StormBursts    = 5
	StormBurstSize = 21
	// stormInFlight bounds the executions running at once (two cores).
	stormInFlight = 8
	// stormBurstGap is the pause between two bursts.
	stormBurstGap = 150 * time.Millisecond
)

// stormFindings are the storm's inputs: n findings on the compromised
// tasks, round robin from the target, of the playbook's finding types in
// turn, each with its own id.
func stormFindings(root string, w *worlds.World, compiled *generator.Result, n int) ([][]byte, [][]byte, error) {
	base, err := exampleFinding(root, w, compiled)
	if err != nil {
		return nil, nil, err
	}
	var types []string
	for _, t := range compiled.Triggers.FindingTypes {
		if strings.HasSuffix(t, "*") {
			types = append(types, generator.MatchFindingTypes(t)...)
		} else {
			types = append(types, t)
		}
	}
	var inputs, findings [][]byte
	for i := 0; i < n; i++ {
		var ev map[string]any
		if err := json.Unmarshal(base, &ev); err != nil {
			return nil, nil, err
		}
		task := w.Storm.Compromised[i%len(w.Storm.Compromised)]
		d := ev["detail"].(map[string]any)
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", w.ClusterArn, task.Arn, i)))
		id := hex.EncodeToString(sum[:16])
		if arn, _ := d["arn"].(string); arn != "" {
			d["arn"] = strings.Replace(arn, d["id"].(string), id, 1)
		}
		d["id"] = id
		if len(types) > 0 {
			d["type"] = types[i%len(types)]
		}
		raw, _ := json.Marshal(ev)
		in, _, finding, err := w.RetargetTo(raw, task)
		if err != nil {
			return nil, nil, err
		}
		inputs, findings = append(inputs, in), append(findings, finding)
	}
	return inputs, findings, nil
}

// runStorm responds to the storm: the first finding alone, then the
// bursts while its case waits at the gate, every execution through the
// real handlers; the gate is decided once every other execution has
// ended. The bench plays ECS's service scheduler meanwhile. c is the case
// of the first finding; its execution is c.Run, judged as every case is,
// and the storm is judged from moto.
func runStorm(ctx context.Context, out io.Writer, o *Options, compiled *generator.Result, handlers simulate.Handlers, env *awsEnv,
	stores taskrt.Env, log io.Writer, c *Case) (*benchdoc.StormRun, error) {
	began := time.Now()
	w := c.World
	n := 1 + StormBursts*StormBurstSize
	inputs, findings, err := stormFindings(o.Root, w, compiled, n)
	if err != nil {
		return nil, err
	}
	if env.layer != nil {
		for _, f := range findings[1:] {
			if err := env.layer.AddFinding(ctx, w.Account, w.Region, f); err != nil {
				return nil, err
			}
		}
	}
	// The first input is the case's: the one plan.build registered.
	inputs[0] = c.Input
	baseline, err := gatherNetwork(ctx, env.cfg)
	if err != nil {
		return nil, fmt.Errorf("the network before the response: %w", err)
	}
	c.Baseline = baseline
	mark, err := env.mark(ctx)
	if err != nil {
		return nil, err
	}
	sched := newScheduler(env, w)
	stopSched := sched.start(ctx)

	var (
		mu       sync.Mutex
		finished atomic.Int64
		gated    atomic.Int64
		runs     = make([]*simulate.Execution, n)
		errs     []error
	)
	decide := approver(env.cfg, stores, log, c)
	gate := simulate.ApproverFunc(func(ctx context.Context, g simulate.Gate) (simulate.Decision, error) {
		gated.Add(1)
		// The responder decides after the storm: every other execution
		// has ended (joined the case) by then.
		for finished.Load()+gated.Load() < int64(n) {
			select {
			case <-ctx.Done():
				return simulate.Decision{}, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return decide.Decide(ctx, g)
	})
	sem := make(chan struct{}, stormInFlight)
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer finished.Add(1)
			run, err := simulate.Run(ctx, compiled, inputs[i], simulate.Options{Handlers: handlers, Approver: gate})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("finding %d: %w", i, err))
				return
			}
			runs[i] = run
		}()
	}
	fmt.Fprintf(out, "  the storm: 1 finding, then %d bursts of %d on the %d compromised tasks (at most %d executions at once)\n",
		StormBursts, StormBurstSize, len(w.Storm.Compromised), stormInFlight)
	start(0)
	// The bursts begin once the first finding's case is open (waiting at
	// its gate) or its execution ended.
	for gated.Load() == 0 && finished.Load() == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	for b := 0; b < StormBursts; b++ {
		for i := 1 + b*StormBurstSize; i < 1+(b+1)*StormBurstSize; i++ {
			start(i)
		}
		time.Sleep(stormBurstGap)
	}
	wg.Wait()
	stopSched()
	if err := sched.reconcile(ctx); err != nil { // what ECS does after the last stop
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	sr := &benchdoc.StormRun{Executions: n, Outcomes: map[string]int{}, Replacements: sched.started}
	for i, r := range runs {
		sr.Outcomes[r.Outcome]++
		sr.Transitions += r.Transitions
		for _, st := range r.Steps {
			if st.Result != simulate.ResultSkipped {
				sr.Invocations += max(st.Attempts, 1)
			}
		}
		switch {
		case i == 0:
			sr.CaseTransitions = r.Transitions
		case r.Outcome != generator.OutcomeCorrelated:
			c.problem("storm finding %d ended %s/%s; want CORRELATED (joined the service's case)", i, r.Status, r.Outcome)
		}
	}
	c.Run = runs[0]
	if err := finishCase(ctx, out, env, stores, c, mark); err != nil {
		return nil, err
	}
	if err := judgeStorm(ctx, env, stores, c, mark, sr); err != nil {
		return nil, err
	}
	sr.Wall = time.Since(began)
	printStorm(out, sr)
	b, _ := json.MarshalIndent(sr, "", "  ")
	if err := os.WriteFile(filepath.Join(o.Out, benchdoc.StormFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return sr, nil
}

// scheduler plays ECS's service scheduler for the storm's two services:
// when a service runs fewer tasks than it desires (a task of it stopped),
// it starts one from the service's current task definition, as ECS does
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html:
// "If a task fails or stops, the service scheduler launches another
// instance of your task definition to replace it"). moto has no scheduler.
// It does not play a deployment: a service rolled back to another revision
// keeps the tasks it runs until something stops them.
type scheduler struct {
	env     *awsEnv
	w       *worlds.World
	started int
	mu      sync.Mutex
}

func newScheduler(env *awsEnv, w *worlds.World) *scheduler { return &scheduler{env: env, w: w} }

func (s *scheduler) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = s.reconcile(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// reconcile brings each service up to its desired count.
func (s *scheduler) reconcile(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := ecs.NewFromConfig(s.env.direct)
	for _, name := range []string{s.w.Storm.CompromisedService, s.w.Storm.CleanService} {
		svc, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(s.w.ClusterName), Services: []string{name}})
		if err != nil {
			return err
		}
		if len(svc.Services) != 1 {
			return fmt.Errorf("service %s: not found", name)
		}
		want := int(svc.Services[0].DesiredCount)
		tasks, err := clusterTasks(ctx, c, s.w.ClusterName, ecstypes.DesiredStatusRunning)
		if err != nil {
			return err
		}
		running := 0
		for _, t := range tasks {
			if aws.ToString(t.Group) == "service:"+name && aws.ToString(t.LastStatus) == "RUNNING" {
				running++
			}
		}
		for ; running < want; running++ {
			if _, err := s.w.StartReplacement(ctx, s.env.direct, name, aws.ToString(svc.Services[0].TaskDefinition)); err != nil {
				return err
			}
			s.started++
		}
	}
	return nil
}

// clusterTasks describes every task of the cluster with the desired status.
func clusterTasks(ctx context.Context, c *ecs.Client, cluster string, status ecstypes.DesiredStatus) ([]ecstypes.Task, error) {
	var arns []string
	p := ecs.NewListTasksPaginator(c, &ecs.ListTasksInput{Cluster: aws.String(cluster), DesiredStatus: status})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		arns = append(arns, page.TaskArns...)
	}
	var out []ecstypes.Task
	for i := 0; i < len(arns); i += 100 {
		d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns[i:min(i+100, len(arns))]})
		if err != nil {
			return nil, err
		}
		for _, t := range d.Tasks {
			if strings.HasSuffix(aws.ToString(t.ClusterArn), "/"+cluster) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// judgeStorm reads the storm's outcome from moto: the cluster's tasks and
// their task definitions from ECS, the flows through the EC2 changes moto
// accepted, the case claims and approvals from DynamoDB, the findings from
// the cases' audit chains.
func judgeStorm(ctx context.Context, env *awsEnv, stores taskrt.Env, c *Case, mark callMark, sr *benchdoc.StormRun) error {
	w, st := c.World, c.World.Storm
	ecsc := ecs.NewFromConfig(env.cfg)
	var all []ecstypes.Task
	for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		ts, err := clusterTasks(ctx, ecsc, w.ClusterName, status)
		if err != nil {
			return fmt.Errorf("the storm's tasks: %w", err)
		}
		all = append(all, ts...)
	}
	images := map[string][]string{} // task definition -> images
	imagesOf := func(td string) ([]string, error) {
		if im, ok := images[td]; ok {
			return im, nil
		}
		d, err := ecsc.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td)})
		if err != nil {
			return nil, err
		}
		for _, cd := range d.TaskDefinition.ContainerDefinitions {
			images[td] = append(images[td], aws.ToString(cd.Image))
		}
		return images[td], nil
	}
	original := map[string]bool{}
	for _, t := range append(append([]worlds.Task{}, st.Compromised...), st.Clean...) {
		original[t.Arn] = true
	}
	status := map[string]string{}
	stopped := map[string]bool{}
	compromisedServices := map[string]bool{}
	s := &sr.Summary
	for _, t := range all {
		arn := aws.ToString(t.TaskArn)
		status[arn] = aws.ToString(t.LastStatus)
		stopped[arn] = status[arn] == "STOPPED"
		im, err := imagesOf(aws.ToString(t.TaskDefinitionArn))
		if err != nil {
			return err
		}
		bad := false
		for _, i := range im {
			bad = bad || strings.HasSuffix(i, "@"+st.CompromisedDigest)
		}
		if !bad {
			continue
		}
		if g := aws.ToString(t.Group); strings.HasPrefix(g, "service:") {
			compromisedServices[strings.TrimPrefix(g, "service:")] = true
		}
		if original[arn] {
			s.CompromisedTasks++
		} else {
			s.ReplacementsFromCompromisedImage++
		}
	}
	s.CompromisedServices = len(compromisedServices)

	calls, _, err := env.since(ctx, mark)
	if err != nil {
		return err
	}
	changes, err := flowmodel.ChangesFromCalls(calls)
	if err != nil {
		return err
	}
	results, _, err := judgeFlows(&worlds.World{Flows: st.Flows}, c.Baseline, changes, stopped)
	if err != nil {
		return fmt.Errorf("the storm's flows: %w", err)
	}
	verdict := map[string]FlowResult{}
	for _, r := range results {
		verdict[r.Name] = r
	}
	for _, t := range st.Compromised {
		if v, ok := verdict["c2-session:"+shortID(t.Arn)]; ok && v.Before == Allowed && v.After == Blocked {
			s.CompromisedTasksContained++
		}
	}
	active, err := activeHosts(ctx, ecsc, w)
	if err != nil {
		return err
	}
	for _, t := range st.Clean {
		touched := status[t.Arn] != "RUNNING" || !active[t.ContainerInstanceArn]
		for _, f := range st.Flows {
			if f.Owner == t.Arn && verdict[f.Name].Before == Allowed && verdict[f.Name].After == Blocked {
				touched = true
			}
		}
		if touched {
			s.InnocentTasksTouched++
			c.problem("clean task %s was touched: %s, host active %v", shortID(t.Arn), status[t.Arn], active[t.ContainerInstanceArn])
		}
	}

	cases, err := stormCases(ctx, env.cfg, stores, st.Tasks())
	if err != nil {
		return err
	}
	s.Cases = len(cases)
	approvals, err := caseApprovals(ctx, env.cfg, stores, cases)
	if err != nil {
		return err
	}
	s.ApprovalsRequested = len(approvals)
	// The approver sees every task the decision covers: each compromised
	// task is listed on the case's approval.
	for _, a := range approvals {
		listed := map[string]bool{}
		for _, t := range a.Tasks {
			listed[t] = true
		}
		for _, t := range st.Compromised {
			if !listed[t.Arn] {
				c.problem("approval %s does not show compromised task %s to the approver", a.ID, shortID(t.Arn))
			}
		}
	}
	if s.Findings, err = recordedFindings(ctx, env.cfg, stores, cases); err != nil {
		return err
	}
	switch {
	case s.Cases != s.CompromisedServices:
		c.problem("storm: %d cases for %d compromised services", s.Cases, s.CompromisedServices)
	case s.ApprovalsRequested != s.CompromisedServices:
		c.problem("storm: %d approvals requested for %d compromised services", s.ApprovalsRequested, s.CompromisedServices)
	}
	if s.CompromisedTasksContained != s.CompromisedTasks || s.CompromisedTasks != len(st.Compromised) {
		c.problem("storm: %d of %d compromised tasks contained (the world has %d)", s.CompromisedTasksContained, s.CompromisedTasks, len(st.Compromised))
	}
	if s.ReplacementsFromCompromisedImage > 0 {
		c.problem("storm: %d replacements started from the compromised image", s.ReplacementsFromCompromisedImage)
	}
	if s.Findings != sr.Executions {
		c.problem("storm: the cases record %d findings; %d were emitted", s.Findings, sr.Executions)
	}
	return nil
}

// activeHosts are the world's container instances still ACTIVE.
func activeHosts(ctx context.Context, c *ecs.Client, w *worlds.World) (map[string]bool, error) {
	var arns []string
	for _, i := range w.Instances {
		arns = append(arns, i.ContainerInstanceArn)
	}
	out, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(w.ClusterName), ContainerInstances: arns})
	if err != nil {
		return nil, fmt.Errorf("the storm's hosts: %w", err)
	}
	active := map[string]bool{}
	for _, ci := range out.ContainerInstances {
		active[aws.ToString(ci.ContainerInstanceArn)] = aws.ToString(ci.Status) == "ACTIVE"
	}
	return active, nil
}

// stormCases are the case ids of the incidents table's case claims on the
// tasks, sorted.
func stormCases(ctx context.Context, cfg aws.Config, stores taskrt.Env, tasks []string) ([]string, error) {
	on := map[string]bool{}
	for _, t := range tasks {
		on[t] = true
	}
	var out []string
	err := scan(ctx, cfg, stores.IncidentsTable, func(it map[string]ddbtypes.AttributeValue) {
		if strings.HasPrefix(str(it[incident.TablePK]), incident.CaseClaimKey("")) && on[str(it["taskArn"])] {
			out = append(out, str(it["caseId"]))
		}
	})
	sort.Strings(out)
	return out, err
}

// caseApprovals are the approvals table's items of the cases.
func caseApprovals(ctx context.Context, cfg aws.Config, stores taskrt.Env, cases []string) ([]*approval.Approval, error) {
	of := map[string]bool{}
	for _, c := range cases {
		of[c] = true
	}
	var out []*approval.Approval
	err := scan(ctx, cfg, stores.ApprovalsTable, func(it map[string]ddbtypes.AttributeValue) {
		a, err := approval.FromItem(it)
		if err == nil && of[a.CaseID] {
			out = append(out, a)
		}
	})
	return out, err
}

// recordedFindings counts the distinct findings the cases' audit chains
// record: each case's own (resolve-target's result) and those that joined
// it (finding-joined).
func recordedFindings(ctx context.Context, cfg aws.Config, stores taskrt.Env, cases []string) (int, error) {
	seen := map[string]bool{}
	chain := taskrt.NewChain(cfg, stores)
	for _, id := range cases {
		recs, err := chain.Read(ctx, id)
		if err != nil {
			return 0, err
		}
		for _, r := range recs {
			var d struct {
				Finding *struct {
					ID string `json:"id"`
				} `json:"finding"`
				Outputs struct {
					Incident struct {
						Finding *struct {
							ID string `json:"id"`
						} `json:"finding"`
					} `json:"incident"`
				} `json:"outputs"`
			}
			switch {
			case r.Event == handler.EventFindingJoined:
				if json.Unmarshal([]byte(r.Detail), &d) == nil && d.Finding != nil {
					seen[d.Finding.ID] = true
				}
			case r.Action == "resolve-target" && r.Event == "result":
				if json.Unmarshal([]byte(r.Detail), &d) == nil && d.Outputs.Incident.Finding != nil {
					seen[d.Outputs.Incident.Finding.ID] = true
				}
			}
		}
	}
	return len(seen), nil
}

// scan reads every item of the table.
func scan(ctx context.Context, cfg aws.Config, table string, each func(map[string]ddbtypes.AttributeValue)) error {
	p := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(cfg), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("scanning %s: %w", table, err)
		}
		for _, it := range page.Items {
			each(it)
		}
	}
	return nil
}

func str(v ddbtypes.AttributeValue) string {
	if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func shortID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// printStorm is the storm's part of the human report.
func printStorm(out io.Writer, sr *benchdoc.StormRun) {
	s := sr.Summary
	var outcomes []string
	for k, v := range sr.Outcomes {
		outcomes = append(outcomes, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(outcomes)
	fmt.Fprintf(out, "  storm (read back from moto): %d findings recorded in %d case(s) for %d compromised service(s); %d approval(s) requested\n",
		s.Findings, s.Cases, s.CompromisedServices, s.ApprovalsRequested)
	fmt.Fprintf(out, "    compromised tasks contained %d/%d; clean tasks touched %d; replacements from the compromised image %d (the bench's scheduler started %d)\n",
		s.CompromisedTasksContained, s.CompromisedTasks, s.InnocentTasksTouched, s.ReplacementsFromCompromisedImage, sr.Replacements)
	fmt.Fprintf(out, "    %d executions (%s), %d state transitions (the case's %d), %d Lambda invocations, %s wall time\n",
		sr.Executions, strings.Join(outcomes, ", "), sr.Transitions, sr.CaseTransitions, sr.Invocations, sr.Wall.Round(time.Millisecond))
}
