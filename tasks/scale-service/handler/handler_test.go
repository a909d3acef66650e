package handler

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/faketags"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsservice/ecsservicetest"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/ledger/ledgertest"
)

type fakeECS = ecsservicetest.FakeService

var _ ecsAPI = (*fakeECS)(nil)

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"} }

const serviceArn = "arn:aws:ecs:us-east-1:111122223333:service/prod/payments"

// newECS serves one ACTIVE service with the given desired count and tags.
func newECS(desired int32, tags ...ecstypes.Tag) (*fakeECS, *ecstypes.Service) {
	svc := &ecstypes.Service{ServiceName: aws.String("payments"), ServiceArn: aws.String(serviceArn), Status: aws.String("ACTIVE"), DesiredCount: desired, Tags: tags}
	f := &fakeECS{}
	f.Describe = func(*ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
		return &ecs.DescribeServicesOutput{Services: []ecstypes.Service{*svc}}, nil
	}
	f.Tag = func(in *ecs.TagResourceInput) (*ecs.TagResourceOutput, error) {
		svc.Tags = faketags.Apply(svc.Tags, in.Tags, func(t ecstypes.Tag) *string { return t.Key })
		return &ecs.TagResourceOutput{}, nil
	}
	f.Update = func(in *ecs.UpdateServiceInput) (*ecs.UpdateServiceOutput, error) {
		svc.DesiredCount = aws.ToInt32(in.DesiredCount)
		return &ecs.UpdateServiceOutput{Service: svc}, nil
	}
	return f, svc
}

func tag(k, v string) ecstypes.Tag { return ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)} }

func payload(caseID string, dry bool, with string) *contract.Payload {
	return &contract.Payload{Action: "scale-service", Step: "scale", With: json.RawMessage(with),
		Incident: &incident.Incident{CaseID: caseID, DryRun: dry},
		Target:   &incident.Target{ClusterArn: "arn:aws:ecs:us-east-1:111122223333:cluster/prod", Group: "service:payments"}}
}

func tagOf(svc *ecstypes.Service, key string) string {
	for _, t := range svc.Tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func TestScaleTwiceKeepsTheOriginal(t *testing.T) {
	f, svc := newECS(3)
	h := &Handler{ECS: f}
	res, err := h.Handle(context.Background(), payload("case-1", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if svc.DesiredCount != 0 || tagOf(svc, tagPrevious) != "3" || tagOf(svc, tagCase) != "case-1" {
		t.Fatalf("service after the first run: %+v", svc)
	}
	if res.Status != contract.StatusOK || res.Outputs["previousDesiredCount"] != int32(3) || res.Outputs["recorded"] != true ||
		!strings.HasPrefix(res.Summary, "scaled service payments from desired count 3 to 0") {
		t.Errorf("first run: %s %q %v", res.Status, res.Summary, res.Outputs)
	}
	if got := strings.Join(f.Calls, ","); got != "DescribeServices,TagResource,UpdateService" {
		t.Errorf("calls %s: the tag must be written before the count changes", got)
	}

	f.Calls = nil
	res, err = h.Handle(context.Background(), payload("case-1", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := f.Mutations(); len(m) != 0 || tagOf(svc, tagPrevious) != "3" {
		t.Errorf("second run called %v, tag %s", m, tagOf(svc, tagPrevious))
	}
	if res.Outputs["previousDesiredCount"] != int32(3) || !strings.HasPrefix(res.Summary, "already scaled") {
		t.Errorf("second run: %q %v", res.Summary, res.Outputs)
	}

	// Auto scaling put a task back: the same case scales down again and
	// still reports 3, not 1.
	svc.DesiredCount = 1
	res, err = h.Handle(context.Background(), payload("case-1", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if svc.DesiredCount != 0 || tagOf(svc, tagPrevious) != "3" || res.Outputs["previousDesiredCount"] != int32(3) {
		t.Errorf("after auto scaling: desired %d, tag %s, outputs %v", svc.DesiredCount, tagOf(svc, tagPrevious), res.Outputs)
	}
}

func TestScaleCases(t *testing.T) {
	tests := []struct {
		name         string
		desired      int32
		tags         []ecstypes.Tag
		with         string
		dry          bool
		fault        func(*fakeECS)
		wantStatus   string
		wantSummary  string
		wantPrevious int32
		wantRecorded bool
		wantCalls    string
	}{
		{name: "scale to two", desired: 6, with: `{"desiredCount":2}`, wantStatus: "OK", wantSummary: "from desired count 6 to 2",
			wantPrevious: 6, wantRecorded: true, wantCalls: "DescribeServices,TagResource,UpdateService"},
		{name: "another case's record is replaced", desired: 2, tags: []ecstypes.Tag{tag(tagPrevious, "5"), tag(tagCase, "case-0")}, with: `{}`,
			wantStatus: "OK", wantPrevious: 2, wantRecorded: true, wantCalls: "DescribeServices,TagResource,UpdateService"},
		{name: "already at zero, never recorded", desired: 0, with: `{}`, wantStatus: "OK", wantSummary: "no original recorded",
			wantPrevious: 0, wantCalls: "DescribeServices"},
		{name: "already at zero by another case", desired: 0, tags: []ecstypes.Tag{tag(tagPrevious, "4"), tag(tagCase, "case-0")}, with: `{}`,
			wantStatus: "OK", wantSummary: "original 4", wantPrevious: 4, wantRecorded: true, wantCalls: "DescribeServices"},
		{name: "dry run", desired: 3, with: `{}`, dry: true, wantStatus: "DRY_RUN", wantSummary: "would scale service payments from desired count 3 to 0",
			wantPrevious: 3, wantRecorded: true, wantCalls: "DescribeServices"},
		{name: "dry run already scaled", desired: 0, with: `{}`, dry: true, wantStatus: "DRY_RUN", wantSummary: "would do nothing: already scaled",
			wantCalls: "DescribeServices"},
		{name: "tag denied still scales", desired: 3, with: `{}`, wantStatus: "OK", wantSummary: "in this result only", wantPrevious: 3,
			wantCalls: "DescribeServices,TagResource,UpdateService", fault: func(f *fakeECS) {
				f.Tag = func(*ecs.TagResourceInput) (*ecs.TagResourceOutput, error) {
					return nil, apiErr("AccessDeniedException")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newECS(tt.desired, tt.tags...)
			if tt.fault != nil {
				tt.fault(f)
			}
			res, err := (&Handler{ECS: f}).Handle(context.Background(), payload("case-1", tt.dry, tt.with))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.wantStatus || !strings.Contains(res.Summary, tt.wantSummary) || res.Outputs["previousDesiredCount"] != tt.wantPrevious ||
				res.Outputs["recorded"] != tt.wantRecorded || strings.Join(f.Calls, ",") != tt.wantCalls {
				t.Errorf("got %s %q %v calls %v", res.Status, res.Summary, res.Outputs, f.Calls)
			}
		})
	}
}

func TestScaleErrors(t *testing.T) {
	tests := []struct {
		name    string
		target  func(*incident.Target)
		with    string
		fault   func(*fakeECS)
		wantErr string
	}{
		{name: "standalone task", target: func(t *incident.Target) { t.Group = "family:payments" }, wantErr: "PreconditionFailedError"},
		{name: "service gone", wantErr: "TargetNotFoundError", fault: func(f *fakeECS) {
			f.Describe = func(*ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
				return &ecs.DescribeServicesOutput{Failures: []ecstypes.Failure{{Reason: aws.String("MISSING")}}}, nil
			}
		}},
		{name: "service draining", wantErr: "TargetNotFoundError", fault: func(f *fakeECS) {
			f.Describe = func(*ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
				return &ecs.DescribeServicesOutput{Services: []ecstypes.Service{{ServiceName: aws.String("payments"), Status: aws.String("DRAINING")}}}, nil
			}
		}},
		{name: "deleted while scaling", wantErr: "TargetNotFoundError", fault: func(f *fakeECS) {
			f.Update = func(*ecs.UpdateServiceInput) (*ecs.UpdateServiceOutput, error) {
				return nil, apiErr("ServiceNotActiveException")
			}
		}},
		{name: "throttled tag", wantErr: "RetryableError", fault: func(f *fakeECS) {
			f.Tag = func(*ecs.TagResourceInput) (*ecs.TagResourceOutput, error) { return nil, apiErr("ThrottlingException") }
		}},
		{name: "negative count", with: `{"desiredCount":-1}`, wantErr: "InvalidInputError"},
		{name: "count too large", with: `{"desiredCount":10001}`, wantErr: "InvalidInputError"},
		{name: "fractional count", with: `{"desiredCount":1.5}`, wantErr: "InvalidInputError"},
		{name: "unknown parameter", with: `{"count":0}`, wantErr: "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newECS(3)
			if tt.fault != nil {
				tt.fault(f)
			}
			with := tt.with
			if with == "" {
				with = `{}`
			}
			p := payload("case-1", false, with)
			if tt.target != nil {
				tt.target(p.Target)
			}
			_, err := (&Handler{ECS: f}).Handle(context.Background(), p)
			if got := contract.ErrorName(err); got != tt.wantErr {
				t.Fatalf("error %v (%s); want %s", err, got, tt.wantErr)
			}
			if tt.wantErr != "RetryableError" && tt.name != "deleted while scaling" && svc.DesiredCount != 3 {
				t.Error("a failed run changed the desired count")
			}
		})
	}
}

// TestScaleRecordsInLedger: the scaling is in the case's ledger (what
// release-containment restores) after the tag and before the count
// changes; a dry run and a run already at the count record nothing.
func TestScaleRecordsInLedger(t *testing.T) {
	f, _ := newECS(3)
	l := &ledgertest.Appender{OnAppend: func() { f.Calls = append(f.Calls, "ledger.Append") }}
	h := &Handler{ECS: f, Ledger: l}
	if _, err := h.Handle(context.Background(), payload("case-1", true, `{}`)); err != nil || len(l.Entries) != 0 {
		t.Fatalf("dry run: %v, ledger %v", err, l.Entries)
	}
	f.Calls = nil
	if _, err := h.Handle(context.Background(), payload("case-1", false, `{}`)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Calls, ","); got != "DescribeServices,TagResource,ledger.Append,UpdateService" {
		t.Errorf("calls %s", got)
	}
	var d ledger.DesiredCountData
	if len(l.Entries) != 1 || l.Entries[0].ID != ledger.DesiredCountID(serviceArn) || l.Entries[0].Decode(&d) != nil ||
		d.Previous != 3 || d.DesiredCount != 0 || d.Service != "payments" {
		t.Errorf("ledger %+v %+v", l.Entries, d)
	}
	if _, err := h.Handle(context.Background(), payload("case-1", false, `{}`)); err != nil || len(l.Entries) != 1 {
		t.Errorf("already scaled: %v, ledger %v", err, l.Entries)
	}
}
