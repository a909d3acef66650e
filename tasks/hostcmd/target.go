package hostcmd

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Instance returns the target's container instance, which only the EC2
// launch type has; without one the action cannot run (what says what would
// be missing, for the error).
func Instance(p *contract.Payload, what string) (string, error) {
	if p.Target == nil || p.Target.InstanceID == "" {
		return "", &contract.PreconditionFailedError{Reason: "the target has no EC2 container instance (Fargate?): " + what}
	}
	if err := Check("instance id", InstanceID, p.Target.InstanceID); err != nil {
		return "", &contract.InvalidInputError{Field: "target.instanceId", Reason: err.Error()}
	}
	return p.Target.InstanceID, nil
}

// Task is the script's variable naming the target task and the task's
// containers (TaskVar, Containers).
func Task(t *incident.Target) (Var, []Container, error) {
	task, err := TaskVar(t)
	if err != nil {
		return Var{}, nil, err
	}
	containers, err := Containers(t)
	if err != nil {
		return Var{}, nil, err
	}
	return task, containers, nil
}

// Keys returns the evidence keys of the step's files, in order.
func Keys(p *contract.Payload, names []string) ([]string, error) {
	keys := make([]string, len(names))
	for i, n := range names {
		k, err := taskrt.Key(p.CaseID(), p.Folder(), n)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	return keys, nil
}

// Presign returns an upload (name and presigned PUT URL) for each key.
func Presign(ctx context.Context, ps taskrt.S3PresignAPI, bucket string, names, keys []string, expiry time.Duration) ([]Upload, error) {
	if bucket == "" {
		return nil, &contract.PreconditionFailedError{Reason: "no evidence bucket configured (IRFLOW_EVIDENCE_BUCKET)"}
	}
	out := make([]Upload, len(names))
	for i, n := range names {
		u, err := taskrt.PresignPut(ctx, ps, bucket, keys[i], expiry)
		if err != nil {
			return nil, err
		}
		out[i] = Upload{Name: n, URL: u}
	}
	return out, nil
}

// Container is one container of the task as a host script addresses it:
// its ECS name (to find it by label), the name its files carry, and its
// runtime id when resolve-target learned it.
type Container struct {
	Name      string
	Key       string
	RuntimeID string
}

var (
	keyName       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	runtimeOrNone = regexp.MustCompile(`^([a-f0-9]{12,64})?$`)
)

// Containers returns the target's containers, checked against the patterns
// the scripts rely on. A name that cannot be part of a file name is
// addressed as c<index> in file names.
func Containers(t *incident.Target) ([]Container, error) {
	if t == nil || len(t.Containers) == 0 {
		return nil, &contract.PreconditionFailedError{Reason: "the target lists no containers (resolve-target found none)"}
	}
	out := make([]Container, 0, len(t.Containers))
	seen := map[string]bool{}
	for i, c := range t.Containers {
		if err := Check("container name", ContainerName, c.Name); err != nil {
			return nil, &contract.InvalidInputError{Field: fmt.Sprintf("target.containers.%d.name", i), Reason: err.Error()}
		}
		if err := Check("runtime id", runtimeOrNone, c.RuntimeID); err != nil {
			return nil, &contract.InvalidInputError{Field: fmt.Sprintf("target.containers.%d.runtimeId", i), Reason: err.Error()}
		}
		key := c.Name
		if !keyName.MatchString(key) || seen[key] {
			key = fmt.Sprintf("c%d", i)
		}
		seen[key] = true
		out = append(out, Container{Name: c.Name, Key: key, RuntimeID: c.RuntimeID})
	}
	return out, nil
}

// Call is the irflow_targets line that hands the container to the script's
// irflow_container function: NAME KEY RUNTIME_ID.
func (c Container) Call() Call {
	return Call{Func: "irflow_container", Args: []Arg{
		{Value: c.Name, Pattern: ContainerName}, {Value: c.Key, Pattern: keyName}, {Value: c.RuntimeID, Pattern: runtimeOrNone}}}
}

// TaskVar is IRFLOW_TASK_ARN, which irflow_find_container matches against
// the container's com.amazonaws.ecs.task-arn label.
func TaskVar(t *incident.Target) (Var, error) {
	if t == nil {
		return Var{}, &contract.InvalidInputError{Field: "target", Reason: "missing"}
	}
	if err := Check("task ARN", TaskArn, t.TaskArn); err != nil {
		return Var{}, &contract.InvalidInputError{Field: "target.taskArn", Reason: err.Error()}
	}
	return Var{Name: "TASK_ARN", Value: t.TaskArn, Pattern: TaskArn}, nil
}
