package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/s3fake"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

const (
	roleApp   = "arn:aws:iam::" + acct + ":role/api-task"
	roleOther = "arn:aws:iam::" + acct + ":role/other-task"
	ci1       = arnPrefix + "container-instance/prod/ci-1"
	ci2       = arnPrefix + "container-instance/prod/ci-2"
)

var (
	dBad     = digest('b')
	dClean   = digest('c')
	dSidecar = digest('e')
	dOther   = digest('f')
)

// world is an account with two clusters: prod (the target's, EC2) and
// batch (Fargate).
func world() (*fakeECS, *incident.Target) {
	app := func(d string) container { return container{"app", "api:1.4", d} }
	sidecar := container{"envoy", "envoy@" + dSidecar, ""}
	f := &fakeECS{page: 2, clusters: []string{"batch", "prod"}, roles: map[string]string{
		defArn("api", 7): roleApp, defArn("api", 8): roleApp, defArn("worker", 1): roleOther, defArn("etl", 3): ""}}
	f.tasks = map[string][]ecstypes.Task{
		"prod": {
			task("prod", "target", defArn("api", 7), ci1, app(dBad), sidecar),
			task("prod", "twin", defArn("api", 7), ci1, app(dBad), sidecar),     // every list
			task("prod", "newer", defArn("api", 8), ci2, app(dClean), sidecar),  // family, role (and the sidecar)
			task("prod", "neighbour", defArn("etl", 3), ci1, app(dOther)),       // instance
			task("prod", "unrelated", defArn("etl", 3), ci2, app(dOther)),       // nothing
			task("prod", "unpulled", defArn("worker", 1), ci2, app("")),         // unknown digest
			task("prod", "stopping", defArn("api", 7), ci2, app(dBad), sidecar), // desired STOPPED: skipped
		},
		"batch": {
			task("batch", "pinned", defArn("worker", 1), "", container{"job", "repo@" + dBad, ""}), // image by reference
			task("batch", "borrowed", defArn("etl", 3), "", app(dOther)),                           // the app's role by override
		},
	}
	f.tasks["prod"][6].DesiredStatus = aws.String("STOPPED")
	f.tasks["batch"][1].Overrides = &ecstypes.TaskOverride{TaskRoleArn: aws.String(roleApp)}
	target := &incident.Target{LaunchType: "EC2", TaskArn: taskArn("prod", "target"), ClusterArn: clusterArn("prod"),
		TaskDefinitionArn: defArn("api", 7), ContainerInstanceArn: ci1, TaskRoleArn: roleApp,
		Containers: []incident.Container{{Name: "app", Image: "api:1.4", ImageDigest: dBad}, {Name: "envoy", Image: "envoy@" + dSidecar}}}
	return f, target
}

func TestSiblingLists(t *testing.T) {
	tests := []struct {
		name string
		with string
		want map[string]string
	}{
		{"the compromised container named", `{"containers":["app"]}`, map[string]string{
			"sameImage":     "pinned,twin",
			"sameFamily":    "newer,twin",
			"sameRole":      "borrowed,newer,twin",
			"sameInstance":  "neighbour,twin",
			"unknownDigest": "unpulled",
		}},
		// Every container by default: the shared sidecar's digest puts
		// "newer" (a clean app) among the image's siblings.
		{"every container", `{}`, map[string]string{
			"sameImage":     "pinned,newer,twin",
			"sameFamily":    "newer,twin",
			"sameRole":      "borrowed,newer,twin",
			"sameInstance":  "neighbour,twin",
			"unknownDigest": "unpulled",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, target := world()
			h, s3 := newHandler(f)
			res, err := h.Handle(context.Background(), payload(target, tt.with))
			if err != nil {
				t.Fatal(err)
			}
			wantLists(t, res, tt.want)
			if res.Status != contract.StatusOK || res.Outputs["truncated"] != false || res.Outputs["complete"] != true {
				t.Errorf("status %s, outputs %v", res.Status, res.Outputs)
			}
			if c := countsOf(res); c.Described != 8 || c.Clusters != 2 || c.SameRole != 3 {
				t.Errorf("counts %+v", c)
			}
			if f.count("DescribeTaskDefinition") != 4 {
				t.Errorf("%d DescribeTaskDefinition calls; want one per definition (4): %v", f.count("DescribeTaskDefinition"), f.calls)
			}
			body := s3.Objects["cases/case-1/siblings/siblings.json"]
			sum := sha256.Sum256(body)
			if len(res.Evidence) != 1 || res.Evidence[0].SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("evidence %v", res.Evidence)
			}
			var doc siblingsDoc
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			// The target's cluster is scanned first.
			if ids(doc.Lists.SameImage) != tt.want["sameImage"] || len(doc.Tasks) != 6 || doc.Scope.Described != 8 || !doc.Scope.Complete ||
				doc.Scope.Clusters[0] != clusterArn("prod") {
				t.Errorf("evidence: %s", body)
			}
			for _, s := range doc.Tasks {
				if strings.HasSuffix(s.TaskArn, "/pinned") && s.Containers[0].Source != "reference" {
					t.Errorf("pinned task's digest source: %+v", s.Containers)
				}
			}
		})
	}
}

func TestSiblingsTwiceSameRecord(t *testing.T) {
	f, target := world()
	h, s3 := newHandler(f)
	first, err := h.Handle(context.Background(), payload(target, `{"containers":["app"]}`))
	if err != nil {
		t.Fatal(err)
	}
	body := string(s3.Objects["cases/case-1/siblings/siblings.json"])
	p := payload(target, `{"containers":["app"]}`)
	p.Incident.DryRun = true // read-only: a dry run is the same run
	second, err := h.Handle(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if string(a) != string(b) || string(s3.Objects["cases/case-1/siblings/siblings.json"]) != body {
		t.Errorf("second run differs:\n%s\n%s", a, b)
	}
}

func TestPagination(t *testing.T) {
	f := &fakeECS{page: 100, tasks: map[string][]ecstypes.Task{}, roles: map[string]string{}}
	for i := range 7 {
		f.clusters = append(f.clusters, fmt.Sprintf("c%d", i))
	}
	f.page = 3 // ListClusters in pages of 3
	for i := range 250 {
		f.tasks["c0"] = append(f.tasks["c0"], task("c0", fmt.Sprintf("t%03d", i), defArn("api", 1), "", container{"app", "api@" + dBad, ""}))
	}
	target := &incident.Target{TaskArn: taskArn("c0", "t000"), ClusterArn: clusterArn("c0"), TaskDefinitionArn: defArn("api", 1),
		Containers: []incident.Container{{Name: "app", Image: "api@" + dBad}}}
	h, _ := newHandler(f)
	res, err := h.Handle(context.Background(), payload(target, `{"maxListed":100}`))
	if err != nil {
		t.Fatal(err)
	}
	c := countsOf(res)
	if c.Described != 250 || c.Clusters != 7 || c.SameImage != 249 || c.SameFamily != 249 || res.Outputs["truncated"] != true {
		t.Errorf("counts %+v truncated %v", c, res.Outputs["truncated"])
	}
	if got := len(listsOf(res)["sameImage"]); got != 100 {
		t.Errorf("%d ARNs listed; want maxListed 100", got)
	}
	if f.count("ListClusters") != 3 {
		t.Errorf("%d ListClusters calls; want 3 pages of 3", f.count("ListClusters"))
	}
	// 250 tasks in pages of 3: 84 ListTasks calls for c0, one for each other cluster.
	if f.count("ListTasks c0") != 84 || f.count("ListTasks") != 90 {
		t.Errorf("ListTasks calls: %d for c0, %d in all", f.count("ListTasks c0"), f.count("ListTasks"))
	}
	if fmt.Sprint(f.batches) != "[100 100 50]" {
		t.Errorf("DescribeTasks batches %v; want [100 100 50]", f.batches)
	}
	if !strings.Contains(res.Summary, "lists capped in the outputs") {
		t.Errorf("summary %q", res.Summary)
	}
}

func TestScanBounds(t *testing.T) {
	tests := []struct {
		name      string
		with      string
		setup     func(*fakeECS)
		ctx       func() (context.Context, context.CancelFunc)
		described int
		stoppedBy string
		summary   string
	}{
		{name: "maxTasks", with: `{"maxTasks":5}`, described: 5, stoppedBy: stopMaxTasks, summary: "stopped at maxTasks (5)"},
		// 9 tasks listed, one of them on its way out: the budget is exactly spent.
		{name: "maxTasks exactly the world", with: `{"maxTasks":9}`, described: 8},
		{name: "the given clusters", with: `{"clusters":["batch"]}`, described: 2, setup: func(f *fakeECS) {
			f.fail = map[string]error{"ListClusters": apiErr("AccessDeniedException")}
			f.leak = []string{taskArn("prod", "twin")} // another cluster's task in the answer
		}},
		{name: "a repeated page token", with: `{"clusters":["prod"]}`, described: 1, setup: func(f *fakeECS) { f.sameToken = true }},
		{name: "the deadline", with: `{}`, described: 0, stoppedBy: stopDeadline, summary: "before the function's deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), deadlineMargin-time.Second)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, target := world()
			if tt.setup != nil {
				tt.setup(f)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			h, _ := newHandler(f)
			res, err := h.Handle(ctx, payload(target, tt.with))
			if err != nil {
				t.Fatal(err)
			}
			c := countsOf(res)
			if c.Described != tt.described || res.Outputs["stoppedBy"] != tt.stoppedBy || res.Outputs["complete"] != (tt.stoppedBy == "") ||
				!strings.Contains(res.Summary, tt.summary) {
				t.Errorf("described %d, stoppedBy %v, complete %v, summary %q", c.Described, res.Outputs["stoppedBy"], res.Outputs["complete"], res.Summary)
			}
		})
	}
}

func TestTargetDigests(t *testing.T) {
	tests := []struct {
		name      string
		target    func(*incident.Target)
		fresh     string // the digest a fresh DescribeTasks of the target reports
		sameImage string
		unknown   string
		complete  bool
		summary   string
	}{
		{name: "learned from a fresh description", target: func(tg *incident.Target) { tg.Containers[0].ImageDigest = "" },
			fresh: dBad, sameImage: "pinned,twin", unknown: "unpulled", complete: true},
		{name: "unknown: nothing ruled out", target: func(tg *incident.Target) { tg.Containers[0].ImageDigest = "" },
			sameImage: "", unknown: "borrowed,pinned,neighbour,newer,twin,unpulled,unrelated", summary: "container(s) app of the target is unknown"},
		{name: "no containers in the payload: every container", target: func(tg *incident.Target) { tg.Containers = nil },
			fresh: dBad, sameImage: "pinned,newer,twin", unknown: "unpulled", complete: true},
		{name: "no task definition in the payload", target: func(tg *incident.Target) { tg.TaskDefinitionArn = "" },
			fresh: dBad, sameImage: "pinned,twin", unknown: "unpulled", complete: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, target := world()
			tt.target(target)
			f.tasks["prod"][0].Containers[0].ImageDigest = nil
			if tt.fresh != "" {
				f.tasks["prod"][0].Containers[0].ImageDigest = aws.String(tt.fresh)
			}
			h, _ := newHandler(f)
			with := `{"containers":["app"]}`
			if target.Containers == nil {
				with = `{}`
			}
			res, err := h.Handle(context.Background(), payload(target, with))
			if err != nil {
				t.Fatal(err)
			}
			l := listsOf(res)
			if ids(l["sameImage"]) != tt.sameImage || ids(l["unknownDigest"]) != tt.unknown || res.Outputs["imageDigestsComplete"] != tt.complete ||
				!strings.Contains(res.Summary, tt.summary) {
				t.Errorf("sameImage %s, unknown %s, complete %v, summary %q", ids(l["sameImage"]), ids(l["unknownDigest"]), res.Outputs["imageDigestsComplete"], res.Summary)
			}
			if ids(l["sameFamily"]) != "newer,twin" {
				t.Errorf("sameFamily %s", ids(l["sameFamily"]))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		with    string
		target  func(*incident.Target)
		setup   func(*fakeECS, *s3fake.Bucket)
		wantErr string
	}{
		{name: "throttled ListTasks", setup: func(f *fakeECS, _ *s3fake.Bucket) {
			f.fail = map[string]error{"ListTasks": apiErr("ThrottlingException")}
		}, wantErr: "RetryableError"},
		{name: "ListClusters denied", setup: func(f *fakeECS, _ *s3fake.Bucket) {
			f.fail = map[string]error{"ListClusters": apiErr("AccessDeniedException")}
		}, wantErr: "PreconditionFailedError"},
		{name: "DescribeTasks unavailable", setup: func(f *fakeECS, _ *s3fake.Bucket) {
			f.fail = map[string]error{"DescribeTasks": apiErr("ServerException")}
		}, wantErr: "RetryableError"},
		{name: "a definition gone", setup: func(f *fakeECS, _ *s3fake.Bucket) {
			f.fail = map[string]error{"DescribeTaskDefinition": apiErr("ClientException")}
		}, wantErr: "wrapError"},
		{name: "no evidence bucket", setup: func(_ *fakeECS, s *s3fake.Bucket) { s.Err = apiErr("NoSuchBucket") }, wantErr: "wrapError"},
		{name: "S3 slow down", setup: func(_ *fakeECS, s *s3fake.Bucket) { s.Err = apiErr("SlowDown") }, wantErr: "RetryableError"},
		{name: "maxTasks 0", with: `{"maxTasks":0}`, wantErr: "InvalidInputError"},
		{name: "maxTasks too large", with: `{"maxTasks":5001}`, wantErr: "InvalidInputError"},
		{name: "maxListed too large", with: `{"maxListed":101}`, wantErr: "InvalidInputError"},
		{name: "an empty cluster", with: `{"clusters":[" "]}`, wantErr: "InvalidInputError"},
		{name: "a container the task lacks", with: `{"containers":["ap"]}`, wantErr: "InvalidInputError"},
		{name: "an unknown parameter", with: `{"maxtasks":5}`, wantErr: "InvalidInputError"},
		{name: "no target", target: func(tg *incident.Target) { tg.TaskArn = "" }, wantErr: "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, target := world()
			h, s3 := newHandler(f)
			if tt.setup != nil {
				tt.setup(f, s3)
			}
			if tt.target != nil {
				tt.target(target)
			}
			with := tt.with
			if with == "" {
				with = `{}`
			}
			_, err := h.Handle(context.Background(), payload(target, with))
			if got := contract.ErrorName(err); got != tt.wantErr {
				t.Errorf("error %v (%s); want %s", err, got, tt.wantErr)
			}
		})
	}
	if _, err := (&Handler{}).Handle(context.Background(), &contract.Payload{With: json.RawMessage(`{}`)}); contract.ErrorName(err) != "InvalidInputError" {
		t.Errorf("payload without a target: %v", err)
	}
}

func TestMaxClusters(t *testing.T) {
	f, target := world()
	f.page = 100
	for i := range maxClusters - 1 {
		f.clusters = append(f.clusters, fmt.Sprintf("empty%04d", i))
	}
	h, s3 := newHandler(f)
	res, err := h.Handle(context.Background(), payload(target, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	var doc siblingsDoc
	if err := json.Unmarshal(s3.Objects["cases/case-1/siblings/siblings.json"], &doc); err != nil {
		t.Fatal(err)
	}
	// 1,001 clusters: the target's is scanned first, and the scan stops at 1,000.
	if c := countsOf(res); c.Clusters != maxClusters || res.Outputs["stoppedBy"] != stopMaxClusters || doc.Scope.Clusters[0] != clusterArn("prod") ||
		!strings.Contains(res.Summary, "stopped at 1000 clusters") {
		t.Errorf("counts %+v, stoppedBy %v, summary %q", c, res.Outputs["stoppedBy"], res.Summary)
	}
}

func TestRefreshThrottled(t *testing.T) {
	f, target := world()
	target.Containers[0].ImageDigest = ""
	f.fail = map[string]error{"DescribeTasks": apiErr("ThrottlingException")}
	h, _ := newHandler(f)
	if _, err := h.Handle(context.Background(), payload(target, `{}`)); contract.ErrorName(err) != "RetryableError" || f.count("ListClusters") != 0 {
		t.Errorf("throttled refresh: %v, calls %v", err, f.calls)
	}
}

// TestExcludedTaskTags: a task carrying a tag of the playbook's exclude:
// (with.excludeTaskTags, by exact value or "*" any value) is in no list a
// forEach could iterate, only in excluded, however many lists it would be
// in; a task of the same key but another value, and a tagged task that
// shares nothing, are not excluded.
func TestExcludedTaskTags(t *testing.T) {
	tag := func(k, v string) ecstypes.Tag { return ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	tests := []struct {
		name, with string
		want       map[string]string
		counts     int
		summary    string
	}{
		{"exact value", `{"containers":["app"],"excludeTaskTags":{"irflow":"ignore"}}`, map[string]string{
			"sameImage":     "pinned",
			"sameFamily":    "newer",
			"sameRole":      "borrowed,newer",
			"sameInstance":  "neighbour",
			"unknownDigest": "unpulled",
			"excluded":      "twin",
		}, 1, "; 1 task(s) left alone: tag irflow=ignore (exclude:)"},
		{"any value and exact", `{"containers":["app"],"excludeTaskTags":{"irflow":"ignore","canary":"*"}}`, map[string]string{
			"sameImage":     "",
			"sameFamily":    "newer",
			"sameRole":      "borrowed,newer",
			"sameInstance":  "neighbour",
			"unknownDigest": "unpulled",
			"excluded":      "pinned,twin",
		}, 2, "; 2 task(s) left alone: tag canary=* (1), tag irflow=ignore (1) (exclude:)"},
		{"none", `{"containers":["app"]}`, map[string]string{
			"sameImage": "pinned,twin",
			"excluded":  "",
		}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, target := world()
			byID := map[string]*ecstypes.Task{}
			for c := range f.tasks {
				for i := range f.tasks[c] {
					byID[ids([]string{aws.ToString(f.tasks[c][i].TaskArn)})] = &f.tasks[c][i]
				}
			}
			byID["twin"].Tags = []ecstypes.Tag{tag("team", "payments"), tag("irflow", "ignore")}
			byID["pinned"].Tags = []ecstypes.Tag{tag("canary", "blue")}
			byID["newer"].Tags = []ecstypes.Tag{tag("irflow", "respond")}    // another value
			byID["unrelated"].Tags = []ecstypes.Tag{tag("irflow", "ignore")} // shares nothing: no sibling
			h, s3 := newHandler(f)
			res, err := h.Handle(context.Background(), payload(target, tt.with))
			if err != nil {
				t.Fatal(err)
			}
			wantLists(t, res, tt.want)
			if c := countsOf(res); c.Excluded != tt.counts {
				t.Errorf("counts.excluded %d; want %d", c.Excluded, tt.counts)
			}
			if tt.summary == "" && strings.Contains(res.Summary, "left alone") || !strings.Contains(res.Summary, tt.summary) {
				t.Errorf("summary %q; want it to contain %q", res.Summary, tt.summary)
			}
			var doc siblingsDoc
			if err := json.Unmarshal(s3.Objects["cases/case-1/siblings/siblings.json"], &doc); err != nil {
				t.Fatal(err)
			}
			if ids(doc.Lists.Excluded) != tt.want["excluded"] {
				t.Errorf("evidence excluded %s; want %s", ids(doc.Lists.Excluded), tt.want["excluded"])
			}
			for _, s := range doc.Tasks {
				if want := strings.Contains(","+tt.want["excluded"]+",", ","+ids([]string{s.TaskArn})+","); want != (s.ExcludedBy != "") || want && len(s.Shares) == 0 {
					t.Errorf("evidence task %s: excludedBy %q, shares %v", s.TaskArn, s.ExcludedBy, s.Shares)
				}
			}
		})
	}
}
