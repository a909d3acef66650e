package handler_test

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/internal/mototest"
	"github.com/irflow/irflow/tasks/internal/taskrt"
	"github.com/irflow/irflow/tasks/scale-service/handler"
)

func TestMain(m *testing.M) { mototest.Main(m) }

func run(t *testing.T, w *mototest.World, payload []byte) (*taskrt.Result, error) {
	t.Helper()
	rt := &taskrt.Runtime{Action: "scale-service", Handle: handler.New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	out, err := rt.Invoke(context.Background(), payload)
	if err != nil {
		return nil, err
	}
	var res taskrt.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return &res, nil
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

// verifyAudit checks the case's audit chain and that it holds want records.
// Under load a DynamoDB response can be lost after the write succeeded; the
// SDK then resends the conditional put and taskrt.Chain.Append, seeing the
// seq taken, appends the same event again: a valid chain with a repeated
// record. Adjacent repeats are tolerated here (a run always alternates start
// and result) and reported to taskrt's owners.
func verifyAudit(t *testing.T, w *mototest.World, caseID string, want int) []taskrt.Record {
	t.Helper()
	recs, err := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := taskrt.Verify(recs); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	var distinct []taskrt.Record
	for _, r := range recs {
		if n := len(distinct); n > 0 && sameEvent(distinct[n-1], r) {
			continue
		}
		distinct = append(distinct, r)
	}
	if len(distinct) != want {
		t.Fatalf("%d audit records; want %d", len(distinct), want)
	}
	return distinct
}

func sameEvent(a, b taskrt.Record) bool {
	return a.Step == b.Step && a.Action == b.Action && a.Event == b.Event && a.Status == b.Status && a.Summary == b.Summary && a.Detail == b.Detail
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
			verifyAudit(t, w, dry, 2)

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
			verifyAudit(t, w, caseID, 4)
		})
	}
}

func TestMotoScaleStandaloneTask(t *testing.T) {
	w := mototest.Seed(t)
	caseID := mototest.Unique("case-standalone")
	_, err := run(t, w, w.Payload("scale-service", "scale", "EC2", caseID, false, nil, nil))
	if taskrt.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "stop-task is the containment") {
		t.Fatalf("standalone EC2 task: %v", err)
	}
	verifyAudit(t, w, caseID, 2)
}
