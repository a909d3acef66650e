package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// manyDefinitions adds n tasks of n distinct task definitions to prod.
func manyDefinitions(f *fakeECS, n int) {
	for i := range n {
		def := defArn(fmt.Sprintf("svc%02d", i), 1)
		f.roles[def] = roleOther
		f.tasks["prod"] = append(f.tasks["prod"], task("prod", fmt.Sprintf("svc%02d", i), def, ci2, container{"app", "svc@" + dOther, ""}))
	}
}

func TestRoleLookupsBoundedOncePerDefinition(t *testing.T) {
	f, target := world()
	manyDefinitions(f, 20)
	f.delay = 20 * time.Millisecond
	h, _ := newHandler(f)
	res, err := h.Handle(context.Background(), payload(target, `{"containers":["app"]}`))
	if err != nil {
		t.Fatal(err)
	}
	// 4 definitions of the world and 20 more, each described once, a few at once.
	if n := f.count("DescribeTaskDefinition"); n != 24 {
		t.Errorf("%d DescribeTaskDefinition calls; want 24 (one per definition)", n)
	}
	if f.maxAtOnce > roleWorkers || f.maxAtOnce < 2 {
		t.Errorf("%d DescribeTaskDefinition calls at once; want 2 to %d", f.maxAtOnce, roleWorkers)
	}
	if ids(listsOf(res)["sameRole"]) != "borrowed,newer,twin" || res.Outputs["rolesComplete"] != true || res.Outputs["complete"] != true {
		t.Errorf("sameRole %s, outputs %v", ids(listsOf(res)["sameRole"]), res.Outputs)
	}
}

func TestRoleLookupsWithoutATargetRole(t *testing.T) {
	f, target := world()
	target.TaskRoleArn = ""
	h, _ := newHandler(f)
	res, err := h.Handle(context.Background(), payload(target, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("DescribeTaskDefinition"); n != 0 || res.Outputs["rolesComplete"] != true || countsOf(res).RoleUnknown != 0 {
		t.Errorf("%d DescribeTaskDefinition calls, outputs %v; want none, roles complete", n, res.Outputs)
	}
}

// A definition not described before the deadline margin leaves its tasks'
// role unknown: sameRole keeps what is known (the override), the scan says
// it is incomplete, and the evidence is still stored in time.
func TestRoleLookupsStopAtTheMargin(t *testing.T) {
	f, target := world()
	manyDefinitions(f, 6)
	f.delay = time.Hour
	h, s3 := newHandler(f)
	ctx, cancel := context.WithTimeout(context.Background(), deadlineMargin+300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := h.Handle(ctx, payload(target, `{"containers":["app"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil || time.Since(start) > time.Second {
		t.Errorf("returned after %v; want before the margin", time.Since(start))
	}
	c := countsOf(res)
	// Every described task but the target and borrowed (overridden): 7.
	if ids(listsOf(res)["sameRole"]) != "borrowed" || c.RoleUnknown != 12 || res.Outputs["rolesComplete"] != false ||
		res.Outputs["complete"] != false || res.Outputs["stoppedBy"] != stopDeadline || !strings.Contains(res.Summary, "task role of 12 task(s) is unknown") {
		t.Errorf("sameRole %s, counts %+v, outputs %v, summary %q", ids(listsOf(res)["sameRole"]), c, res.Outputs, res.Summary)
	}
	if f.count("DescribeTaskDefinition") > roleWorkers {
		t.Errorf("%d DescribeTaskDefinition calls started; want at most %d", f.count("DescribeTaskDefinition"), roleWorkers)
	}
	var doc siblingsDoc
	if err := json.Unmarshal(s3.Objects["cases/case-1/siblings/siblings.json"], &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Scope.RolesComplete || doc.Scope.RoleUnknown != 12 || len(doc.Scope.RoleUnknownDefinitions) != 10 {
		t.Errorf("scope %+v", doc.Scope)
	}
}

// Throttling that outlasts the SDK's retries fails the call (Step
// Functions retries it), whichever definition it hit; the others stop.
func TestRoleLookupErrorStopsTheOthers(t *testing.T) {
	f, target := world()
	manyDefinitions(f, 10)
	f.fail = map[string]error{"DescribeTaskDefinition": apiErr("ThrottlingException")}
	h, _ := newHandler(f)
	_, err := h.Handle(context.Background(), payload(target, `{}`))
	if contract.ErrorName(err) != "RetryableError" || !strings.Contains(err.Error(), "ecs:DescribeTaskDefinition") {
		t.Errorf("error %v", err)
	}
}

// Clusters are scanned a few at once, and merged in cluster order: the
// target's cluster first, then the others, within maxTasks as one cluster
// at a time would be.
func TestClustersAtOnceMergedInOrder(t *testing.T) {
	f, target := world()
	f.tasks = map[string][]ecstypes.Task{"prod": f.tasks["prod"][:1]} // the target alone in prod
	for _, c := range []string{"c1", "c2", "c3", "c4", "c5"} {
		f.clusters = append(f.clusters, c)
		f.tasks[c] = []ecstypes.Task{task(c, c+"a", defArn("etl", 3), "", container{"app", "api@" + dBad, ""}),
			task(c, c+"b", defArn("etl", 3), "", container{"app", "api@" + dBad, ""})}
	}
	h, s3 := newHandler(f)
	// prod (1) + c1 (2) + c2 (2) + the first of c3: 6, then maxTasks.
	res, err := h.Handle(context.Background(), payload(target, `{"maxTasks":6}`))
	if err != nil {
		t.Fatal(err)
	}
	var doc siblingsDoc
	if err := json.Unmarshal(s3.Objects["cases/case-1/siblings/siblings.json"], &doc); err != nil {
		t.Fatal(err)
	}
	if got := ids(listsOf(res)["sameImage"]); got != "c1a,c1b,c2a,c2b,c3a" || res.Outputs["stoppedBy"] != stopMaxTasks ||
		strings.Join(doc.Scope.Clusters, ",") != strings.Join([]string{clusterArn("prod"), clusterArn("batch"), clusterArn("c1"), clusterArn("c2"), clusterArn("c3")}, ",") {
		t.Errorf("sameImage %s, stoppedBy %v, clusters %v", got, res.Outputs["stoppedBy"], doc.Scope.Clusters)
	}
}

// A host finding's target is the container instance: find-siblings lists
// the tasks on it (sameInstance, what a forEach over the host's tasks
// iterates), scans only its cluster, and compares no image, family or role.
func TestHostTarget(t *testing.T) {
	f, _ := world()
	host := &incident.Target{LaunchType: "EC2", ClusterArn: clusterArn("prod"), ContainerInstanceArn: ci1, InstanceID: "i-0b1c2d3e4f5a69788",
		HostTasks: []string{taskArn("prod", "target"), taskArn("prod", "twin"), taskArn("prod", "neighbour")}}
	h, s3 := newHandler(f)
	p := payload(host, `{}`)
	p.Incident.ResourceType, p.Incident.InstanceID = incident.ResourceInstance, host.InstanceID
	res, err := h.Handle(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	l := listsOf(res)
	if ids(l["sameInstance"]) != "neighbour,target,twin" || len(l["sameImage"])+len(l["unknownDigest"])+len(l["sameFamily"])+len(l["sameRole"]) != 0 {
		t.Errorf("lists %v", l)
	}
	if c := countsOf(res); c.Clusters != 1 || f.count("ListClusters") != 0 || f.count("DescribeTaskDefinition") != 0 || !strings.Contains(res.Summary, "container instance i-0b1c2d3e4f5a69788") {
		t.Errorf("counts %+v, calls %v, summary %q", c, f.calls, res.Summary)
	}
	if len(s3.Objects) != 1 || res.Outputs["complete"] != true {
		t.Errorf("evidence %d objects, outputs %v", len(s3.Objects), res.Outputs)
	}
	p = payload(host, `{"containers":["app"]}`)
	p.Incident.ResourceType = incident.ResourceInstance
	if _, err := h.Handle(context.Background(), p); contract.ErrorName(err) != "InvalidInputError" {
		t.Errorf("containers named for a host: %v", err)
	}
}
