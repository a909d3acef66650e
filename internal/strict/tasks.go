package strict

import (
	"context"
	"strings"
	"sync"
	"time"
)

// taskInfo is what the layer knows of an ECS task that owns an ENI.
type taskInfo struct {
	TaskArn, ClusterArn  string
	AttachmentID         string // the ECS attachment (attachments[].id)
	LaunchType           string
	ContainerInstanceArn string
	InstanceID           string // the container instance's EC2 instance, resolved on demand
	Group                string // "service:<name>" for a service's task
	Seen                 time.Time
}

// account is the task's account, from its ARN.
func (t *taskInfo) account() string {
	if p := strings.Split(t.TaskArn, ":"); len(p) > 4 {
		return p[4]
	}
	return ""
}

// onEC2 reports whether the task runs on a container instance (EC2 launch
// type, or a capacity provider backed by one) rather than on Fargate.
func (t *taskInfo) onEC2() bool { return t.ContainerInstanceArn != "" && t.LaunchType != "FARGATE" }

// taskIndex is what the layer learned from the ECS answers that passed
// through it, or from its own scans of moto: which task owns which ENI,
// which tasks were started with enableExecuteCommand, and the trunk and
// branch ENIs the world registered.
type taskIndex struct {
	mu          sync.Mutex
	byENI       map[string]*taskInfo
	execEnabled map[string]time.Time // task ARN → when the layer learned it
	trunks      map[string]string    // ENI ID → "trunk" or "branch"
	public      map[string]bool      // task ENI → assignPublicIp ENABLED (known either way)
	reaped      map[string]bool      // task ENIs the layer deleted in moto
}

// put sets (*m)[k] = v, making the map on first use (reset drops them
// all). Callers hold ix.mu.
func put[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[k] = v
}

func (ix *taskIndex) reset() {
	ix.mu.Lock()
	ix.byENI, ix.execEnabled, ix.trunks, ix.public, ix.reaped = nil, nil, nil, nil, nil
	ix.mu.Unlock()
}

// setPublic records whether a task ENI gets a public IPv4 address.
func (ix *taskIndex) setPublic(eni string, on bool) {
	ix.mu.Lock()
	put(&ix.public, eni, on)
	ix.mu.Unlock()
}

// publicKnown says whether the layer knows if eni gets a public address.
func (ix *taskIndex) publicKnown(eni string) (on, known bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	on, known = ix.public[eni]
	return on, known
}

func (ix *taskIndex) markReaped(eni string) {
	ix.mu.Lock()
	put(&ix.reaped, eni, true)
	ix.mu.Unlock()
}

func (ix *taskIndex) isReaped(eni string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.reaped[eni]
}

// learn records the ENIs of an ECS task document (a RunTask, StartTask or
// DescribeTasks element).
func (ix *taskIndex) learn(task map[string]any) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, a := range objs(task, "attachments") {
		if str(a, "type") != "ElasticNetworkInterface" {
			continue
		}
		for _, d := range objs(a, "details") {
			if str(d, "name") != "networkInterfaceId" || str(d, "value") == "" {
				continue
			}
			eni := str(d, "value")
			if old := ix.byENI[eni]; old != nil {
				old.ContainerInstanceArn = str(task, "containerInstanceArn")
				continue
			}
			put(&ix.byENI, eni, &taskInfo{TaskArn: str(task, "taskArn"), ClusterArn: str(task, "clusterArn"),
				AttachmentID: str(a, "id"), LaunchType: str(task, "launchType"),
				ContainerInstanceArn: str(task, "containerInstanceArn"), Group: str(task, "group"), Seen: time.Now().UTC()})
		}
	}
}

func (ix *taskIndex) task(eni string) *taskInfo {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if t := ix.byENI[eni]; t != nil {
		c := *t
		return &c
	}
	return nil
}

func (ix *taskIndex) setInstance(eni, instance string) {
	ix.mu.Lock()
	if t := ix.byENI[eni]; t != nil {
		t.InstanceID = instance
	}
	ix.mu.Unlock()
}

func (ix *taskIndex) enableExec(arns ...string) {
	ix.mu.Lock()
	for _, a := range arns {
		if _, ok := ix.execEnabled[a]; !ok {
			put(&ix.execEnabled, a, time.Now().UTC())
		}
	}
	ix.mu.Unlock()
}

// execSince reports whether the task was started with enableExecuteCommand
// and since when the layer knows it (the agent's lastStartedAt).
func (ix *taskIndex) execSince(arn string) (bool, time.Time) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	t, ok := ix.execEnabled[arn]
	return ok, t
}

func (ix *taskIndex) addTrunks(kind string, enis ...string) {
	ix.mu.Lock()
	for _, e := range enis {
		put(&ix.trunks, e, kind)
	}
	ix.mu.Unlock()
}

func (ix *taskIndex) trunkKind(eni string) string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.trunks[eni]
}

// taskOfENI returns the task that owns eni: learned, or found by a scan of
// every cluster's tasks in moto (a world seeded directly against moto never
// passed through the layer). nil when no task names it.
func (l *Layer) taskOfENI(ctx context.Context, c caller, eni string) (*taskInfo, error) {
	t := l.tasks.task(eni)
	if t == nil {
		if err := l.scanTasks(ctx, c); err != nil {
			return nil, err
		}
		if t = l.tasks.task(eni); t == nil {
			return nil, nil
		}
	}
	if t.onEC2() && t.InstanceID == "" {
		id, err := l.instanceOf(ctx, c, t.ClusterArn, t.ContainerInstanceArn)
		if err != nil {
			return nil, err
		}
		l.tasks.setInstance(eni, id)
		t.InstanceID = id
	}
	return t, nil
}

// scanTasks learns every task of every cluster c can see.
func (l *Layer) scanTasks(ctx context.Context, c caller) error {
	clusters, err := l.pages(ctx, c, "ListClusters", map[string]any{}, "clusterArns")
	if err != nil {
		return err
	}
	for _, cl := range clusters {
		arns, err := l.pages(ctx, c, "ListTasks", map[string]any{"cluster": cl}, "taskArns")
		if err != nil {
			return err
		}
		for i := 0; i < len(arns); i += 100 {
			out, err := l.look.ecs(ctx, c, "DescribeTasks", map[string]any{"cluster": cl, "tasks": arns[i:min(i+100, len(arns))]})
			if err != nil {
				return err
			}
			for _, t := range objs(out, "tasks") {
				l.tasks.learn(t)
			}
		}
	}
	return nil
}

// pages collects the string list key of a paginated ECS List operation.
func (l *Layer) pages(ctx context.Context, c caller, op string, in map[string]any, key string) ([]string, error) {
	var all []string
	for {
		out, err := l.look.ecs(ctx, c, op, in)
		if err != nil {
			return nil, err
		}
		raw, _ := out[key].([]any)
		for _, v := range raw {
			if s, ok := v.(string); ok {
				all = append(all, s)
			}
		}
		next := str(out, "nextToken")
		if next == "" {
			return all, nil
		}
		in["nextToken"] = next
	}
}

// instanceOf returns the EC2 instance of a container instance.
func (l *Layer) instanceOf(ctx context.Context, c caller, cluster, containerInstance string) (string, error) {
	out, err := l.look.ecs(ctx, c, "DescribeContainerInstances", map[string]any{"cluster": cluster, "containerInstances": []string{containerInstance}})
	if err != nil {
		return "", err
	}
	for _, ci := range objs(out, "containerInstances") {
		return str(ci, "ec2InstanceId"), nil
	}
	return "", nil
}

// enis lists the task ENIs the index knows.
func (ix *taskIndex) enis() []string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	out := make([]string, 0, len(ix.byENI))
	for e := range ix.byENI {
		out = append(out, e)
	}
	return out
}
