package strict

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/irflow/irflow/internal/mototest"
)

// TestMotoAssumeMissingRole: moto hands out credentials for any role ARN;
// through the layer, AssumeRole of a role its account does not have is
// AccessDenied (recorded), of one it has moto's answer, in that account.
func TestMotoAssumeMissingRole(t *testing.T) {
	l, url := serve(t, mototest.Endpoint(t), Config{})
	const member = "444455556666"
	memberCfg, err := mototest.AccountConfig(ctx, sdk(url), mototest.Endpoint(t), member)
	if err != nil {
		t.Fatal(err)
	}
	name := mototest.Unique("irflow-responder-test")
	if _, err := iam.NewFromConfig(memberCfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String("/irflow/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}); err != nil {
		t.Fatal(err)
	}
	c := sts.NewFromConfig(sdk(url))
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + member + ":role/irflow/" + name), RoleSessionName: aws.String("case-1")})
	if err != nil || !strings.Contains(aws.ToString(out.AssumedRoleUser.Arn), member+":assumed-role/"+name+"/case-1") {
		t.Fatalf("existing role: %v %v", out, err)
	}
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + member + ":role/irflow/irflow-responder-absent"), RoleSessionName: aws.String("case-1")})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("missing role: %v", err)
	}
	rs := l.refusals.list()
	if len(rs) != 1 || rs[0].Rule != ruleAssumeMissingRole.id {
		t.Errorf("refusals %+v", rs)
	}
}
