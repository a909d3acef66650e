package handler

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// ciShim passes ECS calls to moto except tagging a container instance, which
// moto 5.2 does not implement (HTTP 500): those calls are recorded here.
type ciShim struct {
	real   *ecs.Client
	tagged map[string][]string // container instance ARN -> "key=value"
}

var _ ecsAPI = (*ciShim)(nil)

func (s *ciShim) TagResource(ctx context.Context, in *ecs.TagResourceInput, opts ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	if !strings.Contains(aws.ToString(in.ResourceArn), ":container-instance/") {
		return s.real.TagResource(ctx, in, opts...)
	}
	arn := aws.ToString(in.ResourceArn)
	kv := map[string]bool{}
	for _, x := range s.tagged[arn] {
		kv[x] = true
	}
	for _, tag := range in.Tags {
		kv[aws.ToString(tag.Key)+"="+aws.ToString(tag.Value)] = true
	}
	s.tagged[arn] = nil
	for x := range kv {
		s.tagged[arn] = append(s.tagged[arn], x)
	}
	return &ecs.TagResourceOutput{}, nil
}

// worldTags reads every tag irflow could have set, resource by resource,
// as "resource key=value" lines.
func worldTags(t *testing.T, w *mototest.World, shim *ciShim, lt string) []string {
	t.Helper()
	ctx := context.Background()
	tg := w.Target(lt)
	var out []string
	for _, kv := range shim.tagged[tg.ContainerInstanceArn] {
		out = append(out, tg.ContainerInstanceArn+" "+kv)
	}
	for _, arn := range []string{tg.TaskArn} {
		r, err := ecs.NewFromConfig(w.Cfg).ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range r.Tags {
			out = append(out, arn+" "+aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
	}
	ids := planFor(&contract.Payload{Target: tg}).EC2
	r, err := ec2.NewFromConfig(w.Cfg).DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: ids}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range r.Tags {
		out = append(out, aws.ToString(tag.ResourceId)+" "+aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
	}
	sort.Strings(out)
	return out
}

func TestTagAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	shim := &ciShim{real: ecs.NewFromConfig(w.Cfg), tagged: map[string][]string{}}
	h := &Handler{ECS: shim, EC2: ec2.NewFromConfig(w.Cfg)}
	with := map[string]any{"status": "CONTAINED", "extraTags": map[string]string{"ticket": "SEC-42"}}
	for _, lt := range []string{"EC2", "FARGATE"} {
		t.Run(lt, func(t *testing.T) {
			handle := h.Handle
			if lt == "FARGATE" { // no container instance: the real clients
				handle = New(w.Cfg, w.Env)
			}
			rt := &taskrt.Runtime{Action: "tag-resources", Handle: handle, Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
			caseID := mototest.Unique("case")
			before := worldTags(t, w, shim, lt)
			out, err := rt.Invoke(context.Background(), w.Payload("tag-resources", "tag", lt, caseID, true, with, nil))
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if !strings.Contains(string(out), `"DRY_RUN"`) {
				t.Errorf("dry run result %s", out)
			}
			if after := worldTags(t, w, shim, lt); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("dry run changed tags:\n%s", strings.Join(after, "\n"))
			}

			var first []string
			for run := 1; run <= 2; run++ {
				out, err := rt.Invoke(context.Background(), w.Payload("tag-resources", "tag", lt, caseID, false, with, nil))
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				var res contract.Result
				json.Unmarshal(out, &res)
				if res.Status != contract.StatusOK {
					t.Fatalf("run %d: %s", run, out)
				}
				got := worldTags(t, w, shim, lt)
				if run == 1 {
					first = got
				} else if strings.Join(got, "\n") != strings.Join(first, "\n") {
					t.Errorf("second run changed tags:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(first, "\n"))
				}
			}
			want := planFor(&contract.Payload{Target: w.Target(lt)})
			for _, id := range append(want.ECS, want.EC2...) {
				for _, kv := range []string{"irflow:case-id=" + caseID, "irflow:status=CONTAINED", "ticket=SEC-42"} {
					if !contains(first, id+" "+kv) {
						t.Errorf("%s lacks %s; tags:\n%s", id, kv, strings.Join(first, "\n"))
					}
				}
			}
			if lt == "EC2" && want.count() != 2+1+1+len(w.VolumeIDs) {
				t.Errorf("EC2 plan = %+v; want task, container instance, ENI, instance, volumes", want)
			}
			recs, err := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), caseID)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 6 {
				t.Errorf("audit has %d records; want start and result of 3 runs", len(recs))
			}
			if err := audit.Verify(recs); err != nil {
				t.Errorf("audit chain: %v", err)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
