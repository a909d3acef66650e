package simulate

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/irflow/irflow/tasks/incident"
)

// inputWorld is what an execution input says about the task beyond the
// incident, so the simulated resolve-target describes that task and not a
// generic one: a GuardDuty finding names the task's group (service:NAME
// for a service's task, family:NAME for a standalone one), its tags, its
// task definition and its containers. A console input names only the task.
type inputWorld struct {
	group         string
	definitionArn string
	tags          map[string]string
	containers    []incident.Container
}

// worldOf reads the task details of a GuardDuty finding; anything else
// (a console input, a malformed finding) gives the zero world.
func worldOf(input json.RawMessage) inputWorld {
	var ev struct {
		Detail struct {
			Resource struct {
				ECS struct {
					Task struct {
						Group         string `json:"group"`
						DefinitionArn string `json:"definitionArn"`
						Tags          []struct {
							Key   string `json:"key"`
							Value string `json:"value"`
						} `json:"tags"`
						Containers []struct {
							Name  string `json:"name"`
							Image string `json:"image"`
						} `json:"containers"`
					} `json:"taskDetails"`
				} `json:"ecsClusterDetails"`
			} `json:"resource"`
		} `json:"detail"`
	}
	var w inputWorld
	if json.Unmarshal(input, &ev) != nil {
		return w
	}
	td := ev.Detail.Resource.ECS.Task
	w.group, w.definitionArn = td.Group, td.DefinitionArn
	if len(td.Tags) > 0 {
		w.tags = map[string]string{}
		for _, t := range td.Tags {
			w.tags[t.Key] = t.Value
		}
	}
	for _, c := range td.Containers {
		if c.Name != "" {
			w.containers = append(w.containers, incident.Container{Name: c.Name, Image: c.Image})
		}
	}
	return w
}

// service is the task's service name, "" for a standalone task, and
// whether the input said either.
func (w inputWorld) service() (string, bool) {
	if name, ok := strings.CutPrefix(w.group, "service:"); ok {
		return name, true
	}
	return "", w.group != ""
}

// family is the task definition family a group or definition ARN names.
func (w inputWorld) family() string {
	if name, ok := strings.CutPrefix(w.group, "family:"); ok {
		return name
	}
	if i := strings.LastIndex(w.definitionArn, "/"); i >= 0 {
		name, _, _ := strings.Cut(w.definitionArn[i+1:], ":")
		return name
	}
	return ""
}

// nowKey carries the virtual time of a simulated call to the mocks: a
// capture of N seconds ends N seconds of virtual time after it started.
type nowKey struct{}

func withNow(ctx context.Context, now time.Time) context.Context {
	return context.WithValue(ctx, nowKey{}, now)
}

func nowFrom(ctx context.Context) time.Time {
	t, _ := ctx.Value(nowKey{}).(time.Time)
	return t
}
