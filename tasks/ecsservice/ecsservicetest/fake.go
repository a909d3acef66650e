// Package ecsservicetest is the ECS service API (ecsservice.API) of the
// unit tests of ecsservice and the actions on a service.
package ecsservicetest

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// FakeService answers DescribeServices, TagResource and UpdateService with
// Describe, Tag and Update, recording each call's name in Calls and each
// TagResource's key=value pairs in Tagged.
type FakeService struct {
	Describe func(*ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error)
	Tag      func(*ecs.TagResourceInput) (*ecs.TagResourceOutput, error)
	Update   func(*ecs.UpdateServiceInput) (*ecs.UpdateServiceOutput, error)
	Calls    []string
	Tagged   []string
}

func (f *FakeService) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.Calls = append(f.Calls, "DescribeServices")
	return f.Describe(in)
}

func (f *FakeService) TagResource(_ context.Context, in *ecs.TagResourceInput, _ ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	var keys []string
	for _, t := range in.Tags {
		keys = append(keys, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	f.Calls = append(f.Calls, "TagResource")
	f.Tagged = append(f.Tagged, strings.Join(keys, " "))
	return f.Tag(in)
}

func (f *FakeService) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	f.Calls = append(f.Calls, "UpdateService")
	return f.Update(in)
}

// Mutations is Calls without the reads.
func (f *FakeService) Mutations() []string {
	var out []string
	for _, c := range f.Calls {
		if c != "DescribeServices" {
			out = append(out, c)
		}
	}
	return out
}
