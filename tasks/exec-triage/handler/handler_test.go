package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/s3fake"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/triage"
	"github.com/irflow/irflow/tasks/ecsexec/triage/triagetest"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestTriageStoresEveryArtifactWithItsHash(t *testing.T) {
	root := fakeRoot(t, triagetest.Debian)
	f := ecsFor(runningTask(), opened)
	h, s3c := newHandler(f, collectorRunner(t, f, root, nil))
	res, err := h.Handle(context.Background(), payload(t, "", false, minerFinding("api")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != contract.StatusOK || !strings.Contains(res.Summary, "triaged container api through ECS Exec (/bin/sh)") ||
		!strings.Contains(res.Summary, "pid 47") {
		t.Errorf("result %s %q", res.Status, res.Summary)
	}
	if len(res.Evidence) < 7 {
		t.Fatalf("%d evidence entries; want stream, processes, connections, open files, executables, the binary and the report", len(res.Evidence))
	}
	for _, ev := range res.Evidence {
		key := strings.TrimPrefix(ev.URI, "s3://evidence/")
		body := s3c.Objects[key]
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != ev.SHA256 || int64(len(body)) != ev.Bytes {
			t.Errorf("%s: stored bytes do not match the evidence entry", ev.URI)
		}
		if !strings.HasPrefix(key, "cases/case-1/triage/20261120T140230Z-") || len(key) > 200 {
			t.Errorf("key %s", key)
		}
	}
	if bin := "bin-" + triagetest.MinerSHA256; !slices.ContainsFunc(res.Evidence, func(e contract.Evidence) bool { return strings.HasSuffix(e.URI, bin) }) {
		t.Errorf("the deleted miner binary is not in the evidence")
	}
	cs := outputs[[]containerResult](t, res, "containers")
	if len(cs) != 1 || !cs[0].Complete || cs[0].Report == "" || !slices.Equal(cs[0].TargetPIDs, []int{triagetest.MinerPID}) || cs[0].Binaries != 1 {
		t.Errorf("containers %+v", cs)
	}
	if res.Outputs["chosenBy"] != "named by the GuardDuty finding" || res.Outputs["complete"] != true {
		t.Errorf("outputs %v", res.Outputs)
	}
	// The finding's host pid (4242) is never passed: only namespacePid.
	if w := strings.Fields(aws.ToString(f.execs[0].Command)); !slices.Contains(w, "'47'") || slices.Contains(w, "'4242'") {
		t.Errorf("command words %v; want the namespace pid only", w[len(w)-3:])
	}
}

func TestContainersToTriage(t *testing.T) {
	tests := []struct {
		name    string
		task    world
		with    string
		finding []string
		want    []string
		chosen  string
		err     string
	}{
		{name: "named by the step", task: runningTask(container{"api", true, "RUNNING"}, container{"proxy", true, "RUNNING"}),
			with: `{"container":"proxy"}`, finding: []string{"api"}, want: []string{"proxy"}, chosen: "named by the step"},
		{name: "the finding's", task: runningTask(container{"api", true, "RUNNING"}, container{"proxy", true, "RUNNING"}),
			finding: []string{"gone", "api"}, want: []string{"api"}, chosen: "named by the GuardDuty finding"},
		{name: "essential ones", task: runningTask(container{"api", true, "RUNNING"}, container{"log-router", false, "RUNNING"}, container{"worker", true, "RUNNING"}),
			finding: []string{"not-in-the-task"}, want: []string{"api", "worker"}, chosen: "the essential containers of the task definition"},
		{name: "unknown container", task: runningTask(), with: `{"container":"db"}`, err: "InvalidInputError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ecsFor(tt.task, opened)
			h, _ := newHandler(f, nil)
			res, err := h.Handle(context.Background(), payload(t, tt.with, true, minerFinding(tt.finding...)))
			if tt.err != "" {
				if contract.ErrorName(err) != tt.err {
					t.Fatalf("got %v; want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := outputs[[]string](t, res, "wouldTriage"); !slices.Equal(got, tt.want) {
				t.Errorf("containers %v; want %v", got, tt.want)
			}
			if !strings.Contains(res.Summary, tt.chosen) {
				t.Errorf("summary %q does not say why: %s", res.Summary, tt.chosen)
			}
		})
	}
}

// TestWhenItCannotRun: every way ECS Exec can be unavailable ends SKIPPED
// with the reason and what was not collected, never failed, and stores
// nothing.
func TestWhenItCannotRun(t *testing.T) {
	notEnabled := "The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running."
	tests := []struct {
		name    string
		task    world
		exec    func(*ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, error)
		run     SessionRunner
		reason  string
		execs   int
		noShell bool
	}{
		{name: "task gone", task: world{gone: true}, reason: "ECS no longer knows task"},
		{name: "task stopped", task: world{status: "STOPPED", exec: true, containers: runningTask().containers}, reason: "the task is STOPPED"},
		{name: "agent pending", task: runningTask(container{"api", true, "PENDING"}), reason: "ExecuteCommandAgent in container api is PENDING"},
		{name: "not enabled: not asked", task: world{status: "RUNNING", containers: []container{{"api", true, ""}}},
			exec: refusedWith("InvalidParameterException", notEnabled), reason: "not started with enableExecuteCommand", execs: 0},
		{name: "enabled, yet ECS refuses: its own word", task: runningTask(),
			exec: refusedWith("InvalidParameterException", notEnabled), reason: "InvalidParameterException): " + notEnabled, execs: 1},
		{name: "agent not connected", task: runningTask(), exec: refusedWith("TargetNotConnectedException", "The execute command failed due to an internal error. Try again later."),
			reason: "ssmmessages:CreateControlChannel", execs: 1},
		{name: "access denied", task: runningTask(), exec: refusedWith("AccessDeniedException", "User is not authorized to perform: ecs:ExecuteCommand"),
			reason: "not authorized", execs: 1},
		{name: "KMS-encrypted sessions", task: runningTask(), exec: opened,
			run: failingRunner("", &ecsexec.HandshakeError{Reason: "the agent requires KMS encryption", Encryption: true}), reason: "KMS key", execs: 1},
		{name: "ssmmessages refuses the data channel", task: runningTask(), exec: opened,
			run: failingRunner("", &ecsexec.DialError{Status: http.StatusForbidden, Err: errors.New("403 Forbidden")}), reason: "HTTP 403", execs: 1},
		{name: "no shell in the image", task: runningTask(), exec: opened, noShell: true, reason: "no shell in the image", execs: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ecsFor(tt.task, tt.exec)
			run := tt.run
			if tt.noShell {
				run = collectorRunner(t, f, fakeRoot(t, triagetest.NoShell), nil)
			}
			h, s3c := newHandler(f, run)
			res, err := h.Handle(context.Background(), payload(t, "", false, minerFinding("api")))
			if err != nil {
				t.Fatalf("error %v (%s); want SKIPPED", err, contract.ErrorName(err))
			}
			if res.Status != contract.StatusSkipped || !strings.Contains(res.Summary, tt.reason) {
				t.Errorf("result %s %q; want SKIPPED saying %q", res.Status, res.Summary, tt.reason)
			}
			if len(f.execs) != tt.execs {
				t.Errorf("%d ExecuteCommand calls; want %d", len(f.execs), tt.execs)
			}
			if tt.noShell && (shellOf(f.execs[0]) != "/bin/sh" || shellOf(f.execs[1]) != "/busybox/sh") {
				t.Errorf("shells tried %s, %s; want /bin/sh then /busybox/sh", shellOf(f.execs[0]), shellOf(f.execs[1]))
			}
			if len(s3c.Objects) != 0 || len(res.Evidence) != 0 {
				t.Errorf("stored %s for a skipped triage", keysOf(s3c))
			}
			if tt.exec != nil || tt.task.status == "RUNNING" {
				not := outputs[[]notCollected](t, res, "notCollected")
				if len(not) != 1 || not[0].Container != "api" || len(not[0].What) == 0 || !strings.Contains(not[0].Reason, tt.reason) {
					t.Errorf("notCollected %+v", not)
				}
			}
		})
	}
}

func TestShellFallback(t *testing.T) {
	root := fakeRoot(t, triagetest.Busybox)
	f := ecsFor(runningTask(), opened)
	h, _ := newHandler(f, collectorRunner(t, f, root, nil))
	res, err := h.Handle(context.Background(), payload(t, "", false, minerFinding("api")))
	if err != nil {
		t.Fatal(err)
	}
	cs := outputs[[]containerResult](t, res, "containers")
	if res.Status != contract.StatusOK || len(cs) != 1 || cs[0].Shell != "/busybox/sh" || len(f.execs) != 2 {
		t.Errorf("result %s %q after %d sessions; want OK with /busybox/sh after /bin/sh did not start", res.Status, res.Summary, len(f.execs))
	}
}

// TestSessionErrors: a session irflow cannot trust fails the step with a
// named error and stores nothing; a dropped connection is retryable.
func TestSessionErrors(t *testing.T) {
	tests := []struct {
		err       error
		name      string
		retryable bool
	}{
		{&ecsexec.ProtocolError{Reason: "bad digest", Digest: true}, "ExecSessionError", false},
		{&ecsexec.SequenceError{Expected: 3, Got: 900, Reason: "too far ahead"}, "ExecSessionError", false},
		{&ecsexec.FrameTooLargeError{Limit: 65536}, "ExecSessionError", false},
		{&ecsexec.IdleTimeoutError{Phase: "stream"}, "ExecSessionError", false},
		{&ecsexec.AckTimeoutError{Sequence: 0}, "ExecSessionError", false},
		{&ecsexec.HandshakeError{Reason: "stalled"}, "ExecSessionError", false},
		{&ecsexec.ConnectionLostError{Phase: "stream", Err: errors.New("EOF")}, "RetryableError", true},
		{&ecsexec.DialError{Err: errors.New("connection refused")}, "RetryableError", true},
	}
	for _, tt := range tests {
		t.Run(contract.ErrorName(tt.err), func(t *testing.T) {
			f := ecsFor(runningTask(), opened)
			h, s3c := newHandler(f, failingRunner("@H partial\r\n", tt.err))
			_, err := h.Handle(context.Background(), payload(t, "", false, minerFinding("api")))
			if got := contract.ErrorName(contract.Named(err)); got != tt.name {
				t.Fatalf("error %v named %s; want %s", err, got, tt.name)
			}
			var se *contract.ExecSessionError
			if !errors.As(err, &se) || se.Container != "api" || se.Kind != contract.ErrorName(tt.err) {
				t.Errorf("error %v; want an ExecSessionError of container api, kind %s", err, contract.ErrorName(tt.err))
			}
			if len(s3c.Objects) != 0 {
				t.Errorf("stored %s from an untrusted session", keysOf(s3c))
			}
		})
	}
}

// TestBudgetCutsAreKept: irflow's own output limit cuts the run; what
// arrived is stored, marked incomplete, and the step is OK. (The step's
// schema allows 1 MiB at least; the handler takes what it is given.)
func TestBudgetCutsAreKept(t *testing.T) {
	root := fakeRoot(t, triagetest.Debian)
	f := ecsFor(runningTask(), opened)
	h, s3c := newHandler(f, collectorRunner(t, f, root, nil))
	res, err := h.Handle(context.Background(), payload(t, `{"limits":{"maxOutputBytes":20000}}`, false, minerFinding("api")))
	if err != nil {
		t.Fatal(err)
	}
	cs := outputs[[]containerResult](t, res, "containers")
	if res.Status != contract.StatusOK || len(cs) != 1 || cs[0].Complete || !strings.Contains(cs[0].Truncated, "output limit of 20000") ||
		!strings.Contains(res.Summary, "INCOMPLETE") || res.Outputs["complete"] != false {
		t.Errorf("result %s %q %+v; want OK, incomplete, saying why", res.Status, res.Summary, cs)
	}
	if len(res.Evidence) < 2 || len(s3c.Objects) != len(res.Evidence) {
		t.Errorf("%d artifacts of the cut run recorded, %s stored", len(res.Evidence), keysOf(s3c))
	}
}

func TestDryRunStartsNothing(t *testing.T) {
	tests := []struct {
		name   string
		task   world
		status string
		says   string
	}{
		{"exec enabled", runningTask(), contract.StatusDryRun, "would run irflow's read-only collector through ECS Exec in container api"},
		{"exec not enabled", world{status: "RUNNING", containers: []container{{"api", true, ""}}}, contract.StatusSkipped, "not started with enableExecuteCommand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ecsFor(tt.task, func(*ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, error) {
				t.Fatal("ExecuteCommand in a dry run")
				return nil, nil
			})
			h, s3c := newHandler(f, nil)
			res, err := h.Handle(context.Background(), payload(t, "", true, minerFinding("api")))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status || !strings.Contains(res.Summary, tt.says) || len(s3c.Objects) != 0 {
				t.Errorf("result %s %q; want %s saying %q", res.Status, res.Summary, tt.status, tt.says)
			}
		})
	}
}

func TestSecondTriageKeepsTheFirst(t *testing.T) {
	root := fakeRoot(t, triagetest.Debian)
	f := ecsFor(runningTask(), opened)
	h, s3c := newHandler(f, collectorRunner(t, f, root, nil))
	var first, second *contract.Result
	for _, res := range []**contract.Result{&first, &second} {
		var err error
		if *res, err = h.Handle(context.Background(), payload(t, "", false, minerFinding("api"))); err != nil {
			t.Fatal(err)
		}
	}
	if first.Outputs["runId"] == second.Outputs["runId"] || len(s3c.Objects) != len(first.Evidence)+len(second.Evidence) {
		t.Errorf("runs %v and %v stored %d objects for %d+%d entries: a second triage must not overwrite the first",
			first.Outputs["runId"], second.Outputs["runId"], len(s3c.Objects), len(first.Evidence), len(second.Evidence))
	}
}

func TestFindingTarget(t *testing.T) {
	tests := []struct {
		name    string
		process *incident.Process
		want    triage.Target
		ignored []string
	}{
		{"namespace pid, path and hash", minerFinding().Process, triage.Target{PID: 47, ExecutablePath: triagetest.MinerPath, SHA256: strings.Repeat("3d", 32)}, nil},
		{"no namespace pid: the host pid is not used", func() *incident.Process { p := *minerFinding().Process; p.NamespacePid = 0; return &p }(),
			triage.Target{ExecutablePath: triagetest.MinerPath, SHA256: strings.Repeat("3d", 32)}, nil},
		{"hostile path and a bad hash", func() *incident.Process {
			p := *minerFinding().Process
			p.ExecutablePath, p.ExecutableSha256 = "/tmp/x\n'; rm -rf /", "XYZ"
			return &p
		}(), triage.Target{PID: 47}, []string{"process.executablePath", "process.executableSha256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := minerFinding()
			f.Process = tt.process
			got, ignored := findingTarget(payload(t, "", false, f))
			if got != tt.want || !slices.Equal(ignored, tt.ignored) {
				t.Errorf("target %+v ignored %v; want %+v %v", got, ignored, tt.want, tt.ignored)
			}
		})
	}
}

// slowS3 answers PUTs after a delay that depends on the key (so they finish
// in another order than they started), and fails the PUT of a key that
// contains fail.
type slowS3 struct {
	*s3fake.Bucket
	fail string
	// inFlight and most count the PUTs under way.
	inFlight, most *atomic.Int32
}

func newSlowS3(fail string) slowS3 {
	return slowS3{Bucket: &s3fake.Bucket{}, fail: fail, inFlight: new(atomic.Int32), most: new(atomic.Int32)}
}

func (s slowS3) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
	}
	key := aws.ToString(in.Key)
	sum := sha256.Sum256([]byte(key))
	select {
	case <-time.After(time.Duration(sum[0]%20) * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.fail != "" && strings.Contains(key, s.fail) {
		return nil, &smithy.GenericAPIError{Code: "InternalError", Message: "We encountered an internal error."}
	}
	return s.Bucket.PutObject(ctx, in, opts...)
}

// The artifacts are stored several at a time: the evidence keeps the
// artifacts' order whatever order the PUTs finish in, and a failed PUT is
// the error returned (naming its object), not the cancellation of the
// others it causes.
func TestArtifactsStoredConcurrently(t *testing.T) {
	root := fakeRoot(t, triagetest.Debian)
	run := func(s3c taskrt.S3PutAPI) (*contract.Result, error) {
		f := ecsFor(runningTask(), opened)
		h, _ := newHandler(f, collectorRunner(t, f, root, nil))
		h.Evidence.S3 = s3c
		return h.Handle(context.Background(), payload(t, "", false, minerFinding("api")))
	}
	fast, err := run(&s3fake.Bucket{})
	if err != nil {
		t.Fatal(err)
	}
	s3c := newSlowS3("")
	slow, err := run(s3c)
	if err != nil {
		t.Fatal(err)
	}
	// The object names but for the run id (random per run).
	names := func(r *contract.Result) []string {
		var out []string
		for _, e := range r.Evidence {
			_, name, _ := strings.Cut(e.URI, "-api-")
			out = append(out, name)
		}
		return out
	}
	if !slices.Equal(names(fast), names(slow)) {
		t.Errorf("evidence order depends on when the PUTs finish:\n%v\n%v", names(fast), names(slow))
	}
	if m := s3c.most.Load(); m < 2 || m > uploads {
		t.Errorf("at most %d PUTs under way at once; want 2 to %d", m, uploads)
	}
	_, err = run(newSlowS3("triage.json"))
	if err == nil || !strings.Contains(err.Error(), "triage.json") || errors.Is(err, context.Canceled) {
		t.Errorf("err = %v; want the failed PUT of triage.json", err)
	}
}
