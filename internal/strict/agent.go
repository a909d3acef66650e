package strict

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/irflow/irflow/internal/awsproxy"
)

// pendingStop is a StopTask ECS accepted and the agent has not received.
type pendingStop struct {
	Caller                caller
	Cluster, Task, Reason string
	Instance, Unreachable string
	At                    time.Time
}

type stopQueue struct {
	mu      sync.Mutex
	deliver sync.Mutex // one delivery round at a time
	byTask  map[string]*pendingStop
}

func (q *stopQueue) put(p *pendingStop) {
	q.mu.Lock()
	if q.byTask == nil {
		q.byTask = map[string]*pendingStop{}
	}
	if old := q.byTask[p.Task]; old == nil {
		q.byTask[p.Task] = p
	}
	q.mu.Unlock()
}

func (q *stopQueue) get(task string) *pendingStop {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.byTask[task]
}

func (q *stopQueue) drop(task string) {
	q.mu.Lock()
	delete(q.byTask, task)
	q.mu.Unlock()
}

func (q *stopQueue) list() []*pendingStop {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]*pendingStop, 0, len(q.byTask))
	for _, p := range q.byTask {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func (q *stopQueue) reset() {
	q.mu.Lock()
	q.byTask = nil
	q.mu.Unlock()
}

// stopTask delivers StopTask the way ECS does. A Fargate task, or a task
// whose container agent reaches ECS, is stopped (moto stops it). A task on a
// container instance whose agent is cut off is not: the API accepts the
// call and answers with desiredStatus STOPPED while the task keeps lastStatus
// RUNNING; the stop is delivered when the agent can reach ECS again.
//
// Fargate is exempt because there is no container agent of the account's
// on Fargate; AWS does not document which network path its platform agent
// uses (see doc.go).
func (l *Layer) stopTask(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	ctx, c := r.Context(), callerOf(svc)
	var in struct{ Cluster, Task, Reason string }
	_ = json.Unmarshal(body, &in)
	if in.Cluster == "" {
		in.Cluster = "default"
	}
	out, err := l.look.ecs(ctx, c, "DescribeTasks", map[string]any{"cluster": in.Cluster, "tasks": []string{in.Task}})
	tasks := objs(out, "tasks")
	if err != nil || len(tasks) == 0 {
		l.forwardStop(w, r, body, svc) // moto answers for tasks it does not have
		return
	}
	t := tasks[0]
	arn, ci := str(t, "taskArn"), str(t, "containerInstanceArn")
	if str(t, "lastStatus") == "STOPPED" || ci == "" || str(t, "launchType") == "FARGATE" {
		l.forwardStop(w, r, body, svc)
		return
	}
	inst, err := l.instanceOf(ctx, c, in.Cluster, ci)
	if err != nil || inst == "" {
		l.forwardStop(w, r, body, svc)
		return
	}
	ok, why, err := l.cfg.Agents.Reachable(ctx, inst)
	if err != nil {
		l.note(svc, svc.Operation, ruleAgentUnknown, "", "StopTask passed to moto: cannot tell whether the agent on "+inst+" reaches ECS: "+err.Error(), arn)
		l.forwardStop(w, r, body, svc)
		return
	}
	if ok {
		l.forwardStop(w, r, body, svc)
		return
	}
	l.stops.put(&pendingStop{Caller: c, Cluster: in.Cluster, Task: arn, Reason: in.Reason, Instance: inst, Unreachable: why, At: time.Now().UTC()})
	l.note(svc, svc.Operation, ruleAgentUnreachable, "",
		fmt.Sprintf("StopTask accepted, not delivered: the ECS agent on %s cannot reach Amazon ECS (%s)", inst, why), arn)
	if err := l.presentTask(ctx, c, t); err != nil {
		writeECSFault(w, r, svc, err)
		return
	}
	b, _ := json.Marshal(map[string]any{"task": t})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", awsproxy.RequestID())
	_, _ = w.Write(b)
}

// forwardStop passes a StopTask to moto and shows the task it answers with
// as AWS does; a task moto stopped loses its ENIs (eni_reap.go).
func (l *Layer) forwardStop(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	rec := l.forward(r, body)
	out, err := decodeJSON(rec.Body.Bytes())
	if !rec.OK() || err != nil {
		rec.Send(w, nil)
		return
	}
	if t, ok := out["task"].(map[string]any); ok {
		l.tasks.learn(t)
		if err := l.presentTask(r.Context(), callerOf(svc), t); err != nil {
			writeECSFault(w, r, svc, err)
			return
		}
	}
	b, _ := json.Marshal(out)
	rec.Send(w, b)
}

// deliverPending stops, in moto, every accepted StopTask whose agent can
// reach ECS again. It runs before the layer answers for task state and
// after every EC2 change moto accepted.
func (l *Layer) deliverPending(ctx context.Context) {
	pending := l.stops.list()
	if len(pending) == 0 {
		return
	}
	l.stops.deliver.Lock()
	defer l.stops.deliver.Unlock()
	for _, p := range pending {
		if l.stops.get(p.Task) == nil {
			continue // delivered meanwhile
		}
		ok, _, err := l.cfg.Agents.Reachable(ctx, p.Instance)
		if err != nil || !ok {
			continue
		}
		in := map[string]any{"cluster": p.Cluster, "task": p.Task}
		if p.Reason != "" {
			in["reason"] = p.Reason
		}
		if out, err := l.look.ecs(ctx, p.Caller, "StopTask", in); err == nil {
			l.stops.drop(p.Task)
			if t, ok := out["task"].(map[string]any); ok {
				// Best effort: a failure here is made good when the task or
				// its ENI is next described.
				_ = l.reapStoppedTask(ctx, p.Caller, t)
			}
		}
	}
}
