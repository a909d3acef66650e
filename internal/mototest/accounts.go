package mototest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/taskrt"
)

// AccountConfig returns cfg acting in another moto account: moto gives the
// credentials of an sts:AssumeRole the role's account ("The ARN can point
// to another account, providing an opportunity to switch accounts", moto's
// AssumeRole). The role is assumed at direct (moto itself): it need not
// exist, which the strict layer would refuse.
func AccountConfig(ctx context.Context, cfg aws.Config, direct, account string) (aws.Config, error) {
	d := cfg.Copy()
	d.BaseEndpoint = aws.String(direct)
	out, err := sts.NewFromConfig(d).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/irflow-test-admin"), RoleSessionName: aws.String("irflow-test")})
	if err != nil {
		return aws.Config{}, fmt.Errorf("moto account %s: %w", account, err)
	}
	c := cfg.Copy()
	cr := out.Credentials
	c.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	return c, nil
}

// CreateResponderRoles creates, in the member account of member, the role
// of each action that acts in the target (tasks/catalog ActsInTarget) as
// the member stack does: /irflow/irflow-responder-<action>, trusted by the
// action's Lambda role in the home account. moto keeps, but does not
// enforce, trust and permission policies.
func CreateResponderRoles(ctx context.Context, member aws.Config, homeAccount string) ([]string, error) {
	c := iam.NewFromConfig(member)
	var arns []string
	for _, a := range catalog.All() {
		if !a.ActsInTarget() {
			continue
		}
		trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:role/irflow/irflow-%s"},"Action":"sts:AssumeRole"}]}`, homeAccount, a.Name)
		out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(taskrt.ResponderRoleName(a.Name)),
			Path: aws.String(taskrt.ResponderRolePath), AssumeRolePolicyDocument: aws.String(trust)})
		if err != nil {
			if resent(err, "EntityAlreadyExists") {
				continue
			}
			return nil, fmt.Errorf("responder role of %s: %w", a.Name, err)
		}
		arns = append(arns, aws.ToString(out.Role.Arn))
	}
	return arns, nil
}
