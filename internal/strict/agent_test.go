package strict

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// fakeOracle is an AgentOracle the test switches.
type fakeOracle struct {
	up   atomic.Bool
	fail atomic.Bool
	asks atomic.Int64
}

func (o *fakeOracle) Reachable(_ context.Context, instance string) (bool, string, error) {
	o.asks.Add(1)
	if o.fail.Load() {
		return false, "", errors.New("not modeled")
	}
	if instance != "i-1" {
		return true, "", nil
	}
	return o.up.Load(), "quarantined", nil
}

var _ AgentOracle = (*fakeOracle)(nil)

// TestStopTaskAgentUnreachable: with the agent cut off, StopTask of an EC2
// task is accepted (desiredStatus STOPPED) but never reaches moto, the task
// stays RUNNING in every later DescribeTasks, the container instance shows
// agentConnected false; once the agent is back the stop is delivered. A
// Fargate task is stopped at once.
func TestStopTaskAgentUnreachable(t *testing.T) {
	f := newFakeMoto(t)
	fakeTasks(f)
	oracle := &fakeOracle{}
	l, url := serve(t, f.srv.URL, Config{Agents: oracle})
	c := ecs.NewFromConfig(sdk(url))
	stop, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c1"), Task: aws.String(taskEC2), Reason: aws.String("irflow containment")})
	if err != nil {
		t.Fatal(err)
	}
	if st := stop.Task; aws.ToString(st.DesiredStatus) != "STOPPED" || aws.ToString(st.LastStatus) != "RUNNING" || aws.ToString(st.StoppedReason) != "irflow containment" {
		t.Errorf("StopTask answered desired %s last %s reason %q; want STOPPED RUNNING", aws.ToString(st.DesiredStatus), aws.ToString(st.LastStatus), aws.ToString(st.StoppedReason))
	}
	if f.saw("StopTask") != 0 {
		t.Fatal("StopTask reached moto while the agent is cut off")
	}
	rs := l.refusals.list()
	if len(rs) != 1 || rs[0].Rule != ruleAgentUnreachable.id || rs[0].Code != "" || rs[0].Resource != taskEC2 {
		t.Errorf("recorded %+v; want one accepted-not-delivered entry", rs)
	}
	for i := range 2 {
		d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{taskEC2}})
		if err != nil {
			t.Fatal(err)
		}
		if tk := d.Tasks[0]; aws.ToString(tk.DesiredStatus) != "STOPPED" || aws.ToString(tk.LastStatus) != "RUNNING" {
			t.Errorf("DescribeTasks %d: desired %s last %s; want STOPPED RUNNING", i, aws.ToString(tk.DesiredStatus), aws.ToString(tk.LastStatus))
		}
	}
	ci, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("c1"), ContainerInstances: []string{ciArn}})
	if err != nil || len(ci.ContainerInstances) != 1 || ci.ContainerInstances[0].AgentConnected {
		t.Errorf("DescribeContainerInstances: %+v %v; want agentConnected false", ci, err)
	}

	oracle.up.Store(true) // the containment is lifted
	d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{taskEC2}})
	if err != nil {
		t.Fatal(err)
	}
	if f.saw("StopTask") != 1 || aws.ToString(d.Tasks[0].LastStatus) != "STOPPED" {
		t.Errorf("after the agent came back: StopTask reached moto %d times, task %s; want 1, STOPPED", f.saw("StopTask"), aws.ToString(d.Tasks[0].LastStatus))
	}
	ci, _ = c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("c1"), ContainerInstances: []string{ciArn}})
	if !ci.ContainerInstances[0].AgentConnected {
		t.Error("agentConnected still false")
	}

	oracle.up.Store(false)
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c1"), Task: aws.String(taskFargate)}); err != nil || f.saw("StopTask") != 2 {
		t.Errorf("Fargate StopTask: %v, moto saw %d; want it passed through", err, f.saw("StopTask"))
	}
}

// TestStopTaskOracleError: when the oracle cannot tell, StopTask behaves as
// moto does, and the layer says so.
func TestStopTaskOracleError(t *testing.T) {
	f := newFakeMoto(t)
	fakeTasks(f)
	oracle := &fakeOracle{}
	oracle.fail.Store(true)
	l, url := serve(t, f.srv.URL, Config{Agents: oracle})
	if _, err := ecs.NewFromConfig(sdk(url)).StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c1"), Task: aws.String(taskEC2)}); err != nil {
		t.Fatal(err)
	}
	rs := l.refusals.list()
	if f.saw("StopTask") != 1 || len(rs) != 1 || rs[0].Rule != ruleAgentUnknown.id {
		t.Errorf("moto saw StopTask %d times, recorded %+v", f.saw("StopTask"), rs)
	}
}
