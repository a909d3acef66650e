package handler

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsservice"
	"github.com/irflow/irflow/tasks/incident"
)

func TestRollbackTwiceKeepsTheRecord(t *testing.T) {
	f, target := world()
	h := &Handler{ECS: f}
	res, err := h.Handle(context.Background(), payload(target, "case-1", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.svc.TaskDefinition) != rev("api", 1) || f.svc.DesiredCount != 3 {
		t.Fatalf("service after the rollback: %s, desired %d", aws.ToString(f.svc.TaskDefinition), f.svc.DesiredCount)
	}
	if tagOf(f.svc, tagPreviousTaskDefinition) != rev("api", 4) || tagOf(f.svc, tagPinnedTaskDefinition) != rev("api", 1) || tagOf(f.svc, tagPinnedByCase) != "case-1" {
		t.Errorf("tags %v", f.svc.Tags)
	}
	want := "DescribeServices,ListTasks,DescribeTasks,ListTaskDefinitions,DescribeTaskDefinition api:3,DescribeTaskDefinition api:2,DescribeTaskDefinition api:1,TagResource,UpdateService"
	if got := strings.Join(f.calls, ","); got != want {
		t.Errorf("calls %s\nwant  %s (newest earlier revision first; the record before the change)", got, want)
	}
	if res.Status != contract.StatusOK || res.Outputs["mode"] != modeRollback || res.Outputs["previousTaskDefinition"] != rev("api", 4) ||
		res.Outputs["taskDefinition"] != rev("api", 1) || res.Outputs["recorded"] != true || res.Outputs["changed"] != true ||
		!strings.HasPrefix(res.Summary, "rolled service payments back from "+rev("api", 4)+" to "+rev("api", 1)) {
		t.Errorf("first run: %s %q %v", res.Status, res.Summary, res.Outputs)
	}
	var checked []string
	for _, v := range res.Outputs["revisionsChecked"].([]verdict) {
		checked = append(checked, fmt.Sprintf("%s %v: %s", v.TaskDefinition[len(arnPrefix+"task-definition/"):], v.Safe, v.Reason))
	}
	if want := []string{"api:3 false: container(s) app pinned to the compromised digest", "api:2 false: image(s) by tag, digest not provable: app (" + repo + ":1.3)",
		"api:1 true: every image pinned to a digest other than the compromised"}; strings.Join(checked, "\n") != strings.Join(want, "\n") {
		t.Errorf("revisionsChecked:\n%s\nwant\n%s", strings.Join(checked, "\n"), strings.Join(want, "\n"))
	}
	if fmt.Sprint(out(res, "undo")) != "map[taskDefinition:"+rev("api", 4)+"]" {
		t.Errorf("undo %v", out(res, "undo"))
	}
	// At pin time: the replacement of the compromised digest, the task not
	// yet pulled, not the other service's task nor the target.
	if fmt.Sprint(out(res, "replacementsFromCompromisedDigest")) != "["+taskArn("replacement")+"]" ||
		fmt.Sprint(out(res, "replacementsUnknownDigest")) != "["+taskArn("pulling")+"]" ||
		fmt.Sprint(out(res, "replacementCounts")) != "map[complete:true fromCompromisedDigest:1 serviceTasks:3 unknownDigest:1]" {
		t.Errorf("replacements %v %v %v", out(res, "replacementsFromCompromisedDigest"), out(res, "replacementsUnknownDigest"), out(res, "replacementCounts"))
	}
	if deps := fmt.Sprint(out(res, "deployments")); !strings.Contains(deps, "id:ecs-svc/1") || !strings.Contains(deps, "runningCount:3") {
		t.Errorf("deployments %s", deps)
	}

	f.calls = nil
	second, err := h.Handle(context.Background(), payload(target, "case-1", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := f.mutations(); len(m) != 0 {
		t.Errorf("second run changed %v", m)
	}
	if second.Status != contract.StatusOK || second.Outputs["previousTaskDefinition"] != rev("api", 4) || second.Outputs["taskDefinition"] != rev("api", 1) ||
		second.Outputs["recorded"] != true || second.Outputs["changed"] != false || !strings.HasPrefix(second.Summary, "already pinned") {
		t.Errorf("second run: %q %v", second.Summary, second.Outputs)
	}

	// Someone deploys the compromised revision again: the same case rolls
	// back again and still reports the revision from before the incident.
	f.svc.TaskDefinition = aws.String(rev("api", 4))
	f.calls = nil
	third, err := h.Handle(context.Background(), payload(target, "case-1", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := strings.Join(f.mutations(), ","); m != "UpdateService" || third.Outputs["previousTaskDefinition"] != rev("api", 4) {
		t.Errorf("after a redeploy: mutations %s, outputs %v", m, third.Outputs)
	}
}

func TestPinCases(t *testing.T) {
	tests := []struct {
		name        string
		with        string
		dry         bool
		setup       func(*fakeECS, *incident.Target)
		wantStatus  string
		wantSummary string
		wantMode    string
		wantDef     string
		wantCount   int32
		wantCalls   string // mutations
		wantWarning string
	}{
		{name: "tag-only revision allowed", with: `{"allowTagOnly":true}`, wantStatus: "OK", wantMode: modeRollback, wantDef: rev("api", 2), wantCount: 3,
			wantCalls: "TagResource,UpdateService", wantWarning: "digest it runs is not proven"},
		{name: "dry run", dry: true, with: `{}`, wantStatus: "DRY_RUN", wantSummary: "would roll service payments back from " + rev("api", 4) + " to " + rev("api", 1),
			wantMode: modeRollback, wantDef: rev("api", 1), wantCount: 3},
		{name: "scale to zero", with: `{"mode":"scale-to-zero"}`, wantStatus: "OK", wantSummary: "scaled service payments from desired count 3 to 0",
			wantMode: modeScaleToZero, wantDef: rev("api", 4), wantCount: 0, wantCalls: "TagResource,UpdateService"},
		{name: "scale to zero, dry run", with: `{"mode":"scale-to-zero"}`, dry: true, wantStatus: "DRY_RUN", wantSummary: "would scale service payments",
			wantMode: modeScaleToZero, wantDef: rev("api", 4), wantCount: 0},
		{name: "no safe revision: fall back", with: `{"fallback":"scale-to-zero"}`, setup: noSafeRevision, wantStatus: "OK",
			wantSummary: "no safe revision to roll back to, so scaled service payments from desired count 3 to 0",
			wantMode:    modeScaleToZero, wantDef: rev("api", 4), wantCount: 0, wantCalls: "TagResource,UpdateService"},
		{name: "a fix already deployed", with: `{}`, setup: func(f *fakeECS, _ *incident.Target) { f.svc.TaskDefinition = aws.String(rev("api", 5)) },
			wantStatus: "OK", wantSummary: "already pinned: service payments runs " + rev("api", 5) + ", free of the compromised digest (no earlier task definition recorded",
			wantMode: modeRollback, wantDef: rev("api", 5), wantCount: 3},
		{name: "a fix already deployed, dry run", with: `{}`, dry: true, setup: func(f *fakeECS, _ *incident.Target) { f.svc.TaskDefinition = aws.String(rev("api", 5)) },
			wantStatus: "DRY_RUN", wantSummary: "would do nothing: already pinned", wantMode: modeRollback, wantDef: rev("api", 5), wantCount: 3},
		{name: "sidecars named apart", with: `{"containers":["app"]}`, setup: withSidecar, wantStatus: "OK", wantMode: modeRollback, wantDef: rev("api", 1), wantCount: 3,
			wantCalls: "TagResource,UpdateService"},
		{name: "circuit breaker rollback on", with: `{}`, setup: func(f *fakeECS, _ *incident.Target) {
			f.svc.DeploymentConfiguration = &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}}
		}, wantStatus: "OK", wantMode: modeRollback, wantDef: rev("api", 1), wantCount: 3, wantCalls: "TagResource,UpdateService",
			wantWarning: "returns the service to its last completed deployment"},
		{name: "tag denied still rolls back", with: `{}`, setup: func(f *fakeECS, _ *incident.Target) {
			f.fail = map[string]error{"TagResource": apiErr("AccessDeniedException")}
		}, wantStatus: "OK", wantSummary: "not recorded on the service: it is in this result only", wantMode: modeRollback, wantDef: rev("api", 1), wantCount: 3,
			wantCalls: "TagResource,UpdateService"},
		{name: "another case's record is replaced", with: `{}`, setup: func(f *fakeECS, _ *incident.Target) {
			f.svc.Tags = []ecstypes.Tag{tag(tagPreviousTaskDefinition, rev("api", 9)), tag(tagPinnedByCase, "case-0")}
		}, wantStatus: "OK", wantSummary: "previous " + rev("api", 4), wantMode: modeRollback, wantDef: rev("api", 1), wantCount: 3,
			wantCalls: "TagResource,UpdateService"},
		{name: "unknown digest: scale to zero still works", with: `{"mode":"scale-to-zero"}`, setup: unknownDigest, wantStatus: "OK",
			wantMode: modeScaleToZero, wantDef: rev("api", 4), wantCount: 0, wantCalls: "TagResource,UpdateService", wantWarning: "cannot be told apart"},
		{name: "revisions in pages, unsorted", with: `{}`, setup: func(f *fakeECS, _ *incident.Target) {
			f.page = 2
			for n := 6; n <= 11; n++ {
				f.def(n, "app="+repo+"@"+dClean) // newer than the target: not candidates
			}
		}, wantStatus: "OK", wantMode: modeRollback, wantDef: rev("api", 1), wantCount: 3, wantCalls: "TagResource,UpdateService"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, target := world()
			if tt.setup != nil {
				tt.setup(f, target)
			}
			before := aws.ToString(f.svc.TaskDefinition)
			res, err := (&Handler{ECS: f}).Handle(context.Background(), payload(target, "case-1", tt.dry, tt.with))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.wantStatus || !strings.Contains(res.Summary, tt.wantSummary) || res.Outputs["mode"] != tt.wantMode ||
				res.Outputs["taskDefinition"] != tt.wantDef || res.Outputs["desiredCount"] != tt.wantCount {
				t.Errorf("got %s %q %v", res.Status, res.Summary, res.Outputs)
			}
			if got := strings.Join(f.mutations(), ","); got != tt.wantCalls {
				t.Errorf("mutations %q; want %q", got, tt.wantCalls)
			}
			if !strings.Contains(fmt.Sprint(res.Outputs["warnings"]), tt.wantWarning) {
				t.Errorf("warnings %v lack %q", res.Outputs["warnings"], tt.wantWarning)
			}
			if tt.dry && (aws.ToString(f.svc.TaskDefinition) != before || f.svc.DesiredCount != 3 || len(f.svc.Tags) != 0) {
				t.Errorf("a dry run changed the service: %+v", f.svc)
			}
		})
	}
}

// noSafeRevision makes every earlier revision unsafe: revision 1 pins the
// compromised digest too.
func noSafeRevision(f *fakeECS, _ *incident.Target) { f.def(1, "app="+repo+"@"+dBad) }

// withSidecar gives every revision the same envoy sidecar, pinned.
func withSidecar(f *fakeECS, target *incident.Target) {
	for _, d := range f.defs {
		d.ContainerDefinitions = append(d.ContainerDefinitions, ecstypes.ContainerDefinition{Name: aws.String("envoy"), Image: aws.String("envoy@" + dSide)})
	}
	target.Containers = append(target.Containers, incident.Container{Name: "envoy", Image: "envoy@" + dSide})
}

// unknownDigest: the target's image is a tag and no digest is reported.
func unknownDigest(f *fakeECS, target *incident.Target) {
	target.Containers = []incident.Container{{Name: "app", Image: repo + ":1.4"}}
	f.tasks[0].Containers[0].ImageDigest = nil
}

func TestPinRefusals(t *testing.T) {
	tests := []struct {
		name    string
		with    string
		setup   func(*fakeECS, *incident.Target)
		wantErr string
		reason  string
	}{
		{name: "standalone task", setup: func(_ *fakeECS, tg *incident.Target) { tg.Service, tg.Group = "", "family:api" },
			wantErr: "PreconditionFailedError", reason: "standalone task: it has no service to pin; stop-task is the containment"},
		{name: "no safe revision", setup: noSafeRevision, wantErr: "PreconditionFailedError",
			reason: "none of the 3 newest earlier revision(s) of family api is free of the compromised digest (api:3: container(s) app pinned to the compromised digest; api:2: image(s) by tag"},
		{name: "sidecars shared by every revision", setup: withSidecar, wantErr: "PreconditionFailedError", reason: "api:1: container(s) envoy pinned to the compromised digest"},
		{name: "no earlier revision", setup: func(f *fakeECS, _ *incident.Target) {
			for _, n := range []int{1, 2, 3} {
				f.defs[rev("api", n)].Status = ecstypes.TaskDefinitionStatusInactive
			}
		}, wantErr: "PreconditionFailedError", reason: "family api has no ACTIVE revision older than 4"},
		{name: "beyond maxRevisions", with: `{"maxRevisions":2}`, wantErr: "PreconditionFailedError", reason: "1 older revision(s) not examined (with.maxRevisions 2)"},
		{name: "CODE_DEPLOY", setup: func(f *fakeECS, _ *incident.Target) {
			f.svc.DeploymentController = &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeCodeDeploy}
		}, wantErr: "PreconditionFailedError", reason: "uses the CODE_DEPLOY deployment controller"},
		{name: "compromised digest unknown", setup: unknownDigest, wantErr: "PreconditionFailedError", reason: "the compromised image digest is unknown (container(s) app)"},
		{name: "service draining", setup: func(f *fakeECS, _ *incident.Target) { f.svc.Status = aws.String("DRAINING") }, wantErr: "TargetNotFoundError"},
		{name: "deleted while pinning", setup: func(f *fakeECS, _ *incident.Target) {
			f.fail = map[string]error{"UpdateService": apiErr("ServiceNotActiveException")}
		}, wantErr: "TargetNotFoundError"},
		{name: "revision refused by ECS", setup: func(f *fakeECS, _ *incident.Target) {
			f.fail = map[string]error{"UpdateService": apiErr("InvalidParameterException")}
		}, wantErr: "wrapError"},
		{name: "throttled revisions", setup: func(f *fakeECS, _ *incident.Target) {
			f.fail = map[string]error{"ListTaskDefinitions": apiErr("ThrottlingException")}
		}, wantErr: "RetryableError"},
		{name: "throttled service tasks", setup: func(f *fakeECS, _ *incident.Target) {
			f.fail = map[string]error{"ListTasks": apiErr("ThrottlingException")}
		}, wantErr: "RetryableError"},
		{name: "throttled record", setup: func(f *fakeECS, _ *incident.Target) {
			f.fail = map[string]error{"TagResource": apiErr("ThrottlingException")}
		}, wantErr: "RetryableError"},
		{name: "a revision gone", setup: func(f *fakeECS, _ *incident.Target) {
			f.fail = map[string]error{"DescribeTaskDefinition": apiErr("ClientException")}
		}, wantErr: "wrapError"},
		{name: "unknown mode", with: `{"mode":"freeze"}`, wantErr: "InvalidInputError", reason: "with.mode"},
		{name: "unknown fallback", with: `{"fallback":"stop"}`, wantErr: "InvalidInputError", reason: "with.fallback"},
		{name: "maxRevisions 0", with: `{"maxRevisions":0}`, wantErr: "InvalidInputError"},
		{name: "maxRevisions 101", with: `{"maxRevisions":101}`, wantErr: "InvalidInputError"},
		{name: "unknown parameter", with: `{"allowTagonly":true}`, wantErr: "InvalidInputError"},
		{name: "a container the task lacks", with: `{"containers":["web"]}`, wantErr: "InvalidInputError", reason: "the task has no container \"web\" (it has: app)"},
		{name: "no target", setup: func(_ *fakeECS, tg *incident.Target) { tg.TaskArn = "" }, wantErr: "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, target := world()
			if tt.setup != nil {
				tt.setup(f, target)
			}
			with := tt.with
			if with == "" {
				with = `{}`
			}
			_, err := (&Handler{ECS: f}).Handle(context.Background(), payload(target, "case-1", false, with))
			if got := contract.ErrorName(err); got != tt.wantErr || !strings.Contains(fmt.Sprint(err), tt.reason) {
				t.Fatalf("error %v (%s); want %s with %q", err, got, tt.wantErr, tt.reason)
			}
			if tt.wantErr == "PreconditionFailedError" && len(f.mutations()) != 0 {
				t.Errorf("a refused pin changed %v", f.mutations())
			}
		})
	}
}

// TestTargetRefresh: the payload's target lacks the digest (resolve-target
// ran before the pull) and the task definition; a fresh description has them.
func TestTargetRefresh(t *testing.T) {
	f, target := world()
	target.Containers = []incident.Container{{Name: "app", Image: repo + ":1.4"}}
	target.TaskDefinitionArn = ""
	res, err := (&Handler{ECS: f}).Handle(context.Background(), payload(target, "case-1", false, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["taskDefinition"] != rev("api", 1) || fmt.Sprint(res.Outputs["compromisedDigests"]) != "["+dBad+"]" {
		t.Errorf("outputs %v", res.Outputs)
	}
}

// TestScaleSharesScaleServiceRecord: pin-service's scale-to-zero leaves the
// record scale-service reads, and reports the one scale-service left.
func TestScaleSharesScaleServiceRecord(t *testing.T) {
	f, target := world()
	f.svc.DesiredCount = 0
	f.svc.Tags = []ecstypes.Tag{tag(ecsservice.TagPreviousCount, "5"), tag(ecsservice.TagScaledByCase, "case-1")}
	res, err := (&Handler{ECS: f}).Handle(context.Background(), payload(target, "case-1", false, `{"mode":"scale-to-zero"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.mutations()) != 0 || res.Outputs["previousDesiredCount"] != int32(5) || fmt.Sprint(out(res, "undo")) != "map[desiredCount:5]" ||
		!strings.HasPrefix(res.Summary, "already scaled") {
		t.Errorf("%q %v", res.Summary, res.Outputs)
	}
}

// TestManyReplacements: a service of 1,200 running tasks, listed in pages
// of 100, of which the first 1,000 are looked at; the outputs list 50.
func TestManyReplacements(t *testing.T) {
	f, target := world()
	f.taskPage = 100
	for i := range 1200 {
		f.tasks = append(f.tasks, serviceTask(fmt.Sprintf("r%04d", i), "service:payments", dBad))
	}
	res, err := (&Handler{ECS: f}).Handle(context.Background(), payload(target, "case-1", true, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(strings.Join(f.calls, ","), "ListTasks")
	counts := fmt.Sprint(out(res, "replacementCounts"))
	if n != 10 || counts != "map[complete:false fromCompromisedDigest:996 serviceTasks:998 unknownDigest:1]" ||
		len(res.Outputs["replacementsFromCompromisedDigest"].([]string)) != maxListed ||
		!strings.Contains(fmt.Sprint(res.Outputs["warnings"]), "more than 1000 tasks") {
		t.Errorf("%d ListTasks calls, counts %s, warnings %v", n, counts, res.Outputs["warnings"])
	}
}
