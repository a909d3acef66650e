package strict

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/irflow/irflow/internal/awsproxy"
)

// ExecRequest is one ExecuteCommand the layer accepted: the task is running
// with enableExecuteCommand and the container is known.
type ExecRequest struct {
	Account, Region string
	ClusterArn      string
	TaskArn         string
	ContainerName   string
	ContainerArn    string
	// RuntimeID is the container's runtime ID when moto gives one, else "".
	RuntimeID string
	// Command is the command to run, as given ("/bin/sh" for a shell).
	Command string
}

// ExecSession is the Session Manager session ExecuteCommand answers with:
// the client (session-manager-plugin, or Go code speaking its protocol)
// opens StreamURL and authenticates with TokenValue.
type ExecSession struct {
	SessionID  string
	StreamURL  string
	TokenValue string
}

// ExecBackend opens the Session Manager session of an ExecuteCommand, in
// place of Amazon ECS and the SSM agent in the container. Open is called
// once per accepted request, with the request's context; an error answers
// the client with TargetNotConnectedException, which is what ECS answers
// when the managed agent in the container cannot be reached.
type ExecBackend interface {
	Open(ctx context.Context, req ExecRequest) (ExecSession, error)
}

// ExecFunc adapts a function to ExecBackend.
type ExecFunc func(ctx context.Context, req ExecRequest) (ExecSession, error)

// Open implements ExecBackend.
func (f ExecFunc) Open(ctx context.Context, req ExecRequest) (ExecSession, error) { return f(ctx, req) }

// Errors of ExecuteCommand, as ECS answers them.
var (
	// The message users of the AWS CLI report, verbatim (typographic
	// apostrophe included).
	errExecNotEnabled = awsproxy.Error{Status: http.StatusBadRequest, Code: "InvalidParameterException",
		Message: "The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running. Wait and try again or run a new task with execute command enabled and try again."}
	errExecInteractive = awsproxy.Error{Status: http.StatusBadRequest, Code: "InvalidParameterException",
		Message: "Interactive is the only mode supported currently."}
	errExecNotConnected = awsproxy.Error{Status: http.StatusBadRequest, Code: "TargetNotConnectedException",
		Message: "The execute command failed due to an internal error. Try again later."}
)

// executeCommand serves ECS ExecuteCommand, which moto lacks: only for a
// running task started with enableExecuteCommand, only interactively, with
// the session from the ExecBackend.
func (l *Layer) executeCommand(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	ctx, c, op := r.Context(), callerOf(svc), svc.Operation
	var in struct {
		Cluster, Container, Command, Task string
		Interactive                       bool
	}
	_ = json.Unmarshal(body, &in)
	if !in.Interactive {
		l.refuse(w, r, svc, op, ruleExecInteractive, errExecInteractive, in.Task)
		return
	}
	if in.Cluster == "" {
		in.Cluster = "default"
	}
	out, err := l.look.ecs(ctx, c, "DescribeTasks", map[string]any{"cluster": in.Cluster, "tasks": []string{in.Task}})
	var api *apiError
	if errors.As(err, &api) {
		awsproxy.WriteError(w, r, svc, api.answer) // moto's own answer: an unknown cluster
		return
	}
	if err != nil {
		awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: http.StatusInternalServerError, Code: "ServerException", Message: err.Error()})
		return
	}
	tasks := objs(out, "tasks")
	if len(tasks) == 0 {
		l.refuse(w, r, svc, op, ruleExecNotEnabled, errExecNotEnabled, in.Task)
		return
	}
	t := tasks[0]
	arn := str(t, "taskArn")
	if on, _ := l.tasks.execSince(arn); !on || str(t, "lastStatus") != "RUNNING" {
		l.refuse(w, r, svc, op, ruleExecNotEnabled, errExecNotEnabled, arn)
		return
	}
	ctr, e := pickContainer(objs(t, "containers"), in.Container)
	if e != nil {
		l.refuse(w, r, svc, op, ruleExecContainer, *e, arn)
		return
	}
	req := ExecRequest{Region: c.Region, ClusterArn: str(t, "clusterArn"), TaskArn: arn, ContainerName: str(ctr, "name"),
		ContainerArn: str(ctr, "containerArn"), RuntimeID: str(ctr, "runtimeId"), Command: in.Command}
	req.Account = (&taskInfo{TaskArn: arn}).account()
	if l.cfg.Exec == nil {
		l.note(svc, op, ruleExecNotConnected, errExecNotConnected.Code, errExecNotConnected.Message+" (no ExecBackend configured)", arn)
		awsproxy.WriteError(w, r, svc, errExecNotConnected)
		return
	}
	sess, err := l.cfg.Exec.Open(ctx, req)
	if err != nil {
		l.note(svc, op, ruleExecNotConnected, errExecNotConnected.Code, errExecNotConnected.Message+" (ExecBackend: "+err.Error()+")", arn)
		awsproxy.WriteError(w, r, svc, errExecNotConnected)
		return
	}
	b, _ := json.Marshal(map[string]any{
		"clusterArn": req.ClusterArn, "containerArn": req.ContainerArn, "containerName": req.ContainerName,
		"interactive": true, "taskArn": arn,
		"session": map[string]string{"sessionId": sess.SessionID, "streamUrl": sess.StreamURL, "tokenValue": sess.TokenValue},
	})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", awsproxy.RequestID())
	_, _ = w.Write(b)
}

// pickContainer finds the container to run in: the named one, or the only
// one. "A container name only needs to be specified for tasks containing
// multiple containers." (ExecuteCommand). AWS documents no message for a
// missing or unknown name; the layer's says what is wrong in ECS's
// InvalidParameterException.
func pickContainer(ctrs []map[string]any, name string) (map[string]any, *awsproxy.Error) {
	if name == "" && len(ctrs) == 1 {
		return ctrs[0], nil
	}
	for _, c := range ctrs {
		if name != "" && str(c, "name") == name {
			return c, nil
		}
	}
	msg := "The container name must be specified for a task with more than one container."
	if name != "" {
		msg = "The task has no container named " + name + "."
	}
	return nil, &awsproxy.Error{Status: http.StatusBadRequest, Code: "InvalidParameterException", Message: msg}
}
