package ecsref

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

var (
	dA = "sha256:" + strings.Repeat("a", 64)
	dB = "sha256:" + strings.Repeat("b", 64)
	dC = "sha256:" + strings.Repeat("c", 64)
)

func TestPinnedDigest(t *testing.T) {
	tests := []struct{ image, want string }{
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/api@" + dA, dA},
		{"registry.example.com:5000/team/api:1.2@" + dA, dA},
		{"api:1.2", ""},
		{"localhost:5000/api", ""},
		{"api@sha256:ABC", ""},
		{"api@sha256:" + strings.Repeat("a", 63), ""},
		{"api@md5:" + strings.Repeat("a", 32), ""},
		{"api@sha512:" + strings.Repeat("f", 128), "sha512:" + strings.Repeat("f", 128)},
		{"", ""},
	}
	for _, tt := range tests {
		if got := PinnedDigest(tt.image); got != tt.want {
			t.Errorf("PinnedDigest(%q) = %q; want %q", tt.image, got, tt.want)
		}
	}
}

func TestContainerDigest(t *testing.T) {
	tests := []struct{ reported, image, digest, source string }{
		{dB, "api@" + dA, dB, SourceReported}, // what ran wins over the reference
		{"", "api@" + dA, dA, SourceReference},
		{"", "api:1.2", "", SourceUnknown},
		{" ", "api:latest", "", SourceUnknown},
	}
	for _, tt := range tests {
		d, src := ContainerDigest(tt.reported, tt.image)
		if d != tt.digest || src != tt.source {
			t.Errorf("ContainerDigest(%q, %q) = %q, %q; want %q, %q", tt.reported, tt.image, d, src, tt.digest, tt.source)
		}
	}
}

func TestCompare(t *testing.T) {
	set := map[string]bool{dA: true}
	c := func(d string) Container { return Container{Name: "x", Digest: d} }
	tests := []struct {
		name       string
		containers []Container
		complete   bool
		want       Match
	}{
		{"same digest", []Container{c(dA)}, true, Matches},
		{"a sidecar of the digest", []Container{c(dB), c(dA)}, true, Matches},
		{"other digests", []Container{c(dB), c(dC)}, true, NoMatch},
		{"one unknown", []Container{c(dB), c("")}, true, Undecided},
		{"match beats unknown", []Container{c(""), c(dA)}, true, Matches},
		{"the set is incomplete", []Container{c(dB)}, false, Undecided},
		{"no containers", nil, true, Undecided},
	}
	for _, tt := range tests {
		if got := Compare(tt.containers, set, tt.complete); got != tt.want {
			t.Errorf("%s: got %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestCompromisedOf(t *testing.T) {
	target := &incident.Target{Containers: []incident.Container{
		{Name: "app", Image: "api:1.2", ImageDigest: dA},
		{Name: "envoy", Image: "envoy@" + dB},
		{Name: "log", Image: "fluent-bit:2"},
		{Name: "app2", Image: "api:1.2", ImageDigest: dA},
	}}
	tests := []struct {
		names    []string
		digests  string
		unknown  string
		complete bool
	}{
		{nil, dA + "," + dB, "log", false},
		{[]string{"app"}, dA, "", true},
		{[]string{"app", "envoy"}, dA + "," + dB, "", true},
		{[]string{"log"}, "", "log", false},
	}
	for _, tt := range tests {
		c, err := CompromisedOf(target, tt.names, "with.containers")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(c.Digests, ",") != tt.digests || strings.Join(c.Unknown, ",") != tt.unknown || c.Complete() != tt.complete {
			t.Errorf("%v: got %v unknown %v complete %v", tt.names, c.Digests, c.Unknown, c.Complete())
		}
	}
	_, err := CompromisedOf(target, []string{"ap"}, "with.containers")
	if contract.ErrorName(err) != contract.ErrInvalidInput || !strings.Contains(err.Error(), "with.containers") || !strings.Contains(err.Error(), "app, app2, envoy, log") {
		t.Errorf("unknown container: %v", err)
	}
}

func TestRefresh(t *testing.T) {
	target := &incident.Target{Containers: []incident.Container{{Name: "app", Image: "api:1.2"}, {Name: "log", Image: "fb:2", ImageDigest: dC}}}
	if !NeedsRefresh(target, nil) || NeedsRefresh(target, []string{"log"}) {
		t.Error("NeedsRefresh")
	}
	Refresh(target, ecstypes.Task{Containers: []ecstypes.Container{{Name: aws.String("app"), ImageDigest: aws.String(dA)}, {Name: aws.String("log"), ImageDigest: aws.String(dB)}}})
	if target.Containers[0].ImageDigest != dA || target.Containers[1].ImageDigest != dC {
		t.Errorf("refresh: %+v", target.Containers)
	}
	empty := &incident.Target{}
	if !NeedsRefresh(empty, nil) {
		t.Error("a target without containers needs a refresh")
	}
	Refresh(empty, ecstypes.Task{Containers: []ecstypes.Container{{Name: aws.String("app"), Image: aws.String("api:1"), ImageDigest: aws.String(dA)}}})
	if len(empty.Containers) != 1 || empty.Containers[0].ImageDigest != dA {
		t.Errorf("refresh of an empty target: %+v", empty.Containers)
	}
}

func TestParseTaskDefinition(t *testing.T) {
	tests := []struct {
		ref    string
		family string
		rev    int
		ok     bool
	}{
		{"arn:aws:ecs:us-east-1:111122223333:task-definition/payments-api:7", "payments-api", 7, true},
		{"arn:aws-cn:ecs:cn-north-1:111122223333:task-definition/a_b-c:12", "a_b-c", 12, true},
		{"payments-api:3", "payments-api", 3, true},
		{"payments-api", "", 0, false},
		{"arn:aws:ecs:us-east-1:111122223333:task/cluster/abc", "", 0, false},
		{"payments-api:0", "", 0, false},
		{"payments-api:x", "", 0, false},
		{":3", "", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseTaskDefinition(tt.ref)
		if ok != tt.ok || got.Family != tt.family || got.Revision != tt.rev {
			t.Errorf("ParseTaskDefinition(%q) = %+v, %v; want %s:%d %v", tt.ref, got, ok, tt.family, tt.rev, tt.ok)
		}
	}
}
