package handler

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// prefixShim works around moto 5.2 taking the whole "bucket/prefix/" of an
// S3 LogDestination for a bucket name ("does not exist"): it sends moto the
// bucket alone. Everything else, tags included, goes to moto unchanged.
type prefixShim struct{ *ec2.Client }

var _ ec2API = prefixShim{}

func (s prefixShim) CreateFlowLogs(ctx context.Context, in *ec2.CreateFlowLogsInput, opts ...func(*ec2.Options)) (*ec2.CreateFlowLogsOutput, error) {
	cp := *in
	if d := aws.ToString(in.LogDestination); strings.Count(d, "/") > 0 {
		cp.LogDestination = aws.String(d[:strings.IndexByte(d, '/')])
	}
	return s.Client.CreateFlowLogs(ctx, &cp, opts...)
}

func flowLogs(t *testing.T, w *mototest.World, enis []string) []ec2types.FlowLog {
	t.Helper()
	out, err := ec2.NewFromConfig(w.Cfg).DescribeFlowLogs(context.Background(), &ec2.DescribeFlowLogsInput{
		Filter: []ec2types.Filter{{Name: aws.String("resource-id"), Values: enis}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.FlowLogs
}

func TestFlowLogsAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	h := &Handler{EC2: prefixShim{ec2.NewFromConfig(w.Cfg)}, Bucket: w.Env.EvidenceBucket}
	rt := &taskrt.Runtime{Action: "enable-flow-logs", Handle: h.Handle, Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	for _, lt := range []string{"EC2", "FARGATE"} {
		t.Run(lt, func(t *testing.T) {
			caseID := mototest.Unique("case")
			enis := eniIDs(&contract.Payload{Target: w.Target(lt)})
			invoke := func(dryRun bool) contract.Result {
				t.Helper()
				out, err := rt.Invoke(context.Background(), w.Payload("enable-flow-logs", "flows", lt, caseID, dryRun, map[string]any{"trafficType": "ALL", "maxAggregationIntervalSeconds": 60}, nil))
				if err != nil {
					t.Fatal(err)
				}
				var res contract.Result
				json.Unmarshal(out, &res)
				return res
			}
			before := len(flowLogs(t, w, enis))
			if res := invoke(true); res.Status != contract.StatusDryRun || len(res.Outputs["wouldCreate"].([]any)) != len(enis) {
				t.Errorf("dry run: %+v", res)
			}
			if n := len(flowLogs(t, w, enis)); n != before {
				t.Fatalf("dry run created %d flow logs", n-before)
			}
			if res := invoke(false); res.Status != contract.StatusOK || len(res.Outputs["created"].([]any)) != len(enis) {
				t.Errorf("first run: %+v", res)
			}
			res := invoke(false)
			if res.Status != contract.StatusOK || len(res.Outputs["created"].([]any)) != 0 || !strings.Contains(res.Summary, "already") {
				t.Errorf("second run: %+v; want nothing created", res)
			}
			fls := flowLogs(t, w, enis)
			if len(fls)-before != len(enis) {
				t.Fatalf("%d flow logs on %v after two runs; want one per ENI", len(fls)-before, enis)
			}
			for _, fl := range fls {
				if !ours(fl, caseID, "(the shim drops the prefix: match by tag)") || fl.LogDestinationType != ec2types.LogDestinationTypeS3 || fl.TrafficType != ec2types.TrafficTypeAll {
					t.Errorf("flow log %s: destination %s, type %s", aws.ToString(fl.FlowLogId), aws.ToString(fl.LogDestination), fl.TrafficType)
				}
			}
			mototest.VerifyAudit(t, w, caseID, 6)
		})
	}
}
