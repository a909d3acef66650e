package strict

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/irflow/irflow/internal/awsproxy"
)

// serveECS applies the ECS rules: ExecuteCommand (which moto lacks),
// StopTask through the container agent, and the task and container-instance
// documents rewritten the way AWS shows them.
func (l *Layer) serveECS(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	switch svc.Operation {
	case "ExecuteCommand":
		l.executeCommand(w, r, body, svc)
	case "StopTask":
		l.stopTask(w, r, body, svc)
	case "RunTask", "StartTask", "DescribeTasks":
		l.rewriteTasks(w, r, body, svc)
	case "DescribeContainerInstances":
		l.rewriteContainerInstances(w, r, body, svc)
	case "ListTasks":
		l.deliverPending(r.Context())
		l.next.ServeHTTP(w, r)
	default:
		l.next.ServeHTTP(w, r)
	}
}

// decodeJSON reads an ECS document keeping numbers (epoch timestamps) as
// written.
func decodeJSON(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	return m, d.Decode(&m)
}

// rewriteTasks forwards RunTask, StartTask and DescribeTasks, learns the
// tasks' ENIs and ECS Exec setting, and shows what AWS shows: moto keeps
// neither enableExecuteCommand nor managed agents, nor a stop the agent has
// not carried out yet.
func (l *Layer) rewriteTasks(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	ctx := r.Context()
	if svc.Operation == "DescribeTasks" {
		l.deliverPending(ctx)
	}
	var in struct {
		EnableExecuteCommand bool `json:"enableExecuteCommand"`
	}
	_ = json.Unmarshal(body, &in)
	rec := l.forward(r, body)
	out, err := decodeJSON(rec.Body.Bytes())
	if !rec.OK() || err != nil {
		rec.Send(w, nil)
		return
	}
	for _, t := range objs(out, "tasks") {
		l.tasks.learn(t)
		if in.EnableExecuteCommand && svc.Operation != "DescribeTasks" {
			l.tasks.enableExec(str(t, "taskArn"))
		}
		l.decorateTask(t)
	}
	b, _ := json.Marshal(out)
	rec.Send(w, b)
}

// decorateTask adds to a task document what AWS shows and moto lacks:
// enableExecuteCommand, the ExecuteCommandAgent of each container of an
// exec-enabled task ("managedAgents": [{"lastStartedAt", "name":
// "ExecuteCommandAgent", "lastStatus": "RUNNING"}], Monitor Amazon ECS
// containers with ECS Exec), and the desired status of a stop the agent has
// not carried out.
func (l *Layer) decorateTask(t map[string]any) {
	arn := str(t, "taskArn")
	on, since := l.tasks.execSince(arn)
	t["enableExecuteCommand"] = on
	if on {
		status := "RUNNING"
		if str(t, "lastStatus") == "STOPPED" {
			status = "STOPPED"
		}
		for _, c := range objs(t, "containers") {
			c["managedAgents"] = []map[string]any{{"name": "ExecuteCommandAgent", "lastStatus": status,
				"lastStartedAt": json.Number(epoch(since))}}
		}
	}
	if p := l.stops.get(arn); p != nil && str(t, "lastStatus") != "STOPPED" {
		t["desiredStatus"] = "STOPPED"
		t["stoppedReason"] = p.Reason
		t["stopCode"] = "UserInitiated"
	}
}

// epoch writes t the way ECS JSON writes timestamps: seconds since the
// epoch, with milliseconds.
func epoch(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// rewriteContainerInstances shows agentConnected false for instances whose
// agent cannot reach Amazon ECS: "This parameter returns true if the agent
// is connected to Amazon ECS. An instance with an agent that may be
// unhealthy or stopped return false." (ContainerInstance —
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerInstance.html).
func (l *Layer) rewriteContainerInstances(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	ctx := r.Context()
	l.deliverPending(ctx)
	rec := l.forward(r, body)
	out, err := decodeJSON(rec.Body.Bytes())
	if !rec.OK() || err != nil {
		rec.Send(w, nil)
		return
	}
	for _, ci := range objs(out, "containerInstances") {
		if ok, _, err := l.cfg.Agents.Reachable(ctx, str(ci, "ec2InstanceId")); err == nil && !ok {
			ci["agentConnected"] = false
		}
	}
	b, _ := json.Marshal(out)
	rec.Send(w, b)
}
