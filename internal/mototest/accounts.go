package mototest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

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
// of each action that acts in the target (tasks/catalog ActsInTarget, the
// derivation infra/member.go uses) as the member stack does:
// /irflow/irflow-responder-<action>, trusted by the action's Lambda role in
// the home account (infra AdminRoleName: irflow-<action>-<region> under
// /irflow/), holding the action's catalog workload statements (WorkloadIAM)
// for the member account and region. moto keeps, but does not enforce,
// trust and permission policies. It returns every responder role's ARN,
// those an earlier call made included.
func CreateResponderRoles(ctx context.Context, member aws.Config, homeAccount string) ([]string, error) {
	c := iam.NewFromConfig(member)
	account, err := memberAccount(ctx, member)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, a := range catalog.All() {
		if !a.ActsInTarget() {
			continue
		}
		trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:role/irflow/irflow-%s-%s"},"Action":"sts:AssumeRole"}]}`,
			homeAccount, a.Name, member.Region)
		name := taskrt.ResponderRoleName(a.Name)
		arn := taskrt.ResponderRoleARN("aws", account, a.Name)
		_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
			Path: aws.String(taskrt.ResponderRolePath), AssumeRolePolicyDocument: aws.String(trust)})
		if err != nil && !resent(err, "EntityAlreadyExists") {
			return nil, fmt.Errorf("responder role of %s: %w", a.Name, err)
		}
		policy, err := workloadPolicy(a, account, member.Region)
		if err != nil {
			return nil, err
		}
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("catalog"),
			PolicyDocument: aws.String(policy)}); err != nil {
			return nil, fmt.Errorf("responder role of %s: its policy: %w", a.Name, err)
		}
		arns = append(arns, arn)
	}
	return arns, nil
}

// workloadPolicy is the action's WorkloadIAM as a policy document of the
// member account and region (the task role path at its default).
func workloadPolicy(a *catalog.Action, account, region string) (string, error) {
	r := strings.NewReplacer("${Partition}", "aws", "${Region}", region, "${Account}", account, "${TaskRolePath}", "/ecs-tasks/")
	type stmt struct {
		Effect    string                       `json:"Effect"`
		Action    []string                     `json:"Action"`
		Resource  []string                     `json:"Resource"`
		Condition map[string]map[string]string `json:"Condition,omitempty"`
	}
	var sts []stmt
	for _, st := range a.WorkloadIAM() {
		res := make([]string, len(st.Resources))
		for i, x := range st.Resources {
			res[i] = r.Replace(x)
		}
		sts = append(sts, stmt{Effect: "Allow", Action: st.Actions, Resource: res, Condition: st.Condition})
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": sts})
	return string(b), err
}

// memberAccount is the account cfg acts in.
func memberAccount(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Account), nil
}
