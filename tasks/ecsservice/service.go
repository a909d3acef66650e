package ecsservice

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

// DescribeAPI reads a service.
type DescribeAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
}

// TagAPI records on a service.
type TagAPI interface {
	TagResource(ctx context.Context, in *ecs.TagResourceInput, opts ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
}

// API reads, records and changes a service.
type API interface {
	DescribeAPI
	TagAPI
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, opts ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

// Standalone is the reason actions on a service refuse a task no service owns.
const Standalone = "standalone task: it has no service; stop-task is the containment"

// Name returns the service that owns the target task: target.service, or
// NAME of the task group "service:NAME" (the group the service scheduler
// gives its tasks); "" for a standalone task.
func Name(t *incident.Target) string {
	if t == nil {
		return ""
	}
	if t.Service != "" {
		return t.Service
	}
	if strings.HasPrefix(t.Group, "service:") {
		return strings.TrimPrefix(t.Group, "service:")
	}
	return ""
}

// Cluster returns the target's cluster, or the incident's.
func Cluster(p *contract.Payload) string {
	if p.Target != nil && p.Target.ClusterArn != "" {
		return p.Target.ClusterArn
	}
	if p.Incident != nil {
		return p.Incident.ClusterArn
	}
	return ""
}

// Owner describes the ACTIVE service that owns p's target (Describe) in its
// cluster. A standalone task is refused: the action cannot verb a service,
// and stop-task is the containment.
func Owner(ctx context.Context, api DescribeAPI, p *contract.Payload, verb string) (cluster string, svc *ecstypes.Service, err error) {
	name := Name(p.Target)
	if name == "" {
		return "", nil, &contract.PreconditionFailedError{Reason: "standalone task: it has no service to " + verb + "; stop-task is the containment"}
	}
	cluster = Cluster(p)
	svc, err = Describe(ctx, api, cluster, name)
	return cluster, svc, err
}

// Describe returns the ACTIVE service with its tags. A service that is
// missing, DRAINING or INACTIVE is a TargetNotFoundError.
func Describe(ctx context.Context, api DescribeAPI, cluster, name string) (*ecstypes.Service, error) {
	in := &ecs.DescribeServicesInput{Services: []string{name}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}}
	if cluster != "" {
		in.Cluster = aws.String(cluster)
	}
	out, err := api.DescribeServices(ctx, in)
	if err != nil {
		return nil, contract.AWSError("ecs:DescribeServices "+name, err)
	}
	for i, s := range out.Services {
		if aws.ToString(s.ServiceName) != name && aws.ToString(s.ServiceArn) != name {
			continue
		}
		if st := aws.ToString(s.Status); st != "ACTIVE" {
			return nil, &contract.TargetNotFoundError{Resource: "service " + name, Reason: "status " + st}
		}
		return &out.Services[i], nil
	}
	reason := "not in the cluster"
	for _, f := range out.Failures {
		reason = aws.ToString(f.Reason)
	}
	return nil, &contract.TargetNotFoundError{Resource: "service " + name, Reason: reason}
}

// TagValue returns the value of a tag and whether it is there.
func TagValue(tags []ecstypes.Tag, key string) (string, bool) {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}

// Record writes tags on the service (keys in sorted order). A tag that
// cannot be written (no ecs:TagResource, a service with an old short ARN,
// a value over ECS's 256 characters) does not stop the containment: it
// returns false, and the caller's outputs and the audit chain still hold
// the record. Throttling and other faults are errors.
func Record(ctx context.Context, api TagAPI, serviceArn string, tags map[string]string) (bool, error) {
	in := &ecs.TagResourceInput{ResourceArn: aws.String(serviceArn)}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		in.Tags = append(in.Tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := api.TagResource(ctx, in)
	switch APICode(err) {
	case "":
		if err != nil {
			return false, contract.AWSError("ecs:TagResource "+serviceArn, err)
		}
		return true, nil
	case "AccessDeniedException", "AccessDenied", "InvalidParameterException":
		return false, nil
	}
	return false, contract.AWSError("ecs:TagResource "+serviceArn, err)
}

// UpdateError names what an UpdateService refusal means: a service deleted
// meanwhile is gone (TargetNotFoundError); anything else is AWSError's.
func UpdateError(name string, err error) error {
	if APICode(err) == "ServiceNotActiveException" {
		return &contract.TargetNotFoundError{Resource: "service " + name, Reason: "no longer active"}
	}
	return contract.AWSError("ecs:UpdateService "+name, err)
}

// APICode returns the API error code of err, or "".
func APICode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
