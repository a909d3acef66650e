package handler_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/pin-service/handler"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

const repo = "111122223333.dkr.ecr.us-east-1.amazonaws.com/payments-api"

func uniqueDigest(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// pinned is a service whose current revision runs a compromised image.
// moto 5.2.5 reports no containers[].imageDigest, so every image whose
// digest matters is pinned by digest (repo@sha256:…), the one form moto
// carries; revision images are the definition's, as in AWS.
type pinned struct {
	*mototest.World
	ecs               *ecs.Client
	lt                string
	service           string
	revs              []string // revision ARNs, oldest first
	target            string   // a task of the compromised revision
	replacement       string   // another task of the service, same revision
	tagged            string   // a task of the service on the tag revision
	otherGroup        string   // a task of the compromised image outside the service
	bad               string
	originalDesired   int32
	compromisedRevIdx int
}

// seedPinned registers a family with the given images, oldest first (the
// last is the compromised revision), and a service of lt on it.
func seedPinned(t *testing.T, w *mototest.World, lt string, images func(bad, clean string) []string) *pinned {
	t.Helper()
	ctx := context.Background()
	p := &pinned{World: w, ecs: ecs.NewFromConfig(w.Cfg), lt: lt, bad: uniqueDigest(mototest.Unique("bad")), originalDesired: 2}
	family := mototest.Unique("payments-api")
	for _, image := range images(p.bad, uniqueDigest(mototest.Unique("clean"))) {
		in := &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), TaskRoleArn: aws.String(w.TaskRoleArn),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true), Memory: aws.Int32(32), Cpu: 16}}}
		if lt == "FARGATE" {
			in.NetworkMode, in.RequiresCompatibilities, in.Cpu, in.Memory = ecstypes.NetworkModeAwsvpc, []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, aws.String("256"), aws.String("512")
		} else {
			in.NetworkMode, in.RequiresCompatibilities = ecstypes.NetworkModeBridge, []ecstypes.Compatibility{ecstypes.CompatibilityEc2}
		}
		out, err := p.ecs.RegisterTaskDefinition(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		p.revs = append(p.revs, aws.ToString(out.TaskDefinition.TaskDefinitionArn))
	}
	p.compromisedRevIdx = len(p.revs) - 1
	p.service = mototest.Unique("payments")
	in := &ecs.CreateServiceInput{Cluster: aws.String(w.ClusterName), ServiceName: aws.String(p.service), TaskDefinition: aws.String(p.revs[p.compromisedRevIdx]),
		DesiredCount: aws.Int32(p.originalDesired), LaunchType: ecstypes.LaunchType(lt)}
	if lt == "FARGATE" {
		in.NetworkConfiguration = p.netCfg()
	}
	if _, err := p.ecs.CreateService(ctx, in); err != nil {
		t.Fatal(err)
	}
	p.target = p.run(t, p.revs[p.compromisedRevIdx], "service:"+p.service)
	p.replacement = p.run(t, p.revs[p.compromisedRevIdx], "service:"+p.service)
	p.otherGroup = p.run(t, p.revs[p.compromisedRevIdx], "family:elsewhere")
	for i, image := range images("", "") {
		if !strings.Contains(image, "@") && i < p.compromisedRevIdx {
			p.tagged = p.run(t, p.revs[i], "service:"+p.service)
			break
		}
	}
	return p
}

func (p *pinned) netCfg() *ecstypes.NetworkConfiguration {
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{p.SubnetID}, SecurityGroups: []string{p.AppSG}}}
}

func (p *pinned) run(t *testing.T, def, group string) string {
	t.Helper()
	in := &ecs.RunTaskInput{Cluster: aws.String(p.ClusterName), TaskDefinition: aws.String(def), LaunchType: ecstypes.LaunchType(p.lt),
		Group: aws.String(group), StartedBy: aws.String("ecs-svc/1234567890")}
	if p.lt == "FARGATE" {
		in.NetworkConfiguration = p.netCfg()
	}
	out, err := p.ecs.RunTask(context.Background(), in)
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("run %s: %v %+v", def, err, out)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// payload is a pin-service payload whose target is what resolve-target
// reports for p.target (no imageDigest: moto has none).
func (p *pinned) payload(t *testing.T, caseID string, dry bool, with map[string]any) []byte {
	t.Helper()
	out, err := p.ecs.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String(p.ClusterName), Tasks: []string{p.target}})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("describe target: %v", err)
	}
	task := out.Tasks[0]
	target := &incident.Target{LaunchType: p.lt, TaskArn: p.target, ClusterArn: p.ClusterArn, TaskDefinitionArn: aws.ToString(task.TaskDefinitionArn),
		Group: "service:" + p.service, Service: p.service, LastStatus: "RUNNING", ContainerInstanceArn: aws.ToString(task.ContainerInstanceArn),
		TaskRoleArn: p.TaskRoleArn, ENIs: []incident.ENI{}, SubnetIDs: []string{}, SecurityGroups: []string{}, VolumeIDs: []string{}}
	for _, c := range task.Containers {
		if c.ImageDigest != nil {
			t.Errorf("moto now reports imageDigest: the README's note on moto is out of date")
		}
		target.Containers = append(target.Containers, incident.Container{Name: aws.ToString(c.Name), Image: aws.ToString(c.Image)})
	}
	var m map[string]any
	json.Unmarshal(p.Payload("pin-service", "pin", p.lt, caseID, dry, with, nil), &m)
	inc := p.Incident(p.lt, caseID, dry)
	inc.TaskArn = p.target
	m["incident"], m["target"] = inc, target
	b, _ := json.Marshal(m)
	return b
}

// state reads back the service: task definition, desired count, tags.
func (p *pinned) state(t *testing.T) (string, int32, map[string]string) {
	t.Helper()
	out, err := p.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(p.ClusterArn), Services: []string{p.service},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe service: %v", err)
	}
	tags := map[string]string{}
	for _, tg := range out.Services[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return aws.ToString(out.Services[0].TaskDefinition), out.Services[0].DesiredCount, tags
}

func (p *pinned) pin(t *testing.T, payload []byte) (*contract.Result, error) {
	t.Helper()
	return mototest.Run(t, p.World, "pin-service", handler.New(p.Cfg, p.Env), payload)
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// threeRevisions: 1 pins a clean digest, 2 names its image by tag, 3 (the
// service's) pins the compromised digest.
func threeRevisions(bad, clean string) []string {
	return []string{repo + "@" + clean, repo + ":1.3", repo + "@" + bad}
}

func TestMotoRollbackTwiceBothLaunchTypes(t *testing.T) {
	w := mototest.Seed(t)
	for _, lt := range []string{"FARGATE", "EC2"} {
		t.Run(lt, func(t *testing.T) {
			p := seedPinned(t, w, lt, threeRevisions)
			dry := mototest.Unique("case-dry")
			res, err := p.pin(t, p.payload(t, dry, true, nil))
			if err != nil {
				t.Fatal(err)
			}
			if def, n, tags := p.state(t); def != p.revs[2] || n != 2 || len(tags) != 0 || res.Status != contract.StatusDryRun ||
				!strings.Contains(res.Summary, "would roll service "+p.service+" back from "+p.revs[2]+" to "+p.revs[0]) {
				t.Fatalf("dry run: %s %d %v; %s %q", def, n, tags, res.Status, res.Summary)
			}
			mototest.VerifyAudit(t, w, dry, 2)

			caseID := mototest.Unique("case-pin")
			first, err := p.pin(t, p.payload(t, caseID, false, nil))
			if err != nil {
				t.Fatal(err)
			}
			def, n, tags := p.state(t)
			if def != p.revs[0] || n != 2 || tags["irflow:previous-task-definition"] != p.revs[2] || tags["irflow:pinned-task-definition"] != p.revs[0] ||
				tags["irflow:pinned-by-case"] != caseID {
				t.Fatalf("after the rollback: %s %d %v", def, n, tags)
			}
			o := first.Outputs
			if first.Status != contract.StatusOK || o["mode"] != "rollback" || o["previousTaskDefinition"] != p.revs[2] || o["taskDefinition"] != p.revs[0] ||
				o["recorded"] != true || fmt.Sprint(strs(o["compromisedDigests"])) != "["+p.bad+"]" {
				t.Errorf("first run: %q %v", first.Summary, o)
			}
			// At pin time: the service's other task of the digest (not the
			// target, not the task of another group), its tag-revision task
			// unknown, the deployment moto created with the service.
			if fmt.Sprint(strs(o["replacementsFromCompromisedDigest"])) != "["+p.replacement+"]" || fmt.Sprint(strs(o["replacementsUnknownDigest"])) != "["+p.tagged+"]" {
				t.Errorf("replacements %v, unknown %v", o["replacementsFromCompromisedDigest"], o["replacementsUnknownDigest"])
			}
			if deps := fmt.Sprint(o["deployments"]); !strings.Contains(deps, "status:PRIMARY") || !strings.Contains(deps, "taskDefinition:"+p.revs[2]) {
				t.Errorf("deployments %s", deps)
			}

			second, err := p.pin(t, p.payload(t, caseID, false, nil))
			if err != nil {
				t.Fatal(err)
			}
			def2, n2, tags2 := p.state(t)
			if def2 != def || n2 != n || fmt.Sprint(tags2) != fmt.Sprint(tags) || second.Outputs["previousTaskDefinition"] != p.revs[2] ||
				second.Outputs["taskDefinition"] != p.revs[0] || second.Outputs["changed"] != false || !strings.HasPrefix(second.Summary, "already pinned") {
				t.Errorf("second run: %s %d %v; %q %v", def2, n2, tags2, second.Summary, second.Outputs)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
}

func TestMotoPinModes(t *testing.T) {
	w := mototest.Seed(t)
	allBad := func(bad, _ string) []string { return []string{repo + "@" + bad, repo + ":1.3", repo + "@" + bad} }
	tests := []struct {
		name     string
		images   func(bad, clean string) []string
		with     map[string]any
		wantMode string
		wantRev  int // index of the revision the service ends on
		wantN    int32
		wantTags []string
	}{
		{"tag-only allowed", threeRevisions, map[string]any{"allowTagOnly": true}, "rollback", 1, 2,
			[]string{"irflow:pinned-by-case", "irflow:pinned-task-definition", "irflow:previous-task-definition"}},
		{"scale to zero", threeRevisions, map[string]any{"mode": "scale-to-zero"}, "scale-to-zero", 2, 0,
			[]string{"irflow:previous-desired-count", "irflow:scaled-by-case"}},
		{"no safe revision: fall back", allBad, map[string]any{"fallback": "scale-to-zero"}, "scale-to-zero", 2, 0,
			[]string{"irflow:previous-desired-count", "irflow:scaled-by-case"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := seedPinned(t, w, "FARGATE", tt.images)
			dry := mototest.Unique("case-dry")
			if res, err := p.pin(t, p.payload(t, dry, true, tt.with)); err != nil || res.Status != contract.StatusDryRun {
				t.Fatalf("dry run: %v %v", res, err)
			}
			if def, n, tags := p.state(t); def != p.revs[2] || n != 2 || len(tags) != 0 {
				t.Fatalf("dry run changed the service: %s %d %v", def, n, tags)
			}
			caseID := mototest.Unique("case-pin")
			var results []*contract.Result
			for range 2 {
				res, err := p.pin(t, p.payload(t, caseID, false, tt.with))
				if err != nil {
					t.Fatal(err)
				}
				results = append(results, res)
			}
			def, n, tags := p.state(t)
			var keys []string
			for k := range tags {
				keys = append(keys, k)
			}
			if def != p.revs[tt.wantRev] || n != tt.wantN || len(tags) != len(tt.wantTags) {
				t.Errorf("service: %s %d %v", def, n, keys)
			}
			for _, k := range tt.wantTags {
				if tags[k] == "" {
					t.Errorf("tag %s missing: %v", k, tags)
				}
			}
			for i, res := range results {
				if res.Outputs["mode"] != tt.wantMode || res.Outputs["previousDesiredCount"] != 2.0 || res.Outputs["recorded"] != true {
					t.Errorf("run %d: %q %v", i+1, res.Summary, res.Outputs)
				}
			}
			if results[1].Outputs["changed"] != false || fmt.Sprint(results[0].Outputs["undo"]) != fmt.Sprint(results[1].Outputs["undo"]) {
				t.Errorf("second run: %q %v", results[1].Summary, results[1].Outputs)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
}

func TestMotoRefusals(t *testing.T) {
	w := mototest.Seed(t)
	allBad := func(bad, _ string) []string { return []string{repo + "@" + bad, repo + ":1.3", repo + "@" + bad} }
	p := seedPinned(t, w, "FARGATE", allBad)
	caseID := mototest.Unique("case-refused")
	_, err := p.pin(t, p.payload(t, caseID, false, nil))
	if contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "none of the 2 newest earlier revision(s)") {
		t.Errorf("no safe revision: %v", err)
	}
	if def, n, tags := p.state(t); def != p.revs[2] || n != 2 || len(tags) != 0 {
		t.Errorf("a refused pin changed the service: %s %d %v", def, n, tags)
	}
	mototest.VerifyAudit(t, w, caseID, 2)

	// The seeded EC2 task belongs to no service.
	standalone := mototest.Unique("case-standalone")
	_, err = mototest.Run(t, w, "pin-service", handler.New(w.Cfg, w.Env), w.Payload("pin-service", "pin", "EC2", standalone, false, nil, nil))
	if contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "stop-task is the containment") {
		t.Errorf("standalone task: %v", err)
	}
	mototest.VerifyAudit(t, w, standalone, 2)
}
