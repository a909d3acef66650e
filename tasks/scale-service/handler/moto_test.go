package handler_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/scale-service/handler"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

func run(t *testing.T, w *mototest.World, payload []byte) (*contract.Result, error) {
	t.Helper()
	return mototest.Run(t, w, "scale-service", handler.New(w.Cfg, w.Env), payload)
}

// service returns the desired count and tags moto has for a service.
func service(t *testing.T, w *mototest.World, name string) (int32, map[string]string) {
	t.Helper()
	out, err := ecs.NewFromConfig(w.Cfg).DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(w.ClusterArn),
		Services: []string{name}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe %s: %v %+v", name, err, out)
	}
	tags := map[string]string{}
	for _, tg := range out.Services[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return out.Services[0].DesiredCount, tags
}

// ec2Service adds a bridge-mode EC2 service with two tasks to the world and
// returns a payload builder whose target (the world's EC2 task) belongs to it.
func ec2Service(t *testing.T, w *mototest.World) (string, func(caseID string, dry bool) []byte) {
	t.Helper()
	name := mototest.Unique("report-worker")
	if _, err := ecs.NewFromConfig(w.Cfg).CreateService(context.Background(), &ecs.CreateServiceInput{Cluster: aws.String(w.ClusterName),
		ServiceName: aws.String(name), TaskDefinition: aws.String(w.EC2Def), DesiredCount: aws.Int32(2), LaunchType: ecstypes.LaunchTypeEc2}); err != nil {
		t.Fatal(err)
	}
	return name, func(caseID string, dry bool) []byte {
		var p map[string]any
		json.Unmarshal(w.Payload("scale-service", "scale", "EC2", caseID, dry, nil, nil), &p)
		tg := p["target"].(map[string]any)
		tg["service"], tg["group"] = name, "service:"+name
		b, _ := json.Marshal(p)
		return b
	}
}

func TestMotoScaleTwiceBothLaunchTypes(t *testing.T) {
	w := mototest.Seed(t)
	ec2Name, ec2Payload := ec2Service(t, w)
	tests := []struct {
		lt, service string
		original    int32
		payload     func(caseID string, dry bool) []byte
	}{
		{"FARGATE", w.ServiceName, 1, func(caseID string, dry bool) []byte {
			return w.Payload("scale-service", "scale", "FARGATE", caseID, dry, nil, nil)
		}},
		{"EC2", ec2Name, 2, ec2Payload},
	}
	for _, tt := range tests {
		t.Run(tt.lt, func(t *testing.T) {
			dry := mototest.Unique("case-dry")
			res, err := run(t, w, tt.payload(dry, true))
			if err != nil {
				t.Fatal(err)
			}
			if n, tags := service(t, w, tt.service); n != tt.original || len(tags) != 0 || res.Status != "DRY_RUN" {
				t.Fatalf("dry run: desired %d, tags %v, result %s %q", n, tags, res.Status, res.Summary)
			}
			mototest.VerifyAudit(t, w, dry, 2)

			caseID := mototest.Unique("case-scale")
			first, err := run(t, w, tt.payload(caseID, false))
			if err != nil {
				t.Fatal(err)
			}
			n, tags := service(t, w, tt.service)
			if n != 0 || tags["irflow:previous-desired-count"] != strconv.Itoa(int(tt.original)) || tags["irflow:scaled-by-case"] != caseID {
				t.Fatalf("first run: desired %d, tags %v", n, tags)
			}
			if first.Outputs["previousDesiredCount"] != float64(tt.original) || !strings.HasPrefix(first.Summary, "scaled service") {
				t.Errorf("first run: %q %v", first.Summary, first.Outputs)
			}

			second, err := run(t, w, tt.payload(caseID, false))
			if err != nil {
				t.Fatal(err)
			}
			if n2, tags2 := service(t, w, tt.service); n2 != 0 || tags2["irflow:previous-desired-count"] != tags["irflow:previous-desired-count"] {
				t.Errorf("second run: desired %d, tags %v", n2, tags2)
			}
			if second.Status != "OK" || second.Outputs["previousDesiredCount"] != float64(tt.original) || !strings.HasPrefix(second.Summary, "already scaled") {
				t.Errorf("second run: %s %q %v", second.Status, second.Summary, second.Outputs)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
}

func TestMotoScaleStandaloneTask(t *testing.T) {
	w := mototest.Seed(t)
	caseID := mototest.Unique("case-standalone")
	_, err := run(t, w, w.Payload("scale-service", "scale", "EC2", caseID, false, nil, nil))
	if contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "stop-task is the containment") {
		t.Fatalf("standalone EC2 task: %v", err)
	}
	mototest.VerifyAudit(t, w, caseID, 2)
}
