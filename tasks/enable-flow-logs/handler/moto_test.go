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
	h := &Handler{EC2: ec2.NewFromConfig(w.Cfg), Bucket: w.Env.EvidenceBucket}
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
			// The strict layer shows the folder EC2 writes into (moto alone
			// refuses a destination with a folder).
			dest := "arn:aws:s3:::" + w.Env.EvidenceBucket + "/cases/" + caseID + "/flow-logs/"
			for _, fl := range fls {
				if aws.ToString(fl.LogDestination) != dest || !ours(fl, "another-case", dest) || fl.LogDestinationType != ec2types.LogDestinationTypeS3 || fl.TrafficType != ec2types.TrafficTypeAll {
					t.Errorf("flow log %s: destination %s, type %s", aws.ToString(fl.FlowLogId), aws.ToString(fl.LogDestination), fl.TrafficType)
				}
			}
			mototest.VerifyAudit(t, w, caseID, 6)
		})
	}
}
