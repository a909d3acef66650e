package faketags

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestApply(t *testing.T) {
	tag := func(k, v string) ecstypes.Tag { return ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	key := func(t ecstypes.Tag) *string { return t.Key }
	got := Apply([]ecstypes.Tag{tag("a", "1"), tag("b", "2")}, []ecstypes.Tag{tag("a", "3"), tag("c", "4")}, key)
	want := []ecstypes.Tag{tag("b", "2"), tag("a", "3"), tag("c", "4")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Apply = %v; want %v", got, want)
	}
	if got := Apply(nil, []ecstypes.Tag{tag("a", "1")}, key); !reflect.DeepEqual(got, []ecstypes.Tag{tag("a", "1")}) {
		t.Errorf("Apply to none = %v", got)
	}
}
