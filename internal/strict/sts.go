package strict

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/awsproxy"
)

// "To assume a role, an application calls the AWS STS AssumeRole API
// operation and passes the ARN of the role to use" and, for a role that
// does not exist or does not trust the caller, STS answers AccessDenied
// "User: ... is not authorized to perform: sts:AssumeRole on resource: ..."
// (AssumeRole, Errors; Troubleshooting IAM roles). moto hands out
// credentials for any role ARN, existing or not: the layer refuses
// AssumeRole of a role its account does not have, so a member account
// without irflow's member stack fails as it would in AWS.
var ruleAssumeMissingRole = rule{"sts-assume-missing-role",
	"AssumeRole — https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html; Troubleshooting IAM roles — https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_roles.html"}

func (l *Layer) serveSTS(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	form, _ := url.ParseQuery(string(body))
	roleArn := form.Get("RoleArn")
	if svc.Operation != "AssumeRole" || roleArn == "" {
		awsproxy.Rewind(r, body)
		l.next.ServeHTTP(w, r)
		return
	}
	exists, err := l.look.roleExists(r.Context(), callerOf(svc), roleArn)
	if err == nil && !exists {
		l.refuse(w, r, svc, "AssumeRole", ruleAssumeMissingRole, awsproxy.Error{Status: http.StatusForbidden, Code: "AccessDenied",
			Message: "User is not authorized to perform: sts:AssumeRole on resource: " + roleArn}, roleArn)
		return
	}
	awsproxy.Rewind(r, body)
	l.next.ServeHTTP(w, r)
}

// roleExists asks moto, as the role's account, whether it has the role.
func (lk *lookups) roleExists(ctx context.Context, c caller, roleArn string) (bool, error) {
	parts := strings.SplitN(roleArn, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return true, errors.New("not a role ARN") // moto answers it
	}
	name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	// moto gives any AssumeRole the role's account: these credentials are
	// the account's, for the look-up only.
	as, err := sts.NewFromConfig(lk.config(c)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("irflow-strict")})
	if err != nil || as.Credentials == nil {
		return true, err
	}
	cfg := lk.config(c)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(as.Credentials.AccessKeyId), aws.ToString(as.Credentials.SecretAccessKey), aws.ToString(as.Credentials.SessionToken))
	_, err = iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "NoSuchEntity" {
		return false, nil
	}
	return true, err
}
