package worlds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// InputKind is what an execution input is.
type InputKind string

// Kinds of input the bench takes.
const (
	InputFinding InputKind = "finding" // an EventBridge GuardDuty event
	InputConsole InputKind = "console" // a console or CLI input ({"taskArn", ...})
)

// InputError says an input is neither a GuardDuty event nor a console input.
type InputError struct{ Reason string }

func (e *InputError) Error() string { return "input: " + e.Reason }

// Retarget aims an execution input at the world's target: a GuardDuty
// event's account, region, cluster, task, task definition, launch type,
// container and (EC2) instance become the world's; a console input's
// taskArn does. Everything else, the finding id, type, times and process
// included, stays as given. It returns the input, its kind and, for a
// finding, the finding (the event's detail) as GuardDuty's API returns it.
func (w *World) Retarget(input []byte) (out []byte, kind InputKind, finding []byte, err error) {
	return w.RetargetTo(input, w.Target)
}

// RetargetTo is Retarget aimed at task t of the world instead of its
// target (the storm's findings on every compromised task).
func (w *World) RetargetTo(input []byte, t Task) (out []byte, kind InputKind, finding []byte, err error) {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil {
		return nil, "", nil, &InputError{Reason: "not a JSON object: " + err.Error()}
	}
	switch {
	case ev["detail-type"] == "GuardDuty Finding" || ev["source"] == "aws.guardduty":
		d, ok := ev["detail"].(map[string]any)
		if !ok {
			return nil, "", nil, &InputError{Reason: "a GuardDuty event without a detail object"}
		}
		if err := w.retargetFinding(ev, d, t); err != nil {
			return nil, "", nil, err
		}
		out, _ = json.MarshalIndent(ev, "", "  ")
		finding, _ = json.Marshal(d)
		return out, InputFinding, finding, nil
	case ev["taskArn"] != nil:
		ev["taskArn"] = t.Arn
		out, _ = json.MarshalIndent(ev, "", "  ")
		return out, InputConsole, nil, nil
	}
	return nil, "", nil, &InputError{Reason: `neither a GuardDuty event ("detail-type": "GuardDuty Finding") nor a console input ("taskArn")`}
}

func (w *World) retargetFinding(ev, d map[string]any, t Task) error {
	obj := func(m map[string]any, key string) map[string]any {
		if v, ok := m[key].(map[string]any); ok {
			return v
		}
		v := map[string]any{}
		m[key] = v
		return v
	}
	oldAccount, _ := d["accountId"].(string)
	if oldAccount == "" {
		oldAccount, _ = ev["account"].(string)
	}
	ev["account"], ev["region"] = w.Account, w.Region
	d["accountId"], d["region"] = w.Account, w.Region
	if arn, ok := d["arn"].(string); ok {
		parts := strings.SplitN(arn, ":", 6)
		if len(parts) == 6 {
			parts[3], parts[4] = w.Region, w.Account
			d["arn"] = strings.Join(parts, ":")
		}
	}
	res := obj(d, "resource")
	if rt, _ := res["resourceType"].(string); rt == "Instance" {
		// A finding about the container instance itself (Runtime
		// Monitoring on the EC2 host): the target task's instance, in the
		// world's cluster, no task.
		if t.InstanceID == "" {
			return &InputError{Reason: "a finding about a container instance (resourceType Instance), but the world's target runs on no EC2 instance"}
		}
		obj(res, "instanceDetails")["instanceId"] = t.InstanceID
		cl := obj(res, "ecsClusterDetails")
		cl["name"], cl["arn"] = w.ClusterName, w.ClusterArn
		delete(cl, "taskDetails")
		if _, ok := d["id"].(string); !ok {
			return errors.New("input: the finding has no detail.id")
		}
		return nil
	}
	if rt, _ := res["resourceType"].(string); rt != "" && rt != "ECSCluster" {
		return &InputError{Reason: fmt.Sprintf("the finding's resource is a %s, not an ECS task (resourceType ECSCluster)", rt)}
	}
	res["resourceType"] = "ECSCluster"
	cl := obj(res, "ecsClusterDetails")
	cl["name"], cl["arn"] = w.ClusterName, w.ClusterArn
	td := obj(cl, "taskDetails")
	td["arn"], td["definitionArn"], td["launchType"] = t.Arn, t.TaskDefinitionArn, t.LaunchType
	if t.ServiceName != "" {
		td["group"], td["startedBy"] = "service:"+t.ServiceName, "ecs-svc/1234567890"
	} else {
		delete(td, "group")
		delete(td, "startedBy")
	}
	prefix := t.Image[:strings.LastIndexByte(t.Image, ':')]
	if at := strings.IndexByte(t.Image, '@'); at >= 0 {
		prefix = t.Image[:at] // repo@sha256:…
	}
	c := map[string]any{"name": t.Container, "image": t.Image, "imagePrefix": prefix}
	if cs, ok := td["containers"].([]any); ok && len(cs) > 0 {
		if old, ok := cs[0].(map[string]any); ok {
			for k, v := range c {
				old[k] = v
			}
			c = old
		}
	}
	td["containers"] = []any{c}
	if t.InstanceID != "" {
		obj(res, "instanceDetails")["instanceId"] = t.InstanceID
	} else {
		delete(res, "instanceDetails")
	}
	if desc, ok := d["description"].(string); ok && oldAccount != "" {
		d["description"] = strings.ReplaceAll(desc, oldAccount, w.Account)
	}
	if _, ok := d["id"].(string); !ok {
		return errors.New("input: the finding has no detail.id")
	}
	return nil
}
