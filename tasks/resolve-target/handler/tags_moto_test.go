package handler

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/mototest"
)

// TestTaskTagsAgainstMoto: the target carries the task's ECS tags, which
// playbook conditions (when: taskTags, exclude:) read.
func TestTaskTagsAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	_, err := ecs.NewFromConfig(w.Cfg).TagResource(context.Background(), &ecs.TagResourceInput{
		ResourceArn: aws.String(w.FargateTaskArn),
		Tags:        []ecstypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("irflow:skip"), Value: aws.String("yes")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := invoke(t, runtimeFor(w), resolvePayload(t, w, w.FargateTaskArn, mototest.Unique("tags"), false))
	if err != nil {
		t.Fatal(err)
	}
	if tags := r.Outputs.Target.Tags; tags["env"] != "prod" || tags["irflow:skip"] != "yes" {
		t.Errorf("target tags %v; want the task's tags", tags)
	}
}
