package handler_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
)

// denies lists the deny entries (other than the default rules) of every
// network ACL of the world's VPC, read from moto past the layer.
func denies(t *testing.T, l *stricttest.Layer, w *mototest.World) []string {
	t.Helper()
	out, err := ec2.NewFromConfig(l.Direct).DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}})
	if err != nil {
		t.Fatal(err)
	}
	var d []string
	for _, a := range out.NetworkAcls {
		for _, e := range a.Entries {
			if e.RuleAction == ec2types.RuleActionDeny && aws.ToInt32(e.RuleNumber) != 32767 {
				d = append(d, aws.ToString(a.NetworkAclId)+" "+aws.ToString(e.CidrBlock))
			}
		}
	}
	return d
}
