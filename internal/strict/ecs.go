package strict

import (
	"bytes"
	"context"
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
		if in, err := decodeJSON(body); err == nil && in["containerInstance"] != nil {
			l.listTasksOnInstance(w, r, in, svc)
			return
		}
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
// tasks' ENIs, ECS Exec and assignPublicIp settings, and shows what AWS
// shows: moto keeps neither enableExecuteCommand nor managed agents, nor a
// stop the agent has not carried out yet, nor a public IP, and places task
// ENIs outside their subnets (presentTask).
func (l *Layer) rewriteTasks(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	ctx, c := r.Context(), callerOf(svc)
	if svc.Operation == "DescribeTasks" {
		l.deliverPending(ctx)
	}
	var in struct {
		EnableExecuteCommand bool `json:"enableExecuteCommand"`
		NetworkConfiguration struct {
			AwsvpcConfiguration struct {
				AssignPublicIP string `json:"assignPublicIp"`
			} `json:"awsvpcConfiguration"`
		} `json:"networkConfiguration"`
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
		if svc.Operation != "DescribeTasks" {
			if in.EnableExecuteCommand {
				l.tasks.enableExec(str(t, "taskArn"))
			}
			fargate := str(t, "containerInstanceArn") == "" || str(t, "launchType") == "FARGATE"
			for _, e := range taskENIs(t) {
				l.tasks.setPublic(e.eni, fargate && in.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIP == "ENABLED")
			}
		}
		if err := l.presentTask(ctx, c, t); err != nil {
			writeECSFault(w, r, svc, err)
			return
		}
	}
	b, _ := json.Marshal(out)
	rec.Send(w, b)
}

// writeECSFault answers a request whose answer the layer could not rewrite.
func writeECSFault(w http.ResponseWriter, r *http.Request, svc awsproxy.Service, err error) {
	awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: http.StatusInternalServerError, Code: "ServerException",
		Message: "strict: rewriting " + svc.Operation + ": " + err.Error()})
}

// presentTask makes a task document show what AWS shows: a STOPPED task's
// ENIs deleted (in moto too), Exec and held stops (decorateTask), and its
// network (presentTaskNetwork).
func (l *Layer) presentTask(ctx context.Context, c caller, t map[string]any) error {
	if err := l.reapStoppedTask(ctx, c, t); err != nil {
		return err
	}
	l.decorateTask(t)
	return l.presentTaskNetwork(ctx, c, t)
}

// presentTaskNetwork shows a task's ENI attachments as AWS does: the
// address of the ENI in its subnet (privateIPv4Address, privateDnsName;
// eni_addr.go), the public address of a task started with assignPublicIp
// ENABLED (publicIPv4Address, seen in published DescribeTasks answers;
// eni_public.go), status DELETED once the ENI is deleted (eni_reap.go), and
// each container's networkInterfaces ("attachmentId", "privateIpv4Address":
// Container.networkInterfaces, "The network interfaces associated with the
// container" — https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Container.html;
// moto leaves them empty).
func (l *Layer) presentTaskNetwork(ctx context.Context, c caller, t map[string]any) error {
	stopped := str(t, "lastStatus") == "STOPPED"
	var ifaces []any
	for _, e := range taskENIs(t) {
		if stopped && l.tasks.isReaped(e.eni) {
			e.att["status"] = "DELETED"
		}
		if detail(e.att, "privateIPv4Address") != "" {
			shown, ok, err := l.presentedAddr(ctx, c, e.subnet, e.eni)
			if err != nil {
				return err
			}
			if ok {
				setDetail(e.att, "privateIPv4Address", shown.String())
				if dns := detail(e.att, "privateDnsName"); dns != "" {
					setDetail(e.att, "privateDnsName", dnsName(dns, shown))
				}
				ifaces = append(ifaces, map[string]any{"attachmentId": str(e.att, "id"), "privateIpv4Address": shown.String()})
			}
		}
		if !stopped {
			pub, ok, err := l.publicIPOf(ctx, c, e.eni, l.tasks.task(e.eni))
			if err != nil {
				return err
			}
			if ok {
				setDetail(e.att, "publicIPv4Address", pub.String())
			}
		}
	}
	if len(ifaces) > 0 {
		for _, ct := range objs(t, "containers") {
			ct["networkInterfaces"] = ifaces
		}
	}
	return nil
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
