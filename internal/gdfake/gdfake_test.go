package gdfake

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/smithy-go"
)

// TestThroughTheSDK: the real GuardDuty client reads the sample finding
// back, finds nothing for an unknown id, and gets BadRequestException for
// an unknown detector.
func TestThroughTheSDK(t *testing.T) {
	ev, err := os.ReadFile("../../examples/inputs/guardduty-fargate-cryptominer.json")
	if err != nil {
		t.Fatal(err)
	}
	s := New()
	defer s.Close()
	if err := s.AddEvent("det1", ev); err != nil {
		t.Fatal(err)
	}
	c := s.Client(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	ctx := context.Background()
	out, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String("det1"),
		FindingIds: []string{"b2c6a1f0e4d94a1f8c7e5d3b2a190817", "unknown"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 1 {
		t.Fatalf("%d findings", len(out.Findings))
	}
	f := out.Findings[0]
	if aws.ToString(f.AccountId) != "111122223333" || aws.ToString(f.Type) != "Impact:Runtime/CryptoMinerExecuted" ||
		aws.ToString(f.Resource.EcsClusterDetails.TaskDetails.Arn) != "arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0" {
		t.Errorf("finding %+v", f)
	}
	_, err = c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String("other"), FindingIds: []string{"x"}})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "BadRequestException" {
		t.Errorf("unknown detector: %v", err)
	}
}
