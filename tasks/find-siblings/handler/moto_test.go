package handler_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/find-siblings/handler"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// blastWorld is the seeded world plus a compromised image: moto 5.2.5
// reports no containers[].imageDigest (its tasks carry only the image
// reference of their definition's first container), so the image is
// pinned by digest, the one form in which moto can carry a digest. The
// digest is unique to the world, so other worlds on the server never match.
type blastWorld struct {
	*mototest.World
	ecs                      *ecs.Client
	digest, clean            string
	cluster2, cluster2Arn    string
	badDef, cleanDef, ec2Def string
	target                   string   // a Fargate task of badDef in the world's cluster
	fargateBad               []string // the other tasks of badDef, two per cluster
	cleanTask, ec2Bad        string
}

func uniqueDigest(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

const repo = "111122223333.dkr.ecr.us-east-1.amazonaws.com/payments-api"

func seedBlast(t *testing.T) *blastWorld {
	t.Helper()
	ctx := context.Background()
	b := &blastWorld{World: mototest.Seed(t)}
	b.ecs = ecs.NewFromConfig(b.Cfg)
	b.digest, b.clean = uniqueDigest(mototest.Unique("bad")), uniqueDigest(mototest.Unique("clean"))
	b.cluster2 = mototest.Unique("cluster")
	cl, err := b.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(b.cluster2)})
	if err != nil {
		t.Fatal(err)
	}
	b.cluster2Arn = aws.ToString(cl.Cluster.ClusterArn)
	b.badDef = b.register(t, "payments-api", ecstypes.NetworkModeAwsvpc, repo+"@"+b.digest, b.TaskRoleArn)
	b.cleanDef = b.register(t, "ledger", ecstypes.NetworkModeAwsvpc, repo+"@"+b.clean, b.TaskRoleArn)
	b.ec2Def = b.register(t, "payments-batch", ecstypes.NetworkModeBridge, repo+"@"+b.digest, "")
	b.target = b.run(t, b.ClusterName, b.badDef, 1)[0]
	b.fargateBad = append(b.run(t, b.ClusterName, b.badDef, 2), b.run(t, b.cluster2, b.badDef, 2)...)
	b.cleanTask = b.run(t, b.cluster2, b.cleanDef, 1)[0]
	b.ec2Bad = b.run(t, b.ClusterName, b.ec2Def, 1)[0]
	return b
}

func (b *blastWorld) register(t *testing.T, family string, mode ecstypes.NetworkMode, image, role string) string {
	t.Helper()
	in := &ecs.RegisterTaskDefinitionInput{Family: aws.String(mototest.Unique(family)), NetworkMode: mode,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true),
			Memory: aws.Int32(32), Cpu: 16}}}
	if mode == ecstypes.NetworkModeAwsvpc {
		in.RequiresCompatibilities, in.Cpu, in.Memory = []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, aws.String("256"), aws.String("512")
	}
	if role != "" {
		in.TaskRoleArn = aws.String(role)
	}
	out, err := b.ecs.RegisterTaskDefinition(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// run starts count tasks of def: Fargate (awsvpc) or EC2 (bridge, on the
// world's container instance).
func (b *blastWorld) run(t *testing.T, cluster, def string, count int) []string {
	t.Helper()
	in := &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(def), Count: aws.Int32(int32(count)), LaunchType: ecstypes.LaunchTypeEc2}
	if def != b.ec2Def && !strings.Contains(def, "tiny") {
		in.LaunchType = ecstypes.LaunchTypeFargate
		in.NetworkConfiguration = &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{b.SubnetID}, SecurityGroups: []string{b.AppSG}}}
	}
	out, err := b.ecs.RunTask(context.Background(), in)
	if err != nil || len(out.Tasks) != count {
		t.Fatalf("run %d of %s: %v %+v", count, def, err, out)
	}
	var arns []string
	for _, task := range out.Tasks {
		arns = append(arns, aws.ToString(task.TaskArn))
	}
	return arns
}

// targetOf is what resolve-target reports for a task moto runs.
func (b *blastWorld) targetOf(t *testing.T, cluster, arn string) *incident.Target {
	t.Helper()
	out, err := b.ecs.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("describe %s: %v", arn, err)
	}
	task := out.Tasks[0]
	def, err := b.ecs.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: task.TaskDefinitionArn})
	if err != nil {
		t.Fatal(err)
	}
	tg := &incident.Target{LaunchType: string(task.LaunchType), TaskArn: arn, ClusterArn: aws.ToString(task.ClusterArn),
		TaskDefinitionArn: aws.ToString(task.TaskDefinitionArn), Group: aws.ToString(task.Group), LastStatus: "RUNNING",
		ContainerInstanceArn: aws.ToString(task.ContainerInstanceArn), TaskRoleArn: aws.ToString(def.TaskDefinition.TaskRoleArn),
		ENIs: []incident.ENI{}, SubnetIDs: []string{}, SecurityGroups: []string{}, VolumeIDs: []string{}}
	for _, c := range task.Containers {
		if c.ImageDigest != nil {
			t.Errorf("moto now reports imageDigest %s: the strict-layer note in README.md is out of date", aws.ToString(c.ImageDigest))
		}
		tg.Containers = append(tg.Containers, incident.Container{Name: aws.ToString(c.Name), Image: aws.ToString(c.Image)})
	}
	return tg
}

// payload is a find-siblings payload on target.
func (b *blastWorld) payload(caseID string, dry bool, with map[string]any, target *incident.Target) []byte {
	var p map[string]any
	json.Unmarshal(b.Payload("find-siblings", "siblings", target.LaunchType, caseID, dry, with, nil), &p)
	inc := b.Incident(target.LaunchType, caseID, dry)
	inc.TaskArn, inc.ClusterArn = target.TaskArn, target.ClusterArn
	p["incident"], p["target"] = inc, target
	out, _ := json.Marshal(p)
	return out
}

func runFind(t *testing.T, b *blastWorld, h taskrt.HandlerFunc, payload []byte) *contract.Result {
	t.Helper()
	res, err := mototest.Run(t, b.World, "find-siblings", h, payload)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func lists(t *testing.T, res *contract.Result) map[string][]string {
	t.Helper()
	raw, _ := json.Marshal(res.Outputs["siblings"])
	var m map[string][]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func counts(t *testing.T, res *contract.Result) map[string]int {
	t.Helper()
	raw, _ := json.Marshal(res.Outputs["counts"])
	var n map[string]int
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func sorted(arns ...string) string {
	s := append([]string{}, arns...)
	sort.Strings(s)
	return strings.Join(s, " ")
}

func contains(list []string, arns ...string) bool {
	have := map[string]bool{}
	for _, a := range list {
		have[a] = true
	}
	for _, a := range arns {
		if !have[a] {
			return false
		}
	}
	return true
}

// statuses reads the last and desired status of every task of the given
// clusters, to show a run changed nothing.
func (b *blastWorld) statuses(t *testing.T, clusters ...string) string {
	t.Helper()
	var lines []string
	for _, c := range clusters {
		arns, err := b.ecs.ListTasks(context.Background(), &ecs.ListTasksInput{Cluster: aws.String(c)})
		if err != nil {
			t.Fatal(err)
		}
		out, err := b.ecs.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(c), Tasks: arns.TaskArns})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range out.Tasks {
			lines = append(lines, fmt.Sprintf("%s %s %s", aws.ToString(task.TaskArn), aws.ToString(task.LastStatus), aws.ToString(task.DesiredStatus)))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestMotoSiblingsTwiceBothLaunchTypes(t *testing.T) {
	b := seedBlast(t)
	h := handler.New(b.Cfg, b.Env)
	all := append([]string{b.target}, b.fargateBad...)
	tests := []struct {
		lt, cluster, task               string
		sameImage, sameFamily, sameRole []string
		sameInstance                    []string
		unknownAtLeast                  []string
	}{
		// The Fargate target: its image in both clusters (the EC2 task of
		// another family included), its family, its task role (the seeded
		// tasks and the clean task share it), no container instance.
		{"FARGATE", b.ClusterName, b.target,
			append(append([]string{}, b.fargateBad...), b.ec2Bad), b.fargateBad,
			append(append([]string{}, b.fargateBad...), b.cleanTask, b.FargateTaskArn, b.EC2TaskArn), nil,
			[]string{b.FargateTaskArn, b.EC2TaskArn}},
		// The EC2 task of the image: no family sibling, no task role, and
		// the seeded EC2 task (image by tag: unknown digest) on its instance.
		{"EC2", b.ClusterName, b.ec2Bad, all, nil, nil, []string{b.EC2TaskArn}, []string{b.FargateTaskArn, b.EC2TaskArn}},
	}
	for _, tt := range tests {
		t.Run(tt.lt, func(t *testing.T) {
			target := b.targetOf(t, tt.cluster, tt.task)
			before := b.statuses(t, b.ClusterName, b.cluster2)
			dry := mototest.Unique("case-dry")
			if res := runFind(t, b, h, b.payload(dry, true, nil, target)); res.Status != contract.StatusOK || len(res.Evidence) != 1 {
				t.Errorf("dry run (read-only, runs as usual): %s %q", res.Status, res.Summary)
			}
			mototest.VerifyAudit(t, b.World, dry, 2)

			caseID := mototest.Unique("case-siblings")
			first := runFind(t, b, h, b.payload(caseID, false, nil, target))
			second := runFind(t, b, h, b.payload(caseID, false, nil, target))
			if b.statuses(t, b.ClusterName, b.cluster2) != before {
				t.Error("finding siblings changed the world")
			}
			got := lists(t, first)
			if sorted(got["sameImage"]...) != sorted(tt.sameImage...) || sorted(got["sameFamily"]...) != sorted(tt.sameFamily...) ||
				sorted(got["sameRole"]...) != sorted(tt.sameRole...) || sorted(got["sameInstance"]...) != sorted(tt.sameInstance...) ||
				!contains(got["unknownDigest"], tt.unknownAtLeast...) || contains(got["unknownDigest"], b.cleanTask) {
				t.Errorf("lists %v", got)
			}
			if d, _ := first.Outputs["imageDigests"].([]any); len(d) != 1 || d[0] != b.digest || first.Outputs["complete"] != true {
				t.Errorf("outputs %v", first.Outputs)
			}
			// Alike but for the audit chain's head: each run appends its
			// own records.
			if first.Chain == nil || second.Chain == nil || second.Chain.Seq <= first.Chain.Seq {
				t.Errorf("chain heads %+v then %+v; want the second after the first", first.Chain, second.Chain)
			}
			first.Chain, second.Chain = nil, nil
			a, _ := json.Marshal(first)
			c, _ := json.Marshal(second)
			if string(a) != string(c) {
				t.Errorf("second run differs:\n%s\n%s", a, c)
			}
			objs := mototest.StoredEvidence(t, b.World, caseID, first.Evidence)
			if _, ok := objs["cases/"+caseID+"/siblings/siblings.json"]; len(objs) != 1 || len(first.Evidence) != 1 || !ok {
				t.Errorf("evidence %v for %v", first.Evidence, len(objs))
			}
			mototest.VerifyAudit(t, b.World, caseID, 4)
		})
	}
}

// TestMotoNarrowedToClusters: with.clusters scans those only. moto matches
// ListTasks' cluster as a substring of a task's cluster ARN, so a cluster
// whose name prefixes another's gets that one's tasks too; the handler
// keeps only the cluster's.
func TestMotoNarrowedToClusters(t *testing.T) {
	b := seedBlast(t)
	target := b.targetOf(t, b.ClusterName, b.target)
	res := runFind(t, b, handler.New(b.Cfg, b.Env), b.payload(mototest.Unique("case"), false, map[string]any{"clusters": []string{b.cluster2Arn}}, target))
	got := lists(t, res)
	if sorted(got["sameImage"]...) != sorted(b.fargateBad[2:]...) || sorted(got["sameRole"]...) != sorted(append([]string{b.cleanTask}, b.fargateBad[2:]...)...) ||
		len(got["unknownDigest"]) != 0 {
		t.Errorf("lists %v", got)
	}
	if n := counts(t, res); n["described"] != 3 || n["clusters"] != 1 {
		t.Errorf("counts %v", n)
	}
	// A cluster name given as a name, and the world's cluster: the seeded
	// tasks' tags leave them unknown.
	res = runFind(t, b, handler.New(b.Cfg, b.Env), b.payload(mototest.Unique("case"), false, map[string]any{"clusters": []string{b.ClusterName}}, target))
	if got := lists(t, res); sorted(got["unknownDigest"]...) != sorted(b.FargateTaskArn, b.EC2TaskArn) || sorted(got["sameImage"]...) != sorted(b.fargateBad[0], b.fargateBad[1], b.ec2Bad) {
		t.Errorf("lists %v", got)
	}
}

// counting passes calls to moto and keeps DescribeTasks' batch sizes and
// the task definitions described (concurrently: under mu).
type counting struct {
	*ecs.Client
	batches []int
	mu      sync.Mutex
	defs    map[string]int
}

func (c *counting) DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	c.mu.Lock()
	if c.defs == nil {
		c.defs = map[string]int{}
	}
	c.defs[aws.ToString(in.TaskDefinition)]++
	c.mu.Unlock()
	return c.Client.DescribeTaskDefinition(ctx, in, opts...)
}

// TestMotoRolesOncePerDefinition: the Fargate target has a task role, so
// the task definitions of the running tasks are described for theirs, each
// once however many tasks run it, and sameRole is whole.
func TestMotoRolesOncePerDefinition(t *testing.T) {
	b := seedBlast(t)
	target := b.targetOf(t, b.ClusterName, b.target)
	c := &counting{Client: b.ecs}
	h := (&handler.Handler{ECS: c, Evidence: taskrt.NewEvidenceWriter(b.Cfg, b.Env)}).Handle
	res := runFind(t, b, h, b.payload(mototest.Unique("case"), false, nil, target))
	if len(c.defs) < 3 {
		t.Errorf("%d task definitions described; want every one of the running tasks (at least 3)", len(c.defs))
	}
	for d, n := range c.defs {
		if n != 1 {
			t.Errorf("%s described %d times; want once", d, n)
		}
	}
	want := append(append([]string{}, b.fargateBad...), b.cleanTask, b.FargateTaskArn, b.EC2TaskArn)
	if got := lists(t, res); sorted(got["sameRole"]...) != sorted(want...) || res.Outputs["rolesComplete"] != true || counts(t, res)["roleUnknown"] != 0 {
		t.Errorf("sameRole %v, outputs %v", got["sameRole"], res.Outputs)
	}
}

func (c *counting) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	c.batches = append(c.batches, len(in.Tasks))
	return c.Client.DescribeTasks(ctx, in, opts...)
}

// TestMotoManyTasks: 120 tasks of the image on the container instance are
// described in batches of 100, listed capped, whole in the evidence; a
// maxTasks below them leaves the scan incomplete. moto answers ListTasks
// and ListClusters in one page whatever maxResults says, so pagination is
// shown with fakes (TestPagination), not here.
func TestMotoManyTasks(t *testing.T) {
	b := seedBlast(t)
	tiny := b.register(t, "tiny", ecstypes.NetworkModeBridge, repo+"@"+b.digest, "")
	var many []string
	for range 12 {
		many = append(many, b.run(t, b.ClusterName, tiny, 10)...)
	}
	target := b.targetOf(t, b.ClusterName, many[0])
	c := &counting{Client: b.ecs}
	h := (&handler.Handler{ECS: c, Evidence: taskrt.NewEvidenceWriter(b.Cfg, b.Env)}).Handle
	caseID := mototest.Unique("case")
	res := runFind(t, b, h, b.payload(caseID, false, map[string]any{"clusters": []string{b.ClusterName}}, target))
	n := counts(t, res)
	// Described: the 120, the three Fargate tasks of the image in this
	// cluster, its EC2 task and the 2 seeded ones. The target's digest is in
	// its reference, so it is not described again.
	if fmt.Sprint(c.batches) != "[100 26]" || res.Outputs["truncated"] != true || n["sameImage"] != 123 || n["sameInstance"] != 121 || n["described"] != 126 {
		t.Errorf("batches %v, truncated %v, counts %v", c.batches, res.Outputs["truncated"], n)
	}
	if got := lists(t, res); len(got["sameImage"]) != 50 {
		t.Errorf("%d ARNs listed; want the default maxListed 50", len(got["sameImage"]))
	}
	var doc struct {
		Siblings map[string][]string `json:"siblings"`
	}
	body := mototest.EvidenceObjects(t, b.World, caseID)["cases/"+caseID+"/siblings/siblings.json"]
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Siblings["sameImage"]) != 123 || !contains(doc.Siblings["sameImage"], many[1:]...) {
		t.Errorf("evidence lists %d of the image", len(doc.Siblings["sameImage"]))
	}

	res = runFind(t, b, h, b.payload(mototest.Unique("case"), false, map[string]any{"clusters": []string{b.ClusterName}, "maxTasks": 60}, target))
	if res.Outputs["complete"] != false || res.Outputs["stoppedBy"] != "maxTasks" || !strings.Contains(res.Summary, "incomplete: stopped at maxTasks (60)") {
		t.Errorf("maxTasks 60: %v %q", res.Outputs, res.Summary)
	}
}

// TestMotoExcludedTaskTags: tasks of the compromised image that carry a
// tag of the playbook's exclude: (one tagged after it started, by
// TagResource; one started with the tag, by RunTask) are in no list but
// excluded, against the strict moto world: DescribeTasks returns tags only
// with include TAGS, so without it both would be stopped by a forEach.
func TestMotoExcludedTaskTags(t *testing.T) {
	b := seedBlast(t)
	ctx := context.Background()
	ignored := b.fargateBad[0]
	if _, err := b.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(ignored),
		Tags: []ecstypes.Tag{{Key: aws.String("irflow"), Value: aws.String("ignore")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := b.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(b.cluster2), TaskDefinition: aws.String(b.badDef), Count: aws.Int32(1),
		LaunchType: ecstypes.LaunchTypeFargate, Tags: []ecstypes.Tag{{Key: aws.String("canary"), Value: aws.String("blue")}},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{b.SubnetID}, SecurityGroups: []string{b.AppSG}}}})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("run the canary: %v", err)
	}
	canary := aws.ToString(out.Tasks[0].TaskArn)
	// Another value of the key: not excluded.
	if _, err := b.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(b.fargateBad[1]),
		Tags: []ecstypes.Tag{{Key: aws.String("irflow"), Value: aws.String("respond")}}}); err != nil {
		t.Fatal(err)
	}
	target := b.targetOf(t, b.ClusterName, b.target)
	with := map[string]any{"clusters": []string{b.ClusterName, b.cluster2Arn}, "excludeTaskTags": map[string]string{"irflow": "ignore", "canary": "*"}}
	caseID := mototest.Unique("case-excluded")
	res := runFind(t, b, handler.New(b.Cfg, b.Env), b.payload(caseID, false, with, target))
	got := lists(t, res)
	kept := append(append([]string{}, b.fargateBad[1:]...), b.ec2Bad)
	if sorted(got["sameImage"]...) != sorted(kept...) || sorted(got["excluded"]...) != sorted(ignored, canary) || counts(t, res)["excluded"] != 2 {
		t.Errorf("sameImage %v, excluded %v; want %v and %v", got["sameImage"], got["excluded"], kept, []string{ignored, canary})
	}
	for k, l := range got {
		if k != "excluded" && (contains(l, ignored) || contains(l, canary)) {
			t.Errorf("%s holds an excluded task: %v", k, l)
		}
	}
	if !strings.Contains(res.Summary, "2 task(s) left alone: tag canary=* (1), tag irflow=ignore (1) (exclude:)") {
		t.Errorf("summary %q", res.Summary)
	}
	var doc struct {
		Siblings map[string][]string `json:"siblings"`
	}
	body := mototest.EvidenceObjects(t, b.World, caseID)["cases/"+caseID+"/siblings/siblings.json"]
	if err := json.Unmarshal(body, &doc); err != nil || sorted(doc.Siblings["excluded"]...) != sorted(ignored, canary) || contains(doc.Siblings["sameFamily"], ignored) {
		t.Errorf("evidence lists %v (%v)", doc.Siblings, err)
	}
}
